//! Collecting the witnesses' cosignatures (C2SP tlog-witness, as a log): for each witness
//! `compact.toml` names, one thread submits each new checkpoint with a consistency proof from
//! the size the witness holds, and keeps the cosignature it answers beside the checkpoint.
//!
//! A witness that is down or refuses delays nothing but its own cosignature: writes are
//! answered when durable, whatever the witnesses do; the thread tries again, waiting longer
//! each time (up to [`BACKOFF_MAX`]). A 409 tells the size the witness holds: the proof is made
//! again from it at once. The thread reads the latest checkpoint from the store, so it also
//! submits what another writer appended.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use compact_log::cosignature::{CosignatureVerifier, cosignatures};
use compact_log::{parse_hex_hash, prove_consistency};
use compact_model::WitnessSpec;
use compact_service::AnyStore;
use compact_service::{Place, Result, ServiceError};
use compact_store::Reads as _;
use compact_store::{Store as _, StoreHashes};

/// How often an idle thread looks for a new checkpoint.
const POLL: Duration = Duration::from_millis(100);
/// The longest wait between attempts at a failing witness.
pub const BACKOFF_MAX: Duration = Duration::from_secs(30);
/// How long one submission may take.
const TIMEOUT: Duration = Duration::from_secs(10);

/// The collecting threads; they stop when [`Collectors::stop`] is called.
#[derive(Debug)]
pub struct Collectors {
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
}

impl Collectors {
    /// Starts one thread per witness of `witnesses` (their keys checked first).
    pub fn start(place: &Place, witnesses: &[WitnessSpec]) -> Result<Collectors> {
        let stop = Arc::new(AtomicBool::new(false));
        let mut threads = Vec::new();
        for w in witnesses {
            let verifier = CosignatureVerifier::new(&w.key).map_err(|e| {
                ServiceError::bad_input(format!(
                    "compact.toml: the key of witness `{}`: {e}",
                    w.name
                ))
            })?;
            let submitter = Submitter {
                place: place.clone(),
                spec: w.clone(),
                verifier,
                stop: stop.clone(),
            };
            let handle = std::thread::Builder::new()
                .name(format!("witness {}", w.name))
                .spawn(move || submitter.run())
                .map_err(|e| {
                    ServiceError::internal(format!("cannot start a witness thread: {e}"))
                })?;
            threads.push(handle);
        }
        Ok(Collectors { stop, threads })
    }

    /// Stops the threads and waits for them (a submission in flight ends within its timeout).
    pub fn stop(self) {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.threads {
            let _ = t.join();
        }
    }
}

/// Submits the store's latest checkpoint to each of `witnesses` once, keeping each
/// cosignature (a 409 tells the size the witness holds: tried again from it, at most twice):
/// what a local writer does after appending. Each witness's outcome, by name.
pub fn cosign_latest(
    place: &Place,
    witnesses: &[WitnessSpec],
) -> Vec<(String, std::result::Result<(), String>)> {
    let agent = agent();
    let latest = place
        .store_read_only()
        .map_err(|e| e.to_string())
        .and_then(|s| match s.latest_checkpoint() {
            Ok(Some(c)) => Ok((s, c)),
            Ok(None) => Err("the log is empty".to_owned()),
            Err(e) => Err(e.to_string()),
        });
    witnesses
        .iter()
        .map(|w| {
            let outcome = (|| {
                let (store, (size, note)) = latest.as_ref().map_err(Clone::clone)?;
                let verifier = CosignatureVerifier::new(&w.key).map_err(|e| e.to_string())?;
                let submitter = Submitter {
                    place: place.clone(),
                    spec: w.clone(),
                    verifier,
                    stop: Arc::new(AtomicBool::new(false)),
                };
                let mut old = 0;
                for _ in 0..3 {
                    match submitter.submit(&agent, store, old, *size, note) {
                        Outcome::Cosigned => return Ok(()),
                        Outcome::Holds(n) if n <= *size => old = n,
                        Outcome::Holds(n) => {
                            return Err(format!(
                                "it holds size {n}, which the log's checkpoint of size {size} does not extend"
                            ));
                        }
                        Outcome::Failed(e) => return Err(e),
                    }
                }
                Err("it kept answering another size".to_owned())
            })();
            (w.name.clone(), outcome)
        })
        .collect()
}

/// The HTTP client of a submission: statuses answered, not raised; one timeout.
fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(TIMEOUT))
        .build()
        .new_agent()
}

/// What one attempt came to.
enum Outcome {
    /// Cosigned and kept.
    Cosigned,
    /// The witness holds another size: try again from it.
    Holds(u64),
    /// Failed: wait, then try again.
    Failed(String),
}

struct Submitter {
    place: Place,
    spec: WitnessSpec,
    verifier: CosignatureVerifier,
    stop: Arc<AtomicBool>,
}

impl Submitter {
    fn run(self) {
        let agent = agent();
        // The size the witness holds, as far as this thread knows (0 until it is told).
        let mut holds: u64 = 0;
        let mut cosigned: Option<u64> = None;
        let mut backoff = Duration::from_millis(250);
        let mut retries_from_409 = 0u32;
        // One read connection, kept while it serves; opened again after a failure.
        let mut reader = None;
        while !self.stop.load(Ordering::Relaxed) {
            if reader.is_none() {
                reader = self.place.store_read_only().ok();
            }
            let latest = match reader.as_ref().map(|s| s.latest_checkpoint()) {
                Some(Ok(Some(c))) => Some(c),
                Some(Err(_)) => {
                    reader = None;
                    None
                }
                _ => None,
            };
            let (Some(store), Some((size, note))) = (reader.as_ref(), latest) else {
                std::thread::sleep(POLL);
                continue;
            };
            if cosigned == Some(size) {
                std::thread::sleep(POLL);
                continue;
            }
            match self.submit(&agent, store, holds, size, &note) {
                Outcome::Cosigned => {
                    holds = size;
                    cosigned = Some(size);
                    backoff = Duration::from_millis(250);
                    retries_from_409 = 0;
                }
                Outcome::Holds(n) if retries_from_409 < 3 && n <= size => {
                    holds = n;
                    retries_from_409 += 1;
                }
                Outcome::Holds(n) => {
                    eprintln!(
                        "compact: witness {} holds size {n}, which this log's checkpoint of size {size} does not extend",
                        self.spec.name
                    );
                    holds = n;
                    self.wait(&mut backoff);
                }
                Outcome::Failed(why) => {
                    eprintln!(
                        "compact: witness {} did not cosign the checkpoint of size {size}: {why}",
                        self.spec.name
                    );
                    self.wait(&mut backoff);
                }
            }
        }
    }

    /// Sleeps `backoff` (in steps, so that a stop is seen), then doubles it up to the most.
    fn wait(&self, backoff: &mut Duration) {
        let until = std::time::Instant::now() + *backoff;
        while std::time::Instant::now() < until && !self.stop.load(Ordering::Relaxed) {
            std::thread::sleep(POLL);
        }
        *backoff = (*backoff * 2).min(BACKOFF_MAX);
    }

    fn submit(
        &self,
        agent: &ureq::Agent,
        store: &AnyStore,
        old: u64,
        size: u64,
        note: &[u8],
    ) -> Outcome {
        if old > size {
            return Outcome::Holds(old);
        }
        let proof = match prove_consistency(old, size, &StoreHashes(store)) {
            Ok(p) => p,
            Err(e) => return Outcome::Failed(format!("no proof from size {old}: {e}")),
        };
        let hashes: std::result::Result<Vec<_>, _> =
            proof.hashes.iter().map(|h| parse_hex_hash(h)).collect();
        let Ok(hashes) = hashes else {
            return Outcome::Failed("a proof hash is malformed".into());
        };
        let body = compact_witness::request_body(old, &hashes, note);
        let answer = agent
            .post(format!("{}/add-checkpoint", self.spec.url))
            .header("content-type", "text/plain")
            .send(&body[..]);
        let mut response = match answer {
            Ok(r) => r,
            Err(e) => return Outcome::Failed(format!("{}: {e}", self.spec.url)),
        };
        let status = response.status().as_u16();
        let text = response
            .body_mut()
            .with_config()
            .limit(64 * 1024)
            .read_to_string()
            .unwrap_or_default();
        match status {
            200 => {
                // Only a valid cosignature by this witness is kept.
                let mut cosigned = note.to_vec();
                cosigned.extend_from_slice(text.as_bytes());
                let valid = cosignatures(&cosigned, std::slice::from_ref(&self.verifier))
                    .map(|found| !found.is_empty())
                    .unwrap_or(false);
                let line = text
                    .lines()
                    .find(|l| {
                        l.strip_prefix("\u{2014} ")
                            .and_then(|rest| rest.split_once(' '))
                            .is_some_and(|(name, _)| name == self.verifier.cosigner())
                    })
                    .map(|l| format!("{l}\n"));
                match (valid, line) {
                    (true, Some(line)) => {
                        match self.place.store().and_then(|s| {
                            s.add_cosignature(size, &self.spec.name, line.as_bytes())
                                .map_err(ServiceError::from)
                        }) {
                            Ok(()) => Outcome::Cosigned,
                            Err(e) => Outcome::Failed(format!("cannot keep the cosignature: {e}")),
                        }
                    }
                    _ => Outcome::Failed("the answer holds no valid cosignature of its key".into()),
                }
            }
            409 => match text.trim().parse::<u64>() {
                Ok(n) if n != old => Outcome::Holds(n),
                // The same size, another root: the witness cosigned another history.
                Ok(n) => Outcome::Failed(format!(
                    "it holds another tree of size {n}: a fork of this log"
                )),
                Err(_) => Outcome::Failed(format!("409 without a size: {}", text.trim())),
            },
            other => Outcome::Failed(format!("HTTP {other}: {}", text.trim())),
        }
    }
}
