//! `compact stress`: which losses the guarantees survive.
//!
//! - `--without A,B [--from-year Y]` and `--delay MONTHS`: a deterministic what-if, per line
//!   (pillar and measure) and year, before and after, against the requirements; and the
//!   rebalancing that would close each gap it opens.
//! - `--scenarios N --seed S [--years Y]`: Monte Carlo over the risks file (default
//!   `DIR/stress.toml`): mean, P5, P50, P95 and the probability of meeting the requirement.
//! - Neither: the single points of failure, and a Monte Carlo of 10,000 scenarios.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, anyhow};
use compact_model::Compact;
use compact_stress::{
    Baseline, McConfig, McReport, Rebalance, Risks, Spof, WhatIf, WhatIfReport, monte_carlo,
    rebalance, single_points_of_failure, to_decimal, what_if, years_of,
};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::{Value, json};

use crate::RowsFormat;
use crate::output::{csv, money, out, print_diagnostics, table};
use crate::status::marked;

/// The largest risks file read.
const RISKS_MAX: u64 = 1 << 20;

/// Scenarios of the Monte Carlo run when no what-if is asked for.
pub const DEFAULT_SCENARIOS: u64 = 10_000;

/// What `compact stress` was asked.
#[derive(Debug, Default)]
pub struct Ask {
    /// Guarantors that withdraw.
    pub without: Vec<String>,
    /// From which year.
    pub from_year: Option<i16>,
    /// Months every delivery slips.
    pub delay: Option<u32>,
    /// Monte Carlo scenarios.
    pub scenarios: Option<u64>,
    /// The seed.
    pub seed: u64,
    /// Horizon in years from the first.
    pub years: Option<i16>,
    /// The risks file.
    pub risks: Option<PathBuf>,
    /// Leave out the file's correlated shocks: withdrawals independent of one another.
    pub no_shocks: bool,
}

fn amount(v: i64) -> String {
    to_decimal(v).normalize().to_string()
}

fn opt(v: Option<i64>) -> Value {
    v.map_or(Value::Null, |x| Value::String(amount(x)))
}

fn risks(dir: &Path, path: Option<&Path>, baseline: &Baseline) -> anyhow::Result<Risks> {
    let default = dir.join("stress.toml");
    let path = path.unwrap_or(&default);
    let text =
        crate::input::read_text_capped(path, RISKS_MAX, "a risks file").with_context(|| {
            format!(
                "cannot read the risks file {} (withdrawal and delay probabilities; --risks FILE)",
                path.display()
            )
        })?;
    let shown = path.display().to_string();
    Risks::parse(&shown, &text, baseline.guarantors()).map_err(|diags| {
        let (errors, _) = print_diagnostics(&diags, |_| Some(text.as_str()));
        anyhow!("{shown}: {errors} errors")
    })
}

/// Runs the Monte Carlo with a progress bar on a terminal.
pub fn run_mc(baseline: &Baseline, risks: &Risks, cfg: &McConfig) -> anyhow::Result<McReport> {
    let bar = if std::io::IsTerminal::is_terminal(&std::io::stderr()) && cfg.scenarios >= 10_000 {
        let b = ProgressBar::new(cfg.scenarios);
        b.set_style(
            ProgressStyle::with_template("{msg} {bar:40} {pos}/{len} scenarios")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        b.set_message("monte carlo");
        b
    } else {
        ProgressBar::hidden()
    };
    let report = monte_carlo(baseline, risks, cfg, |n| bar.inc(n))?;
    bar.finish_and_clear();
    Ok(report)
}

/// Which figures of a pillar's year rest on synthetic data: the requirement (when the
/// requirement of that pillar and year is), and the schedule (when a commitment of the pillar
/// with a tranche due that year, or its agreement, is).
#[derive(Clone, Copy, Default)]
struct Synth {
    requirement: bool,
    scheduled: bool,
}

fn synth(compact: &Compact, pillar: &str, year: i16) -> Synth {
    Synth {
        requirement: compact
            .requirements
            .iter()
            .any(|r| r.pillar == pillar && r.year == year && r.synthetic),
        scheduled: compact.latest_agreements().any(|a| {
            a.commitments.iter().any(|c| {
                c.pillar == pillar
                    && (a.synthetic || c.synthetic)
                    && c.schedule.tranches().iter().any(|t| t.due.year() == year)
            })
        }),
    }
}

/// The names of a what-if year's synthetic figures.
fn what_if_marks(s: Synth) -> Vec<&'static str> {
    let mut v = Vec::new();
    if s.requirement {
        v.push("requirement");
    }
    if s.scheduled {
        v.extend(["before", "after"]);
    }
    if s.requirement || s.scheduled {
        v.extend(["gap_before", "gap_after"]);
    }
    v
}

fn what_if_json(r: &WhatIfReport, compact: &Compact) -> Value {
    json!({
        "without": r.without, "from_year": r.from_year, "delay_months": r.delay_months,
        "lines": r.lines.iter().map(|l| json!({
            "pillar": l.line.pillar, "measure": l.line.measure.to_string(),
            "slipped_beyond": amount(l.slipped_beyond), "withdrawn": amount(l.withdrawn),
            "years": l.years.iter().map(|y| json!({
                "year": y.year, "requirement": opt(y.requirement), "before": amount(y.before),
                "after": amount(y.after), "gap_before": amount(y.gap_before),
                "gap_after": amount(y.gap_after),
                "synthetic_figures": what_if_marks(synth(compact, &l.line.pillar, y.year)),
            })).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    })
}

fn rebalance_json(r: &[Rebalance], compact: &Compact) -> Value {
    Value::Array(
        r.iter()
            .map(|b| {
                let m = synth(compact, &b.line.pillar, b.year);
                json!({
                    "pillar": b.line.pillar, "measure": b.line.measure.to_string(), "year": b.year,
                    "extra_gap": amount(b.extra_gap),
                    "synthetic": m.requirement || m.scheduled,
                    "parts": b.parts.iter().map(|p| json!({
                        "guarantor": p.guarantor, "gdp_share": format!("{:.6}", p.gdp_share),
                        "amount": amount(p.amount),
                    })).collect::<Vec<_>>(),
                })
            })
            .collect(),
    )
}

fn spof_json(s: &[Spof], compact: &Compact) -> Value {
    Value::Array(
        s.iter()
            .map(|x| {
                let m = synth(compact, &x.line.pillar, x.year);
                let mut marks = Vec::new();
                if m.requirement {
                    marks.push("requirement");
                }
                if m.scheduled {
                    marks.extend(["before", "after"]);
                }
                json!({
                    "synthetic_figures": marks,
                    "guarantor": x.guarantor, "pillar": x.line.pillar,
                    "measure": x.line.measure.to_string(), "year": x.year,
                    "requirement": amount(x.requirement), "before": amount(x.before),
                    "after": amount(x.after),
                })
            })
            .collect(),
    )
}

fn prob(p: Option<f64>) -> Value {
    p.map_or(Value::Null, |x| Value::String(format!("{x:.4}")))
}

fn mc_json(r: &McReport, compact: &Compact) -> Value {
    json!({
        "scenarios": r.scenarios, "seed": r.seed,
        "lines": r.lines.iter().map(|l| json!({
            "pillar": l.line.pillar, "measure": l.line.measure.to_string(),
            "years": l.years.iter().map(|y| {
                let m = synth(compact, &l.line.pillar, y.year);
                // The distribution rests on the risks file's illustrative assumptions.
                let mut marks = Vec::new();
                if m.requirement {
                    marks.push("requirement");
                }
                if m.scheduled {
                    marks.push("scheduled");
                }
                marks.extend(["mean", "p5", "p50", "p95", "p_meet"]);
                json!({
                "year": y.year, "requirement": opt(y.requirement),
                "scheduled": amount(y.scheduled), "mean": amount(y.mean),
                "p5": amount(y.p5), "p50": amount(y.p50), "p95": amount(y.p95),
                "p_meet": prob(y.p_meet),
                "synthetic_figures": marks,
            })}).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "survival": r.survival.iter().map(|s| json!({
            "guarantor": s.guarantor,
            "by_year": s.by_year.iter().map(|p| format!("{p:.4}")).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    })
}

/// Whether a line-year is worth a row: it has a requirement, or the what-if changed it.
fn shown(requirement: Option<i64>, changed: bool) -> bool {
    requirement.is_some() || changed
}

/// `compact stress`.
pub fn stress(
    dir: &Path,
    compact: &Compact,
    ask: &Ask,
    format: RowsFormat,
) -> anyhow::Result<ExitCode> {
    let years = years_of(compact)?;
    let baseline = Baseline::from_compact(compact, years)?;
    let what = (!ask.without.is_empty() || ask.delay.is_some()).then(|| WhatIf {
        without: ask.without.clone(),
        from_year: ask.from_year,
        delay_months: ask.delay.unwrap_or(0),
    });
    if ask.without.is_empty() && ask.from_year.is_some() {
        return Err(anyhow!(
            "--from-year says when the guarantors of --without withdraw: give --without too"
        ));
    }
    let what_report = what.as_ref().map(|w| what_if(&baseline, w)).transpose()?;
    let balance = what_report.as_ref().map(|r| rebalance(&baseline, r));
    let scenarios = match (ask.scenarios, &what) {
        (Some(n), _) => Some(n),
        (None, None) => Some(DEFAULT_SCENARIOS),
        (None, Some(_)) => None,
    };
    let mc = match scenarios {
        Some(n) => {
            let mut risks = risks(dir, ask.risks.as_deref(), &baseline)?;
            if ask.no_shocks {
                risks.shocks.clear();
            }
            let cfg = McConfig {
                scenarios: n,
                seed: ask.seed,
                years: ask.years,
            };
            Some(run_mc(&baseline, &risks, &cfg)?)
        }
        None => None,
    };
    let spof = what
        .is_none()
        .then(|| single_points_of_failure(&baseline, compact_stress::SPOF_MARGIN_PERCENT));

    match format {
        RowsFormat::Json => {
            let mut v = serde_json::Map::new();
            v.insert("currency".into(), json!(compact.currency));
            v.insert("years".into(), json!(baseline.years()));
            if let Some(r) = &what_report {
                v.insert("what_if".into(), what_if_json(r, compact));
            }
            if let Some(b) = &balance {
                v.insert("rebalance".into(), rebalance_json(b, compact));
            }
            if let Some(s) = &spof {
                v.insert("single_points_of_failure".into(), spof_json(s, compact));
            }
            if let Some(m) = &mc {
                v.insert("monte_carlo".into(), mc_json(m, compact));
            }
            out!("{}", serde_json::to_string_pretty(&Value::Object(v))?);
        }
        RowsFormat::Csv => {
            // One table per run: the what-if rows, or the Monte Carlo rows.
            if let Some(r) = &what_report {
                let rows = r
                    .lines
                    .iter()
                    .flat_map(|l| {
                        l.years.iter().map(move |y| {
                            vec![
                                l.line.pillar.clone(),
                                l.line.measure.to_string(),
                                y.year.to_string(),
                                y.requirement.map(amount).unwrap_or_default(),
                                amount(y.before),
                                amount(y.after),
                                amount(y.gap_before),
                                amount(y.gap_after),
                                what_if_marks(synth(compact, &l.line.pillar, y.year)).join(";"),
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
            } else if let Some(m) = &mc {
                let rows = m
                    .lines
                    .iter()
                    .flat_map(|l| {
                        l.years.iter().map(move |y| {
                            vec![
                                l.line.pillar.clone(),
                                l.line.measure.to_string(),
                                y.year.to_string(),
                                y.requirement.map(amount).unwrap_or_default(),
                                amount(y.mean),
                                amount(y.p5),
                                amount(y.p50),
                                amount(y.p95),
                                y.p_meet.map(|p| format!("{p:.4}")).unwrap_or_default(),
                                {
                                    let m = synth(compact, &l.line.pillar, y.year);
                                    let mut v = Vec::new();
                                    if m.requirement {
                                        v.push("requirement");
                                    }
                                    v.extend(["mean", "p5", "p50", "p95", "p_meet"]);
                                    v.join(";")
                                },
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
            if let Some(r) = &what_report {
                out!(
                    "What if {}{}: scheduled support against the requirements, {}",
                    if r.without.is_empty() {
                        String::new()
                    } else {
                        format!("{} withdraw from {}", r.without.join(", "), r.from_year)
                    },
                    if r.delay_months > 0 {
                        format!(
                            "{}every delivery slips {} months",
                            if r.without.is_empty() { "" } else { " and " },
                            r.delay_months
                        )
                    } else {
                        String::new()
                    },
                    compact.currency
                );
                print_what_if(r, compact)?;
                if let Some(b) = &balance {
                    print_rebalance(b, compact)?;
                }
            }
            if let Some(s) = &spof {
                print_spof(s, compact)?;
            }
            if let Some(m) = &mc {
                print_mc(m, compact)?;
            }
            out!(
                "* rests on synthetic data: the requirements are illustrative (requirements.toml), the schedules of synthetic commitments are assumed, and every Monte Carlo figure rests on the risks file's assumptions (stress.toml); not from a source."
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn print_what_if(r: &WhatIfReport, compact: &Compact) -> anyhow::Result<()> {
    let mut rows = Vec::new();
    for l in &r.lines {
        for y in &l.years {
            if shown(y.requirement, y.before != y.after) {
                let m = synth(compact, &l.line.pillar, y.year);
                let gap = m.requirement || m.scheduled;
                rows.push(vec![
                    l.line.to_string(),
                    y.year.to_string(),
                    y.requirement
                        .map(|x| marked(money(to_decimal(x)), m.requirement))
                        .unwrap_or_default(),
                    marked(money(to_decimal(y.before)), m.scheduled),
                    marked(money(to_decimal(y.after)), m.scheduled),
                    marked(money(to_decimal(y.gap_before)), gap),
                    marked(money(to_decimal(y.gap_after)), gap),
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

fn print_rebalance(b: &[Rebalance], compact: &Compact) -> anyhow::Result<()> {
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
            let m = synth(compact, &x.line.pillar, x.year);
            vec![
                x.line.to_string(),
                x.year.to_string(),
                marked(money(to_decimal(x.extra_gap)), m.requirement || m.scheduled),
                parts
                    .iter()
                    .take(5)
                    .map(|p| format!("{} {}", p.guarantor, money(to_decimal(p.amount))))
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

fn print_spof(s: &[Spof], compact: &Compact) -> anyhow::Result<()> {
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
            let m = synth(compact, &x.line.pillar, x.year);
            vec![
                x.guarantor.clone(),
                x.line.to_string(),
                x.year.to_string(),
                marked(money(to_decimal(x.requirement)), m.requirement),
                marked(money(to_decimal(x.before)), m.scheduled),
                marked(money(to_decimal(x.after)), m.scheduled),
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

fn print_mc(m: &McReport, compact: &Compact) -> anyhow::Result<()> {
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
                    let m = synth(compact, &l.line.pillar, y.year);
                    // Every distribution figure rests on the risks file's assumptions.
                    vec![
                        l.line.to_string(),
                        y.year.to_string(),
                        y.requirement
                            .map(|x| marked(money(to_decimal(x)), m.requirement))
                            .unwrap_or_default(),
                        marked(money(to_decimal(y.mean)), true),
                        marked(money(to_decimal(y.p5)), true),
                        marked(money(to_decimal(y.p50)), true),
                        marked(money(to_decimal(y.p95)), true),
                        y.p_meet
                            .map(|p| marked(format!("{:.1}%", p * 100.0), true))
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
    Ok(())
}

/// `compact bench stress` (PRODUCT.md B5): the Monte Carlo on the synthetic case (40
/// guarantors, 20 years, one line), timed as the median of 3 runs after a warm-up; writes the
/// same input for `bench/b5_numpy.py` to `input`.
pub fn bench(scenarios: u64, seed: u64, input: &Path) -> anyhow::Result<ExitCode> {
    use std::time::Instant;
    let (baseline, risks) = compact_stress::bench_input(seed)?;
    let data = compact_stress::BenchInput::new(&baseline, &risks, scenarios, seed)?;
    std::fs::write(input, serde_json::to_string(&data)?)
        .with_context(|| format!("cannot write {}", input.display()))?;
    let cfg = McConfig {
        scenarios,
        seed,
        years: None,
    };
    let mut report = monte_carlo(&baseline, &risks, &cfg, |_| {})?;
    let mut times = Vec::new();
    for _ in 0..3 {
        let start = Instant::now();
        report = monte_carlo(&baseline, &risks, &cfg, |_| {})?;
        times.push(start.elapsed().as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    let median = times.get(1).copied().unwrap_or(f64::NAN);
    let cells = report
        .lines
        .first()
        .map(|l| l.years.as_slice())
        .unwrap_or_default();
    out!(
        "B5 Monte Carlo: {scenarios} scenarios x {} guarantors x {} years on {} threads: {median:.3} s (median of 3)",
        baseline.guarantors().len(),
        baseline.year_count(),
        rayon::current_num_threads()
    );
    out!(
        "B5 means by year: {}",
        cells
            .iter()
            .map(|c| amount(c.mean))
            .collect::<Vec<_>>()
            .join(" ")
    );
    out!("B5 input for the numpy reference: {}", input.display());
    out!("B5_RUST_SECONDS={median:.6}");
    Ok(ExitCode::SUCCESS)
}
