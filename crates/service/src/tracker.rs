//! The independent tracker's figures a compact directory carries.

use std::path::Path;

use std::str::FromStr as _;

use compact_engine::reconcile::{CATEGORIES, Outside, Tracker, TrackerFigure, alpha2, outside};
use jiff::civil::Date;
use rust_decimal::Decimal;

use crate::error::{ErrorKind, Result, ServiceError};

/// The data set's copy of the tracker's yearly figures, in a compact directory.
pub const TRACKER_FILE: &str = "tracker/kiel-release29.toml";

/// The tracker's figures carried in the compact directory, when it has them.
pub fn local_tracker(dir: &Path) -> Result<Option<Tracker>> {
    let path = dir.join(TRACKER_FILE);
    if !path.exists() {
        return Ok(None);
    }
    let text = compact_files::read_text(&path).map_err(ServiceError::bad_input)?;
    Tracker::parse(&path.display().to_string(), &text)
        .map(Some)
        .map_err(ServiceError::bad_input)
}

/// The tracker's yearly figures the data set embeds in the binary (Kiel Institute, Ukraine
/// Support Tracker, Release 29: the copy `compact init` writes to [`TRACKER_FILE`]).
pub fn embedded_tracker() -> Result<Tracker> {
    let (_, bytes) = compact_files::embedded::all()
        .into_iter()
        .find(|(rel, _)| rel == TRACKER_FILE)
        .ok_or_else(|| ServiceError::internal(format!("the data set has no {TRACKER_FILE}")))?;
    let text = std::str::from_utf8(bytes)
        .map_err(|_| ServiceError::internal(format!("{TRACKER_FILE}: not UTF-8")))?;
    Tracker::parse(TRACKER_FILE, text).map_err(ServiceError::internal)
}

/// The tracker figures `reconcile kiel` reads when given no file: the compact directory's
/// copy, or else the data set's.
pub fn carried_tracker(dir: &Path) -> Result<Tracker> {
    match local_tracker(dir)? {
        Some(t) => Ok(t),
        None => embedded_tracker(),
    }
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

/// A malformed input, with its cause.
fn bad(message: String, e: csv::Error) -> ServiceError {
    ServiceError::caused(ErrorKind::BadInput, message, e)
}

/// Reads the tracker's country-month CSV (the layout of its `data_explorer.csv`: `iso`,
/// `year`, `month`, and `military`, `financial`, `humanitarian` in EUR bn). Returns the figures
/// in EUR and the last month covered. `shown` names the input in errors.
pub fn read_kiel(input: impl std::io::Read, shown: &str) -> Result<(Vec<TrackerFigure>, Date)> {
    let mut reader = csv::Reader::from_reader(input);
    let headers = reader
        .headers()
        .map_err(|e| bad(format!("{shown}: no header row"), e))?
        .clone();
    let column = |name: &str| {
        headers.iter().position(|h| h == name).ok_or_else(|| {
            ServiceError::bad_input(format!(
                "{shown}: missing column `{name}` (the tracker's data_explorer.csv layout)"
            ))
        })
    };
    let (iso, year, month) = (column("iso")?, column("year")?, column("month")?);
    let cats: Vec<(usize, &'static str)> = CATEGORIES
        .iter()
        .map(|c| column(c).map(|i| (i, *c)))
        .collect::<Result<_, _>>()?;
    let billion = Decimal::new(1_000_000_000, 0);
    let mut out = Vec::new();
    let mut last = (0i16, 0i8);
    for (n, record) in reader.records().enumerate() {
        let row = n + 2;
        let record = record.map_err(|e| bad(format!("{shown}:{row}: malformed row"), e))?;
        let field = |i: usize, name: &str| {
            record.get(i).ok_or_else(|| {
                ServiceError::bad_input(format!("{shown}:{row}: column `{name}` is missing"))
            })
        };
        let number = |i: usize, name: &str| -> Result<Decimal> {
            let v = field(i, name)?;
            Decimal::from_str(v.trim())
                .or_else(|_| Decimal::from_scientific(v.trim()))
                .map_err(|_| {
                    ServiceError::bad_input(format!(
                        "{shown}:{row}: column `{name}`: `{v}` is not a number"
                    ))
                })
        };
        let y: i16 = field(year, "year")?.trim().parse().map_err(|_| {
            ServiceError::bad_input(format!(
                "{shown}:{row}: column `year`: `{}` is not a year",
                record.get(year).unwrap_or("")
            ))
        })?;
        let m: i8 = field(month, "month")?.trim().parse().map_err(|_| {
            ServiceError::bad_input(format!(
                "{shown}:{row}: column `month`: `{}` is not a month",
                record.get(month).unwrap_or("")
            ))
        })?;
        last = last.max((y, m));
        let Some(party) = alpha2(field(iso, "iso").unwrap_or("")) else {
            continue;
        };
        for (i, cat) in &cats {
            let v = number(*i, cat)?;
            if !v.is_zero() {
                out.push(TrackerFigure {
                    party: party.to_owned(),
                    year: y,
                    category: cat,
                    allocated: v * billion,
                });
            }
        }
    }
    let end = Date::new(last.0, last.1.clamp(1, 12), 1)
        .and_then(|d| d.last_of_month().checked_add(jiff::Span::new()))
        .map_err(|_| ServiceError::bad_input(format!("{shown}: no dated rows")))?;
    Ok((out, end))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_kiel_csv_gives_euros_per_donor_and_its_last_month() -> Result<()> {
        let csv = "iso,year,month,military,financial,humanitarian\nGBR,2024,3,0.5,0,0.01\nXXX,2024,5,1,1,1\n";
        let (figures, end) = read_kiel(csv.as_bytes(), "k.csv")?;
        assert_eq!(end.to_string(), "2024-05-31");
        let gb: Vec<_> = figures.iter().filter(|f| f.party == "GB").collect();
        assert_eq!(gb.len(), 2, "zero figures are left out: {figures:?}");
        assert_eq!(
            gb.first().map(|f| f.allocated.to_string()),
            Some("500000000.0".to_owned())
        );
        let missing = read_kiel("iso,year\n".as_bytes(), "k.csv")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            missing.starts_with("k.csv: missing column `month`"),
            "{missing}"
        );
        let bad = read_kiel(
            "iso,year,month,military,financial,humanitarian\nGBR,20x4,3,0,0,0\n".as_bytes(),
            "k.csv",
        )
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
        assert!(bad.starts_with("k.csv:2: column `year`"), "{bad}");
        Ok(())
    }
}
