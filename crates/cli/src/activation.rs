//! `compact activate`, `compact threat`, `compact respond` and `compact activation`: the
//! day an attack comes, rehearsed.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context as _, anyhow};
use compact_engine::Measure;
use compact_engine::activation::{Activation, AnswerState, SurgeKind};
use compact_statement::activation::Trigger;
use compact_statement::{
    AttackDeclare, ConsultationRespond, Measure as ResponseMeasure, Payload, ThreatLevel,
    format_time,
};
use jiff::Timestamp;

use crate::Format;
use crate::ledger::{Place, PlaceExt as _, parse_time, sign_and_append};
use crate::output::{money, out, table};

/// The largest measures file read.
const MEASURES_MAX: u64 = 1 << 20;

fn trigger_text(t: Trigger) -> String {
    match t {
        Trigger::Attack => "armed attack".into(),
        Trigger::Threat { level } => format!("threat level {level}"),
    }
}

fn load(place: &Place, now: Timestamp) -> anyhow::Result<Vec<Activation>> {
    let governed = place.governed()?;
    Ok(compact_service::reports::activations(
        &place.writer()?,
        &governed,
        now,
    )?)
}

/// The time the log received entry `index` (not the author's own time, which may lie before).
fn received_at(place: &Place, index: u64) -> anyhow::Result<Timestamp> {
    Ok(compact_service::reports::received_at(
        &place.writer()?,
        index,
    )?)
}

/// The activations after entry `index` was appended, as of its receipt; `None`, with a
/// warning, when they cannot be computed: the entry is written all the same, and the command
/// succeeded.
fn after_append(place: &Place, index: u64) -> Option<Vec<Activation>> {
    match received_at(place, index).and_then(|now| load(place, now)) {
        Ok(all) => Some(all),
        Err(e) => {
            eprintln!("warning: entry {index} is written, but its timeline cannot be shown: {e:#}");
            None
        }
    }
}

fn print_asked(a: &Activation) -> anyhow::Result<()> {
    if a.asked.is_empty() {
        out!("no guarantor has an agreement in force with a consultation clause this sets off");
        return Ok(());
    }
    out!(
        "activation {} ({}): {} guarantors asked to consult",
        a.entry,
        trigger_text(a.trigger),
        a.asked.len()
    );
    let rows = a
        .asked
        .iter()
        .map(|x| {
            vec![
                x.asked.guarantor.clone(),
                x.asked.agreement.clone(),
                format!("{} h", x.asked.hours),
                format_time(x.asked.deadline),
            ]
        })
        .collect();
    out!(
        "{}",
        table(
            &["guarantor", "agreement", "within", "deadline"],
            rows,
            &[2]
        )
    );
    Ok(())
}

/// `compact activate`: the beneficiary declares an armed attack.
pub fn activate(
    place: &Place,
    key: &Path,
    at: &str,
    summary: &str,
    time: Option<&str>,
    operator_key: Option<&Path>,
) -> anyhow::Result<ExitCode> {
    let at = parse_time(Some(at)).context("--at")?;
    let payload = Payload::AttackDeclare(AttackDeclare {
        at,
        summary: summary.to_owned(),
    });
    let (index, st) = sign_and_append(place, key, payload, time, operator_key)?;
    out!(
        "entry {index}: {} declared an armed attack at {}",
        st.author,
        format_time(at)
    );
    if let Some(all) = after_append(place, index) {
        match all.iter().find(|a| a.entry == index) {
            Some(a) => print_asked(a)?,
            None => out!(
                "no guarantor has an agreement in force with a consultation clause this sets off"
            ),
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `compact threat`: the beneficiary sets the threat level.
pub fn threat(
    place: &Place,
    key: &Path,
    level: u8,
    time: Option<&str>,
    operator_key: Option<&Path>,
) -> anyhow::Result<ExitCode> {
    // One reading of the operator's clock for both the statement's time and the level's (the
    // compact is read first: under a replay clock, now is the log's last receipt).
    place.compact()?;
    let from = crate::ledger::parse_time_or_clock(time)?;
    let at = format_time(from);
    let payload = Payload::ThreatLevel(ThreatLevel { level, from });
    let (index, st) = sign_and_append(place, key, payload, Some(&at), operator_key)?;
    out!(
        "entry {index}: {} set the threat level to {level}",
        st.author
    );
    if let Some(a) = after_append(place, index)
        .as_ref()
        .and_then(|all| all.iter().find(|a| a.entry == index))
    {
        print_asked(a)?;
    }
    Ok(ExitCode::SUCCESS)
}

fn read_measures(path: &Path) -> anyhow::Result<Vec<ResponseMeasure>> {
    use compact_service::measures::{MeasuresSyntax, parse_measures};
    let text = crate::input::read_text_capped(path, MEASURES_MAX, "a measures file")?;
    let syntax = if path.extension().is_some_and(|e| e == "toml") {
        MeasuresSyntax::Toml
    } else {
        MeasuresSyntax::Json
    };
    Ok(parse_measures(&text, syntax, &path.display().to_string())?)
}

/// `compact respond`: a guarantor's signed response to an activation.
pub fn respond(
    place: &Place,
    activation: u64,
    key: &Path,
    measures: &Path,
    time: Option<&str>,
    operator_key: Option<&Path>,
) -> anyhow::Result<ExitCode> {
    let measures = read_measures(measures)?;
    let payload = Payload::ConsultationRespond(ConsultationRespond {
        activation,
        measures,
    });
    let (index, st) = sign_and_append(place, key, payload, time, operator_key)?;
    let all = after_append(place, index).unwrap_or_default();
    let state = all
        .iter()
        .find(|a| a.entry == activation)
        .and_then(|a| a.asked.iter().find(|x| x.response == Some(index)))
        .map(|x| (x.state, x.asked.deadline));
    match state {
        Some((s, deadline)) => out!(
            "entry {index}: {} answered activation {activation}: {} (deadline {})",
            st.author,
            s.as_str(),
            format_time(deadline)
        ),
        None => out!(
            "entry {index}: {} answered activation {activation}",
            st.author
        ),
    }
    Ok(ExitCode::SUCCESS)
}

/// `compact activation [ID]`: the timeline.
pub fn show(
    place: &Place,
    id: Option<u64>,
    at: Option<&str>,
    format: Format,
) -> anyhow::Result<ExitCode> {
    let now = match at {
        Some(t) => parse_time(Some(t)).context("--at")?,
        None => Timestamp::now(),
    };
    let all = load(place, now)?;
    let Some(id) = id else {
        match format {
            Format::Json => out!("{}", serde_json::to_string_pretty(&all)?),
            Format::Table => {
                if all.is_empty() {
                    out!(
                        "no activation: no attack declared, no threat level that asks a guarantor to consult"
                    );
                    return Ok(ExitCode::SUCCESS);
                }
                let count = |a: &Activation, s: AnswerState| {
                    a.asked.iter().filter(|x| x.state == s).count().to_string()
                };
                let rows = all
                    .iter()
                    .map(|a| {
                        vec![
                            a.entry.to_string(),
                            trigger_text(a.trigger),
                            format_time(a.declared_at),
                            a.asked.len().to_string(),
                            count(a, AnswerState::Answered),
                            count(a, AnswerState::Late),
                            count(a, AnswerState::Missing),
                            count(a, AnswerState::Pending),
                            if a.open { "open" } else { "closed" }.into(),
                        ]
                    })
                    .collect();
                out!(
                    "{}",
                    table(
                        &[
                            "id", "trigger", "declared", "asked", "answered", "late", "missing",
                            "pending", ""
                        ],
                        rows,
                        &[0, 3, 4, 5, 6, 7]
                    )
                );
            }
        }
        return Ok(ExitCode::SUCCESS);
    };
    let a = all.iter().find(|a| a.entry == id).ok_or_else(|| {
        anyhow!(
            "no activation at entry {id}{}",
            if all.is_empty() {
                String::new()
            } else {
                format!(
                    " (activations: {})",
                    all.iter()
                        .map(|a| a.entry.to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            }
        )
    })?;
    if let Format::Json = format {
        out!("{}", serde_json::to_string_pretty(a)?);
        return Ok(ExitCode::SUCCESS);
    }
    out!(
        "activation {} — {} declared {}{}{}",
        a.entry,
        trigger_text(a.trigger),
        format_time(a.declared_at),
        a.attack_at
            .map(|t| format!(", attack began {}", format_time(t)))
            .unwrap_or_default(),
        if a.open { "" } else { " (closed: accession)" }
    );
    if let Some(s) = &a.summary {
        out!("{s}");
    }
    out!("as of {}", format_time(now));
    let rows = a
        .asked
        .iter()
        .map(|x| {
            vec![
                x.asked.guarantor.clone(),
                x.asked.agreement.clone(),
                format_time(x.asked.deadline),
                x.state.as_str().into(),
                x.answered_at.map(format_time).unwrap_or_default(),
                x.response.map(|r| r.to_string()).unwrap_or_default(),
                x.measures
                    .iter()
                    .map(|m| format!("{}: {}", m.kind, m.description))
                    .collect::<Vec<_>>()
                    .join("; "),
            ]
        })
        .collect();
    out!(
        "{}",
        table(
            &[
                "guarantor",
                "agreement",
                "deadline",
                "state",
                "answered",
                "entry",
                "measures"
            ],
            rows,
            &[5]
        )
    );
    if a.surges.is_empty() {
        out!("nothing falls due: no scaling rule or sanctions commitment is set off");
    } else {
        out!("what now falls due:");
        let rows = a
            .surges
            .iter()
            .map(|s| {
                vec![
                    s.guarantor.clone(),
                    s.commitment.clone(),
                    s.pillar.clone(),
                    match s.kind {
                        SurgeKind::Scaling { factor } => format!("surge x{factor}"),
                        SurgeKind::SnapBack { scheduled_for } => {
                            format!("sanctions snap back (was due {scheduled_for})")
                        }
                    },
                    crate::status::marked(
                        match &s.measure {
                            Measure::Money => money(s.amount),
                            Measure::Units(u) => format!("{} {u}", s.amount.normalize()),
                        },
                        s.synthetic,
                    ),
                    s.due.to_string(),
                ]
            })
            .collect();
        out!(
            "{}",
            table(
                &[
                    "guarantor",
                    "commitment",
                    "pillar",
                    "what",
                    "amount",
                    "due by"
                ],
                rows,
                &[4]
            )
        );
        if a.surges.iter().any(|s| s.synthetic) {
            out!("{}", crate::status::SYNTHETIC_LEGEND);
        }
    }
    Ok(ExitCode::SUCCESS)
}
