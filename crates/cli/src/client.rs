//! The CLI as a client of `compact serve` (`--server URL`): statements are signed here, with
//! keys that never leave this machine, and posted; what the server answers is checked here
//! against the operator's signed checkpoint.

use std::sync::OnceLock;
use std::time::Duration;

use anyhow::{Context as _, anyhow};
use compact_server::Acknowledgement;
use compact_server::Problem;
use compact_service::{ErrorKind, ServiceError};
use compact_statement::Statement;
use compact_statement::rules::Code;
use serde::de::DeserializeOwned;

/// The server given with `--server`, if any.
static SERVER: OnceLock<String> = OnceLock::new();

/// Sets the server commands talk to instead of the local store.
pub(crate) fn set_server(url: Option<String>) {
    if let Some(url) = url {
        let _ = SERVER.set(url.trim_end_matches('/').to_owned());
    }
}

/// The server commands talk to, if one was given.
pub(crate) fn server() -> Option<Client> {
    SERVER.get().map(|base| Client::new(base))
}

/// A client of one server.
#[derive(Debug)]
pub(crate) struct Client {
    base: String,
    agent: ureq::Agent,
}

/// The largest answer read (a batch's acknowledgement, a tile): 64 MiB.
const ANSWER_MAX: u64 = 64 * 1024 * 1024;

impl Client {
    pub(crate) fn new(base: &str) -> Self {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(60)))
            .build()
            .new_agent();
        Client {
            base: base.to_owned(),
            agent,
        }
    }

    /// The server's address.
    pub(crate) fn base(&self) -> &str {
        &self.base
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The body of a successful answer, or the server's problem as an error.
    fn answer(
        &self,
        what: &str,
        response: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    ) -> anyhow::Result<Vec<u8>> {
        let mut response = response.map_err(|e| {
            anyhow::Error::new(ServiceError::new(
                ErrorKind::Transient,
                format!("cannot reach the server {}: {e}", self.base),
            ))
        })?;
        let status = response.status();
        let body = response
            .body_mut()
            .with_config()
            .limit(ANSWER_MAX)
            .read_to_vec()
            .with_context(|| format!("{what}: the answer of {} was cut short", self.base))?;
        if status.is_success() {
            return Ok(body);
        }
        Err(anyhow::Error::new(problem(status.as_u16(), &body)).context(what.to_owned()))
    }

    /// GETs `path` and reads JSON.
    pub(crate) fn get_json<T: DeserializeOwned>(&self, path: &str) -> anyhow::Result<T> {
        let body = self.get(path)?;
        serde_json::from_slice(&body)
            .with_context(|| format!("{}{path}: not the answer expected", self.base))
    }

    /// GETs `path`.
    pub(crate) fn get(&self, path: &str) -> anyhow::Result<Vec<u8>> {
        let what = format!("GET {}{path}", self.base);
        self.answer(&what, self.agent.get(self.url(path)).call())
    }

    /// Posts statements (one as JSON, more as JSON lines, written all or none).
    pub(crate) fn post(&self, statements: &[Statement]) -> anyhow::Result<Acknowledgement> {
        let (media, body) = match statements {
            [one] => ("application/json", one.leaf.clone()),
            many => {
                let mut body = Vec::new();
                for st in many {
                    body.extend_from_slice(&st.leaf);
                    body.push(b'\n');
                }
                ("application/x-ndjson", body)
            }
        };
        let what = format!("POST {}/v1/statements", self.base);
        let body = self.answer(
            &what,
            self.agent
                .post(self.url("/v1/statements"))
                .header("Content-Type", media)
                .send(&body[..]),
        )?;
        serde_json::from_slice(&body).map_err(|e| anyhow!("{what}: not an acknowledgement: {e}"))
    }
}

/// A problem the server answered, as the service error it stands for: a refusal keeps its
/// code (the CLI prints it), a 503 is transient (exit 75).
fn problem(status: u16, body: &[u8]) -> ServiceError {
    let p: Option<Problem> = serde_json::from_slice(body).ok();
    let detail = p.as_ref().map_or_else(
        || String::from_utf8_lossy(body).chars().take(500).collect(),
        |p| match p.index {
            Some(i) => format!("{} (entry {i})", p.detail),
            None => p.detail.clone(),
        },
    );
    let code = p.as_ref().map(|p| p.code.as_str()).unwrap_or_default();
    let kind = match status {
        409 | 422 => ErrorKind::Refused {
            code: Code::ALL
                .iter()
                .map(|c| c.as_str())
                .find(|c| *c == code)
                .unwrap_or(Code::Rule.as_str()),
        },
        404 => ErrorKind::NotFound,
        503 => ErrorKind::Transient,
        500..=599 => ErrorKind::Internal,
        _ => ErrorKind::BadInput,
    };
    ServiceError::new(kind, format!("the server answered {status}: {detail}"))
}
