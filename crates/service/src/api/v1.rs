//! Version 1 of the API types: what `--format json` prints and the HTTP server answers with.
//! Each serialises with `serde`; fields are added, never renamed or removed, within a version.

use compact_engine::report;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

pub use compact_log::{ConsistencyProof, InclusionProof};

/// One agreement as it governs on a date (`compact agreements`): its latest version.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
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
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LogEntry {
    /// Its index in the log.
    pub index: u64,
    /// The leaf as stored (the signed statement with its receipt time), base64.
    pub leaf: String,
    /// The leaf as JSON, `null` if it is not JSON.
    pub statement: serde_json::Value,
}

/// What `compact verify` found.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
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
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
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
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusReport {
    /// The date of the figures, `YYYY-MM-DD`.
    pub as_of: String,
    /// The reporting currency.
    pub currency: String,
    /// How many log entries the figures are from.
    pub log_size: u64,
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
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
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
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
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
    /// Share of the confirmed that arrived on time, to 4 decimals; `null` when nothing is
    /// confirmed.
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
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
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
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
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
///
/// `figures` and `surges` are the engine's own types (`compact_engine::Figures`,
/// `compact_engine::activation::Surge`), serialised as they are; they are not yet read back.
#[derive(Clone, Debug, Serialize)]
pub struct Explain {
    /// The date of the figures, `YYYY-MM-DD`.
    pub as_of: String,
    /// How many log entries the figures are from.
    pub log_size: u64,
    /// The commitment's figures.
    pub figures: compact_engine::Figures,
    /// Its schedule, tranche by tranche.
    pub schedule: Vec<ScheduleLine>,
    /// What activations made due, apart from the baseline.
    pub surges: Vec<compact_engine::activation::Surge>,
    /// The log entries behind the figures, in log order.
    pub entries: Vec<ExplainEntry>,
}

/// One tranche of a commitment's schedule.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
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
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
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

/// The log beside the Kiel Institute's tracker (`compact reconcile kiel`), over the same
/// period on both sides, in EUR.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
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
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
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
}
