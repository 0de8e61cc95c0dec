//! `compact status`: the engine's figures from the log, grouped into rows.

use std::process::ExitCode;

use compact_engine::report::By;
use compact_service::api::v1::{BurdenReport, Measure, StatusReport, StatusRow, SurgeKind};
use jiff::civil::Date;

use crate::RowsFormat;
use crate::ledger::{Place, PlaceExt as _, today};
use crate::output::{csv, money, out, table};

fn print(report: &StatusReport, by: &str, at_size: bool, format: RowsFormat) -> anyhow::Result<()> {
    match format {
        RowsFormat::Json => out!("{}", serde_json::to_string_pretty(report)?),
        RowsFormat::Csv => {
            let rows = report
                .rows
                .iter()
                .chain(std::iter::once(&report.total))
                .map(StatusRow::cells)
                .collect();
            let mut header = vec![by];
            header.extend(StatusRow::COLUMNS);
            out!("{}", csv(&header, rows)?);
        }
        RowsFormat::Table => {
            out!(
                "Status as of {} ({}; only confirmed deliveries count as delivered): {}",
                report.as_of,
                report.currency,
                entries_line(report, at_size)
            );
            out!("{}", status_table(report, by));
            let unit_surges = report.units.iter().any(|u| !u.surge.is_zero());
            if !report.units.is_empty() {
                let rows = report
                    .units
                    .iter()
                    .map(|u| {
                        let m = |f: &str| u.synthetic_figures.iter().any(|x| x == f);
                        let mut cells = vec![
                            u.key.clone(),
                            u.unit.clone(),
                            marked(money(u.due), m("due")),
                        ];
                        if unit_surges {
                            cells.push(marked(money(u.surge), m("surge")));
                        }
                        cells.extend([
                            marked(money(u.confirmed), m("confirmed")),
                            marked(money(u.arrears), m("arrears")),
                        ]);
                        cells
                    })
                    .collect();
                let mut header = vec![by, "unit", "due"];
                if unit_surges {
                    header.push("surge");
                }
                header.extend(["confirmed", "arrears"]);
                let numeric: Vec<usize> = (2..header.len()).collect();
                out!("{}", table(&header, rows, &numeric));
            }
            if !report.total.surge.is_zero() || unit_surges {
                out!("{SURGE_LEGEND}");
            }
            out!("{ON_TIME_LEGEND}");
            if let Some(first) = report.ended_on_accession.first() {
                let mut by: std::collections::BTreeMap<&str, Vec<&str>> = Default::default();
                for e in &report.ended_on_accession {
                    by.entry(e.guarantor.as_str())
                        .or_default()
                        .push(e.commitment.as_str());
                }
                out!(
                    "Ended on the beneficiary's accession on {} ({} commitments; their clauses say so): {}",
                    first.on,
                    report.ended_on_accession.len(),
                    by.iter()
                        .map(|(g, c)| format!("{g} ({})", c.join(", ")))
                        .collect::<Vec<_>>()
                        .join("; ")
                );
            }
            if !report.total.outside.is_zero() {
                out!("{OUTSIDE_LEGEND}");
            }
            if report.total.synthetic {
                out!("{SYNTHETIC_LEGEND}");
            }
            print_notes(&report.rows)?;
        }
    }
    Ok(())
}

/// How many entries the figures are from: the log's (or its first `--at-size`), and those
/// made by the date.
fn entries_line(report: &StatusReport, at_size: bool) -> String {
    let n = crate::output::plural(
        usize::try_from(report.log_size).unwrap_or(usize::MAX),
        "entry",
    );
    let n = if at_size {
        format!("the log's first {n}")
    } else {
        format!("{n} in the log")
    };
    if report.entries_as_of >= report.log_size {
        format!("{n}, all made on or before {}", report.as_of)
    } else {
        format!(
            "{n}, {} made on or before {} (the {} later count for nothing yet)",
            report.entries_as_of,
            report.as_of,
            report.log_size - report.entries_as_of
        )
    }
}

/// The legend of the `on time` column.
pub(crate) const ON_TIME_LEGEND: &str = "on time: the share of the confirmed deliveries that arrived by their tranche's due date (deliveries fill the earliest tranches first); - when nothing is confirmed.";

/// The legend of the `surge` columns.
pub(crate) const SURGE_LEGEND: &str = "surge: due because an activation set off a scaling rule or brought sanctions forward, apart from the baseline `due`; the arrears count both.";

/// The legend of burden sharing's `gap` column.
pub(crate) const GAP_LEGEND: &str = "gap to allocated: the fair share less the aid allocated in the year (in the log and outside the agreements), positive when short of the share; confirmed deliveries are shown apart and do not enter it.";

/// The marker of a figure that rests on synthetic data, in tables.
pub(crate) const MARK: &str = "*";

/// The legend of [`MARK`].
pub(crate) const SYNTHETIC_LEGEND: &str = "* rests on synthetic data (an amount assumed where the agreement states none, a generated delivery or confirmation, an illustrative figure): not from a source.";

/// The legend of the `outside` column.
pub(crate) const OUTSIDE_LEGEND: &str = "outside: allocations the Kiel tracker (Release 29) counts and no commitment holds, outside the agreements (sourced; no due, no arrears).";

/// The marker of a row whose figures rest on a known structural difference with the tracker.
pub(crate) const NOTE_MARK: &str = " †";

/// The notes of the rows that carry [`NOTE_MARK`], once each.
pub(crate) fn print_notes(rows: &[StatusRow]) -> anyhow::Result<()> {
    let mut notes: Vec<&str> = rows.iter().filter_map(|r| r.note.as_deref()).collect();
    notes.sort_unstable();
    notes.dedup();
    for n in notes {
        out!(
            "†{n}: its allocations and arrears here are a counting artefact, not a measured shortfall."
        );
    }
    Ok(())
}

/// A figure with the synthetic marker when `synthetic`.
pub(crate) fn marked(text: String, synthetic: bool) -> String {
    if synthetic {
        format!("{text}{MARK}")
    } else {
        text
    }
}

/// The rows and the total of a status report as a table; a surge column when an activation
/// made anything due, an outside column when the tracker counts money outside the
/// agreements. Each figure that rests on synthetic data carries [`MARK`].
pub(crate) fn status_table(report: &StatusReport, by: &str) -> String {
    let surges = !report.total.surge.is_zero();
    let outside = !report.total.outside.is_zero();
    let line = |r: &StatusRow| {
        let m = |f: &str| r.marked(f);
        let key = if r.note.is_some() {
            format!("{}{NOTE_MARK}", r.key)
        } else {
            r.key.clone()
        };
        let mut cells = vec![key, marked(money(r.due), m("due"))];
        if surges {
            cells.push(marked(money(r.surge), m("surge")));
        }
        cells.push(marked(money(r.allocated), m("allocated")));
        if outside {
            cells.push(money(r.outside));
        }
        cells.extend([
            marked(money(r.reported), m("reported")),
            marked(money(r.confirmed), m("confirmed")),
            marked(money(r.arrears), m("arrears")),
            marked(
                r.on_time_rate.map_or("-".to_owned(), |x| {
                    format!("{:.0}%", x * rust_decimal::Decimal::ONE_HUNDRED)
                }),
                m("on_time_rate") && r.on_time_rate.is_some(),
            ),
        ]);
        cells
    };
    let rows = report
        .rows
        .iter()
        .chain(std::iter::once(&report.total))
        .map(line)
        .collect();
    let mut header = vec![by, "due"];
    if surges {
        header.push("surge");
    }
    header.push("allocated");
    if outside {
        header.push("outside");
    }
    header.extend(["reported", "confirmed", "arrears", "on time"]);
    let numeric: Vec<usize> = (1..header.len()).collect();
    table(&header, rows, &numeric)
}

/// The first `limit` rows of a burden-sharing report as a table, each figure that rests on
/// synthetic data marked.
pub(crate) fn burden_table(report: &BurdenReport, limit: usize) -> String {
    // Surge obligations, when an activation made any due in the year, apart from the share.
    let surges = report.rows.iter().any(|r| !r.surge.is_zero());
    let rows = report
        .rows
        .iter()
        .take(limit)
        .map(|r| {
            let m = |f: &str| r.synthetic_figures.iter().any(|x| x == f);
            let mut cells = vec![
                r.rank.to_string(),
                r.party.clone(),
                marked(
                    format!("{:.2}%", r.gdp_share * rust_decimal::Decimal::ONE_HUNDRED),
                    m("gdp"),
                ),
                marked(money(r.fair_share), m("gdp")),
                marked(money(r.allocated), m("allocated")),
                money(r.outside),
                marked(money(r.confirmed), m("confirmed")),
                format!("{:.3}%", r.pct_gdp),
                marked(money(r.gap), m("gdp") || m("allocated")),
            ];
            if surges {
                cells.push(money(r.surge));
            }
            cells
        })
        .collect();
    let mut header = vec![
        "rank",
        "party",
        "GDP share",
        "fair share",
        "allocated",
        "of which outside",
        "confirmed",
        "% of GDP",
        "gap to allocated",
    ];
    if surges {
        header.push("surge due");
    }
    let numeric: Vec<usize> = (0..header.len()).filter(|i| *i != 1).collect();
    table(&header, rows, &numeric)
}

/// The guarantors outside a burden report's basis, with their figures.
pub(crate) fn burden_others(report: &BurdenReport) -> String {
    report
        .others
        .iter()
        .map(|o| {
            let m = |f: &str| o.synthetic_figures.iter().any(|x| x == f);
            format!(
                "{} ({}; allocated {}, confirmed {})",
                o.party,
                o.reason,
                marked(money(o.allocated), m("allocated")),
                marked(money(o.confirmed), m("confirmed"))
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// `compact status`.
pub fn status(
    place: &Place,
    as_of: Option<Date>,
    at_size: Option<u64>,
    by_key: By,
    by: &str,
    format: RowsFormat,
) -> anyhow::Result<ExitCode> {
    let as_of = as_of.unwrap_or_else(today);
    let governed = place.governed()?;
    let report =
        compact_service::reports::status(&place.writer()?, &governed, as_of, at_size, by_key)?;
    print(&report, by, at_size.is_some(), format)?;
    if format == RowsFormat::Table {
        for row in &report.lifecycle {
            out!("{}", row.sentence());
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `compact explain`: the schedule lines and the log entries behind one commitment's figures.
pub fn explain(
    place: &Place,
    commitment: &str,
    as_of: Option<Date>,
    format: crate::Format,
) -> anyhow::Result<ExitCode> {
    let as_of = as_of.unwrap_or_else(today);
    let governed = place.governed()?;
    let compact = &governed.compact;
    let explained =
        compact_service::reports::explain(&place.writer()?, &governed, commitment, as_of)?;
    let f = &explained.figures;
    let (schedule, surges, entries) = (&explained.schedule, &explained.surges, &explained.entries);
    match format {
        crate::Format::Json => {
            out!("{}", serde_json::to_string_pretty(&explained)?);
        }
        crate::Format::Table => {
            let names = f.marks.names();
            out!(
                "{} ({}, {}, {}): {} as of {as_of}{}",
                f.commitment,
                f.agreement,
                f.guarantor,
                f.pillar,
                f.status,
                if names.is_empty() {
                    String::new()
                } else {
                    format!(
                        "; synthetic: {} (not from a source; marked * below)",
                        names.join(", ")
                    )
                }
            );
            let rows = schedule
                .iter()
                .map(|s| {
                    vec![
                        s.due.clone(),
                        crate::output::amount(&s.amount),
                        s.value.as_ref().map_or_else(
                            || "-".to_owned(),
                            |v| crate::output::amount(&format!("{v} {}", compact.currency)),
                        ),
                        if s.is_due { "yes" } else { "no" }.to_owned(),
                    ]
                })
                .collect();
            out!("Schedule");
            out!(
                "{}",
                table(&["due", "amount", "value", "due by then"], rows, &[2])
            );
            if !surges.is_empty() {
                let rows = surges
                    .iter()
                    .map(|s| {
                        vec![
                            s.activation.to_string(),
                            match &s.kind {
                                SurgeKind::Scaling { factor } => format!("surge x{factor}"),
                                SurgeKind::SnapBack { scheduled_for } => {
                                    format!("brought forward from {scheduled_for}")
                                }
                            },
                            money(s.amount),
                            s.due.clone(),
                        ]
                    })
                    .collect();
                out!("Set off by activations (apart from the baseline)");
                out!(
                    "{}",
                    table(&["activation", "what", "amount", "due by"], rows, &[0, 2])
                );
            }
            let rows = entries
                .iter()
                .map(|e| {
                    vec![
                        marked(e.index.to_string(), e.synthetic),
                        e.kind.clone(),
                        crate::output::payload(&e.statement),
                    ]
                })
                .collect();
            out!("Log entries");
            out!("{}", table(&["entry", "type", "payload"], rows, &[0]));
            if !explained.retracted.is_empty() {
                let rows = explained
                    .retracted
                    .iter()
                    .map(|r| {
                        vec![
                            r.index.to_string(),
                            r.kind.clone(),
                            crate::output::payload(&r.statement),
                            format!("entry {} at {}: {}", r.retraction, r.retracted_at, r.reason),
                        ]
                    })
                    .collect();
                out!("Retracted by their authors (counted no more)");
                out!(
                    "{}",
                    table(&["entry", "type", "payload", "retracted"], rows, &[0])
                );
            }
            let unit = match &f.measure {
                Measure::Money => compact.currency.clone(),
                Measure::Units(u) => u.clone(),
            };
            let names = f.marks.names();
            let m = |x: &str| names.contains(&x);
            out!(
                "due {} · surge {} · allocated {} · reported {} · confirmed {} · arrears {} ({unit})",
                marked(money(f.due), m("due")),
                marked(money(f.surge), m("surge") && !f.surge.is_zero()),
                marked(money(f.allocated), m("allocated")),
                marked(money(f.reported), m("reported")),
                marked(money(f.confirmed), m("confirmed")),
                marked(money(f.arrears), m("arrears"))
            );
            if f.synthetic {
                out!("{SYNTHETIC_LEGEND}");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `compact burden`.
pub fn burden(
    place: &Place,
    year: i16,
    baseline: &str,
    basis: compact_engine::burden::Basis,
    aid: compact_engine::burden::Aid,
    format: RowsFormat,
) -> anyhow::Result<ExitCode> {
    let governed = place.governed()?;
    let base = compact_service::reports::baseline(baseline)?;
    let report = compact_service::reports::burden(
        &place.writer()?,
        &governed,
        year,
        (base.0, &base.1),
        basis,
        aid,
    )?;
    match format {
        RowsFormat::Json => out!("{}", serde_json::to_string_pretty(&report)?),
        RowsFormat::Csv => {
            out!("{}", csv(&BurdenReport::COLUMNS, report.csv_rows())?);
        }
        RowsFormat::Table => {
            out!(
                "Burden sharing in {year}: a baseline of {} {}; {}",
                money(report.baseline),
                report.currency,
                report.formula
            );
            out!("Source: {}", report.source);
            out!("{}", burden_table(&report, report.rows.len()));
            if !report.others.is_empty() {
                out!("Apart, without a share: {}", burden_others(&report));
            }
            out!("{GAP_LEGEND}");
            out!("{SYNTHETIC_LEGEND}");
        }
    }
    Ok(ExitCode::SUCCESS)
}
