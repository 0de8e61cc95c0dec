//! Burden sharing: each guarantor's fair share of a baseline, in proportion to its share of the
//! participants' GDP (the formula of NATO's 2024 pledge of long-term security assistance: a
//! EUR 40 bn minimum baseline split by share of Alliance GDP), beside what it allocated and had
//! confirmed in the year.
//!
//! The GDP is one vintage for all: the latest year, not after the year reported on, for which
//! every participant has a figure (for the shipped data set, the Kiel tracker's 2021 GDP).
//! Participants are the guarantors with a GDP figure; the others are listed apart.

use std::collections::BTreeMap;

use compact_model::Compact;
use compact_model::summary::cents;
use compact_model::value::convert;
use jiff::civil::Date;
use rust_decimal::Decimal;
use serde::Serialize;

use crate::{EngineError, Figures, Measure};

/// One guarantor's row.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct BurdenRow {
    /// Party code.
    pub party: String,
    /// Share of the participants' GDP (0 to 1, 6 decimals).
    pub gdp_share: Decimal,
    /// Its share of the baseline, in the reporting currency.
    pub fair_share: Decimal,
    /// Allocated in the year.
    pub allocated: Decimal,
    /// Confirmed delivered in the year.
    pub confirmed: Decimal,
    /// Confirmed as a percentage of its GDP (4 decimals).
    pub pct_gdp: Decimal,
    /// Fair share minus confirmed: positive when below its share.
    pub gap: Decimal,
    /// Surge obligations (set off by activations) due in the year, apart from the baseline
    /// and not in the fair share.
    pub surge: Decimal,
    /// 1 for the largest gap.
    pub rank: usize,
}

/// The burden-sharing report of a year.
#[derive(Clone, Debug, Serialize)]
pub struct BurdenReport {
    /// The year.
    pub year: i16,
    /// The GDP vintage used.
    pub gdp_year: i16,
    /// The baseline, in the reporting currency.
    pub baseline: Decimal,
    /// The reporting currency.
    pub currency: String,
    /// One row per participant, largest gap first.
    pub rows: Vec<BurdenRow>,
    /// Guarantors left out for want of a GDP figure.
    pub without_gdp: Vec<String>,
}

/// The burden-sharing report for `year`, with `baseline` already in the reporting currency.
pub fn burden(
    compact: &Compact,
    figures: &[Figures],
    year: i16,
    baseline: Decimal,
) -> Result<BurdenReport, EngineError> {
    let guarantors: Vec<&compact_model::Party> = compact
        .parties
        .values()
        .filter(|p| p.group.is_some())
        .collect();
    let (with, without): (Vec<_>, Vec<_>) = guarantors.into_iter().partition(|p| !p.gdp.is_empty());
    // The latest vintage, not after `year`, that every participant has.
    let gdp_year = with
        .iter()
        .filter_map(|p| p.gdp.keys().copied().filter(|y| *y <= year).max())
        .min()
        .filter(|y| with.iter().all(|p| p.gdp.contains_key(y)))
        .ok_or(EngineError::NoGdpVintage(year))?;
    let on = Date::new(gdp_year, 12, 31).map_err(|_| EngineError::NoGdpVintage(year))?;
    let mut gdp: BTreeMap<&str, Decimal> = BTreeMap::new();
    for p in &with {
        let Some(g) = p.gdp.get(&gdp_year) else {
            continue;
        };
        let v =
            convert(compact, g.value, &g.currency, on).map_err(|source| EngineError::Value {
                commitment: format!("GDP of {}", p.code),
                source,
            })?;
        gdp.insert(p.code.as_str(), v.value);
    }
    let total_gdp = gdp
        .values()
        .fold(Decimal::ZERO, |a, b| a.saturating_add(*b));
    let mut in_year: BTreeMap<&str, (Decimal, Decimal, Decimal)> = BTreeMap::new();
    for f in figures.iter().filter(|f| f.measure == Measure::Money) {
        if let Some(y) = f.years.get(&year) {
            let e = in_year.entry(f.guarantor.as_str()).or_default();
            e.0 = e.0.saturating_add(y.allocated);
            e.1 = e.1.saturating_add(y.confirmed);
            e.2 = e.2.saturating_add(y.surge);
        }
    }
    let mut rows: Vec<BurdenRow> = gdp
        .iter()
        .map(|(party, g)| {
            let share = if total_gdp.is_zero() {
                Decimal::ZERO
            } else {
                g / total_gdp
            };
            let fair = cents(baseline * share);
            let (allocated, confirmed, surge) = in_year.get(party).copied().unwrap_or_default();
            let (allocated, confirmed) = (cents(allocated), cents(confirmed));
            BurdenRow {
                party: (*party).to_owned(),
                gdp_share: share.round_dp(6),
                fair_share: fair,
                allocated,
                confirmed,
                pct_gdp: if g.is_zero() {
                    Decimal::ZERO
                } else {
                    (confirmed / g)
                        .saturating_mul(Decimal::ONE_HUNDRED)
                        .round_dp(4)
                },
                gap: fair - confirmed,
                surge: cents(surge),
                rank: 0,
            }
        })
        .collect();
    rows.sort_by(|a, b| b.gap.cmp(&a.gap).then_with(|| a.party.cmp(&b.party)));
    for (i, r) in rows.iter_mut().enumerate() {
        r.rank = i + 1;
    }
    Ok(BurdenReport {
        year,
        gdp_year,
        baseline: cents(baseline),
        currency: compact.currency.clone(),
        rows,
        without_gdp: without.iter().map(|p| p.code.clone()).collect(),
    })
}
