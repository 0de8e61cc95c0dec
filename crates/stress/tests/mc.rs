//! The Monte Carlo against closed forms, across thread counts, and its invariants.

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::type_complexity
)]

mod common;

use std::sync::atomic::{AtomicU64, Ordering};

use compact_stress::{
    Baseline, BaselineInput, DelayOption, GuarantorRisk, Line, McConfig, McReport, RiskProfile,
    Risks, Shock, StressError, bench_input, monte_carlo,
};
use proptest::prelude::*;

fn profile(withdrawal: f64, delay: &[(u32, f64)]) -> RiskProfile {
    RiskProfile {
        withdrawal,
        delay: delay
            .iter()
            .map(|(months, probability)| DelayOption {
                months: *months,
                probability: *probability,
            })
            .collect(),
        reason: None,
    }
}

fn risks(per: &[(&str, f64, &[(u32, f64)])], shocks: &[(&[&str], f64)]) -> Risks {
    Risks {
        default: RiskProfile::default(),
        guarantors: per
            .iter()
            .map(|(party, p, delay)| GuarantorRisk {
                party: (*party).to_owned(),
                profile: profile(*p, delay),
            })
            .collect(),
        shocks: shocks
            .iter()
            .enumerate()
            .map(|(i, (members, probability))| Shock {
                name: format!("s{i}"),
                members: members.iter().map(|m| (*m).to_owned()).collect(),
                probability: *probability,
                reason: None,
            })
            .collect(),
    }
}

fn run(b: &Baseline, r: &Risks, scenarios: u64, seed: u64) -> McReport {
    monte_carlo(
        b,
        r,
        &McConfig {
            scenarios,
            seed,
            years: None,
        },
        |_| {},
    )
    .unwrap()
}

/// Three guarantors on one line over five years.
fn three() -> Baseline {
    Baseline::new(BaselineInput {
        currency: "EUR".into(),
        first_year: 2025,
        last_year: 2029,
        guarantors: vec!["A".into(), "B".into(), "C".into()],
        gdp: vec![None; 3],
        lines: vec![Line::money("weapons", "EUR")],
        requirements: vec![vec![Some(200_000_000); 5]],
        support: vec![
            vec![vec![
                100_000_000,
                120_000_000,
                90_000_000,
                100_000_000,
                110_000_000,
            ]],
            vec![vec![50_000_000, 50_000_000, 70_000_000, 0, 60_000_000]],
            vec![vec![
                80_000_000, 30_000_000, 80_000_000, 80_000_000, 5_000_000,
            ]],
        ],
    })
    .unwrap()
}

/// The mean of independent withdrawals without delay converges to
/// `E[D_y] = sum_g S_g,y (1 - p_g)^(y - y0 + 1)`: within 4 standard errors (plus the half cent
/// of rounding) at N = 200,000.
#[test]
fn the_mean_converges_to_the_closed_form() {
    let b = three();
    let p = [0.10, 0.05, 0.30];
    let r = risks(
        &[
            ("A", p[0], &[(0, 1.0)]),
            ("B", p[1], &[(0, 1.0)]),
            ("C", p[2], &[(0, 1.0)]),
        ],
        &[],
    );
    let n = 200_000u64;
    let report = run(&b, &r, n, 20_250_101);
    for (y, cell) in report.lines[0].years.iter().enumerate() {
        let mut expected = 0.0;
        let mut variance = 0.0;
        for (g, pg) in p.iter().enumerate() {
            let s = b.support(g, 0)[y] as f64;
            let q = (1.0 - pg).powi(y as i32 + 1);
            expected += s * q;
            variance += s * s * q * (1.0 - q);
        }
        let se = (variance / n as f64).sqrt();
        let tolerance = 4.0 * se + 0.5;
        assert!(
            (cell.mean as f64 - expected).abs() <= tolerance,
            "year {}: mean {} against {expected} ± {tolerance}",
            cell.year,
            cell.mean
        );
        // and the survival probabilities
        for (g, pg) in p.iter().enumerate() {
            let q = (1.0 - pg).powi(y as i32 + 1);
            let got = report.survival[g].by_year[y];
            let se = (q * (1.0 - q) / n as f64).sqrt();
            assert!(
                (got - q).abs() <= 4.0 * se,
                "survival of {g} in year {y}: {got} against {q}"
            );
        }
    }
}

/// With delays and shocks the mean is `sum_g P(g in at y) E[delayed support of g in y]`, the
/// delay independent of the exits. The terms are correlated through the shocks, so the
/// standard error is bounded above by the sum of the terms' standard deviations.
#[test]
fn delays_and_shocks_converge_too() {
    let b = three();
    let delays: [&[(u32, f64)]; 3] = [
        &[(0, 0.5), (6, 0.3), (18, 0.2)],
        &[(0, 0.25), (3, 0.75)],
        &[(12, 1.0)],
    ];
    let p = [0.08, 0.02, 0.15];
    let shocks: [(&[&str], f64); 2] = [(&["A", "B"], 0.05), (&["B", "C"], 0.1)];
    let r = risks(
        &[
            ("A", p[0], delays[0]),
            ("B", p[1], delays[1]),
            ("C", p[2], delays[2]),
        ],
        &shocks,
    );
    let n = 200_000u64;
    let report = run(&b, &r, n, 42);
    let names = ["A", "B", "C"];
    for y in 0..5 {
        let mut expected = 0.0;
        let mut sd_sum = 0.0;
        for g in 0..3 {
            let mut stay = 1.0 - p[g];
            for (members, q) in &shocks {
                if members.contains(&names[g]) {
                    stay *= 1.0 - q;
                }
            }
            let alive = stay.powi(y as i32 + 1);
            // the delayed support of g in year y under each option, by hand: a share m/12
            // moves one year on after whole years
            let row = b.support(g, 0);
            let (mut ez, mut ez2) = (0.0, 0.0);
            for (months, prob) in delays[g] {
                let whole = (*months / 12) as usize;
                let part = f64::from(*months % 12) / 12.0;
                let mut v = 0.0;
                if y >= whole {
                    v += row[y - whole] as f64 * (1.0 - part);
                }
                if y > whole {
                    v += row[y - whole - 1] as f64 * part;
                }
                ez += prob * v;
                ez2 += prob * v * v;
            }
            expected += alive * ez;
            sd_sum += (alive * ez2 - (alive * ez).powi(2)).max(0.0).sqrt();
            let got = report.survival[g].by_year[y];
            assert!((got - alive).abs() <= 4.0 * (alive * (1.0 - alive) / n as f64).sqrt());
        }
        let tolerance = 4.0 * sd_sum / (n as f64).sqrt() + 1.0;
        let cell = &report.lines[0].years[y];
        assert!(
            (cell.mean as f64 - expected).abs() <= tolerance,
            "year {}: mean {} against {expected} ± {tolerance}",
            cell.year,
            cell.mean
        );
    }
}

#[test]
fn the_same_seed_gives_the_same_report_on_one_and_two_threads() {
    let (b, r) = bench_input(7).unwrap();
    let config = McConfig {
        scenarios: 5_000,
        seed: 99,
        years: None,
    };
    let on = |threads: usize| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| monte_carlo(&b, &r, &config, |_| {}).unwrap())
    };
    let one = on(1);
    let two = on(2);
    let three = on(3);
    assert_eq!(one, two);
    assert_eq!(one, three);
    // and the report is not trivial: guarantors leave, requirements are missed sometimes
    let cell = &one.lines[0].years[19];
    assert!(cell.p5 < cell.p95, "{cell:?}");
    assert!(one.survival.iter().all(|s| s.by_year[19] < 1.0));
}

#[test]
fn a_shorter_horizon_is_a_prefix_of_the_full_run() {
    let (b, r) = bench_input(3).unwrap();
    let full = run(&b, &r, 2_000, 5);
    let short = monte_carlo(
        &b,
        &r,
        &McConfig {
            scenarios: 2_000,
            seed: 5,
            years: Some(4),
        },
        |_| {},
    )
    .unwrap();
    assert_eq!(short.years, [2025, 2026, 2027, 2028]);
    assert_eq!(short.lines[0].years[..], full.lines[0].years[..4]);
    for (s, f) in short.survival.iter().zip(&full.survival) {
        assert_eq!(s.by_year[..], f.by_year[..4]);
    }
}

#[test]
fn progress_counts_every_scenario() {
    let b = three();
    let r = Risks::default();
    let seen = AtomicU64::new(0);
    monte_carlo(
        &b,
        &r,
        &McConfig {
            scenarios: 10_001,
            seed: 1,
            years: None,
        },
        |k| {
            seen.fetch_add(k, Ordering::Relaxed);
        },
    )
    .unwrap();
    assert_eq!(seen.load(Ordering::Relaxed), 10_001);
}

#[test]
fn without_risk_every_scenario_delivers_the_schedule() {
    let b = common::small();
    let report = run(&b, &Risks::default(), 100, 0);
    for (l, line) in report.lines.iter().enumerate() {
        for (cell, s) in line.years.iter().zip(b.scheduled(l)) {
            assert_eq!(
                (cell.min, cell.p5, cell.mean, cell.p95, cell.max),
                (s, s, s, s, s)
            );
            if let Some(req) = cell.requirement {
                assert_eq!(cell.p_meet, Some(if s >= req { 1.0 } else { 0.0 }));
            } else {
                assert_eq!(cell.p_meet, None);
            }
        }
    }
    assert!(
        report
            .survival
            .iter()
            .all(|s| s.by_year.iter().all(|p| *p == 1.0))
    );
}

#[test]
fn bad_configurations_say_what_is_wrong() {
    let b = three();
    let r = Risks::default();
    let err = |scenarios: u64, years: Option<i16>| {
        monte_carlo(
            &b,
            &r,
            &McConfig {
                scenarios,
                seed: 0,
                years,
            },
            |_| {},
        )
        .unwrap_err()
        .to_string()
    };
    assert_eq!(
        err(0, None),
        "0 scenarios is out of range: give 1 to 1000000"
    );
    assert_eq!(
        err(1_000_001, None),
        "1000001 scenarios is out of range: give 1 to 1000000"
    );
    assert_eq!(
        err(10, Some(0)),
        "a horizon of 0 years is out of range: give 1 to 5 (the compact's years are 2025-2029)"
    );
    assert_eq!(
        err(10, Some(6)),
        "a horizon of 6 years is out of range: give 1 to 5 (the compact's years are 2025-2029)"
    );
    let bad = risks(&[], &[(&["A", "ZZ"], 0.1)]);
    assert_eq!(
        monte_carlo(
            &b,
            &bad,
            &McConfig {
                scenarios: 1,
                seed: 0,
                years: None
            },
            |_| {}
        ),
        Err(StressError::UnknownParty {
            code: "ZZ".into(),
            valid: "A, B, C".into()
        })
    );
    let bad = risks(&[("A", 0.1, &[(0, 0.5), (6, 0.4)])], &[]);
    assert!(
        monte_carlo(
            &b,
            &bad,
            &McConfig {
                scenarios: 1,
                seed: 0,
                years: None
            },
            |_| {}
        )
        .unwrap_err()
        .to_string()
        .contains("sum to 0.9")
    );
    let bad = risks(&[("A", 0.1, &[(121, 1.0)])], &[]);
    assert_eq!(
        monte_carlo(
            &b,
            &bad,
            &McConfig {
                scenarios: 1,
                seed: 0,
                years: None
            },
            |_| {}
        ),
        Err(StressError::Delay {
            months: 121,
            max: 120
        })
    );
}

/// A small random case: baseline, risks, scenarios.
fn case() -> impl Strategy<Value = (Baseline, Risks, u64, u64)> {
    (1usize..5, 1usize..3, 1usize..6)
        .prop_flat_map(|(g_n, l_n, y_n)| {
            let support = proptest::collection::vec(
                proptest::collection::vec(proptest::collection::vec(0i64..1_000_000_000, y_n), l_n),
                g_n,
            );
            let requirements = proptest::collection::vec(
                proptest::collection::vec(proptest::option::of(0i64..3_000_000_000), y_n),
                l_n,
            );
            let profiles = proptest::collection::vec(
                (
                    0.0f64..=1.0,
                    proptest::collection::vec((0u32..=40, 0.01f64..1.0), 1..4),
                ),
                g_n,
            );
            let shocks = proptest::collection::vec(
                (proptest::collection::vec(0..g_n, 1..=g_n), 0.0f64..=1.0),
                0..3,
            );
            (
                Just((g_n, l_n, y_n)),
                support,
                requirements,
                profiles,
                shocks,
                1u64..300,
                any::<u64>(),
            )
        })
        .prop_map(
            |((g_n, l_n, y_n), support, requirements, profiles, shocks, n, seed)| {
                let guarantors: Vec<String> = (0..g_n).map(|g| format!("G{g}")).collect();
                let b = Baseline::new(BaselineInput {
                    currency: "EUR".into(),
                    first_year: 2030,
                    last_year: 2030 + y_n as i16 - 1,
                    guarantors: guarantors.clone(),
                    gdp: vec![None; g_n],
                    lines: (0..l_n)
                        .map(|l| Line::money(&format!("p{l}"), "EUR"))
                        .collect(),
                    requirements,
                    support,
                })
                .unwrap();
                let r = Risks {
                    default: RiskProfile::default(),
                    guarantors: guarantors
                        .iter()
                        .zip(profiles)
                        .map(|(g, (p, delay))| {
                            let total: f64 = delay.iter().map(|(_, w)| w).sum();
                            GuarantorRisk {
                                party: g.clone(),
                                profile: RiskProfile {
                                    withdrawal: p,
                                    delay: delay
                                        .iter()
                                        .map(|(m, w)| DelayOption {
                                            months: *m,
                                            probability: w / total,
                                        })
                                        .collect(),
                                    reason: None,
                                },
                            }
                        })
                        .collect(),
                    shocks: shocks
                        .into_iter()
                        .enumerate()
                        .map(|(i, (members, probability))| Shock {
                            name: format!("s{i}"),
                            members: members.iter().map(|m| guarantors[*m].clone()).collect(),
                            probability,
                            reason: None,
                        })
                        .collect(),
                };
                (b, r, n, seed)
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn every_report_is_coherent((b, r, n, seed) in case()) {
        let report = run(&b, &r, n, seed);
        prop_assert_eq!(report.scenarios, n);
        prop_assert_eq!(report.lines.len(), b.lines().len());
        for line in &report.lines {
            prop_assert_eq!(line.years.len(), b.year_count());
            for c in &line.years {
                prop_assert!(c.min >= 0);
                prop_assert!(c.min <= c.p5 && c.p5 <= c.p50 && c.p50 <= c.p95 && c.p95 <= c.max, "{:?}", c);
                prop_assert!(c.min <= c.mean && c.mean <= c.max, "{:?}", c);
                prop_assert_eq!(c.p_meet.is_some(), c.requirement.is_some());
                if let Some(p) = c.p_meet {
                    prop_assert!((0.0..=1.0).contains(&p));
                }
            }
        }
        for s in &report.survival {
            prop_assert!(s.by_year.iter().all(|p| (0.0..=1.0).contains(p)));
            prop_assert!(s.by_year.windows(2).all(|w| w[1] <= w[0]), "{:?}", s);
        }
        // the same seed again gives the same report
        prop_assert_eq!(&run(&b, &r, n, seed), &report);
    }

    #[test]
    fn a_different_seed_changes_the_report(a in any::<u64>(), b in any::<u64>()) {
        prop_assume!(a != b);
        let base = three();
        let r = risks(&[("A", 0.3, &[(0, 0.5), (6, 0.5)]), ("B", 0.3, &[(0, 1.0)]), ("C", 0.3, &[(3, 0.5), (9, 0.5)])], &[]);
        let x = run(&base, &r, 500, a);
        let y = run(&base, &r, 500, b);
        prop_assert_ne!(x.lines, y.lines);
    }
}
