//! The summary `compact check` prints on success: who is in, what is committed, and what money
//! is scheduled each year in the reporting currency, sourced and synthetic apart.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::Serialize;

use crate::amount::Amount;
use crate::model::Compact;
use crate::value::{ValueError, value};

/// The summary of a valid compact.
#[derive(Clone, Debug, Serialize)]
pub struct Summary {
    /// The compact's id.
    pub compact: String,
    /// The reporting currency.
    pub currency: String,
    /// The beneficiary.
    pub beneficiary: String,
    /// Party codes by group id, in the compact's group order.
    pub groups: Vec<GroupSummary>,
    /// Guarantors with no agreement.
    pub without_agreement: Vec<String>,
    /// Number of agreement versions.
    pub agreements: usize,
    /// Number of agreement versions marked synthetic.
    pub agreements_synthetic: usize,
    /// Commitments by pillar, in the compact's pillar order.
    pub pillars: Vec<PillarSummary>,
    /// Money scheduled per year, in the reporting currency.
    pub years: Vec<YearSummary>,
    /// Physical units scheduled per year and unit.
    pub units: Vec<UnitSummary>,
    /// Tranches that could not be valued, with the reason.
    pub unvalued: Vec<String>,
}

/// One group.
#[derive(Clone, Debug, Serialize)]
pub struct GroupSummary {
    /// Group id.
    pub id: String,
    /// Group name.
    pub name: String,
    /// Member codes.
    pub parties: Vec<String>,
}

/// Commitments of one pillar.
#[derive(Clone, Debug, Serialize)]
pub struct PillarSummary {
    /// Pillar id.
    pub pillar: String,
    /// Number of commitments.
    pub commitments: usize,
    /// Of which synthetic.
    pub synthetic: usize,
}

/// Money scheduled in one year.
#[derive(Clone, Debug, Serialize)]
pub struct YearSummary {
    /// The year.
    pub year: i16,
    /// From sourced commitments with sourced inputs, rounded to cents.
    pub sourced: Decimal,
    /// From synthetic commitments or with synthetic inputs, rounded to cents.
    pub synthetic: Decimal,
    /// The two together.
    pub total: Decimal,
}

/// Units scheduled in one year.
#[derive(Clone, Debug, Serialize)]
pub struct UnitSummary {
    /// The year.
    pub year: i16,
    /// The unit.
    pub unit: String,
    /// How many.
    pub quantity: Decimal,
}

/// Money rounded half to even and shown with exactly two decimals.
pub fn cents(d: Decimal) -> Decimal {
    let mut r = d.round_dp(2);
    r.rescale(2);
    r
}

/// Builds the summary. Tranches that cannot be valued are listed, not guessed.
pub fn summarize(compact: &Compact) -> Summary {
    let groups = compact
        .groups
        .iter()
        .map(|g| GroupSummary {
            id: g.id.clone(),
            name: g.name.clone(),
            parties: compact
                .parties
                .values()
                .filter(|p| p.group.as_deref() == Some(&g.id))
                .map(|p| p.code.clone())
                .collect(),
        })
        .collect();
    let without_agreement = compact
        .parties
        .values()
        .filter(|p| p.group.is_some())
        .filter(|p| !compact.agreements.iter().any(|a| a.guarantor == p.code))
        .map(|p| p.code.clone())
        .collect();
    let mut pillars: Vec<PillarSummary> = compact
        .pillars
        .iter()
        .map(|p| PillarSummary {
            pillar: p.id.clone(),
            commitments: 0,
            synthetic: 0,
        })
        .collect();
    let mut years: BTreeMap<i16, (Decimal, Decimal)> = BTreeMap::new();
    let mut units: BTreeMap<(i16, String), Decimal> = BTreeMap::new();
    let mut unvalued = Vec::new();
    // Only the latest version of each agreement schedules money.
    for a in compact.latest_agreements() {
        for c in &a.commitments {
            let synthetic = a.synthetic || c.synthetic;
            if let Some(p) = pillars.iter_mut().find(|p| p.pillar == c.pillar) {
                p.commitments += 1;
                p.synthetic += usize::from(synthetic);
            }
            for t in c.schedule.tranches() {
                let year = t.due.year();
                if let Amount::Units { quantity, unit } = &t.amount {
                    let u = units.entry((year, unit.clone())).or_default();
                    *u = u.saturating_add(*quantity);
                    continue;
                }
                match value(compact, &a.guarantor, &t.amount, t.due) {
                    Ok(v) => {
                        let e = years.entry(year).or_default();
                        if synthetic || v.synthetic {
                            e.1 = e.1.saturating_add(v.value);
                        } else {
                            e.0 = e.0.saturating_add(v.value);
                        }
                    }
                    Err(e @ (ValueError::MissingRate { .. } | ValueError::MissingGdp { .. })) => {
                        unvalued.push(format!("{} (due {}): {e}", c.id, t.due));
                    }
                    Err(e) => unvalued.push(format!("{}: {e}", c.id)),
                }
            }
        }
    }
    Summary {
        compact: compact.id.clone(),
        currency: compact.currency.clone(),
        beneficiary: compact.beneficiary.clone(),
        groups,
        without_agreement,
        agreements: compact.agreements.len(),
        agreements_synthetic: compact.agreements.iter().filter(|a| a.synthetic).count(),
        pillars,
        years: years
            .into_iter()
            .map(|(year, (s, y))| YearSummary {
                year,
                sourced: cents(s),
                synthetic: cents(y),
                total: cents(s.saturating_add(y)),
            })
            .collect(),
        units: units
            .into_iter()
            .map(|((year, unit), quantity)| UnitSummary {
                year,
                unit,
                quantity,
            })
            .collect(),
        unvalued,
    }
}
