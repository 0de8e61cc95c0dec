//! `compact reconcile kiel FILE`: the log beside the Kiel Institute's Ukraine Support Tracker.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context as _, anyhow};
use compact_engine::fulfilment;
use compact_engine::reconcile::{Tracker, TrackerFigure, reconcile};
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
    file: &Path,
    from: Option<i16>,
    to: Option<i16>,
    format: RowsFormat,
) -> anyhow::Result<ExitCode> {
    let compact = place.compact()?;
    if compact.currency != "EUR" {
        return Err(anyhow!(
            "the tracker counts in EUR; this compact reports in {}",
            compact.currency
        ));
    }
    let (tracker, end) = read_kiel(file)?;
    let store = place.store()?;
    let (statements, _) = crate::status::statements(&store, None)?;
    let figures = fulfilment(&compact, &statements, end)?;
    // The log's period by default: from the first year it allocates anything (or its first
    // statement's) to the tracker's end.
    let first_logged = figures
        .iter()
        .flat_map(|f| f.years.iter())
        .filter(|(_, y)| !y.allocated.is_zero())
        .map(|(year, _)| *year)
        .min()
        .or_else(|| {
            statements
                .first()
                .map(|(_, s)| jiff::tz::TimeZone::UTC.to_datetime(s.time).year())
        });
    let from = from.or(first_logged).unwrap_or(end.year());
    let to = to.unwrap_or(end.year());
    if from > to {
        return Err(anyhow!("--from {from} is after --to {to}"));
    }
    // What no commitment could hold: the booking rule over the tracker's figures.
    let booking = compact_engine::booking::book(
        &compact,
        &Tracker {
            source: file.display().to_string(),
            period_end: end,
            figures: tracker.clone(),
        },
        from,
    )?;
    let lines: Vec<_> = reconcile(&compact, &figures, &tracker, &booking.outside)
        .into_iter()
        .filter(|l| (from..=to).contains(&l.year))
        .collect();
    let period = format!("{from}-{to}");
    match format {
        RowsFormat::Json => out!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "as_of": end.to_string(), "from": from, "to": to, "currency": "EUR",
                "lines": lines.iter().map(|l| {
                    let mut v = serde_json::to_value(l).unwrap_or_default();
                    if let Some(o) = v.as_object_mut() {
                        // The tracker's figures and the log's allocations are sourced; the
                        // confirmations may be generated.
                        let synthetic = synthetic_confirmed(&figures, &l.party)
                            && !l.log_confirmed.is_zero();
                        o.insert(
                            "synthetic_figures".into(),
                            serde_json::json!(if synthetic { vec!["log_confirmed"] } else { vec![] }),
                        );
                    }
                    v
                }).collect::<Vec<_>>(),
            }))?
        ),
        RowsFormat::Csv => {
            let rows = lines
                .iter()
                .map(|l| {
                    vec![
                        l.party.clone(),
                        l.year.to_string(),
                        l.category.clone(),
                        l.tracker.to_string(),
                        l.log_allocated.to_string(),
                        l.log_confirmed.to_string(),
                        l.outside.to_string(),
                        l.difference.to_string(),
                        l.explained.unwrap_or_default().to_owned(),
                        synthetic_confirmed(&figures, &l.party).to_string(),
                    ]
                })
                .collect();
            let header = [
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
            out!("{}", csv(&header, rows)?);
        }
        RowsFormat::Table => {
            out!(
                "The log beside the Kiel tracker (allocations, EUR), the same period on both sides: {period} (to {end}; --from/--to to change it)"
            );
            let mut by_party: BTreeMap<&str, (Decimal, Decimal, Decimal, Decimal, Decimal)> =
                BTreeMap::new();
            let mut notes: BTreeMap<&str, &str> = BTreeMap::new();
            for l in &lines {
                let e = by_party.entry(l.party.as_str()).or_default();
                e.0 += l.tracker;
                e.1 += l.log_allocated;
                e.2 += l.log_confirmed;
                e.4 += l.outside;
                if let Some(why) = l.explained {
                    e.3 += l.difference;
                    notes.insert(l.party.as_str(), why);
                }
            }
            let rows = by_party
                .iter()
                .map(|(p, (t, a, c, explained, outside))| {
                    let synthetic = synthetic_confirmed(&figures, p);
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
            if lines
                .iter()
                .any(|l| synthetic_confirmed(&figures, &l.party) && !l.log_confirmed.is_zero())
            {
                out!("{}", crate::status::SYNTHETIC_LEGEND);
            }
            out!("By year and category: --format csv or json.");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Whether any confirmed delivery of the party in the log is generated.
fn synthetic_confirmed(figures: &[compact_engine::Figures], party: &str) -> bool {
    figures
        .iter()
        .any(|f| f.guarantor == party && f.marks.confirmed)
}
