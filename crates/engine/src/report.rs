//! The status report: commitment figures grouped by guarantor, pillar, year, group or
//! commitment, money in the reporting currency, units apart.
//!
//! Each commitment's figures are rounded to cents before they are summed, so that the rows
//! add up to the total exactly, whatever the grouping.

use std::collections::BTreeMap;
use std::str::FromStr;

use compact_model::Compact;
use rust_decimal::Decimal;
use serde::Serialize;

use crate::reconcile::Outside;
use crate::{Figures, Marks, Measure, YearFigures};

/// What the rows are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum By {
    /// One row per guarantor.
    Guarantor,
    /// One row per pillar.
    Pillar,
    /// One row per year.
    Year,
    /// One row per group of guarantors.
    Group,
    /// One row per commitment.
    Commitment,
}

impl FromStr for By {
    type Err = String;
    fn from_str(s: &str) -> Result<By, String> {
        Ok(match s {
            "guarantor" => By::Guarantor,
            "pillar" => By::Pillar,
            "year" => By::Year,
            "group" => By::Group,
            "commitment" => By::Commitment,
            other => {
                return Err(format!(
                    "unknown --by `{other}`: expected guarantor, pillar, year, group or commitment"
                ));
            }
        })
    }
}

/// One row of money figures.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Row {
    /// The guarantor, pillar, year, group or commitment.
    pub key: String,
    /// Due on or before the date (the baseline schedule).
    pub due: Decimal,
    /// Due on or before the date because of an activation, apart from the baseline.
    pub surge: Decimal,
    /// Allocated.
    pub allocated: Decimal,
    /// Allocated outside the agreements: what the independent tracker counts and no
    /// commitment in the log holds (see [`crate::reconcile::outside`]); sourced from the
    /// tracker. Not in `due`, and not in the arrears.
    pub outside: Decimal,
    /// Reported delivered.
    pub reported: Decimal,
    /// Confirmed delivered.
    pub confirmed: Decimal,
    /// Due and not confirmed.
    pub arrears: Decimal,
    /// Share of the confirmed that arrived on time, to 4 decimals; `null` when nothing is
    /// confirmed.
    pub on_time_rate: Option<Decimal>,
    /// True when any figure of the row rests on synthetic data.
    pub synthetic: bool,
    /// The figures of the row that rest on synthetic data (`due`, `surge`, `allocated`,
    /// `reported`, `confirmed`, `arrears`, `on_time_rate`).
    pub synthetic_figures: Vec<&'static str>,
    /// A known structural difference with the tracker that the row's figures rest on (see
    /// [`crate::reconcile::STRUCTURAL`]): its allocations and arrears are then a counting
    /// artefact, not a measured shortfall.
    pub note: Option<&'static str>,
    #[serde(skip)]
    on_time: Decimal,
    #[serde(skip)]
    marks: Marks,
}

impl Row {
    fn add(&mut self, y: &YearFigures) {
        let c = |d: Decimal| d.round_dp(2);
        self.due = self.due.saturating_add(c(y.due));
        self.surge = self.surge.saturating_add(c(y.surge));
        self.allocated = self.allocated.saturating_add(c(y.allocated));
        self.reported = self.reported.saturating_add(c(y.reported));
        self.confirmed = self.confirmed.saturating_add(c(y.confirmed));
        self.arrears = self.arrears.saturating_add(c(y.arrears));
        self.on_time = self.on_time.saturating_add(c(y.on_time));
    }

    /// Which figures of the row rest on synthetic data.
    pub fn marks(&self) -> Marks {
        self.marks
    }

    fn finish(mut self) -> Row {
        self.synthetic = self.marks.any();
        self.synthetic_figures = self.marks.names();
        for v in [
            &mut self.due,
            &mut self.surge,
            &mut self.allocated,
            &mut self.outside,
            &mut self.reported,
            &mut self.confirmed,
            &mut self.arrears,
        ] {
            v.rescale(2);
        }
        self.on_time_rate =
            (!self.confirmed.is_zero()).then(|| (self.on_time / self.confirmed).round_dp(4));
        self
    }
}

/// The status report.
#[derive(Clone, Debug, Serialize)]
pub struct StatusReport {
    /// The date of the figures.
    pub as_of: String,
    /// The reporting currency.
    pub currency: String,
    /// How many log entries the figures are from.
    pub log_size: u64,
    /// Money rows.
    pub rows: Vec<Row>,
    /// Their total.
    pub total: Row,
    /// Units, per row key and unit, never added to money.
    pub units: Vec<UnitRow>,
    /// True when any figure rests on synthetic data.
    pub synthetic: bool,
    /// The commitments that ended on the beneficiary's accession, and when.
    pub ended_on_accession: Vec<EndedRow>,
}

/// A commitment that ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct EndedRow {
    /// The commitment.
    pub commitment: String,
    /// Its guarantor.
    pub guarantor: String,
    /// The day it ended.
    pub on: String,
}

/// Units figures of one row key and unit.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct UnitRow {
    /// The row key.
    pub key: String,
    /// The unit.
    pub unit: String,
    /// Due.
    pub due: Decimal,
    /// Due because of an activation.
    pub surge: Decimal,
    /// Confirmed delivered.
    pub confirmed: Decimal,
    /// Due and not confirmed.
    pub arrears: Decimal,
    /// True when any figure of the row rests on synthetic data.
    pub synthetic: bool,
    /// The figures of the row that rest on synthetic data.
    pub synthetic_figures: Vec<&'static str>,
    #[serde(skip)]
    marks: Marks,
}

/// A commitment's marks as they bear on one year's figures: a figure that is zero in the year
/// rests on nothing.
fn year_marks(m: Marks, y: &YearFigures) -> Marks {
    let nz = |d: Decimal| !d.is_zero();
    Marks {
        due: m.due && nz(y.due),
        surge: m.surge && nz(y.surge),
        allocated: m.allocated && nz(y.allocated),
        reported: m.reported && nz(y.reported),
        confirmed: m.confirmed && nz(y.confirmed),
        arrears: m.arrears && nz(y.arrears),
        on_time: m.on_time && nz(y.confirmed),
    }
}

fn keys(compact: &Compact, f: &Figures, by: By, year: i16) -> String {
    match by {
        By::Guarantor => f.guarantor.clone(),
        By::Pillar => f.pillar.clone(),
        By::Year => year.to_string(),
        By::Group => group_key(compact, &f.guarantor),
        By::Commitment => f.commitment.clone(),
    }
}

fn group_key(compact: &Compact, party: &str) -> String {
    compact
        .group_of(party)
        .map_or_else(|| "-".to_owned(), |g| g.id.clone())
}

/// The row of money outside the agreements: the guarantor's own row, its year's or group's;
/// by pillar `outside:<category>`, by commitment `outside:<guarantor>`.
fn outside_key(compact: &Compact, o: &Outside, by: By) -> String {
    match by {
        By::Guarantor => o.party.clone(),
        By::Pillar => format!("{OUTSIDE}:{}", o.category),
        By::Year => o.year.to_string(),
        By::Group => group_key(compact, &o.party),
        By::Commitment => format!("{OUTSIDE}:{}", o.party),
    }
}

/// The known structural difference with the tracker behind a commitment's figures, if any.
fn structural(compact: &Compact, f: &Figures) -> Option<&'static str> {
    let cat = crate::reconcile::category(compact, &f.pillar)?;
    crate::reconcile::STRUCTURAL
        .iter()
        .find(|(p, c, _)| *p == f.guarantor && *c == cat)
        .map(|(_, _, why)| *why)
}

/// The prefix of the rows of money outside the agreements.
pub const OUTSIDE: &str = "outside";

/// Groups figures into rows, with the money outside the agreements (`outside`, from an
/// independent tracker; empty when there is none).
pub fn status(
    compact: &Compact,
    figures: &[Figures],
    outside: &[Outside],
    by: By,
    as_of: &str,
    log_size: u64,
) -> StatusReport {
    let mut rows: BTreeMap<String, Row> = BTreeMap::new();
    let mut units: BTreeMap<(String, String), UnitRow> = BTreeMap::new();
    for o in outside {
        let key = outside_key(compact, o, by);
        let r = rows.entry(key.clone()).or_insert_with(|| Row {
            key,
            ..Row::default()
        });
        r.outside = r.outside.saturating_add(o.amount.round_dp(2));
    }
    for f in figures {
        for (year, y) in &f.years {
            let key = keys(compact, f, by, *year);
            match &f.measure {
                Measure::Money => {
                    let r = rows.entry(key.clone()).or_insert_with(|| Row {
                        key,
                        ..Row::default()
                    });
                    r.add(y);
                    r.marks = r.marks.or(year_marks(f.marks, y));
                    if r.note.is_none() && !y.due.is_zero() {
                        r.note = structural(compact, f);
                    }
                }
                Measure::Units(unit) => {
                    let u = units
                        .entry((key.clone(), unit.clone()))
                        .or_insert_with(|| UnitRow {
                            key,
                            unit: unit.clone(),
                            due: Decimal::ZERO,
                            surge: Decimal::ZERO,
                            confirmed: Decimal::ZERO,
                            arrears: Decimal::ZERO,
                            synthetic: false,
                            synthetic_figures: Vec::new(),
                            marks: Marks::default(),
                        });
                    u.due = u.due.saturating_add(y.due);
                    u.surge = u.surge.saturating_add(y.surge);
                    u.confirmed = u.confirmed.saturating_add(y.confirmed);
                    u.arrears = u.arrears.saturating_add(y.arrears);
                    u.marks = u.marks.or(year_marks(f.marks, y));
                }
            }
        }
    }
    let mut total = Row {
        key: "total".into(),
        ..Row::default()
    };
    for r in rows.values() {
        total.marks = total.marks.or(r.marks);
        total.outside = total.outside.saturating_add(r.outside);
        total.add(&YearFigures {
            due: r.due,
            surge: r.surge,
            pledged: Decimal::ZERO,
            allocated: r.allocated,
            reported: r.reported,
            confirmed: r.confirmed,
            arrears: r.arrears,
            on_time: r.on_time,
        });
    }
    StatusReport {
        as_of: as_of.to_owned(),
        currency: compact.currency.clone(),
        log_size,
        rows: rows.into_values().map(Row::finish).collect(),
        total: total.finish(),
        units: units
            .into_values()
            .map(|mut u| {
                u.synthetic_figures = u.marks.names();
                u.synthetic = u.marks.any();
                u
            })
            .collect(),
        synthetic: figures.iter().any(|f| f.synthetic),
        ended_on_accession: figures
            .iter()
            .filter_map(|f| {
                let e = f.ended.as_ref().filter(|e| e.reason == "accession")?;
                Some(EndedRow {
                    commitment: f.commitment.clone(),
                    guarantor: f.guarantor.clone(),
                    on: e.on.to_string(),
                })
            })
            .collect(),
    }
}
