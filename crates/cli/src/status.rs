//! `compact status`: the engine's figures from the log, grouped into rows.

use std::process::ExitCode;

use anyhow::{Context as _, anyhow};
use compact_engine::fulfilment;
use compact_engine::report::{By, Row, StatusReport, status as group};
use compact_statement::Statement;
use compact_store::Store;
use jiff::civil::Date;

use crate::RowsFormat;
use crate::ledger::{Place, today};
use crate::output::{money, out, table};

/// Reads the log's first `size` statements (all, by default), in order.
fn statements(
    store: &impl Store,
    size: Option<u64>,
) -> anyhow::Result<(Vec<(u64, Statement)>, u64)> {
    let logged = store.size()?;
    let size = match size {
        Some(n) if n > logged => {
            return Err(anyhow!(
                "--at-size {n} is beyond the log's {logged} entries"
            ));
        }
        Some(n) => n,
        None => logged,
    };
    let mut out = Vec::new();
    let mut failure = None;
    store.scan(0, &mut |index, leaf| {
        if index >= size {
            return false;
        }
        match Statement::decode(leaf) {
            Ok(st) => out.push((index, st)),
            Err(e) => {
                failure = Some(anyhow!(
                    "entry {index} does not decode ({e}): run `compact verify`"
                ))
            }
        }
        failure.is_none()
    })?;
    match failure {
        Some(e) => Err(e),
        None => Ok((out, size)),
    }
}

fn csv_row(w: &mut csv::Writer<Vec<u8>>, r: &Row) -> anyhow::Result<()> {
    w.write_record([
        r.key.clone(),
        r.due.to_string(),
        r.allocated.to_string(),
        r.reported.to_string(),
        r.confirmed.to_string(),
        r.arrears.to_string(),
        r.on_time_rate.map(|x| x.to_string()).unwrap_or_default(),
    ])?;
    Ok(())
}

fn print(report: &StatusReport, by: &str, format: RowsFormat) -> anyhow::Result<()> {
    match format {
        RowsFormat::Json => out!("{}", serde_json::to_string_pretty(report)?),
        RowsFormat::Csv => {
            let mut w = csv::Writer::from_writer(Vec::new());
            w.write_record([
                by,
                "due",
                "allocated",
                "reported",
                "confirmed",
                "arrears",
                "on_time_rate",
            ])?;
            for r in report.rows.iter().chain(std::iter::once(&report.total)) {
                csv_row(&mut w, r)?;
            }
            let bytes = w.into_inner().map_err(|e| anyhow!("{e}"))?;
            out!("{}", String::from_utf8_lossy(&bytes).trim_end());
        }
        RowsFormat::Table => {
            let rate = |r: &Row| {
                r.on_time_rate.map_or("-".to_owned(), |x| {
                    format!("{:.0}%", x * rust_decimal::Decimal::ONE_HUNDRED)
                })
            };
            let line = |r: &Row| {
                vec![
                    r.key.clone(),
                    money(r.due),
                    money(r.allocated),
                    money(r.reported),
                    money(r.confirmed),
                    money(r.arrears),
                    rate(r),
                ]
            };
            let mut rows: Vec<Vec<String>> = report.rows.iter().map(line).collect();
            rows.push(line(&report.total));
            out!(
                "Status as of {} from {} log entries ({}; only confirmed deliveries count as delivered)",
                report.as_of,
                report.log_size,
                report.currency
            );
            out!(
                "{}",
                table(
                    &[
                        by,
                        "due",
                        "allocated",
                        "reported",
                        "confirmed",
                        "arrears",
                        "on time"
                    ],
                    rows,
                    &[1, 2, 3, 4, 5, 6]
                )
            );
            if !report.units.is_empty() {
                let rows = report
                    .units
                    .iter()
                    .map(|u| {
                        vec![
                            u.key.clone(),
                            u.unit.clone(),
                            money(u.due),
                            money(u.confirmed),
                            money(u.arrears),
                        ]
                    })
                    .collect();
                out!(
                    "{}",
                    table(
                        &[by, "unit", "due", "confirmed", "arrears"],
                        rows,
                        &[2, 3, 4]
                    )
                );
            }
            if report.synthetic {
                out!(
                    "synthetic: some figures rest on data not from a source (`synthetic = true`)."
                );
            }
        }
    }
    Ok(())
}

/// `compact status`.
pub fn status(
    place: &Place,
    as_of: Option<&str>,
    at_size: Option<u64>,
    by: &str,
    format: RowsFormat,
) -> anyhow::Result<ExitCode> {
    let by_key: By = by.parse().map_err(|e: String| anyhow!(e))?;
    let as_of: Date = match as_of {
        Some(d) => d
            .parse()
            .map_err(|e| anyhow!("malformed --as-of `{d}`: {e}"))?,
        None => today(),
    };
    let compact = place.compact()?;
    let store = place.store()?;
    let (statements, size) = statements(&store, at_size).context("reading the log")?;
    let figures = fulfilment(&compact, &statements, as_of)?;
    let report = group(&compact, &figures, by_key, &as_of.to_string(), size);
    print(&report, by, format)?;
    Ok(ExitCode::SUCCESS)
}
