//! The analyses over the log: burden sharing, activations and their timelines, stress
//! what-ifs and the reconciliation with the Kiel tracker. Each parses its query, asks
//! `compact_service` on a blocking thread and answers with an API v1 type; answers are cached
//! per log size. The work of a request is bounded: a stress request runs at most
//! [`SCENARIOS_MAX`] scenarios.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use compact_engine::burden::{Aid, Basis};
use compact_service::api::v1::{Activation, AidReport, BurdenReport, Reconciliation, StressReport};
use compact_service::stress::StressAsk;
use compact_service::{ServiceError, reports};
use serde::{Deserialize, Serialize};
use utoipa::IntoParams;

use crate::problem::Problem;
use crate::reads::{Queried, blocking, date_or_today, json_bytes, service};
use crate::state::AppState;

/// The most Monte Carlo scenarios one request runs (the CLI's default run).
pub const SCENARIOS_MAX: u64 = compact_service::stress::DEFAULT_SCENARIOS;
/// The most months a what-if delays deliveries.
pub const DELAY_MAX: u32 = 120;

/// `value` as cached JSON for `key` at the log's size.
fn cached<T: Serialize>(
    state: &AppState,
    key: &str,
    size: u64,
    compute: impl FnOnce() -> Result<T, Problem>,
) -> Result<Arc<Vec<u8>>, Problem> {
    state.cached(key, size, || {
        let value = compute()?;
        serde_json::to_vec(&value).map_err(|e| Problem::from(ServiceError::internal(e.to_string())))
    })
}

/// Answers `body` or the problem.
fn answer(body: Result<Arc<Vec<u8>>, Problem>) -> Response {
    match body {
        Ok(body) => json_bytes(&body),
        Err(p) => p.into_response(),
    }
}

/// A year in a query.
fn year(name: &str, text: &str) -> Result<i16, Problem> {
    compact_service::parse::year(text)
        .map_err(|e| Problem::bad_request(format!("{name}={text}: {e}")))
}

/// A moment in a query: a date (its midnight, UTC) or an RFC 3339 time.
fn moment(name: &str, text: &str) -> Result<jiff::Timestamp, Problem> {
    compact_service::parse::time(text)
        .map_err(|e| Problem::bad_request(format!("{name}={text}: {e}")))
}

/// The query of `/v1/aid`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AidQuery {
    /// The date (default: today).
    #[param(format = Date)]
    as_of: Option<String>,
}

/// `GET /v1/aid`: each commitment's figures per year on a date, with the guarantors' groups
/// and NATO membership and the pillars' tracker categories: the tracker's views (aid by donor,
/// by group, over time, units by category and donor, the data explorer) sum its rows.
#[utoipa::path(get, path = "/v1/aid", tag = "analyses", params(AidQuery),
    responses((status = 200, description = "The aid per commitment and year", body = AidReport),
        (status = 400, description = "A malformed query", body = Problem, content_type = "application/problem+json")))]
pub async fn aid(State(state): State<Arc<AppState>>, Queried(q): Queried<AidQuery>) -> Response {
    answer(
        blocking(move || {
            let snapshot = service(state.snapshot())?;
            let as_of = date_or_today(&state, &snapshot, "as_of", q.as_of.as_deref())?;
            cached(&state, &format!("aid {as_of}"), snapshot.size, || {
                service(state.with_records(snapshot.size, |log| {
                    reports::aid_in(&snapshot.governed, log, as_of)
                })?)
            })
        })
        .await,
    )
}

/// The query of `/v1/burden`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct BurdenQuery {
    /// The year (default 2025).
    #[param(pattern = "^[0-9]{4}$")]
    year: Option<String>,
    /// The baseline as money (default `40e9 EUR`: NATO's 2024 pledge of a minimum of EUR 40 bn
    /// a year).
    baseline: Option<String>,
    /// Who shares the baseline: `allies` (the NATO allies among the guarantors, NATO's
    /// formula; default) or `guarantors` (every guarantor).
    #[param(pattern = "^(allies|guarantors)$")]
    basis: Option<String>,
    /// What counts: `military` (default, NATO's pledge) or `all`.
    #[param(pattern = "^(military|all)$")]
    aid: Option<String>,
}

/// `GET /v1/burden`: each ally's fair share of a baseline by GDP against what it allocated.
#[utoipa::path(get, path = "/v1/burden", tag = "analyses", params(BurdenQuery),
    responses((status = 200, description = "The burden-sharing report", body = BurdenReport),
        (status = 400, description = "A malformed query", body = Problem, content_type = "application/problem+json")))]
pub async fn burden(
    State(state): State<Arc<AppState>>,
    Queried(q): Queried<BurdenQuery>,
) -> Response {
    answer(
        blocking(move || {
            let y = match &q.year {
                Some(t) => year("year", t)?,
                None => 2025,
            };
            let text = q.baseline.as_deref().unwrap_or("40e9 EUR");
            let base = service(reports::baseline(text))?;
            let basis = match q.basis.as_deref().unwrap_or("allies") {
                "allies" => Basis::NatoAllies,
                "guarantors" => Basis::AllGuarantors,
                other => {
                    return Err(Problem::bad_request(format!(
                        "basis={other}: expected allies or guarantors"
                    )));
                }
            };
            let aid = match q.aid.as_deref().unwrap_or("military") {
                "military" => Aid::Military,
                "all" => Aid::All,
                other => {
                    return Err(Problem::bad_request(format!(
                        "aid={other}: expected military or all"
                    )));
                }
            };
            let snapshot = service(state.snapshot())?;
            let key = format!("burden {y} {} {} {basis:?} {aid:?}", base.0, base.1);
            cached(&state, &key, snapshot.size, || {
                service(state.with_records(snapshot.size, |log| {
                    reports::burden_in(
                        &state.place.dir,
                        &snapshot.governed,
                        log,
                        y,
                        (base.0, &base.1),
                        basis,
                        aid,
                    )
                })?)
            })
        })
        .await,
    )
}

/// The query of `/v1/activations`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ActivationsQuery {
    /// The moment the timelines are for: a date or an RFC 3339 time (default: now).
    #[param(format = DateTime)]
    at: Option<String>,
}

/// The moment of an activations query.
fn at(
    state: &AppState,
    q: &ActivationsQuery,
    last: Option<jiff::Timestamp>,
) -> Result<jiff::Timestamp, Problem> {
    match &q.at {
        Some(t) => moment("at", t),
        None => Ok(state.clock().statement_time(last)),
    }
}

/// `GET /v1/activations`: every armed-attack declaration and threat level, with each
/// guarantor's 24-hour clock, its answer and the surges that fell due.
#[utoipa::path(get, path = "/v1/activations", tag = "analyses", params(ActivationsQuery),
    responses((status = 200, description = "Every activation's timeline", body = Vec<Activation>),
        (status = 400, description = "A malformed query", body = Problem, content_type = "application/problem+json")))]
pub async fn activations(
    State(state): State<Arc<AppState>>,
    Queried(q): Queried<ActivationsQuery>,
) -> Response {
    answer(
        blocking(move || {
            let snapshot = service(state.snapshot())?;
            let now = at(&state, &q, snapshot.governed.last_receipt)?;
            cached(&state, &format!("activations {now}"), snapshot.size, || {
                service(state.with_records(snapshot.size, |log| {
                    reports::activations_in(&snapshot.governed, log.records, now)
                })?)
            })
        })
        .await,
    )
}

/// `GET /v1/activations/{entry}`: one activation's timeline (the entry that declared it).
#[utoipa::path(get, path = "/v1/activations/{entry}", tag = "analyses",
    params(("entry" = u64, Path, description = "The log entry of the declaration or threat level"), ActivationsQuery),
    responses((status = 200, description = "The activation's timeline", body = Activation),
        (status = 400, description = "A malformed query", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No activation at that entry", body = Problem, content_type = "application/problem+json")))]
pub async fn activation(
    State(state): State<Arc<AppState>>,
    Path(entry): Path<String>,
    Queried(q): Queried<ActivationsQuery>,
) -> Response {
    answer(
        blocking(move || {
            let id: u64 = entry.parse().map_err(|_| {
                Problem::bad_request(format!(
                    "`{entry}` is not an entry index (a whole number from 0)"
                ))
            })?;
            let snapshot = service(state.snapshot())?;
            let now = at(&state, &q, snapshot.governed.last_receipt)?;
            cached(
                &state,
                &format!("activation {id} {now}"),
                snapshot.size,
                || {
                    service(state.with_records(snapshot.size, |log| {
                        reports::activation_in(&snapshot.governed, log.records, id, now)
                    })?)
                },
            )
        })
        .await,
    )
}

/// The query of `/v1/stress`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct StressQuery {
    /// Guarantors that withdraw, comma-separated (`US,GB`; any case).
    without: Option<String>,
    /// The year they withdraw from (default: the first year).
    #[param(pattern = "^[0-9]{4}$")]
    from_year: Option<String>,
    /// Months every delivery slips (at most 120).
    #[param(maximum = 120)]
    delay: Option<u32>,
    /// Monte Carlo scenarios (at most 10,000; default 10,000 when no what-if is asked).
    #[param(minimum = 1, maximum = 10000)]
    scenarios: Option<u64>,
    /// The seed of the Monte Carlo run (default 7): the same seed, the same report.
    #[param(minimum = 0, maximum = 18446744073709551615_u64)]
    seed: Option<u64>,
    /// Limit the Monte Carlo run to the first years.
    #[param(minimum = 1, maximum = 100)]
    years: Option<i16>,
    /// Leave out the risks file's correlated shocks.
    no_shocks: Option<bool>,
}

/// `GET /v1/stress`: a what-if (guarantors withdrawn, deliveries delayed) with the
/// rebalancing that closes its gaps; or the single points of failure; and a Monte Carlo run
/// over the compact's risks file (synthetic assumptions, marked).
#[utoipa::path(get, path = "/v1/stress", tag = "analyses", params(StressQuery),
    responses((status = 200, description = "The stress report", body = StressReport),
        (status = 400, description = "A malformed query or one beyond the bounds", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "The compact has no risks file", body = Problem, content_type = "application/problem+json")))]
pub async fn stress(
    State(state): State<Arc<AppState>>,
    Queried(q): Queried<StressQuery>,
) -> Response {
    answer(
        blocking(move || {
            if let Some(n) = q.scenarios
                && !(1..=SCENARIOS_MAX).contains(&n)
            {
                return Err(Problem::bad_request(format!(
                    "scenarios={n}: a request runs from 1 to {SCENARIOS_MAX} scenarios (the CLI runs more)"
                )));
            }
            if let Some(d) = q.delay
                && d > DELAY_MAX
            {
                return Err(Problem::bad_request(format!(
                    "delay={d}: at most {DELAY_MAX} months"
                )));
            }
            if let Some(y) = q.years
                && !(1..=100).contains(&y)
            {
                return Err(Problem::bad_request(format!("years={y}: from 1 to 100")));
            }
            let ask = StressAsk {
                without: q
                    .without
                    .as_deref()
                    .unwrap_or_default()
                    .split(',')
                    .map(|p| p.trim().to_owned())
                    .filter(|p| !p.is_empty())
                    .collect(),
                from_year: q.from_year.as_deref().map(|t| year("from_year", t)).transpose()?,
                delay: q.delay,
                scenarios: q.scenarios,
                seed: q.seed.unwrap_or(7),
                years: q.years,
                no_shocks: q.no_shocks.unwrap_or(false),
            };
            let snapshot = service(state.snapshot())?;
            let key = format!("stress {ask:?}");
            cached(&state, &key, snapshot.size, || {
                service(compact_service::stress::stress(
                    &snapshot.governed.compact,
                    &ask,
                    |baseline| compact_service::stress::risks_file(&state.place.dir, baseline),
                    |_| {},
                ))
            })
        })
        .await,
    )
}

/// The query of `/v1/reconcile/kiel`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ReconcileQuery {
    /// The first year (default: the first the log allocates anything in).
    #[param(pattern = "^[0-9]{4}$")]
    from: Option<String>,
    /// The last year (default: the tracker's last).
    #[param(pattern = "^[0-9]{4}$")]
    to: Option<String>,
}

impl ReconcileQuery {
    fn years(&self) -> Result<(Option<i16>, Option<i16>), Problem> {
        Ok((
            self.from.as_deref().map(|t| year("from", t)).transpose()?,
            self.to.as_deref().map(|t| year("to", t)).transpose()?,
        ))
    }
}

/// `GET /v1/reconcile/kiel`: the log beside the Kiel Institute's Ukraine Support Tracker
/// figures the compact carries (its `tracker/` file, or the data set's Release 29).
#[utoipa::path(get, path = "/v1/reconcile/kiel", tag = "analyses", params(ReconcileQuery),
    responses((status = 200, description = "The reconciliation", body = Reconciliation),
        (status = 400, description = "A malformed query", body = Problem, content_type = "application/problem+json")))]
pub async fn reconcile(
    State(state): State<Arc<AppState>>,
    Queried(q): Queried<ReconcileQuery>,
) -> Response {
    answer(
        blocking(move || {
            let (from, to) = q.years()?;
            let snapshot = service(state.snapshot())?;
            cached(
                &state,
                &format!("reconcile {from:?} {to:?}"),
                snapshot.size,
                || {
                    let t = service(compact_service::tracker::carried_tracker(&state.place.dir))?;
                    service(state.with_records(snapshot.size, |log| {
                        reports::reconcile_kiel_in(
                            &snapshot.governed,
                            log,
                            t.figures,
                            t.period_end,
                            &t.source,
                            from,
                            to,
                        )
                    })?)
                },
            )
        })
        .await,
    )
}

/// `POST /v1/reconcile/kiel`: the log beside a tracker file posted as `text/csv` (the layout
/// of the tracker's `data_explorer.csv`: `iso`, `year`, `month`, `military`, `financial`,
/// `humanitarian` in EUR bn).
#[utoipa::path(post, path = "/v1/reconcile/kiel", tag = "analyses", params(ReconcileQuery),
    request_body(content = String, content_type = "text/csv", description = "The tracker's country-month CSV"),
    responses((status = 200, description = "The reconciliation", body = Reconciliation),
        (status = 400, description = "A malformed file or query", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not text/csv", body = Problem, content_type = "application/problem+json")))]
pub async fn reconcile_posted(
    State(state): State<Arc<AppState>>,
    Queried(q): Queried<ReconcileQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let media = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
        .unwrap_or_default();
    if media != "text/csv" {
        return Problem::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "bad-request",
            format!("Content-Type `{media}`: post the tracker's file as text/csv"),
        )
        .into_response();
    }
    let answer = blocking(move || {
        let (from, to) = q.years()?;
        let shown = "the posted tracker file";
        let (figures, end) = service(compact_service::tracker::read_kiel(body.as_ref(), shown))?;
        let snapshot = service(state.snapshot())?;
        service(state.with_records(snapshot.size, |log| {
            reports::reconcile_kiel_in(&snapshot.governed, log, figures, end, shown, from, to)
        })?)
    })
    .await;
    match answer {
        Ok(r) => crate::reads::json(&r),
        Err(p) => p.into_response(),
    }
}
