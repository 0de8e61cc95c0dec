//! `compact stress`: which losses the guarantees survive, as an [`api::v1::StressReport`].
//!
//! - A what-if (guarantors withdrawn from a year, every delivery delayed), per line (pillar and
//!   measure) and year, before and after, against the requirements, with the rebalancing that
//!   would close each gap it opens.
//! - A Monte Carlo over a risks file: mean, P5, P50, P95 and the probability of meeting the
//!   requirement.
//! - Neither asked: the single points of failure, and a Monte Carlo of
//!   [`DEFAULT_SCENARIOS`] scenarios.
//!
//! [`api::v1::StressReport`]: crate::api::v1::StressReport

use compact_model::Compact;
use compact_stress::{
    Baseline, McConfig, Risks, WhatIf, monte_carlo, rebalance, single_points_of_failure,
    to_decimal, what_if, years_of,
};
use rust_decimal::Decimal;

use crate::api::v1::{
    McLine, McYear, MonteCarlo, RebalancePart, RebalanceRow, SpofRow, StressReport, Survival,
    WhatIfLine, WhatIfReport, WhatIfYear, rounded,
};
use crate::error::{Result, ServiceError};

/// Scenarios of the Monte Carlo run when no what-if is asked for.
pub const DEFAULT_SCENARIOS: u64 = 10_000;

/// What a stress test is asked.
#[derive(Clone, Debug, Default)]
pub struct StressAsk {
    /// Guarantors that withdraw (party codes, any case, trimmed).
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
    /// Leave out the risks file's correlated shocks: withdrawals independent of one another.
    pub no_shocks: bool,
}

impl StressAsk {
    /// Whether a what-if is asked.
    pub fn what_if(&self) -> bool {
        !self.without.is_empty() || self.delay.is_some()
    }

    /// The scenarios of the Monte Carlo run, if one runs: those asked, or
    /// [`DEFAULT_SCENARIOS`] when no what-if is asked.
    pub fn scenarios(&self) -> Option<u64> {
        match (self.scenarios, self.what_if()) {
            (Some(n), _) => Some(n),
            (None, false) => Some(DEFAULT_SCENARIOS),
            (None, true) => None,
        }
    }
}

/// The guarantors that withdraw in a what-if, as the baseline knows them: each code trimmed
/// and case-folded; a party declared but without an agreement, or not a guarantor, is said to
/// be so.
fn withdrawn(compact: &Compact, baseline: &Baseline, given: &[String]) -> Result<Vec<String>> {
    given
        .iter()
        .filter(|g| !g.trim().is_empty())
        .map(|g| {
            let code = crate::suggest::party_code(compact, g)?;
            if baseline.guarantors().contains(&code) {
                Ok(code)
            } else if code == compact.beneficiary {
                Err(ServiceError::bad_input(format!(
                    "`{code}` is the beneficiary, not a guarantor: it has nothing to withdraw"
                )))
            } else {
                Err(ServiceError::bad_input(format!(
                    "`{code}` is declared in the compact but has no agreement: it has nothing to withdraw"
                )))
            }
        })
        .collect()
}

fn stress_err(e: compact_stress::StressError) -> ServiceError {
    ServiceError::bad_input(e.to_string())
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

fn names(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| (*s).to_owned()).collect()
}

/// An amount of the stress crate's integer scale as an exact decimal.
fn amount(v: i64) -> Decimal {
    to_decimal(v).normalize()
}

/// The largest risks file read.
pub const RISKS_MAX: u64 = 1 << 20;

/// The risks file of the compact in `dir` (`stress.toml`) for `baseline`'s guarantors; its
/// errors each with `file:line:col`.
pub fn risks_file(dir: &std::path::Path, baseline: &Baseline) -> Result<Risks> {
    risks_at(&dir.join("stress.toml"), baseline)
}

/// The risks file at `path` (`compact stress --risks FILE`) for `baseline`'s guarantors: at
/// most [`RISKS_MAX`] bytes, read through a bounded reader (`/dev/zero` is refused at once);
/// its errors each with `file:line:col`.
pub fn risks_at(path: &std::path::Path, baseline: &Baseline) -> Result<Risks> {
    use std::io::Read as _;
    let shown = path.display().to_string();
    let cannot = |e: std::io::Error| {
        ServiceError::not_found(format!(
            "cannot read the risks file {shown} (withdrawal and delay probabilities): {e}"
        ))
    };
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(RISKS_MAX + 1).read_to_end(&mut bytes))
        .map_err(cannot)?;
    if bytes.len() as u64 > RISKS_MAX {
        return Err(ServiceError::bad_input(format!(
            "{shown}: larger than {RISKS_MAX} bytes (1 MiB), the most a risks file may hold"
        )));
    }
    let text = String::from_utf8(bytes)
        .map_err(|_| ServiceError::bad_input(format!("{shown}: not UTF-8 text")))?;
    Risks::parse(&shown, &text, baseline.guarantors()).map_err(|diags| {
        let errors: Vec<String> = diags
            .iter()
            .filter(|d| d.is_error())
            .map(|d| {
                let (line, col) = d.line_col(&text).unwrap_or((1, 1));
                format!("{}:{line}:{col}: {}", d.path, d.message)
            })
            .collect();
        ServiceError::bad_input(format!("the risks file: {}", errors.join("; ")))
    })
}

/// Runs what `ask` asks on `compact`. `risks` gives the risks file for the baseline's
/// guarantors, called only when a Monte Carlo runs; `progress` is told of scenarios done.
pub fn stress(
    compact: &Compact,
    ask: &StressAsk,
    risks: impl FnOnce(&Baseline) -> Result<Risks>,
    progress: impl Fn(u64) + Sync,
) -> Result<StressReport> {
    if ask.without.is_empty() && ask.from_year.is_some() {
        return Err(ServiceError::bad_input(
            "--from-year says when the guarantors of --without withdraw: give --without too",
        ));
    }
    let years = years_of(compact).map_err(stress_err)?;
    let baseline = Baseline::from_compact(compact, years).map_err(stress_err)?;
    let what = if ask.what_if() {
        Some(WhatIf {
            without: withdrawn(compact, &baseline, &ask.without)?,
            from_year: ask.from_year,
            delay_months: ask.delay.unwrap_or(0),
        })
    } else {
        None
    };
    let what_report = what
        .as_ref()
        .map(|w| what_if(&baseline, w))
        .transpose()
        .map_err(stress_err)?;
    let balance = what_report.as_ref().map(|r| rebalance(&baseline, r));
    let mc = match ask.scenarios() {
        Some(n) => {
            let mut risks = risks(&baseline)?;
            if ask.no_shocks {
                risks.shocks.clear();
            }
            let cfg = McConfig {
                scenarios: n,
                seed: ask.seed,
                years: ask.years,
            };
            Some(monte_carlo(&baseline, &risks, &cfg, progress).map_err(stress_err)?)
        }
        None => None,
    };
    let spof = what
        .is_none()
        .then(|| single_points_of_failure(&baseline, compact_stress::SPOF_MARGIN_PERCENT));

    let what_if = what_report.map(|r| WhatIfReport {
        without: r.without,
        from_year: r.from_year,
        delay_months: r.delay_months,
        lines: r
            .lines
            .iter()
            .map(|l| WhatIfLine {
                pillar: l.line.pillar.clone(),
                measure: l.line.measure.to_string(),
                slipped_beyond: amount(l.slipped_beyond),
                withdrawn: amount(l.withdrawn),
                years: l
                    .years
                    .iter()
                    .map(|y| {
                        let s = synth(compact, &l.line.pillar, y.year);
                        let mut marks = Vec::new();
                        if s.requirement {
                            marks.push("requirement");
                        }
                        if s.scheduled {
                            marks.extend(["before", "after"]);
                        }
                        if s.requirement || s.scheduled {
                            marks.extend(["gap_before", "gap_after"]);
                        }
                        WhatIfYear {
                            year: y.year,
                            requirement: y.requirement.map(amount),
                            before: amount(y.before),
                            after: amount(y.after),
                            gap_before: amount(y.gap_before),
                            gap_after: amount(y.gap_after),
                            synthetic_figures: names(&marks),
                        }
                    })
                    .collect(),
            })
            .collect(),
    });
    let rebalance = balance.map(|b| {
        b.iter()
            .map(|x| {
                let s = synth(compact, &x.line.pillar, x.year);
                RebalanceRow {
                    pillar: x.line.pillar.clone(),
                    measure: x.line.measure.to_string(),
                    year: x.year,
                    extra_gap: amount(x.extra_gap),
                    synthetic: s.requirement || s.scheduled,
                    parts: x
                        .parts
                        .iter()
                        .map(|p| RebalancePart {
                            guarantor: p.guarantor.clone(),
                            gdp_share: rounded(p.gdp_share, 6),
                            amount: amount(p.amount),
                        })
                        .collect(),
                }
            })
            .collect()
    });
    let single_points_of_failure = spof.map(|v| {
        v.iter()
            .map(|x| {
                let s = synth(compact, &x.line.pillar, x.year);
                let mut marks = Vec::new();
                if s.requirement {
                    marks.push("requirement");
                }
                if s.scheduled {
                    marks.extend(["before", "after"]);
                }
                SpofRow {
                    guarantor: x.guarantor.clone(),
                    pillar: x.line.pillar.clone(),
                    measure: x.line.measure.to_string(),
                    year: x.year,
                    requirement: amount(x.requirement),
                    before: amount(x.before),
                    after: amount(x.after),
                    synthetic_figures: names(&marks),
                }
            })
            .collect()
    });
    let monte_carlo = mc.map(|r| MonteCarlo {
        scenarios: r.scenarios,
        seed: r.seed,
        lines: r
            .lines
            .iter()
            .map(|l| McLine {
                pillar: l.line.pillar.clone(),
                measure: l.line.measure.to_string(),
                years: l
                    .years
                    .iter()
                    .map(|y| {
                        let s = synth(compact, &l.line.pillar, y.year);
                        // The distribution rests on the risks file's illustrative assumptions.
                        let mut marks = Vec::new();
                        if s.requirement {
                            marks.push("requirement");
                        }
                        if s.scheduled {
                            marks.push("scheduled");
                        }
                        marks.extend(["mean", "p5", "p50", "p95", "p_meet"]);
                        McYear {
                            year: y.year,
                            requirement: y.requirement.map(amount),
                            scheduled: amount(y.scheduled),
                            mean: amount(y.mean),
                            p5: amount(y.p5),
                            p50: amount(y.p50),
                            p95: amount(y.p95),
                            p_meet: y.p_meet.map(|p| rounded(p, 4)),
                            synthetic_figures: names(&marks),
                        }
                    })
                    .collect(),
            })
            .collect(),
        survival: r
            .survival
            .iter()
            .map(|s| Survival {
                guarantor: s.guarantor.clone(),
                by_year: s.by_year.iter().map(|p| rounded(*p, 4)).collect(),
            })
            .collect(),
    });
    Ok(StressReport {
        currency: compact.currency.clone(),
        years: baseline.years(),
        what_if,
        rebalance,
        single_points_of_failure,
        monte_carlo,
    })
}
