//! `POST /v1/statements`: statements signed by their authors, one (`application/json`) or a
//! batch written all or none (`application/x-ndjson`, one statement per line).

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use compact_statement::Statement;
use compact_statement::rules::Code;
use tokio::sync::oneshot;

use crate::BATCH_MAX;
use crate::problem::Problem;
use crate::sequencer::{Acknowledgement, Submission};
use crate::state::AppState;

/// The media types of a batch.
const BATCH_TYPES: [&str; 3] = [
    "application/x-ndjson",
    "application/jsonl",
    "application/jsonlines",
];

fn malformed(detail: String) -> Problem {
    Problem::new(StatusCode::BAD_REQUEST, Code::Malformed.as_str(), detail)
}

/// The statements of a request body.
fn statements(headers: &HeaderMap, body: &[u8]) -> Result<Vec<Statement>, Problem> {
    let media = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase()
        })
        .unwrap_or_default();
    if media == "application/json" {
        let st = Statement::decode(body).map_err(|e| malformed(format!("the statement: {e}")))?;
        return Ok(vec![st]);
    }
    if BATCH_TYPES.contains(&media.as_str()) {
        let read = compact_service::ledger::read_statements(body, "the batch")
            .map_err(|e| malformed(e.to_string()))?;
        if read.is_empty() {
            return Err(malformed("the batch holds no statement".into()));
        }
        if read.len() > BATCH_MAX {
            return Err(Problem::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                Code::TooLarge.as_str(),
                format!(
                    "the batch holds {} statements; a request takes at most {BATCH_MAX}",
                    read.len()
                ),
            ));
        }
        return Ok(read.into_iter().map(|(_, st)| st).collect());
    }
    Err(Problem::new(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "bad-request",
        format!(
            "Content-Type `{media}`: send one statement as application/json or a batch as application/x-ndjson"
        ),
    ))
}

/// `POST /v1/statements`: answered `201 Created` with each statement's index, leaf hash and
/// receipt time and the checkpoint that covers them, once durable; a refusal is a problem
/// with the rule's code, and a duplicate a `409` with the index the statement already has
/// (for a batch, `duplicates` lists every statement of it already in the log, so that a client
/// re-running an interrupted import drops them all at once and posts the rest).
#[utoipa::path(post, path = "/v1/statements", tag = "writes", request_body(description = "One signed statement (application/json) or a batch, one per line (application/x-ndjson), written all or none", content((Object = "application/json"), (String = "application/x-ndjson"))), responses((status = 201, description = "Written and durable", body = Acknowledgement), (status = 400, description = "Malformed", body = Problem, content_type = "application/problem+json"), (status = 409, description = "Refused by a rule (a batch: with the position of the statement refused), or a duplicate (with the index it has; a batch: every statement of it already in the log in `duplicates`, with its position and index, nothing written)", body = Problem, content_type = "application/problem+json"), (status = 413, description = "Too large", body = Problem, content_type = "application/problem+json"), (status = 415, description = "Not JSON or JSON lines", body = Problem, content_type = "application/problem+json"), (status = 503, description = "Shutting down: nothing written, retry", body = Problem, content_type = "application/problem+json")))]
pub async fn submit(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let statements = match statements(&headers, &body) {
        Ok(s) => s,
        Err(p) => return p.into_response(),
    };
    let (reply, answer) = oneshot::channel();
    let unavailable = || {
        Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "the server is shutting down: nothing was written",
        )
        .into_response()
    };
    if state
        .submitter()
        .send(Submission { statements, reply })
        .await
        .is_err()
    {
        return unavailable();
    }
    match answer.await {
        Ok(Ok(ack)) => {
            let location = ack
                .entries
                .first()
                .map(|e| format!("/v1/entries/{}", e.index))
                .unwrap_or_default();
            (
                StatusCode::CREATED,
                [(header::LOCATION, location)],
                Json(ack),
            )
                .into_response()
        }
        Ok(Err(problem)) => problem.into_response(),
        Err(_) => unavailable(),
    }
}
