//! Version 1 of the API types: what `--format json` prints and the HTTP server answers with.
//! Each serialises and deserialises with `serde`; fields are added, never renamed or removed,
//! within a version, and a reader ignores the fields it does not know.
//!
//! **Numbers.** One rule for every type here:
//!
//! - An *amount*, a figure counted in a currency or a unit (`due`, `allocated`, `fair_share`,
//!   a stress line's `before`, a unit row's `confirmed`), is an exact decimal **string**
//!   (`"2952918664.81"`, `"1000"`): money is `rust_decimal::Decimal`, never a float, and one
//!   field has one JSON type whichever measure its row counts in. The currency or unit is named
//!   beside it (`currency`, `unit`, `measure`).
//! - Everything else is a JSON **number**: counts, indices, log sizes, years, ranks, and the
//!   dimensionless figures: ratios and shares (`on_time_rate`, `gdp_share`, a surge's
//!   `factor`), percentages (`pct_gdp`) and probabilities (`p_meet`). These carry at most 15
//!   significant digits, so the number printed is the decimal computed (`0.9375`, not a
//!   binary approximation of it).
//! - Dates are `YYYY-MM-DD` strings and times RFC 3339 strings in UTC.
//!
//! **Marks.** Every row that shows a figure says which of its figures rest on synthetic data
//! (`synthetic_figures`, or `synthetic` for a row of one figure), and where figures come from a
//! source outside the log, the row or report names it (`source`).

use std::collections::BTreeMap;

use compact_engine::report;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

pub use compact_log::{ConsistencyProof, InclusionProof};

/// One agreement as it governs on a date (`compact agreements`): its latest version.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AgreementRow {
    /// The agreement's id.
    pub id: String,
    /// The version that governs (the latest).
    pub version: u32,
    /// The guarantor's party code.
    pub guarantor: String,
    /// The beneficiary's party code.
    pub beneficiary: String,
    /// Its lifecycle status on the date (`draft`, `signed-by-one`, `in-force`, …).
    pub status: String,
    /// The canonical digest of the terms that govern (the signed ones once both signed).
    pub digest: String,
    /// The working file's digest of that version, `None` when there is no working file.
    pub working_digest: Option<String>,
    /// Why the row needs attention: a working file that differs from the signed text, no
    /// working file, a notice of termination, a suspension; empty otherwise.
    pub note: String,
}

impl AgreementRow {
    /// The CSV and table header of [`AgreementRow::cells`].
    pub const COLUMNS: [&'static str; 7] = [
        "id",
        "version",
        "guarantor",
        "beneficiary",
        "status",
        "digest",
        "note",
    ];

    /// The row's cells in [`AgreementRow::COLUMNS`] order.
    pub fn cells(&self) -> Vec<String> {
        vec![
            self.id.clone(),
            self.version.to_string(),
            self.guarantor.clone(),
            self.beneficiary.clone(),
            self.status.clone(),
            self.digest.clone(),
            self.note.clone(),
        ]
    }
}

/// One entry of the log (`compact log entry`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct LogEntry {
    /// Its index in the log.
    pub index: u64,
    /// The leaf as stored (the signed statement with its receipt time), base64.
    pub leaf: String,
    /// The leaf as JSON, `null` if it is not JSON.
    pub statement: serde_json::Value,
}

/// What `compact verify` found.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct VerifyReport {
    /// Whether nothing is wrong.
    pub ok: bool,
    /// Entries read.
    pub entries: u64,
    /// The size the latest stored checkpoint claims.
    pub size: u64,
    /// Checkpoints checked (stored and given).
    pub checkpoints: usize,
    /// The recomputed root of all entries read, hex.
    pub root: Option<String>,
    /// Every problem found, in order.
    pub problems: Vec<VerifyProblem>,
}

/// A problem `compact verify` found.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct VerifyProblem {
    /// The entry concerned, if one.
    pub entry: Option<u64>,
    /// What is wrong.
    pub message: String,
}

impl From<compact_store::audit::Report> for VerifyReport {
    fn from(r: compact_store::audit::Report) -> Self {
        VerifyReport {
            ok: r.ok(),
            entries: r.entries,
            size: r.size,
            checkpoints: r.checkpoints,
            root: r.root,
            problems: r
                .problems
                .into_iter()
                .map(|p| VerifyProblem {
                    entry: p.entry,
                    message: p.message,
                })
                .collect(),
        }
    }
}

/// The status report (`compact status`): the engine's figures grouped into rows, with their
/// total. Money in the reporting currency, to the cent; units never added to money.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct StatusReport {
    /// The date of the figures, `YYYY-MM-DD`.
    pub as_of: String,
    /// The reporting currency.
    pub currency: String,
    /// How many log entries the figures are from: the log's size (or the size asked for).
    pub log_size: u64,
    /// How many of them the log received on or before `as_of` (UTC): the entries that can
    /// count on the date; those received later are in `log_size` but count for nothing yet.
    #[serde(default)]
    pub entries_as_of: u64,
    /// Money rows, by the key asked for (guarantor, pillar, year, group or commitment).
    pub rows: Vec<StatusRow>,
    /// Their total (key `total`).
    pub total: StatusRow,
    /// Units, per row key and unit.
    pub units: Vec<UnitRow>,
    /// True when any figure rests on synthetic data.
    pub synthetic: bool,
    /// The commitments that ended on the beneficiary's accession, and when.
    pub ended_on_accession: Vec<EndedRow>,
    /// The agreements suspended, under notice or terminated on `as_of`.
    #[serde(default)]
    pub lifecycle: Vec<LifecycleRow>,
}

/// An agreement suspended, under notice of termination, or terminated.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct LifecycleRow {
    /// The agreement.
    pub agreement: String,
    /// `suspended`, `notice-given` or `terminated`.
    pub state: String,
    /// The party that suspended it or gave notice.
    pub by: String,
    /// The log entry that did.
    pub entry: u64,
    /// For a termination: the first day nothing more falls due, `YYYY-MM-DD`.
    pub effective: Option<String>,
    /// For a termination: the notice period is assumed (the text states none): synthetic.
    pub notice_assumed: bool,
}

impl LifecycleRow {
    /// The row in one sentence, for a person.
    pub fn sentence(&self) -> String {
        match &self.effective {
            None => format!(
                "{}: suspended by {} (entry {}); what falls due is still owed",
                self.agreement, self.by, self.entry
            ),
            Some(on) => format!(
                "{}: terminated by {} (entry {}) with effect from {on}{}; nothing falls due from then",
                self.agreement,
                self.by,
                self.entry,
                if self.notice_assumed {
                    " (a notice period of 6 months assumed: the text states none)"
                } else {
                    ""
                }
            ),
        }
    }
}

/// One row of money figures of a [`StatusReport`].
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct StatusRow {
    /// The guarantor, pillar, year, group or commitment.
    pub key: String,
    /// Due on or before the date (the baseline schedule).
    pub due: Decimal,
    /// Due on or before the date because of an activation, apart from the baseline.
    pub surge: Decimal,
    /// Allocated.
    pub allocated: Decimal,
    /// Allocated outside the agreements: what the independent tracker counts and no
    /// commitment holds (sourced from the tracker; not in `due`, not in the arrears).
    pub outside: Decimal,
    /// Reported delivered.
    pub reported: Decimal,
    /// Confirmed delivered.
    pub confirmed: Decimal,
    /// Due and not confirmed.
    pub arrears: Decimal,
    /// Share of the confirmed that arrived on time: by the due date of the tranche it fills
    /// (deliveries fill the earliest tranches first), to 4 decimals; `null` when nothing is
    /// confirmed.
    #[serde(with = "number_opt")]
    #[schema(value_type = Option<f64>)]
    pub on_time_rate: Option<Decimal>,
    /// True when any figure of the row rests on synthetic data.
    pub synthetic: bool,
    /// The figures of the row that rest on synthetic data (`due`, `surge`, `allocated`,
    /// `reported`, `confirmed`, `arrears`, `on_time_rate`).
    pub synthetic_figures: Vec<String>,
    /// A known structural difference with the tracker that the row's figures rest on: its
    /// allocations and arrears are then a counting artefact, not a measured shortfall.
    pub note: Option<String>,
}

impl StatusRow {
    /// The CSV header of [`StatusRow::cells`] after the key's column.
    pub const COLUMNS: [&'static str; 10] = [
        "due",
        "surge",
        "allocated",
        "outside",
        "reported",
        "confirmed",
        "arrears",
        "on_time_rate",
        "synthetic",
        "note",
    ];

    /// The key and the row's figures as CSV cells, in [`StatusRow::COLUMNS`] order.
    pub fn cells(&self) -> Vec<String> {
        vec![
            self.key.clone(),
            self.due.to_string(),
            self.surge.to_string(),
            self.allocated.to_string(),
            self.outside.to_string(),
            self.reported.to_string(),
            self.confirmed.to_string(),
            self.arrears.to_string(),
            self.on_time_rate.map(|x| x.to_string()).unwrap_or_default(),
            self.synthetic_figures.join(";"),
            self.note.clone().unwrap_or_default(),
        ]
    }

    /// Whether `figure` (a name of [`StatusRow::synthetic_figures`]) rests on synthetic data.
    pub fn marked(&self, figure: &str) -> bool {
        self.synthetic_figures.iter().any(|f| f == figure)
    }
}

/// Units figures of one row key and unit.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
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
    pub synthetic_figures: Vec<String>,
}

/// A commitment that ended on the beneficiary's accession.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct EndedRow {
    /// The commitment.
    pub commitment: String,
    /// Its guarantor.
    pub guarantor: String,
    /// The day it ended, `YYYY-MM-DD`.
    pub on: String,
}

fn names(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| (*s).to_owned()).collect()
}

impl From<&report::Row> for StatusRow {
    fn from(r: &report::Row) -> Self {
        StatusRow {
            key: r.key.clone(),
            due: r.due,
            surge: r.surge,
            allocated: r.allocated,
            outside: r.outside,
            reported: r.reported,
            confirmed: r.confirmed,
            arrears: r.arrears,
            on_time_rate: r.on_time_rate,
            synthetic: r.synthetic,
            synthetic_figures: names(&r.synthetic_figures),
            note: r.note.map(str::to_owned),
        }
    }
}

impl From<&report::StatusReport> for StatusReport {
    fn from(r: &report::StatusReport) -> Self {
        StatusReport {
            as_of: r.as_of.clone(),
            currency: r.currency.clone(),
            log_size: r.log_size,
            entries_as_of: r.log_size,
            rows: r.rows.iter().map(StatusRow::from).collect(),
            total: (&r.total).into(),
            units: r
                .units
                .iter()
                .map(|u| UnitRow {
                    key: u.key.clone(),
                    unit: u.unit.clone(),
                    due: u.due,
                    surge: u.surge,
                    confirmed: u.confirmed,
                    arrears: u.arrears,
                    synthetic: u.synthetic,
                    synthetic_figures: names(&u.synthetic_figures),
                })
                .collect(),
            synthetic: r.synthetic,
            ended_on_accession: r
                .ended_on_accession
                .iter()
                .map(|e| EndedRow {
                    commitment: e.commitment.clone(),
                    guarantor: e.guarantor.clone(),
                    on: e.on.clone(),
                })
                .collect(),
            lifecycle: Vec::new(),
        }
    }
}

/// What is behind one commitment's figures (`compact explain`): its schedule, the surges
/// activations set off and the log entries counted.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Explain {
    /// The date of the figures, `YYYY-MM-DD`.
    pub as_of: String,
    /// How many log entries the figures are from.
    pub log_size: u64,
    /// The reporting currency.
    #[serde(default)]
    pub currency: String,
    /// The commitment's figures.
    pub figures: Figures,
    /// Its schedule, tranche by tranche.
    pub schedule: Vec<ScheduleLine>,
    /// What activations made due, apart from the baseline.
    pub surges: Vec<Surge>,
    /// The log entries behind the figures, in log order.
    pub entries: Vec<ExplainEntry>,
    /// The entries that counted toward the figures until their author retracted them, in log
    /// order, with each retraction and its reason: the history the figures correct.
    #[serde(default)]
    pub retracted: Vec<RetractedEntry>,
}

/// A log entry that counted toward a commitment's figures until it was retracted.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RetractedEntry {
    /// Its index in the log.
    pub index: u64,
    /// The statement's type (`delivery.report`, …).
    #[serde(rename = "type")]
    pub kind: String,
    /// Its author's party code.
    pub author: String,
    /// Its payload as JSON.
    pub statement: serde_json::Value,
    /// The `statement.retract` entry (for a confirmation of a retracted report, the report's
    /// retraction).
    pub retraction: u64,
    /// When the log received the retraction (RFC 3339, UTC).
    pub retracted_at: String,
    /// The reason the retraction gives.
    pub reason: String,
}

/// One tranche of a commitment's schedule.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ScheduleLine {
    /// When it falls due, `YYYY-MM-DD`.
    pub due: String,
    /// The amount as the agreement states it (`"2.5e9 GBP"`, `"1000 shells"`).
    pub amount: String,
    /// Its value in the reporting currency on its due date, to the cent; `None` when it
    /// cannot be valued (units, or a rate missing).
    pub value: Option<String>,
    /// Whether it falls due on or before the date of the figures.
    pub is_due: bool,
}

/// A log entry behind a commitment's figures.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ExplainEntry {
    /// Its index in the log.
    pub index: u64,
    /// The statement's type (`allocation`, `delivery.report`, …).
    #[serde(rename = "type")]
    pub kind: String,
    /// Its author's party code.
    pub author: String,
    /// Whether it is generated, not from a source (its reference, or for a confirmation the
    /// report's, starts with `synthetic/`).
    pub synthetic: bool,
    /// Its payload as JSON.
    pub statement: serde_json::Value,
}

/// The aid the signed record shows, at its finest grain (`/v1/aid`): each commitment's figures
/// per year on a date, with what the tracker's views group them by (the guarantor, its group,
/// whether it is a NATO ally, the pillar and the tracker's category). Money in the reporting
/// currency, to the cent (each commitment's figures rounded before any sum, as in the status
/// report, so rows summed by any key equal its rows); units apart, never added to money.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AidReport {
    /// The date of the figures, `YYYY-MM-DD`.
    pub as_of: String,
    /// The reporting currency.
    pub currency: String,
    /// How many log entries the figures are from.
    pub log_size: u64,
    /// Money: one row per commitment and year.
    pub rows: Vec<AidRow>,
    /// Units: one row per commitment, unit and year.
    pub units: Vec<AidUnitRow>,
    /// The guarantors: their group and NATO membership on the date.
    pub guarantors: Vec<AidParty>,
    /// The groups of guarantors.
    pub groups: Vec<AidGroup>,
    /// The pillars and the tracker's category each counts in.
    pub pillars: Vec<AidPillar>,
    /// True when any figure rests on synthetic data.
    pub synthetic: bool,
}

/// One commitment's money figures in one year of an [`AidReport`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AidRow {
    /// The commitment.
    pub commitment: String,
    /// Its guarantor.
    pub guarantor: String,
    /// Its pillar.
    pub pillar: String,
    /// The year.
    pub year: i16,
    /// Due in the year, on or before the date.
    pub due: Decimal,
    /// Due in the year because of an activation, apart from `due`.
    pub surge: Decimal,
    /// Allocated in the year.
    pub allocated: Decimal,
    /// Reported delivered in the year.
    pub reported: Decimal,
    /// Confirmed delivered in the year.
    pub confirmed: Decimal,
    /// Due in the year and not confirmed.
    pub arrears: Decimal,
    /// The figures of the row that rest on synthetic data.
    pub synthetic_figures: Vec<String>,
}

/// One commitment's units in one year of an [`AidReport`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AidUnitRow {
    /// The commitment.
    pub commitment: String,
    /// Its guarantor.
    pub guarantor: String,
    /// Its pillar.
    pub pillar: String,
    /// The unit (`shells`): the category of equipment.
    pub unit: String,
    /// The year.
    pub year: i16,
    /// Due in the year.
    pub due: Decimal,
    /// Due in the year because of an activation.
    pub surge: Decimal,
    /// Confirmed delivered in the year.
    pub confirmed: Decimal,
    /// Due in the year and not confirmed.
    pub arrears: Decimal,
    /// The figures of the row that rest on synthetic data.
    pub synthetic_figures: Vec<String>,
}

/// A guarantor of an [`AidReport`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AidParty {
    /// Party code.
    pub code: String,
    /// Name.
    pub name: String,
    /// Its group's id (`-` when it has none).
    pub group: String,
    /// Whether it is a NATO ally on the date.
    pub nato: bool,
}

/// A group of guarantors of an [`AidReport`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AidGroup {
    /// Id (`core`).
    pub id: String,
    /// Name.
    pub name: String,
}

/// A pillar of an [`AidReport`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AidPillar {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// The tracker's category its money counts in, when the tracker counts it.
    pub category: Option<String>,
}

/// The log beside the Kiel Institute's tracker (`compact reconcile kiel`), over the same
/// period on both sides, in EUR.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Reconciliation {
    /// The tracker's last day, `YYYY-MM-DD`: the figures are as of then.
    pub as_of: String,
    /// Where the tracker's figures come from (a file, or the figures the compact carries).
    pub source: String,
    /// The first year compared.
    pub from: i16,
    /// The last year compared.
    pub to: i16,
    /// The currency of every figure (the tracker's).
    pub currency: String,
    /// One line per party, year and category.
    pub lines: Vec<ReconcileLine>,
}

/// One party, year and category of a [`Reconciliation`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ReconcileLine {
    /// Party code.
    pub party: String,
    /// Year.
    pub year: i16,
    /// The tracker's category (`military`, `financial`, `humanitarian`).
    pub category: String,
    /// The tracker's allocations.
    pub tracker: Decimal,
    /// Allocations in the log.
    pub log_allocated: Decimal,
    /// Confirmed deliveries in the log.
    pub log_confirmed: Decimal,
    /// The tracker's allocations no commitment of the category could hold: outside the
    /// agreements, a structural difference, not a gap.
    pub outside: Decimal,
    /// Log allocations plus what is outside the agreements, minus the tracker's.
    pub difference: Decimal,
    /// A known structural difference that explains the line, when there is one.
    pub explained: Option<String>,
    /// The figures of the line that rest on synthetic data: `log_confirmed` when a confirmed
    /// delivery behind it is generated (the tracker's figures and the log's allocations are
    /// sourced).
    pub synthetic_figures: Vec<String>,
    /// Whether any confirmed delivery of the party in the log is generated.
    pub log_confirmed_synthetic: bool,
}

impl ReconcileLine {
    /// The CSV header of [`ReconcileLine::cells`].
    pub const COLUMNS: [&'static str; 10] = [
        "party",
        "year",
        "category",
        "tracker",
        "log_allocated",
        "log_confirmed",
        "outside",
        "difference",
        "explained",
        "log_confirmed_synthetic",
    ];

    /// The line's cells in [`ReconcileLine::COLUMNS`] order.
    pub fn cells(&self) -> Vec<String> {
        vec![
            self.party.clone(),
            self.year.to_string(),
            self.category.clone(),
            self.tracker.to_string(),
            self.log_allocated.to_string(),
            self.log_confirmed.to_string(),
            self.outside.to_string(),
            self.difference.to_string(),
            self.explained.clone().unwrap_or_default(),
            self.log_confirmed_synthetic.to_string(),
        ]
    }
}

/// Serde of a dimensionless decimal (a ratio, a share, a percentage) as a JSON number; a
/// string is read too. See the module's rule on numbers.
pub mod number {
    use rust_decimal::Decimal;
    use serde::de::Error as _;
    use serde::ser::Error as _;
    use serde::{Deserialize, Deserializer, Serializer};

    /// The decimal as the nearest binary number, whose shortest form is the decimal's own for
    /// up to 15 significant digits.
    pub fn serialize<S: Serializer>(d: &Decimal, s: S) -> Result<S::Ok, S::Error> {
        let f: f64 = d
            .to_string()
            .parse()
            .map_err(|_| S::Error::custom(format!("{d} is not a number")))?;
        s.serialize_f64(f)
    }

    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Either {
        Number(f64),
        Text(String),
    }

    /// A number (or a decimal string) as a decimal.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Decimal, D::Error> {
        let text = match Either::deserialize(d)? {
            Either::Number(f) => f.to_string(),
            Either::Text(t) => t,
        };
        text.parse()
            .map_err(|_| D::Error::custom(format!("`{text}` is not a decimal number")))
    }
}

/// [`number`] for an optional decimal: `null` when absent.
pub mod number_opt {
    use rust_decimal::Decimal;
    use serde::{Deserialize, Deserializer, Serializer};

    /// A number, or `null`.
    pub fn serialize<S: Serializer>(d: &Option<Decimal>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => super::number::serialize(d, s),
            None => s.serialize_none(),
        }
    }

    #[derive(Deserialize)]
    struct Wrap(#[serde(with = "super::number")] Decimal);

    /// A number, a decimal string or `null`.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Decimal>, D::Error> {
        Ok(Option::<Wrap>::deserialize(d)?.map(|w| w.0))
    }
}

/// `x` rounded to `places` decimals, as the number printed (a probability or a share of a
/// floating-point computation, for display).
pub fn rounded(x: f64, places: usize) -> f64 {
    format!("{x:.places$}").parse().unwrap_or(x)
}

/// What a commitment is counted in.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case", tag = "kind", content = "unit")]
pub enum Measure {
    /// Money, in the reporting currency.
    Money,
    /// A physical unit.
    Units(String),
}

impl From<&compact_engine::Measure> for Measure {
    fn from(m: &compact_engine::Measure) -> Self {
        match m {
            compact_engine::Measure::Money => Measure::Money,
            compact_engine::Measure::Units(u) => Measure::Units(u.clone()),
        }
    }
}

/// Which figures of a commitment rest on synthetic data.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Marks {
    /// Due (the schedule).
    pub due: bool,
    /// Surge obligations.
    pub surge: bool,
    /// Allocations.
    pub allocated: bool,
    /// Reported deliveries.
    pub reported: bool,
    /// Confirmed deliveries.
    pub confirmed: bool,
    /// Arrears.
    pub arrears: bool,
    /// The on-time rate.
    pub on_time: bool,
}

impl Marks {
    /// The names of the marked figures, in column order.
    pub fn names(&self) -> Vec<&'static str> {
        [
            ("due", self.due),
            ("surge", self.surge),
            ("allocated", self.allocated),
            ("reported", self.reported),
            ("confirmed", self.confirmed),
            ("arrears", self.arrears),
            ("on_time_rate", self.on_time),
        ]
        .into_iter()
        .filter_map(|(n, m)| m.then_some(n))
        .collect()
    }
}

/// When and why a commitment ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Ended {
    /// The day, `YYYY-MM-DD`.
    pub on: String,
    /// `accession` or `expired`.
    pub reason: String,
}

/// A commitment's figures in one year.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct YearFigures {
    /// Due in the year.
    pub due: Decimal,
    /// Due in the year because of an activation.
    pub surge: Decimal,
    /// Pledged in the year.
    pub pledged: Decimal,
    /// Allocated in the year.
    pub allocated: Decimal,
    /// Reported delivered in the year.
    pub reported: Decimal,
    /// Confirmed, delivered in the year.
    pub confirmed: Decimal,
    /// What falls due in the year and is not confirmed.
    pub arrears: Decimal,
    /// Confirmed, delivered in the year, on time.
    pub on_time: Decimal,
}

/// The figures of one commitment at a date (in the reporting currency for money, else in its
/// unit).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Figures {
    /// Commitment id.
    pub commitment: String,
    /// Agreement id.
    pub agreement: String,
    /// Guarantor code.
    pub guarantor: String,
    /// Pillar id.
    pub pillar: String,
    /// Money or a unit.
    pub measure: Measure,
    /// Scheduled in all.
    pub scheduled: Decimal,
    /// Due on or before the date (the baseline).
    pub due: Decimal,
    /// Due because of an activation, apart from the baseline.
    pub surge: Decimal,
    /// Pledged beyond the schedule.
    pub pledged: Decimal,
    /// Allocated.
    pub allocated: Decimal,
    /// Reported delivered.
    pub reported: Decimal,
    /// Confirmed delivered: what counts as delivered.
    pub confirmed: Decimal,
    /// Due minus confirmed, never below zero.
    pub arrears: Decimal,
    /// Confirmed and on time.
    pub on_time: Decimal,
    /// `on_time / confirmed`, `null` when nothing is confirmed.
    #[serde(with = "number_opt")]
    #[schema(value_type = Option<f64>)]
    pub on_time_rate: Option<Decimal>,
    /// `on-track`, `behind`, `fulfilled` or `ended`.
    pub status: String,
    /// When and why it ended, if it has.
    pub ended: Option<Ended>,
    /// True when any figure rests on synthetic data.
    pub synthetic: bool,
    /// Which figures rest on synthetic data.
    pub marks: Marks,
    /// The same figures by year (JSON object keys: the years as strings, `"2025"`).
    #[schema(value_type = BTreeMap<String, YearFigures>)]
    pub years: BTreeMap<i16, YearFigures>,
    /// The log entries behind the figures, in order.
    pub entries: Vec<u64>,
    /// The entries that would count toward the figures but were retracted on or before the
    /// date, in order (`compact explain` gives each retraction and its reason).
    #[serde(default)]
    pub retracted: Vec<u64>,
}

impl From<&compact_engine::Figures> for Figures {
    fn from(f: &compact_engine::Figures) -> Self {
        let m = f.marks;
        Figures {
            commitment: f.commitment.clone(),
            agreement: f.agreement.clone(),
            guarantor: f.guarantor.clone(),
            pillar: f.pillar.clone(),
            measure: (&f.measure).into(),
            scheduled: f.scheduled,
            due: f.due,
            surge: f.surge,
            pledged: f.pledged,
            allocated: f.allocated,
            reported: f.reported,
            confirmed: f.confirmed,
            arrears: f.arrears,
            on_time: f.on_time,
            on_time_rate: f.on_time_rate,
            status: match f.status {
                compact_engine::Status::OnTrack => "on-track",
                compact_engine::Status::Behind => "behind",
                compact_engine::Status::Fulfilled => "fulfilled",
                compact_engine::Status::Ended => "ended",
            }
            .to_owned(),
            ended: f.ended.as_ref().map(|e| Ended {
                on: e.on.to_string(),
                reason: e.reason.to_owned(),
            }),
            synthetic: f.synthetic,
            marks: Marks {
                due: m.due,
                surge: m.surge,
                allocated: m.allocated,
                reported: m.reported,
                confirmed: m.confirmed,
                arrears: m.arrears,
                on_time: m.on_time,
            },
            years: f
                .years
                .iter()
                .map(|(y, v)| {
                    (
                        *y,
                        YearFigures {
                            due: v.due,
                            surge: v.surge,
                            pledged: v.pledged,
                            allocated: v.allocated,
                            reported: v.reported,
                            confirmed: v.confirmed,
                            arrears: v.arrears,
                            on_time: v.on_time,
                        },
                    )
                })
                .collect(),
            entries: f.entries.clone(),
            retracted: f.retracted.iter().map(|r| r.entry).collect(),
        }
    }
}

/// What kind of obligation an activation set off.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum SurgeKind {
    /// A scaling rule: an extra amount, `(factor - 1) x` the year after the activation.
    Scaling {
        /// The rule's factor.
        #[serde(with = "number")]
        #[schema(value_type = f64)]
        factor: Decimal,
    },
    /// A sanctions tranche brought forward.
    SnapBack {
        /// The date it was scheduled for, `YYYY-MM-DD`.
        scheduled_for: String,
    },
}

/// An obligation set off by an activation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Surge {
    /// The activation's log entry.
    pub activation: u64,
    /// The commitment.
    pub commitment: String,
    /// Its agreement.
    pub agreement: String,
    /// The guarantor.
    pub guarantor: String,
    /// The pillar.
    pub pillar: String,
    /// Money or a unit.
    pub measure: Measure,
    /// Scaling or snap-back.
    #[serde(flatten)]
    pub kind: SurgeKind,
    /// What falls due (in the reporting currency for money, else in the unit).
    pub amount: Decimal,
    /// By when, `YYYY-MM-DD`.
    pub due: String,
    /// True when the commitment, the rule or a figure it is valued with is not from a source.
    pub synthetic: bool,
}

impl From<&compact_engine::activation::Surge> for Surge {
    fn from(s: &compact_engine::activation::Surge) -> Self {
        use compact_engine::activation::SurgeKind as K;
        Surge {
            activation: s.activation,
            commitment: s.commitment.clone(),
            agreement: s.agreement.clone(),
            guarantor: s.guarantor.clone(),
            pillar: s.pillar.clone(),
            measure: (&s.measure).into(),
            kind: match s.kind {
                K::Scaling { factor } => SurgeKind::Scaling { factor },
                K::SnapBack { scheduled_for } => SurgeKind::SnapBack {
                    scheduled_for: scheduled_for.to_string(),
                },
            },
            amount: s.amount,
            due: s.due.to_string(),
            synthetic: s.synthetic,
        }
    }
}

/// What opened an activation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case", tag = "on")]
pub enum Trigger {
    /// An armed attack was declared.
    Attack,
    /// The threat level was set to `level`.
    Threat {
        /// The level set.
        level: u8,
    },
}

impl Trigger {
    /// The trigger in words.
    pub fn text(self) -> String {
        match self {
            Trigger::Attack => "armed attack".into(),
            Trigger::Threat { level } => format!("threat level {level}"),
        }
    }
}

/// Where an asked guarantor's answer stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum AnswerState {
    /// Answered by the deadline.
    Answered,
    /// Answered after the deadline.
    Late,
    /// No answer, and the deadline has passed.
    Missing,
    /// No answer yet; the deadline has not passed.
    Pending,
    /// No answer, and the activation was withdrawn before the deadline: no longer asked.
    Withdrawn,
}

impl AnswerState {
    /// The kebab-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            AnswerState::Answered => "answered",
            AnswerState::Late => "late",
            AnswerState::Missing => "missing",
            AnswerState::Pending => "pending",
            AnswerState::Withdrawn => "withdrawn",
        }
    }
}

/// One measure of a guarantor's response.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ResponseMeasure {
    /// `accelerate`, `pledge` or `sanctions`.
    pub kind: String,
    /// The commitment concerned, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commitment: Option<String>,
    /// The amount as the guarantor states it, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<String>,
    /// What is done.
    pub description: String,
}

/// One guarantor asked to consult, and its answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Answer {
    /// The guarantor.
    pub guarantor: String,
    /// The agreement in force that holds the clause.
    pub agreement: String,
    /// Its version.
    pub version: u32,
    /// The clause id, when the agreement names one.
    pub clause: Option<String>,
    /// The hours the clause gives.
    pub hours: u32,
    /// When the answer is due.
    pub deadline: String,
    /// Where the answer stands.
    pub state: AnswerState,
    /// The log entry of the response.
    pub response: Option<u64>,
    /// When it was made.
    pub answered_at: Option<String>,
    /// The measures it commits.
    pub measures: Vec<ResponseMeasure>,
}

/// One activation and its timeline (`compact activation`): who was asked, who answered, and
/// what it set off.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Activation {
    /// Its log entry: the activation's id.
    pub entry: u64,
    /// What opened it.
    pub trigger: Trigger,
    /// When the beneficiary declared it.
    pub declared_at: String,
    /// When the attack began (attack declarations).
    pub attack_at: Option<String>,
    /// The declaration's summary.
    pub summary: Option<String>,
    /// False once closed by the beneficiary, withdrawn, or the compact ended on accession.
    pub open: bool,
    /// Each guarantor asked, in the order of the agreements.
    pub asked: Vec<Answer>,
    /// What it set off: nothing once withdrawn.
    pub surges: Vec<Surge>,
    /// The beneficiary's withdrawal of an activation declared in error, if withdrawn: from
    /// then nothing falls due on it.
    #[serde(default)]
    pub withdrawn: Option<Withdrawal>,
}

/// The withdrawal of an activation (`statement.retract`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Withdrawal {
    /// The `statement.retract` entry.
    pub entry: u64,
    /// When the log received it (RFC 3339, UTC).
    pub at: String,
    /// Why.
    pub reason: String,
}

impl Activation {
    /// How many asked guarantors' answers are in `state`.
    pub fn count(&self, state: AnswerState) -> usize {
        self.asked.iter().filter(|a| a.state == state).count()
    }
}

impl From<&compact_engine::activation::Activation> for Activation {
    fn from(a: &compact_engine::activation::Activation) -> Self {
        use compact_engine::activation::AnswerState as S;
        use compact_statement::format_time;
        Activation {
            entry: a.entry,
            trigger: match a.trigger {
                compact_statement::activation::Trigger::Attack => Trigger::Attack,
                compact_statement::activation::Trigger::Threat { level } => {
                    Trigger::Threat { level }
                }
            },
            declared_at: format_time(a.declared_at),
            attack_at: a.attack_at.map(format_time),
            summary: a.summary.clone(),
            open: a.open,
            asked: a
                .asked
                .iter()
                .map(|x| Answer {
                    guarantor: x.asked.guarantor.clone(),
                    agreement: x.asked.agreement.clone(),
                    version: x.asked.version,
                    clause: x.asked.clause.clone(),
                    hours: x.asked.hours,
                    deadline: format_time(x.asked.deadline),
                    state: match x.state {
                        S::Answered => AnswerState::Answered,
                        S::Late => AnswerState::Late,
                        S::Missing => AnswerState::Missing,
                        S::Pending => AnswerState::Pending,
                        S::Withdrawn => AnswerState::Withdrawn,
                    },
                    response: x.response,
                    answered_at: x.answered_at.map(format_time),
                    measures: x
                        .measures
                        .iter()
                        .map(|m| ResponseMeasure {
                            kind: m.kind.clone(),
                            commitment: m.commitment.clone(),
                            amount: m.amount.clone(),
                            description: m.description.clone(),
                        })
                        .collect(),
                })
                .collect(),
            surges: a.surges.iter().map(Surge::from).collect(),
            withdrawn: a.withdrawn.as_ref().map(|w| Withdrawal {
                entry: w.entry,
                at: format_time(w.at),
                reason: w.reason.clone(),
            }),
        }
    }
}

/// The burden-sharing report of a year (`compact burden`): a baseline split by GDP share,
/// against the aid each party allocated.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct BurdenReport {
    /// The year.
    pub year: i16,
    /// The GDP vintage used.
    pub gdp_year: i16,
    /// The baseline, in the reporting currency.
    pub baseline: Decimal,
    /// The reporting currency.
    pub currency: String,
    /// Who shares the baseline: `nato-allies` or `all-guarantors`.
    pub basis: String,
    /// What counts: `military` or `all`.
    pub aid: String,
    /// The formula, in words.
    pub formula: String,
    /// The source of the formula and the baseline.
    pub source: String,
    /// One row per participant, largest gap first.
    pub rows: Vec<BurdenRow>,
    /// Guarantors outside the basis, by code.
    pub others: Vec<BurdenOther>,
    /// Guarantors left out for want of a GDP figure (also in `others`).
    pub without_gdp: Vec<String>,
}

/// One participant's row of a [`BurdenReport`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct BurdenRow {
    /// Party code.
    pub party: String,
    /// Share of the participants' GDP (0 to 1, 6 decimals).
    #[serde(with = "number")]
    #[schema(value_type = f64)]
    pub gdp_share: Decimal,
    /// Its share of the baseline.
    pub fair_share: Decimal,
    /// Allocated in the year: in the log, plus outside the agreements.
    pub allocated: Decimal,
    /// Of which outside the agreements (the tracker's allocations no commitment holds).
    pub outside: Decimal,
    /// Confirmed delivered in the year.
    pub confirmed: Decimal,
    /// Allocated as a percentage of its GDP (4 decimals).
    #[serde(with = "number")]
    #[schema(value_type = f64)]
    pub pct_gdp: Decimal,
    /// Fair share minus allocated: positive when below its share.
    pub gap: Decimal,
    /// Surge obligations due in the year, apart from the baseline and the fair share.
    pub surge: Decimal,
    /// 1 for the largest gap.
    pub rank: usize,
    /// The figures of the row that rest on synthetic data (`gdp`, `allocated`, `confirmed`).
    pub synthetic_figures: Vec<String>,
}

/// A guarantor outside a [`BurdenReport`]'s basis: its figures, without a share.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct BurdenOther {
    /// Party code.
    pub party: String,
    /// Why it is apart (`not a NATO ally`, `no GDP figure`).
    pub reason: String,
    /// Allocated in the year, in the log and outside the agreements.
    pub allocated: Decimal,
    /// Confirmed delivered in the year.
    pub confirmed: Decimal,
    /// The figures of the row that rest on synthetic data.
    pub synthetic_figures: Vec<String>,
}

impl BurdenReport {
    /// The CSV header of [`BurdenReport::csv_rows`].
    pub const COLUMNS: [&'static str; 11] = [
        "rank",
        "party",
        "gdp_share",
        "fair_share",
        "allocated",
        "outside",
        "confirmed",
        "pct_gdp",
        "gap",
        "surge",
        "synthetic",
    ];

    /// The rows, then the parties apart (their share's cells empty), as CSV cells.
    pub fn csv_rows(&self) -> Vec<Vec<String>> {
        self.rows
            .iter()
            .map(|r| {
                vec![
                    r.rank.to_string(),
                    r.party.clone(),
                    r.gdp_share.to_string(),
                    r.fair_share.to_string(),
                    r.allocated.to_string(),
                    r.outside.to_string(),
                    r.confirmed.to_string(),
                    r.pct_gdp.to_string(),
                    r.gap.to_string(),
                    r.surge.to_string(),
                    r.synthetic_figures.join(";"),
                ]
            })
            .chain(self.others.iter().map(|o| {
                vec![
                    String::new(),
                    o.party.clone(),
                    String::new(),
                    String::new(),
                    o.allocated.to_string(),
                    String::new(),
                    o.confirmed.to_string(),
                    String::new(),
                    String::new(),
                    String::new(),
                    o.synthetic_figures.join(";"),
                ]
            }))
            .collect()
    }
}

impl From<&compact_engine::burden::BurdenReport> for BurdenReport {
    fn from(r: &compact_engine::burden::BurdenReport) -> Self {
        use compact_engine::burden::{Aid, Basis};
        BurdenReport {
            year: r.year,
            gdp_year: r.gdp_year,
            baseline: r.baseline,
            currency: r.currency.clone(),
            basis: match r.basis {
                Basis::NatoAllies => "nato-allies",
                Basis::AllGuarantors => "all-guarantors",
            }
            .to_owned(),
            aid: match r.aid {
                Aid::Military => "military",
                Aid::All => "all",
            }
            .to_owned(),
            formula: r.formula.clone(),
            source: r.source.to_owned(),
            rows: r
                .rows
                .iter()
                .map(|x| BurdenRow {
                    party: x.party.clone(),
                    gdp_share: x.gdp_share,
                    fair_share: x.fair_share,
                    allocated: x.allocated,
                    outside: x.outside,
                    confirmed: x.confirmed,
                    pct_gdp: x.pct_gdp,
                    gap: x.gap,
                    surge: x.surge,
                    rank: x.rank,
                    synthetic_figures: names(&x.synthetic_figures),
                })
                .collect(),
            others: r
                .others
                .iter()
                .map(|o| BurdenOther {
                    party: o.party.clone(),
                    reason: o.reason.to_owned(),
                    allocated: o.allocated,
                    confirmed: o.confirmed,
                    synthetic_figures: names(&o.synthetic_figures),
                })
                .collect(),
            without_gdp: r.without_gdp.clone(),
        }
    }
}

/// What `compact stress` found: the parts asked for (a what-if and its rebalancing, or the
/// single points of failure; a Monte Carlo run). Amounts in the reporting currency for money
/// lines, else in the line's unit.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct StressReport {
    /// The reporting currency.
    pub currency: String,
    /// The years the compact covers.
    pub years: Vec<i16>,
    /// The what-if asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub what_if: Option<WhatIfReport>,
    /// The rebalancing that would close each gap the what-if opens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rebalance: Option<Vec<RebalanceRow>>,
    /// The guarantors whose withdrawal alone drops a line below its requirement.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub single_points_of_failure: Option<Vec<SpofRow>>,
    /// The Monte Carlo run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub monte_carlo: Option<MonteCarlo>,
}

/// A what-if: guarantors withdrawn from a year, deliveries delayed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct WhatIfReport {
    /// The guarantors withdrawn.
    pub without: Vec<String>,
    /// The first year without them.
    pub from_year: i16,
    /// The delay applied, in months.
    pub delay_months: u32,
    /// The lines, by pillar then measure.
    pub lines: Vec<WhatIfLine>,
}

/// One line (a pillar counted in one measure) of a what-if.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct WhatIfLine {
    /// The pillar.
    pub pillar: String,
    /// The currency or the unit.
    pub measure: String,
    /// What the delays push past the last year.
    pub slipped_beyond: Decimal,
    /// What the withdrawn guarantors would have delivered from their withdrawal on.
    pub withdrawn: Decimal,
    /// Its years, ascending.
    pub years: Vec<WhatIfYear>,
}

/// One year of a [`WhatIfLine`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct WhatIfYear {
    /// The year.
    pub year: i16,
    /// The requirement, if there is one.
    pub requirement: Option<Decimal>,
    /// Scheduled support.
    pub before: Decimal,
    /// Support under the what-if.
    pub after: Decimal,
    /// The requirement's shortfall before.
    pub gap_before: Decimal,
    /// The requirement's shortfall after.
    pub gap_after: Decimal,
    /// The figures that rest on synthetic data (`requirement`, `before`, `after`,
    /// `gap_before`, `gap_after`).
    pub synthetic_figures: Vec<String>,
}

/// The extra gap a what-if opened on a line in a year, split among the remaining guarantors
/// by GDP share.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RebalanceRow {
    /// The pillar.
    pub pillar: String,
    /// The currency or the unit.
    pub measure: String,
    /// The year.
    pub year: i16,
    /// The gap opened.
    pub extra_gap: Decimal,
    /// Whether the gap rests on synthetic data (a requirement or a schedule).
    pub synthetic: bool,
    /// The parts, adding up to `extra_gap` exactly.
    pub parts: Vec<RebalancePart>,
}

/// One guarantor's part of a [`RebalanceRow`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RebalancePart {
    /// The guarantor.
    pub guarantor: String,
    /// Its share of the remaining guarantors' GDP (6 decimals).
    pub gdp_share: f64,
    /// What it would carry.
    pub amount: Decimal,
}

/// A single point of failure: a guarantor whose withdrawal alone drops a line below its
/// requirement in a year.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SpofRow {
    /// The guarantor.
    pub guarantor: String,
    /// The pillar.
    pub pillar: String,
    /// The currency or the unit.
    pub measure: String,
    /// The year.
    pub year: i16,
    /// The requirement.
    pub requirement: Decimal,
    /// Scheduled support.
    pub before: Decimal,
    /// Support without the guarantor.
    pub after: Decimal,
    /// The figures that rest on synthetic data (`requirement`, `before`, `after`).
    pub synthetic_figures: Vec<String>,
}

/// A Monte Carlo run over the risks file's assumptions.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct MonteCarlo {
    /// Scenarios run.
    pub scenarios: u64,
    /// The seed.
    pub seed: u64,
    /// Per line, the distribution of each year's support.
    pub lines: Vec<McLine>,
    /// Per guarantor, the probability it is still in, by year.
    pub survival: Vec<Survival>,
}

/// One line of a [`MonteCarlo`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct McLine {
    /// The pillar.
    pub pillar: String,
    /// The currency or the unit.
    pub measure: String,
    /// Its years.
    pub years: Vec<McYear>,
}

/// One year of a [`McLine`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct McYear {
    /// The year.
    pub year: i16,
    /// The requirement, if there is one.
    pub requirement: Option<Decimal>,
    /// Scheduled support.
    pub scheduled: Decimal,
    /// Mean support over the scenarios.
    pub mean: Decimal,
    /// 5th percentile: the support that 5% of the scenarios fall below (a bad year).
    pub p5: Decimal,
    /// Median: the support that half of the scenarios fall below.
    pub p50: Decimal,
    /// 95th percentile: the support that 95% of the scenarios fall below (a good year).
    pub p95: Decimal,
    /// The probability of meeting the requirement: the share of the scenarios in which the
    /// year's support reaches it (4 decimals), `null` without one.
    pub p_meet: Option<f64>,
    /// The figures that rest on synthetic data: every distribution figure (the risks file is
    /// illustrative), and the requirement and schedule when they are.
    pub synthetic_figures: Vec<String>,
}

/// A guarantor's survival in a [`MonteCarlo`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Survival {
    /// The guarantor.
    pub guarantor: String,
    /// The probability it has not withdrawn, per year (4 decimals).
    pub by_year: Vec<f64>,
}

/// What `compact check` prints on success: who is in, what is committed, and the money
/// scheduled each year, sourced and synthetic apart.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CheckSummary {
    /// The compact's id.
    pub compact: String,
    /// The reporting currency.
    pub currency: String,
    /// The beneficiary.
    pub beneficiary: String,
    /// Party codes by group.
    pub groups: Vec<GroupSummary>,
    /// Guarantors with no agreement.
    pub without_agreement: Vec<String>,
    /// Agreement versions.
    pub agreements: usize,
    /// Of which synthetic.
    pub agreements_synthetic: usize,
    /// Commitments by pillar.
    pub pillars: Vec<PillarSummary>,
    /// Money scheduled per year, in the reporting currency.
    pub years: Vec<YearSummary>,
    /// Units scheduled per year and unit.
    pub units: Vec<UnitSummary>,
    /// Tranches that could not be valued, with the reason.
    pub unvalued: Vec<String>,
}

/// One group of a [`CheckSummary`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct GroupSummary {
    /// Group id.
    pub id: String,
    /// Group name.
    pub name: String,
    /// Member codes.
    pub parties: Vec<String>,
}

/// Commitments of one pillar.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PillarSummary {
    /// Pillar id.
    pub pillar: String,
    /// Commitments.
    pub commitments: usize,
    /// Of which synthetic.
    pub synthetic: usize,
}

/// Money scheduled in one year; `synthetic` is the part that rests on synthetic data.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct YearSummary {
    /// The year.
    pub year: i16,
    /// From sourced commitments with sourced inputs.
    pub sourced: Decimal,
    /// From synthetic commitments or with synthetic inputs.
    pub synthetic: Decimal,
    /// The two together.
    pub total: Decimal,
}

/// Units scheduled in one year.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct UnitSummary {
    /// The year.
    pub year: i16,
    /// The unit.
    pub unit: String,
    /// How many.
    pub quantity: Decimal,
}

impl From<&compact_model::summary::Summary> for CheckSummary {
    fn from(s: &compact_model::summary::Summary) -> Self {
        CheckSummary {
            compact: s.compact.clone(),
            currency: s.currency.clone(),
            beneficiary: s.beneficiary.clone(),
            groups: s
                .groups
                .iter()
                .map(|g| GroupSummary {
                    id: g.id.clone(),
                    name: g.name.clone(),
                    parties: g.parties.clone(),
                })
                .collect(),
            without_agreement: s.without_agreement.clone(),
            agreements: s.agreements,
            agreements_synthetic: s.agreements_synthetic,
            pillars: s
                .pillars
                .iter()
                .map(|p| PillarSummary {
                    pillar: p.pillar.clone(),
                    commitments: p.commitments,
                    synthetic: p.synthetic,
                })
                .collect(),
            years: s
                .years
                .iter()
                .map(|y| YearSummary {
                    year: y.year,
                    sourced: y.sourced,
                    synthetic: y.synthetic,
                    total: y.total,
                })
                .collect(),
            units: s
                .units
                .iter()
                .map(|u| UnitSummary {
                    year: u.year,
                    unit: u.unit.clone(),
                    quantity: u.quantity,
                })
                .collect(),
            unvalued: s.unvalued.clone(),
        }
    }
}

/// An agreement file's canonical digest (`compact digest --format json`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DigestReport {
    /// The agreement's id.
    pub id: String,
    /// Its version.
    pub version: u32,
    /// The digest, hex.
    pub digest: String,
    /// `sha256`.
    pub algorithm: String,
    /// `RFC 8785 (JCS)`.
    pub canonicalization: String,
}

/// An agreement's page (`GET /v1/agreements/{id}`): its terms, its status on a date, and who
/// signed which version, with the log entries.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AgreementPage {
    /// The terms of the version asked (its latest by default), with its digest.
    pub detail: AgreementDetail,
    /// Its status on the date.
    pub status: String,
    /// The date.
    pub on: String,
    /// Every signature of every version, in log order.
    pub signatures: Vec<SignatureRow>,
}

/// A party's signature of an agreement version, in the log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SignatureRow {
    /// The version signed.
    pub version: u32,
    /// The party that signed.
    pub party: String,
    /// The log entry of the signature.
    pub entry: u64,
    /// The digest of the terms signed.
    pub digest: String,
}

/// One agreement as parsed (`compact show agreement --format json`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AgreementDetail {
    /// Its canonical digest.
    pub digest: String,
    /// The file it was read from, relative to the compact directory.
    pub path: String,
    /// The agreement as the model holds it.
    pub agreement: serde_json::Value,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agreement_rows_keep_their_field_names_and_read_back() -> Result<(), serde_json::Error> {
        let row = AgreementRow {
            id: "gb-ua".into(),
            version: 1,
            guarantor: "GB".into(),
            beneficiary: "UA".into(),
            status: "in-force".into(),
            digest: "ab".into(),
            working_digest: None,
            note: "no working file".into(),
        };
        let v = serde_json::to_value(&row)?;
        for k in [
            "id",
            "version",
            "guarantor",
            "beneficiary",
            "status",
            "digest",
            "working_digest",
            "note",
        ] {
            assert!(v.get(k).is_some(), "{k} missing from {v}");
        }
        assert_eq!(serde_json::from_value::<AgreementRow>(v)?, row);
        assert_eq!(row.cells().len(), AgreementRow::COLUMNS.len());
        Ok(())
    }

    #[test]
    fn ratios_are_numbers_amounts_are_strings_and_both_read_back() -> Result<(), serde_json::Error>
    {
        let row = StatusRow {
            key: "GB".into(),
            due: Decimal::new(250_000_000_000, 2),
            on_time_rate: Some(Decimal::new(9375, 4)),
            ..StatusRow::default()
        };
        let v = serde_json::to_value(&row)?;
        assert_eq!(v["on_time_rate"], serde_json::json!(0.9375));
        assert_eq!(v["due"], serde_json::json!("2500000000.00"));
        assert_eq!(serde_json::from_value::<StatusRow>(v)?, row);
        // An older reader's string is read too, and `null` stays absent.
        let old = serde_json::json!({"key": "GB", "due": "1", "surge": "0", "allocated": "0",
            "outside": "0", "reported": "0", "confirmed": "0", "arrears": "1",
            "on_time_rate": "0.5", "synthetic": false, "synthetic_figures": [], "note": null,
            "a_field_from_a_later_version": 1});
        let read: StatusRow = serde_json::from_value(old)?;
        assert_eq!(read.on_time_rate, Some(Decimal::new(5, 1)));
        let none = StatusRow::default();
        let v = serde_json::to_value(&none)?;
        assert!(v["on_time_rate"].is_null());
        assert_eq!(serde_json::from_value::<StatusRow>(v)?, none);

        let surge = Surge {
            activation: 9,
            commitment: "gb-once".into(),
            agreement: "gb-ua".into(),
            guarantor: "GB".into(),
            pillar: "weapons".into(),
            measure: Measure::Units("shells".into()),
            kind: SurgeKind::Scaling {
                factor: Decimal::new(15, 1),
            },
            amount: Decimal::new(250, 0),
            due: "2026-06-01".into(),
            synthetic: true,
        };
        let v = serde_json::to_value(&surge)?;
        assert_eq!(v["kind"], "scaling");
        assert_eq!(v["factor"], serde_json::json!(1.5));
        assert_eq!(
            v["measure"],
            serde_json::json!({"kind": "units", "unit": "shells"})
        );
        assert_eq!(serde_json::from_value::<Surge>(v)?, surge);
        Ok(())
    }
}
