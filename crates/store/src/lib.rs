//! Where the log lives, and how statements get in and are audited.
//!
//! - [`Store`]: the storage contract. Entries (the exact leaf bytes, with their kind, author
//!   and the entry they refer to), the tree's stored hashes, and signed checkpoints. A batch is
//!   written in one transaction and acknowledged only once durable. `compact-store-sqlite`
//!   is the embedded implementation, `compact-store-postgres` the deployments'; each is a
//!   crate of its own over this trait.
//! - [`Ledger`]: appends statements. Every statement is decoded, its signature and payload
//!   checked against the compact and the log ([`compact_statement::rules`]), refused as a
//!   duplicate if its bytes are already logged; then hashed into the tree, written with a new
//!   signed checkpoint. A batch is all or nothing.
//! - [`audit`]: replays a whole store offline, streaming, and reports every problem.

pub mod audit;
pub mod governing;
pub mod projection;

pub use projection::{PROJECTION, RecordRow};

#[doc(hidden)]
pub use compact_log as __log;
#[doc(hidden)]
pub use compact_statement as __statement;

use std::collections::BTreeMap;

use compact_log::{
    Hash, HashReader, hashes_to_store, leaf_hash, sign_checkpoint, stored_hash_index, tree_hash,
};
use compact_model::Compact;
use compact_statement::rules::{
    Code, FACT_KINDS, Facts, LedgerView, Mode, Refusal, check_payload, signing_key,
};
use compact_statement::{Kind, Record, Statement};
use jiff::Timestamp;
use rayon::prelude::*;
use signed_note::StandardSigner;

/// The store format written in `meta`.
pub const STORE_FORMAT: &str = "compact-store/2";
/// Statements per transaction when importing.
pub const BATCH_DEFAULT: usize = 1000;

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database could not be used.
    #[error("{0}")]
    Database(String),
    /// The file is not a compact store (foreign, truncated or of another compact).
    #[error("{0}")]
    NotAStore(String),
    /// Stored data that contradicts itself.
    #[error("{0}")]
    Corrupt(String),
    /// A failure that may pass: the database could not be reached or read or written (a
    /// lost connection, a server restarting, an IO error). Nothing was refused and nothing
    /// partial was written; the same command may be run again.
    #[error("{0}")]
    Transient(String),
    /// Another writer held the store's write lock for longer than the busy timeout. Nothing
    /// was written; the same command may be run again.
    #[error("{0}")]
    Busy(String),
    /// The log grew between checking a batch and writing it (a writer that did not hold the
    /// write lock): the batch starts at `first`, the log's size is `size`. Nothing was
    /// written; check the batch again against the log as it is.
    #[error("the log grew meanwhile: size {size}, the batch starts at {first}")]
    Conflict {
        /// The log's size when the batch was to be written.
        size: u64,
        /// Where the batch starts.
        first: u64,
    },
}

impl StoreError {
    /// Whether running the same operation again may succeed.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            StoreError::Transient(_) | StoreError::Busy(_) | StoreError::Conflict { .. }
        )
    }
}

/// One entry to write.
#[derive(Clone, Debug)]
pub struct NewEntry {
    /// The exact canonical bytes of the signed statement.
    pub leaf: Vec<u8>,
    /// RFC 6962 leaf hash.
    pub leaf_hash: Hash,
    /// SHA-256 of the signed bytes (the same for a replay of the statement).
    pub statement_hash: Hash,
    /// Statement kind.
    pub kind: Kind,
    /// Author party code.
    pub author: String,
    /// The entry the statement refers to, if any.
    pub reference: Option<u64>,
    /// Its row of the projection ([`RecordRow::of_statement`]), written in the same
    /// transaction.
    pub record: RecordRow,
}

impl NewEntry {
    /// The entry of a decoded statement (stamped with its receipt time): its leaf, hashes,
    /// columns and projection row, all derived from it.
    pub fn of(st: &Statement) -> NewEntry {
        NewEntry {
            leaf: st.leaf.clone(),
            leaf_hash: leaf_hash(&st.leaf),
            statement_hash: Hash(st.statement_hash()),
            kind: st.kind(),
            author: st.author.clone(),
            reference: st.payload.reference(),
            record: RecordRow::of_statement(st),
        }
    }
}

/// What one transaction writes.
#[derive(Clone, Debug)]
pub struct Batch {
    /// Index of the first entry (the store's size before).
    pub first_index: u64,
    /// The entries, in order.
    pub entries: Vec<NewEntry>,
    /// Index of the first stored hash.
    pub first_hash: u64,
    /// The stored hashes the entries create, in order.
    pub hashes: Vec<Hash>,
    /// Tree size after the batch.
    pub size: u64,
    /// The signed checkpoint of that size.
    pub checkpoint: Vec<u8>,
}

/// A stored entry: index and leaf bytes.
pub type Entry = (u64, Vec<u8>);

/// A stored row as the database holds it, every column, unchecked: the audit recomputes each
/// from the leaf and compares.
#[derive(Clone, Debug)]
pub struct StoredRow {
    /// The stored index, as stored (it may be negative in a tampered store).
    pub index: i64,
    /// The leaf bytes.
    pub leaf: Vec<u8>,
    /// The stored leaf hash (any length).
    pub leaf_hash: Vec<u8>,
    /// The stored statement hash (any length).
    pub statement_hash: Vec<u8>,
    /// The stored key of the statement hash's index (its first 8 bytes, big-endian).
    pub statement_key: Option<i64>,
    /// The stored kind.
    pub kind: String,
    /// The stored author.
    pub author: String,
    /// The stored reference.
    pub reference: Option<i64>,
}

/// A row of the projection as the database holds it, unchecked: the audit recomputes it
/// from the leaf and compares.
#[derive(Clone, Debug)]
pub struct StoredRecord {
    /// The stored index (it may be negative in a tampered store).
    pub index: i64,
    /// The columns as read (a value of the wrong type reads as text that no leaf gives).
    pub row: RecordRow,
}

/// What can be read of a log: one state of it. A [`Store`]'s own reads each read the latest
/// log; a handle from [`Store::snapshot`] reads one state until it is dropped.
pub trait Reads {
    /// The compact id the store was created for (the log's origin).
    fn origin(&self) -> Result<String, StoreError>;
    /// Number of entries.
    fn size(&self) -> Result<u64, StoreError>;
    /// The leaf at `index`.
    fn entry(&self, index: u64) -> Result<Option<Vec<u8>>, StoreError>;
    /// The index of the first entry whose statement hash (SHA-256 of the signed bytes) is
    /// `hash`.
    fn find_statement(&self, hash: &Hash) -> Result<Option<u64>, StoreError>;
    /// [`Reads::find_statement`] for each of `hashes`, in order: what the ledger asks before
    /// it checks a batch. A store that answers a query faster than many (a database server)
    /// implements it as one.
    fn find_statements(&self, hashes: &[Hash]) -> Result<Vec<Option<u64>>, StoreError> {
        hashes.iter().map(|h| self.find_statement(h)).collect()
    }
    /// Entries of one kind, in order (for the rare kinds).
    fn of_kind(&self, kind: Kind) -> Result<Vec<Entry>, StoreError>;
    /// Entries of `kind` that refer to entry `index`, in order.
    fn referring(&self, index: u64, kind: Kind) -> Result<Vec<Entry>, StoreError>;
    /// Stored hashes by index.
    fn hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, StoreError>;
    /// Calls `f` on every entry from `from`, in index order, as stored (gaps and all): stops
    /// early when `f` returns false.
    fn scan(&self, from: u64, f: &mut dyn FnMut(u64, &[u8]) -> bool) -> Result<(), StoreError>;
    /// Calls `f` on every stored row from the first, in index order as stored (whatever the
    /// indices), with every column: for the audit, which recomputes each from the leaf.
    fn scan_rows(&self, f: &mut dyn FnMut(StoredRow) -> bool) -> Result<(), StoreError>;
    /// Calls `f` on every stored hash in index order.
    fn scan_hashes(&self, f: &mut dyn FnMut(u64, Hash) -> bool) -> Result<(), StoreError>;
    /// Whether the store keeps the projection ([`PROJECTION`]): reports may then read
    /// records instead of decoding leaves.
    fn has_records(&self) -> Result<bool, StoreError> {
        Ok(self.projection_meta()?.as_deref() == Some(PROJECTION))
    }
    /// The projection the store's meta records (`records/1`), if any.
    fn projection_meta(&self) -> Result<Option<String>, StoreError>;
    /// The records of the first `size` entries, in order, from the projection.
    fn records(&self, size: u64) -> Result<Vec<(u64, Record)>, StoreError> {
        self.records_between(0, size)
    }
    /// The records of the entries `from..to`, in order, from the projection (every one of
    /// them, or an error).
    fn records_between(&self, from: u64, to: u64) -> Result<Vec<(u64, Record)>, StoreError>;
    /// The record of entry `index`, if the projection holds one.
    fn record(&self, index: u64) -> Result<Option<Record>, StoreError>;
    /// The projection's rows with indices in `from..=to`, as stored (for the audit).
    fn record_rows(&self, from: i64, to: i64) -> Result<Vec<StoredRecord>, StoreError>;
    /// The latest checkpoint: (size, signed note).
    fn latest_checkpoint(&self) -> Result<Option<(u64, Vec<u8>)>, StoreError>;
    /// Every stored checkpoint, by size.
    fn checkpoints(&self) -> Result<Vec<(u64, Vec<u8>)>, StoreError>;
    /// The cosignature lines kept for the checkpoint of `size`, by witness name.
    fn cosignatures(&self, size: u64) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        let _ = size;
        Ok(Vec::new())
    }
}

/// A handle reading one state of the log ([`Store::snapshot`]) or the latest
/// ([`Store::latest`]). It holds the store's connection until it is dropped: read through it,
/// not through the store, while it lives.
pub type Snapshot<'s> = Box<dyn Reads + 's>;

/// The storage contract. Implementations keep batches atomic and durable and never rewrite
/// an entry.
///
/// A store is one connection to one database, shared by reference between threads (`Sync`);
/// readers that need more than one connection open more than one store. Reads go through a
/// handle ([`Store::snapshot`] for one consistent state, [`Store::latest`] for one read each;
/// the store's own [`Reads`] use the latter). Appends need the store exclusively (`&mut`), so
/// one store has one writer; the database's write lock ([`Store::begin_write`]) makes one
/// writer of the many stores that may open the same database.
pub trait Store: Send + Sync {
    /// A handle reading one consistent state of the log (one read transaction) until it is
    /// dropped: what the audit and a proof need while a writer appends. Within
    /// [`Store::begin_write`], the state the write sees.
    fn snapshot(&self) -> Result<Snapshot<'_>, StoreError>;
    /// A handle reading the latest log, each read on its own (or within the write in
    /// progress).
    fn latest(&self) -> Result<Snapshot<'_>, StoreError>;
    /// Writes a batch in one durable transaction; within [`Store::begin_write`], as part of
    /// the transaction held. Refuses a batch that does not start at the store's size with
    /// [`StoreError::Conflict`].
    fn append(&mut self, batch: &Batch) -> Result<(), StoreError>;
    /// Takes the write lock, waiting for other writers (up to the store's busy timeout, then
    /// [`StoreError::Busy`]): until [`Store::end_write`], reads see the latest log and no
    /// other writer can append, so what is checked is what is written after.
    fn begin_write(&mut self) -> Result<(), StoreError>;
    /// Ends what [`Store::begin_write`] began: commits durably, or rolls back.
    fn end_write(&mut self, commit: bool) -> Result<(), StoreError>;
    /// Keeps a witness's cosignature line (C2SP tlog-cosignature) of the checkpoint of `size`
    /// beside it, replacing the witness's earlier line for that size. Cosignatures are not
    /// log entries: whoever holds a checkpoint may add them, and a reader checks them.
    fn add_cosignature(&self, size: u64, witness: &str, line: &[u8]) -> Result<(), StoreError> {
        let _ = (size, witness, line);
        Err(StoreError::Database(
            "this store keeps no cosignatures".to_owned(),
        ))
    }
}

/// Forwards every read of [`Reads`] to `$via` (an expression of `$this` giving something that
/// reads): the one list of the trait's methods that wrappers share.
#[macro_export]
macro_rules! forward_reads {
    ($this:ident => $via:expr) => {
        fn origin(&$this) -> Result<String, $crate::StoreError> { $via.origin() }
        fn size(&$this) -> Result<u64, $crate::StoreError> { $via.size() }
        fn entry(&$this, index: u64) -> Result<Option<Vec<u8>>, $crate::StoreError> { $via.entry(index) }
        fn find_statement(&$this, hash: &$crate::__log::Hash) -> Result<Option<u64>, $crate::StoreError> { $via.find_statement(hash) }
        fn find_statements(&$this, hashes: &[$crate::__log::Hash]) -> Result<Vec<Option<u64>>, $crate::StoreError> { $via.find_statements(hashes) }
        fn of_kind(&$this, kind: $crate::__statement::Kind) -> Result<Vec<$crate::Entry>, $crate::StoreError> { $via.of_kind(kind) }
        fn referring(&$this, index: u64, kind: $crate::__statement::Kind) -> Result<Vec<$crate::Entry>, $crate::StoreError> { $via.referring(index, kind) }
        fn hashes(&$this, indexes: &[u64]) -> Result<Vec<$crate::__log::Hash>, $crate::StoreError> { $via.hashes(indexes) }
        fn scan(&$this, from: u64, f: &mut dyn FnMut(u64, &[u8]) -> bool) -> Result<(), $crate::StoreError> { $via.scan(from, f) }
        fn scan_rows(&$this, f: &mut dyn FnMut($crate::StoredRow) -> bool) -> Result<(), $crate::StoreError> { $via.scan_rows(f) }
        fn scan_hashes(&$this, f: &mut dyn FnMut(u64, $crate::__log::Hash) -> bool) -> Result<(), $crate::StoreError> { $via.scan_hashes(f) }
        fn has_records(&$this) -> Result<bool, $crate::StoreError> { $via.has_records() }
        fn projection_meta(&$this) -> Result<Option<String>, $crate::StoreError> { $via.projection_meta() }
        fn records(&$this, size: u64) -> Result<Vec<(u64, $crate::__statement::Record)>, $crate::StoreError> { $via.records(size) }
        fn records_between(&$this, from: u64, to: u64) -> Result<Vec<(u64, $crate::__statement::Record)>, $crate::StoreError> { $via.records_between(from, to) }
        fn record(&$this, index: u64) -> Result<Option<$crate::__statement::Record>, $crate::StoreError> { $via.record(index) }
        fn record_rows(&$this, from: i64, to: i64) -> Result<Vec<$crate::StoredRecord>, $crate::StoreError> { $via.record_rows(from, to) }
        fn latest_checkpoint(&$this) -> Result<Option<(u64, Vec<u8>)>, $crate::StoreError> { $via.latest_checkpoint() }
        fn checkpoints(&$this) -> Result<Vec<(u64, Vec<u8>)>, $crate::StoreError> { $via.checkpoints() }
        fn cosignatures(&$this, size: u64) -> Result<Vec<(String, Vec<u8>)>, $crate::StoreError> { $via.cosignatures(size) }
    };
}

/// A store's own reads: each through a handle on the latest log.
impl<S: Store + ?Sized> Reads for S {
    forward_reads!(self => self.latest()?);
}

/// A handle that holds a backend's connection (locked) and reads through it; on drop it runs
/// `end` (a snapshot's closing of its read transaction). Backends return it from
/// [`Store::snapshot`] and [`Store::latest`].
pub struct Held<'s, R: Reads> {
    guard: std::sync::MutexGuard<'s, R>,
    end: Option<fn(&R)>,
}

impl<'s, R: Reads> Held<'s, R> {
    /// Reads through `guard`; `end` runs when the handle is dropped.
    pub fn new(guard: std::sync::MutexGuard<'s, R>, end: Option<fn(&R)>) -> Self {
        Held { guard, end }
    }
}

impl<R: Reads> std::fmt::Debug for Held<'_, R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Held")
            .field("snapshot", &self.end.is_some())
            .finish_non_exhaustive()
    }
}

impl<R: Reads> Drop for Held<'_, R> {
    fn drop(&mut self) {
        if let Some(end) = self.end {
            end(&self.guard);
        }
    }
}

impl<R: Reads> Reads for Held<'_, R> {
    forward_reads!(self => (*self.guard));
}

/// The connection of a backend held exclusively (`&mut`, so no lock is taken): for writes.
pub fn lock_mut<T>(m: &mut std::sync::Mutex<T>) -> Result<&mut T, StoreError> {
    m.get_mut().map_err(|_| {
        StoreError::Database("the store's connection was poisoned by a failure".into())
    })
}

/// Locks a backend's connection: a lock poisoned by a panic elsewhere is a database error,
/// not a panic here.
pub fn lock<T>(m: &std::sync::Mutex<T>) -> Result<std::sync::MutexGuard<'_, T>, StoreError> {
    m.lock().map_err(|_| {
        StoreError::Database("the store's connection was poisoned by a failure".into())
    })
}

/// Reads stored hashes from a store for the tree functions.
pub struct StoreHashes<'a, S: Reads + ?Sized>(pub &'a S);

impl<S: Reads + ?Sized> std::fmt::Debug for StoreHashes<'_, S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StoreHashes")
    }
}

impl<S: Reads + ?Sized> HashReader for StoreHashes<'_, S> {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, compact_log::TreeReadError> {
        self.0
            .hashes(indexes)
            .map_err(|_| compact_log::TreeReadError::IndexesNotInTree)
    }
}

/// Why a statement or batch was not appended.
#[derive(Debug, thiserror::Error)]
pub enum AppendError {
    /// Statement `position` (0-based, in the input) was refused; nothing was written.
    #[error("statement {position}: {reason}")]
    Refused {
        /// Position in the input.
        position: usize,
        /// The rule that refused it (stable, machine-readable).
        code: Code,
        /// Why.
        reason: String,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The log's mathematics or the checkpoint failed.
    #[error("{0}")]
    Log(String),
}

/// The largest entry (leaf) the log holds: C2SP tlog-tiles entry bundles prefix each entry
/// with its length as a big-endian 16-bit number.
pub const LEAF_SIZE_MAX: usize = u16::MAX as usize;

/// The operator's clock, which stamps each statement's receipt time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Clock {
    /// Every statement of the input is received at this time (the operator's now).
    At(Timestamp),
    /// A simulated clock for replaying a history (the demo): each statement is received at its
    /// own time. Receipt times never go back either way.
    Simulated,
}

/// The log of a compact over a store: appends checked statements.
pub struct Ledger<'c, S: Store> {
    store: S,
    compact: &'c Compact,
    facts: Facts,
    /// The signed checkpoint of the log `facts` describe: under the write lock, a log whose
    /// latest checkpoint is this one holds nothing the facts miss, and they are not read
    /// again (one query instead of one per kind; a database server's round trips).
    facts_head: Option<Vec<u8>>,
}

impl<S: Store> std::fmt::Debug for Ledger<'_, S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ledger")
            .field("compact", &self.compact.id)
            .finish_non_exhaustive()
    }
}

/// Statements of a batch not yet written, indexed for the rules.
#[derive(Default)]
pub(crate) struct Pending<'a> {
    /// The input; the first `len` are checked and visible.
    statements: &'a [Statement],
    len: usize,
    /// (referred entry, kind) to positions in `statements`.
    refs: BTreeMap<(u64, Kind), Vec<usize>>,
}

/// A view of the log as of entry `base`: the store's entries before it, plus statements not
/// yet written (on append; none on audit).
pub(crate) struct Overlay<'a, S: Reads + ?Sized> {
    pub(crate) store: &'a S,
    pub(crate) base: u64,
    pub(crate) pending: &'a Pending<'a>,
    pub(crate) facts: &'a Facts,
}

fn decode_stored(index: u64, bytes: &[u8]) -> Result<Statement, String> {
    Statement::decode(bytes).map_err(|e| format!("stored entry {index} does not decode: {e}"))
}

impl<S: Reads + ?Sized> LedgerView for Overlay<'_, S> {
    fn facts(&self) -> &Facts {
        self.facts
    }

    fn next_index(&self) -> u64 {
        self.base + self.pending.len as u64
    }

    fn entry(&self, index: u64) -> Result<Option<Statement>, String> {
        if index >= self.base {
            let i = usize::try_from(index - self.base).map_err(|e| e.to_string())?;
            return Ok(self
                .pending
                .statements
                .get(..self.pending.len)
                .and_then(|s| s.get(i))
                .cloned());
        }
        match self.store.entry(index).map_err(|e| e.to_string())? {
            Some(b) => decode_stored(index, &b).map(Some),
            None => Ok(None),
        }
    }

    fn referring(&self, index: u64, kind: Kind) -> Result<Vec<(u64, Statement)>, String> {
        let mut out = Vec::new();
        if index < self.base {
            for (i, b) in self
                .store
                .referring(index, kind)
                .map_err(|e| e.to_string())?
            {
                if i < self.base {
                    out.push((i, decode_stored(i, &b)?));
                }
            }
        }
        for p in self.pending.refs.get(&(index, kind)).into_iter().flatten() {
            if let Some(st) = self.pending.statements.get(*p) {
                out.push((self.base + *p as u64, st.clone()));
            }
        }
        Ok(out)
    }
}

/// The facts of what `store` holds (from the entries of [`FACT_KINDS`], and the last
/// entry's receipt time).
pub fn stored_facts<S: Reads + ?Sized>(store: &S, compact: &Compact) -> Result<Facts, StoreError> {
    let mut facts = Facts::default();
    let decode = |i: u64, b: &[u8]| {
        Statement::decode(b)
            .map_err(|e| StoreError::Corrupt(format!("stored entry {i} does not decode: {e}")))
    };
    let mut all = Vec::new();
    for kind in FACT_KINDS {
        all.extend(store.of_kind(kind)?);
    }
    all.sort_by_key(|(i, _)| *i);
    for (i, b) in all {
        facts.note(i, &decode(i, &b)?, compact);
    }
    let size = store.size()?;
    if size > 0
        && let Some(b) = store.entry(size - 1)?
    {
        facts.last_received = decode(size - 1, &b)?.received;
    }
    Ok(facts)
}

/// Stored hashes plus hashes of a batch being built.
struct PendingHashes<'a, S: Reads + ?Sized> {
    store: &'a S,
    pending: BTreeMap<u64, Hash>,
}

impl<S: Reads + ?Sized> HashReader for PendingHashes<'_, S> {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, compact_log::TreeReadError> {
        let missing: Vec<u64> = indexes
            .iter()
            .copied()
            .filter(|i| !self.pending.contains_key(i))
            .collect();
        let stored = self
            .store
            .hashes(&missing)
            .map_err(|_| compact_log::TreeReadError::IndexesNotInTree)?;
        let from_store: BTreeMap<u64, Hash> = missing.into_iter().zip(stored).collect();
        indexes
            .iter()
            .map(|i| {
                self.pending
                    .get(i)
                    .or_else(|| from_store.get(i))
                    .copied()
                    .ok_or(compact_log::TreeReadError::IndexesNotInTree)
            })
            .collect()
    }
}

impl<'c, S: Store> Ledger<'c, S> {
    /// The ledger of `compact` over `store`. The store must have been created for this compact.
    pub fn open(store: S, compact: &'c Compact) -> Result<Self, StoreError> {
        let origin = store.origin()?;
        if origin != compact.id {
            return Err(StoreError::NotAStore(format!(
                "the store holds the log of `{origin}`, not of `{}`",
                compact.id
            )));
        }
        // The head first: facts read after it cover at least it, and a log that grew
        // meanwhile has another head at the next write, which reads them again.
        let facts_head = store.latest_checkpoint()?.map(|(_, note)| note);
        let facts = stored_facts(&store, compact)?;
        Ok(Ledger {
            store,
            compact,
            facts,
            facts_head,
        })
    }

    /// The store.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// The compact.
    pub fn compact(&self) -> &Compact {
        self.compact
    }

    /// The signatures and accession the log holds.
    pub fn facts(&self) -> &Facts {
        &self.facts
    }

    /// The entry holding this statement, if it is already in the log. `import` skips such
    /// statements (so that an interrupted import can be run again), and asks only this.
    pub fn already_logged(&self, st: &Statement) -> Result<Option<u64>, StoreError> {
        self.store.find_statement(&Hash(st.statement_hash()))
    }

    /// Takes the store's write lock ([`Store::begin_write`]) and rereads the facts, which
    /// other writers may have changed: what is prepared until [`Ledger::end_write`] is
    /// checked against the log it is written to.
    pub fn begin_write(&mut self) -> Result<(), StoreError> {
        self.store.begin_write()?;
        let reread = (|| {
            let head = self.store.latest_checkpoint()?.map(|(_, note)| note);
            if head.is_none() || head != self.facts_head {
                self.facts = stored_facts(&self.store, self.compact)?;
                self.facts_head = head;
            }
            Ok(())
        })();
        if reread.is_err() {
            let _ = self.store.end_write(false);
        }
        reread
    }

    /// Commits (or rolls back) what was written since [`Ledger::begin_write`].
    pub fn end_write(&mut self, commit: bool) -> Result<(), StoreError> {
        let ended = self.store.end_write(commit);
        if !commit || ended.is_err() {
            self.facts_head = None;
            self.facts = stored_facts(&self.store, self.compact)?;
        }
        ended
    }

    /// Checks `statements` (already stamped with their receipt time) in order, as if appended
    /// after entry `base - 1`: duplicates, and each payload against the rules and the log.
    /// Keys and signatures are checked apart (`prepare`), on every core.
    fn check_in_order(
        &self,
        store: &dyn Reads,
        statements: &[Statement],
        base: u64,
    ) -> Result<(), AppendError> {
        let mut seen = BTreeMap::new();
        let mut pending = Pending {
            statements,
            ..Pending::default()
        };
        let mut facts = self.facts.clone();
        // Which statements are already logged, asked of the store at once.
        let hashes: Vec<Hash> = statements
            .iter()
            .map(|st| Hash(st.statement_hash()))
            .collect();
        let logged = store.find_statements(&hashes)?;
        if logged.len() != statements.len() {
            return Err(AppendError::Log(format!(
                "the store answered for {} statements of {}",
                logged.len(),
                statements.len()
            )));
        }
        for (position, ((st, h), logged)) in statements.iter().zip(&hashes).zip(logged).enumerate()
        {
            let refused = |code: Code, reason: String| AppendError::Refused {
                position,
                code,
                reason,
            };
            if let Some(i) = logged {
                return Err(refused(
                    Code::Duplicate,
                    format!("a duplicate of entry {i}: the same statement is already in the log"),
                ));
            }
            if let Some(p) = seen.insert(h.0, position) {
                return Err(refused(
                    Code::Duplicate,
                    format!("a duplicate of statement {p} of this input"),
                ));
            }
            let view = Overlay {
                store,
                base,
                pending: &pending,
                facts: &facts,
            };
            check_payload(st, self.compact, &view, Mode::Append)
                .map_err(|r| refused(r.code, r.message))?;
            facts.note(base + position as u64, st, self.compact);
            if let Some(r) = st.payload.reference() {
                pending
                    .refs
                    .entry((r, st.kind()))
                    .or_default()
                    .push(position);
            }
            pending.len = position + 1;
        }
        Ok(())
    }

    /// Checks `statements` as if appended in order, received at `clock` (the operator's
    /// clock; never earlier than the last entry's receipt), and builds the batches (of at most
    /// `batch` statements, each ending with a checkpoint signed by `operator`) that would
    /// append them. Writes nothing: a refusal anywhere leaves the log as it was.
    pub fn prepare(
        &self,
        statements: &[Statement],
        operator: &StandardSigner,
        batch: usize,
        clock: Clock,
    ) -> Result<Vec<Batch>, AppendError> {
        let base = self.store.size()?;
        let mut last = self.facts.last_received;
        let received: Vec<Timestamp> = statements
            .iter()
            .map(|st| {
                let t = match clock {
                    Clock::At(t) => t,
                    Clock::Simulated => st.time,
                };
                let t = last.map_or(t, |l| l.max(t));
                last = Some(t);
                t
            })
            .collect();
        let op_ref = format!(
            "{}+{:08x}",
            signed_note::Signer::name(operator),
            signed_note::Signer::key_id(operator)
        );
        let pinned = self.facts.operator_key.clone().or_else(|| {
            statements.first().and_then(|st| match &st.payload {
                compact_statement::Payload::LogInit(l) => Some(l.operator_key.clone()),
                _ => None,
            })
        });
        if let Some(pinned) = &pinned
            && compact_statement::rules::vkey_ref(pinned) != op_ref
        {
            return Err(AppendError::Log(format!(
                "the operator key {op_ref} is not the log's operator key {} (pinned by its log.init)",
                compact_statement::rules::vkey_ref(pinned)
            )));
        }
        let stamped: Vec<Statement> = statements
            .par_iter()
            .zip(received.par_iter())
            .enumerate()
            .map(|(position, (st, at))| {
                let stamped = st.received_at(*at).map_err(|e| AppendError::Refused {
                    position,
                    code: Code::Malformed,
                    reason: e.to_string(),
                })?;
                if stamped.leaf.len() > LEAF_SIZE_MAX {
                    return Err(AppendError::Refused {
                        position,
                        code: Code::TooLarge,
                        reason: format!(
                            "the entry would take {} bytes; the log holds entries of at most {LEAF_SIZE_MAX} (tlog-tiles entry bundles prefix each with a 16-bit length)",
                            stamped.leaf.len()
                        ),
                    });
                }
                Ok(stamped)
            })
            .collect::<Result<_, _>>()?;
        let statements = &stamped;
        // The key each statement must verify with, from a registry that follows only the key
        // statements (cheap, in order); then the signatures are verified on every core while
        // this thread checks the payloads in log order. A key statement the rules refuse
        // refuses the input anyway, at a position no later than what it could mislead.
        let compact = self.compact;
        let mut registry = self.facts.clone();
        let keys: Vec<Result<String, Refusal>> = statements
            .iter()
            .enumerate()
            .map(|(position, st)| {
                let key = signing_key(st, compact, &registry);
                if matches!(
                    st.kind(),
                    Kind::LogInit | Kind::KeyRegister | Kind::KeyRevoke
                ) {
                    registry.note(base + position as u64, st, compact);
                }
                key
            })
            .collect();
        let snapshot = self.store.snapshot()?;
        let (signatures, payloads) = {
            std::thread::scope(|scope| {
                let signatures = scope.spawn(|| {
                    statements
                        .par_iter()
                        .zip(keys.par_iter())
                        .enumerate()
                        .find_first(|(_, (st, k))| {
                            k.as_ref().map_or(true, |k| st.verify_with(k).is_err())
                        })
                        .map(|(position, (st, k))| match k {
                            Ok(k) => AppendError::Refused {
                                position,
                                code: Code::Signature,
                                reason: st
                                    .verify_with(k)
                                    .err()
                                    .map(|e| e.to_string())
                                    .unwrap_or_default(),
                            },
                            Err(r) => AppendError::Refused {
                                position,
                                code: r.code,
                                reason: r.message.clone(),
                            },
                        })
                });
                let payloads = self.check_in_order(&*snapshot, statements, base);
                (signatures.join(), payloads)
            })
        };
        drop(snapshot);
        let bad_signature =
            signatures.map_err(|_| AppendError::Log("signature checks failed to run".into()))?;
        match (bad_signature, payloads) {
            // At one position, the key or signature is reported first: who said it before what.
            (
                Some(AppendError::Refused {
                    position,
                    code,
                    reason,
                }),
                Err(AppendError::Refused { position: p, .. }),
            ) if position <= p => {
                return Err(AppendError::Refused {
                    position,
                    code,
                    reason,
                });
            }
            (_, Err(e)) => return Err(e),
            (Some(bad), Ok(_)) => return Err(bad),
            (None, Ok(_)) => {}
        }
        let mut hashes = PendingHashes {
            store: &self.store,
            pending: BTreeMap::new(),
        };
        let log = |e: compact_log::LogError| AppendError::Log(e.to_string());
        let mut batches = Vec::new();
        for (k, chunk) in statements.chunks(batch.max(1)).enumerate() {
            let first_index = base + (k * batch.max(1)) as u64;
            let mut entries = Vec::with_capacity(chunk.len());
            let mut new_hashes = Vec::new();
            for (i, st) in chunk.iter().enumerate() {
                let n = first_index + i as u64;
                let entry = NewEntry::of(st);
                let h = entry.leaf_hash;
                let created = hashes_to_store(n, h, &hashes).map_err(log)?;
                let start = stored_hash_index(0, n);
                for (j, x) in created.iter().enumerate() {
                    hashes.pending.insert(start + j as u64, *x);
                }
                new_hashes.extend(created);
                entries.push(entry);
            }
            let size = first_index + chunk.len() as u64;
            let root = tree_hash(size, &hashes).map_err(log)?;
            let checkpoint =
                sign_checkpoint(&self.compact.id, size, root, operator).map_err(log)?;
            batches.push(Batch {
                first_index,
                entries,
                first_hash: stored_hash_index(0, first_index),
                hashes: new_hashes,
                size,
                checkpoint,
            });
        }
        Ok(batches)
    }

    /// Writes prepared batches, one durable transaction each, calling `progress` with the
    /// number of statements written after each.
    pub fn write(
        &mut self,
        batches: &[Batch],
        progress: &mut dyn FnMut(u64),
    ) -> Result<(), AppendError> {
        let mut written = 0;
        for b in batches {
            if let Err(e) = self.store.append(b) {
                self.facts_head = None;
                return Err(e.into());
            }
            let last = b.entries.len().saturating_sub(1);
            for (i, e) in b.entries.iter().enumerate() {
                if FACT_KINDS.contains(&e.kind) || i == last {
                    let st = Statement::decode(&e.leaf)
                        .map_err(|err| AppendError::Log(err.to_string()))?;
                    self.facts.note(b.first_index + i as u64, &st, self.compact);
                }
            }
            self.facts_head = Some(b.checkpoint.clone());
            written += b.entries.len() as u64;
            progress(written);
        }
        Ok(())
    }

    /// Checks and appends `statements` as one durable batch with a new checkpoint, holding
    /// the write lock from the check to the commit (concurrent writers wait for each other).
    /// All or nothing. Returns the index of the first.
    pub fn append(
        &mut self,
        statements: &[Statement],
        operator: &StandardSigner,
        clock: Clock,
    ) -> Result<u64, AppendError> {
        self.begin_write()?;
        let written = (|| {
            let first = self.store.size()?;
            let batches = self.prepare(statements, operator, statements.len(), clock)?;
            self.write(&batches, &mut |_| {})?;
            Ok(first)
        })();
        self.end_write(written.is_ok())?;
        written
    }
}
