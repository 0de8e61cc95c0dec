//! Version 1 of the API types: what `--format json` prints and the HTTP server answers with.
//! Each serialises with `serde`; fields are added, never renamed or removed, within a version.

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
