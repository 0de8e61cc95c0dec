//! `compact demo` and the figures it shows, through the real binary: every tracker euro booked
//! where it belongs (the booking rule's golden cases, and the tracker's sum per guarantor,
//! year and category), every synthetic figure marked, burden sharing by NATO's formula, and
//! headline rankings that do not move with the seed.

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::OnceLock;

use compact_engine::reconcile::Tracker;
use rust_decimal::Decimal;
use serde::Deserialize;

mod common;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn d(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

fn run(args: &[&str]) -> String {
    let r = common::compact_in(None, args);
    assert_eq!(r.code, 0, "compact {args:?}: {}", r.stderr);
    r.stdout
}

fn json(args: &[&str]) -> serde_json::Value {
    serde_json::from_str(&run(args)).unwrap()
}

/// One demo per seed, built once for all the tests of this file (they share the process).
fn demo(seed: u64) -> &'static (PathBuf, String) {
    static DEMOS: OnceLock<std::sync::Mutex<BTreeMap<u64, &'static (PathBuf, String)>>> =
        OnceLock::new();
    let demos = DEMOS.get_or_init(Default::default);
    let mut map = demos.lock().unwrap_or_else(|e| e.into_inner());
    map.entry(seed).or_insert_with(|| {
        // Under the target's scratch directory, replaced on each run (not left in /tmp); one
        // per process, since nextest runs each test in a process of its own at the same time.
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("demo-seed-{seed}-{}", std::process::id()));
        if dir.exists() {
            std::fs::remove_dir_all(&dir).unwrap();
        }
        let t = dir.display().to_string();
        let out = run(&["demo", "--dir", &t, "--seed", &seed.to_string()]);
        Box::leak(Box::new((dir, out)))
    })
}

fn tracker() -> Tracker {
    let path = root().join("examples/kyiv-compact/tracker/kiel-release29.toml");
    Tracker::parse(
        "kiel-release29.toml",
        &std::fs::read_to_string(path).unwrap(),
    )
    .unwrap()
}

fn compact() -> compact_model::Compact {
    let loaded = compact_files::load_dir(&root().join("examples/kyiv-compact"));
    compact_model::check(&loaded.files).compact.unwrap()
}

#[derive(Deserialize)]
struct BookingCases {
    cases: Vec<BookingCase>,
}

#[derive(Deserialize)]
struct BookingCase {
    description: String,
    party: String,
    year: i16,
    category: String,
    tracker: String,
    booked: BTreeMap<String, String>,
    outside: String,
}

#[test]
fn the_booking_rule_gives_the_golden_figures_and_the_demo_logs_them() {
    let cases: BookingCases = toml::from_str(
        &std::fs::read_to_string(root().join("testdata/golden/booking.toml")).unwrap(),
    )
    .unwrap();
    let tracker = tracker();
    let booking = compact_engine::booking::book(&compact(), &tracker, 2024).unwrap();
    let (dir, _) = demo(1);
    let t = dir.display().to_string();
    for c in &cases.cases {
        let name = &c.description;
        let in_tracker: Decimal = tracker
            .figures
            .iter()
            .filter(|f| f.party == c.party && f.year == c.year && f.category == c.category)
            .map(|f| f.allocated)
            .sum();
        assert_eq!(in_tracker, d(&c.tracker), "{name}: the tracker's figure");
        let booked: BTreeMap<String, Decimal> = booking
            .booked
            .iter()
            .filter(|b| b.party == c.party && b.year == c.year && b.category == c.category)
            .map(|b| (b.commitment.clone(), b.amount))
            .collect();
        let want: BTreeMap<String, Decimal> =
            c.booked.iter().map(|(k, v)| (k.clone(), d(v))).collect();
        assert_eq!(booked, want, "{name}");
        let outside: Decimal = booking
            .outside
            .iter()
            .filter(|o| o.party == c.party && o.year == c.year && o.category == c.category)
            .map(|o| o.amount)
            .sum();
        assert_eq!(outside, d(&c.outside), "{name}: outside the agreements");
        // The demo's log holds exactly these allocations, sourced (not marked synthetic).
        for (commitment, amount) in &want {
            let v = json(&[
                "explain",
                commitment,
                "--dir",
                &t,
                "--as-of",
                "2026-04-30",
                "--format",
                "json",
            ]);
            let prefix = format!("kiel-r29/{}-{}-{}/", c.party, c.year, c.category);
            let logged: Vec<Decimal> = v["entries"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|e| e["type"] == "allocation")
                .filter(|e| {
                    e["statement"]["reference"]
                        .as_str()
                        .unwrap()
                        .starts_with(&prefix)
                })
                .map(|e| {
                    d(e["statement"]["amount"]
                        .as_str()
                        .unwrap()
                        .trim_end_matches(" EUR"))
                })
                .collect();
            assert_eq!(logged, [*amount], "{name}: {commitment} in the log");
            assert!(
                v["entries"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter(|e| e["type"] == "allocation")
                    .all(|e| e["synthetic"] == false),
                "{name}: tracker allocations are sourced"
            );
        }
    }
}

#[test]
fn every_tracker_euro_of_the_period_is_booked_inside_or_outside_the_agreements() {
    let tracker = tracker();
    let compact = compact();
    let (dir, _) = demo(1);
    let t = dir.display().to_string();
    // Per guarantor, year and category: the log's allocations never exceed the tracker's, and
    // with what is outside the agreements they make the tracker's figure, to the cent.
    let v = json(&[
        "status",
        "--dir",
        &t,
        "--as-of",
        "2026-04-30",
        "--by",
        "guarantor",
        "--format",
        "json",
    ]);
    let rows: BTreeMap<String, &serde_json::Value> = v["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["key"].as_str().unwrap().to_owned(), r))
        .collect();
    let mut checked = 0;
    for (code, p) in &compact.parties {
        if p.group.is_none() {
            continue;
        }
        let in_tracker: Decimal = tracker
            .figures
            .iter()
            .filter(|f| &f.party == code && (2024..=2026).contains(&f.year))
            .map(|f| f.allocated)
            .sum();
        let (allocated, outside) = rows.get(code).map_or((Decimal::ZERO, Decimal::ZERO), |r| {
            (
                d(r["allocated"].as_str().unwrap()),
                d(r["outside"].as_str().unwrap()),
            )
        });
        assert_eq!(
            allocated + outside,
            in_tracker,
            "{code}: allocated {allocated} + outside {outside}"
        );
        if !in_tracker.is_zero() {
            checked += 1;
        }
    }
    assert!(checked >= 30, "{checked} guarantors with tracker money");
    // And per year and category, through the reconciliation with the tracker's own layout.
    let mut csv = String::from("country,iso,year,month,total,financial,humanitarian,military\n");
    let alpha3: BTreeMap<&str, &str> = compact_engine::reconcile::ALPHA3
        .iter()
        .map(|(a3, a2)| (*a2, *a3))
        .collect();
    let mut years: BTreeMap<(String, i16), [Decimal; 3]> = BTreeMap::new();
    for f in &tracker.figures {
        let e = years.entry((f.party.clone(), f.year)).or_default();
        let i = ["financial", "humanitarian", "military"]
            .iter()
            .position(|c| *c == f.category)
            .unwrap();
        e[i] += f.allocated / d("1e9");
    }
    for ((party, year), [fin, hum, mil]) in &years {
        let Some(a3) = alpha3.get(party.as_str()) else {
            continue;
        };
        let month = if *year == 2026 { 4 } else { 12 };
        csv.push_str(&format!(
            "x,{a3},{year},{month},{},{fin},{hum},{mil}\n",
            fin + hum + mil
        ));
    }
    std::fs::write(dir.join("tracker.csv"), csv).unwrap();
    let v = json(&[
        "reconcile",
        "kiel",
        &dir.join("tracker.csv").display().to_string(),
        "--dir",
        &t,
        "--format",
        "json",
    ]);
    assert_eq!(
        (v["from"].as_i64(), v["to"].as_i64()),
        (Some(2024), Some(2026))
    );
    let mut lines = 0;
    for l in v["lines"].as_array().unwrap() {
        let (tr, log) = (
            d(l["tracker"].as_str().unwrap()),
            d(l["log_allocated"].as_str().unwrap()),
        );
        assert!(log <= tr, "over-booked: {l}");
        // What the log does not hold is exactly what no commitment could: no gap.
        assert_eq!(d(l["difference"].as_str().unwrap()), Decimal::ZERO, "{l}");
        lines += 1;
    }
    assert!(lines > 80, "{lines} lines");
}

#[test]
fn every_synthetic_figure_is_marked_in_every_format() {
    let (dir, out) = demo(1);
    let t = dir.display().to_string();
    // The first lines say what is sourced and what is generated.
    let head: Vec<&str> = out.lines().take(4).collect();
    assert!(head[1].starts_with("Sourced: the agreements"), "{out}");
    assert!(
        head[2].contains("every US amount is assumed") && head[2].contains("marked *"),
        "{out}"
    );
    assert!(out.contains("* rests on synthetic data"), "{out}");
    // Table: the US row's due (assumed) and confirmed (generated) carry the marker; the
    // tracker's allocations do not.
    let table = run(&[
        "status",
        "--dir",
        &t,
        "--as-of",
        "2026-04-30",
        "--by",
        "commitment",
    ]);
    let us = table
        .lines()
        .find(|l| l.contains("us-military-2024"))
        .unwrap();
    let cells: Vec<&str> = us.split_whitespace().collect();
    assert!(cells[2].ends_with('*'), "due: {us}");
    assert!(!cells[3].ends_with('*'), "allocated: {us}");
    assert!(cells[6].ends_with('*'), "confirmed: {us}");
    assert!(table.contains("* rests on synthetic data"), "{table}");
    // CSV: a column naming the synthetic figures of each row.
    let csv = run(&[
        "status",
        "--dir",
        &t,
        "--as-of",
        "2026-04-30",
        "--by",
        "commitment",
        "--format",
        "csv",
    ]);
    let header = csv.lines().next().unwrap();
    assert!(header.ends_with(",synthetic,note"), "{header}");
    let row = csv
        .lines()
        .find(|l| l.starts_with("dk-military-2024,"))
        .unwrap();
    // Sourced due, sourced allocation; generated deliveries and confirmations.
    assert!(
        row.ends_with(",reported;confirmed;arrears;on_time_rate,"),
        "{row}"
    );
    // The EU's EPF line: its arrears are a counting artefact of the tracker, and say so.
    let epf = csv.lines().find(|l| l.starts_with("eu-epf-2024,")).unwrap();
    assert!(epf.contains("European Peace Facility"), "{epf}");
    // JSON: a flag and the figures per row.
    let v = json(&[
        "status",
        "--dir",
        &t,
        "--as-of",
        "2026-04-30",
        "--by",
        "commitment",
        "--format",
        "json",
    ]);
    let row = v["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["key"] == "us-military-2024")
        .unwrap();
    assert_eq!(row["synthetic"], true);
    assert_eq!(
        row["synthetic_figures"],
        serde_json::json!(["due", "reported", "confirmed", "arrears", "on_time_rate"])
    );
    // Explain: per commitment and per entry.
    let v = json(&[
        "explain",
        "gb-military-2024",
        "--dir",
        &t,
        "--as-of",
        "2026-04-30",
        "--format",
        "json",
    ]);
    let entries = v["entries"].as_array().unwrap();
    assert!(entries.iter().any(|e| e["synthetic"] == true));
    assert!(
        entries
            .iter()
            .filter(|e| e["type"] == "delivery.report" || e["type"] == "delivery.confirm")
            .all(|e| e["synthetic"] == true)
    );
    let text = run(&[
        "explain",
        "gb-military-2024",
        "--dir",
        &t,
        "--as-of",
        "2026-04-30",
    ]);
    assert!(
        text.lines().next().unwrap().contains("synthetic:"),
        "{text}"
    );
}

#[test]
fn burden_is_nato_s_formula_over_the_allies_with_military_aid() {
    #[derive(Deserialize)]
    struct Golden {
        year: i16,
        baseline: String,
        allies: usize,
        non_allies: Vec<String>,
        shares: Vec<Share>,
    }
    #[derive(Deserialize)]
    struct Share {
        party: String,
        gdp_share: String,
        fair_share: String,
    }
    let g: Golden = toml::from_str(
        &std::fs::read_to_string(root().join("testdata/golden/burden.toml")).unwrap(),
    )
    .unwrap();
    let (dir, _) = demo(1);
    let t = dir.display().to_string();
    let year = g.year.to_string();
    let v = json(&[
        "burden",
        "--dir",
        &t,
        "--year",
        &year,
        "--baseline",
        &g.baseline,
        "--format",
        "json",
    ]);
    assert_eq!(v["basis"], "nato-allies");
    assert_eq!(v["aid"], "military");
    let rows = v["rows"].as_array().unwrap();
    assert_eq!(rows.len(), g.allies);
    for s in &g.shares {
        let r = rows
            .iter()
            .find(|r| r["party"] == s.party.as_str())
            .unwrap();
        // A share is a JSON number, its decimal printed exactly.
        assert!(r["gdp_share"].is_number(), "{r}");
        assert_eq!(
            d(&r["gdp_share"].to_string()),
            d(&s.gdp_share),
            "{}",
            s.party
        );
        assert_eq!(
            d(r["fair_share"].as_str().unwrap()),
            d(&s.fair_share),
            "{}",
            s.party
        );
    }
    let others: Vec<&str> = v["others"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["party"].as_str().unwrap())
        .collect();
    assert_eq!(others, g.non_allies);
    // Military aid only: the EU's financial line counts for nothing here, and all aid is an
    // option, labelled.
    let all = json(&[
        "burden",
        "--dir",
        &t,
        "--year",
        &year,
        "--aid",
        "all",
        "--basis",
        "guarantors",
        "--format",
        "json",
    ]);
    assert!(all["formula"].as_str().unwrap().contains("not NATO's"));
    let table = run(&["burden", "--dir", &t, "--year", &year]);
    assert!(table.contains("NATO allies"), "{table}");
    assert!(table.contains("Source: NATO Pledge"), "{table}");
}

#[test]
fn the_burden_ranking_does_not_move_with_the_seed() {
    let mut tops = Vec::new();
    for seed in [1, 7, 42] {
        let (dir, _) = demo(seed);
        let v = json(&[
            "burden",
            "--dir",
            &dir.display().to_string(),
            "--year",
            "2025",
            "--format",
            "json",
        ]);
        let mut rows: Vec<(Decimal, String)> = v["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    d(r["allocated"].as_str().unwrap()),
                    r["party"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        rows.sort_by(|a, b| b.cmp(a));
        let by_allocation: Vec<String> = rows.iter().take(5).map(|r| r.1.clone()).collect();
        let mut gaps: Vec<(usize, String)> = v["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["rank"].as_u64().unwrap() as usize,
                    r["party"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        gaps.sort();
        let by_gap: Vec<String> = gaps.iter().take(5).map(|r| r.1.clone()).collect();
        // Confirmed deliveries are generated, marked, and move with the seed; the ranking
        // rests on the sourced allocations.
        tops.push((by_allocation, by_gap));
    }
    assert_eq!(tops[0], tops[1], "seeds 1 and 7");
    assert_eq!(tops[0], tops[2], "seeds 1 and 42");
}

#[test]
fn the_stress_summary_names_a_handful_of_lines_at_risk() {
    let (_, out) = demo(1);
    let section = out.split("Stress test").nth(1).unwrap();
    let section = section.split("Try:").next().unwrap();
    let rows: Vec<&str> = section
        .lines()
        .filter(|l| (l.starts_with("│ ") || l.starts_with("| ")) && !l.contains("years at risk"))
        .collect();
    // Six lines have requirements; a handful are at risk, not all of them.
    assert!((1..=3).contains(&rows.len()), "{section}");
    let weapons = rows.iter().find(|l| l.contains("weapons (EUR)")).unwrap();
    assert!(
        weapons.contains("US"),
        "the US is the weapons line's single point: {weapons}"
    );
    assert!(section.contains("illustrative"), "{section}");
}

#[test]
fn no_sourced_commitment_is_starved_while_a_synthetic_one_is_overfed() {
    let (dir, _) = demo(1);
    let v = json(&[
        "status",
        "--dir",
        &dir.display().to_string(),
        "--as-of",
        "2026-04-30",
        "--by",
        "commitment",
        "--format",
        "json",
    ]);
    let rows = v["rows"].as_array().unwrap();
    let n = |r: &serde_json::Value, k: &str| d(r[k].as_str().unwrap());
    let synthetic_due = |r: &serde_json::Value| {
        r["synthetic_figures"]
            .as_array()
            .unwrap()
            .contains(&serde_json::json!("due"))
    };
    for r in rows {
        let key = r["key"].as_str().unwrap();
        if key.starts_with("outside:") || n(r, "due").is_zero() {
            continue;
        }
        // Nothing is allocated beyond twice what fell due (the cap is the year's due; a year
        // allocated ahead of its due date is the most there can be).
        assert!(
            n(r, "allocated") <= n(r, "due") * d("2"),
            "{key}: allocated {} against {} due",
            n(r, "allocated"),
            n(r, "due")
        );
        // A sourced commitment gets tracker money whenever the tracker has some for its
        // guarantor and category (the EU's EPF line, credited to member states, excepted).
        if !synthetic_due(r) && r["note"].is_null() {
            assert!(n(r, "allocated") > Decimal::ZERO, "{key} is at zero");
        }
    }
}

/// The engine's input read from the projection equals the input decoded from the leaves,
/// record for record, and so do the figures and the activations computed from each, at
/// dates across the demo's history.
#[test]
fn the_projection_gives_the_engine_what_the_leaves_give() {
    use compact_store::Reads as _;
    let (dir, _) = demo(1);
    let place = compact_service::Place::new(dir.clone());
    let validated = compact_service::validate_dir(dir);
    let governed = place
        .govern(validated.compact.unwrap(), &validated.loaded.files)
        .unwrap();
    let compact = &governed.compact;
    let store = place.store_read_only().unwrap();
    assert!(store.has_records().unwrap());
    let size = store.size().unwrap();
    let (statements, read) = compact_service::log::statements(&store, None).unwrap();
    assert_eq!(read, size);
    let from_leaves: Vec<(u64, compact_statement::Record)> = statements
        .iter()
        .map(|(i, st)| (*i, compact_statement::Record::of(st)))
        .collect();
    let projected = store.records(size).unwrap();
    assert_eq!(projected.len(), from_leaves.len());
    for (p, l) in projected.iter().zip(&from_leaves) {
        assert_eq!(p, l, "entry {}", l.0);
    }
    assert_eq!(
        store.record(size - 1).unwrap().as_ref(),
        projected.last().map(|(_, r)| r)
    );
    for as_of in ["2024-06-30", "2025-03-31", "2026-12-31", "2033-12-31"] {
        let as_of: jiff::civil::Date = as_of.parse().unwrap();
        assert_eq!(
            compact_engine::fulfilment(compact, &projected, as_of).unwrap(),
            compact_engine::fulfilment(compact, &statements, as_of).unwrap(),
            "{as_of}"
        );
    }
    let now: jiff::Timestamp = "2027-01-01T00:00:00Z".parse().unwrap();
    let a = compact_engine::activation::activations(compact, &projected, now).unwrap();
    let b = compact_engine::activation::activations(compact, &statements, now).unwrap();
    assert_eq!(format!("{a:?}"), format!("{b:?}"));
}
