//! Errors as RFC 9457 problem details (`application/problem+json`), each with a stable code.

use axum::Json;
use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use compact_service::{ErrorKind, ServiceError};
use compact_statement::rules::Code;
use serde::{Deserialize, Serialize};

/// An RFC 9457 problem: `type` names the problem (`/v1/problems/<code>`, served), `code` is
/// the stable machine-readable code, `detail` says what happened to this request.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct Problem {
    /// A URI reference naming the problem type.
    #[serde(rename = "type")]
    pub kind: String,
    /// A short summary of the problem type.
    pub title: String,
    /// The HTTP status.
    pub status: u16,
    /// What happened to this request.
    pub detail: String,
    /// The stable code: a rule's ([`Code`]) or one of `bad-request`, `not-found`,
    /// `unavailable`, `internal`, `too-large`, `no-route`, `method`.
    pub code: String,
    /// For a duplicate: the index the statement already has.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub index: Option<u64>,
    /// For a refusal in a batch: the statement's position in it (0-based).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub position: Option<usize>,
    /// For a batch refused as a duplicate: every statement of the batch already in the log,
    /// each with its position in the batch and the index it has. A client drops them and
    /// posts the rest again (an interrupted import, run again, completes in one round trip per
    /// batch). Absent when none of the batch is in the log (the batch repeats a statement of
    /// its own).
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub duplicates: Vec<Duplicate>,
}

/// A statement of a batch already in the log.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct Duplicate {
    /// Its position in the batch (0-based).
    pub position: usize,
    /// The index it has in the log.
    pub index: u64,
}

impl Problem {
    /// A problem of `status` with `code` and `detail`.
    pub fn new(status: StatusCode, code: &str, detail: impl Into<String>) -> Self {
        Problem {
            kind: format!("/v1/problems/{code}"),
            title: title(code).to_owned(),
            status: status.as_u16(),
            detail: detail.into(),
            code: code.to_owned(),
            index: None,
            position: None,
            duplicates: Vec::new(),
        }
    }

    /// A bad request.
    pub fn bad_request(detail: impl Into<String>) -> Self {
        Problem::new(StatusCode::BAD_REQUEST, "bad-request", detail)
    }
}

/// The code of a service error that no rule made.
fn kind_code(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::BadInput => "bad-request",
        ErrorKind::Refused { code } => code,
        ErrorKind::NotFound => "not-found",
        ErrorKind::Transient => "unavailable",
        ErrorKind::Internal => "internal",
    }
}

impl From<ServiceError> for Problem {
    fn from(e: ServiceError) -> Self {
        let status = StatusCode::from_u16(e.http_status()).unwrap_or(StatusCode::BAD_REQUEST);
        // The chain, as the CLI prints it: `message: cause`.
        let mut detail = e.to_string();
        let mut source = std::error::Error::source(&e);
        while let Some(s) = source {
            detail.push_str(": ");
            detail.push_str(&s.to_string());
            source = s.source();
        }
        Problem::new(status, kind_code(e.kind()), detail)
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = serde_json::to_vec(&self).unwrap_or_default();
        let mut response = (
            status,
            [(header::CONTENT_TYPE, "application/problem+json")],
            body,
        )
            .into_response();
        if status == StatusCode::SERVICE_UNAVAILABLE {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from_static("1"));
        }
        response
    }
}

/// A short title per code.
fn title(code: &str) -> &'static str {
    match code {
        "bad-request" => "The request is malformed",
        "not-found" => "No such thing",
        "unavailable" => "Unavailable for a moment: nothing was written, try again",
        "internal" => "A fault of the server",
        "no-route" => "No such route",
        "method" => "Method not allowed",
        "rule" => "Refused by a rule of the compact",
        "malformed" => "The statement is malformed",
        "signature" => "The signature does not verify with the author's key in the log",
        "duplicate" => "The statement is already in the log",
        "author-unknown" => "The author is not a party of the compact",
        "key-of-another-party" => "Signed with a key of another party",
        "key-unregistered" => "The key is not registered in the log for its author",
        "key-not-valid" => "The key does not sign at this time (revoked or not yet valid)",
        "key-role" => "A key signing outside its role (root keys sign only keys)",
        "role" => "The author acts outside its role",
        "time" => "A time or date does not fit the statement's receipt",
        "reference" => "It refers to an entry that is absent or of another kind",
        "log" => "It does not belong in this log",
        "too-large" => "Too large",
        "retracted" => "It retracts or refers to an entry already retracted",
        "not-retractable" => {
            "The entry is not retractable (its kind, or past the time it could be)"
        }
        "relied-on" => "Another standing statement rests on the entry: retract that one first",
        "operator-key-set" => "The log already has an operator key",
        "key-exists" => "The key already exists",
        _ => "A problem",
    }
}

/// The codes `/v1/problems/<code>` describes.
fn known(code: &str) -> bool {
    Code::ALL.iter().any(|c| c.as_str() == code)
        || [
            "bad-request",
            "not-found",
            "unavailable",
            "internal",
            "no-route",
            "method",
        ]
        .contains(&code)
}

/// What a problem type means.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ProblemType {
    /// The stable code.
    pub code: String,
    /// Its title.
    pub title: String,
}

/// `GET /v1/problems/{code}`.
#[utoipa::path(get, path = "/v1/problems/{code}", tag = "meta", params(("code" = String, Path, description = "A problem code")), responses((status = 200, description = "What the problem type means", body = ProblemType), (status = 404, description = "No such problem type", body = Problem, content_type = "application/problem+json")))]
pub async fn describe(Path(code): Path<String>) -> Response {
    if known(&code) {
        Json(ProblemType {
            title: title(&code).to_owned(),
            code,
        })
        .into_response()
    } else {
        Problem::new(
            StatusCode::NOT_FOUND,
            "not-found",
            format!("no problem type `{code}`"),
        )
        .into_response()
    }
}

/// Any route not served.
pub async fn no_route(uri: axum::http::Uri) -> Problem {
    Problem::new(
        StatusCode::NOT_FOUND,
        "no-route",
        format!("no route {}: see /v1/openapi.json", uri.path()),
    )
}

/// A route served, with another method.
pub async fn method_not_allowed(method: axum::http::Method, uri: axum::http::Uri) -> Problem {
    Problem::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method",
        format!(
            "{} does not take {method}: see /v1/openapi.json",
            uri.path()
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rule_code_has_a_title() {
        for c in Code::ALL {
            assert_ne!(title(c.as_str()), "A problem", "{}", c.as_str());
            assert!(known(c.as_str()));
        }
    }

    #[test]
    fn a_service_error_keeps_its_class_and_cause() {
        let e = ServiceError::refused("role", "refused: no");
        let p = Problem::from(e);
        assert_eq!(p.status, 409);
        assert_eq!(p.code, "role");
        assert_eq!(p.kind, "/v1/problems/role");
        let busy = Problem::from(ServiceError::new(ErrorKind::Transient, "busy"));
        assert_eq!(busy.status, 503);
    }
}
