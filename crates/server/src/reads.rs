//! The read routes: each parses its query, asks `compact_service` on a blocking thread and
//! answers with an API v1 type as JSON. Reports are cached per log size.

use std::sync::Arc;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use compact_engine::report::By;
use compact_service::api::v1::{
    AgreementPage, AgreementRow, ConsistencyProof, Explain, InclusionProof, LogEntry, StatusReport,
};
use compact_service::api::v1log::{EntryList, LogHead, PublicKeys};
use compact_service::{Result as ServiceResult, ServiceError, reports};
use compact_store::Reads as _;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::problem::Problem;
use crate::state::AppState;

/// JSON bytes as a response.
pub(crate) fn json_bytes(body: &[u8]) -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_vec(),
    )
        .into_response()
}

/// A value as a JSON response.
pub(crate) fn json<T: Serialize>(value: &T) -> Response {
    match serde_json::to_vec(value) {
        Ok(body) => json_bytes(&body),
        Err(e) => Problem::from(ServiceError::internal(e.to_string())).into_response(),
    }
}

/// Runs `f` on a blocking thread (the store and the engine are synchronous).
pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> std::result::Result<T, Problem> + Send + 'static,
) -> std::result::Result<T, Problem> {
    tokio::task::spawn_blocking(f).await.unwrap_or_else(|e| {
        Err(Problem::from(ServiceError::internal(format!(
            "the request failed: {e}"
        ))))
    })
}

/// A query string read into `T`; one that does not fit is answered 400 with what is wrong.
pub(crate) struct Queried<T>(pub T);

impl<T: serde::de::DeserializeOwned, S: Send + Sync> axum::extract::FromRequestParts<S>
    for Queried<T>
{
    type Rejection = Problem;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> std::result::Result<Self, Problem> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(q)| Queried(q))
            .map_err(|e: QueryRejection| {
                Problem::bad_request(format!("the query: {}", e.body_text()))
            })
    }
}

/// A date as `YYYY-MM-DD`.
pub(crate) fn date(name: &str, text: &str) -> std::result::Result<Date, Problem> {
    compact_service::parse::date(text)
        .map_err(|e| Problem::bad_request(format!("{name}={text}: {e}")))
}

/// The date a query gives as `name`, else the operator clock's today (UTC) at `snapshot`.
pub(crate) fn date_or_today(
    state: &AppState,
    snapshot: &crate::state::Snapshot,
    name: &str,
    given: Option<&str>,
) -> std::result::Result<Date, Problem> {
    match given {
        Some(d) => date(name, d),
        None => Ok(today(state, snapshot.governed.last_receipt)),
    }
}

/// The date a query means by default: the operator clock's today (UTC).
pub(crate) fn today(state: &AppState, last_receipt: Option<jiff::Timestamp>) -> Date {
    state
        .clock()
        .statement_time(last_receipt)
        .to_zoned_datetime(jiff::tz::TimeZone::UTC)
        .date()
}

pub(crate) fn service<T>(r: ServiceResult<T>) -> std::result::Result<T, Problem> {
    r.map_err(Problem::from)
}

/// `GET /v1/log`: origin, size, latest checkpoint and operator key.
#[utoipa::path(get, path = "/v1/log", tag = "log", responses((status = 200, description = "The log's origin, size, latest checkpoint and operator key", body = LogHead)))]
pub async fn log(State(state): State<Arc<AppState>>) -> Response {
    let answer = blocking(move || {
        let snapshot = service(state.snapshot())?;
        let checkpoint = service(state.read(|s| Ok(s.latest_checkpoint()?)))?;
        Ok(LogHead {
            origin: snapshot.governed.compact.id.clone(),
            size: checkpoint.as_ref().map_or(0, |(n, _)| *n),
            checkpoint: checkpoint.map(|(_, note)| String::from_utf8_lossy(&note).into_owned()),
            operator_key: snapshot.governed.facts.operator_key.clone(),
            witnesses: state
                .witnesses()
                .0
                .iter()
                .map(|w| compact_service::api::v1log::WitnessKey {
                    name: w.name.clone(),
                    key: w.key.clone(),
                })
                .collect(),
            quorum: state.witnesses().1,
            adopted_on: snapshot.governed.compact.adopted_on.to_string(),
        })
    })
    .await;
    match answer {
        Ok(head) => json(&head),
        Err(p) => p.into_response(),
    }
}

/// `GET /v1/keys`: the operator's key and every party key the log registered.
#[utoipa::path(get, path = "/v1/keys", tag = "log", responses((status = 200, description = "The operator key and every party key the log registered", body = PublicKeys)))]
pub async fn keys(State(state): State<Arc<AppState>>) -> Response {
    match blocking(move || Ok(PublicKeys::of(&service(state.snapshot())?.governed.facts))).await {
        Ok(keys) => json(&keys),
        Err(p) => p.into_response(),
    }
}

/// The query of `/v1/agreements`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AgreementsQuery {
    /// The date (default: today).
    #[param(format = Date)]
    on: Option<String>,
}

/// `GET /v1/agreements?on=DATE`: every agreement's latest version as it governs.
#[utoipa::path(get, path = "/v1/agreements", tag = "reports", params(AgreementsQuery), responses((status = 200, description = "Every agreement as it governs on the date", body = Vec<AgreementRow>), (status = 400, description = "A malformed query", body = Problem, content_type = "application/problem+json")))]
pub async fn agreements(
    State(state): State<Arc<AppState>>,
    Queried(q): Queried<AgreementsQuery>,
) -> Response {
    let answer = blocking(move || {
        let snapshot = service(state.snapshot())?;
        let on = date_or_today(&state, &snapshot, "on", q.on.as_deref())?;
        Ok(reports::agreements(&snapshot.governed, on))
    })
    .await;
    match answer {
        Ok(rows) => json(&rows),
        Err(p) => p.into_response(),
    }
}

/// The query of `/v1/agreements/{id}`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AgreementQuery {
    /// The date its status is for (default: today).
    #[param(format = Date)]
    on: Option<String>,
    /// The version whose terms to show (default: the latest).
    #[param(minimum = 1)]
    version: Option<u32>,
}

/// `GET /v1/agreements/{id}?on=DATE&version=N`: an agreement's terms, status and signatures.
#[utoipa::path(get, path = "/v1/agreements/{id}", tag = "reports", params(("id" = String, Path, description = "The agreement's id"), AgreementQuery), responses((status = 200, description = "The agreement's terms, its status on the date and every signature in the log", body = AgreementPage), (status = 400, description = "A malformed query", body = Problem, content_type = "application/problem+json"), (status = 404, description = "No such agreement or version (with suggestions)", body = Problem, content_type = "application/problem+json")))]
pub async fn agreement(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    Queried(q): Queried<AgreementQuery>,
) -> Response {
    let answer = blocking(move || {
        let snapshot = service(state.snapshot())?;
        let on = date_or_today(&state, &snapshot, "on", q.on.as_deref())?;
        service(reports::agreement_page(
            &snapshot.governed,
            &id,
            q.version,
            on,
        ))
    })
    .await;
    match answer {
        Ok(page) => json(&page),
        Err(p) => p.into_response(),
    }
}

/// The query of `/v1/status`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct StatusQuery {
    /// The date (default: today).
    #[param(format = Date)]
    as_of: Option<String>,
    /// Only the log's first entries.
    at_size: Option<u64>,
    /// guarantor (default), pillar, year, group or commitment.
    #[param(pattern = "^(guarantor|pillar|year|group|commitment)$")]
    by: Option<String>,
}

/// `GET /v1/status?as_of=DATE&at_size=N&by=guarantor`: what was owed, delivered and
/// confirmed.
#[utoipa::path(get, path = "/v1/status", tag = "reports", params(StatusQuery), responses((status = 200, description = "What was owed, delivered and confirmed", body = StatusReport), (status = 400, description = "A malformed query", body = Problem, content_type = "application/problem+json")))]
pub async fn status(
    State(state): State<Arc<AppState>>,
    Queried(q): Queried<StatusQuery>,
) -> Response {
    let answer = blocking(move || {
        let snapshot = service(state.snapshot())?;
        let as_of = date_or_today(&state, &snapshot, "as_of", q.as_of.as_deref())?;
        let by: By =
            q.by.as_deref()
                .unwrap_or("guarantor")
                .parse()
                .map_err(|_| {
                    Problem::bad_request(format!(
                        "by={}: expected guarantor, pillar, year, group or commitment",
                        q.by.as_deref().unwrap_or_default()
                    ))
                })?;
        let key = format!("status {as_of} {:?} {:?}", q.at_size, by);
        state.cached(&key, snapshot.size, || {
            let size = match q.at_size {
                Some(n) if n > snapshot.size => {
                    return Err(Problem::bad_request(format!(
                        "at_size={n} is beyond the log's {} entries",
                        snapshot.size
                    )));
                }
                Some(n) => n,
                None => snapshot.size,
            };
            let report = service(state.with_records(size, |log| {
                reports::status_in(&state.place.dir, &snapshot.governed, log, as_of, by)
            })?)?;
            serde_json::to_vec(&report)
                .map_err(|e| Problem::from(ServiceError::internal(e.to_string())))
        })
    })
    .await;
    match answer {
        Ok(body) => json_bytes(&body),
        Err(p) => p.into_response(),
    }
}

/// The query of `/v1/explain/{commitment}`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ExplainQuery {
    /// The date (default: today).
    #[param(format = Date)]
    as_of: Option<String>,
}

/// `GET /v1/explain/{commitment}?as_of=DATE`: what is behind a commitment's figures.
#[utoipa::path(get, path = "/v1/explain/{commitment}", tag = "reports", params(("commitment" = String, Path, description = "The commitment's id"), ExplainQuery), responses((status = 200, description = "The figures of a commitment and the entries behind them", body = Explain), (status = 400, description = "A malformed query", body = Problem, content_type = "application/problem+json"), (status = 404, description = "No such commitment (with suggestions)", body = Problem, content_type = "application/problem+json")))]
pub async fn explain(
    State(state): State<Arc<AppState>>,
    Path(commitment): Path<String>,
    Queried(q): Queried<ExplainQuery>,
) -> Response {
    let answer = blocking(move || {
        let snapshot = service(state.snapshot())?;
        let as_of = date_or_today(&state, &snapshot, "as_of", q.as_of.as_deref())?;
        let key = format!("explain {commitment} {as_of}");
        state.cached(&key, snapshot.size, || {
            let report = service(state.with_records(snapshot.size, |log| {
                reports::explain_in(&snapshot.governed, log, &commitment, as_of)
            })?)?;
            serde_json::to_vec(&report)
                .map_err(|e| Problem::from(ServiceError::internal(e.to_string())))
        })
    })
    .await;
    match answer {
        Ok(body) => json_bytes(&body),
        Err(p) => p.into_response(),
    }
}

/// An index in a path.
fn index(text: &str) -> std::result::Result<u64, Problem> {
    text.parse().map_err(|_| {
        Problem::bad_request(format!(
            "`{text}` is not an entry index (a whole number from 0)"
        ))
    })
}

/// `GET /v1/entries/{index}`: one entry, its leaf and its statement.
#[utoipa::path(get, path = "/v1/entries/{index}", tag = "log", params(("index" = u64, Path, description = "The entry's index")), responses((status = 200, description = "The entry: its leaf and statement", body = LogEntry), (status = 400, description = "Not an index", body = Problem, content_type = "application/problem+json"), (status = 404, description = "Beyond the log", body = Problem, content_type = "application/problem+json")))]
pub async fn entry(State(state): State<Arc<AppState>>, Path(i): Path<String>) -> Response {
    let answer = blocking(move || {
        let i = index(&i)?;
        service(state.read(|s| reports::log_entry_in(s, i)))
    })
    .await;
    match answer {
        Ok(e) => json(&e),
        Err(p) => p.into_response(),
    }
}

/// The query of `/v1/entries/{index}/proof`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ProofQuery {
    /// The tree size (default: the log's).
    size: Option<u64>,
}

/// `GET /v1/entries/{index}/proof?size=N`: the entry's inclusion proof.
#[utoipa::path(get, path = "/v1/entries/{index}/proof", tag = "log", params(("index" = u64, Path, description = "The entry's index"), ProofQuery), responses((status = 200, description = "The entry's RFC 6962 inclusion proof", body = InclusionProof), (status = 400, description = "A malformed query", body = Problem, content_type = "application/problem+json"), (status = 404, description = "Beyond the log", body = Problem, content_type = "application/problem+json")))]
pub async fn inclusion(
    State(state): State<Arc<AppState>>,
    Path(i): Path<String>,
    Queried(q): Queried<ProofQuery>,
) -> Response {
    let answer = blocking(move || {
        let i = index(&i)?;
        service(state.read(|s| reports::inclusion_proof_in(s, i, q.size)))
    })
    .await;
    match answer {
        Ok(p) => json(&p),
        Err(p) => p.into_response(),
    }
}

/// The query of `/v1/consistency`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ConsistencyQuery {
    /// The older tree size.
    old: u64,
    /// The newer tree size (default: the log's).
    new: Option<u64>,
}

/// `GET /v1/consistency?old=M&new=N`: that the tree of `old` is a prefix of `new`'s.
#[utoipa::path(get, path = "/v1/consistency", tag = "log", params(ConsistencyQuery), responses((status = 200, description = "That the older tree is a prefix of the newer", body = ConsistencyProof), (status = 400, description = "A malformed query", body = Problem, content_type = "application/problem+json"), (status = 404, description = "A size beyond the log", body = Problem, content_type = "application/problem+json")))]
pub async fn consistency(
    State(state): State<Arc<AppState>>,
    Queried(q): Queried<ConsistencyQuery>,
) -> Response {
    let answer = blocking(move || {
        service(state.read(|s| {
            let new = match q.new {
                Some(n) => n,
                None => s.size()?,
            };
            reports::consistency_proof_in(s, q.old, new)
        }))
    })
    .await;
    match answer {
        Ok(p) => json(&p),
        Err(p) => p.into_response(),
    }
}

/// The query of `/v1/entries`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct EntriesQuery {
    /// Only the entries this author signed: a party code (any case), or the compact's id for
    /// the operator's `log.init`.
    party: Option<String>,
    /// Only the entries of this statement type (`delivery.report`, …).
    kind: Option<String>,
    /// Only the entries the log received on or after this day (UTC).
    #[param(format = Date)]
    from: Option<String>,
    /// Only the entries the log received on or before this day (UTC).
    #[param(format = Date)]
    to: Option<String>,
    /// At most this many entries (default 100, at most 10,000).
    #[param(minimum = 0, maximum = 10000)]
    limit: Option<usize>,
    /// Only the entries after this one in the order listed: the next page (the previous
    /// page's `next_after`).
    after: Option<u64>,
    /// Oldest first (default: newest first).
    reverse: Option<bool>,
}

/// The entries a page of `/v1/entries` holds when the query does not say.
const ENTRIES_LIMIT: usize = 100;

/// `GET /v1/entries?party=&kind=&from=&to=&limit=&after=&reverse=`: the log's entries,
/// newest first, filtered, each with its payload in one line.
#[utoipa::path(get, path = "/v1/entries", tag = "log", params(EntriesQuery), responses((status = 200, description = "A page of the log's entries, newest first unless reversed, with how many match and the `after` of the next page", body = EntryList), (status = 400, description = "A malformed query, or an unknown party or statement type (with suggestions)", body = Problem, content_type = "application/problem+json")))]
pub async fn entries(
    State(state): State<Arc<AppState>>,
    Queried(q): Queried<EntriesQuery>,
) -> Response {
    let answer = blocking(move || {
        let limit = q.limit.unwrap_or(ENTRIES_LIMIT);
        if limit > compact_service::entries::LIMIT_MAX {
            return Err(Problem::bad_request(format!(
                "limit={limit}: a page holds at most {} entries (ask for the next with `after`)",
                compact_service::entries::LIMIT_MAX
            )));
        }
        // An index is at most 2^63 - 1, as the document says (int64).
        if let Some(after) = q.after.filter(|a| i64::try_from(*a).is_err()) {
            return Err(Problem::bad_request(format!(
                "after={after}: not an entry index (at most 9223372036854775807)"
            )));
        }
        let snapshot = service(state.snapshot())?;
        let filter = compact_service::entries::EntryFilter {
            party: q.party,
            kind: q.kind,
            from: q.from.as_deref().map(|d| date("from", d)).transpose()?,
            to: q.to.as_deref().map(|d| date("to", d)).transpose()?,
            limit: Some(limit),
            after: q.after,
            oldest_first: q.reverse.unwrap_or(false),
        };
        service(state.with_records(snapshot.size, |log| {
            compact_service::entries::list_in(&snapshot.governed.compact, log.records, &filter)
        })?)
    })
    .await;
    match answer {
        Ok(list) => json(&list),
        Err(p) => p.into_response(),
    }
}
