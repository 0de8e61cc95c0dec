//! Golden cases as plain data files, in the OpenFisca style: `testdata/golden/engine/*.toml` each give a
//! history of statements (signed here with the test compact's seeded keys, and checked by the
//! log's rules as they are appended), a date, and the expected figures.
//!
//! The compact is the small one of `testdata/base` (GB and JP guarantors, UA
//! the beneficiary; gb-once 2.5e9 GBP due 2024-12-31; gb-yearly 1,000 trainees a year
//! 2024-2026; gb-tranches 500 then 1,500 shells; gb-share 0.25% of GDP 2024-2025; jp-sanctions
//! 100e6 EUR; 1 EUR = 0.8 GBP from 2024-01-01).

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::Path;
use std::str::FromStr;

use compact_engine::{Status, fulfilment};
use compact_statement::rules::{MemoryLog, Mode, check};
use compact_statement::testkit::*;
use compact_statement::{Kind, Payload, Statement};
use jiff::civil::Date;
use rust_decimal::Decimal;
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    description: String,
    as_of: String,
    #[serde(default)]
    events: Vec<Event>,
    expect: Vec<Expect>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Event {
    #[serde(rename = "type")]
    kind: String,
    author: String,
    time: String,
    payload: toml::Value,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Expect {
    commitment: String,
    due: Option<String>,
    surge: Option<String>,
    scheduled: Option<String>,
    pledged: Option<String>,
    allocated: Option<String>,
    reported: Option<String>,
    confirmed: Option<String>,
    arrears: Option<String>,
    on_time_rate: Option<String>,
    status: Option<String>,
}

fn party<'a>(w: &'a World, code: &str) -> &'a Party {
    match code {
        "GB" => &w.gb,
        "UA" => &w.ua,
        "PL" => &w.pl,
        "JP" => &w.jp,
        other => panic!("no key for {other}"),
    }
}

/// The log's genesis, then the signatures of gb-ua and jp-ua by both parties: every case
/// starts from them. A case numbers entries from the first signature (0-3), without the
/// genesis; the runner adds it to the entries a payload names.
fn signed(w: &World) -> MemoryLog {
    let mut log = w.log();
    for (p, code, id) in [
        (&w.gb, "GB", "gb-ua"),
        (&w.ua, "UA", "gb-ua"),
        (&w.jp, "JP", "jp-ua"),
        (&w.ua, "UA", "jp-ua"),
    ] {
        let s = sign_agreement(w, p, code, id);
        check(&s, &w.compact, &log, Mode::Append).unwrap();
        log.push(s);
    }
    log
}

fn run(path: &Path) {
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    let case: Case = toml::from_str(&std::fs::read_to_string(path).unwrap())
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    let w = world();
    let mut log = signed(&w);
    for (i, e) in case.events.iter().enumerate() {
        let kind = Kind::parse(&e.kind)
            .unwrap_or_else(|| panic!("{name}: event {i}: unknown type {}", e.kind));
        let json = serde_json::to_value(&e.payload).unwrap();
        let mut payload =
            Payload::from_json(kind, json).unwrap_or_else(|err| panic!("{name}: event {i}: {err}"));
        match &mut payload {
            Payload::DeliveryConfirm(c) => c.report += GENESIS,
            Payload::DeliveryReport(r) => r.allocation = r.allocation.map(|a| a + GENESIS),
            Payload::ConsultationRespond(r) => r.activation += GENESIS,
            Payload::ActivationClose(c) => c.activation += GENESIS,
            Payload::Retract(r) => r.entry += GENESIS,
            _ => {}
        }
        let st = make(&w, party(&w, &e.author), &e.author, &e.time, payload);
        check(&st, &w.compact, &log, Mode::Append)
            .unwrap_or_else(|r| panic!("{name}: event {i} refused: {r}"));
        log.push(st);
    }
    let statements: Vec<(u64, Statement)> = log
        .entries
        .iter()
        .cloned()
        .enumerate()
        .map(|(i, s)| (i as u64, s))
        .collect();
    let as_of: Date = case.as_of.parse().unwrap();
    let figures =
        fulfilment(&w.compact, &statements, as_of).unwrap_or_else(|e| panic!("{name}: {e}"));
    for x in &case.expect {
        let f = figures
            .iter()
            .find(|f| f.commitment == x.commitment)
            .unwrap_or_else(|| panic!("{name}: no figures for {}", x.commitment));
        let eq = |field: &str, want: &Option<String>, got: Decimal| {
            if let Some(want) = want {
                assert_eq!(
                    got.round_dp(2),
                    Decimal::from_str(want).unwrap(),
                    "{name} ({}): {} {field}",
                    case.description,
                    x.commitment
                );
            }
        };
        eq("due", &x.due, f.due);
        eq("surge", &x.surge, f.surge);
        eq("scheduled", &x.scheduled, f.scheduled);
        eq("pledged", &x.pledged, f.pledged);
        eq("allocated", &x.allocated, f.allocated);
        eq("reported", &x.reported, f.reported);
        eq("confirmed", &x.confirmed, f.confirmed);
        eq("arrears", &x.arrears, f.arrears);
        if let Some(want) = &x.on_time_rate {
            let got = f
                .on_time_rate
                .map(|r| r.round_dp(4).normalize().to_string());
            assert_eq!(
                got.as_deref(),
                Some(want.as_str()).filter(|w| *w != "none"),
                "{name}: {} on_time_rate",
                x.commitment
            );
        }
        if let Some(want) = &x.status {
            let got = match f.status {
                Status::OnTrack => "on-track",
                Status::Behind => "behind",
                Status::Fulfilled => "fulfilled",
                Status::Ended => "ended",
            };
            assert_eq!(got, want, "{name}: {} status", x.commitment);
        }
    }
}

#[test]
fn golden_cases() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/golden/engine");
    let mut cases: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    cases.sort();
    assert!(cases.len() >= 20, "only {} golden cases", cases.len());
    for c in cases {
        run(&c);
    }
}
