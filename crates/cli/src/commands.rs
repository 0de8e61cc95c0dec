//! The subcommands.

use std::fs;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use compact_files::{embedded, load_file};
use compact_model::{Agreement, Compact, Schedule};
use compact_service::api::v1::CheckSummary;

use crate::Format;
use crate::output::{grouped, money, out, plural, print_diagnostics, table};

/// Reads and validates a compact directory, printing every finding to stderr. `None` when
/// there was an error.
pub(crate) fn load(dir: &Path) -> Option<Compact> {
    load_with_files(dir).map(|(compact, _)| compact)
}

/// [`load`], with the files read (to substitute the signed terms the log holds).
pub(crate) fn load_with_files(dir: &Path) -> Option<(Compact, Vec<compact_model::SourceFile>)> {
    let v = compact_service::validate_dir(dir);
    let (errors, warnings) = print_diagnostics(&v.diagnostics, |p| v.loaded.text_of(p));
    match v.compact {
        None => {
            eprintln!(
                "error: {} is not a valid compact: {}, {}",
                v.shown,
                plural(errors.max(1), "error"),
                plural(warnings, "warning")
            );
            None
        }
        Some(compact) => {
            if warnings > 0 {
                eprintln!("{}: {}", v.shown, plural(warnings, "warning"));
            }
            Some((compact, v.loaded.files))
        }
    }
}

pub fn check(dir: &Path, format: Format) -> anyhow::Result<ExitCode> {
    let Some(compact) = load(dir) else {
        return Ok(ExitCode::from(1));
    };
    print_summary(
        &compact,
        &compact_service::reports::check_summary(&compact),
        format,
    )?;
    unregistered_keys(dir, &compact);
    Ok(ExitCode::SUCCESS)
}

/// Warns of keys in `parties/*.toml` that the log in `dir` has not registered: they sign
/// nothing. Silent when there is no store.
fn unregistered_keys(dir: &Path, compact: &Compact) {
    let path = dir.join(crate::ledger::STORE_FILE);
    if !path.exists() {
        return;
    }
    let facts = compact_store_sqlite::SqliteStore::open_read_only(&path)
        .map_err(|e| e.to_string())
        .and_then(|s| compact_store::stored_facts(&s, compact).map_err(|e| e.to_string()));
    let facts = match facts {
        Ok(f) => f,
        Err(e) => {
            eprintln!(
                "warning: cannot read the log's keys from {}: {e}",
                path.display()
            );
            return;
        }
    };
    for (code, party) in &compact.parties {
        for k in &party.keys {
            let registered = facts.keys.values().any(|r| r.vkey.trim() == k.key.trim());
            if !registered {
                eprintln!(
                    "warning: parties/{code}.toml lists key {} that the log has not registered: it signs nothing (a party's root key registers its keys: `compact keygen --party {code}`)",
                    compact_statement::rules::vkey_ref(&k.key)
                );
            }
        }
    }
}

fn print_summary(compact: &Compact, s: &CheckSummary, format: Format) -> anyhow::Result<()> {
    if format == Format::Json {
        out!("{}", serde_json::to_string_pretty(s)?);
        return Ok(());
    }
    let beneficiary = compact
        .parties
        .get(&compact.beneficiary)
        .map_or("", |p| p.name.as_str());
    out!("{} ({}): valid", compact.title, compact.id);
    out!(
        "beneficiary {} ({beneficiary}); reporting currency {}; ends on the beneficiary's accession to {}",
        compact.beneficiary,
        compact.currency,
        compact.end.organisation
    );
    out!("");
    let rows = s
        .groups
        .iter()
        .map(|g| {
            let kind = compact
                .groups
                .iter()
                .find(|x| x.id == g.id)
                .map_or("", |x| match x.guarantees {
                    compact_model::Guarantees::Military => "military",
                    compact_model::Guarantees::NonMilitary => "non-military",
                });
            vec![
                format!("{} ({})", g.name, g.id),
                kind.to_owned(),
                g.parties.len().to_string(),
                g.parties.join(" "),
            ]
        })
        .collect();
    out!("Parties by group");
    out!(
        "{}",
        table(&["group", "guarantees", "parties", "codes"], rows, &[2])
    );
    if !s.without_agreement.is_empty() {
        out!(
            "guarantors without an agreement: {}",
            s.without_agreement.join(" ")
        );
    }
    out!("");
    out!(
        "Agreements: {} ({} synthetic)",
        s.agreements,
        s.agreements_synthetic
    );
    let rows = s
        .pillars
        .iter()
        .map(|p| {
            vec![
                p.pillar.clone(),
                p.commitments.to_string(),
                p.synthetic.to_string(),
            ]
        })
        .collect();
    out!("");
    out!("Commitments by pillar");
    out!(
        "{}",
        table(
            &["pillar", "commitments", "of which synthetic"],
            rows,
            &[1, 2]
        )
    );
    let rows = s
        .years
        .iter()
        .map(|y| {
            vec![
                y.year.to_string(),
                money(y.sourced),
                money(y.synthetic),
                money(y.total),
            ]
        })
        .collect();
    out!("");
    out!("Scheduled money per year ({})", s.currency);
    out!(
        "{}",
        table(&["year", "sourced", "synthetic", "total"], rows, &[1, 2, 3])
    );
    if s.years.iter().any(|y| !y.synthetic.is_zero()) {
        out!(
            "synthetic: not from a source (`synthetic = true` in the data set, or a synthetic GDP figure or rate)."
        );
    }
    if !s.units.is_empty() {
        let rows = s
            .units
            .iter()
            .map(|u| vec![u.year.to_string(), u.unit.clone(), grouped(u.quantity)])
            .collect();
        out!("");
        out!("Scheduled units per year");
        out!("{}", table(&["year", "unit", "quantity"], rows, &[2]));
    }
    if !s.unvalued.is_empty() {
        out!("");
        out!("Not valued ({}):", s.unvalued.len());
        for u in &s.unvalued {
            out!("  {u}");
        }
    }
    Ok(())
}

pub fn digest(file: &Path, canonical: bool, format: Format) -> anyhow::Result<ExitCode> {
    let loaded = load_file(file);
    let shown = file.display().to_string();
    let Some(source) = loaded.files.first() else {
        print_diagnostics(&loaded.diagnostics, |p| loaded.text_of(p));
        return Ok(ExitCode::from(1));
    };
    let agreement = match compact_model::agreement_alone(source) {
        Ok(a) => a,
        Err(diags) => {
            let (errors, _) = print_diagnostics(&diags, |_| Some(source.text.as_str()));
            eprintln!(
                "error: {shown} is not a valid agreement: {}",
                plural(errors, "error")
            );
            return Ok(ExitCode::from(1));
        }
    };
    let report = compact_service::reports::digest_report(&agreement)?;
    if canonical {
        let bytes = compact_model::canonical_bytes(&agreement)?;
        out!("{}", String::from_utf8_lossy(&bytes));
    } else if format == Format::Json {
        out!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        out!("{}", report.digest);
    }
    Ok(ExitCode::SUCCESS)
}

fn schedule_text(s: &Schedule) -> (String, String) {
    match s {
        Schedule::Once { due, amount } => (amount.to_string(), format!("once, by {due}")),
        Schedule::Yearly {
            from,
            to,
            month,
            day,
            amount,
        } => (
            format!("{amount} a year"),
            format!("yearly {from}-{to}, by {month:02}-{day:02}"),
        ),
        Schedule::Tranches { tranches } => (
            tranches
                .iter()
                .map(|t| format!("{}: {}", t.due, t.amount))
                .collect::<Vec<_>>()
                .join("\n"),
            format!("{} tranches", tranches.len()),
        ),
    }
}

fn show_agreement_table(compact: &Compact, a: &Agreement, digest: &str) -> anyhow::Result<()> {
    let party = |code: &str| {
        compact.parties.get(code).map_or(code.to_owned(), |p| {
            format!(
                "{code} ({}{})",
                p.name,
                p.group
                    .as_deref()
                    .map(|g| format!(", {g}"))
                    .unwrap_or_default()
            )
        })
    };
    out!("{} version {}: {}", a.id, a.version, a.title);
    let consultation = a.consultation.as_ref().map_or("none".to_owned(), |c| {
        let on = match c.trigger {
            compact_model::ConsultationTrigger::Attack => "an armed attack".to_owned(),
            compact_model::ConsultationTrigger::AttackOrThreat { level } => {
                format!("an armed attack or a threat at level {level} or above")
            }
        };
        format!(
            "within {} hours of {on}{}",
            c.hours_or(compact.consultation_hours),
            c.clause
                .as_deref()
                .map(|c| format!(" (clause {c})"))
                .unwrap_or_default()
        )
    });
    let rows = vec![
        vec!["guarantor".into(), party(&a.guarantor)],
        vec!["beneficiary".into(), party(&a.beneficiary)],
        vec!["signed on".into(), a.signed_on.to_string()],
        vec![
            "in force".into(),
            format!("{} to {} (inclusive)", a.in_force_from, a.ends_on),
        ],
        vec![
            "on accession".into(),
            serde_json::to_value(a.on_accession)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default(),
        ],
        vec!["consultation".into(), consultation],
        vec!["source".into(), a.source.clone()],
        vec![
            "synthetic".into(),
            if a.synthetic { "yes" } else { "no" }.into(),
        ],
        vec!["digest".into(), format!("sha256:{digest}")],
    ];
    out!("{}", table(&["", ""], rows, &[]));
    if let Some(n) = &a.notes {
        out!("notes: {n}");
    }
    let rows = a
        .commitments
        .iter()
        .map(|c| {
            let (amount, schedule) = schedule_text(&c.schedule);
            let scaling = c
                .scaling
                .iter()
                .map(|r| {
                    let on = match r.trigger {
                        compact_model::ScalingTrigger::Attack => "attack".to_owned(),
                        compact_model::ScalingTrigger::Threat { level } => {
                            format!("threat >= {level}")
                        }
                    };
                    format!(
                        "x{} on {on}, within {} days{}",
                        r.factor,
                        r.within_days,
                        if r.synthetic { " (synthetic)" } else { "" }
                    )
                })
                .collect::<Vec<_>>()
                .join("\n");
            vec![
                c.id.clone(),
                c.pillar.clone(),
                crate::output::amount(&amount),
                schedule,
                scaling,
                if c.synthetic || a.synthetic {
                    "synthetic"
                } else {
                    "sourced"
                }
                .into(),
            ]
        })
        .collect();
    out!("");
    out!("Commitments");
    out!(
        "{}",
        table(
            &["id", "pillar", "amount", "schedule", "scaling", "origin"],
            rows,
            &[]
        )
    );
    if !a.clauses.is_empty() {
        let rows = a
            .clauses
            .iter()
            .map(|c| {
                let words = match (&c.quote, &c.summary) {
                    (Some(q), _) => format!("\"{q}\""),
                    (None, Some(s)) => format!("(summary) {s}"),
                    (None, None) => String::new(),
                };
                vec![
                    c.id.clone(),
                    format!("{words}{}", if c.synthetic { " (synthetic)" } else { "" }),
                ]
            })
            .collect();
        out!("");
        out!("Clauses");
        out!("{}", table(&["id", "quote"], rows, &[]));
    }
    Ok(())
}

pub fn show_agreement(
    dir: &Path,
    id: &str,
    version: Option<u32>,
    format: Format,
) -> anyhow::Result<ExitCode> {
    let Some(compact) = load(dir) else {
        return Ok(ExitCode::from(1));
    };
    let detail = compact_service::reports::agreement_detail(&compact, id, version)?;
    match format {
        Format::Json => out!("{}", serde_json::to_string_pretty(&detail)?),
        Format::Table => {
            let Some(a) = compact.agreement(id, version) else {
                bail!("unknown agreement `{id}`");
            };
            show_agreement_table(&compact, a, &detail.digest)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Writes the shipped data set into `dir`, which must not exist or be empty.
pub(crate) fn write_data_set(dir: &Path) -> anyhow::Result<()> {
    if dir.exists() {
        let empty = fs::read_dir(dir)
            .with_context(|| format!("cannot read {}", dir.display()))?
            .next()
            .is_none();
        if !empty {
            bail!(
                "{} is not empty: give a new or empty directory for the demo",
                dir.display()
            );
        }
    }
    for (rel, bytes) in embedded::all() {
        let path = dir.join(&rel);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        fs::write(&path, bytes).with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}
