//! The Monte Carlo: seeded random scenarios of withdrawals, correlated shocks and delays.
//!
//! # The model
//!
//! In each scenario, each year in order, each guarantor still in leaves with its yearly
//! probability `p`, and each shock fires with its probability and removes all its members;
//! leaving in a year removes that year's support and every later year's. Each guarantor draws
//! one delay per scenario from its distribution, applied as in a what-if
//! ([`crate::WhatIf::delay_months`]); what slips past the horizon is lost. The support
//! delivered on a line in a year is the sum, over the guarantors still in that year, of their
//! delayed support.
//!
//! The year-by-year coin flips are drawn at once, exactly: the year a guarantor leaves is
//! geometric, `P(leaves in year k) = (1-p)^k p`, so one uniform draw compared against the
//! precomputed cumulative thresholds `1 - (1-p)^(k+1)` gives it; likewise the first year each
//! shock fires.
//!
//! # Determinism
//!
//! The random numbers come from ChaCha8 (crate `chacha20`, its `rng` feature), a stream cipher
//! whose output for a key, stream and position is fixed by its specification, so it is the same
//! on every platform and version. The key holds the seed (and a fixed tag); scenario `i` reads
//! stream `i` from its start. Within a scenario the draws are taken in a fixed order: one per
//! guarantor for the year it leaves (baseline order), one per shock (file order), one per
//! guarantor for its delay. Uniforms are the top 53 bits of a `u64`, compared as integers
//! against thresholds precomputed from the probabilities (scaled by 2^53, computed by repeated
//! multiplication, which IEEE 754 fixes). Scenarios run in parallel chunks (rayon) and their
//! outcomes are stored by index; every statistic is computed from integers. So a seed gives
//! the same report whatever the number of threads or how rayon splits the work.
//!
//! # Memory
//!
//! Draws are kept as two bytes per guarantor and scenario; then each line in turn fills one
//! `i64` per scenario and year, whose columns are reduced to statistics (selection, not a full
//! sort). 100,000 scenarios × 40 guarantors × 20 years take about 8 MB of draws and 16 MB per
//! line at a time.

use chacha20::ChaCha8Rng;
use chacha20::rand_core::{Rng as _, SeedableRng as _};
use rayon::prelude::*;
use serde::Serialize;

use crate::baseline::{Baseline, Line};
use crate::error::StressError;
use crate::risks::Risks;
use crate::whatif::{delay_into, div_half_even};

/// The most scenarios a run may have (one million): enough for percentiles to 0.1%, and at most
/// a few hundred megabytes for a compact's lines over twenty years.
pub const MAX_SCENARIOS: u64 = 1_000_000;

/// Scenarios per parallel chunk (a fixed size, so that the work splits the same way on any
/// machine; results do not depend on it anyway).
const CHUNK: usize = 1024;

/// Uniforms and thresholds are on this scale: 2^53.
const ONE: u64 = 1 << 53;

/// A fixed tag in the key, so that these streams differ from any other use of the seed.
const KEY_TAG: &[u8; 24] = b"compact-stress/mc/v1\0\0\0\0";

/// How to run [`monte_carlo`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct McConfig {
    /// Number of scenarios, `1..=`[`MAX_SCENARIOS`].
    pub scenarios: u64,
    /// The seed: the same seed gives the same report.
    pub seed: u64,
    /// Limit the horizon to the first this many years (`1..=` the baseline's); all when `None`.
    pub years: Option<i16>,
}

/// The distribution of delivered support on a line in a year. Figures are in the integer
/// scale ([`crate::SCALE`]).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct McYear {
    /// The year.
    pub year: i16,
    /// The requirement, if there is one.
    pub requirement: Option<i64>,
    /// Scheduled support (no withdrawal, no delay).
    pub scheduled: i64,
    /// Mean over the scenarios, rounded half to even.
    pub mean: i64,
    /// The least value.
    pub min: i64,
    /// 5th percentile (nearest rank).
    pub p5: i64,
    /// Median (nearest rank).
    pub p50: i64,
    /// 95th percentile (nearest rank).
    pub p95: i64,
    /// The greatest value.
    pub max: i64,
    /// The share of scenarios delivering at least the requirement; `None` without one.
    pub p_meet: Option<f64>,
}

/// One line of a Monte Carlo report.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct McLine {
    /// The line.
    pub line: Line,
    /// Its years, ascending.
    pub years: Vec<McYear>,
}

/// The probability that a guarantor is still in, year by year.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Survival {
    /// The party code.
    pub guarantor: String,
    /// Per year of the horizon, the share of scenarios in which it is still in.
    pub by_year: Vec<f64>,
}

/// The result of [`monte_carlo`].
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct McReport {
    /// Number of scenarios.
    pub scenarios: u64,
    /// The seed.
    pub seed: u64,
    /// The years of the horizon.
    pub years: Vec<i16>,
    /// The lines, by pillar then measure.
    pub lines: Vec<McLine>,
    /// Per guarantor, in baseline order.
    pub survival: Vec<Survival>,
}

/// Everything a guarantor's draws need, precomputed.
struct Plan {
    /// `exit[k]`: threshold of leaving in year `k` or before.
    exit: Vec<u64>,
    /// `delay[k]`: threshold of the `k`-th delay option or an earlier one.
    delay: Vec<u64>,
    /// Delayed support per option, line and year: `[(k * lines + l) * years + y]`.
    delayed: Vec<i64>,
}

fn threshold(p: f64) -> u64 {
    // ONE is exactly representable; the product is in [0, 2^53].
    (p.clamp(0.0, 1.0) * ONE as f64).round() as u64
}

/// Thresholds of "first happens in year k or before", for a yearly probability `p`.
pub(crate) fn yearly_thresholds(p: f64, years: usize) -> Vec<u64> {
    let stay = 1.0 - p.clamp(0.0, 1.0);
    let mut still = 1.0f64;
    (0..years)
        .map(|_| {
            still *= stay;
            threshold(1.0 - still)
        })
        .collect()
}

fn key(seed: u64) -> [u8; 32] {
    let mut key = [0u8; 32];
    for (k, b) in key
        .iter_mut()
        .zip(seed.to_le_bytes().iter().chain(KEY_TAG.iter()))
    {
        *k = *b;
    }
    key
}

/// The generator of the scenario streams of `seed`; scenario `i` is stream `i`.
pub(crate) fn rng(seed: u64) -> ChaCha8Rng {
    ChaCha8Rng::from_seed(key(seed))
}

/// A uniform integer in `[0, 2^53)`.
fn uniform(rng: &mut ChaCha8Rng) -> u64 {
    rng.next_u64() >> 11
}

/// A uniform in `[0, 1)`.
pub(crate) fn uniform_f64(rng: &mut ChaCha8Rng) -> f64 {
    uniform(rng) as f64 / ONE as f64
}

fn add_into(a: &mut [u64], b: &[u64]) {
    for (x, y) in a.iter_mut().zip(b) {
        *x += *y;
    }
}

/// Index of the nearest-rank `pct` percentile in `n` sorted values (`n >= 1`).
pub(crate) fn rank(pct: u64, n: usize) -> usize {
    let n64 = n as u64;
    let r = (pct * n64).div_ceil(100).max(1);
    usize::try_from(r - 1).unwrap_or(0).min(n.saturating_sub(1))
}

/// Statistics of one column (at least one value); reorders it.
fn stats(col: &mut [i64], year: i16, requirement: Option<i64>, scheduled: i64) -> McYear {
    let n = col.len();
    let (mut min, mut max, mut sum, mut meet) = (i64::MAX, i64::MIN, 0i128, 0u64);
    for v in col.iter() {
        min = min.min(*v);
        max = max.max(*v);
        sum += i128::from(*v);
        if requirement.is_some_and(|r| *v >= r) {
            meet += 1;
        }
    }
    let (i5, i50, i95) = (rank(5, n), rank(50, n), rank(95, n));
    let (p5, p50, p95) = if n == 0 {
        (0, 0, 0)
    } else {
        let (left, mid, right) = col.select_nth_unstable(i50);
        let p50 = *mid;
        let p5 = if i5 < i50 {
            *left.select_nth_unstable(i5).1
        } else {
            p50
        };
        let p95 = match (i95 - i50).checked_sub(1) {
            Some(k) if k < right.len() => *right.select_nth_unstable(k).1,
            _ => p50,
        };
        (p5, p50, p95)
    };
    let n128 = i128::try_from(n).unwrap_or(1).max(1);
    McYear {
        year,
        requirement,
        scheduled,
        mean: i64::try_from(div_half_even(sum, n128)).unwrap_or(0),
        min,
        p5,
        p50,
        p95,
        max,
        p_meet: requirement.map(|_| meet as f64 / n as f64),
    }
}

/// Runs `config.scenarios` random scenarios of `risks` against `baseline`.
///
/// `progress` is called, from any thread, with the number of scenarios just drawn (an
/// increment; the increments add up to `scenarios`). Errors: a number of scenarios of 0 or above
/// [`MAX_SCENARIOS`], a horizon outside the baseline's years, risks that name a party not in the
/// baseline or are otherwise invalid ([`Risks::validate`]).
pub fn monte_carlo(
    baseline: &Baseline,
    risks: &Risks,
    config: &McConfig,
    progress: impl Fn(u64) + Sync,
) -> Result<McReport, StressError> {
    if !(1..=MAX_SCENARIOS).contains(&config.scenarios) {
        return Err(StressError::Scenarios {
            given: config.scenarios,
            max: MAX_SCENARIOS,
        });
    }
    let all_years = baseline.year_count();
    let horizon = match config.years {
        None => all_years,
        Some(y) => match usize::try_from(y) {
            Ok(h) if (1..=all_years).contains(&h) => h,
            _ => {
                return Err(StressError::Horizon {
                    years: y,
                    max: all_years,
                    first: baseline.first_year(),
                    last: baseline.last_year(),
                });
            }
        },
    };
    risks.validate(baseline.guarantors())?;
    let n = usize::try_from(config.scenarios).map_err(|_| StressError::Scenarios {
        given: config.scenarios,
        max: MAX_SCENARIOS,
    })?;
    let lines = baseline.lines();
    let l_n = lines.len();
    let g_n = baseline.guarantors().len();

    let mut plans = Vec::with_capacity(g_n);
    for (g, code) in baseline.guarantors().iter().enumerate() {
        let profile = risks.profile(code);
        let mut cum = 0.0f64;
        let mut delay: Vec<u64> = profile
            .delay
            .iter()
            .map(|o| {
                cum += o.probability;
                threshold(cum)
            })
            .collect();
        if let Some(last) = delay.last_mut() {
            *last = ONE;
        }
        let mut delayed = vec![0i64; profile.delay.len() * l_n * horizon];
        let mut cells = delayed.chunks_exact_mut(horizon.max(1));
        for o in &profile.delay {
            for l in 0..l_n {
                let row = baseline.support(g, l);
                if let Some(out) = cells.next() {
                    delay_into(row.get(..horizon).unwrap_or(row), o.months, out);
                }
            }
        }
        plans.push(Plan {
            exit: yearly_thresholds(profile.withdrawal, horizon),
            delay,
            delayed,
        });
    }
    let shocks: Vec<(Vec<u64>, Vec<usize>)> = risks
        .shocks
        .iter()
        .map(|s| {
            (
                yearly_thresholds(s.probability, horizon),
                s.members
                    .iter()
                    .filter_map(|m| baseline.guarantor_index(m))
                    .collect(),
            )
        })
        .collect();

    // Phase 1: the draws, and the years each guarantor stays in.
    let stride = g_n.max(1);
    let mut exits = vec![0u8; n * stride];
    let mut delays = vec![0u8; n * stride];
    let hist_len = g_n * (horizon + 1);
    let key_seed = config.seed;
    let hist = exits
        .par_chunks_mut(CHUNK * stride)
        .zip(delays.par_chunks_mut(CHUNK * stride))
        .enumerate()
        .map(|(c, (ex, de))| {
            let mut hist = vec![0u64; hist_len];
            let mut rng = rng(key_seed);
            let mut count = 0u64;
            for (j, (ex_row, de_row)) in ex
                .chunks_exact_mut(stride)
                .zip(de.chunks_exact_mut(stride))
                .enumerate()
            {
                rng.set_stream((c * CHUNK + j) as u64);
                for (e, plan) in ex_row.iter_mut().zip(&plans) {
                    let u = uniform(&mut rng);
                    *e = u8::try_from(plan.exit.partition_point(|t| *t <= u)).unwrap_or(u8::MAX);
                }
                for (thresholds, members) in &shocks {
                    let u = uniform(&mut rng);
                    let fired =
                        u8::try_from(thresholds.partition_point(|t| *t <= u)).unwrap_or(u8::MAX);
                    for m in members {
                        if let Some(e) = ex_row.get_mut(*m) {
                            *e = (*e).min(fired);
                        }
                    }
                }
                for (d, plan) in de_row.iter_mut().zip(&plans) {
                    let u = uniform(&mut rng);
                    *d = u8::try_from(plan.delay.partition_point(|t| *t <= u)).unwrap_or(0);
                }
                for (hrow, e) in hist.chunks_exact_mut(horizon + 1).zip(ex_row.iter()) {
                    if let Some(h) = hrow.get_mut(usize::from(*e)) {
                        *h += 1;
                    }
                }
                count += 1;
            }
            progress(count);
            hist
        })
        .reduce(
            || vec![0u64; hist_len],
            |mut a, b| {
                add_into(&mut a, &b);
                a
            },
        );

    // Phase 2: line by line, the delivered support per scenario and year, then its statistics.
    let years: Vec<i16> = baseline.years().into_iter().take(horizon).collect();
    let mut out_lines = Vec::with_capacity(l_n);
    let mut buf = vec![0i64; n * horizon];
    for (l, line) in lines.iter().enumerate() {
        // rows[g][k]: guarantor g's support on this line under delay option k; empty when the
        // guarantor schedules nothing on the line.
        let rows: Vec<Vec<&[i64]>> = plans
            .iter()
            .map(|p| {
                let k_n = p.delay.len();
                let rows: Vec<&[i64]> = (0..k_n)
                    .map(|k| {
                        let start = (k * l_n + l) * horizon;
                        p.delayed.get(start..start + horizon).unwrap_or(&[])
                    })
                    .collect();
                if rows.iter().all(|r| r.iter().all(|v| *v == 0)) {
                    Vec::new()
                } else {
                    rows
                }
            })
            .collect();
        buf.par_chunks_mut(CHUNK * horizon)
            .zip(exits.par_chunks(CHUNK * stride))
            .zip(delays.par_chunks(CHUNK * stride))
            .for_each(|((out, ex), de)| {
                out.fill(0);
                for ((o, er), dr) in out
                    .chunks_exact_mut(horizon)
                    .zip(ex.chunks_exact(stride))
                    .zip(de.chunks_exact(stride))
                {
                    for (g_rows, (e, d)) in rows.iter().zip(er.iter().zip(dr)) {
                        if let Some(row) = g_rows.get(usize::from(*d)) {
                            for (x, v) in o.iter_mut().zip(row.iter()).take(usize::from(*e)) {
                                *x += *v;
                            }
                        }
                    }
                }
            });
        let scheduled = baseline.scheduled(l);
        let requirements = baseline.requirements(l);
        let cells: Vec<McYear> = (0..horizon)
            .into_par_iter()
            .map(|y| {
                let mut col: Vec<i64> = buf.iter().skip(y).step_by(horizon).copied().collect();
                stats(
                    &mut col,
                    years.get(y).copied().unwrap_or_default(),
                    requirements.get(y).copied().flatten(),
                    scheduled.get(y).copied().unwrap_or_default(),
                )
            })
            .collect();
        out_lines.push(McLine {
            line: line.clone(),
            years: cells,
        });
    }

    let survival = baseline
        .guarantors()
        .iter()
        .zip(hist.chunks_exact(horizon + 1))
        .map(|(code, h)| {
            // still in during year y: left in a year after y (or never, bucket `horizon`)
            let mut after = 0u64;
            let mut by_year = vec![0.0; horizon];
            for (y, p) in by_year.iter_mut().enumerate().rev() {
                after += h.get(y + 1).copied().unwrap_or(0);
                *p = after as f64 / n as f64;
            }
            Survival {
                guarantor: code.clone(),
                by_year,
            }
        })
        .collect();

    Ok(McReport {
        scenarios: config.scenarios,
        seed: config.seed,
        years,
        lines: out_lines,
        survival,
    })
}
