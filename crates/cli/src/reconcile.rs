//! `compact reconcile kiel [FILE]`: the log beside the Kiel Institute's Ukraine Support Tracker,
//! its country-month CSV or the yearly figures the compact carries.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context as _, anyhow};
use compact_engine::reconcile::TrackerFigure;
use compact_service::api::v1::ReconcileLine;
use jiff::civil::Date;
use rust_decimal::Decimal;

use crate::RowsFormat;
use crate::ledger::{Place, PlaceExt as _};
use crate::output::{csv, money, out, table};

/// Reads the tracker's country-month CSV (see `compact_service::tracker::read_kiel`).
fn read_kiel(path: &Path) -> anyhow::Result<(Vec<TrackerFigure>, Date)> {
    let shown = path.display().to_string();
    let file = std::fs::File::open(path).with_context(|| format!("cannot read {shown}"))?;
    Ok(compact_service::tracker::read_kiel(file, &shown)?)
}

/// `compact reconcile kiel`.
pub fn kiel(
    place: &Place,
    file: Option<&Path>,
    from: Option<i16>,
    to: Option<i16>,
    format: RowsFormat,
) -> anyhow::Result<ExitCode> {
    let governed = place.governed()?;
    if governed.compact.currency != "EUR" {
        return Err(anyhow!(
            "the tracker counts in EUR; this compact reports in {}",
            governed.compact.currency
        ));
    }
    let (tracker, end, source) = match file {
        Some(file) => {
            let (figures, end) = read_kiel(file)?;
            (figures, end, file.display().to_string())
        }
        None => {
            let t = compact_service::tracker::carried_tracker(&place.dir)?;
            (t.figures, t.period_end, t.source)
        }
    };
    let r = compact_service::reports::reconcile_kiel(
        &place.writer()?,
        &governed,
        tracker,
        end,
        &source,
        from,
        to,
    )?;
    let (from, to, lines) = (r.from, r.to, &r.lines);
    let period = format!("{from}-{to}");
    match format {
        RowsFormat::Json => out!("{}", serde_json::to_string_pretty(&r)?),
        RowsFormat::Csv => {
            let rows = lines.iter().map(ReconcileLine::cells).collect();
            out!("{}", csv(&ReconcileLine::COLUMNS, rows)?);
        }
        RowsFormat::Table => {
            out!(
                "The log beside the Kiel tracker (allocations, EUR), the same period on both sides: {period} (to {end}; --from/--to to change it)"
            );
            out!("Tracker figures: {source}");
            let mut by_party: BTreeMap<&str, (Decimal, Decimal, Decimal, Decimal, Decimal)> =
                BTreeMap::new();
            let mut notes: BTreeMap<&str, &str> = BTreeMap::new();
            let mut synthetic_confirmed: BTreeMap<&str, bool> = BTreeMap::new();
            for l in lines {
                synthetic_confirmed.insert(l.party.as_str(), l.log_confirmed_synthetic);
                let e = by_party.entry(l.party.as_str()).or_default();
                e.0 += l.tracker;
                e.1 += l.log_allocated;
                e.2 += l.log_confirmed;
                e.4 += l.outside;
                if let Some(why) = l.explained.as_deref() {
                    e.3 += l.difference;
                    notes.insert(l.party.as_str(), why);
                }
            }
            let rows = by_party
                .iter()
                .map(|(p, (t, a, c, explained, outside))| {
                    let synthetic = synthetic_confirmed.get(p).copied().unwrap_or(false);
                    vec![
                        (*p).to_owned(),
                        money(*t),
                        money(*a),
                        money(*outside),
                        crate::status::marked(money(*c), synthetic && !c.is_zero()),
                        money(*a + *outside - *t - *explained),
                        if explained.is_zero() {
                            String::new()
                        } else {
                            money(*explained)
                        },
                    ]
                })
                .collect();
            out!(
                "{}",
                table(
                    &[
                        "party",
                        "tracker",
                        "log allocated",
                        "outside the agreements",
                        "log confirmed",
                        "difference",
                        "explained"
                    ],
                    rows,
                    &[1, 2, 3, 4, 5, 6]
                )
            );
            out!(
                "outside the agreements: tracker money no commitment of its category could hold (beyond what the agreements schedule for the year, or no commitment); a structural difference, not a gap. difference = log allocated + outside - tracker."
            );
            for (p, why) in &notes {
                out!("explained ({p}): {why}");
            }
            if lines.iter().any(|l| !l.synthetic_figures.is_empty()) {
                out!("{}", crate::status::SYNTHETIC_LEGEND);
            }
            out!("By year and category: --format csv or json.");
        }
    }
    Ok(ExitCode::SUCCESS)
}
