//! `compact activate`, `compact threat`, `compact respond` and `compact activation`: the
//! day an attack comes, rehearsed.

use std::path::Path;
use std::process::ExitCode;

use compact_service::api::v1::{Activation, AnswerState, Measure, SurgeKind};
use compact_statement::{
    AttackDeclare, ConsultationRespond, Measure as ResponseMeasure, Payload, ThreatLevel,
    format_time,
};
use jiff::Timestamp;

use crate::Format;
use crate::ledger::{Place, PlaceExt as _, sign_and_append};
use crate::output::{money, out, plural, table};

/// The largest measures file read.
const MEASURES_MAX: u64 = 1 << 20;

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
        a.trigger.text(),
        a.asked.len()
    );
    let rows = a
        .asked
        .iter()
        .map(|x| {
            vec![
                x.guarantor.clone(),
                x.agreement.clone(),
                format!("{} h", x.hours),
                x.deadline.clone(),
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
    at: Timestamp,
    summary: &str,
    time: Option<Timestamp>,
    operator_key: Option<&Path>,
) -> anyhow::Result<ExitCode> {
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
    time: Option<Timestamp>,
    operator_key: Option<&Path>,
) -> anyhow::Result<ExitCode> {
    // One reading of the operator's clock for both the statement's time and the level's (the
    // compact is read first: under a replay clock, now is the log's last receipt).
    place.compact()?;
    let from = crate::ledger::time_or_clock(time)?;
    let payload = Payload::ThreatLevel(ThreatLevel { level, from });
    let (index, st) = sign_and_append(place, key, payload, Some(from), operator_key)?;
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
    time: Option<Timestamp>,
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
        .map(|x| (x.state, x.deadline.clone()));
    match state {
        Some((s, deadline)) => out!(
            "entry {index}: {} answered activation {activation}: {} (deadline {deadline})",
            st.author,
            s.as_str(),
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
    at: Option<Timestamp>,
    format: Format,
) -> anyhow::Result<ExitCode> {
    let now = at.unwrap_or_else(Timestamp::now);
    let Some(id) = id else {
        let all = load(place, now)?;
        match format {
            Format::Json => out!("{}", serde_json::to_string_pretty(&all)?),
            Format::Table => print_list(&all)?,
        }
        return Ok(ExitCode::SUCCESS);
    };
    let governed = place.governed()?;
    let a = compact_service::reports::activation(&place.writer()?, &governed, id, now)?;
    match format {
        Format::Json => out!("{}", serde_json::to_string_pretty(&a)?),
        Format::Table => print_timeline(&a, now)?,
    }
    Ok(ExitCode::SUCCESS)
}

fn print_list(all: &[Activation]) -> anyhow::Result<()> {
    if all.is_empty() {
        out!("no activation: no attack declared, no threat level that asks a guarantor to consult");
        return Ok(());
    }
    let rows = all
        .iter()
        .map(|a| {
            vec![
                a.entry.to_string(),
                a.trigger.text(),
                a.declared_at.clone(),
                a.asked.len().to_string(),
                a.count(AnswerState::Answered).to_string(),
                a.count(AnswerState::Late).to_string(),
                a.count(AnswerState::Missing).to_string(),
                a.count(AnswerState::Pending).to_string(),
                if a.withdrawn.is_some() {
                    "withdrawn"
                } else if a.open {
                    "open"
                } else {
                    "closed"
                }
                .into(),
                a.summary.clone().unwrap_or_default(),
            ]
        })
        .collect();
    out!(
        "{}",
        table(
            &[
                "activation",
                "trigger",
                "declared",
                "asked",
                "answered",
                "late",
                "missing",
                "pending",
                "state",
                "what was declared"
            ],
            rows,
            &[0, 3, 4, 5, 6, 7]
        )
    );
    let withdrawn = all.iter().filter(|a| a.withdrawn.is_some()).count();
    let open = all
        .iter()
        .filter(|a| a.open && a.withdrawn.is_none())
        .count();
    let count = |s: AnswerState| all.iter().map(|a| a.count(s)).sum::<usize>();
    out!(
        "{} ({open} open{}); {} asked to consult: {}",
        plural(all.len(), "activation"),
        if withdrawn > 0 {
            format!(", {withdrawn} withdrawn")
        } else {
            String::new()
        },
        plural(all.iter().map(|a| a.asked.len()).sum(), "guarantor"),
        answer_counts(count)
    );
    out!(
        "activation: the log entry of its declaration, the ID that `compact activation ID` and `compact respond ID` take; missing: no answer and the deadline passed; pending: the deadline has not passed."
    );
    Ok(())
}

/// Where the answers stand, in words: `2 answered by the deadline, 0 late, 1 missing, 0
/// pending` (and how many are no longer asked, when an activation was withdrawn).
fn answer_counts(count: impl Fn(AnswerState) -> usize) -> String {
    let mut text = format!(
        "{} answered by the deadline, {} late, {} missing, {} pending",
        count(AnswerState::Answered),
        count(AnswerState::Late),
        count(AnswerState::Missing),
        count(AnswerState::Pending)
    );
    let withdrawn = count(AnswerState::Withdrawn);
    if withdrawn > 0 {
        text.push_str(&format!(", {withdrawn} no longer asked (withdrawn)"));
    }
    text
}

fn print_timeline(a: &Activation, now: Timestamp) -> anyhow::Result<()> {
    out!(
        "activation {} — {} declared {}{}{}",
        a.entry,
        a.trigger.text(),
        a.declared_at,
        a.attack_at
            .as_ref()
            .map(|t| format!(", attack began {t}"))
            .unwrap_or_default(),
        match (&a.withdrawn, a.open) {
            (Some(_), _) => " (withdrawn)",
            (None, true) => "",
            (None, false) => " (closed)",
        }
    );
    if let Some(s) = &a.summary {
        out!("{s}");
    }
    if let Some(w) = &a.withdrawn {
        out!(
            "withdrawn by the beneficiary at entry {} on {}: {}",
            w.entry,
            w.at,
            w.reason
        );
    }
    out!("as of {}", format_time(now));
    let rows = a
        .asked
        .iter()
        .map(|x| {
            vec![
                x.guarantor.clone(),
                x.agreement.clone(),
                x.deadline.clone(),
                x.state.as_str().into(),
                x.answered_at.clone().unwrap_or_default(),
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
                "answered at",
                "answer's entry",
                "measures"
            ],
            rows,
            &[5]
        )
    );
    out!(
        "{} asked: {}",
        plural(a.asked.len(), "guarantor"),
        answer_counts(|s| a.count(s))
    );
    if a.withdrawn.is_some() {
        out!("nothing falls due on it from its withdrawal (the timeline before it: --at)");
        return Ok(());
    }
    if a.surges.is_empty() {
        out!("nothing falls due: no scaling rule or sanctions commitment is set off");
        return Ok(());
    }
    out!("what now falls due:");
    let rows = a
        .surges
        .iter()
        .map(|s| {
            vec![
                s.guarantor.clone(),
                s.commitment.clone(),
                s.pillar.clone(),
                match &s.kind {
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
                s.due.clone(),
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
    Ok(())
}
