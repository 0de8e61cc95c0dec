#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use super::rules::{LedgerView, MemoryLog, Mode, Status, check, status};
use super::testkit::*;
use super::*;

fn refused(st: &Statement, w: &World, log: &MemoryLog) -> String {
    check(st, &w.compact, log, Mode::Append).unwrap_err().0
}

#[test]
fn a_statement_round_trips_through_its_canonical_bytes() {
    let w = world();
    let s = report(&w, &w.gb, "GB", "gb-tranches", "500 shells");
    let text = String::from_utf8(s.leaf.clone()).unwrap();
    assert!(
        text.starts_with(r#"{"author":"GB","compact":"test-compact","key":"GB+"#),
        "{text}"
    );
    assert!(
        text.contains(r#""type":"delivery.report","v":1}"#),
        "{text}"
    );
    // Any JSON layout of the same statement decodes to the same leaf.
    let pretty = serde_json::to_string_pretty(
        &serde_json::from_slice::<serde_json::Value>(&s.leaf).unwrap(),
    )
    .unwrap();
    assert_eq!(Statement::decode(pretty.as_bytes()).unwrap(), s);
    s.verify_with(&w.gb.vkey).unwrap();
}

#[test]
fn malformed_statements_are_refused_with_a_reason() {
    let w = world();
    let s = report(&w, &w.gb, "GB", "gb-tranches", "500 shells");
    let mut v: serde_json::Value = serde_json::from_slice(&s.leaf).unwrap();
    v["extra"] = "x".into();
    let e = Statement::decode(v.to_string().as_bytes()).unwrap_err();
    assert!(e.to_string().contains("unknown field `extra`"), "{e}");

    let mut v: serde_json::Value = serde_json::from_slice(&s.leaf).unwrap();
    v["payload"]["colour"] = "red".into();
    let e = Statement::decode(v.to_string().as_bytes()).unwrap_err();
    assert!(
        e.to_string()
            .contains("delivery.report payload: unknown field `colour`"),
        "{e}"
    );

    let mut v: serde_json::Value = serde_json::from_slice(&s.leaf).unwrap();
    v["type"] = "delivery.teleport".into();
    let e = Statement::decode(v.to_string().as_bytes()).unwrap_err();
    assert!(
        e.to_string()
            .contains("unknown statement type `delivery.teleport`"),
        "{e}"
    );

    let mut v: serde_json::Value = serde_json::from_slice(&s.leaf).unwrap();
    v["payload"]["date"] = 20240630.into();
    assert!(Statement::decode(v.to_string().as_bytes()).is_err());

    let mut v: serde_json::Value = serde_json::from_slice(&s.leaf).unwrap();
    v["time"] = "2024-07-01T11:00:00+02:00".into();
    let e = Statement::decode(v.to_string().as_bytes()).unwrap_err();
    assert!(e.to_string().contains("must be RFC 3339 in UTC"), "{e}");
}

#[test]
fn statements_over_64_kib_are_refused() {
    let w = world();
    let draft = Draft {
        compact: w.compact.id.clone(),
        author: "UA".into(),
        time: time("2024-07-01T09:00:00Z"),
        payload: Payload::AttackDeclare(AttackDeclare {
            at: time("2024-07-01T09:00:00Z"),
            summary: "x".repeat(70_000),
        }),
    };
    let e = Statement::sign(draft, &w.ua.signer).unwrap_err();
    assert!(matches!(e, StatementError::TooLarge(_)), "{e}");
    assert!(Statement::decode(&vec![b' '; 70_000]).is_err());
}

#[test]
fn signatures_bind_author_key_and_payload() {
    let w = world();
    let log = signed_log(&w);
    // Wrong key: GB's statement signed by an unlisted key named GB.
    let stranger = party("GB", 99);
    let s = report(&w, &stranger, "GB", "gb-tranches", "500 shells");
    assert!(refused(&s, &w, &log).contains("is not a key of `GB`"));
    // A key of another party.
    let s = report(&w, &w.pl, "GB", "gb-tranches", "500 shells");
    assert!(refused(&s, &w, &log).contains("statement by `GB` signed with a key of `PL`"));
    // A modified payload: the signature no longer verifies.
    let s = report(&w, &w.gb, "GB", "gb-tranches", "500 shells");
    let tampered = String::from_utf8(s.leaf.clone())
        .unwrap()
        .replace("500 shells", "900 shells");
    let t = Statement::decode(tampered.as_bytes()).unwrap();
    assert!(refused(&t, &w, &log).contains("the signature does not verify"));
    // The untampered one is accepted.
    check(&s, &w.compact, &log, Mode::Append).unwrap();
}

#[test]
fn a_retired_key_cannot_sign_after_its_retirement() {
    let w = world_with(Some("2024-03-01"));
    let log = signed_log(&w);
    let s = report(&w, &w.gb, "GB", "gb-tranches", "500 shells");
    assert!(refused(&s, &w, &log).contains("was retired on 2024-03-01"));
}

#[test]
fn authors_may_speak_only_for_themselves() {
    let w = world();
    let mut log = signed_log(&w);
    for p in [(&w.jp, "JP"), (&w.ua, "UA")] {
        let s = sign_agreement(&w, p.0, p.1, "jp-ua");
        check(&s, &w.compact, &log, Mode::Append).unwrap();
        log.push(s);
    }
    // A guarantor reporting on another guarantor's commitment.
    let s = report(&w, &w.jp, "JP", "gb-tranches", "500 shells");
    assert!(refused(&s, &w, &log).contains("commitment `gb-tranches` is `GB`'s, not `JP`'s"));
    // A report, then a confirmation by anyone but the beneficiary.
    let r = report(&w, &w.gb, "GB", "gb-tranches", "500 shells");
    check(&r, &w.compact, &log, Mode::Append).unwrap();
    log.push(r);
    let index = log.entries.len() as u64 - 1;
    let confirm = |who: &Party, author: &str, amount: Option<&str>| {
        make(
            &w,
            who,
            author,
            "2024-07-02T09:00:00Z",
            Payload::DeliveryConfirm(DeliveryConfirm {
                report: index,
                amount: amount.map(Into::into),
                date: "2024-07-02".parse().unwrap(),
            }),
        )
    };
    assert!(
        refused(&confirm(&w.gb, "GB", None), &w, &log)
            .contains("only the beneficiary `UA` may make a delivery.confirm")
    );
    // Partial confirmations may not exceed what was reported.
    let part = confirm(&w.ua, "UA", Some("300 shells"));
    check(&part, &w.compact, &log, Mode::Append).unwrap();
    log.push(part);
    let too_much = confirm(&w.ua, "UA", Some("300 shells"));
    assert!(refused(&too_much, &w, &log).contains("would total 600, more than the 500 reported"));
    assert!(
        refused(&confirm(&w.ua, "UA", Some("5 EUR")), &w, &log)
            .contains("not in the reported delivery's currency or unit")
    );
}

#[test]
fn deliveries_need_an_agreement_in_force_and_matching_units() {
    let w = world();
    let mut log = MemoryLog::default();
    let s = report(&w, &w.gb, "GB", "gb-tranches", "500 shells");
    assert!(refused(&s, &w, &log).contains("is not signed by both parties"));
    let one = sign_agreement(&w, &w.gb, "GB", "gb-ua");
    log.push(one.clone());
    assert!(refused(&s, &w, &log).contains("is not signed by both parties"));
    // Signing twice is refused.
    assert!(refused(&one, &w, &log).contains("`GB` already signed `gb-ua` version 1"));
    log.push(sign_agreement(&w, &w.ua, "UA", "gb-ua"));
    check(&s, &w.compact, &log, Mode::Append).unwrap();
    let wrong_unit = report(&w, &w.gb, "GB", "gb-tranches", "500 EUR");
    assert!(refused(&wrong_unit, &w, &log).contains("is counted in shells"));
    let unknown = report(&w, &w.gb, "GB", "gb-nothing", "500 shells");
    assert!(refused(&unknown, &w, &log).contains("unknown commitment `gb-nothing`"));
    // PL is not a party to gb-ua.
    let a = w.compact.agreement("gb-ua", None).unwrap();
    let s = make(
        &w,
        &w.pl,
        "PL",
        "2024-02-01T10:00:00Z",
        Payload::AgreementSign(AgreementSign {
            agreement: "gb-ua".into(),
            version: 1,
            digest: compact_model::digest(a).unwrap(),
        }),
    );
    assert!(refused(&s, &w, &log).contains("`PL` is not a party to agreement `gb-ua`"));
}

#[test]
fn declarations_are_the_beneficiarys() {
    let w = world();
    let log = MemoryLog::default();
    let attack = |who: &Party, author: &str| {
        make(
            &w,
            who,
            author,
            "2025-01-01T00:00:00Z",
            Payload::AttackDeclare(AttackDeclare {
                at: time("2025-01-01T00:00:00Z"),
                summary: "missiles".into(),
            }),
        )
    };
    assert!(
        refused(&attack(&w.gb, "GB"), &w, &log)
            .contains("only the beneficiary `UA` may make a attack.declare")
    );
    check(&attack(&w.ua, "UA"), &w.compact, &log, Mode::Append).unwrap();
    let level = make(
        &w,
        &w.ua,
        "UA",
        "2025-01-01T00:00:00Z",
        Payload::ThreatLevel(ThreatLevel {
            level: 6,
            from: time("2025-01-01T00:00:00Z"),
        }),
    );
    assert!(refused(&level, &w, &log).contains("threat level 6 is out of range (1 to 5)"));
}

#[test]
fn agreement_status_follows_the_signatures() {
    let w = world();
    let a = w.compact.agreement("gb-ua", None).unwrap();
    let d = compact_model::digest(a).unwrap();
    let today: Date = "2025-01-01".parse().unwrap();
    let mut log = MemoryLog::default();
    let st = |log: &MemoryLog, d: &str| status(a, d, log.signatures(), None, today);
    assert_eq!(st(&log, &d), Status::Draft);
    log.push(sign_agreement(&w, &w.gb, "GB", "gb-ua"));
    assert_eq!(st(&log, &d), Status::SignedByOne);
    log.push(sign_agreement(&w, &w.ua, "UA", "gb-ua"));
    assert_eq!(st(&log, &d), Status::InForce);
    assert_eq!(st(&log, "0000"), Status::ChangedSinceSigning);
    let sigs = log.signatures().clone();
    assert_eq!(
        status(a, &d, &sigs, None, "2034-01-12".parse().unwrap()),
        Status::Expired
    );
    assert_eq!(
        status(
            a,
            &d,
            &sigs,
            Some("2026-01-01".parse().unwrap()),
            "2026-06-01".parse().unwrap()
        ),
        Status::EndedByAccession
    );
}

mod robustness {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        /// Any bytes: a statement or an error, never a panic.
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            let _ = Statement::decode(&bytes);
        }

        /// A valid statement with a span replaced: decoded statements re-encode to themselves.
        #[test]
        fn mutated_statements_never_panic(at in 0usize..300, len in 0usize..20, insert in ".{0,8}") {
            let w = world();
            let s = report(&w, &w.gb, "GB", "gb-tranches", "500 shells");
            let text = String::from_utf8(s.leaf.clone()).unwrap();
            let mut at = at.min(text.len());
            while !text.is_char_boundary(at) { at -= 1; }
            let mut end = (at + len).min(text.len());
            while !text.is_char_boundary(end) { end -= 1; }
            let mutated = format!("{}{}{}", &text[..at], insert, &text[end..]);
            if let Ok(d) = Statement::decode(mutated.as_bytes()) {
                prop_assert_eq!(Statement::decode(&d.leaf).unwrap(), d);
            }
        }
    }
}

mod activations {
    use super::*;
    use crate::activation::{Trigger, asked};
    use compact_model::{Consultation, ConsultationTrigger};

    /// gb-ua (attack clause, the compact's 24 hours) signed by both; jp-ua given a clause that
    /// also covers a threat of level 3 or more, with 48 hours, signed by both when `jp` is set.
    fn setup(jp: bool) -> (World, MemoryLog) {
        let mut w = world();
        for a in w.compact.agreements.iter_mut().filter(|a| a.id == "jp-ua") {
            a.consultation = Some(Consultation {
                hours: Some(48),
                trigger: ConsultationTrigger::AttackOrThreat { level: 3 },
                clause: None,
            });
        }
        let mut log = signed_log(&w);
        if jp {
            for (p, code) in [(&w.jp, "JP"), (&w.ua, "UA")] {
                let s = make(
                    &w,
                    p,
                    code,
                    "2024-07-01T10:00:00Z",
                    Payload::AgreementSign(AgreementSign {
                        agreement: "jp-ua".into(),
                        version: 1,
                        digest: compact_model::digest(w.compact.agreement("jp-ua", None).unwrap())
                            .unwrap(),
                    }),
                );
                check(&s, &w.compact, &log, Mode::Append).unwrap();
                log.push(s);
            }
        }
        (w, log)
    }

    fn attack(w: &World, at: &str) -> Statement {
        make(
            w,
            &w.ua,
            "UA",
            at,
            Payload::AttackDeclare(AttackDeclare {
                at: time(at),
                summary: "missile strikes on Kyiv".into(),
            }),
        )
    }

    fn threat(w: &World, at: &str, level: u8) -> Statement {
        make(
            w,
            &w.ua,
            "UA",
            at,
            Payload::ThreatLevel(ThreatLevel {
                level,
                from: time(at),
            }),
        )
    }

    fn respond(w: &World, who: &Party, code: &str, at: &str, activation: u64) -> Statement {
        make(
            w,
            who,
            code,
            at,
            Payload::ConsultationRespond(ConsultationRespond {
                activation,
                measures: vec![Measure {
                    kind: "sanctions".into(),
                    commitment: None,
                    amount: None,
                    description: "a new sanctions package".into(),
                }],
            }),
        )
    }

    fn append(w: &World, log: &mut MemoryLog, st: Statement) -> u64 {
        check(&st, &w.compact, log, Mode::Append).unwrap();
        log.push(st);
        log.entries.len() as u64 - 1
    }

    #[test]
    fn an_attack_asks_every_guarantor_in_force_with_a_clause_each_by_its_hours() {
        let (w, log) = setup(true);
        let st = attack(&w, "2025-03-01T06:00:00Z");
        let asked = asked(&w.compact, 4, &st, &log.facts.signatures, None);
        let got: Vec<(&str, u32, String)> = asked
            .iter()
            .map(|a| (a.guarantor.as_str(), a.hours, format_time(a.deadline)))
            .collect();
        assert_eq!(
            got,
            [
                ("GB", 24, "2025-03-02T06:00:00Z".to_owned()),
                ("JP", 48, "2025-03-03T06:00:00Z".to_owned())
            ]
        );
    }

    #[test]
    fn a_threat_opens_only_the_clauses_that_cover_it_at_its_level() {
        let (w, log) = setup(true);
        let low = threat(&w, "2025-03-01T06:00:00Z", 2);
        assert!(asked(&w.compact, 4, &low, &log.facts.signatures, None).is_empty());
        let high = threat(&w, "2025-03-01T06:00:00Z", 3);
        let a = asked(&w.compact, 4, &high, &log.facts.signatures, None);
        assert_eq!(a.len(), 1);
        assert_eq!(a[0].guarantor, "JP");
        assert_eq!(Trigger::of(&high), Some(Trigger::Threat { level: 3 }));
    }

    #[test]
    fn an_agreement_not_in_force_at_the_time_is_not_asked() {
        // JP has not signed: only GB.
        let (w, log) = setup(false);
        let st = attack(&w, "2025-03-01T06:00:00Z");
        let a = asked(&w.compact, 2, &st, &log.facts.signatures, None);
        assert_eq!(a.len(), 1);
        assert_eq!(a[0].guarantor, "GB");
        // Before gb-ua entered into force (2024-01-12): nobody.
        let early = attack(&w, "2024-01-01T06:00:00Z");
        assert!(asked(&w.compact, 2, &early, &log.facts.signatures, None).is_empty());
        // Signatures logged after the activation do not count.
        assert!(asked(&w.compact, 0, &st, &log.facts.signatures, None).is_empty());
        // After an accession that ends gb-ua: nobody.
        let acc = Some("2025-01-01".parse().unwrap());
        assert!(asked(&w.compact, 2, &st, &log.facts.signatures, acc).is_empty());
    }

    #[test]
    fn only_the_beneficiary_declares() {
        let (w, log) = setup(true);
        let st = make(
            &w,
            &w.gb,
            "GB",
            "2025-03-01T06:00:00Z",
            Payload::AttackDeclare(AttackDeclare {
                at: time("2025-03-01T06:00:00Z"),
                summary: "x".into(),
            }),
        );
        assert!(refused(&st, &w, &log).contains("only the beneficiary"));
        let t = make(
            &w,
            &w.gb,
            "GB",
            "2025-03-01T06:00:00Z",
            Payload::ThreatLevel(ThreatLevel {
                level: 3,
                from: time("2025-03-01T06:00:00Z"),
            }),
        );
        assert!(refused(&t, &w, &log).contains("only the beneficiary"));
    }

    #[test]
    fn only_an_asked_guarantor_answers_once_after_the_activation() {
        let (w, mut log) = setup(false);
        let a = append(&w, &mut log, attack(&w, "2025-03-01T06:00:00Z"));
        // JP's agreement is not in force: not asked.
        let jp = respond(&w, &w.jp, "JP", "2025-03-01T08:00:00Z", a);
        assert!(
            refused(&jp, &w, &log).contains("was not asked"),
            "{}",
            refused(&jp, &w, &log)
        );
        // The beneficiary is no guarantor.
        let ua = respond(&w, &w.ua, "UA", "2025-03-01T08:00:00Z", a);
        assert!(refused(&ua, &w, &log).contains("only a guarantor"));
        // Before the activation.
        let early = respond(&w, &w.gb, "GB", "2025-03-01T05:00:00Z", a);
        assert!(refused(&early, &w, &log).contains("precedes activation"));
        // Not an activation.
        let wrong = respond(&w, &w.gb, "GB", "2025-03-01T08:00:00Z", 0);
        assert!(refused(&wrong, &w, &log).contains("not an activation"));
        let missing = respond(&w, &w.gb, "GB", "2025-03-01T08:00:00Z", 99);
        assert!(refused(&missing, &w, &log).contains("no activation at entry 99"));
        // GB answers (late is still recorded), once.
        append(
            &w,
            &mut log,
            respond(&w, &w.gb, "GB", "2025-03-03T08:00:00Z", a),
        );
        let again = respond(&w, &w.gb, "GB", "2025-03-03T09:00:00Z", a);
        assert!(refused(&again, &w, &log).contains("already answered"));
    }

    #[test]
    fn an_activation_closes_on_accession() {
        let (w, mut log) = setup(false);
        let a = append(&w, &mut log, attack(&w, "2025-03-01T06:00:00Z"));
        append(
            &w,
            &mut log,
            make(
                &w,
                &w.ua,
                "UA",
                "2025-03-01T07:00:00Z",
                Payload::AccessionDeclare(AccessionDeclare {
                    on: "2025-03-01".parse().unwrap(),
                }),
            ),
        );
        let gb = respond(&w, &w.gb, "GB", "2025-03-01T08:00:00Z", a);
        assert!(
            refused(&gb, &w, &log).contains("is closed"),
            "{}",
            refused(&gb, &w, &log)
        );
    }
}

#[test]
fn the_signed_bytes_are_the_canonical_form_without_the_signature_for_every_kind() {
    let w = world();
    let payloads = [
        Payload::Pledge(Pledge {
            pillar: "weapons".into(),
            commitment: Some("gb-once".into()),
            amount: "1e6 GBP".into(),
            date: "2024-06-01".parse().unwrap(),
            description: "a \"quoted\" ,\"sig\":\"x\",\"time\": package".into(),
        }),
        Payload::AttackDeclare(AttackDeclare {
            at: time("2024-06-01T00:00:00Z"),
            summary: ",\"sig\":\"AAAA\",\"time\":".into(),
        }),
        Payload::ThreatLevel(ThreatLevel {
            level: 3,
            from: time("2024-06-01T00:00:00Z"),
        }),
        Payload::AccessionDeclare(AccessionDeclare {
            on: "2030-01-01".parse().unwrap(),
        }),
        Payload::ConsultationRespond(ConsultationRespond {
            activation: 4,
            measures: vec![Measure {
                kind: "sanctions".into(),
                commitment: None,
                amount: None,
                description: "sig".into(),
            }],
        }),
    ];
    let mut statements: Vec<Statement> = payloads
        .into_iter()
        .map(|p| make(&w, &w.ua, "UA", "2024-06-02T00:00:00Z", p))
        .collect();
    statements.push(report(&w, &w.gb, "GB", "gb-tranches", "500 shells"));
    statements.push(sign_agreement(&w, &w.gb, "GB", "gb-ua"));
    for st in &statements {
        let mut v: serde_json::Value = serde_json::from_slice(&st.leaf).unwrap();
        v.as_object_mut().unwrap().remove("sig");
        assert_eq!(
            st.signed_bytes,
            serde_jcs::to_vec(&v).unwrap(),
            "{}",
            String::from_utf8_lossy(&st.leaf)
        );
        let again = Statement::decode(&st.leaf).unwrap();
        assert_eq!(&again, st);
    }
}
