//! Deterministic what-ifs, single points of failure and rebalancing, against figures computed
//! by hand on the small baseline of `common`.

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::{AIR, WEAPONS, small};
use compact_stress::{Line, StressError, WhatIf, rebalance, single_points_of_failure, what_if};

fn column(
    r: &compact_stress::WhatIfReport,
    l: usize,
    f: fn(&compact_stress::WhatIfYear) -> i64,
) -> Vec<i64> {
    r.lines[l].years.iter().map(f).collect()
}

#[test]
fn the_baseline_sorts_guarantors_and_lines() {
    let b = small();
    assert_eq!(b.guarantors(), ["A", "B", "C"]);
    assert_eq!(
        b.lines(),
        [
            Line::units("air-defence", "systems"),
            Line::money("weapons", "EUR")
        ]
    );
    assert_eq!(b.support(1, WEAPONS), [600, 600, 0, 600]);
    assert_eq!(b.gdp(1), Some(300));
    assert_eq!(b.scheduled(WEAPONS), [1800, 2040, 1440, 2040]);
    assert_eq!(b.years(), [2025, 2026, 2027, 2028]);
}

#[test]
fn nothing_changes_without_a_change() {
    let b = small();
    let r = what_if(&b, &WhatIf::default()).unwrap();
    for line in &r.lines {
        assert!(
            line.years
                .iter()
                .all(|y| y.before == y.after && y.change == 0)
        );
        assert_eq!((line.slipped_beyond, line.withdrawn), (0, 0));
    }
    assert_eq!(column(&r, WEAPONS, |y| y.gap_before), [0, 0, 60, 0]);
}

#[test]
fn withdrawal_from_a_year_removes_that_year_and_later() {
    let b = small();
    let r = what_if(
        &b,
        &WhatIf {
            without: vec!["B".into()],
            from_year: Some(2026),
            delay_months: 0,
        },
    )
    .unwrap();
    assert_eq!(r.without, ["B"]);
    assert_eq!(r.from_year, 2026);
    assert_eq!(column(&r, WEAPONS, |y| y.before), [1800, 2040, 1440, 2040]);
    assert_eq!(column(&r, WEAPONS, |y| y.after), [1800, 1440, 1440, 1440]);
    assert_eq!(column(&r, WEAPONS, |y| y.change), [0, -600, 0, -600]);
    assert_eq!(column(&r, WEAPONS, |y| y.gap_after), [0, 560, 60, 0]);
    assert_eq!(r.lines[WEAPONS].withdrawn, 1200);
    assert_eq!(r.lines[WEAPONS].years[3].requirement, None);
    assert_eq!(column(&r, AIR, |y| y.after), [300, 0, 200, 0]);
    assert_eq!(column(&r, AIR, |y| y.gap_after), [0, 100, 100, 100]);
    assert_eq!(r.lines[AIR].withdrawn, 300);
}

#[test]
fn a_delay_of_six_months_moves_half_of_each_year_on() {
    let b = small();
    let r = what_if(
        &b,
        &WhatIf {
            delay_months: 6,
            ..WhatIf::default()
        },
    )
    .unwrap();
    // A: 600 1200 1200 1200 (+600 beyond); B: 300 600 300 300 (+300); C: 0 120 240 240 (+120)
    assert_eq!(column(&r, WEAPONS, |y| y.after), [900, 1920, 1740, 1740]);
    assert_eq!(r.lines[WEAPONS].slipped_beyond, 1020);
    assert_eq!(column(&r, WEAPONS, |y| y.gap_after), [600, 80, 0, 0]);
    // A: 100 100 100 100 (+0); B: 50 100 100 100 (+50)
    assert_eq!(column(&r, AIR, |y| y.after), [150, 200, 200, 200]);
    assert_eq!(r.lines[AIR].slipped_beyond, 50);
}

#[test]
fn a_delay_of_eighteen_months_moves_a_year_and_a_half_on() {
    let b = small();
    let r = what_if(
        &b,
        &WhatIf {
            delay_months: 18,
            ..WhatIf::default()
        },
    )
    .unwrap();
    // A: 0 600 1200 1200 (+1800); B: 0 300 600 300 (+600); C: 0 0 120 240 (+360)
    assert_eq!(column(&r, WEAPONS, |y| y.after), [0, 900, 1920, 1740]);
    assert_eq!(r.lines[WEAPONS].slipped_beyond, 2760);
    // A: 0 100 100 100 (+100); B: 0 50 100 100 (+150)
    assert_eq!(column(&r, AIR, |y| y.after), [0, 150, 200, 200]);
    assert_eq!(r.lines[AIR].slipped_beyond, 250);
}

#[test]
fn delay_and_withdrawal_conserve_the_totals() {
    let b = small();
    for months in [0, 1, 5, 6, 7, 11, 12, 13, 18, 30, 47, 120] {
        for (without, from) in [
            (vec![], None),
            (vec!["A".to_owned()], Some(2027)),
            (vec!["B".into(), "C".into()], Some(2025)),
        ] {
            let r = what_if(
                &b,
                &WhatIf {
                    without,
                    from_year: from,
                    delay_months: months,
                },
            )
            .unwrap();
            for line in &r.lines {
                let before: i64 = line.years.iter().map(|y| y.before).sum();
                let after: i64 = line.years.iter().map(|y| y.after).sum();
                assert_eq!(
                    before,
                    after + line.slipped_beyond + line.withdrawn,
                    "{} with a delay of {months} months",
                    line.line
                );
            }
        }
    }
}

#[test]
fn a_delay_rounds_the_moved_share_half_to_even() {
    let b = compact_stress::Baseline::new(compact_stress::BaselineInput {
        currency: "EUR".into(),
        first_year: 2030,
        last_year: 2032,
        guarantors: vec!["X".into()],
        gdp: vec![None],
        lines: vec![Line::money("p", "EUR")],
        requirements: vec![vec![None; 3]],
        support: vec![vec![vec![1001, 1003, 7]]],
    })
    .unwrap();
    let after = |m: u32| {
        let r = what_if(
            &b,
            &WhatIf {
                delay_months: m,
                ..WhatIf::default()
            },
        )
        .unwrap();
        (column(&r, 0, |y| y.after), r.lines[0].slipped_beyond)
    };
    // 1001 * 6/12 = 500.5 -> 500 moves; 1003 * 6/12 = 501.5 -> 502; 7 * 6/12 = 3.5 -> 4
    assert_eq!(after(6), (vec![501, 500 + 501, 502 + 3], 4));
    // 1001 * 3/12 = 250.25 -> 250; 1003 * 3/12 = 250.75 -> 251; 7 * 3/12 = 1.75 -> 2
    assert_eq!(after(3), (vec![751, 250 + 752, 251 + 5], 2));
}

#[test]
fn bad_what_ifs_say_what_is_wrong() {
    let b = small();
    let e = what_if(
        &b,
        &WhatIf {
            without: vec!["ZZ".into()],
            ..WhatIf::default()
        },
    )
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "unknown party `ZZ`: the guarantors are A, B, C"
    );
    let e = what_if(
        &b,
        &WhatIf {
            from_year: Some(2030),
            ..WhatIf::default()
        },
    )
    .unwrap_err();
    assert_eq!(
        e,
        StressError::YearOutOfRange {
            year: 2030,
            first: 2025,
            last: 2028
        }
    );
    assert_eq!(
        e.to_string(),
        "year 2030 is outside the compact's years 2025-2028"
    );
    let e = what_if(
        &b,
        &WhatIf {
            delay_months: 121,
            ..WhatIf::default()
        },
    )
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "a delay of 121 months is out of range: give 0 to 120 months"
    );
    assert!(
        what_if(
            &b,
            &WhatIf {
                delay_months: 120,
                ..WhatIf::default()
            }
        )
        .is_ok()
    );
}

#[test]
fn single_points_of_failure_are_found() {
    let b = small();
    let found: Vec<(String, String, i16)> = single_points_of_failure(&b, 0)
        .into_iter()
        .map(|s| (s.guarantor, s.line.pillar, s.year))
        .collect();
    let want: Vec<(String, String, i16)> = [
        ("A", "air-defence", 2025),
        ("A", "air-defence", 2027),
        ("A", "weapons", 2025),
        ("A", "weapons", 2026),
        ("B", "air-defence", 2025),
        ("B", "air-defence", 2026),
        ("B", "air-defence", 2027),
        ("B", "air-defence", 2028),
        ("B", "weapons", 2025),
        ("B", "weapons", 2026),
        ("C", "weapons", 2026),
    ]
    .into_iter()
    .map(|(g, p, y)| (g.to_owned(), p.to_owned(), y))
    .collect();
    assert_eq!(found, want);
    let c = single_points_of_failure(&b, 0).pop().unwrap();
    assert_eq!((c.requirement, c.before, c.after), (2000, 2040, 1800));
    // With a margin: C leaves 1,800 of 2,000, 10% short; a 10% margin forgives it, 9% does not.
    let forgiven = |m: i64| {
        single_points_of_failure(&b, m)
            .iter()
            .any(|s| s.guarantor == "C" && s.year == 2026)
    };
    assert!(forgiven(9));
    assert!(!forgiven(10));
    assert!(single_points_of_failure(&b, 10).len() < found.len());
}

#[test]
fn rebalancing_splits_the_extra_gap_by_gdp_exactly() {
    let b = small();
    let r = what_if(
        &b,
        &WhatIf {
            without: vec!["B".into()],
            ..WhatIf::default()
        },
    )
    .unwrap();
    let rb = rebalance(&b, &r);
    type Row = (String, i16, i64, Vec<(String, i64)>);
    let got: Vec<Row> = rb
        .iter()
        .map(|x| {
            (
                x.line.pillar.clone(),
                x.year,
                x.extra_gap,
                x.parts
                    .iter()
                    .map(|p| (p.guarantor.clone(), p.amount))
                    .collect(),
            )
        })
        .collect();
    let part = |a: i64, c: i64| vec![("A".to_owned(), a), ("C".to_owned(), c)];
    assert_eq!(
        got,
        vec![
            // C has no air defence: A, the only other guarantor with some, is asked for all.
            (
                "air-defence".to_owned(),
                2025,
                100,
                vec![("A".to_owned(), 100)]
            ),
            (
                "air-defence".to_owned(),
                2026,
                100,
                vec![("A".to_owned(), 100)]
            ),
            (
                "air-defence".to_owned(),
                2027,
                100,
                vec![("A".to_owned(), 100)]
            ),
            (
                "air-defence".to_owned(),
                2028,
                100,
                vec![("A".to_owned(), 100)]
            ),
            ("weapons".to_owned(), 2025, 300, part(200, 100)),
            // 560 by 2:1 = 373.33 / 186.67 -> C has the larger remainder
            ("weapons".to_owned(), 2026, 560, part(373, 187)),
        ]
    );
    for x in &rb {
        assert_eq!(x.parts.iter().map(|p| p.amount).sum::<i64>(), x.extra_gap);
        let share: f64 = x.parts.iter().map(|p| p.gdp_share).sum();
        assert!((share - 1.0).abs() < 1e-12);
    }
}

#[test]
fn rebalancing_adds_up_for_awkward_gdps() {
    let b = compact_stress::Baseline::new(compact_stress::BaselineInput {
        currency: "EUR".into(),
        first_year: 2025,
        last_year: 2025,
        guarantors: (0..7).map(|i| format!("G{i}")).collect(),
        gdp: vec![
            Some(7),
            Some(13),
            None,
            Some(1),
            Some(999_983),
            Some(3),
            Some(3),
        ],
        lines: vec![Line::money("p", "EUR")],
        // Every guarantor gives a little to the line, so that every one is asked.
        requirements: vec![vec![Some(1_000_009)]],
        support: (0..7)
            .map(|i| vec![vec![if i == 2 { 1_000_003 } else { 1 }]])
            .collect(),
    })
    .unwrap();
    let r = what_if(
        &b,
        &WhatIf {
            without: vec!["G2".into()],
            ..WhatIf::default()
        },
    )
    .unwrap();
    let rb = rebalance(&b, &r);
    assert_eq!(rb.len(), 1);
    assert_eq!(rb[0].extra_gap, 1_000_003);
    assert_eq!(rb[0].parts.len(), 6, "G2 is out, the rest have GDP");
    assert_eq!(rb[0].parts.iter().map(|p| p.amount).sum::<i64>(), 1_000_003);
    // each part is within one unit of its exact share
    let total: f64 = [7.0, 13.0, 1.0, 999_983.0, 3.0, 3.0].iter().sum();
    for (p, w) in rb[0]
        .parts
        .iter()
        .zip([7.0, 13.0, 1.0, 999_983.0, 3.0, 3.0])
    {
        assert!((p.amount as f64 - 1_000_003.0 * w / total).abs() < 1.0);
    }
}

#[test]
fn the_baseline_refuses_arrays_that_do_not_fit() {
    use compact_stress::{Baseline, BaselineInput};
    let ok = BaselineInput {
        currency: "EUR".into(),
        first_year: 2025,
        last_year: 2026,
        guarantors: vec!["A".into()],
        gdp: vec![None],
        lines: vec![Line::money("p", "EUR")],
        requirements: vec![vec![None, None]],
        support: vec![vec![vec![1, 2]]],
    };
    assert!(Baseline::new(ok.clone()).is_ok());
    let bad = |f: fn(&mut BaselineInput)| {
        let mut x = ok.clone();
        f(&mut x);
        Baseline::new(x).unwrap_err().to_string()
    };
    assert_eq!(
        bad(|x| x.support = vec![vec![vec![1]]]),
        "invalid baseline: support must be 1 guarantors of 1 lines of 2 years"
    );
    assert_eq!(
        bad(|x| x.support[0][0][1] = -1),
        "invalid baseline: a scheduled figure is negative"
    );
    assert_eq!(
        bad(|x| x.last_year = 2024),
        "years 2025-2024: give a non-empty range of at most 100 years"
    );
    assert_eq!(
        bad(|x| x.guarantors.push("A".into())),
        "invalid baseline: a guarantor is given twice"
    );
    assert!(bad(|x| x.support[0][0] = vec![i64::MAX, 1]).contains("out of range"));
}
