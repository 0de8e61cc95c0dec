//! A witness, as C2SP tlog-witness specifies it: `POST /add-checkpoint` takes the size of the
//! checkpoint the caller believes the witness cosigned last, a consistency proof from it, and a
//! new checkpoint; the witness checks the log's signature with the keys it trusts for the
//! origin, the proof from the checkpoint it did cosign last, persists the new one and answers
//! its cosignature (C2SP tlog-cosignature, [`compact_log::cosignature`]).
//!
//! What a witness guarantees: it never cosigns two checkpoints of one log that are not
//! consistent with each other. The check and the record of the new checkpoint are one SQLite
//! transaction taken under the witness's lock (the spec's race: a smaller checkpoint checked
//! first must not overwrite a larger one recorded meanwhile), and the state survives a
//! restart and a kill: the record is durable before the cosignature is answered.
//!
//! The answers, as the spec gives them: 404 for an origin it does not witness, 403 when no
//! signature verifies with a key it trusts for it, 400 for a malformed request or an old size
//! above the checkpoint's, 409 with the size it cosigned last (`text/x.tlog.size`) when the
//! old size is not that size, or when the sizes are equal and the roots are not, 422 when the
//! proof does not verify, 200 with the cosignature lines.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use compact_log::cosignature::Cosigner;
use rusqlite::OptionalExtension as _;
use signed_note::{Note, StandardVerifier, Verifier, VerifierList};
use tlog_tiles::{Checkpoint, Hash};

/// The most consistency proof lines a request may carry (the spec's limit).
pub const PROOF_LINES_MAX: usize = 63;

/// The largest request body taken.
pub const BODY_MAX: usize = 64 * 1024;

/// The media type of a size answered with a 409.
pub const SIZE_TYPE: &str = "text/x.tlog.size";

/// Why a witness could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum WitnessError {
    /// A key or a log given is not usable.
    #[error("{0}")]
    Config(String),
    /// The state file.
    #[error("the witness's state {path}: {source}")]
    State {
        /// The state file.
        path: String,
        /// What went wrong.
        source: rusqlite::Error,
    },
}

/// A refusal of `add-checkpoint`: its status, and its body (a reason, or a size).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The HTTP status.
    pub status: u16,
    /// The media type of the body.
    pub content_type: &'static str,
    /// The body.
    pub body: String,
}

impl Refusal {
    fn new(status: u16, reason: impl Into<String>) -> Refusal {
        let mut body = reason.into();
        body.push('\n');
        Refusal {
            status,
            content_type: "text/plain; charset=utf-8",
            body,
        }
    }

    fn conflict(size: u64) -> Refusal {
        Refusal {
            status: 409,
            content_type: SIZE_TYPE,
            body: format!("{size}\n"),
        }
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::BAD_REQUEST);
        (
            status,
            [(header::CONTENT_TYPE, self.content_type)],
            self.body,
        )
            .into_response()
    }
}

/// The request of `add-checkpoint`, read.
struct Request {
    old: u64,
    proof: Vec<Hash>,
    checkpoint: Vec<u8>,
}

/// Reads `old N`, the proof lines, an empty line and the checkpoint.
fn read_request(body: &[u8]) -> Result<Request, Refusal> {
    let bad = |why: &str| Refusal::new(400, format!("malformed request: {why}"));
    let text = std::str::from_utf8(body).map_err(|_| bad("not UTF-8"))?;
    let (first, mut rest) = text
        .split_once('\n')
        .ok_or_else(|| bad("no old size line"))?;
    let size = first
        .strip_prefix("old ")
        .ok_or_else(|| bad("the first line is not `old <size>`"))?;
    let canonical = size == "0"
        || (!size.is_empty() && !size.starts_with('0') && size.bytes().all(|b| b.is_ascii_digit()));
    if !canonical {
        return Err(bad("the old size is not a decimal without leading zeroes"));
    }
    let old: u64 = size.parse().map_err(|_| bad("the old size is too large"))?;
    let mut proof = Vec::new();
    loop {
        let (line, after) = rest
            .split_once('\n')
            .ok_or_else(|| bad("no empty line before the checkpoint"))?;
        rest = after;
        if line.is_empty() {
            break;
        }
        if proof.len() == PROOF_LINES_MAX {
            return Err(bad("more than 63 consistency proof lines"));
        }
        let hash: [u8; 32] = base64::engine::general_purpose::STANDARD
            .decode(line)
            .ok()
            .and_then(|h| h.try_into().ok())
            .ok_or_else(|| bad("a proof line is not a base64 SHA-256 hash"))?;
        proof.push(Hash(hash));
    }
    Ok(Request {
        old,
        proof,
        checkpoint: rest.as_bytes().to_vec(),
    })
}

/// The body of an `add-checkpoint` request: `old <size>`, the consistency proof from it, an
/// empty line and the checkpoint (what a log sends).
pub fn request_body(old: u64, proof: &[Hash], checkpoint: &[u8]) -> Vec<u8> {
    let mut body = format!("old {old}\n").into_bytes();
    for h in proof {
        body.extend_from_slice(
            base64::engine::general_purpose::STANDARD
                .encode(h.0)
                .as_bytes(),
        );
        body.push(b'\n');
    }
    body.push(b'\n');
    body.extend_from_slice(checkpoint);
    body
}

/// A witness: its cosigner key, the logs it witnesses and their keys, its state.
pub struct Witness {
    cosigner: Cosigner,
    logs: BTreeMap<String, Vec<StandardVerifier>>,
    state: Mutex<rusqlite::Connection>,
    clock: Box<dyn Fn() -> u64 + Send + Sync>,
}

impl std::fmt::Debug for Witness {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Witness")
            .field("cosigner", &self.cosigner)
            .field("logs", &self.logs.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

/// POSIX seconds now.
fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

impl Witness {
    /// A witness with private key `skey` (a cosigner key: [`Cosigner::new`]) for the logs
    /// `logs` (origin and the verifier key of a key it trusts for it; an origin may be given
    /// several keys), its state in the SQLite file `state` (made if missing).
    pub fn open(
        state: &Path,
        skey: &str,
        logs: &[(String, String)],
    ) -> Result<Witness, WitnessError> {
        let cosigner = Cosigner::new(skey)
            .map_err(|e| WitnessError::Config(format!("the witness's key: {e}")))?;
        let mut trusted: BTreeMap<String, Vec<StandardVerifier>> = BTreeMap::new();
        for (origin, vkey) in logs {
            let v = StandardVerifier::new(vkey.trim()).map_err(|e| {
                WitnessError::Config(format!("the key of log `{origin}`: {e} (`{vkey}`)"))
            })?;
            trusted.entry(origin.clone()).or_default().push(v);
        }
        if trusted.is_empty() {
            return Err(WitnessError::Config(
                "a witness needs at least one log to witness (--log ORIGIN=KEY)".into(),
            ));
        }
        let failed = |source| WitnessError::State {
            path: state.display().to_string(),
            source,
        };
        let conn = rusqlite::Connection::open(state).map_err(failed)?;
        conn.busy_timeout(std::time::Duration::from_secs(10))
            .map_err(failed)?;
        conn.execute_batch(
            "PRAGMA journal_mode = WAL;
             PRAGMA synchronous = FULL;
             CREATE TABLE IF NOT EXISTS cosigned (
                 origin TEXT PRIMARY KEY,
                 size INTEGER NOT NULL CHECK (size >= 0),
                 root BLOB NOT NULL CHECK (length(root) = 32),
                 checkpoint BLOB NOT NULL,
                 at INTEGER NOT NULL
             );",
        )
        .map_err(failed)?;
        Ok(Witness {
            cosigner,
            logs: trusted,
            state: Mutex::new(conn),
            clock: Box::new(now),
        })
    }

    /// This witness stamping its cosignatures with the time `clock` gives (for tests).
    pub fn with_clock(mut self, clock: impl Fn() -> u64 + Send + Sync + 'static) -> Witness {
        self.clock = Box::new(clock);
        self
    }

    /// The witness's verifier key.
    pub fn vkey(&self) -> String {
        self.cosigner.vkey()
    }

    /// The size and root of the checkpoint of `origin` it cosigned last.
    pub fn latest(&self, origin: &str) -> Result<Option<(u64, Hash)>, Refusal> {
        let conn = self
            .state
            .lock()
            .map_err(|_| Refusal::new(500, "the witness's state is unavailable"))?;
        latest(&conn, origin)
    }

    /// `add-checkpoint`: the cosignature lines of the checkpoint `body` carries, once
    /// recorded; or the refusal the spec gives.
    pub fn add_checkpoint(&self, body: &[u8]) -> Result<Vec<u8>, Refusal> {
        let request = read_request(body)?;
        let note = Note::from_bytes(&request.checkpoint).map_err(|_| {
            Refusal::new(
                400,
                "malformed request: the checkpoint is not a signed note",
            )
        })?;
        let checkpoint = Checkpoint::from_bytes(note.text())
            .map_err(|_| Refusal::new(400, "malformed request: not a checkpoint"))?;
        let origin = checkpoint.origin();
        let Some(keys) = self.logs.get(origin) else {
            return Err(Refusal::new(
                404,
                format!("unknown log `{origin}`: this witness does not witness it"),
            ));
        };
        let list = VerifierList::new(
            keys.iter()
                .map(|k| Box::new(k.clone()) as Box<dyn Verifier>)
                .collect(),
        );
        if note.verify(&list).is_err() {
            return Err(Refusal::new(
                403,
                format!("no signature of a key trusted for `{origin}` verifies"),
            ));
        }
        let (size, root) = (checkpoint.size(), *checkpoint.hash());
        if request.old > size {
            return Err(Refusal::new(
                400,
                format!("old size {} is above the checkpoint's {size}", request.old),
            ));
        }
        let mut conn = self
            .state
            .lock()
            .map_err(|_| Refusal::new(500, "the witness's state is unavailable"))?;
        let state_failed =
            |e: rusqlite::Error| Refusal::new(500, format!("the witness's state: {e}"));
        // Checked and recorded in one transaction, under the lock: no rollback by a race.
        let tx = conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(state_failed)?;
        let (last_size, last_root) = latest(&tx, origin)?.unwrap_or((0, tlog_tiles::EMPTY_HASH));
        if request.old != last_size {
            return Err(Refusal::conflict(last_size));
        }
        if request.old == size {
            if root != last_root {
                return Err(Refusal::conflict(last_size));
            }
            if !request.proof.is_empty() {
                return Err(Refusal::new(422, "a proof between equal sizes is empty"));
            }
        } else if request.old == 0 {
            if !request.proof.is_empty() {
                return Err(Refusal::new(422, "a proof from size 0 is empty"));
            }
        } else if tlog_tiles::check_tree(&request.proof, size, root, request.old, last_root)
            .is_err()
        {
            return Err(Refusal::new(
                422,
                format!(
                    "the consistency proof from size {} to {size} does not verify",
                    request.old
                ),
            ));
        }
        let at = (self.clock)();
        tx.execute(
            "INSERT INTO cosigned (origin, size, root, checkpoint, at) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (origin) DO UPDATE SET size = ?2, root = ?3, checkpoint = ?4, at = ?5",
            rusqlite::params![
                origin,
                i64::try_from(size).map_err(|_| Refusal::new(400, "the size is too large"))?,
                root.0.as_slice(),
                request.checkpoint,
                i64::try_from(at).unwrap_or(i64::MAX)
            ],
        )
        .map_err(state_failed)?;
        tx.commit().map_err(state_failed)?;
        drop(conn);
        self.cosigner
            .clone()
            .at(at)
            .and_then(|c| c.line(note.text()))
            .map_err(|e| Refusal::new(500, format!("cannot cosign: {e}")))
    }
}

/// The size and root of `origin`'s checkpoint cosigned last.
fn latest(conn: &rusqlite::Connection, origin: &str) -> Result<Option<(u64, Hash)>, Refusal> {
    let row: Option<(i64, Vec<u8>)> = conn
        .query_row(
            "SELECT size, root FROM cosigned WHERE origin = ?1",
            [origin],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()
        .map_err(|e| Refusal::new(500, format!("the witness's state: {e}")))?;
    row.map(|(size, root)| {
        let size = u64::try_from(size).map_err(|_| Refusal::new(500, "a negative size stored"))?;
        let root: [u8; 32] = root
            .try_into()
            .map_err(|_| Refusal::new(500, "a root of the wrong length stored"))?;
        Ok((size, Hash(root)))
    })
    .transpose()
}

/// `POST /add-checkpoint`.
async fn add_checkpoint(State(witness): State<Arc<Witness>>, body: Bytes) -> Response {
    let answer = tokio::task::spawn_blocking(move || witness.add_checkpoint(&body)).await;
    match answer {
        Ok(Ok(lines)) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            lines,
        )
            .into_response(),
        Ok(Err(refusal)) => refusal.into_response(),
        Err(e) => Refusal::new(500, format!("the request failed: {e}")).into_response(),
    }
}

/// The witness's HTTP interface: `POST /add-checkpoint` (and nothing else).
pub fn router(witness: Arc<Witness>) -> axum::Router {
    axum::Router::new()
        .route("/add-checkpoint", axum::routing::post(add_checkpoint))
        .layer(tower_http::limit::RequestBodyLimitLayer::new(BODY_MAX))
        .with_state(witness)
}

/// Answers on `listener` until `shutdown` completes.
pub async fn serve(
    witness: Arc<Witness>,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(witness))
        .with_graceful_shutdown(shutdown)
        .await
}

#[cfg(test)]
mod tests;
