//! Browsing the log (`compact log list`, `GET /v1/entries`): its entries newest first (or
//! oldest first), filtered by author, statement type and receipt date, each in one line.

use compact_model::Compact;
use compact_statement::{Kind, Record, Said as _, format_time};
use jiff::civil::Date;
use serde_json::Value;

use crate::api::v1log::{EntryList, EntryRow};
use crate::error::{Result, ServiceError};
use crate::place::Place;

/// The most entries one page of `GET /v1/entries` holds.
pub const LIMIT_MAX: usize = 10_000;

/// Which entries to list, and in which order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EntryFilter {
    /// Only those this author signed: a party code in any case, or the compact's id (the
    /// operator's `log.init`).
    pub party: Option<String>,
    /// Only those of this statement type.
    pub kind: Option<String>,
    /// Only those the log received on or after this day (UTC).
    pub from: Option<Date>,
    /// Only those the log received on or before this day (UTC).
    pub to: Option<Date>,
    /// At most this many (all when `None`).
    pub limit: Option<usize>,
    /// Only those after this entry in the order listed: the next page.
    pub after: Option<u64>,
    /// Oldest first instead of newest first.
    pub oldest_first: bool,
}

/// The author `given` names: a party code or the compact's id, matched in any case.
fn author(compact: &Compact, given: &str) -> Result<String> {
    let trimmed = given.trim();
    if trimmed.eq_ignore_ascii_case(&compact.id) {
        return Ok(compact.id.clone());
    }
    crate::suggest::party_code(compact, trimmed)
}

/// The page of the log's `records` that `filter` asks for.
pub fn list_in(
    compact: &Compact,
    records: &[(u64, Record)],
    filter: &EntryFilter,
) -> Result<EntryList> {
    let party = filter
        .party
        .as_deref()
        .map(|p| author(compact, p))
        .transpose()?;
    let kind = filter
        .kind
        .as_deref()
        .map(|k| {
            Kind::parse(k.trim())
                .ok_or_else(|| ServiceError::bad_input(crate::ledger::unknown_kind(k.trim())))
        })
        .transpose()?;
    if let (Some(from), Some(to)) = (filter.from, filter.to)
        && from > to
    {
        return Err(ServiceError::bad_input(format!(
            "--from {from} is after --to {to}: no entry can match"
        )));
    }
    let day = |r: &Record| r.at().to_zoned_datetime(jiff::tz::TimeZone::UTC).date();
    let keep = |(i, r): &&(u64, Record)| {
        let after = match (filter.after, filter.oldest_first) {
            (Some(a), true) => *i > a,
            (Some(a), false) => *i < a,
            (None, _) => true,
        };
        after
            && party.as_deref().is_none_or(|p| r.author == p)
            && kind.is_none_or(|k| r.kind() == k)
            && filter.from.is_none_or(|f| day(r) >= f)
            && filter.to.is_none_or(|t| day(r) <= t)
    };
    // Which entries were retracted, and by which: the log as it stands, whatever the filters.
    let retracted: std::collections::HashMap<u64, u64> = records
        .iter()
        .filter(|(_, r)| r.kind() == Kind::StatementRetract)
        .filter_map(|(i, r)| r.payload.reference().map(|e| (e, *i)))
        .collect();
    let ordered: Box<dyn Iterator<Item = &(u64, Record)>> = if filter.oldest_first {
        Box::new(records.iter())
    } else {
        Box::new(records.iter().rev())
    };
    let limit = filter.limit.unwrap_or(usize::MAX);
    let mut entries = Vec::new();
    let mut matched = 0u64;
    for (i, r) in ordered.filter(keep) {
        matched += 1;
        if entries.len() < limit {
            entries.push(row(*i, r, retracted.get(i).copied()));
        }
    }
    let next_after = if (entries.len() as u64) < matched {
        entries.last().map(|e: &EntryRow| e.index)
    } else {
        None
    };
    Ok(EntryList {
        size: records.len() as u64,
        matched,
        order: if filter.oldest_first {
            "oldest-first"
        } else {
            "newest-first"
        }
        .to_owned(),
        entries,
        next_after,
    })
}

/// [`list_in`] over the whole log of `place`.
pub fn list(place: &Place, compact: &Compact, filter: &EntryFilter) -> Result<EntryList> {
    let records = crate::reports::records(place, None)?;
    list_in(compact, &records, filter)
}

/// One record as a row.
fn row(index: u64, r: &Record, retracted_by: Option<u64>) -> EntryRow {
    let payload = r.payload.to_json();
    let kind = r.kind().as_str();
    EntryRow {
        index,
        received: r.received.map(format_time),
        time: format_time(r.time),
        author: r.author.clone(),
        kind: kind.to_owned(),
        summary: summary(kind, &payload),
        refers_to: r.payload.reference(),
        retracted_by,
        payload,
    }
}

/// A member of `p` as text: a string as it is, anything else as JSON; empty when absent.
fn text(p: &Value, name: &str) -> String {
    match p.get(name) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(v) => v.to_string(),
    }
}

/// `, NAME VALUE` when `p` has the member, else nothing.
fn also(p: &Value, label: &str, name: &str) -> String {
    match text(p, name) {
        s if s.is_empty() => String::new(),
        s => format!(", {label}{s}"),
    }
}

/// The name and key id of a C2SP verifier key (`GB+1a2b3c4d+base64` → `GB+1a2b3c4d`).
fn key_ref(key: &str) -> String {
    key.splitn(3, '+').take(2).collect::<Vec<_>>().join("+")
}

/// A statement's payload in one line. A type without a line of its own here reads as its
/// members, `name: value`.
pub fn summary(kind: &str, p: &Value) -> String {
    let t = |name: &str| text(p, name);
    match kind {
        "log.init" => format!("operator key {}", key_ref(&t("operator_key"))),
        "key.register" => format!(
            "{} key {}{}",
            t("role"),
            key_ref(&t("key")),
            also(p, "valid from ", "valid_from")
        ),
        "key.revoke" => format!(
            "revokes {}{}: {}",
            t("key"),
            also(p, "from ", "from"),
            t("reason")
        ),
        "agreement.sign" => {
            let digest = t("digest");
            format!(
                "signs {} version {}, digest {}…",
                t("agreement"),
                t("version"),
                digest.get(..16).unwrap_or(&digest)
            )
        }
        "agreement.suspend" => format!("suspends {}: {}", t("agreement"), t("reason")),
        "agreement.resume" => format!("resumes {}: {}", t("agreement"), t("reason")),
        "agreement.terminate" => format!(
            "gives notice to terminate {}: {}",
            t("agreement"),
            t("reason")
        ),
        "activation.close" => format!("closes activation {}: {}", t("activation"), t("reason")),
        "pledge" => format!(
            "pledges {} for {}{} on {}: {}",
            t("amount"),
            t("pillar"),
            also(p, "on ", "commitment"),
            t("date"),
            t("description")
        ),
        "allocation" => format!(
            "{}: {} earmarked {}, ref {}",
            t("commitment"),
            t("amount"),
            t("date"),
            t("reference")
        ),
        "delivery.report" => format!(
            "{}: {} delivered {}, ref {}{}",
            t("commitment"),
            t("amount"),
            t("date"),
            t("reference"),
            also(p, "allocation ", "allocation")
        ),
        "delivery.confirm" => format!(
            "confirms report {}: {} received {}",
            t("report"),
            match t("amount") {
                a if a.is_empty() => "all".to_owned(),
                a => a,
            },
            t("date")
        ),
        "threat.level" => format!("threat level {} from {}", t("level"), t("from")),
        "attack.declare" => format!("armed attack at {}: {}", t("at"), t("summary")),
        "consultation.respond" => {
            let measures = p
                .get("measures")
                .and_then(Value::as_array)
                .map(|m| {
                    m.iter()
                        .map(|x| text(x, "kind"))
                        .collect::<Vec<_>>()
                        .join(", ")
                })
                .unwrap_or_default();
            format!("answers activation {}: {measures}", t("activation"))
        }
        "accession.declare" => format!("accession on {}", t("on")),
        "statement.retract" => format!("retracts entry {}: {}", t("entry"), t("reason")),
        _ => match p {
            Value::Object(m) => m
                .iter()
                .map(|(k, v)| match v {
                    Value::String(s) => format!("{k}: {s}"),
                    other => format!("{k}: {other}"),
                })
                .collect::<Vec<_>>()
                .join(", "),
            other => other.to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn every_schema_example_reads_in_one_line() {
        for s in compact_statement::schema::SCHEMAS {
            let v: Value = serde_json::from_str(s.example).unwrap();
            let line = summary(s.kind, &v);
            assert!(!line.is_empty() && !line.contains('\n'), "{}", s.kind);
            assert!(!line.contains("{\""), "{}: {line}", s.kind);
        }
        let v: Value = serde_json::from_str(
            r#"{"commitment":"gb-tranches","amount":"500 shells","date":"2024-06-30","reference":"GB-17"}"#,
        )
        .unwrap();
        assert_eq!(
            summary("delivery.report", &v),
            "gb-tranches: 500 shells delivered 2024-06-30, ref GB-17"
        );
        let v: Value = serde_json::from_str(r#"{"report":7,"date":"2024-07-03"}"#).unwrap();
        assert_eq!(
            summary("delivery.confirm", &v),
            "confirms report 7: all received 2024-07-03"
        );
        assert_eq!(
            summary("new.kind", &serde_json::json!({"a": 1, "b": "x"})),
            "a: 1, b: x"
        );
    }
}
