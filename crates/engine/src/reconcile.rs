//! Reconciliation with an independent tracker: the Kiel Institute's Ukraine Support Tracker
//! counts allocations per donor, month and category (military, financial, humanitarian) from
//! public sources; the log holds what the parties signed. Set side by side per guarantor, year
//! and category, the differences show where the signed record and the independent one part.

use std::collections::BTreeMap;

use compact_model::Compact;
use jiff::civil::Date;
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
pub const CATEGORIES: [&str; 3] = compact_model::model::TRACKER_CATEGORIES;

/// The tracker's category of a pillar, as the compact file declares it (`tracker_category`,
/// with its source); `None` when the pillar declares none (sanctions: the tracker counts
/// transfers to Ukraine, not sanctions) or is unknown.
pub fn category(compact: &Compact, pillar: &str) -> Option<&'static str> {
    let declared = compact
        .pillars
        .iter()
        .find(|p| p.id == pillar)?
        .tracker_category
        .as_deref()?;
    CATEGORIES.iter().copied().find(|c| *c == declared)
}

/// A tracker's yearly figures as the data set carries them (`tracker/kiel-release29.toml`):
/// per party and calendar year, allocations by category in EUR bn, and the last month the
/// release covers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tracker {
    /// Where the figures come from.
    pub source: String,
    /// The last day the release covers (the end of its `period` month).
    pub period_end: Date,
    /// The figures, in the reporting currency (EUR), rounded to cents.
    pub figures: Vec<TrackerFigure>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct TrackerFile {
    source: String,
    #[allow(dead_code)]
    release: u32,
    period: String,
    currency: String,
    scale: String,
    years: Vec<TrackerYearFile>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct TrackerYearFile {
    party: String,
    year: i16,
    military: Decimal,
    financial: Decimal,
    humanitarian: Decimal,
    #[allow(dead_code)]
    total: Decimal,
    #[allow(dead_code)]
    commitments: Decimal,
}

impl Tracker {
    /// Parses the data set's tracker file. Amounts are `scale` x the figure, in `currency`
    /// (only EUR, the tracker's own, is accepted).
    pub fn parse(name: &str, text: &str) -> Result<Tracker, String> {
        let f: TrackerFile = toml::from_str(text).map_err(|e| format!("{name}: {e}"))?;
        if f.currency != "EUR" {
            return Err(format!(
                "{name}: currency `{}`: the tracker counts in EUR",
                f.currency
            ));
        }
        let scale: Decimal = f
            .scale
            .parse()
            .or_else(|_| Decimal::from_scientific(&f.scale))
            .map_err(|_| format!("{name}: scale `{}` is not a number", f.scale))?;
        let (month, year) = f
            .period
            .split_once('/')
            .and_then(|(m, y)| Some((m.parse::<i8>().ok()?, y.parse::<i16>().ok()?)))
            .ok_or_else(|| format!("{name}: period `{}`: expected MM/YYYY", f.period))?;
        let period_end = Date::new(year, month, 1)
            .map(|d| d.last_of_month())
            .map_err(|e| format!("{name}: period `{}`: {e}", f.period))?;
        let mut figures = Vec::new();
        for y in &f.years {
            for (category, v) in [
                ("military", y.military),
                ("financial", y.financial),
                ("humanitarian", y.humanitarian),
            ] {
                let allocated = crate::cents(v.saturating_mul(scale));
                if allocated.is_zero() {
                    continue;
                }
                figures.push(TrackerFigure {
                    party: y.party.clone(),
                    year: y.year,
                    category,
                    allocated,
                });
            }
        }
        Ok(Tracker {
            source: f.source,
            period_end,
            figures,
        })
    }
}

/// The day a tracker year's allocations count from: the middle of what the release covers of
/// that year (2 July for a whole year; for the release's last, partial year, the middle of
/// January to its last month). The demo books the year's allocations on that day.
pub fn booking_date(year: i16, period_end: Date) -> Option<Date> {
    let start = Date::new(year, 1, 1).ok()?;
    let end = if period_end.year() == year {
        period_end
    } else {
        Date::new(year, 12, 31).ok()?
    };
    let days = start.until(end).ok()?.get_days();
    start.checked_add(jiff::Span::new().days(days / 2 + 1)).ok()
}

/// What the tracker counts and no commitment in the log holds, per party, year and category:
/// the tracker's allocations minus the log's allocations of the same party, year and
/// category, never below zero; for the tracker years whose booking date (see
/// [`booking_date`]) is on or before `as_of`, from the year the compact's first agreement was
/// signed (aid from before any agreement is outside none). Parties of the compact only;
/// guarantors without an agreement have all their tracker allocations here.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Outside {
    /// Party code.
    pub party: String,
    /// Year.
    pub year: i16,
    /// Category.
    pub category: &'static str,
    /// Allocated outside the agreements, in the reporting currency.
    pub amount: Decimal,
}

/// The tracker's allocations that no commitment in the log holds (see [`Outside`]).
pub fn outside(
    compact: &Compact,
    figures: &[Figures],
    tracker: &Tracker,
    as_of: Date,
) -> Vec<Outside> {
    let mut logged: BTreeMap<(&str, i16, &'static str), Decimal> = BTreeMap::new();
    for f in figures.iter().filter(|f| f.measure == Measure::Money) {
        let Some(cat) = category(compact, &f.pillar) else {
            continue;
        };
        for (year, y) in &f.years {
            let e = logged
                .entry((f.guarantor.as_str(), *year, cat))
                .or_default();
            *e = e.saturating_add(crate::cents(y.allocated));
        }
    }
    // Aid from before the first agreement was signed is outside no agreement: not counted.
    let first = compact.agreements.iter().map(|a| a.signed_on.year()).min();
    let mut out: BTreeMap<(String, i16, &'static str), Decimal> = BTreeMap::new();
    for t in &tracker.figures {
        if !compact.parties.contains_key(&t.party)
            || t.party == compact.beneficiary
            || first.is_none_or(|y| t.year < y)
        {
            continue;
        }
        if booking_date(t.year, tracker.period_end).is_none_or(|d| d > as_of) {
            continue;
        }
        let e = out
            .entry((t.party.clone(), t.year, t.category))
            .or_default();
        *e = e.saturating_add(t.allocated);
    }
    out.into_iter()
        .filter_map(|((party, year, category), t)| {
            let inside = logged
                .get(&(party.as_str(), year, category))
                .copied()
                .unwrap_or_default();
            let amount = (t - inside).max(Decimal::ZERO);
            (!amount.is_zero()).then_some(Outside {
                party,
                year,
                category,
                amount,
            })
        })
        .collect()
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
    /// The tracker's allocations that no commitment of the category could hold (beyond what
    /// the agreements schedule for the year, or no commitment at all: see
    /// [`crate::booking`]): outside the agreements, a structural difference, not a gap.
    pub outside: Decimal,
    /// Log allocations plus what is outside the agreements, minus the tracker's: what the
    /// agreements could hold and the log does not (negative), or holds beyond the tracker.
    pub difference: Decimal,
    /// A known structural difference between the two counts that explains the line, when
    /// there is one (the difference is then not a gap).
    pub explained: Option<&'static str>,
}

/// Known structural differences between the log and the tracker: party, category, why.
pub const STRUCTURAL: [(&str, &str, &str); 1] = [(
    "EU",
    "military",
    "the tracker credits the European Peace Facility's money to the member states that fund it, not to the EU; the EU's EPF line in the log has no counterpart in the tracker's EU row",
)];

/// Side by side, per party, year and category, for the parties of the compact; tracker
/// figures of other donors are left out. `outside` is the tracker's money no commitment could
/// hold (the booking rule's [`crate::booking::Booking::outside`]).
pub fn reconcile(
    compact: &Compact,
    figures: &[Figures],
    tracker: &[TrackerFigure],
    outside: &[Outside],
) -> Vec<Line> {
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
                outside: Decimal::ZERO,
                difference: Decimal::ZERO,
                explained: None,
            })
    }
    for t in tracker
        .iter()
        .filter(|t| compact.parties.contains_key(&t.party))
    {
        let l = line(&mut lines, &t.party, t.year, t.category);
        l.tracker = l.tracker.saturating_add(t.allocated);
    }
    for o in outside
        .iter()
        .filter(|o| compact.parties.contains_key(&o.party))
    {
        let l = line(&mut lines, &o.party, o.year, o.category);
        l.outside = l.outside.saturating_add(o.amount);
    }
    for f in figures.iter().filter(|f| f.measure == Measure::Money) {
        let Some(cat) = category(compact, &f.pillar) else {
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
            l.outside = crate::cents(l.outside);
            l.difference = l.log_allocated + l.outside - l.tracker;
            l.explained = STRUCTURAL
                .iter()
                .find(|(p, c, _)| *p == l.party && *c == l.category)
                .map(|(_, _, why)| *why);
            l
        })
        .collect()
}
