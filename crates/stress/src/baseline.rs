//! The baseline: scheduled support per guarantor, line and year, and the requirements, as
//! integers.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::ops::RangeInclusive;

use compact_model::value::{self, ValueError};
use compact_model::{Amount, Compact};
use jiff::civil::Date;
use rust_decimal::prelude::ToPrimitive as _;
use rust_decimal::{Decimal, RoundingStrategy};
use serde::Serialize;

use crate::error::StressError;

/// The integer scale: money is held in cents of the reporting currency, physical units in
/// hundredths of a unit. A figure `v` means `v / SCALE` currency units or units.
pub const SCALE: i64 = 100;

/// The most years a baseline may span.
pub const MAX_YEARS: usize = 100;

/// A figure of the integer scale as an exact decimal (`123456` → `1234.56`).
pub fn to_decimal(v: i64) -> Decimal {
    Decimal::new(v, 2)
}

/// What a line counts.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Measure {
    /// Money in the reporting currency (its code), held in cents.
    Money(String),
    /// A physical unit (its id, e.g. `systems`), held in hundredths.
    Units(String),
}

impl fmt::Display for Measure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Measure::Money(c) => f.write_str(c),
            Measure::Units(u) => f.write_str(u),
        }
    }
}

/// A line of support: a pillar counted in one measure. Lines order by pillar, then measure.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Line {
    /// The pillar's id (`weapons`).
    pub pillar: String,
    /// What is counted.
    pub measure: Measure,
}

impl Line {
    /// A money line in `currency`.
    pub fn money(pillar: &str, currency: &str) -> Self {
        Line {
            pillar: pillar.to_owned(),
            measure: Measure::Money(currency.to_owned()),
        }
    }

    /// A line counted in `unit`.
    pub fn units(pillar: &str, unit: &str) -> Self {
        Line {
            pillar: pillar.to_owned(),
            measure: Measure::Units(unit.to_owned()),
        }
    }
}

impl fmt::Display for Line {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.pillar, self.measure)
    }
}

/// Raw arrays for [`Baseline::new`], in any order of guarantors and lines (the baseline sorts
/// them). Figures are in the integer scale ([`SCALE`]) and may not be negative.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BaselineInput {
    /// The reporting currency's code.
    pub currency: String,
    /// The years covered, first to last.
    pub first_year: i16,
    /// The last year covered (inclusive).
    pub last_year: i16,
    /// Guarantor party codes, unique.
    pub guarantors: Vec<String>,
    /// GDP per guarantor (same order), in cents of the reporting currency; `None` for a
    /// guarantor that takes no share in rebalancing.
    pub gdp: Vec<Option<i64>>,
    /// The lines, unique.
    pub lines: Vec<Line>,
    /// Requirement per line (same order) and year; `None` where there is none.
    pub requirements: Vec<Vec<Option<i64>>>,
    /// Scheduled support per guarantor, line and year: `support[g][l][y]`.
    pub support: Vec<Vec<Vec<i64>>>,
}

/// Scheduled support and requirements, as integers ([`SCALE`]).
///
/// Guarantors are ordered by party code, lines by pillar then measure, years ascending. Every
/// sum of support over any guarantors and years of one line fits in an `i64`
/// ([`Baseline::new`] checks it), so no what-if or scenario built from it can overflow.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Baseline {
    currency: String,
    first_year: i16,
    years: usize,
    guarantors: Vec<String>,
    gdp: Vec<Option<i64>>,
    gdp_year: Option<i16>,
    lines: Vec<Line>,
    /// `requirements[l * years + y]`.
    requirements: Vec<Option<i64>>,
    /// `support[(g * lines + l) * years + y]`.
    support: Vec<i64>,
}

fn invalid(message: impl Into<String>) -> StressError {
    StressError::Baseline(message.into())
}

/// A decimal rounded half to even to two places, times 100, if it fits.
fn to_scaled(d: Decimal) -> Option<i64> {
    d.round_dp_with_strategy(2, RoundingStrategy::MidpointNearestEven)
        .checked_mul(Decimal::ONE_HUNDRED)?
        .to_i64()
}

fn year_end(year: i16) -> Result<Date, StressError> {
    Date::new(year, 12, 31).map_err(|_| StressError::Years {
        first: year,
        last: year,
        max: MAX_YEARS,
    })
}

fn check_years(first: i16, last: i16) -> Result<usize, StressError> {
    let span = i32::from(last) - i32::from(first) + 1;
    match usize::try_from(span) {
        Ok(n) if (1..=MAX_YEARS).contains(&n) => Ok(n),
        _ => Err(StressError::Years {
            first,
            last,
            max: MAX_YEARS,
        }),
    }
}

/// The years a compact's stress test covers: from the first to the last year that a tranche
/// of the latest agreement versions falls due or a requirement is stated, at most
/// [`MAX_YEARS`] of them.
pub fn years_of(compact: &Compact) -> Result<RangeInclusive<i16>, StressError> {
    let mut years: Vec<i16> = compact.requirements.iter().map(|r| r.year).collect();
    for a in compact.latest_agreements() {
        for c in &a.commitments {
            years.extend(c.schedule.tranches().iter().map(|t| t.due.year()));
        }
    }
    let (Some(first), Some(last)) = (years.iter().min(), years.iter().max()) else {
        return Err(StressError::NothingToStress);
    };
    let span = i16::try_from(MAX_YEARS)
        .unwrap_or(i16::MAX)
        .saturating_sub(1);
    Ok(*first..=(*last).min(first.saturating_add(span)))
}

/// An amount in the integer scale, with its measure: units as they are, money (and shares of
/// GDP, resolved for `party`) valued in the reporting currency on `on`.
fn scaled(
    compact: &Compact,
    party: &str,
    amount: &Amount,
    on: Date,
    what: impl Fn() -> String,
) -> Result<(Measure, i64), StressError> {
    match amount {
        Amount::Units { quantity, unit } => Ok((
            Measure::Units(unit.clone()),
            to_scaled(*quantity).ok_or_else(|| StressError::Overflow(what()))?,
        )),
        amount => {
            let v =
                value::value(compact, party, amount, on).map_err(|source| StressError::Value {
                    what: what(),
                    source,
                })?;
            Ok((
                Measure::Money(compact.currency.clone()),
                to_scaled(v.value).ok_or_else(|| StressError::Overflow(what()))?,
            ))
        }
    }
}

impl Baseline {
    /// A baseline from raw arrays (for tests, benchmarks and synthetic cases). Checks that the
    /// arrays fit together: one GDP per guarantor, one requirement row per line, one support
    /// row per guarantor and line, each as long as the years; unique guarantors and lines; no
    /// negative figure, no GDP of zero; no line whose total support overflows.
    pub fn new(input: BaselineInput) -> Result<Baseline, StressError> {
        let BaselineInput {
            currency,
            first_year,
            last_year,
            guarantors,
            gdp,
            lines,
            requirements,
            support,
        } = input;
        let years = check_years(first_year, last_year)?;
        let g_n = guarantors.len();
        let l_n = lines.len();
        if guarantors.iter().collect::<BTreeSet<_>>().len() != g_n {
            return Err(invalid("a guarantor is given twice"));
        }
        if guarantors.iter().any(String::is_empty) {
            return Err(invalid("a guarantor's code is empty"));
        }
        if lines.iter().collect::<BTreeSet<_>>().len() != l_n {
            return Err(invalid("a line is given twice"));
        }
        if gdp.len() != g_n {
            return Err(invalid(format!(
                "{} GDP figures for {g_n} guarantors",
                gdp.len()
            )));
        }
        if gdp.iter().flatten().any(|v| *v <= 0) {
            return Err(invalid("a GDP figure is zero or negative"));
        }
        if requirements.len() != l_n || requirements.iter().any(|r| r.len() != years) {
            return Err(invalid(format!(
                "requirements must be {l_n} lines of {years} years"
            )));
        }
        if requirements.iter().flatten().flatten().any(|v| *v < 0) {
            return Err(invalid("a requirement is negative"));
        }
        if support.len() != g_n
            || support
                .iter()
                .any(|g| g.len() != l_n || g.iter().any(|l| l.len() != years))
        {
            return Err(invalid(format!(
                "support must be {g_n} guarantors of {l_n} lines of {years} years"
            )));
        }
        if support.iter().flatten().flatten().any(|v| *v < 0) {
            return Err(invalid("a scheduled figure is negative"));
        }
        for (l, line) in lines.iter().enumerate() {
            let total: i128 = support
                .iter()
                .filter_map(|g| g.get(l))
                .flatten()
                .map(|v| i128::from(*v))
                .sum();
            if total > i128::from(i64::MAX) {
                return Err(StressError::Overflow(format!(
                    "the total support of {line}"
                )));
            }
        }

        let mut g_order: Vec<usize> = (0..g_n).collect();
        g_order.sort_by(|a, b| guarantors.get(*a).cmp(&guarantors.get(*b)));
        let mut l_order: Vec<usize> = (0..l_n).collect();
        l_order.sort_by(|a, b| lines.get(*a).cmp(&lines.get(*b)));

        let mut flat_support = Vec::with_capacity(g_n * l_n * years);
        for g in &g_order {
            for l in &l_order {
                let row = support.get(*g).and_then(|s| s.get(*l));
                flat_support.extend(row.into_iter().flatten().copied());
            }
        }
        let mut flat_requirements = Vec::with_capacity(l_n * years);
        for l in &l_order {
            flat_requirements.extend(requirements.get(*l).into_iter().flatten().copied());
        }
        Ok(Baseline {
            currency,
            first_year,
            years,
            guarantors: g_order
                .iter()
                .filter_map(|g| guarantors.get(*g).cloned())
                .collect(),
            gdp: g_order
                .iter()
                .map(|g| gdp.get(*g).copied().flatten())
                .collect(),
            gdp_year: None,
            lines: l_order
                .iter()
                .filter_map(|l| lines.get(*l).cloned())
                .collect(),
            requirements: flat_requirements,
            support: flat_support,
        })
    }

    /// The baseline of `compact` over `years`.
    ///
    /// Guarantors are the guarantors of the latest version of each agreement. Support of a
    /// guarantor on a line in a year is the sum of the tranches of those versions' commitments
    /// falling due in that year: money and shares of GDP valued in the reporting currency on
    /// the due date ([`compact_model::value::value`]) and rounded to cents tranche by tranche;
    /// units counted in hundredths. Lines are every pillar and measure scheduled or required
    /// in the years. Requirements of a year are valued on 31 December of it.
    ///
    /// GDP (for rebalancing) is of one vintage for all guarantors, as in the engine's burden
    /// sharing: the latest year, up to the last year, for which every guarantor with a GDP
    /// figure has one; when there is no such year, each guarantor's latest figure up to the
    /// last year. It is valued on 31 December of its year. Guarantors without GDP take no
    /// share.
    pub fn from_compact(
        compact: &Compact,
        years: RangeInclusive<i16>,
    ) -> Result<Baseline, StressError> {
        let (first, last) = (*years.start(), *years.end());
        let n = check_years(first, last)?;
        let mut guarantors: BTreeSet<String> = BTreeSet::new();
        // (guarantor, line) -> per-year sums
        let mut cells: BTreeMap<(String, Line), Vec<i128>> = BTreeMap::new();
        let mut lines: BTreeSet<Line> = BTreeSet::new();
        for agreement in compact.latest_agreements() {
            guarantors.insert(agreement.guarantor.clone());
            for commitment in &agreement.commitments {
                for tranche in commitment.schedule.tranches() {
                    let year = tranche.due.year();
                    let Some(y) = year_index(first, n, year) else {
                        continue;
                    };
                    let what = || {
                        format!(
                            "commitment `{}` of agreement `{}` due {}",
                            commitment.id, agreement.id, tranche.due
                        )
                    };
                    let (measure, figure) = scaled(
                        compact,
                        &agreement.guarantor,
                        &tranche.amount,
                        tranche.due,
                        what,
                    )?;
                    let line = Line {
                        pillar: commitment.pillar.clone(),
                        measure,
                    };
                    lines.insert(line.clone());
                    let row = cells
                        .entry((agreement.guarantor.clone(), line))
                        .or_insert_with(|| vec![0; n]);
                    if let Some(cell) = row.get_mut(y) {
                        *cell += i128::from(figure);
                    }
                }
            }
        }

        let mut required: BTreeMap<Line, Vec<Option<i128>>> = BTreeMap::new();
        for r in &compact.requirements {
            let Some(y) = year_index(first, n, r.year) else {
                continue;
            };
            let what = || format!("the requirement of {} for {}", r.pillar, r.year);
            let (measure, figure) = scaled(
                compact,
                &compact.beneficiary,
                &r.amount,
                year_end(r.year)?,
                what,
            )?;
            let line = Line {
                pillar: r.pillar.clone(),
                measure,
            };
            lines.insert(line.clone());
            let row = required.entry(line).or_insert_with(|| vec![None; n]);
            if let Some(cell) = row.get_mut(y) {
                *cell = Some(cell.unwrap_or(0) + i128::from(figure));
            }
        }

        let guarantors: Vec<String> = guarantors.into_iter().collect();
        let lines: Vec<Line> = lines.into_iter().collect();
        let narrow = |v: i128, what: &dyn Fn() -> String| {
            i64::try_from(v).map_err(|_| StressError::Overflow(what()))
        };
        let mut support = Vec::with_capacity(guarantors.len());
        for g in &guarantors {
            let mut per_line = Vec::with_capacity(lines.len());
            for line in &lines {
                let row = match cells.get(&(g.clone(), line.clone())) {
                    Some(row) => row
                        .iter()
                        .map(|v| narrow(*v, &|| format!("the support of {g} for {line}")))
                        .collect::<Result<Vec<_>, _>>()?,
                    None => vec![0; n],
                };
                per_line.push(row);
            }
            support.push(per_line);
        }
        let mut requirements = Vec::with_capacity(lines.len());
        for line in &lines {
            let row = match required.get(line) {
                Some(row) => row
                    .iter()
                    .map(|v| {
                        v.map(|v| narrow(v, &|| format!("the requirement for {line}")))
                            .transpose()
                    })
                    .collect::<Result<Vec<_>, _>>()?,
                None => vec![None; n],
            };
            requirements.push(row);
        }
        let (gdp, gdp_year) = gdp_of(compact, &guarantors, last)?;
        let mut baseline = Baseline::new(BaselineInput {
            currency: compact.currency.clone(),
            first_year: first,
            last_year: last,
            guarantors,
            gdp,
            lines,
            requirements,
            support,
        })?;
        baseline.gdp_year = gdp_year;
        Ok(baseline)
    }

    /// The reporting currency's code.
    pub fn currency(&self) -> &str {
        &self.currency
    }

    /// The first year.
    pub fn first_year(&self) -> i16 {
        self.first_year
    }

    /// The last year (inclusive).
    pub fn last_year(&self) -> i16 {
        // `years` is at most MAX_YEARS, so this stays in range.
        self.first_year
            .saturating_add(i16::try_from(self.years).unwrap_or(i16::MAX))
            .saturating_sub(1)
    }

    /// The years, ascending.
    pub fn years(&self) -> Vec<i16> {
        (self.first_year..=self.last_year()).collect()
    }

    /// How many years.
    pub fn year_count(&self) -> usize {
        self.years
    }

    /// The guarantors' party codes, in order.
    pub fn guarantors(&self) -> &[String] {
        &self.guarantors
    }

    /// The lines, in order.
    pub fn lines(&self) -> &[Line] {
        &self.lines
    }

    /// GDP of guarantor `g` (index into [`Baseline::guarantors`]) in cents, if it has one.
    pub fn gdp(&self, g: usize) -> Option<i64> {
        self.gdp.get(g).copied().flatten()
    }

    /// The year of the GDP figures, when the baseline comes from a compact and one vintage
    /// serves every guarantor.
    pub fn gdp_year(&self) -> Option<i16> {
        self.gdp_year
    }

    /// Scheduled support of guarantor `g` on line `l`, per year (empty if out of range).
    pub fn support(&self, g: usize, l: usize) -> &[i64] {
        if g >= self.guarantors.len() || l >= self.lines.len() {
            return &[];
        }
        let start = (g * self.lines.len() + l) * self.years;
        self.support.get(start..start + self.years).unwrap_or(&[])
    }

    /// The requirements of line `l`, per year (empty if out of range).
    pub fn requirements(&self, l: usize) -> &[Option<i64>] {
        if l >= self.lines.len() {
            return &[];
        }
        let start = l * self.years;
        self.requirements
            .get(start..start + self.years)
            .unwrap_or(&[])
    }

    /// The scheduled support of all guarantors on line `l`, per year.
    pub fn scheduled(&self, l: usize) -> Vec<i64> {
        let mut out = vec![0; self.years];
        for g in 0..self.guarantors.len() {
            for (o, v) in out.iter_mut().zip(self.support(g, l)) {
                *o += *v;
            }
        }
        out
    }

    /// The index of guarantor `code`.
    pub fn guarantor_index(&self, code: &str) -> Option<usize> {
        self.guarantors.iter().position(|g| g == code)
    }

    /// The index of guarantor `code`, or the error that lists the guarantors.
    pub fn check_party(&self, code: &str) -> Result<usize, StressError> {
        self.guarantor_index(code)
            .ok_or_else(|| StressError::unknown_party(code, &self.guarantors))
    }

    /// The index of `year`, or the error that names the years.
    pub fn check_year(&self, year: i16) -> Result<usize, StressError> {
        year_index(self.first_year, self.years, year).ok_or(StressError::YearOutOfRange {
            year,
            first: self.first_year,
            last: self.last_year(),
        })
    }
}

fn year_index(first: i16, n: usize, year: i16) -> Option<usize> {
    let i = usize::try_from(i32::from(year) - i32::from(first)).ok()?;
    (i < n).then_some(i)
}

/// GDP per guarantor in cents, and the common vintage if there is one.
#[allow(clippy::type_complexity)]
fn gdp_of(
    compact: &Compact,
    guarantors: &[String],
    last: i16,
) -> Result<(Vec<Option<i64>>, Option<i16>), StressError> {
    let parties: Vec<_> = guarantors.iter().map(|g| compact.parties.get(g)).collect();
    let with: Vec<_> = parties
        .iter()
        .flatten()
        .filter(|p| p.gdp.range(..=last).next().is_some())
        .collect();
    let common = with.first().and_then(|p0| {
        p0.gdp
            .range(..=last)
            .rev()
            .map(|(y, _)| *y)
            .find(|y| with.iter().all(|p| p.gdp.contains_key(y)))
    });
    let mut out = Vec::with_capacity(guarantors.len());
    for party in parties {
        let figure = party.and_then(|p| match common {
            Some(y) => p.gdp.get_key_value(&y),
            None => p.gdp.range(..=last).next_back(),
        });
        let Some((party, (year, gdp))) = party.zip(figure) else {
            out.push(None);
            continue;
        };
        let what = || format!("the {year} GDP of {}", party.code);
        let v = value::convert(compact, gdp.value, &gdp.currency, year_end(*year)?).map_err(
            |source: ValueError| StressError::Value {
                what: what(),
                source,
            },
        )?;
        let cents = to_scaled(v.value).ok_or_else(|| StressError::Overflow(what()))?;
        out.push((cents > 0).then_some(cents));
    }
    Ok((out, common))
}
