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
    check(st, &w.compact, log, Mode::Append)
        .unwrap_err()
        .message
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
    assert!(refused(&s, &w, &log).contains("is not registered in the log for `GB`"));
    // The root key signs only key statements.
    let s = report(&w, w.root("GB"), "GB", "gb-tranches", "500 shells");
    assert!(refused(&s, &w, &log).contains("it signs only key.register and key.revoke"));
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
fn a_revoked_key_signs_nothing_received_from_its_revocation() {
    let w = world();
    let mut log = signed_log(&w);
    let revoke = make(
        &w,
        w.root("GB"),
        "GB",
        "2024-03-01T00:00:00Z",
        Payload::KeyRevoke(KeyRevoke {
            key: rules::vkey_ref(&w.gb.vkey),
            from: None,
            reason: "stolen".into(),
        }),
    );
    check(&revoke, &w.compact, &log, Mode::Append).unwrap();
    log.push(revoke);
    // Received after the revocation: refused, whatever date its author writes.
    let s = report(&w, &w.gb, "GB", "gb-tranches", "500 shells")
        .received_at(time("2024-07-01T09:00:00Z"))
        .unwrap();
    let e = refused(&s, &w, &log);
    assert!(
        e.contains("does not sign statements received at 2024-07-01T09:00:00Z"),
        "{e}"
    );
    // Another party's root cannot revoke GB's key; GB's root revokes once.
    let again = make(
        &w,
        w.root("GB"),
        "GB",
        "2024-03-02T00:00:00Z",
        Payload::KeyRevoke(KeyRevoke {
            key: rules::vkey_ref(&w.gb.vkey),
            from: None,
            reason: "again".into(),
        }),
    );
    assert!(refused(&again, &w, &log).contains("was already revoked"));
}

#[test]
fn keys_are_registered_by_the_partys_root_once() {
    let w = world();
    let log = w.log();
    // A second root for GB, self-signed: only the current root registers keys.
    let thief = party("GB", 77);
    let s = make(
        &w,
        &thief,
        "GB",
        "2024-02-01T00:00:00Z",
        Payload::KeyRegister(KeyRegister {
            key: thief.vkey.clone(),
            role: Role::Root,
            valid_from: None,
        }),
    );
    assert!(refused(&s, &w, &log).contains("is signed by its root key"));
    // A key already registered.
    let s = make(
        &w,
        w.root("GB"),
        "GB",
        "2024-02-01T00:00:00Z",
        Payload::KeyRegister(KeyRegister {
            key: w.gb.vkey.clone(),
            role: Role::Signing,
            valid_from: None,
        }),
    );
    assert!(refused(&s, &w, &log).contains("is already registered"));
    // A key named after another party.
    let s = make(
        &w,
        w.root("GB"),
        "GB",
        "2024-02-01T00:00:00Z",
        Payload::KeyRegister(KeyRegister {
            key: party("PL", 55).vkey,
            role: Role::Signing,
            valid_from: None,
        }),
    );
    assert!(refused(&s, &w, &log).contains("registers keys named after itself"));
    // Nothing before log.init; log.init only first.
    let empty = MemoryLog::new(&w.compact);
    let s = report(&w, &w.gb, "GB", "gb-tranches", "500 shells");
    let e = rules::check_payload(&s, &w.compact, &empty, Mode::Append)
        .unwrap_err()
        .message;
    assert!(
        e.contains("the log begins with the operator's log.init"),
        "{e}"
    );
    assert!(refused(&s, &w, &empty).contains("is not registered in the log"));
    let init = w.genesis().remove(0);
    assert!(refused(&init, &w, &log).contains("log.init is the log's first entry"));
}

#[test]
fn the_receipt_time_bounds_the_authors_time_and_never_goes_back() {
    let w = world();
    let log = signed_log(&w);
    let s = report(&w, &w.gb, "GB", "gb-tranches", "500 shells");
    // Dated an hour after its receipt: refused.
    let early = s.received_at(time("2024-07-01T08:00:00Z")).unwrap();
    assert!(refused(&early, &w, &log).contains("cannot be dated in the future"));
    // Dated more than 7 days before its receipt: refused.
    let late = s.received_at(time("2024-07-09T09:00:01Z")).unwrap();
    assert!(refused(&late, &w, &log).contains("more than 7 days before"));
    // The delivery it reports may not be after the receipt date.
    let future = make(
        &w,
        &w.gb,
        "GB",
        "2024-07-01T09:00:00Z",
        Payload::DeliveryReport(DeliveryReport {
            commitment: "gb-tranches".into(),
            amount: "500 shells".into(),
            date: "2024-07-02".parse().unwrap(),
            reference: "x".into(),
            allocation: None,
        }),
    )
    .received_at(time("2024-07-01T09:00:00Z"))
    .unwrap();
    assert!(refused(&future, &w, &log).contains("after the log received it"));
    // Within the window: accepted; and the next receipt may not be earlier.
    let ok = s.received_at(time("2024-07-01T09:00:00Z")).unwrap();
    check(&ok, &w.compact, &log, Mode::Append).unwrap();
    let mut log = log;
    log.push(ok);
    let back = report(&w, &w.gb, "GB", "gb-tranches", "400 shells")
        .received_at(time("2024-06-30T09:00:00Z"))
        .unwrap();
    assert!(refused(&back, &w, &log).contains("receipt times never go back"));
}

#[test]
fn a_receipt_time_is_in_the_leaf_and_outside_the_signature() {
    let w = world();
    let s = report(&w, &w.gb, "GB", "gb-tranches", "500 shells");
    let r = s.received_at(time("2024-07-01T09:00:00Z")).unwrap();
    assert_ne!(r.leaf, s.leaf);
    assert_eq!(r.signed_bytes, s.signed_bytes);
    assert_eq!(r.statement_hash(), s.statement_hash());
    r.verify_with(&w.gb.vkey).unwrap();
    assert!(
        String::from_utf8(r.leaf.clone())
            .unwrap()
            .contains(r#""received":"2024-07-01T09:00:00Z""#)
    );
    assert_eq!(r.unreceived().unwrap(), s);
    assert_eq!(r.at(), time("2024-07-01T09:00:00Z"));
    // Stamping in place gives exactly the canonical encoding, and decodes to itself.
    assert_eq!(Statement::decode(&r.leaf).unwrap(), r);
    let mut v: serde_json::Value = serde_json::from_slice(&s.leaf).unwrap();
    v["received"] = "2024-07-01T09:00:00Z".into();
    assert_eq!(r.leaf, serde_jcs::to_vec(&v).unwrap());
    // A second stamp replaces the first.
    let again = r.received_at(time("2024-07-02T09:00:00Z")).unwrap();
    assert_eq!(again.received, Some(time("2024-07-02T09:00:00Z")));
    assert_eq!(Statement::decode(&again.leaf).unwrap(), again);
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
    let mut log = w.log();
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
            digest: a.digest.clone(),
            terms: terms_of(&w, "gb-ua"),
        }),
    );
    assert!(refused(&s, &w, &log).contains("`PL` is not a party to agreement `gb-ua`"));
    // Terms that are not the digest signed.
    let s = make(
        &w,
        &w.gb,
        "GB",
        "2024-02-01T10:00:00Z",
        Payload::AgreementSign(AgreementSign {
            agreement: "gb-ua".into(),
            version: 1,
            digest: a.digest.clone(),
            terms: terms_of(&w, "gb-ua").replace("Test agreement", "Another agreement"),
        }),
    );
    assert!(refused(&s, &w, &log).contains("is not the digest of the terms signed"));
}

#[test]
fn declarations_are_the_beneficiarys() {
    let w = world();
    let log = w.log();
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
            .contains("only the beneficiary `UA` may make an attack.declare")
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
    let today: Date = "2025-01-01".parse().unwrap();
    let mut log = w.log();
    let st =
        |log: &MemoryLog, a: &compact_model::Agreement, today: Date| status(a, log.facts(), today);
    assert_eq!(st(&log, a, today), Status::Draft);
    log.push(sign_agreement(&w, &w.gb, "GB", "gb-ua"));
    assert_eq!(st(&log, a, today), Status::SignedByOne);
    log.push(sign_agreement(&w, &w.ua, "UA", "gb-ua"));
    assert_eq!(st(&log, a, today), Status::InForce);
    let mut edited = a.clone();
    edited.digest = "0000".into();
    assert_eq!(st(&log, &edited, today), Status::ChangedSinceSigning);
    assert_eq!(st(&log, a, "2034-01-12".parse().unwrap()), Status::Expired);
    let mut acc = log.clone();
    acc.facts.accession = Some("2026-01-01".parse().unwrap());
    assert_eq!(
        st(&acc, a, "2026-06-01".parse().unwrap()),
        Status::EndedByAccession
    );
    // Suspended, resumed, then notice given and terminated six months on (assumed).
    let life = |who: &Party, author: &str, at: &str, p: fn(AgreementLifecycle) -> Payload| {
        make(
            &w,
            who,
            author,
            at,
            p(AgreementLifecycle {
                agreement: "gb-ua".into(),
                reason: "review".into(),
            }),
        )
    };
    let s = life(
        &w.gb,
        "GB",
        "2025-01-02T00:00:00Z",
        Payload::AgreementSuspend,
    );
    check(&s, &w.compact, &log, Mode::Append).unwrap();
    log.push(s);
    assert_eq!(st(&log, a, today), Status::Suspended);
    let r = report(&w, &w.gb, "GB", "gb-tranches", "500 shells");
    assert!(refused(&r, &w, &log).contains("is suspended by `GB`"));
    let by_ua = life(
        &w.ua,
        "UA",
        "2025-01-03T00:00:00Z",
        Payload::AgreementResume,
    );
    assert!(refused(&by_ua, &w, &log).contains("only `GB`, which suspended"));
    let s = life(
        &w.gb,
        "GB",
        "2025-01-03T00:00:00Z",
        Payload::AgreementResume,
    );
    check(&s, &w.compact, &log, Mode::Append).unwrap();
    log.push(s);
    assert_eq!(st(&log, a, today), Status::InForce);
    let s = life(
        &w.gb,
        "GB",
        "2025-02-01T00:00:00Z",
        Payload::AgreementTerminate,
    );
    check(&s, &w.compact, &log, Mode::Append).unwrap();
    log.push(s);
    assert_eq!(
        st(&log, a, "2025-03-01".parse().unwrap()),
        Status::NoticeGiven
    );
    assert_eq!(
        st(&log, a, "2025-08-01".parse().unwrap()),
        Status::Terminated
    );
    let t = log.facts.terminations.get("gb-ua").unwrap();
    assert_eq!(t.effective, "2025-08-01".parse::<Date>().unwrap());
    assert!(t.notice_assumed);
    // Nothing is allocated for after the notice has run.
    let late = make(
        &w,
        &w.gb,
        "GB",
        "2025-09-01T00:00:00Z",
        Payload::Allocation(Allocation {
            commitment: "gb-tranches".into(),
            amount: "5 shells".into(),
            date: "2025-09-01".parse().unwrap(),
            reference: "late".into(),
        }),
    );
    assert!(refused(&late, &w, &log).contains("was terminated by `GB`"));
    let again = life(
        &w.ua,
        "UA",
        "2025-09-02T00:00:00Z",
        Payload::AgreementSuspend,
    );
    assert!(refused(&again, &w, &log).contains("was terminated"));
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
                prop_assert_eq!(Statement::decode(&d.leaf).unwrap(), d.clone());
                // Stamped with a receipt time: decodes to itself, signs the same bytes.
                if let Ok(r) = d.received_at(time("2024-07-01T09:00:00Z")) {
                    prop_assert_eq!(Statement::decode(&r.leaf).unwrap(), r.clone());
                    prop_assert_eq!(&r.signed_bytes, &d.signed_bytes);
                    prop_assert_eq!(r.unreceived().unwrap().received, None);
                }
            }
        }
    }
}

mod activations {
    use super::*;
    use crate::activation::{Trigger, asked};
    use compact_model::ConsultationTrigger;

    /// gb-ua (attack clause, the compact's 24 hours) signed by both; jp-ua given a clause that
    /// also covers a threat of level 3 or more, with 48 hours, signed by both when `jp` is set.
    fn setup(jp: bool) -> (World, MemoryLog) {
        let w = world_with(Some(jp_ua_with_threat_clause()));
        let jp_ua = w.compact.agreement("jp-ua", None).unwrap();
        let c = jp_ua.consultation.as_ref().unwrap();
        assert_eq!(c.hours, Some(48));
        assert_eq!(c.trigger, ConsultationTrigger::AttackOrThreat { level: 3 });
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
                        digest: w.compact.agreement("jp-ua", None).unwrap().digest.clone(),
                        terms: w.jp_ua.clone(),
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
        let asked = asked(&w.compact, GENESIS + 4, &st, &log.facts);
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
        assert!(asked(&w.compact, GENESIS + 4, &low, &log.facts).is_empty());
        let high = threat(&w, "2025-03-01T06:00:00Z", 3);
        let a = asked(&w.compact, GENESIS + 4, &high, &log.facts);
        assert_eq!(a.len(), 1);
        assert_eq!(a[0].guarantor, "JP");
        assert_eq!(Trigger::of(&high), Some(Trigger::Threat { level: 3 }));
    }

    #[test]
    fn an_agreement_not_in_force_at_the_time_is_not_asked() {
        // JP has not signed: only GB.
        let (w, log) = setup(false);
        let st = attack(&w, "2025-03-01T06:00:00Z");
        let a = asked(&w.compact, GENESIS + 2, &st, &log.facts);
        assert_eq!(a.len(), 1);
        assert_eq!(a[0].guarantor, "GB");
        // Before gb-ua entered into force (2024-01-12): nobody.
        let early = attack(&w, "2024-01-01T06:00:00Z");
        assert!(asked(&w.compact, GENESIS + 2, &early, &log.facts).is_empty());
        // Signatures logged after the activation do not count.
        assert!(asked(&w.compact, GENESIS, &st, &log.facts).is_empty());
        // After an accession that ends gb-ua: nobody.
        let mut facts = log.facts.clone();
        facts.accession = Some("2025-01-01".parse().unwrap());
        assert!(asked(&w.compact, GENESIS + 2, &st, &facts).is_empty());
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
    fn the_beneficiary_closes_an_activation_and_answers_stop() {
        let (w, mut log) = setup(false);
        let a = append(&w, &mut log, attack(&w, "2025-03-01T06:00:00Z"));
        let close = |who: &Party, author: &str, activation: u64| {
            make(
                &w,
                who,
                author,
                "2025-03-01T07:00:00Z",
                Payload::ActivationClose(ActivationClose {
                    activation,
                    reason: "declared in error".into(),
                }),
            )
        };
        assert!(refused(&close(&w.gb, "GB", a), &w, &log).contains("only the beneficiary"));
        assert!(refused(&close(&w.ua, "UA", 0), &w, &log).contains("not an activation"));
        let c = append(&w, &mut log, close(&w.ua, "UA", a));
        assert!(
            refused(&close(&w.ua, "UA", a), &w, &log)
                .contains(&format!("already closed at entry {c}"))
        );
        let gb = respond(&w, &w.gb, "GB", "2025-03-01T08:00:00Z", a);
        assert!(refused(&gb, &w, &log).contains("was closed by the beneficiary"));
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

    fn withdraw(w: &World, at: &str, entry: u64) -> Statement {
        make(
            w,
            &w.ua,
            "UA",
            at,
            Payload::Retract(Retract {
                entry,
                reason: "declared in error".into(),
            }),
        )
    }

    #[test]
    fn a_withdrawn_activation_takes_no_answer_and_is_not_closed() {
        let (w, mut log) = setup(false);
        let a = append(&w, &mut log, attack(&w, "2025-03-01T06:00:00Z"));
        // GB answers, then retracts its answer: it may answer anew.
        let gb = append(
            &w,
            &mut log,
            respond(&w, &w.gb, "GB", "2025-03-01T07:00:00Z", a),
        );
        let undo = make(
            &w,
            &w.gb,
            "GB",
            "2025-03-01T07:30:00Z",
            Payload::Retract(Retract {
                entry: gb,
                reason: "the wrong package".into(),
            }),
        );
        append(&w, &mut log, undo);
        append(
            &w,
            &mut log,
            respond(&w, &w.gb, "GB", "2025-03-01T08:00:00Z", a),
        );
        // Only the beneficiary withdraws its declaration.
        let e = check(
            &make(
                &w,
                &w.gb,
                "GB",
                "2025-03-01T09:00:00Z",
                Payload::Retract(Retract {
                    entry: a,
                    reason: "no attack".into(),
                }),
            ),
            &w.compact,
            &log,
            Mode::Append,
        )
        .unwrap_err();
        assert!(e.message.contains("only its author"), "{e}");
        append(&w, &mut log, withdraw(&w, "2025-03-01T09:00:00Z", a));
        let late = respond(&w, &w.gb, "GB", "2025-03-01T10:00:00Z", a);
        assert!(refused(&late, &w, &log).contains("the activation was withdrawn"));
        let close = make(
            &w,
            &w.ua,
            "UA",
            "2025-03-01T10:00:00Z",
            Payload::ActivationClose(ActivationClose {
                activation: a,
                reason: "over".into(),
            }),
        );
        assert!(refused(&close, &w, &log).contains("it was withdrawn"));
    }

    #[test]
    fn a_closed_activation_is_history_and_not_withdrawn() {
        let (w, mut log) = setup(false);
        let a = append(&w, &mut log, attack(&w, "2025-03-01T06:00:00Z"));
        append(
            &w,
            &mut log,
            make(
                &w,
                &w.ua,
                "UA",
                "2025-03-02T07:00:00Z",
                Payload::ActivationClose(ActivationClose {
                    activation: a,
                    reason: "consultations held".into(),
                }),
            ),
        );
        let e = check(
            &withdraw(&w, "2025-03-03T07:00:00Z", a),
            &w.compact,
            &log,
            Mode::Append,
        )
        .unwrap_err();
        assert_eq!(e.code, crate::rules::Code::NotRetractable, "{e}");
        assert!(e.message.contains("a closed activation is history"), "{e}");
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
        Payload::Retract(Retract {
            entry: 4,
            reason: "a typo ,\"sig\":\"x\",\"time\": here".into(),
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
    let received: Vec<Statement> = statements
        .iter()
        .map(|s| s.received_at(time("2024-06-02T00:00:00Z")).unwrap())
        .collect();
    statements.extend(received);
    for st in &statements {
        // A stamped leaf is canonical: decoding encodes it again to the same bytes.
        assert_eq!(Statement::decode(&st.leaf).unwrap().leaf, st.leaf);
        let mut v: serde_json::Value = serde_json::from_slice(&st.leaf).unwrap();
        v.as_object_mut().unwrap().remove("sig");
        v.as_object_mut().unwrap().remove("received");
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

mod retractions {
    use super::*;
    use crate::rules::{Code, Refusal};

    fn retract(
        w: &World,
        who: &Party,
        author: &str,
        at: &str,
        entry: u64,
        reason: &str,
    ) -> Statement {
        make(
            w,
            who,
            author,
            at,
            Payload::Retract(Retract {
                entry,
                reason: reason.into(),
            }),
        )
    }

    fn confirm(w: &World, at: &str, report: u64, amount: Option<&str>) -> Statement {
        make(
            w,
            &w.ua,
            "UA",
            at,
            Payload::DeliveryConfirm(DeliveryConfirm {
                report,
                amount: amount.map(Into::into),
                date: "2024-07-02".parse().unwrap(),
            }),
        )
    }

    fn refusal(st: &Statement, w: &World, log: &MemoryLog) -> Refusal {
        check(st, &w.compact, log, Mode::Append).unwrap_err()
    }

    fn append(w: &World, log: &mut MemoryLog, st: Statement) -> u64 {
        check(&st, &w.compact, log, Mode::Append).unwrap();
        log.push(st);
        log.entries.len() as u64 - 1
    }

    /// gb-ua signed by both (entries 9, 10), then GB's report of 500 shells (entry 11).
    fn with_report() -> (World, MemoryLog, u64) {
        let w = world();
        let mut log = signed_log(&w);
        let r = append(
            &w,
            &mut log,
            report(&w, &w.gb, "GB", "gb-tranches", "500 shells"),
        );
        (w, log, r)
    }

    #[test]
    fn only_the_author_retracts_its_own_entry_once_with_a_reason() {
        let (w, mut log, r) = with_report();
        let at = "2024-07-02T09:00:00Z";
        let e = refusal(&retract(&w, &w.ua, "UA", at, r, "wrong amount"), &w, &log);
        assert_eq!(e.code, Code::Role, "{e}");
        assert!(e.message.contains("only its author retracts it"), "{e}");
        let e = refusal(&retract(&w, &w.pl, "PL", at, r, "wrong amount"), &w, &log);
        assert_eq!(e.code, Code::Role, "{e}");
        let e = refusal(&retract(&w, &w.gb, "GB", at, r, "  "), &w, &log);
        assert_eq!(e.code, Code::Rule, "{e}");
        assert!(e.message.contains("gives a reason"), "{e}");
        let long = "x".repeat(REASON_MAX + 1);
        let e = refusal(&retract(&w, &w.gb, "GB", at, r, &long), &w, &log);
        assert!(e.message.contains("over the limit of 1000"), "{e}");
        for beyond in [r + 1, 9_007_199_254_740_991] {
            let e = refusal(&retract(&w, &w.gb, "GB", at, beyond, "typo"), &w, &log);
            assert_eq!(e.code, Code::Reference, "{e}");
            assert!(e.message.contains(&format!("no entry {beyond}")), "{e}");
        }
        let by = append(
            &w,
            &mut log,
            retract(&w, &w.gb, "GB", at, r, "wrong amount"),
        );
        let e = refusal(&retract(&w, &w.gb, "GB", at, r, "again"), &w, &log);
        assert_eq!(e.code, Code::Retracted, "{e}");
        assert!(
            e.message
                .contains(&format!("already retracted at entry {by}")),
            "{e}"
        );
        // Nobody confirms what was retracted.
        let e = refusal(&confirm(&w, at, r, None), &w, &log);
        assert_eq!(e.code, Code::Retracted, "{e}");
        assert!(e.message.contains("no report to confirm"), "{e}");
    }

    #[test]
    fn retractions_keys_agreements_and_the_log_are_never_retracted() {
        let (w, mut log, r) = with_report();
        let at = "2024-07-02T09:00:00Z";
        let by = append(
            &w,
            &mut log,
            retract(&w, &w.gb, "GB", at, r, "wrong amount"),
        );
        // 2: GB's signing key registration (signed by its root: the author is GB); 9: GB's
        // signature of gb-ua; the retraction itself.
        for (entry, why) in [
            (by, "a retraction is final"),
            (2, "a key is revoked"),
            (9, "an agreement's lifecycle"),
        ] {
            let e = refusal(&retract(&w, &w.gb, "GB", at, entry, "undo"), &w, &log);
            assert_eq!(e.code, Code::NotRetractable, "{entry}: {e}");
            assert!(e.message.contains(why), "{entry}: {e}");
            assert!(e.message.contains("retractable are pledge"), "{e}");
        }
        // The log's first entry is the operator's: no party's to retract.
        let e = refusal(&retract(&w, &w.gb, "GB", at, 0, "undo"), &w, &log);
        assert_eq!(e.code, Code::Role, "{e}");
    }

    #[test]
    fn a_confirmed_report_is_retracted_only_once_its_confirmation_is() {
        let (w, mut log, r) = with_report();
        let c = append(&w, &mut log, confirm(&w, "2024-07-03T09:00:00Z", r, None));
        let at = "2024-07-04T09:00:00Z";
        let e = refusal(&retract(&w, &w.gb, "GB", at, r, "wrong amount"), &w, &log);
        assert_eq!(e.code, Code::ReliedOn, "{e}");
        assert!(
            e.message.contains(&format!(
                "confirmed by `UA` (entry {c}): the confirmation stands"
            )),
            "{e}"
        );
        // The guarantor cannot undo the beneficiary's confirmation either.
        let e = refusal(&retract(&w, &w.gb, "GB", at, c, "not received"), &w, &log);
        assert_eq!(e.code, Code::Role, "{e}");
        // The beneficiary retracts its confirmation: the amount is free to confirm again, and
        // the report to retract.
        append(
            &w,
            &mut log,
            retract(&w, &w.ua, "UA", at, c, "confirmed the wrong report"),
        );
        append(&w, &mut log, confirm(&w, at, r, Some("300 shells")));
        let e = refusal(&confirm(&w, at, r, Some("201 shells")), &w, &log);
        assert!(e.message.contains("would total 501"), "{e}");
        let c2 = log.entries.len() as u64 - 1;
        append(
            &w,
            &mut log,
            retract(&w, &w.ua, "UA", at, c2, "300 was a typo"),
        );
        append(
            &w,
            &mut log,
            retract(&w, &w.gb, "GB", at, r, "wrong amount"),
        );
    }

    #[test]
    fn a_confirmation_is_retracted_within_thirty_days_of_its_receipt() {
        let (w, mut log, r) = with_report();
        let c = append(&w, &mut log, confirm(&w, "2024-07-03T09:00:00Z", r, None));
        let late = retract(&w, &w.ua, "UA", "2024-08-02T09:00:01Z", c, "too late");
        let e = refusal(&late, &w, &log);
        assert_eq!(e.code, Code::NotRetractable, "{e}");
        assert!(e.message.contains("more than 30 days"), "{e}");
        append(
            &w,
            &mut log,
            retract(&w, &w.ua, "UA", "2024-08-02T09:00:00Z", c, "in time"),
        );
    }

    #[test]
    fn an_allocation_a_report_delivers_is_retracted_after_the_report() {
        let w = world();
        let mut log = signed_log(&w);
        let alloc = |at: &str| {
            make(
                &w,
                &w.gb,
                "GB",
                at,
                Payload::Allocation(Allocation {
                    commitment: "gb-tranches".into(),
                    amount: "500 shells".into(),
                    date: "2024-06-01".parse().unwrap(),
                    reference: "a-1".into(),
                }),
            )
        };
        let a = append(&w, &mut log, alloc("2024-06-01T09:00:00Z"));
        let mut rep = report(&w, &w.gb, "GB", "gb-tranches", "500 shells");
        if let Payload::DeliveryReport(p) = &mut rep.payload {
            p.allocation = Some(a);
        }
        let rep = make(&w, &w.gb, "GB", "2024-07-01T09:00:00Z", rep.payload.clone());
        let r = append(&w, &mut log, rep.clone());
        let at = "2024-07-02T09:00:00Z";
        let e = refusal(&retract(&w, &w.gb, "GB", at, a, "wrong"), &w, &log);
        assert_eq!(e.code, Code::ReliedOn, "{e}");
        append(&w, &mut log, retract(&w, &w.gb, "GB", at, r, "wrong"));
        append(&w, &mut log, retract(&w, &w.gb, "GB", at, a, "wrong"));
        // A report cannot deliver a retracted allocation.
        let again = make(&w, &w.gb, "GB", "2024-07-02T10:00:00Z", rep.payload.clone());
        let e = refusal(&again, &w, &log);
        assert_eq!(e.code, Code::Retracted, "{e}");
    }
}
