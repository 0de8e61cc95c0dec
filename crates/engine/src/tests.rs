#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use super::*;
use compact_statement::testkit::*;
use compact_statement::{DeliveryConfirm, DeliveryReport, Statement};
use std::str::FromStr;

fn d(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

fn date(s: &str) -> Date {
    s.parse().unwrap()
}

/// A report by GB of `amount` delivered on `on` against `commitment`, made the day after.
fn delivery(w: &World, commitment: &str, amount: &str, on: &str) -> Statement {
    let day_after = date(on).tomorrow().unwrap();
    make(
        w,
        &w.gb,
        "GB",
        &format!("{day_after}T00:00:00Z"),
        Payload::DeliveryReport(DeliveryReport {
            commitment: commitment.into(),
            amount: amount.into(),
            date: date(on),
            reference: format!("{commitment}-{amount}-{on}"),
            allocation: None,
        }),
    )
}

fn confirmation(w: &World, report: u64, amount: Option<&str>, on: &str) -> Statement {
    make(
        w,
        &w.ua,
        "UA",
        &format!("{on}T12:00:00Z"),
        Payload::DeliveryConfirm(DeliveryConfirm {
            report,
            amount: amount.map(Into::into),
            date: date(on),
        }),
    )
}

/// A retraction of `entry` by `author`, made at `at`.
fn retraction(w: &World, author: &str, at: &str, entry: u64, reason: &str) -> Statement {
    let who = if author == "UA" { &w.ua } else { &w.gb };
    make(
        w,
        who,
        author,
        at,
        Payload::Retract(compact_statement::Retract {
            entry,
            reason: reason.into(),
        }),
    )
}

fn figures(w: &World, log: &[Statement], as_of: &str, commitment: &str) -> Figures {
    let indexed: Vec<(u64, Statement)> = log
        .iter()
        .cloned()
        .enumerate()
        .map(|(i, s)| (i as u64, s))
        .collect();
    fulfilment(&w.compact, &indexed, date(as_of))
        .unwrap()
        .into_iter()
        .find(|f| f.commitment == commitment)
        .unwrap()
}

#[test]
fn with_nothing_delivered_everything_due_is_in_arrears() {
    let w = world();
    let f = figures(&w, &[], "2025-01-01", "gb-once");
    // 2.5e9 GBP at 0.8 GBP per EUR.
    assert_eq!(
        (f.scheduled, f.due, f.confirmed),
        (d("3125000000"), d("3125000000"), d("0"))
    );
    assert_eq!(f.arrears, d("3125000000"));
    assert_eq!(f.status, Status::Behind);
    assert_eq!(f.on_time_rate, None);
    assert_eq!(f.measure, Measure::Money);
    let f = figures(&w, &[], "2024-12-30", "gb-once");
    assert_eq!(
        (f.due, f.arrears, f.status),
        (d("0"), d("0"), Status::OnTrack)
    );
}

#[test]
fn only_confirmed_deliveries_count() {
    let w = world();
    let log = vec![delivery(&w, "gb-tranches", "500 shells", "2024-06-20")];
    let f = figures(&w, &log, "2024-07-01", "gb-tranches");
    assert_eq!(
        (f.reported, f.confirmed, f.arrears),
        (d("500"), d("0"), d("500"))
    );
    assert_eq!(f.measure, Measure::Units("shells".into()));
    let mut log = log;
    log.push(confirmation(&w, 0, None, "2024-06-25"));
    let f = figures(&w, &log, "2024-07-01", "gb-tranches");
    assert_eq!(
        (f.confirmed, f.arrears, f.on_time_rate),
        (d("500"), d("0"), Some(d("1")))
    );
    assert_eq!(f.status, Status::OnTrack);
    assert_eq!(f.entries, [0, 1]);
}

#[test]
fn a_retracted_statement_counts_until_its_retraction_and_never_after() {
    let w = world();
    // 0: 50 shells reported in error; 1: retracted; 2: 500 reported anew; 3: confirmed; 4: a
    // confirmation of 300 of 0 made before the retraction (the engine does not count a
    // confirmation of a retracted report, whatever the order).
    let log = vec![
        delivery(&w, "gb-tranches", "50 shells", "2024-06-20"),
        retraction(
            &w,
            "GB",
            "2024-06-25T00:00:00Z",
            0,
            "a typo: 500 were delivered",
        ),
        make(
            &w,
            &w.gb,
            "GB",
            "2024-06-25T01:00:00Z",
            Payload::DeliveryReport(DeliveryReport {
                commitment: "gb-tranches".into(),
                amount: "500 shells".into(),
                date: date("2024-06-20"),
                reference: "r1".into(),
                allocation: None,
            }),
        ),
        confirmation(&w, 2, None, "2024-06-26"),
    ];
    let before = figures(&w, &log, "2024-06-24", "gb-tranches");
    assert_eq!((before.reported, before.confirmed), (d("50"), d("0")));
    assert_eq!(before.entries, [0]);
    assert!(before.retracted.is_empty());
    let after = figures(&w, &log, "2024-07-01", "gb-tranches");
    assert_eq!(
        (after.reported, after.confirmed, after.arrears),
        (d("500"), d("500"), d("0"))
    );
    assert_eq!(after.entries, [2, 3]);
    assert_eq!(after.retracted, [Retracted { entry: 0, by: 1 }]);

    let mut log = log;
    log.push(confirmation(&w, 0, Some("30 shells"), "2024-06-24"));
    let f = figures(&w, &log, "2024-07-01", "gb-tranches");
    assert_eq!(f.confirmed, d("500"));
    assert_eq!(
        f.retracted,
        [Retracted { entry: 0, by: 1 }, Retracted { entry: 4, by: 1 }]
    );
}

#[test]
fn a_withdrawn_attack_sets_nothing_off_from_its_withdrawal() {
    let w = world();
    let attack = make(
        &w,
        &w.ua,
        "UA",
        "2024-07-01T00:00:00Z",
        Payload::AttackDeclare(compact_statement::AttackDeclare {
            at: "2024-07-01T00:00:00Z".parse().unwrap(),
            summary: "missile strikes".into(),
        }),
    );
    let mut log: Vec<Statement> = signed_log(&w).entries;
    let a = log.len() as u64;
    log.push(attack.clone());
    log.push(retraction(&w, "UA", "2024-07-03T00:00:00Z", a, "a drill"));
    let indexed: Vec<(u64, Statement)> = log
        .iter()
        .cloned()
        .enumerate()
        .map(|(i, s)| (i as u64, s))
        .collect();
    let at = |t: &str| activation::activations(&w.compact, &indexed, t.parse().unwrap()).unwrap();
    let before = at("2024-07-02T00:00:00Z");
    assert_eq!(before.len(), 1);
    assert!(before[0].withdrawn.is_none());
    assert!(!before[0].surges.is_empty());
    assert_eq!(before[0].asked[0].state, activation::AnswerState::Pending);
    let after = at("2024-07-03T00:00:00Z");
    let w0 = after[0].withdrawn.as_ref().unwrap();
    assert_eq!((w0.entry, w0.reason.as_str()), (a + 1, "a drill"));
    assert!(after[0].surges.is_empty() && !after[0].open);
    // GB's deadline (24 h) had passed before the withdrawal: missing, as it was.
    assert_eq!(after[0].asked[0].state, activation::AnswerState::Missing);
    let surge = |as_of: &str| -> Decimal {
        fulfilment(&w.compact, &indexed, date(as_of))
            .unwrap()
            .iter()
            .find(|f| f.commitment == "gb-once")
            .unwrap()
            .surge
    };
    assert_eq!(surge("2024-07-02"), d("0"), "not yet due");
    assert_eq!(surge("2024-08-15"), d("0"));
    // Without the withdrawal, half the year's amount would be due by 2024-07-31.
    let kept = &indexed[..indexed.len() - 1];
    let f = fulfilment(&w.compact, kept, date("2024-08-15")).unwrap();
    let gb = f.iter().find(|f| f.commitment == "gb-once").unwrap();
    assert_eq!(gb.surge, d("1562500000"));
}

#[test]
fn partial_and_late_deliveries() {
    let w = world();
    // 300 of 500 confirmed, delivered on time; then 1,700 delivered late (after 2025-06-30):
    // 200 fill the first tranche late, 1,500 the second late.
    let log = vec![
        delivery(&w, "gb-tranches", "500 shells", "2024-06-20"),
        confirmation(&w, 0, Some("300 shells"), "2024-06-25"),
        delivery(&w, "gb-tranches", "1700 shells", "2025-07-10"),
        confirmation(&w, 2, None, "2025-07-11"),
    ];
    let f = figures(&w, &log, "2024-12-31", "gb-tranches");
    assert_eq!(
        (f.due, f.confirmed, f.arrears),
        (d("500"), d("300"), d("200"))
    );
    let f = figures(&w, &log, "2025-12-31", "gb-tranches");
    assert_eq!(
        (f.due, f.confirmed, f.arrears),
        (d("2000"), d("2000"), d("0"))
    );
    assert_eq!(f.on_time, d("300"));
    assert_eq!(f.on_time_rate, Some(d("0.15")));
    assert_eq!(f.status, Status::Fulfilled);
}

#[test]
fn money_is_valued_at_its_date_and_gdp_shares_with_the_years_gdp() {
    let w = world();
    let log = vec![
        delivery(&w, "gb-once", "1e9 GBP", "2024-06-30"),
        confirmation(&w, 0, None, "2024-07-02"),
    ];
    let f = figures(&w, &log, "2025-01-01", "gb-once");
    assert_eq!((f.confirmed, f.arrears), (d("1250000000"), d("1875000000")));
    // 0.25% of 2,800e9 EUR (2024) and of 2,400e9 GBP (2025) at 0.8: 7e9 + 7.5e9 EUR; synthetic.
    let f = figures(&w, &[], "2025-12-31", "gb-share");
    assert_eq!(f.scheduled, d("14500000000"));
    assert!(f.synthetic);
}

#[test]
fn statements_after_the_date_are_not_seen() {
    let w = world();
    let log = vec![
        delivery(&w, "gb-tranches", "500 shells", "2024-06-20"),
        confirmation(&w, 0, None, "2024-08-01"),
    ];
    assert_eq!(
        figures(&w, &log, "2024-07-31", "gb-tranches").confirmed,
        d("0")
    );
    assert_eq!(
        figures(&w, &log, "2024-08-01", "gb-tranches").confirmed,
        d("500")
    );
}

#[test]
fn a_confirmation_never_raises_arrears() {
    let w = world();
    let mut log = vec![delivery(&w, "gb-tranches", "100 shells", "2024-06-01")];
    let before = figures(&w, &log, "2025-12-31", "gb-tranches").arrears;
    log.push(confirmation(&w, 0, None, "2024-06-02"));
    let after = figures(&w, &log, "2025-12-31", "gb-tranches").arrears;
    assert!(after <= before);
    assert_eq!(before - after, d("100"));
}

#[test]
fn ended_agreements_and_bad_dates() {
    let w = world();
    assert_eq!(
        figures(&w, &[], "2034-06-01", "gb-once").status,
        Status::Ended
    );
    let err = fulfilment::<Statement>(&w.compact, &[], date("2020-01-01")).unwrap_err();
    assert_eq!(
        err.to_string(),
        "2020-01-01 is before the compact was adopted on 2022-09-13"
    );
    // A delivery in GBP before the first rate cannot be valued: the error names it.
    let log = vec![(0, delivery(&w, "gb-once", "1 GBP", "2023-06-01"))];
    let err = fulfilment(&w.compact, &log, date("2025-01-01")).unwrap_err();
    assert_eq!(
        err.to_string(),
        "commitment `gb-once`: no exchange rate for GBP on or before 2023-06-01"
    );
}

#[test]
fn years_add_up_to_the_commitment() {
    let w = world();
    let log = vec![
        delivery(&w, "gb-tranches", "500 shells", "2024-06-20"),
        confirmation(&w, 0, Some("300 shells"), "2024-06-25"),
        delivery(&w, "gb-tranches", "1000 shells", "2025-07-10"),
        confirmation(&w, 2, None, "2025-07-11"),
    ];
    for as_of in ["2024-12-31", "2025-06-30", "2025-12-31", "2026-06-01"] {
        let f = figures(&w, &log, as_of, "gb-tranches");
        let total = |g: fn(&YearFigures) -> Decimal| f.years.values().map(g).sum::<Decimal>();
        assert_eq!(total(|y| y.due), f.due, "{as_of}");
        assert_eq!(total(|y| y.reported), f.reported, "{as_of}");
        assert_eq!(total(|y| y.confirmed), f.confirmed, "{as_of}");
        assert_eq!(total(|y| y.arrears), f.arrears, "{as_of}");
        assert_eq!(total(|y| y.on_time), f.on_time, "{as_of}");
    }
    // As of 2025-12-31: 1,300 confirmed fill the 500 of 2024 and 800 of the 1,500 of 2025.
    let f = figures(&w, &log, "2025-12-31", "gb-tranches");
    assert_eq!(f.years[&2024].arrears, d("0"));
    assert_eq!(f.years[&2025].arrears, d("700"));
    assert_eq!(f.years[&2025].confirmed, d("1000"));
}

#[test]
fn status_rows_add_up_to_the_total_whatever_the_grouping() {
    use crate::report::{By, status};
    let w = world();
    let log = vec![
        delivery(&w, "gb-once", "1e9 GBP", "2024-06-30"),
        confirmation(&w, 0, None, "2024-07-02"),
        delivery(&w, "gb-once", "0.5e9 GBP", "2025-02-01"),
        confirmation(&w, 2, Some("0.333333333 GBP"), "2025-02-03"),
        delivery(&w, "gb-tranches", "700 shells", "2024-06-20"),
        confirmation(&w, 4, None, "2024-06-21"),
    ];
    let indexed: Vec<(u64, Statement)> = log
        .into_iter()
        .enumerate()
        .map(|(i, s)| (i as u64, s))
        .collect();
    let figures = fulfilment(&w.compact, &indexed, date("2026-01-01")).unwrap();
    for by in ["guarantor", "pillar", "year", "group", "commitment"] {
        let r = status(
            &w.compact,
            &figures,
            &[],
            by.parse::<By>().unwrap(),
            "2026-01-01",
            6,
        );
        let sum = |g: fn(&crate::report::Row) -> Decimal| r.rows.iter().map(g).sum::<Decimal>();
        assert_eq!(sum(|x| x.due), r.total.due, "{by}");
        assert_eq!(sum(|x| x.confirmed), r.total.confirmed, "{by}");
        assert_eq!(sum(|x| x.arrears), r.total.arrears, "{by}");
        assert_eq!(sum(|x| x.reported), r.total.reported, "{by}");
        assert!(r.synthetic, "gb-share is synthetic");
        assert_eq!(r.total.due.scale(), 2);
    }
    let r = status(&w.compact, &figures, &[], By::Commitment, "2026-01-01", 6);
    let once = r.rows.iter().find(|x| x.key == "gb-once").unwrap();
    assert_eq!(once.confirmed, d("1250000000.42"));
    assert_eq!(
        r.units
            .iter()
            .find(|u| u.unit == "shells")
            .unwrap()
            .confirmed,
        d("700")
    );
    assert_eq!(
        "colour".parse::<By>().unwrap_err(),
        "unknown --by `colour`: expected guarantor, pillar, year, group or commitment"
    );
}

#[test]
fn burden_shares_the_baseline_by_gdp() {
    use crate::burden::{Aid, Basis, burden};
    let w = world();
    let log = vec![
        delivery(&w, "gb-once", "1e9 GBP", "2024-06-30"),
        confirmation(&w, 0, None, "2024-07-02"),
    ];
    let indexed: Vec<(u64, Statement)> = log
        .into_iter()
        .enumerate()
        .map(|(i, s)| (i as u64, s))
        .collect();
    let figures = fulfilment(&w.compact, &indexed, date("2024-12-31")).unwrap();
    let r = burden(
        &w.compact,
        &figures,
        &[],
        2024,
        d("40e9"),
        Basis::NatoAllies,
        Aid::Military,
    )
    .unwrap();
    assert_eq!(r.gdp_year, 2024);
    assert_eq!(r.without_gdp, ["PL"]);
    assert_eq!(
        r.others
            .iter()
            .map(|o| (o.party.as_str(), o.reason))
            .collect::<Vec<_>>(),
        [("JP", "not a NATO ally"), ("PL", "no GDP figure")]
    );
    let gb = &r.rows[0];
    assert_eq!(
        (gb.party.as_str(), gb.gdp_share, gb.fair_share),
        ("GB", d("1"), d("40000000000"))
    );
    // Nothing allocated: the gap is the whole share; the confirmed delivery is beside it.
    assert_eq!(
        (gb.confirmed, gb.allocated, gb.gap, gb.rank),
        (d("1250000000"), d("0"), d("40000000000"), 1)
    );
    // Money outside the agreements counts as allocated, military only by default.
    let outside = [
        crate::reconcile::Outside {
            party: "GB".into(),
            year: 2024,
            category: "military",
            amount: d("1.4e9"),
        },
        crate::reconcile::Outside {
            party: "GB".into(),
            year: 2024,
            category: "financial",
            amount: d("1e9"),
        },
    ];
    let r = burden(
        &w.compact,
        &figures,
        &outside,
        2024,
        d("40e9"),
        Basis::NatoAllies,
        Aid::Military,
    )
    .unwrap();
    let gb = &r.rows[0];
    assert_eq!(
        (gb.allocated, gb.outside, gb.gap),
        (d("1.4e9"), d("1.4e9"), d("38.6e9"))
    );
    // 1.4e9 of 2,800e9 EUR GDP.
    assert_eq!(gb.pct_gdp, d("0.05"));
    let all = burden(
        &w.compact,
        &figures,
        &outside,
        2024,
        d("40e9"),
        Basis::AllGuarantors,
        Aid::All,
    )
    .unwrap();
    assert_eq!(all.rows[0].allocated, d("2.4e9"));
    assert!(all.others.iter().all(|o| o.reason == "no GDP figure"));
    assert!(all.formula.contains("not NATO's"), "{}", all.formula);
    let err = burden(
        &w.compact,
        &figures,
        &[],
        2023,
        d("40e9"),
        Basis::NatoAllies,
        Aid::Military,
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "no GDP for 2023 or an earlier year that every guarantor with GDP figures has"
    );
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    /// A random history of reports and confirmations against gb-tranches and gb-once.
    fn history(w: &World, spec: &[(bool, u16, u16, bool)]) -> Vec<(u64, Statement)> {
        let mut log = Vec::new();
        for (once, day, qty, confirm) in spec {
            let on = date("2024-02-01")
                .checked_add(jiff::Span::new().days(i64::from(*day)))
                .unwrap();
            let (c, amount) = if *once {
                ("gb-once", format!("{} GBP", u32::from(*qty) * 1000 + 1))
            } else {
                ("gb-tranches", format!("{} shells", qty % 400 + 1))
            };
            log.push(delivery(w, c, &amount, &on.to_string()));
            if *confirm {
                let index = log.len() as u64 - 1;
                log.push(confirmation(
                    w,
                    index,
                    None,
                    &on.tomorrow().unwrap().to_string(),
                ));
            }
        }
        log.into_iter()
            .enumerate()
            .map(|(i, s)| (i as u64, s))
            .collect()
    }

    /// A random history like [`history`], where the fourth member of each step says what
    /// follows the report: 0 nothing, 1 its confirmation, 2 its retraction and a corrected
    /// report (another amount) that is confirmed, 3 its confirmation retracted. With
    /// `corrected`, the log as it would have been without the mistakes: the corrected reports
    /// alone, confirmed.
    fn history_retracting(
        w: &World,
        spec: &[(bool, u16, u16, u8)],
        corrected: bool,
    ) -> Vec<(u64, Statement)> {
        let mut log: Vec<Statement> = Vec::new();
        let report = |c: &str, amount: &str, on: Date, at: &str| {
            make(
                w,
                &w.gb,
                "GB",
                at,
                Payload::DeliveryReport(DeliveryReport {
                    commitment: c.into(),
                    amount: amount.into(),
                    date: on,
                    reference: format!("{c}-{on}"),
                    allocation: None,
                }),
            )
        };
        for (once, day, qty, then) in spec {
            let on = date("2024-02-01")
                .checked_add(jiff::Span::new().days(i64::from(*day)))
                .unwrap();
            let amount = |q: u32| {
                if *once {
                    ("gb-once", format!("{} GBP", q * 1000 + 1))
                } else {
                    ("gb-tranches", format!("{} shells", q % 400 + 1))
                }
            };
            let (c, wrong) = amount(u32::from(*qty));
            let (_, right) = amount(u32::from(*qty) + 7);
            let next_day = on.tomorrow().unwrap();
            let two_days = next_day.tomorrow().unwrap();
            let at = |d: Date, h: u8| format!("{d}T{h:02}:00:00Z");
            if *then == 2 && corrected {
                log.push(report(c, &right, on, &at(two_days, 1)));
                let i = log.len() as u64 - 1;
                log.push(confirmation(w, i, None, &two_days.to_string()));
                continue;
            }
            log.push(report(c, &wrong, on, &at(next_day, 0)));
            let i = log.len() as u64 - 1;
            match then {
                1 => log.push(confirmation(w, i, None, &next_day.to_string())),
                2 => {
                    log.push(retraction(w, "GB", &at(two_days, 0), i, "wrong amount"));
                    log.push(report(c, &right, on, &at(two_days, 1)));
                    let j = log.len() as u64 - 1;
                    log.push(confirmation(w, j, None, &two_days.to_string()));
                }
                3 => {
                    log.push(confirmation(w, i, None, &next_day.to_string()));
                    let k = log.len() as u64 - 1;
                    log.push(retraction(w, "UA", &at(two_days, 0), k, "not received"));
                }
                _ => {}
            }
        }
        log.into_iter()
            .enumerate()
            .map(|(i, s)| (i as u64, s))
            .collect()
    }

    /// Figures without the entries behind them (which differ between two logs).
    fn values(mut f: Vec<Figures>) -> Vec<Figures> {
        for x in &mut f {
            x.entries.clear();
            x.retracted.clear();
        }
        f
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        /// A log whose mistakes were retracted and corrected gives, once they are, the figures
        /// of the log as it would have been without them.
        #[test]
        fn retracting_and_correcting_equals_the_corrected_log(
            spec in proptest::collection::vec((any::<bool>(), 0u16..900, 1u16..2000, 0u8..4), 0..10),
        ) {
            let w = world();
            let as_of = date("2026-12-31");
            let mistaken = history_retracting(&w, &spec, false);
            // The corrected log holds no retracted confirmation (step 3): it was never made.
            let spec3: Vec<_> = spec.iter().map(|(o, d, q, t)| (*o, *d, *q, if *t == 3 { 0 } else { *t })).collect();
            let corrected = history_retracting(&w, &spec3, true);
            prop_assert_eq!(
                values(fulfilment(&w.compact, &mistaken, as_of).unwrap()),
                values(fulfilment(&w.compact, &corrected, as_of).unwrap())
            );
        }

        /// A filing updated as the log grows, retractions and all, answers what the whole
        /// log does.
        #[test]
        fn a_filing_kept_up_to_date_answers_what_the_whole_log_does_with_retractions(
            spec in proptest::collection::vec((any::<bool>(), 0u16..900, 1u16..2000, 0u8..4), 0..10),
            cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..4),
            prefix in any::<prop::sample::Index>(),
            day in 0i64..1200,
        ) {
            let w = world();
            let all = history_retracting(&w, &spec, false);
            let as_of = date("2024-01-01").checked_add(jiff::Span::new().days(day)).unwrap();
            let mut steps: Vec<usize> = cuts.iter().map(|c| c.index(all.len() + 1)).collect();
            steps.sort_unstable();
            let mut filing = Filing::new();
            for n in steps {
                filing.update(&w.compact, &all[..n]);
            }
            filing.update(&w.compact, &all);
            prop_assert_eq!(
                filing.figures(&w.compact, &all, as_of).unwrap(),
                fulfilment(&w.compact, &all, as_of).unwrap()
            );
            let n = prefix.index(all.len() + 1);
            prop_assert_eq!(
                filing.figures(&w.compact, &all[..n], as_of).unwrap(),
                fulfilment(&w.compact, &all[..n], as_of).unwrap()
            );
        }

        /// The status as of a date from the whole log equals the status from the log cut at
        /// that date; and rows by year add up to each commitment's figures.
        #[test]
        fn as_of_equals_the_log_cut_at_the_date(
            spec in proptest::collection::vec((any::<bool>(), 0u16..900, 1u16..2000, any::<bool>()), 0..12),
            day in 0i64..1200,
        ) {
            let w = world();
            let all = history(&w, &spec);
            let as_of = date("2024-01-01").checked_add(jiff::Span::new().days(day)).unwrap();
            let cut: Vec<(u64, Statement)> = all.iter().filter(|(_, s)| compact_statement::rules::date_of(s) <= as_of).cloned().collect();
            let a = fulfilment(&w.compact, &all, as_of).unwrap();
            let b = fulfilment(&w.compact, &cut, as_of).unwrap();
            prop_assert_eq!(&a, &b);
            for f in &a {
                let sum = |g: fn(&YearFigures) -> Decimal| f.years.values().map(g).sum::<Decimal>();
                prop_assert_eq!(sum(|y| y.due), f.due);
                prop_assert_eq!(sum(|y| y.confirmed), f.confirmed);
                prop_assert_eq!(sum(|y| y.arrears), f.arrears);
                prop_assert!(f.arrears >= Decimal::ZERO);
                prop_assert!(f.on_time <= f.confirmed);
            }
        }

        /// A filing updated as the log grows, in steps of any size, gives on any date the
        /// figures of the whole log filed at once; asked with the log's beginning, those of
        /// the log at that size.
        #[test]
        fn a_filing_kept_up_to_date_answers_what_the_whole_log_does(
            spec in proptest::collection::vec((any::<bool>(), 0u16..900, 1u16..2000, any::<bool>()), 0..12),
            cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..4),
            prefix in any::<prop::sample::Index>(),
            day in 0i64..1200,
        ) {
            let w = world();
            let all = history(&w, &spec);
            let as_of = date("2024-01-01").checked_add(jiff::Span::new().days(day)).unwrap();
            let mut steps: Vec<usize> = cuts.iter().map(|c| c.index(all.len() + 1)).collect();
            steps.sort_unstable();
            let mut filing = Filing::new();
            for n in steps {
                filing.update(&w.compact, &all[..n]);
                prop_assert_eq!(filing.len(), n);
            }
            filing.update(&w.compact, &all);
            prop_assert_eq!(
                filing.figures(&w.compact, &all, as_of).unwrap(),
                fulfilment(&w.compact, &all, as_of).unwrap()
            );
            let n = prefix.index(all.len() + 1);
            prop_assert_eq!(
                filing.figures(&w.compact, &all[..n], as_of).unwrap(),
                fulfilment(&w.compact, &all[..n], as_of).unwrap()
            );
        }

        /// Confirming a reported delivery never raises arrears.
        #[test]
        fn a_confirmation_never_raises_arrears(
            spec in proptest::collection::vec((any::<bool>(), 0u16..900, 1u16..2000, Just(false)), 1..8),
            which in any::<prop::sample::Index>(),
            day in 0i64..1200,
        ) {
            let w = world();
            let mut all = history(&w, &spec);
            let as_of = date("2024-01-01").checked_add(jiff::Span::new().days(day)).unwrap();
            let before = fulfilment(&w.compact, &all, as_of).unwrap();
            let (index, report) = all[which.index(all.len())].clone();
            let Payload::DeliveryReport(r) = &report.payload else { unreachable!() };
            let next = all.len() as u64;
            all.push((next, confirmation(&w, index, None, &r.date.tomorrow().unwrap().to_string())));
            let after = fulfilment(&w.compact, &all, as_of).unwrap();
            for (b, a) in before.iter().zip(&after) {
                prop_assert!(a.arrears <= b.arrears, "{}: {} > {}", a.commitment, a.arrears, b.arrears);
            }
        }
    }
}
