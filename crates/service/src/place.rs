//! Where a compact and its store are, and the compact as it governs.

use std::path::{Path, PathBuf};
use std::time::Duration;

use compact_files::{Loaded, load_dir};
use compact_model::{Compact, Diagnostic, SourceFile, check};
use compact_statement::rules::Facts;
use compact_store::governing::Drift;
use compact_store::sqlite::SqliteStore;
use jiff::Timestamp;

use crate::error::{Context as _, Result, ServiceError};

/// The store's default file in a compact directory.
pub const STORE_FILE: &str = "compact.sqlite";

/// Where the compact and its store are.
#[derive(Clone, Debug)]
pub struct Place {
    /// The compact directory.
    pub dir: PathBuf,
    /// The store, when not `DIR/compact.sqlite`.
    pub database: Option<PathBuf>,
    /// How long a writer waits for another's lock (the store's default when `None`).
    pub busy_timeout: Option<Duration>,
}

/// A compact directory read and checked: the compact when valid, and every finding.
#[derive(Debug)]
pub struct Validated {
    /// The compact, when there was no error.
    pub compact: Option<Compact>,
    /// Every finding, the files' own first.
    pub diagnostics: Vec<Diagnostic>,
    /// The files as read (their text renders the findings).
    pub loaded: Loaded,
    /// How the directory is named in findings.
    pub shown: String,
}

impl Validated {
    /// Errors and warnings among the findings.
    pub fn counts(&self) -> (usize, usize) {
        let errors = self.diagnostics.iter().filter(|d| d.is_error()).count();
        (errors, self.diagnostics.len() - errors)
    }
}

/// Reads and checks the compact in `dir`.
pub fn validate_dir(dir: &Path) -> Validated {
    let loaded = load_dir(dir);
    let shown = dir.display().to_string();
    let checked = if loaded
        .diagnostics
        .iter()
        .any(|d| d.span.is_none() && d.is_error() && d.path == shown)
    {
        // The directory itself could not be used: nothing more to check.
        None
    } else {
        Some(check(&loaded.files))
    };
    let mut diagnostics = loaded.diagnostics.clone();
    if let Some(c) = &checked {
        diagnostics.extend(c.diagnostics.iter().cloned());
    }
    let compact = checked
        .and_then(|c| c.compact)
        .filter(|_| !loaded.has_errors());
    Validated {
        compact,
        diagnostics,
        loaded,
        shown,
    }
}

/// The compact as it governs, with what it was derived from.
#[derive(Debug)]
pub struct Governed {
    /// The working files with every version both parties signed as signed.
    pub compact: Compact,
    /// The log's facts (none without a store).
    pub facts: Facts,
    /// The working files' compact.
    pub working: Compact,
    /// The working files that are not the text both parties signed (the signed text governs).
    pub drift: Vec<Drift>,
    /// The log's last receipt time, or the compact's adoption before any: a replay clock's now.
    pub last_receipt: Option<Timestamp>,
}

impl Place {
    /// A place with the store at `DIR/compact.sqlite` and the default busy timeout.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Place {
            dir: dir.into(),
            database: None,
            busy_timeout: None,
        }
    }

    /// The store's file.
    pub fn database(&self) -> PathBuf {
        self.database
            .clone()
            .unwrap_or_else(|| self.dir.join(STORE_FILE))
    }

    /// The store, opened for writing (created if absent), with the busy timeout set.
    pub fn store(&self) -> Result<SqliteStore> {
        let path = self.database();
        let store = SqliteStore::open(&path)
            .with_context(|| format!("cannot open the store {}", path.display()))?;
        if let Some(timeout) = self.busy_timeout {
            store.set_busy_timeout(timeout)?;
        }
        Ok(store)
    }

    /// The store, opened read-only (an auditor's view).
    pub fn store_read_only(&self) -> Result<SqliteStore> {
        let path = self.database();
        SqliteStore::open_read_only(&path)
            .with_context(|| format!("cannot open the store {}", path.display()))
    }

    /// The compact as it governs: `working` (read from `files`), with every agreement version
    /// both parties signed replaced by the terms the log holds. A working file that differs
    /// from what was signed is named in [`Governed::drift`] and not used.
    pub fn govern(&self, working: Compact, files: &[SourceFile]) -> Result<Governed> {
        let path = self.database();
        // Under a replay clock, a statement made without a time is dated at the last receipt,
        // or at the compact's adoption before any.
        let adopted = working
            .adopted_on
            .to_zoned_datetime(jiff::tz::TimeZone::UTC)
            .ok()
            .map(|z| z.timestamp());
        if !path.exists() {
            return Ok(Governed {
                compact: working.clone(),
                facts: Facts::default(),
                working,
                drift: Vec::new(),
                last_receipt: adopted,
            });
        }
        let store = self.store_read_only()?;
        let facts = compact_store::stored_facts(&store, &working)?;
        let last_receipt = facts.last_received.or(adopted);
        let governing =
            compact_store::governing::governing(files, &working, &facts).map_err(|d| {
                ServiceError::internal(format!(
                    "the signed terms in the log no longer fit the working compact: {}",
                    d.iter()
                        .filter(|d| d.is_error())
                        .map(|d| format!("{}: {}", d.path, d.message))
                        .collect::<Vec<_>>()
                        .join("; ")
                ))
            })?;
        let facts = if governing.drift.is_empty() {
            facts
        } else {
            compact_store::stored_facts(&store, &governing.compact)?
        };
        Ok(Governed {
            compact: governing.compact,
            facts,
            working,
            drift: governing.drift,
            last_receipt,
        })
    }
}

/// What a drifted working file means, in one sentence.
pub fn drift_message(d: &Drift) -> String {
    match &d.path {
        Some(p) => format!(
            "{p} is not the text both parties signed as `{}` version {} (signed digest {}, file {}): the signed text governs; give the edit a new version and have both parties sign it",
            d.agreement,
            d.version,
            d.signed,
            d.working.as_deref().unwrap_or("-")
        ),
        None => format!(
            "`{}` version {} is signed by both parties but its working file is gone: the signed text governs",
            d.agreement, d.version
        ),
    }
}
