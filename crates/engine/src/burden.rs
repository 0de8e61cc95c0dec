//! Burden sharing as NATO computes it for its 2024 pledge of long-term security assistance:
//! a minimum baseline of EUR 40 bn a year, split among the **Allies** in proportion to their
//! **share of Alliance GDP**, counting **military** support (equipment bought or donated,
//! maintenance, logistics, training, defence industry, NATO trust funds).
//!
//! `fair share = baseline x GDP(ally) / sum of the allies' GDP`, each guarantor's GDP valued in
//! the reporting currency at one vintage for all: the latest year, not after the year reported
//! on, for which every participant has a figure (for the shipped data set, the Kiel tracker's
//! 2021 GDP). Beside it: what the ally allocated in the year (in the log, plus what the
//! independent tracker counts outside the agreements) and what the beneficiary confirmed; the
//! gap is the fair share minus the allocations, as NATO counts what allies report providing.
//!
//! Other bases are options, labelled in the report: every guarantor instead of the allies,
//! all aid instead of military aid. Parties outside the basis are listed apart, with their
//! figures and no fair share.

use std::collections::BTreeMap;

use compact_model::Compact;
use compact_model::summary::cents;
use compact_model::value::convert;
use jiff::civil::Date;
use rust_decimal::Decimal;
use serde::Serialize;

use crate::reconcile::{Outside, category};
use crate::{EngineError, Figures, Measure};

/// Who shares the baseline.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Basis {
    /// The NATO allies among the guarantors (a party's `nato_member_since`, on or before the
    /// end of the year): NATO's formula.
    NatoAllies,
    /// Every guarantor.
    AllGuarantors,
}

/// What counts as a contribution.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Aid {
    /// Military aid only: pillars whose tracker category is `military` (NATO's pledge).
    Military,
    /// Every money commitment, and everything the tracker counts.
    All,
}

/// One guarantor's row.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct BurdenRow {
    /// Party code.
    pub party: String,
    /// Share of the participants' GDP (0 to 1, 6 decimals).
    pub gdp_share: Decimal,
    /// Its share of the baseline, in the reporting currency.
    pub fair_share: Decimal,
    /// Allocated in the year: in the log, plus outside the agreements.
    pub allocated: Decimal,
    /// Of which outside the agreements (the tracker's allocations no commitment holds).
    pub outside: Decimal,
    /// Confirmed delivered in the year.
    pub confirmed: Decimal,
    /// Allocated as a percentage of its GDP (4 decimals).
    pub pct_gdp: Decimal,
    /// Fair share minus allocated: positive when below its share.
    pub gap: Decimal,
    /// Surge obligations (set off by activations) due in the year, apart from the baseline
    /// and not in the fair share.
    pub surge: Decimal,
    /// 1 for the largest gap.
    pub rank: usize,
    /// The figures of the row that rest on synthetic data (`gdp`, `allocated`, `confirmed`).
    pub synthetic_figures: Vec<&'static str>,
}

/// A guarantor outside the basis: its figures, without a share.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OtherRow {
    /// Party code.
    pub party: String,
    /// Why it is apart (`not a NATO ally`, `no GDP figure`).
    pub reason: &'static str,
    /// Allocated in the year, in the log and outside the agreements.
    pub allocated: Decimal,
    /// Confirmed delivered in the year.
    pub confirmed: Decimal,
    /// The figures of the row that rest on synthetic data.
    pub synthetic_figures: Vec<&'static str>,
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
    /// Who shares the baseline.
    pub basis: Basis,
    /// What counts.
    pub aid: Aid,
    /// The formula, in words.
    pub formula: String,
    /// Its source.
    pub source: &'static str,
    /// One row per participant, largest gap first.
    pub rows: Vec<BurdenRow>,
    /// Guarantors outside the basis, by code.
    pub others: Vec<OtherRow>,
    /// Guarantors left out for want of a GDP figure (also in `others`).
    pub without_gdp: Vec<String>,
}

/// NATO's pledge, as quoted in the data set's research notes.
pub const NATO_SOURCE: &str = "NATO Pledge of Long-Term Security Assistance for Ukraine, Washington Summit, 10-11 July 2024 (text quoted at https://en.interfax.com.ua/news/general/999593.html): \"a minimum baseline funding of EUR 40 billion within the next year\"; allies contribute in proportion to their share of Alliance GDP";

#[derive(Default, Clone, Copy)]
struct InYear {
    allocated: Decimal,
    outside: Decimal,
    confirmed: Decimal,
    surge: Decimal,
    synthetic_allocated: bool,
    synthetic_confirmed: bool,
}

/// The burden-sharing report for `year`, with `baseline` already in the reporting currency.
pub fn burden(
    compact: &Compact,
    figures: &[Figures],
    outside: &[Outside],
    year: i16,
    baseline: Decimal,
    basis: Basis,
    aid: Aid,
) -> Result<BurdenReport, EngineError> {
    let end = Date::new(year, 12, 31).map_err(|_| EngineError::NoGdpVintage(year))?;
    let counts = |cat: Option<&str>| match aid {
        Aid::Military => cat == Some("military"),
        Aid::All => true,
    };
    let mut in_year: BTreeMap<&str, InYear> = BTreeMap::new();
    for f in figures.iter().filter(|f| f.measure == Measure::Money) {
        if !counts(category(compact, &f.pillar)) {
            continue;
        }
        if let Some(y) = f.years.get(&year) {
            let e = in_year.entry(f.guarantor.as_str()).or_default();
            e.allocated = e.allocated.saturating_add(cents(y.allocated));
            e.confirmed = e.confirmed.saturating_add(cents(y.confirmed));
            e.surge = e.surge.saturating_add(cents(y.surge));
            e.synthetic_allocated |= f.marks.allocated && !y.allocated.is_zero();
            e.synthetic_confirmed |= f.marks.confirmed && !y.confirmed.is_zero();
        }
    }
    for o in outside.iter().filter(|o| o.year == year) {
        if !counts(Some(o.category)) {
            continue;
        }
        let e = in_year.entry(o.party.as_str()).or_default();
        e.outside = e.outside.saturating_add(cents(o.amount));
        e.allocated = e.allocated.saturating_add(cents(o.amount));
    }
    let marks = |e: &InYear, gdp: bool| -> Vec<&'static str> {
        [
            ("gdp", gdp),
            ("allocated", e.synthetic_allocated),
            ("confirmed", e.synthetic_confirmed),
        ]
        .into_iter()
        .filter_map(|(n, m)| m.then_some(n))
        .collect()
    };
    let guarantors: Vec<&compact_model::Party> = compact
        .parties
        .values()
        .filter(|p| p.group.is_some())
        .collect();
    let mut others = Vec::new();
    let mut members = Vec::new();
    for p in guarantors {
        let e = in_year.get(p.code.as_str()).copied().unwrap_or_default();
        let reason = if basis == Basis::NatoAllies && !p.nato_ally_on(end) {
            Some("not a NATO ally")
        } else if p.gdp.is_empty() {
            Some("no GDP figure")
        } else {
            None
        };
        match reason {
            Some(reason) => others.push(OtherRow {
                party: p.code.clone(),
                reason,
                allocated: e.allocated,
                confirmed: e.confirmed,
                synthetic_figures: marks(&e, false),
            }),
            None => members.push(p),
        }
    }
    // The latest vintage, not after `year`, that every participant has.
    let gdp_year = members
        .iter()
        .filter_map(|p| p.gdp.keys().copied().filter(|y| *y <= year).max())
        .min()
        .filter(|y| members.iter().all(|p| p.gdp.contains_key(y)))
        .ok_or(EngineError::NoGdpVintage(year))?;
    let on = Date::new(gdp_year, 12, 31).map_err(|_| EngineError::NoGdpVintage(year))?;
    let mut gdp: BTreeMap<&str, (Decimal, bool)> = BTreeMap::new();
    for p in &members {
        let Some(g) = p.gdp.get(&gdp_year) else {
            continue;
        };
        let v =
            convert(compact, g.value, &g.currency, on).map_err(|source| EngineError::Value {
                commitment: format!("GDP of {}", p.code),
                source,
            })?;
        gdp.insert(p.code.as_str(), (v.value, g.synthetic || v.synthetic));
    }
    let total_gdp = gdp
        .values()
        .fold(Decimal::ZERO, |a, b| a.saturating_add(b.0));
    let mut rows: Vec<BurdenRow> = gdp
        .iter()
        .map(|(party, (g, synthetic_gdp))| {
            let share = if total_gdp.is_zero() {
                Decimal::ZERO
            } else {
                g / total_gdp
            };
            let fair = cents(baseline * share);
            let e = in_year.get(party).copied().unwrap_or_default();
            BurdenRow {
                party: (*party).to_owned(),
                gdp_share: share.round_dp(6),
                fair_share: fair,
                allocated: e.allocated,
                outside: e.outside,
                confirmed: e.confirmed,
                pct_gdp: if g.is_zero() {
                    Decimal::ZERO
                } else {
                    (e.allocated / g)
                        .saturating_mul(Decimal::ONE_HUNDRED)
                        .round_dp(4)
                },
                gap: fair - e.allocated,
                surge: e.surge,
                rank: 0,
                synthetic_figures: marks(&e, *synthetic_gdp),
            }
        })
        .collect();
    rows.sort_by(|a, b| b.gap.cmp(&a.gap).then_with(|| a.party.cmp(&b.party)));
    for (i, r) in rows.iter_mut().enumerate() {
        r.rank = i + 1;
    }
    let who = match basis {
        Basis::NatoAllies => "the NATO allies among the guarantors",
        Basis::AllGuarantors => "every guarantor (not NATO's basis)",
    };
    let what = match aid {
        Aid::Military => "military aid",
        Aid::All => "all aid: military, financial, humanitarian (not NATO's measure)",
    };
    Ok(BurdenReport {
        year,
        gdp_year,
        baseline: cents(baseline),
        currency: compact.currency.clone(),
        basis,
        aid,
        formula: format!(
            "fair share = baseline x GDP / total GDP of {who} ({gdp_year} GDP); contributions: {what} allocated in {year}; gap = fair share - allocated"
        ),
        source: NATO_SOURCE,
        rows,
        without_gdp: others
            .iter()
            .filter(|o| o.reason == "no GDP figure")
            .map(|o| o.party.clone())
            .collect(),
        others,
    })
}
