//! `compact stress`: which losses the guarantees survive.
//!
//! - `--without A,B [--from-year Y]` and `--delay MONTHS`: a deterministic what-if, per line
//!   (pillar and measure) and year, before and after, against the requirements; and the
//!   rebalancing that would close each gap it opens.
//! - `--scenarios N --seed S [--years Y]`: Monte Carlo over the risks file (default
//!   `DIR/stress.toml`): mean, P5, P50, P95 and the probability of meeting the requirement.
//! - Neither: the single points of failure, and a Monte Carlo of 10,000 scenarios.

use std::path::Path;
use std::process::ExitCode;

use compact_model::Compact;
use compact_service::api::v1::{MonteCarlo, RebalanceRow, SpofRow, StressReport, WhatIfReport};
use compact_service::stress::StressAsk;
use compact_stress::{Baseline, McConfig, McReport, Risks, monte_carlo};
use indicatif::{ProgressBar, ProgressStyle};
use rust_decimal::Decimal;

use crate::RowsFormat;
use crate::output::{csv, money, out, table};
use crate::status::marked;

/// A progress bar of `scenarios` on a terminal, hidden otherwise.
fn progress_bar(scenarios: u64) -> ProgressBar {
    if std::io::IsTerminal::is_terminal(&std::io::stderr()) && scenarios >= 10_000 {
        let b = ProgressBar::new(scenarios);
        b.set_style(
            ProgressStyle::with_template("{msg} {bar:40} {pos}/{len} scenarios")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        b.set_message("monte carlo");
        b
    } else {
        ProgressBar::hidden()
    }
}

/// Runs the Monte Carlo with a progress bar on a terminal.
pub fn run_mc(baseline: &Baseline, risks: &Risks, cfg: &McConfig) -> anyhow::Result<McReport> {
    let bar = progress_bar(cfg.scenarios);
    let report = monte_carlo(baseline, risks, cfg, |n| bar.inc(n))?;
    bar.finish_and_clear();
    Ok(report)
}

/// Whether a line-year is worth a row: it has a requirement, or the what-if changed it.
fn shown(requirement: Option<Decimal>, changed: bool) -> bool {
    requirement.is_some() || changed
}

fn line(pillar: &str, measure: &str) -> String {
    format!("{pillar} ({measure})")
}

/// `compact stress`: the service's report, rendered.
pub fn stress(
    dir: &Path,
    compact: &Compact,
    ask: &StressAsk,
    risks_file: Option<&Path>,
    format: RowsFormat,
) -> anyhow::Result<ExitCode> {
    let bar = progress_bar(ask.scenarios().unwrap_or(0));
    let report = compact_service::stress::stress(
        compact,
        ask,
        |baseline| match risks_file {
            Some(path) => compact_service::stress::risks_at(path, baseline),
            None => compact_service::stress::risks_file(dir, baseline),
        },
        |n| bar.inc(n),
    );
    bar.finish_and_clear();
    let report = report?;
    print(&report, compact, format)?;
    Ok(ExitCode::SUCCESS)
}

fn print(r: &StressReport, compact: &Compact, format: RowsFormat) -> anyhow::Result<()> {
    match format {
        RowsFormat::Json => out!("{}", serde_json::to_string_pretty(r)?),
        RowsFormat::Csv => {
            // One table per run: the what-if rows, or the Monte Carlo rows.
            if let Some(w) = &r.what_if {
                let rows = w
                    .lines
                    .iter()
                    .flat_map(|l| {
                        l.years.iter().map(move |y| {
                            vec![
                                l.pillar.clone(),
                                l.measure.clone(),
                                y.year.to_string(),
                                y.requirement.map(|x| x.to_string()).unwrap_or_default(),
                                y.before.to_string(),
                                y.after.to_string(),
                                y.gap_before.to_string(),
                                y.gap_after.to_string(),
                                y.synthetic_figures.join(";"),
                            ]
                        })
                    })
                    .collect();
                out!(
                    "{}",
                    csv(
                        &[
                            "pillar",
                            "measure",
                            "year",
                            "requirement",
                            "before",
                            "after",
                            "gap_before",
                            "gap_after",
                            "synthetic"
                        ],
                        rows
                    )?
                );
            } else if let Some(m) = &r.monte_carlo {
                let rows = m
                    .lines
                    .iter()
                    .flat_map(|l| {
                        l.years.iter().map(move |y| {
                            vec![
                                l.pillar.clone(),
                                l.measure.clone(),
                                y.year.to_string(),
                                y.requirement.map(|x| x.to_string()).unwrap_or_default(),
                                y.mean.to_string(),
                                y.p5.to_string(),
                                y.p50.to_string(),
                                y.p95.to_string(),
                                y.p_meet.map(|p| format!("{p:.4}")).unwrap_or_default(),
                                y.synthetic_figures.join(";"),
                            ]
                        })
                    })
                    .collect();
                out!(
                    "{}",
                    csv(
                        &[
                            "pillar",
                            "measure",
                            "year",
                            "requirement",
                            "mean",
                            "p5",
                            "p50",
                            "p95",
                            "p_meet",
                            "synthetic"
                        ],
                        rows
                    )?
                );
            }
        }
        RowsFormat::Table => {
            if let Some(w) = &r.what_if {
                out!(
                    "What if {}{}: scheduled support against the requirements, {}",
                    if w.without.is_empty() {
                        String::new()
                    } else {
                        format!(
                            "{} {} from {}",
                            w.without.join(", "),
                            if w.without.len() == 1 {
                                "withdraws"
                            } else {
                                "withdraw"
                            },
                            w.from_year
                        )
                    },
                    if w.delay_months > 0 {
                        format!(
                            "{}every delivery slips {} months",
                            if w.without.is_empty() { "" } else { " and " },
                            w.delay_months
                        )
                    } else {
                        String::new()
                    },
                    compact.currency
                );
                print_what_if(w)?;
                if let Some(b) = &r.rebalance {
                    print_rebalance(b)?;
                }
            }
            if let Some(s) = &r.single_points_of_failure {
                print_spof(s)?;
            }
            if let Some(m) = &r.monte_carlo {
                print_mc(m, compact)?;
            }
            out!(
                "* rests on synthetic data: the requirements are illustrative (requirements.toml), the schedules of synthetic commitments are assumed, and every Monte Carlo figure rests on the risks file's assumptions (stress.toml); not from a source."
            );
        }
    }
    Ok(())
}

fn marks(v: &[String], f: &str) -> bool {
    v.iter().any(|x| x == f)
}

fn print_what_if(r: &WhatIfReport) -> anyhow::Result<()> {
    let mut rows = Vec::new();
    for l in &r.lines {
        for y in &l.years {
            if shown(y.requirement, y.before != y.after) {
                let m = |f: &str| marks(&y.synthetic_figures, f);
                rows.push(vec![
                    line(&l.pillar, &l.measure),
                    y.year.to_string(),
                    y.requirement
                        .map(|x| marked(money(x), m("requirement")))
                        .unwrap_or_default(),
                    marked(money(y.before), m("before")),
                    marked(money(y.after), m("after")),
                    marked(money(y.gap_before), m("gap_before")),
                    marked(money(y.gap_after), m("gap_after")),
                ]);
            }
        }
    }
    out!(
        "{}",
        table(
            &[
                "line",
                "year",
                "requirement",
                "before",
                "after",
                "gap before",
                "gap after"
            ],
            rows,
            &[2, 3, 4, 5, 6]
        )
    );
    Ok(())
}

fn print_rebalance(b: &[RebalanceRow]) -> anyhow::Result<()> {
    if b.is_empty() {
        out!("No gap opens: nothing to rebalance.");
        return Ok(());
    }
    out!(
        "Rebalancing: the extra each remaining guarantor with a commitment in the pillar would carry, by GDP share, to close each gap opened (largest five shown)"
    );
    let rows = b
        .iter()
        .map(|x| {
            let mut parts = x.parts.clone();
            parts.sort_by_key(|p| std::cmp::Reverse(p.amount));
            vec![
                line(&x.pillar, &x.measure),
                x.year.to_string(),
                marked(money(x.extra_gap), x.synthetic),
                parts
                    .iter()
                    .take(5)
                    .map(|p| format!("{} {}", p.guarantor, money(p.amount)))
                    .collect::<Vec<_>>()
                    .join(", "),
            ]
        })
        .collect();
    out!(
        "{}",
        table(&["line", "year", "gap opened", "carried by"], rows, &[2])
    );
    Ok(())
}

fn print_spof(s: &[SpofRow]) -> anyhow::Result<()> {
    if s.is_empty() {
        out!(
            "Single points of failure: none (no one guarantor's withdrawal alone drops a line more than {}% below its requirement).",
            compact_stress::SPOF_MARGIN_PERCENT
        );
        return Ok(());
    }
    out!(
        "Single points of failure: guarantors whose withdrawal alone drops a line more than {}% below its requirement",
        compact_stress::SPOF_MARGIN_PERCENT
    );
    let rows = s
        .iter()
        .map(|x| {
            let m = |f: &str| marks(&x.synthetic_figures, f);
            vec![
                x.guarantor.clone(),
                line(&x.pillar, &x.measure),
                x.year.to_string(),
                marked(money(x.requirement), m("requirement")),
                marked(money(x.before), m("before")),
                marked(money(x.after), m("after")),
            ]
        })
        .collect();
    out!(
        "{}",
        table(
            &[
                "guarantor",
                "line",
                "year",
                "requirement",
                "before",
                "after"
            ],
            rows,
            &[3, 4, 5]
        )
    );
    Ok(())
}

/// What the Monte Carlo table's columns mean.
pub(crate) const MC_LEGEND: &str = "mean: the average support over the scenarios; P5, P50, P95: the support that 5%, 50% (the median) and 95% of the scenarios fall below (P5 is a bad year, P95 a good one); P(meet): the share of the scenarios in which the year's support meets its requirement.";

fn print_mc(m: &MonteCarlo, compact: &Compact) -> anyhow::Result<()> {
    out!(
        "Monte Carlo: {} scenarios, seed {} ({}; withdrawals, shocks and delays from the risks file)",
        m.scenarios,
        m.seed,
        compact.currency
    );
    let rows = m
        .lines
        .iter()
        .flat_map(|l| {
            l.years
                .iter()
                .filter(|y| y.requirement.is_some())
                .map(move |y| {
                    let m = |f: &str| marks(&y.synthetic_figures, f);
                    vec![
                        line(&l.pillar, &l.measure),
                        y.year.to_string(),
                        y.requirement
                            .map(|x| marked(money(x), m("requirement")))
                            .unwrap_or_default(),
                        marked(money(y.mean), m("mean")),
                        marked(money(y.p5), m("p5")),
                        marked(money(y.p50), m("p50")),
                        marked(money(y.p95), m("p95")),
                        y.p_meet
                            .map(|p| marked(format!("{:.1}%", p * 100.0), m("p_meet")))
                            .unwrap_or_default(),
                    ]
                })
        })
        .collect();
    out!(
        "{}",
        table(
            &[
                "line",
                "year",
                "requirement",
                "mean",
                "P5",
                "P50",
                "P95",
                "P(meet)"
            ],
            rows,
            &[2, 3, 4, 5, 6, 7]
        )
    );
    out!("{MC_LEGEND}");
    Ok(())
}
