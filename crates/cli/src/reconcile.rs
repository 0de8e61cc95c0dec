//! `compact reconcile kiel FILE`: the log beside the Kiel Institute's Ukraine Support Tracker.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::ExitCode;
use std::str::FromStr;

use anyhow::{Context as _, anyhow};
use compact_engine::fulfilment;
use compact_engine::reconcile::{CATEGORIES, TrackerFigure, alpha2, reconcile};
use jiff::civil::Date;
use rust_decimal::Decimal;

use crate::RowsFormat;
use crate::ledger::Place;
use crate::output::{csv, money, out, table};

/// Reads the tracker's country-month CSV (the layout of its `data_explorer.csv`: `iso`,
/// `year`, `month`, and `military`, `financial`, `humanitarian` in EUR bn). Returns the figures
/// in EUR and the last month covered.
fn read_kiel(path: &Path) -> anyhow::Result<(Vec<TrackerFigure>, Date)> {
    let shown = path.display();
    let mut reader =
        csv::Reader::from_path(path).with_context(|| format!("cannot read {shown}"))?;
    let headers = reader
        .headers()
        .with_context(|| format!("{shown}: no header row"))?
        .clone();
    let column = |name: &str| {
        headers.iter().position(|h| h == name).ok_or_else(|| {
            anyhow!("{shown}: missing column `{name}` (the tracker's data_explorer.csv layout)")
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
        let record = record.with_context(|| format!("{shown}:{row}: malformed row"))?;
        let field = |i: usize, name: &str| {
            record
                .get(i)
                .ok_or_else(|| anyhow!("{shown}:{row}: column `{name}` is missing"))
        };
        let number = |i: usize, name: &str| -> anyhow::Result<Decimal> {
            let v = field(i, name)?;
            Decimal::from_str(v.trim())
                .or_else(|_| Decimal::from_scientific(v.trim()))
                .map_err(|_| anyhow!("{shown}:{row}: column `{name}`: `{v}` is not a number"))
        };
        let y: i16 = field(year, "year")?.trim().parse().map_err(|_| {
            anyhow!(
                "{shown}:{row}: column `year`: `{}` is not a year",
                record.get(year).unwrap_or("")
            )
        })?;
        let m: i8 = field(month, "month")?.trim().parse().map_err(|_| {
            anyhow!(
                "{shown}:{row}: column `month`: `{}` is not a month",
                record.get(month).unwrap_or("")
            )
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
        .map_err(|_| anyhow!("{shown}: no dated rows"))?;
    Ok((out, end))
}

/// `compact reconcile kiel`.
pub fn kiel(place: &Place, file: &Path, format: RowsFormat) -> anyhow::Result<ExitCode> {
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
    let lines = reconcile(&compact, &figures, &tracker);
    match format {
        RowsFormat::Json => out!(
            "{}",
            serde_json::to_string_pretty(
                &serde_json::json!({ "as_of": end.to_string(), "currency": "EUR", "lines": lines })
            )?
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
                        l.difference.to_string(),
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
                "difference",
            ];
            out!("{}", csv(&header, rows)?);
        }
        RowsFormat::Table => {
            out!("The log beside the Kiel tracker (allocations, EUR), to {end}");
            let mut by_party: BTreeMap<&str, (Decimal, Decimal, Decimal)> = BTreeMap::new();
            for l in &lines {
                let e = by_party.entry(l.party.as_str()).or_default();
                e.0 += l.tracker;
                e.1 += l.log_allocated;
                e.2 += l.log_confirmed;
            }
            let rows = by_party
                .iter()
                .map(|(p, (t, a, c))| {
                    vec![
                        (*p).to_owned(),
                        money(*t),
                        money(*a),
                        money(*c),
                        money(*a - *t),
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
                        "log confirmed",
                        "difference"
                    ],
                    rows,
                    &[1, 2, 3, 4]
                )
            );
            out!("By year and category: --format csv or json.");
        }
    }
    Ok(ExitCode::SUCCESS)
}
