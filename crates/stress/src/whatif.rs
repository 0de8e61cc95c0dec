//! Deterministic what-ifs, single points of failure and rebalancing.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::baseline::{Baseline, Line};
use crate::error::StressError;

/// The longest delay a what-if or a risk file may give, in months (ten years).
pub const MAX_DELAY_MONTHS: u32 = 120;

/// A deterministic scenario.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WhatIf {
    /// Guarantors (party codes) that withdraw.
    pub without: Vec<String>,
    /// The first year they deliver nothing; the baseline's first year when `None`.
    pub from_year: Option<i16>,
    /// Months by which every guarantor's support slips (`0..=`[`MAX_DELAY_MONTHS`]).
    pub delay_months: u32,
}

/// One line-year of a what-if. Figures are in the integer scale ([`crate::SCALE`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct WhatIfYear {
    /// The year.
    pub year: i16,
    /// The requirement, if there is one.
    pub requirement: Option<i64>,
    /// Scheduled support.
    pub before: i64,
    /// Support under the what-if.
    pub after: i64,
    /// `max(0, requirement - before)`; 0 without a requirement.
    pub gap_before: i64,
    /// `max(0, requirement - after)`; 0 without a requirement.
    pub gap_after: i64,
    /// `after - before`.
    pub change: i64,
}

/// One line of a what-if.
///
/// Per line, the total before equals the total after plus `withdrawn` plus `slipped_beyond`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct WhatIfLine {
    /// The line.
    pub line: Line,
    /// Its years, ascending.
    pub years: Vec<WhatIfYear>,
    /// What the remaining guarantors' delays push past the last year.
    pub slipped_beyond: i64,
    /// What the withdrawn guarantors would have delivered (after the delay) from the year of
    /// withdrawal on, including past the last year.
    pub withdrawn: i64,
}

/// The result of [`what_if`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct WhatIfReport {
    /// The guarantors withdrawn, in baseline order, without repeats.
    pub without: Vec<String>,
    /// The first year without them.
    pub from_year: i16,
    /// The delay applied, in months.
    pub delay_months: u32,
    /// The lines, by pillar then measure.
    pub lines: Vec<WhatIfLine>,
}

/// A guarantor whose withdrawal alone, from the first year, drops a line below its
/// requirement in a year where the baseline met it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Spof {
    /// The guarantor's party code.
    pub guarantor: String,
    /// The line.
    pub line: Line,
    /// The year.
    pub year: i16,
    /// The requirement.
    pub requirement: i64,
    /// Scheduled support (at least the requirement).
    pub before: i64,
    /// Support without the guarantor (below the requirement).
    pub after: i64,
}

/// One guarantor's part of a rebalanced gap.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RebalancePart {
    /// The guarantor's party code.
    pub guarantor: String,
    /// Its share of the remaining guarantors' GDP, in `[0, 1]` (for display only).
    pub gdp_share: f64,
    /// What it would carry, in the integer scale.
    pub amount: i64,
}

/// The extra gap a what-if opened on a line in a year, split by GDP.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Rebalance {
    /// The line.
    pub line: Line,
    /// The year.
    pub year: i16,
    /// `gap_after - gap_before`.
    pub extra_gap: i64,
    /// The remaining guarantors' parts, in baseline order, adding up to `extra_gap` exactly;
    /// empty when no remaining guarantor has a GDP (the gap is then unallocated).
    pub parts: Vec<RebalancePart>,
}

/// `n / d` rounded half to even, for `d > 0`.
pub(crate) fn div_half_even(n: i128, d: i128) -> i128 {
    let q = n.div_euclid(d);
    let r = n.rem_euclid(d);
    match (2 * r).cmp(&d) {
        std::cmp::Ordering::Less => q,
        std::cmp::Ordering::Greater => q + 1,
        std::cmp::Ordering::Equal => q + q.rem_euclid(2),
    }
}

/// Adds `row` delayed by `months` into `out` (as long as `row`) and returns what falls past
/// its end.
///
/// Support is taken as spread evenly over its year: a delay of `12k + r` months moves all of
/// it `k` years on and then the share `r/12` one year further. That share is rounded half to
/// even to a whole unit of the scale and the rest stays, so nothing is created or lost except
/// what passes the last year.
pub(crate) fn delay_into(row: &[i64], months: u32, out: &mut [i64]) -> i64 {
    let whole = usize::try_from(months / 12).unwrap_or(usize::MAX);
    let rest = i128::from(months % 12);
    let mut beyond = 0i64;
    let mut put = |at: usize, v: i64| match out.get_mut(at) {
        Some(o) => *o += v,
        None => beyond += v,
    };
    for (y, x) in row.iter().enumerate() {
        let moved = div_half_even(i128::from(*x) * rest, 12);
        let moved = i64::try_from(moved).unwrap_or(*x);
        let at = y.saturating_add(whole);
        put(at, x - moved);
        put(at.saturating_add(1), moved);
    }
    beyond
}

fn check_delay(months: u32) -> Result<(), StressError> {
    if months > MAX_DELAY_MONTHS {
        return Err(StressError::Delay {
            months,
            max: MAX_DELAY_MONTHS,
        });
    }
    Ok(())
}

pub(crate) fn gap(requirement: Option<i64>, support: i64) -> i64 {
    requirement.map_or(0, |r| (r - support).max(0))
}

/// Applies `what` to `baseline`.
///
/// A withdrawn guarantor delivers nothing in the years from `from_year`; a delay slips every
/// guarantor's support (see [`WhatIf::delay_months`]), withdrawal then applying to the year
/// support lands in. Errors: an unknown party (naming the guarantors), a year outside the
/// baseline, a delay above [`MAX_DELAY_MONTHS`].
pub fn what_if(baseline: &Baseline, what: &WhatIf) -> Result<WhatIfReport, StressError> {
    let mut out_idx = BTreeSet::new();
    for code in &what.without {
        out_idx.insert(baseline.check_party(code)?);
    }
    let from_year = what.from_year.unwrap_or(baseline.first_year());
    let from = baseline.check_year(from_year)?;
    check_delay(what.delay_months)?;
    let years = baseline.years();
    let n = baseline.year_count();
    let mut lines = Vec::with_capacity(baseline.lines().len());
    let mut delayed = vec![0i64; n];
    for (l, line) in baseline.lines().iter().enumerate() {
        let before = baseline.scheduled(l);
        let mut after = vec![0i64; n];
        let mut slipped_beyond = 0i64;
        let mut withdrawn = 0i64;
        for g in 0..baseline.guarantors().len() {
            delayed.fill(0);
            let beyond = delay_into(baseline.support(g, l), what.delay_months, &mut delayed);
            let gone = out_idx.contains(&g);
            if gone {
                withdrawn += beyond;
            } else {
                slipped_beyond += beyond;
            }
            for (y, (a, d)) in after.iter_mut().zip(&delayed).enumerate() {
                if gone && y >= from {
                    withdrawn += *d;
                } else {
                    *a += *d;
                }
            }
        }
        let figures = years
            .iter()
            .zip(baseline.requirements(l))
            .zip(before.iter().zip(&after))
            .map(|((year, requirement), (before, after))| WhatIfYear {
                year: *year,
                requirement: *requirement,
                before: *before,
                after: *after,
                gap_before: gap(*requirement, *before),
                gap_after: gap(*requirement, *after),
                change: after - before,
            })
            .collect();
        lines.push(WhatIfLine {
            line: line.clone(),
            years: figures,
            slipped_beyond,
            withdrawn,
        });
    }
    Ok(WhatIfReport {
        without: out_idx
            .iter()
            .filter_map(|g| baseline.guarantors().get(*g).cloned())
            .collect(),
        from_year,
        delay_months: what.delay_months,
        lines,
    })
}

/// The default margin of [`single_points_of_failure`], in percent of the requirement: a
/// withdrawal that leaves a line within 10% of its requirement is a dent a planner absorbs
/// (other guarantors' slack, a delivery brought forward), not a failure.
pub const SPOF_MARGIN_PERCENT: i64 = 10;

/// Every guarantor whose withdrawal alone, from the first year and without delay, drops a
/// line more than `margin_percent` of its requirement below it, in a year where the baseline
/// met it (0: any shortfall). Ordered by guarantor, line, year.
pub fn single_points_of_failure(baseline: &Baseline, margin_percent: i64) -> Vec<Spof> {
    let years = baseline.years();
    let scheduled: Vec<Vec<i64>> = (0..baseline.lines().len())
        .map(|l| baseline.scheduled(l))
        .collect();
    let mut out = Vec::new();
    for (g, guarantor) in baseline.guarantors().iter().enumerate() {
        for (l, (line, before)) in baseline.lines().iter().zip(&scheduled).enumerate() {
            let rows = years
                .iter()
                .zip(baseline.requirements(l))
                .zip(before.iter().zip(baseline.support(g, l)));
            for ((year, requirement), (before, own)) in rows {
                let Some(requirement) = requirement else {
                    continue;
                };
                let after = before - own;
                let floor = i128::from(*requirement)
                    * i128::from(100_i64.saturating_sub(margin_percent.clamp(0, 100)))
                    / 100;
                if *before >= *requirement && i128::from(after) < floor {
                    out.push(Spof {
                        guarantor: guarantor.clone(),
                        line: line.clone(),
                        year: *year,
                        requirement: *requirement,
                        before: *before,
                        after,
                    });
                }
            }
        }
    }
    out
}

/// Splits `total` (at least 0) by `weights` (positive) with the largest-remainder method: each
/// part is the floor of its exact share, and the units left go one each to the largest
/// remainders (ties to the earlier weight). The parts add up to `total` exactly.
pub(crate) fn largest_remainder(total: i64, weights: &[i64]) -> Vec<i64> {
    let sum: i128 = weights.iter().map(|w| i128::from(*w)).sum();
    if sum <= 0 || total <= 0 {
        return vec![0; weights.len()];
    }
    let exact: Vec<(i128, i128)> = weights
        .iter()
        .map(|w| {
            let n = i128::from(total) * i128::from(*w);
            (n / sum, n % sum)
        })
        .collect();
    let given: i128 = exact.iter().map(|(q, _)| *q).sum();
    let left = usize::try_from(i128::from(total) - given).unwrap_or(0);
    let mut order: Vec<usize> = (0..weights.len()).collect();
    order.sort_by(|a, b| {
        let ra = exact.get(*a).map_or(0, |e| e.1);
        let rb = exact.get(*b).map_or(0, |e| e.1);
        rb.cmp(&ra).then(a.cmp(b))
    });
    let mut parts: Vec<i64> = exact
        .iter()
        .map(|(q, _)| i64::try_from(*q).unwrap_or(0))
        .collect();
    for i in order.into_iter().take(left) {
        if let Some(p) = parts.get_mut(i) {
            *p += 1;
        }
    }
    parts
}

/// For each line-year where `report` opened an extra gap (`gap_after > gap_before`), what each
/// eligible guarantor would carry to close it, by its share of the eligible guarantors' GDP;
/// the parts add up to the extra gap exactly (largest remainder). Eligible: not withdrawn, with
/// a GDP, and with a commitment in the line's pillar (some support scheduled in any of its
/// lines, in any year): a guarantor is asked only for what it already gives. When none is
/// eligible, the gap is reported with no parts. The guarantors withdrawn are those of the
/// report, whatever the year of withdrawal.
pub fn rebalance(baseline: &Baseline, report: &WhatIfReport) -> Vec<Rebalance> {
    let remaining: Vec<(usize, String, i64)> = baseline
        .guarantors()
        .iter()
        .enumerate()
        .filter(|(_, code)| !report.without.contains(code))
        .filter_map(|(g, code)| baseline.gdp(g).map(|gdp| (g, code.clone(), gdp)))
        .collect();
    let mut out = Vec::new();
    for line in &report.lines {
        let in_pillar: Vec<usize> = baseline
            .lines()
            .iter()
            .enumerate()
            .filter(|(_, l)| l.pillar == line.line.pillar)
            .map(|(l, _)| l)
            .collect();
        let eligible: Vec<&(usize, String, i64)> = remaining
            .iter()
            .filter(|(g, _, _)| {
                in_pillar
                    .iter()
                    .any(|l| baseline.support(*g, *l).iter().any(|v| *v > 0))
            })
            .collect();
        let weights: Vec<i64> = eligible.iter().map(|(_, _, w)| *w).collect();
        let total: f64 = weights.iter().map(|w| *w as f64).sum();
        for y in &line.years {
            let extra_gap = y.gap_after - y.gap_before;
            if extra_gap <= 0 {
                continue;
            }
            let parts = largest_remainder(extra_gap, &weights)
                .into_iter()
                .zip(&eligible)
                .map(|(amount, (_, code, gdp))| RebalancePart {
                    guarantor: code.clone(),
                    gdp_share: *gdp as f64 / total,
                    amount,
                })
                .collect();
            out.push(Rebalance {
                line: line.line.clone(),
                year: y.year,
                extra_gap,
                parts,
            });
        }
    }
    out
}
