//! `compact log list` (the log, browsed like `git log`) and `compact schema` (each statement
//! type's payload, field by field, with an example `submit` takes as it is).

use std::process::ExitCode;

use anyhow::anyhow;
use compact_service::api::v1log::EntryList;
use compact_service::entries::{EntryFilter, LIMIT_MAX};
use compact_statement::Kind;
use compact_statement::schema::{Schema, schema};

use crate::Format;
use crate::ledger::{Place, PlaceExt as _};
use crate::output::{out, plural, table};

/// `compact log list`: a page of the log's entries, from the local store or the server.
pub fn log_list(place: &Place, filter: &EntryFilter, format: Format) -> anyhow::Result<ExitCode> {
    let list = match crate::client::server() {
        Some(server) => server.get_json::<EntryList>(&format!("/v1/entries?{}", query(filter)))?,
        None => {
            let compact = place.compact()?;
            compact_service::entries::list(&place.writer()?, &compact, filter)?
        }
    };
    match format {
        Format::Json => out!("{}", serde_json::to_string_pretty(&list)?),
        Format::Table => print_list(&list, filter)?,
    }
    Ok(ExitCode::SUCCESS)
}

/// The filter as a query string of `/v1/entries`: a limit of 0 (all) is the server's most.
fn query(filter: &EntryFilter) -> String {
    let mut q: Vec<String> = Vec::new();
    if let Some(p) = &filter.party {
        q.push(format!("party={}", encode(p)));
    }
    if let Some(k) = &filter.kind {
        q.push(format!("kind={}", encode(k)));
    }
    if let Some(d) = filter.from {
        q.push(format!("from={d}"));
    }
    if let Some(d) = filter.to {
        q.push(format!("to={d}"));
    }
    q.push(format!("limit={}", filter.limit.unwrap_or(LIMIT_MAX)));
    if let Some(a) = filter.after {
        q.push(format!("after={a}"));
    }
    if filter.oldest_first {
        q.push("reverse=true".to_owned());
    }
    q.join("&")
}

/// Percent-encodes all but the unreserved characters of RFC 3986.
fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn print_list(list: &EntryList, filter: &EntryFilter) -> anyhow::Result<()> {
    if list.entries.is_empty() {
        out!(
            "no entry matches ({} in the log){}",
            plural(usize::try_from(list.size).unwrap_or(usize::MAX), "entry"),
            if filter.party.is_none()
                && filter.kind.is_none()
                && filter.from.is_none()
                && filter.to.is_none()
                && filter.after.is_none()
            {
                ""
            } else {
                "; drop a filter to see more"
            }
        );
        return Ok(());
    }
    let rows = list
        .entries
        .iter()
        .map(|e| {
            vec![
                e.index.to_string(),
                e.received.clone().unwrap_or_else(|| "-".to_owned()),
                e.author.clone(),
                e.kind.clone(),
                match e.retracted_by {
                    Some(by) => format!("{} (retracted by entry {by})", e.summary),
                    None => e.summary.clone(),
                },
            ]
        })
        .collect();
    out!(
        "{}",
        table(
            &["entry", "received", "author", "type", "what it says"],
            rows,
            &[0]
        )
    );
    let shown = list.entries.len();
    out!(
        "{} of {} matching, {} in the log; {}",
        shown,
        list.matched,
        list.size,
        if list.order == "oldest-first" {
            "oldest first"
        } else {
            "newest first (--reverse: oldest first)"
        }
    );
    if let Some(after) = list.next_after {
        out!("more: add --after {after} (or --limit 0 for all)");
    }
    out!("One entry whole, with its signature: compact log entry N");
    Ok(())
}

/// A statement type on the command line (`compact schema TYPE`), else a usage error with the
/// nearest types.
pub fn kind_arg(s: &str) -> Result<Kind, String> {
    Kind::parse(s.trim()).ok_or_else(|| compact_service::ledger::unknown_kind(s.trim()))
}

/// The schema of `kind`, or an error naming the kind that lacks one.
fn schema_of(kind: Kind) -> anyhow::Result<&'static Schema> {
    schema(kind).ok_or_else(|| anyhow!("statement type `{}` has no schema yet", kind.as_str()))
}

/// `compact schema [TYPE]`.
pub fn schema_cmd(kind: Option<Kind>, format: Format) -> anyhow::Result<ExitCode> {
    match (kind, format) {
        (None, Format::Json) => {
            let all = Kind::ALL
                .into_iter()
                .map(schema_of)
                .collect::<anyhow::Result<Vec<_>>>()?;
            out!("{}", serde_json::to_string_pretty(&all)?);
        }
        (Some(k), Format::Json) => out!("{}", serde_json::to_string_pretty(schema_of(k)?)?),
        (None, Format::Table) => {
            let rows = Kind::ALL
                .into_iter()
                .map(|k| {
                    let s = schema(k);
                    vec![
                        k.as_str().to_owned(),
                        s.map_or("-", |s| s.signed_by).to_owned(),
                        s.map_or("(no schema yet)", |s| s.summary).to_owned(),
                    ]
                })
                .collect();
            out!(
                "{}",
                table(&["type", "signed by", "what it says"], rows, &[])
            );
            out!(
                "The fields of a type's payload, with an example: compact schema TYPE. Submit one: compact submit --type TYPE --key FILE --payload JSON"
            );
        }
        (Some(k), Format::Table) => print_schema(schema_of(k)?)?,
    }
    Ok(ExitCode::SUCCESS)
}

/// One type's payload: what it says, who signs it, its fields and an example.
pub fn print_schema(s: &Schema) -> anyhow::Result<()> {
    out!("{}: {}", s.kind, s.summary);
    out!("Signed by {}.", s.signed_by);
    if let Some(c) = s.command {
        out!("Made by `{c}` (or `compact submit --type {}`).", s.kind);
    }
    let rows = s
        .fields
        .iter()
        .map(|f| {
            vec![
                f.name.to_owned(),
                f.ty.to_owned(),
                if f.required { "required" } else { "optional" }.to_owned(),
                f.meaning.to_owned(),
            ]
        })
        .collect();
    out!(
        "{}",
        table(&["field", "type", "required", "meaning"], rows, &[])
    );
    out!("Example:");
    out!(
        "compact submit --type {} --key keys/CODE.key --payload '{}'",
        s.kind,
        s.example
    );
    Ok(())
}
