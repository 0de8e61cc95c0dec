//! The benchmarks of PRODUCT.md, out of the command's code path: each builds its data, times
//! the work beside a reference measured in the same run, and returns the figures as lines;
//! `compact bench` prints them (see docs/PERFORMANCE.md and `bench/`).
//!
//! - [`ingest`] (B1), [`verify`] (B2), [`proofs`] (B3): the log; [`ingest_postgres`] and
//!   [`proofs_postgres`] B1 and B3 on PostgreSQL.
//! - [`status`] (B4): the status report over a million deliveries, beside DuckDB;
//!   [`status_store`] the same log in a store, for timing `compact status` end to end.
//! - [`stress`] (B5): the Monte Carlo, beside numpy.
//!
//! Unlike the service, this crate reads the clock (it times things) and writes its data sets.

use std::path::Path;

use anyhow::Context as _;
use compact_model::Compact;
use jiff::Timestamp;
use jiff::civil::Date;

mod log;
mod status;
mod stress;

pub use log::{ingest, ingest_postgres, proofs, proofs_postgres, statements, verify};
pub use status::{status, status_store};
pub use stress::stress;

/// What a benchmark measured, one line per figure, in the form `bench/*.sh` reads.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Report {
    /// The lines, in order.
    pub lines: Vec<String>,
}

impl Report {
    fn line(&mut self, s: String) {
        self.lines.push(s);
    }
}

/// The valid compact in `dir`, `None` when it has an error.
fn load(dir: &Path) -> Option<Compact> {
    compact_service::validate_dir(dir).compact
}

/// Noon UTC on `d`.
fn noon(d: Date) -> anyhow::Result<Timestamp> {
    Ok(d.at(12, 0, 0, 0)
        .to_zoned_datetime(jiff::tz::TimeZone::UTC)?
        .timestamp())
}

/// Writes the shipped data set into `dir`, which must not exist or be empty.
fn write_data_set(dir: &Path) -> anyhow::Result<()> {
    if dir.exists()
        && std::fs::read_dir(dir)
            .with_context(|| format!("cannot read {}", dir.display()))?
            .next()
            .is_some()
    {
        anyhow::bail!(
            "{} is not empty: give a new or empty directory",
            dir.display()
        );
    }
    for (rel, bytes) in compact_files::embedded::all() {
        let path = dir.join(&rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        std::fs::write(&path, bytes).with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}
