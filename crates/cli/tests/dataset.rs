//! The shipped data set `examples/kyiv-compact`: valid, complete, and faithful to its sources.
//!
//! The comparisons with `../shared/data` (the agreements table, the Kiel Institute's Ukraine
//! Support Tracker) skip with a message where that folder is absent.

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::str::FromStr;

use compact_model::{Amount, Compact, Schedule};
use rust_decimal::Decimal;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn data_set() -> PathBuf {
    root().join("examples/kyiv-compact")
}

fn shared(rel: &str) -> Option<PathBuf> {
    let p = root().join("../shared/data").join(rel);
    if p.exists() {
        Some(p)
    } else {
        eprintln!("skipped: {} is absent", p.display());
        None
    }
}

fn compact() -> Compact {
    let loaded = compact_files::load_dir(&data_set());
    assert!(loaded.diagnostics.is_empty(), "{:?}", loaded.diagnostics);
    let checked = compact_model::check(&loaded.files);
    for d in &checked.diagnostics {
        eprint!("{}", d.render(loaded.text_of(&d.path)));
    }
    checked.compact.expect("the data set is valid")
}

#[test]
fn the_data_set_checks_clean_through_the_binary() {
    let out = Command::new(env!("CARGO_BIN_EXE_compact"))
        .args(["check", &data_set().display().to_string()])
        .output()
        .expect("run");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.is_empty(), "the data set has findings:\n{stderr}");
}

#[test]
fn the_embedded_copy_is_the_data_set() {
    let on_disk = compact_files::load_dir(&data_set());
    let embedded = compact_files::embedded::sources("x");
    assert_eq!(on_disk.files.len(), embedded.len());
    for (a, b) in on_disk.files.iter().zip(&embedded) {
        assert_eq!(a.rel, b.rel);
        assert_eq!(a.text, b.text, "{} differs from its embedded copy", a.rel);
    }
}

#[test]
fn every_guarantor_group_of_the_article_is_there() {
    let c = compact();
    assert!(
        c.agreements.len() >= 25,
        "{} agreements",
        c.agreements.len()
    );
    let group = |code: &str| c.parties.get(code).and_then(|p| p.group.clone());
    // "the US, UK, Canada, Poland, Italy, Germany, France, Australia, Turkey, and Nordic,
    // Baltic, Central and Eastern European countries"
    let named = ["US", "GB", "CA", "PL", "IT", "DE", "FR", "AU", "TR"];
    let nordic = ["DK", "FI", "IS", "NO", "SE"];
    let baltic = ["EE", "LV", "LT"];
    let cee = ["CZ", "SK", "RO", "BG", "SI", "HR"];
    for code in named.iter().chain(&nordic).chain(&baltic).chain(&cee) {
        assert_eq!(
            group(code).as_deref(),
            Some("core"),
            "{code} is not a core guarantor"
        );
    }
    let broader: Vec<&String> = c
        .parties
        .values()
        .filter(|p| p.group.as_deref() == Some("broader"))
        .map(|p| &p.code)
        .collect();
    assert!(broader.len() >= 3, "broader group: {broader:?}");
    assert!(c.parties.get("UA").is_some_and(|p| p.group.is_none()));
}

#[test]
fn agreements_match_the_agreements_table() {
    let Some(path) = shared("agreements.csv") else {
        return;
    };
    let c = compact();
    let mut reader = csv::Reader::from_path(path).expect("csv");
    let mut rows = 0;
    for row in reader.records() {
        let row = row.expect("row");
        rows += 1;
        let (iso2, signed_on, duration, pledge, currency, source) =
            (&row[1], &row[2], &row[3], &row[4], &row[5], &row[6]);
        let a = c
            .agreements
            .iter()
            .find(|a| a.guarantor == iso2)
            .unwrap_or_else(|| panic!("no agreement for {iso2}"));
        assert_eq!(a.signed_on.to_string(), signed_on, "{iso2}: signing date");
        assert_eq!(a.source, source, "{iso2}: source");
        assert!(!a.synthetic, "{iso2}: a real agreement is not synthetic");
        if !duration.is_empty() {
            let years: i16 = duration.parse().unwrap();
            let expected_end = a
                .in_force_from
                .checked_add(jiff::Span::new().years(years))
                .unwrap();
            assert_eq!(
                a.ends_on.tomorrow().unwrap(),
                expected_end,
                "{iso2}: duration"
            );
        }
        assert!(
            a.consultation.is_some(),
            "{iso2}: the 24-hour consultation clause"
        );
        if !pledge.is_empty() {
            let value = Decimal::from_str(pledge).unwrap();
            let sourced = a.commitments.iter().filter(|c| !c.synthetic).any(|cm| {
                let amounts: Vec<Amount> = match &cm.schedule {
                    Schedule::Once { amount, .. } | Schedule::Yearly { amount, .. } => {
                        vec![amount.clone()]
                    }
                    Schedule::Tranches { tranches } => tranches.iter().map(|t| t.amount.clone()).collect(),
                };
                amounts.iter().any(|am| {
                    matches!(am, Amount::Money { value: v, currency: cur } if *v == value && cur == currency)
                })
            });
            let parts: Decimal = a
                .commitments
                .iter()
                .filter(|c| !c.synthetic)
                .filter_map(|cm| match &cm.schedule {
                    Schedule::Once {
                        amount:
                            Amount::Money {
                                value,
                                currency: cur,
                            },
                        due,
                    } if cur == currency && due.year() <= 2025 => Some(*value),
                    _ => None,
                })
                .sum();
            assert!(
                sourced || parts == value,
                "{iso2}: no sourced commitment of {pledge} {currency} (first-year pledge)"
            );
        }
    }
    assert_eq!(rows, 28);
}

#[test]
fn gdp_figures_are_the_trackers() {
    let Some(path) = shared("kiel-ust-release29/data_explorer.csv") else {
        return;
    };
    let c = compact();

    let mut reader = csv::Reader::from_path(path).expect("csv");
    let mut compared = 0;
    let mut seen = std::collections::BTreeSet::new();
    for row in reader.records() {
        let row = row.expect("row");
        let Some(code) = compact_engine::reconcile::alpha2(&row[1]) else {
            continue;
        };
        if !seen.insert(code) {
            continue;
        }
        let Some(party) = c.parties.get(code) else {
            continue;
        };
        let kiel = Decimal::from_str(&row[10]).unwrap() * Decimal::from(1_000_000_000u64);
        if kiel.is_zero() {
            // The tracker gives the EU institutions a GDP of 0: no figure to carry.
            assert!(
                party.gdp.is_empty(),
                "{code}: a GDP the tracker does not give"
            );
            continue;
        }
        let gdp = party
            .gdp
            .get(&2021)
            .unwrap_or_else(|| panic!("{code}: no 2021 GDP"));
        assert_eq!(
            gdp.value,
            kiel.normalize(),
            "{code}: 2021 GDP differs from the tracker"
        );
        assert_eq!(gdp.currency, "EUR");
        assert!(!gdp.synthetic);
        assert!(
            gdp.source
                .as_deref()
                .is_some_and(|s| s.contains("Release 29")),
            "{code}: GDP source"
        );
        compared += 1;
    }
    assert!(compared >= 30, "only {compared} GDP figures compared");
}

#[test]
fn a_copy_with_an_unknown_party_fails_with_its_place() {
    let dir = tempfile::tempdir().expect("temp dir");
    let target = dir.path().join("kc");
    let out = Command::new(env!("CARGO_BIN_EXE_compact"))
        .args(["demo", "--dir", &target.display().to_string()])
        .output()
        .expect("run");
    assert!(out.status.success());
    let file = target.join("agreements/gb-ua-2024.toml");
    let text = std::fs::read_to_string(&file).unwrap();
    let line = text
        .lines()
        .position(|l| l.starts_with("guarantor = "))
        .unwrap()
        + 1;
    std::fs::write(
        &file,
        text.replace("guarantor = \"GB\"", "guarantor = \"XX\""),
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_compact"))
        .args(["check", &target.display().to_string()])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!(
            "{}:{line}:13: error: unknown party `XX`",
            file.display()
        )),
        "{stderr}"
    );
}
