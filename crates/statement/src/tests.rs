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
