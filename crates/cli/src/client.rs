//! The CLI as a client of `compact serve` (`--server URL`): statements are signed here, with
//! keys that never leave this machine, and posted; what the server answers is checked here
//! against the operator's signed checkpoint.

use std::sync::OnceLock;
use std::time::Duration;

use anyhow::{Context as _, anyhow, bail};
use compact_server::Acknowledgement;
use compact_server::Problem;
use compact_server::{BATCH_MAX, BODY_MAX};
use compact_service::ledger::Imported;
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

/// The state directory given with `--state` (or `COMPACT_STATE_DIR`), if any.
static STATE: OnceLock<std::path::PathBuf> = OnceLock::new();

/// Sets where the checkpoints this client accepted are remembered.
pub(crate) fn set_state(dir: Option<std::path::PathBuf>) {
    if let Some(dir) = dir {
        let _ = STATE.set(dir);
    }
}

/// The checkpoints this client remembers: in `--state DIR`, else `$XDG_STATE_HOME/compact`,
/// else `~/.local/state/compact`.
pub(crate) fn memory() -> compact_service::remember::Memory {
    let dir = STATE.get().cloned().unwrap_or_else(|| {
        let xdg = std::env::var_os("XDG_STATE_HOME").filter(|v| !v.is_empty());
        let home = std::env::var_os("HOME").filter(|v| !v.is_empty());
        match (xdg, home) {
            (Some(x), _) => std::path::PathBuf::from(x).join("compact"),
            (None, Some(h)) => std::path::PathBuf::from(h).join(".local/state/compact"),
            (None, None) => std::env::temp_dir().join("compact-state"),
        }
    });
    compact_service::remember::Memory::at(&dir)
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
        let (status, body) = self.status_and_body(what, response)?;
        if (200..300).contains(&status) {
            return Ok(body);
        }
        Err(anyhow::Error::new(problem(status, &body)).context(what.to_owned()))
    }

    /// The status and body of an answer.
    fn status_and_body(
        &self,
        what: &str,
        response: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    ) -> anyhow::Result<(u16, Vec<u8>)> {
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
        Ok((status.as_u16(), body))
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
        let what = format!("POST {}/v1/statements", self.base);
        let (media, body) = match statements {
            [one] => ("application/json", one.leaf.clone()),
            many => ("application/x-ndjson", json_lines(many.iter())),
        };
        let body = self.answer(
            &what,
            self.agent
                .post(self.url("/v1/statements"))
                .header("Content-Type", media)
                .send(&body[..]),
        )?;
        serde_json::from_slice(&body).map_err(|e| anyhow!("{what}: not an acknowledgement: {e}"))
    }

    /// Posts a batch as JSON lines (written all or none): its acknowledgement, or the problem
    /// of a refusal (409, 422) for the caller to read (a duplicate's `duplicates`, a refusal's
    /// `position`). Any other failure is an error.
    pub(crate) fn post_batch<'a>(
        &self,
        statements: impl Iterator<Item = &'a Statement>,
    ) -> anyhow::Result<Posted> {
        let what = format!("POST {}/v1/statements", self.base);
        let body = json_lines(statements);
        let response = self
            .agent
            .post(self.url("/v1/statements"))
            .header("Content-Type", "application/x-ndjson")
            .send(&body[..]);
        let (status, body) = self.status_and_body(&what, response)?;
        if (200..300).contains(&status) {
            return serde_json::from_slice(&body)
                .map(Posted::Written)
                .map_err(|e| anyhow!("{what}: not an acknowledgement: {e}"));
        }
        if matches!(status, 409 | 422)
            && let Ok(p) = serde_json::from_slice::<Problem>(&body)
        {
            return Ok(Posted::Refused(p));
        }
        Err(anyhow::Error::new(problem(status, &body)).context(what))
    }

    /// The log's size now (`GET /v1/log`).
    pub(crate) fn size(&self) -> anyhow::Result<u64> {
        #[derive(serde::Deserialize)]
        struct Log {
            size: u64,
        }
        Ok(self.get_json::<Log>("/v1/log")?.size)
    }
}

/// What the server answered to a batch.
#[derive(Debug)]
pub(crate) enum Posted {
    /// Written and durable.
    Written(Acknowledgement),
    /// Refused whole: the server's problem.
    Refused(Problem),
}

/// Statements as JSON lines.
fn json_lines<'a>(statements: impl Iterator<Item = &'a Statement>) -> Vec<u8> {
    let mut body = Vec::new();
    for st in statements {
        body.extend_from_slice(&st.leaf);
        body.push(b'\n');
    }
    body
}

/// `compact import FILE --server`: posts `statements` (with their line numbers in the input
/// named `name`) in batches of at most `batch` statements (and the server's [`BATCH_MAX`] and
/// [`BODY_MAX`]), each written all or none; `progress` is told after each batch how many
/// statements of the input are in the log.
///
/// Statements already in the log are skipped and counted, as the local import does, so an
/// interrupted import run again completes it: the server refuses a batch holding any with a
/// `409` listing each (its position and index), and the rest of the batch is posted again: one
/// round trip more per batch, whatever the number already there. A refusal by a rule names
/// the statement's `name:line` and what of the input was written before it.
pub(crate) fn import(
    server: &Client,
    name: &str,
    statements: Vec<(usize, Statement)>,
    batch: usize,
    progress: &mut dyn FnMut(u64),
) -> anyhow::Result<Imported> {
    // A statement twice in the input is refused before anything is sent, as the local import
    // refuses it before writing.
    let mut seen = std::collections::HashMap::new();
    for (line, st) in &statements {
        if let Some(first) = seen.insert(st.statement_hash(), *line) {
            return Err(ServiceError::refused(
                Code::Duplicate.as_str(),
                format!(
                    "{name}:{line}: refused: the same statement as line {first} of this input: nothing was written"
                ),
            )
            .into());
        }
    }
    let batch = batch.clamp(1, BATCH_MAX);
    let mut done = Imported {
        written: 0,
        batches: 0,
        already: 0,
        size: 0,
    };
    // The input's line up to which everything is in the log.
    let mut through: Option<usize> = None;
    let mut rest = statements.as_slice();
    while !rest.is_empty() {
        let (mut take, mut bytes) = (0usize, 0usize);
        for (_, st) in rest {
            let n = st.leaf.len() + 1;
            if take == batch || (take > 0 && bytes + n > BODY_MAX) {
                break;
            }
            take += 1;
            bytes += n;
        }
        let (chunk, after) = rest.split_at(take);
        rest = after;
        let first = chunk.first().map_or(0, |(line, _)| *line);
        let mut pending: Vec<&(usize, Statement)> = chunk.iter().collect();
        while !pending.is_empty() {
            let posted = server
                .post_batch(pending.iter().map(|(_, st)| st))
                .with_context(|| {
                    format!(
                        "{name}: the batch from line {first} was not acknowledged; {}; run the import again to complete it",
                        written_before(&done, through)
                    )
                })?;
            match posted {
                Posted::Written(ack) => {
                    if ack.entries.len() != pending.len() {
                        bail!(
                            "{}: {} entries acknowledged for the {} statements posted from {name}:{first}",
                            server.base,
                            ack.entries.len(),
                            pending.len()
                        );
                    }
                    done.written += pending.len() as u64;
                    done.batches += 1;
                    pending.clear();
                }
                Posted::Refused(p)
                    if p.code == Code::Duplicate.as_str() && !p.duplicates.is_empty() =>
                {
                    let logged: std::collections::HashSet<usize> =
                        p.duplicates.iter().map(|d| d.position).collect();
                    let before = pending.len();
                    pending = pending
                        .into_iter()
                        .enumerate()
                        .filter(|(i, _)| !logged.contains(i))
                        .map(|(_, s)| s)
                        .collect();
                    if pending.len() == before {
                        bail!(
                            "{}: the duplicates it named are not in the batch of {before} statements from {name}:{first}",
                            server.base
                        );
                    }
                    done.already += (before - pending.len()) as u64;
                }
                Posted::Refused(p) => {
                    let line = p
                        .position
                        .and_then(|i| pending.get(i))
                        .map_or(first, |(line, _)| *line);
                    let detail = p
                        .detail
                        .strip_suffix(": nothing of this submission was written")
                        .unwrap_or(&p.detail);
                    return Err(ServiceError::refused(
                        refusal_code(&p.code),
                        format!(
                            "{name}:{line}: {detail} (the server answered {}; {}; the batch from line {first} and the rest were not)",
                            p.status,
                            written_before(&done, through)
                        ),
                    )
                    .into());
                }
            }
        }
        through = chunk.last().map(|(line, _)| *line);
        progress(done.already + done.written);
    }
    done.size = server.size()?;
    Ok(done)
}

/// What of the input is in the log before a failure, for its message.
fn written_before(done: &Imported, through: Option<usize>) -> String {
    match through {
        None => "nothing of this input was written".to_owned(),
        Some(line) => format!(
            "{} statements of this input were written before it, in {} batches, and {} were already in the log: everything through line {line} is in the log",
            done.written, done.batches, done.already
        ),
    }
}

/// The stable code of a rule the server names (`rule` for one this client does not know).
fn refusal_code(code: &str) -> &'static str {
    Code::ALL
        .iter()
        .map(|c| c.as_str())
        .find(|c| *c == code)
        .unwrap_or(Code::Rule.as_str())
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
            code: refusal_code(code),
        },
        404 => ErrorKind::NotFound,
        503 => ErrorKind::Transient,
        500..=599 => ErrorKind::Internal,
        _ => ErrorKind::BadInput,
    };
    ServiceError::new(kind, format!("the server answered {status}: {detail}"))
}
