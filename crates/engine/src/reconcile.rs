//! Reconciliation with an independent tracker: the Kiel Institute's Ukraine Support Tracker
//! counts allocations per donor, month and category (military, financial, humanitarian) from
//! public sources; the log holds what the parties signed. Set side by side per guarantor, year
//! and category, the differences show where the signed record and the independent one part.

use std::collections::BTreeMap;

use compact_model::Compact;
use rust_decimal::Decimal;
use serde::Serialize;

use crate::{Figures, Measure};

/// ISO 3166-1 alpha-3 to alpha-2 for the tracker's donors (and the EU, which it writes `EU`).
pub const ALPHA3: [(&str, &str); 44] = [
    ("ALB", "AL"),
    ("AUS", "AU"),
    ("AUT", "AT"),
    ("BEL", "BE"),
    ("BGR", "BG"),
    ("CAN", "CA"),
    ("CHE", "CH"),
    ("CHN", "CN"),
    ("CYP", "CY"),
    ("CZE", "CZ"),
    ("DEU", "DE"),
    ("DNK", "DK"),
    ("ESP", "ES"),
    ("EST", "EE"),
    ("EU", "EU"),
    ("FIN", "FI"),
    ("FRA", "FR"),
    ("GBR", "GB"),
    ("GRC", "GR"),
    ("HRV", "HR"),
    ("HUN", "HU"),
    ("IND", "IN"),
    ("IRL", "IE"),
    ("ISL", "IS"),
    ("ITA", "IT"),
    ("JPN", "JP"),
    ("KOR", "KR"),
    ("LTU", "LT"),
    ("LUX", "LU"),
    ("LVA", "LV"),
    ("MLT", "MT"),
    ("NLD", "NL"),
    ("NOR", "NO"),
    ("NZL", "NZ"),
    ("POL", "PL"),
    ("PRT", "PT"),
    ("ROU", "RO"),
    ("SVK", "SK"),
    ("SVN", "SI"),
    ("SWE", "SE"),
    ("TUR", "TR"),
    ("TWN", "TW"),
    ("UKR", "UA"),
    ("USA", "US"),
];

/// The alpha-2 code of a tracker's alpha-3 donor code.
pub fn alpha2(alpha3: &str) -> Option<&'static str> {
    ALPHA3
        .iter()
        .find(|(a3, _)| *a3 == alpha3)
        .map(|(_, a2)| *a2)
}

/// The tracker's categories.
pub const CATEGORIES: [&str; 3] = ["military", "financial", "humanitarian"];

/// The tracker's category of a pillar: financial and humanitarian are their own, sanctions
/// have none, everything else is military.
pub fn category(pillar: &str) -> Option<&'static str> {
    match pillar {
        "financial" => Some("financial"),
        "humanitarian" => Some("humanitarian"),
        "sanctions" => None,
        _ => Some("military"),
    }
}

/// One tracker figure: a party, a year, a category, allocations in the reporting currency.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrackerFigure {
    /// Party code (alpha-2).
    pub party: String,
    /// Year.
    pub year: i16,
    /// `military`, `financial` or `humanitarian`.
    pub category: &'static str,
    /// Allocations, in the reporting currency.
    pub allocated: Decimal,
}

/// One line of the comparison.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Line {
    /// Party code.
    pub party: String,
    /// Year.
    pub year: i16,
    /// Category.
    pub category: String,
    /// The tracker's allocations.
    pub tracker: Decimal,
    /// Allocations in the log.
    pub log_allocated: Decimal,
    /// Confirmed deliveries in the log.
    pub log_confirmed: Decimal,
    /// Log allocations minus the tracker's.
    pub difference: Decimal,
}

/// Side by side, per party, year and category, for the parties of the compact; tracker
/// figures of other donors are left out.
pub fn reconcile(compact: &Compact, figures: &[Figures], tracker: &[TrackerFigure]) -> Vec<Line> {
    let mut lines: BTreeMap<(String, i16, &'static str), Line> = BTreeMap::new();
    fn line<'a>(
        lines: &'a mut BTreeMap<(String, i16, &'static str), Line>,
        party: &str,
        year: i16,
        category: &'static str,
    ) -> &'a mut Line {
        lines
            .entry((party.to_owned(), year, category))
            .or_insert_with(|| Line {
                party: party.to_owned(),
                year,
                category: category.to_owned(),
                tracker: Decimal::ZERO,
                log_allocated: Decimal::ZERO,
                log_confirmed: Decimal::ZERO,
                difference: Decimal::ZERO,
            })
    }
    for t in tracker
        .iter()
        .filter(|t| compact.parties.contains_key(&t.party))
    {
        let l = line(&mut lines, &t.party, t.year, t.category);
        l.tracker = l.tracker.saturating_add(t.allocated);
    }
    for f in figures.iter().filter(|f| f.measure == Measure::Money) {
        let Some(cat) = category(&f.pillar) else {
            continue;
        };
        for (year, y) in &f.years {
            if y.allocated.is_zero() && y.confirmed.is_zero() {
                continue;
            }
            let l = line(&mut lines, &f.guarantor, *year, cat);
            l.log_allocated = l.log_allocated.saturating_add(y.allocated);
            l.log_confirmed = l.log_confirmed.saturating_add(y.confirmed);
        }
    }
    lines
        .into_values()
        .map(|mut l| {
            l.tracker = crate::cents(l.tracker);
            l.log_allocated = crate::cents(l.log_allocated);
            l.log_confirmed = crate::cents(l.log_confirmed);
            l.difference = l.log_allocated - l.tracker;
            l
        })
        .collect()
}
