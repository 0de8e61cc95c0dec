//! The independent tracker's figures a compact directory carries.

use std::path::Path;

use compact_engine::reconcile::{Outside, Tracker, outside};
use jiff::civil::Date;

use crate::error::{ErrorKind, Result, ServiceError};

/// The data set's copy of the tracker's yearly figures, in a compact directory.
pub const TRACKER_FILE: &str = "tracker/kiel-release29.toml";

/// The tracker's figures carried in the compact directory, when it has them.
pub fn local_tracker(dir: &Path) -> Result<Option<Tracker>> {
    let path = dir.join(TRACKER_FILE);
    if !path.exists() {
        return Ok(None);
    }
    let text = std::fs::read_to_string(&path).map_err(|e| {
        ServiceError::caused(
            ErrorKind::Internal,
            format!("cannot read {}", path.display()),
            e,
        )
    })?;
    Tracker::parse(&path.display().to_string(), &text)
        .map(Some)
        .map_err(ServiceError::bad_input)
}

/// The money outside the agreements on `as_of`: what the tracker in the compact directory
/// counts and no commitment in the log holds (none without a tracker file, or when the
/// reporting currency is not the tracker's EUR).
pub fn outside_of(
    dir: &Path,
    compact: &compact_model::Compact,
    figures: &[compact_engine::Figures],
    as_of: Date,
) -> Result<Vec<Outside>> {
    Ok(match local_tracker(dir)? {
        Some(t) if compact.currency == "EUR" => outside(compact, figures, &t, as_of),
        _ => Vec::new(),
    })
}
