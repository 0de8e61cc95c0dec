//! What every request shares: the compact as it governs (refreshed when the log grows), the
//! log's records in memory (extended from the store's projection when the log grows), a pool
//! of read-only store connections, a cache of computed reports per log size, and the channel
//! to the sequencer.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};

use compact_model::{Compact, SourceFile};
use compact_service::AnyStore;
use compact_service::log::{Held, LogView};
use compact_service::{Governed, OperatorClock, Place, Result, ServiceError};
use compact_store::Reads as _;
use tokio::sync::mpsc;

use crate::Config;
use crate::problem::Problem;
use crate::sequencer::{Sequencer, Submission};

/// Read connections kept open between requests.
const POOL_MAX: usize = 16;
/// Reports kept per log size.
const CACHE_MAX: usize = 1024;

/// Reports as JSON by request, with the log size each was computed at.
type Cache = HashMap<String, (u64, Arc<Vec<u8>>)>;

/// The compact as it governs at a log size.
#[derive(Debug)]
pub struct Snapshot {
    /// The log size it was read at.
    pub size: u64,
    /// The compact, its facts and drift.
    pub governed: Governed,
}

/// The state every handler shares.
#[derive(Debug)]
pub struct AppState {
    /// The compact directory and its store.
    pub place: Place,
    working: Compact,
    files: Vec<SourceFile>,
    snapshot: RwLock<Arc<Snapshot>>,
    /// The records of the log's first entries, in order, and their filing; only ever extended.
    records: RwLock<Held>,
    /// Held while one request reads the entries missing from `records`: the requests that
    /// arrive meanwhile (a page asks for many reports at once) wait for that read instead of
    /// each reading the same entries again.
    extending: Mutex<()>,
    readers: Mutex<Vec<AnyStore>>,
    cache: Mutex<Cache>,
    submit: mpsc::Sender<Submission>,
    clock: Option<OperatorClock>,
}

impl AppState {
    /// Reads the compact in `config.place`, opens its store and starts the sequencer.
    pub fn open(config: &Config) -> Result<(Arc<AppState>, Sequencer)> {
        let place = config.place.clone();
        let validated = compact_service::validate_dir(&place.dir);
        let Some(working) = validated.compact else {
            let first = validated
                .diagnostics
                .iter()
                .find(|d| d.is_error())
                .map(|d| format!("{}: {}", d.path, d.message))
                .unwrap_or_default();
            return Err(ServiceError::bad_input(format!(
                "the compact in {} is not valid ({first}): run `compact check`",
                place.dir.display()
            )));
        };
        if !place.has_store() {
            return Err(ServiceError::not_found(format!(
                "{} has no store: run `compact init` (or `compact demo --dir`) first",
                place.dir.display()
            )));
        }
        let files = validated.loaded.files;
        let store = place.store_read_only()?;
        let size = store.size()?;
        let governed = place.govern(working.clone(), &files)?;
        let (sender, sequencer) = Sequencer::start(config, working.clone(), files.clone())?;
        let state = AppState {
            place,
            working,
            files,
            snapshot: RwLock::new(Arc::new(Snapshot { size, governed })),
            records: RwLock::new(Held::default()),
            extending: Mutex::new(()),
            readers: Mutex::new(vec![store]),
            cache: Mutex::new(HashMap::new()),
            submit: sender,
            clock: config.clock,
        };
        Ok((Arc::new(state), sequencer))
    }

    /// Runs `f` on a pooled read-only connection. A connection that failed transiently (lost,
    /// its database restarted) is not pooled again, and a pooled one that failed so is tried
    /// once more on a new connection: after a restart of the database, the first request
    /// already succeeds; while it is down, requests fail (503) and the server stays up.
    pub fn read<T>(&self, f: impl Fn(&AnyStore) -> Result<T>) -> Result<T> {
        let pooled = self.readers.lock().ok().and_then(|mut p| p.pop());
        let fresh = pooled.is_none();
        let store = match pooled {
            Some(s) => s,
            None => self.place.store_read_only()?,
        };
        let out = f(&store);
        let lost = out.as_ref().is_err_and(|e| e.is_transient());
        if !lost {
            self.give_back(store);
            return out;
        }
        drop(store);
        if fresh {
            return out;
        }
        let store = self.place.store_read_only()?;
        let again = f(&store);
        if again.is_ok() {
            self.give_back(store);
        }
        again
    }

    fn give_back(&self, store: AnyStore) {
        if let Ok(mut pool) = self.readers.lock()
            && pool.len() < POOL_MAX
        {
            pool.push(store);
        }
    }

    /// The log's size now.
    pub fn size(&self) -> Result<u64> {
        self.read(|s| Ok(s.size()?))
    }

    /// The compact as it governs at the log's current size (read again when the log grew).
    pub fn snapshot(&self) -> Result<Arc<Snapshot>> {
        let size = self.size()?;
        if let Ok(s) = self.snapshot.read()
            && s.size == size
        {
            return Ok(s.clone());
        }
        let governed = self.place.govern(self.working.clone(), &self.files)?;
        let fresh = Arc::new(Snapshot { size, governed });
        if let Ok(mut s) = self.snapshot.write()
            && s.size <= size
        {
            *s = fresh.clone();
        }
        Ok(fresh)
    }

    /// Runs `f` on the log's first `size` entries: their records and filing held in memory,
    /// the entries appended since the last call read from the store's projection first and
    /// filed (valued with the compact's rates, which the log does not change).
    pub fn with_records<T>(&self, size: u64, f: impl FnOnce(LogView<'_>) -> T) -> Result<T> {
        let poisoned = || ServiceError::internal("the records in memory are unavailable");
        // Another request may extend them meanwhile: read what is missing until enough is held.
        loop {
            let held = {
                let held = self.records.read().map_err(|_| poisoned())?;
                if held.len() >= size {
                    return Ok(f(held.view(size)));
                }
                held.len()
            };
            let _reading = self.extending.lock().map_err(|_| poisoned())?;
            // Another request may have read them while this one waited.
            if self.records.read().map_err(|_| poisoned())?.len() != held {
                continue;
            }
            let fresh = self.read(|s| compact_service::log::records_between(s, held, size))?;
            let mut records = self.records.write().map_err(|_| poisoned())?;
            if records.len() == held {
                records.extend(&self.working, fresh);
            }
        }
    }

    /// The JSON of `compute` for `key` at the log's size `size`, from the cache when it was
    /// computed at that size.
    pub fn cached(
        &self,
        key: &str,
        size: u64,
        compute: impl FnOnce() -> std::result::Result<Vec<u8>, Problem>,
    ) -> std::result::Result<Arc<Vec<u8>>, Problem> {
        if let Ok(cache) = self.cache.lock()
            && let Some((at, body)) = cache.get(key)
            && *at == size
        {
            return Ok(body.clone());
        }
        let body = Arc::new(compute()?);
        if let Ok(mut cache) = self.cache.lock() {
            if cache.len() >= CACHE_MAX {
                cache.retain(|_, (at, _)| *at == size);
                if cache.len() >= CACHE_MAX {
                    cache.clear();
                }
            }
            cache.insert(key.to_owned(), (size, body.clone()));
        }
        Ok(body)
    }

    /// The operator's clock now.
    pub fn clock(&self) -> OperatorClock {
        self.clock
            .unwrap_or_else(|| OperatorClock::Now(jiff::Timestamp::now()))
    }

    /// The witnesses `compact.toml` names, and how many must cosign a checkpoint.
    pub fn witnesses(&self) -> (&[compact_model::WitnessSpec], usize) {
        (&self.working.witnesses, self.working.witness_quorum)
    }

    /// The sequencer's inbox.
    pub fn submitter(&self) -> &mpsc::Sender<Submission> {
        &self.submit
    }
}
