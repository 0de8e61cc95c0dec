//! The baseline of the shipped data set, `examples/kyiv-compact`, against sums computed
//! independently from the compact; and its risk file `stress.toml`.

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use compact_model::{Amount, Compact};
use compact_stress::{Baseline, Line, McConfig, Risks, WhatIf, monte_carlo, what_if};
use rust_decimal::Decimal;

fn data_set() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/kyiv-compact")
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

fn baseline(c: &Compact) -> Baseline {
    Baseline::from_compact(c, 2024..=2033).unwrap()
}

/// Per year, the sum over the highest version of each agreement of the money tranches of
/// `pillar`, each valued on its due date and rounded to cents.
fn money_by_year(c: &Compact, pillar: &str) -> BTreeMap<i16, i64> {
    let mut highest: BTreeMap<&str, u32> = BTreeMap::new();
    for a in &c.agreements {
        let v = highest.entry(a.id.as_str()).or_insert(0);
        *v = (*v).max(a.version);
    }
    let mut out = BTreeMap::new();
    for a in &c.agreements {
        if highest[a.id.as_str()] != a.version {
            continue;
        }
        for commitment in a.commitments.iter().filter(|x| x.pillar == pillar) {
            for t in commitment.schedule.tranches() {
                if matches!(t.amount, Amount::Units { .. }) {
                    continue;
                }
                let v = compact_model::value::value(c, &a.guarantor, &t.amount, t.due)
                    .unwrap()
                    .value
                    .round_dp(2);
                let cents: i64 = (v * Decimal::ONE_HUNDRED).try_into().unwrap();
                *out.entry(t.due.year()).or_insert(0) += cents;
            }
        }
    }
    out
}

#[test]
fn the_weapons_line_adds_up_to_the_compacts_tranches() {
    let c = compact();
    let b = baseline(&c);
    let expected = money_by_year(&c, "weapons");
    let l = b
        .lines()
        .iter()
        .position(|x| *x == Line::money("weapons", "EUR"))
        .unwrap();
    let got = b.scheduled(l);
    for (y, year) in b.years().iter().enumerate() {
        assert_eq!(
            got[y],
            expected.get(year).copied().unwrap_or(0),
            "weapons in {year}"
        );
    }
    assert!(got.iter().all(|v| *v > 0));
    // and the requirement, 32e9 EUR in 2024 (requirements.toml): 70% of the scheduled, rounded
    // down to two significant figures, so that the baseline meets it.
    assert_eq!(b.requirements(l)[0], Some(3_200_000_000_000));
    for (req, sched) in b.requirements(l).iter().zip(&got) {
        let req = req.unwrap();
        assert!(
            req <= sched * 7 / 10 && req > sched * 6 / 10,
            "{req} {sched}"
        );
    }
}

#[test]
fn every_money_line_adds_up() {
    let c = compact();
    let b = baseline(&c);
    for (l, line) in b.lines().iter().enumerate() {
        if line.measure != compact_stress::Measure::Money("EUR".into()) {
            continue;
        }
        let expected = money_by_year(&c, &line.pillar);
        for (got, year) in b.scheduled(l).iter().zip(b.years()) {
            assert_eq!(
                *got,
                expected.get(&year).copied().unwrap_or(0),
                "{line} in {year}"
            );
        }
    }
}

#[test]
fn units_are_counted_in_hundredths_and_gdp_is_one_vintage() {
    let c = compact();
    let b = baseline(&c);
    let us = b.check_party("US").unwrap();
    let air = b
        .lines()
        .iter()
        .position(|x| *x == Line::units("air-defence", "systems"))
        .unwrap();
    // "2 systems" a year, 2024-2033
    assert_eq!(b.support(us, air), [200; 10]);
    // every guarantor of an agreement is there, in code order
    let mut codes: Vec<String> = c.latest_agreements().map(|a| a.guarantor.clone()).collect();
    codes.sort();
    codes.dedup();
    assert_eq!(b.guarantors(), codes);
    // GDP: the 2021 vintage that every party with a figure has; the EU has none
    assert_eq!(b.gdp_year(), Some(2021));
    let gdp = compact_model::amount::parse_decimal("19712.7639612384e9").unwrap();
    let cents: i64 = (gdp.round_dp(2) * Decimal::ONE_HUNDRED).try_into().unwrap();
    assert_eq!(b.gdp(us), Some(cents));
    assert_eq!(b.gdp(b.check_party("EU").unwrap()), None);
}

#[test]
fn the_shipped_risks_cover_every_guarantor_and_run() {
    let c = compact();
    let b = baseline(&c);
    let text = std::fs::read_to_string(data_set().join("stress.toml")).unwrap();
    let risks = match Risks::parse("stress.toml", &text, b.guarantors()) {
        Ok(r) => r,
        Err(diags) => {
            for d in &diags {
                eprint!("{}", d.render(Some(&text)));
            }
            panic!("stress.toml has findings");
        }
    };
    for g in b.guarantors() {
        assert!(
            risks.guarantors.iter().any(|x| &x.party == g),
            "{g} has no entry in stress.toml"
        );
    }
    assert!(risks.guarantors.iter().all(|g| g.profile.reason.is_some()));
    assert!(risks.shocks.iter().all(|s| s.reason.is_some()));
    assert!(risks.default.reason.is_some());
    let report = monte_carlo(
        &b,
        &risks,
        &McConfig {
            scenarios: 2_000,
            seed: 2024,
            years: None,
        },
        |_| {},
    )
    .unwrap();
    assert_eq!(report.lines.len(), b.lines().len());
    assert_eq!(report.years, b.years());
    // the US, at 10% a year and in a shock of 2% a year, is still in by 2033 in about
    // (0.9 * 0.98)^10 = 28.5% of scenarios (standard error 1%)
    let us = &report.survival[b.check_party("US").unwrap()];
    assert!(
        (us.by_year[9] - (0.9f64 * 0.98).powi(10)).abs() < 0.04,
        "{us:?}"
    );
}

#[test]
fn what_ifs_run_on_the_data_set() {
    let c = compact();
    let b = baseline(&c);
    let r = what_if(
        &b,
        &WhatIf {
            without: vec!["US".into()],
            from_year: Some(2029),
            delay_months: 6,
        },
    )
    .unwrap();
    for line in &r.lines {
        let before: i64 = line.years.iter().map(|y| y.before).sum();
        let after: i64 = line.years.iter().map(|y| y.after).sum();
        assert_eq!(before, after + line.slipped_beyond + line.withdrawn);
    }
    let rb = compact_stress::rebalance(&b, &r);
    assert!(!rb.is_empty());
    for x in &rb {
        assert_eq!(x.parts.iter().map(|p| p.amount).sum::<i64>(), x.extra_gap);
        assert!(
            x.parts
                .iter()
                .all(|p| p.guarantor != "US" && p.guarantor != "EU")
        );
        // Japan's support is non-lethal: it is never asked to carry weapons.
        if x.line.pillar == "weapons" {
            assert!(x.parts.iter().all(|p| p.guarantor != "JP"), "{x:?}");
        }
    }
    assert!(
        rb.iter().any(|x| x.line.pillar == "weapons"),
        "the US weapons gap is rebalanced"
    );
    let e = what_if(
        &b,
        &WhatIf {
            without: vec!["UA".into()],
            ..WhatIf::default()
        },
    )
    .unwrap_err();
    assert!(
        e.to_string()
            .starts_with("unknown party `UA`: the guarantors are AL, BE, CA")
    );
}

#[test]
fn the_years_run_from_the_first_tranche_or_requirement_to_the_last() {
    let mut c = compact();
    assert_eq!(compact_stress::years_of(&c).unwrap(), 2024..=2033);
    c.agreements.clear();
    c.requirements.clear();
    assert!(matches!(
        compact_stress::years_of(&c),
        Err(compact_stress::StressError::NothingToStress)
    ));
}
