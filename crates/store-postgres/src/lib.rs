//! The log's store in PostgreSQL, for deployments: [`PostgresStore`] implements
//! [`compact_store::Store`], so the ledger, the audit and the reports run on it unchanged.
//!
//! The tables are the SQLite store's, in PostgreSQL's types: `meta` (format, origin,
//! projection, schema version), `entries` (index, leaf, leaf hash, statement hash and its key,
//! kind, author, reference), `records` (the projection, see [`compact_store::projection`]),
//! `hashes` (the tree's stored hashes by index) and `checkpoints` (size, signed note). They are
//! created by versioned migrations ([`SCHEMA_VERSION`]) when the store is created; a store of
//! an older version is migrated when opened for writing, and a newer one is refused.
//!
//! **Writers.** [`Store::begin_write`] opens a transaction and takes a transaction-scoped
//! advisory lock (`pg_advisory_xact_lock`) before anything is read: a second writer, in this
//! process or any other, waits for the first to commit (up to the lock timeout, 30 s by
//! default, then [`StoreError::Transient`]), and then reads the log the first wrote. An append
//! that does not start at the log's size is refused, so two writers never fork the log.
//! Commits are durable: every session sets `synchronous_commit = on`.
//!
//! **Readers.** [`Store::snapshot`] reads one snapshot (`REPEATABLE READ`), which is what the
//! audit needs while a writer appends.
//!
//! **Synchronous.** The `postgres` client runs its own small runtime: a store must never be
//! called from within an async context (a tokio task); servers call it from `spawn_blocking`
//! or a thread of their own.

use std::cell::{Cell, RefCell, RefMut};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use compact_log::Hash;
use compact_statement::{Kind, Record, Statement};
use compact_store::{
    Batch, Entry, Held, PROJECTION, Reads, RecordRow, STORE_FORMAT, Snapshot, Store, StoreError,
    StoredRecord, StoredRow, lock, lock_mut,
};
use postgres::error::SqlState;
use postgres::types::{FromSql, ToSql};
use postgres::{Client, NoTls, Row};

#[cfg(any(test, feature = "testkit"))]
pub mod testkit;
#[cfg(test)]
mod tests;

/// The schema version the migrations below lead to, recorded in `meta` as `schema_version`.
pub const SCHEMA_VERSION: u32 = 2;

/// How long a writer waits for another's write lock by default.
pub const LOCK_TIMEOUT_DEFAULT: Duration = Duration::from_secs(30);

/// The key of the advisory lock writers take (`compact\x01`). Advisory locks are per database,
/// so one store per database (or per schema of distinct databases) never waits for another's.
const WRITE_LOCK: i64 = 0x636f_6d70_6163_7401;

/// Rows read per query when a scan pages through a table.
const PAGE: i64 = 1024;

/// The tables of schema version 1, but the projection's.
const CORE_V1: &str = "
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE entries (
  idx BIGINT PRIMARY KEY,
  leaf BYTEA NOT NULL,
  leaf_hash BYTEA NOT NULL,
  stmt_hash BYTEA NOT NULL,
  stmt_key BIGINT NOT NULL,
  kind TEXT NOT NULL,
  author TEXT NOT NULL,
  ref BIGINT
);
CREATE INDEX entries_stmt_key ON entries (stmt_key);
CREATE INDEX entries_kind ON entries (kind, idx);
CREATE INDEX entries_ref ON entries (ref, kind) WHERE ref IS NOT NULL;
CREATE TABLE hashes (idx BIGINT PRIMARY KEY, hash BYTEA NOT NULL);
CREATE TABLE checkpoints (size BIGINT PRIMARY KEY, note BYTEA NOT NULL);
";

/// The projection's table (see [`compact_store::projection`]): derived from the leaves only.
const RECORDS_SCHEMA: &str = "
CREATE TABLE records (
  idx BIGINT PRIMARY KEY,
  kind TEXT NOT NULL,
  author TEXT NOT NULL,
  time BIGINT NOT NULL,
  received BIGINT,
  commitment TEXT,
  amount TEXT,
  date TEXT,
  reference TEXT,
  ref BIGINT,
  payload TEXT
);
";

/// Version 2: witnesses' cosignatures beside the checkpoints (not log entries: whoever holds a
/// checkpoint may add them, and a reader checks them).
const COSIGNATURES_V2: &str = "
CREATE TABLE cosignatures (
  size BIGINT NOT NULL,
  witness TEXT NOT NULL,
  line BYTEA NOT NULL,
  PRIMARY KEY (size, witness)
);
";

/// The migrations, in order: version `v` is reached by running its statements on version
/// `v - 1` (version 0 being an empty database), in one transaction.
const MIGRATIONS: &[(u32, &[&str])] = &[(1, &[CORE_V1, RECORDS_SCHEMA]), (2, &[COSIGNATURES_V2])];

const SIZE: &str = "SELECT COALESCE(MAX(size), 0)::BIGINT FROM checkpoints";
const META: &str = "SELECT value FROM meta WHERE key = $1";
const INSERT_RECORDS: &str = "INSERT INTO records (idx, kind, author, time, received, commitment, amount, date, reference, ref, payload) SELECT * FROM UNNEST($1::BIGINT[], $2::TEXT[], $3::TEXT[], $4::BIGINT[], $5::BIGINT[], $6::TEXT[], $7::TEXT[], $8::TEXT[], $9::TEXT[], $10::BIGINT[], $11::TEXT[])";
/// A batch in one statement (one round trip): its entries, projection rows, stored hashes
/// and checkpoint, each inserted only if the log's size is still `$22` (where the batch
/// starts); no row is inserted otherwise, and the checkpoint's insert counts 0 rows.
const INSERT_BATCH: &str = "WITH fits AS (SELECT COALESCE(MAX(size), 0) = $22 AS ok FROM checkpoints), \
e AS (INSERT INTO entries (idx, leaf, leaf_hash, stmt_hash, stmt_key, kind, author, ref) \
  SELECT u.* FROM UNNEST($1::BIGINT[], $2::BYTEA[], $3::BYTEA[], $4::BYTEA[], $5::BIGINT[], $6::TEXT[], $7::TEXT[], $8::BIGINT[]) AS u, fits WHERE fits.ok), \
r AS (INSERT INTO records (idx, kind, author, time, received, commitment, amount, date, reference, ref, payload) \
  SELECT u.* FROM UNNEST($9::BIGINT[], $10::TEXT[], $11::TEXT[], $12::BIGINT[], $13::BIGINT[], $14::TEXT[], $15::TEXT[], $16::TEXT[], $17::TEXT[], $18::BIGINT[], $19::TEXT[]) AS u, fits WHERE fits.ok), \
h AS (INSERT INTO hashes (idx, hash) SELECT u.* FROM UNNEST($20::BIGINT[], $21::BYTEA[]) AS u, fits WHERE fits.ok) \
INSERT INTO checkpoints (size, note) SELECT $23, $24 FROM fits WHERE fits.ok";
const ENTRY: &str = "SELECT leaf FROM entries WHERE idx = $1";
const FIND: &str =
    "SELECT MIN(idx) FROM entries WHERE stmt_key = $1 AND stmt_hash = $2 AND idx >= 0";
const FIND_MANY: &str = "SELECT idx, stmt_hash FROM entries WHERE stmt_key = ANY($1) AND idx >= 0";
const OF_KIND: &str = "SELECT idx, leaf FROM entries WHERE kind = $1 ORDER BY idx";
const REFERRING: &str = "SELECT idx, leaf FROM entries WHERE ref = $1 AND kind = $2 ORDER BY idx";
const HASHES: &str = "SELECT idx, hash FROM hashes WHERE idx = ANY($1)";
const SCAN: &str = "SELECT idx, leaf FROM entries WHERE idx >= $1 ORDER BY idx LIMIT $2";
const SCAN_ROWS: &str = "SELECT idx, leaf, leaf_hash, stmt_hash, kind, author, ref, stmt_key FROM entries WHERE idx >= $1 ORDER BY idx LIMIT $2";
const SCAN_HASHES: &str = "SELECT idx, hash FROM hashes WHERE idx >= $1 ORDER BY idx LIMIT $2";
const RECORDS_PAGE: &str = "SELECT idx, kind, author, time, received, commitment, amount, date, reference, ref, payload FROM records WHERE idx >= $1 AND idx < $2 ORDER BY idx LIMIT $3";
const RECORD: &str = "SELECT idx, kind, author, time, received, commitment, amount, date, reference, ref, payload FROM records WHERE idx = $1";
const RECORD_ROWS: &str = "SELECT idx, kind, author, time, received, commitment, amount, date, reference, ref, payload FROM records WHERE idx >= $1 AND idx <= $2 ORDER BY idx";
const LATEST_CHECKPOINT: &str = "SELECT size, note FROM checkpoints ORDER BY size DESC LIMIT 1";
const CHECKPOINTS: &str = "SELECT size, note FROM checkpoints ORDER BY size";
const ADD_COSIGNATURE: &str = "INSERT INTO cosignatures (size, witness, line) VALUES ($1, $2, $3) ON CONFLICT (size, witness) DO UPDATE SET line = EXCLUDED.line";
const COSIGNATURES: &str =
    "SELECT witness, line FROM cosignatures WHERE size = $1 ORDER BY witness";

/// The lowest tree level whose stored hashes are cached (a level-6 node covers 64 leaves).
const UPPER_LEVEL: u8 = 6;
/// The most hashes cached.
const UPPER_CACHE_MAX: usize = 200_000;

/// The transaction a store's connection is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tx {
    None,
    /// A read snapshot ([`Store::snapshot`]).
    Read,
    /// A write transaction holding the write lock.
    Write,
}

/// A compact log in a PostgreSQL database: one connection, which threads share by turns (a
/// reader that must not wait for another opens a store of its own).
pub struct PostgresStore {
    inner: Mutex<Conn>,
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the connection string: it may hold a password.
        f.debug_struct("PostgresStore").finish_non_exhaustive()
    }
}

/// The connection, the transaction it is in, and what it caches.
struct Conn {
    client: RefCell<Client>,
    /// Prepared statements by their SQL (prepared once per connection).
    prepared: RefCell<HashMap<&'static str, postgres::Statement>>,
    tx: Cell<Tx>,
    /// Whether a statement failed within the open transaction: PostgreSQL then aborts it, and
    /// a COMMIT would silently roll back, so [`Store::end_write`] reports it instead.
    failed: Cell<bool>,
    /// Stored hashes of the upper levels of the tree, which every proof reads again. Stored
    /// hashes never change, so the cache can never be stale; it is bounded.
    upper: RefCell<HashMap<u64, Hash>>,
    read_only: bool,
    /// The schema version of the database (an older one is read as it is, read-only).
    schema: Cell<u32>,
}

impl std::fmt::Debug for Conn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the connection string: it may hold a password.
        f.debug_struct("Conn")
            .field("read_only", &self.read_only)
            .field("tx", &self.tx.get())
            .finish_non_exhaustive()
    }
}

/// What a PostgreSQL error says, without the driver's wrapping.
fn message(e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(d) => format!("{}: {}", d.code().code(), d.message()),
        None => {
            let mut s = e.to_string();
            let mut source = std::error::Error::source(e);
            while let Some(cause) = source {
                let c = cause.to_string();
                if !s.contains(&c) {
                    s.push_str(": ");
                    s.push_str(&c);
                }
                source = cause.source();
            }
            s
        }
    }
}

/// Whether the error is the connection's (refused, reset, closed), not the query's.
fn is_connection(e: &postgres::Error) -> bool {
    e.is_closed()
        || std::iter::successors(std::error::Error::source(e), |c| c.source())
            .any(|c| c.is::<std::io::Error>())
}

/// A PostgreSQL error as a store error: what may pass (a lock not granted in time, a lost
/// connection, a server shutting down, a full disk) is transient.
fn db(e: postgres::Error) -> StoreError {
    let m = message(&e);
    match e.code() {
        Some(c) if *c == SqlState::LOCK_NOT_AVAILABLE => StoreError::Busy(format!(
            "the store is busy: another writer held its write lock for longer than the lock timeout ({m})"
        )),
        Some(c)
            if [
                SqlState::T_R_SERIALIZATION_FAILURE,
                SqlState::T_R_DEADLOCK_DETECTED,
                SqlState::ADMIN_SHUTDOWN,
                SqlState::CRASH_SHUTDOWN,
                SqlState::CANNOT_CONNECT_NOW,
                SqlState::TOO_MANY_CONNECTIONS,
                SqlState::DISK_FULL,
                SqlState::IO_ERROR,
                SqlState::QUERY_CANCELED,
            ]
            .contains(c) =>
        {
            StoreError::Transient(format!("the store could not be read or written ({m})"))
        }
        Some(_) => StoreError::Database(m),
        None if is_connection(&e) => {
            StoreError::Transient(format!("the store could not be reached ({m})"))
        }
        None => StoreError::Database(m),
    }
}

fn to_i64(n: u64) -> Result<i64, StoreError> {
    i64::try_from(n).map_err(|_| StoreError::Database(format!("index {n} out of range")))
}

fn to_u64(n: i64) -> Result<u64, StoreError> {
    u64::try_from(n).map_err(|_| StoreError::Corrupt(format!("negative index {n} in the store")))
}

/// The first 8 bytes of a statement hash, the key of its (non-unique) index, as in the SQLite
/// store: lookups compare the whole hash.
fn stmt_key(hash: &Hash) -> i64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(hash.0.get(..8).unwrap_or(&[0; 8]));
    i64::from_be_bytes(b)
}

fn hash_of(bytes: &[u8], what: &str) -> Result<Hash, StoreError> {
    let arr: [u8; 32] = bytes
        .try_into()
        .map_err(|_| StoreError::Corrupt(format!("{what} is not 32 bytes")))?;
    Ok(Hash(arr))
}

/// Column `i` of `row`: a value that does not read as `T` is corrupt data.
fn get<'a, T: FromSql<'a>>(row: &'a Row, i: usize) -> Result<T, StoreError> {
    row.try_get(i)
        .map_err(|e| StoreError::Corrupt(format!("a stored value cannot be read ({e})")))
}

/// One optional text column of projection rows, as an array parameter.
fn texts<'a>(
    rows: &[&'a RecordRow],
    column: fn(&'a RecordRow) -> &'a Option<String>,
) -> Vec<Option<&'a str>> {
    rows.iter().map(|r| column(r).as_deref()).collect()
}

/// A projection row as stored.
fn record_row(row: &Row) -> Result<(i64, RecordRow), StoreError> {
    Ok((
        get(row, 0)?,
        RecordRow {
            kind: get(row, 1)?,
            author: get(row, 2)?,
            time: get(row, 3)?,
            received: get(row, 4)?,
            commitment: get(row, 5)?,
            amount: get(row, 6)?,
            date: get(row, 7)?,
            reference: get(row, 8)?,
            refers: get(row, 9)?,
            payload: get(row, 10)?,
        },
    ))
}

/// The projection cannot be read: `compact verify` says why.
fn corrupt_record(e: StoreError) -> StoreError {
    match e {
        StoreError::Database(m) | StoreError::Corrupt(m) => StoreError::Corrupt(format!(
            "the projection (table records) cannot be read ({m}): run `compact verify`"
        )),
        other => other,
    }
}

impl Conn {
    /// Connects to the database at `url` (a `postgres://` URL or a `key=value` connection
    /// string), with durable commits and the default lock timeout.
    fn connect(url: &str, read_only: bool) -> Result<Self, StoreError> {
        let mut client = Client::connect(url, NoTls).map_err(|e| match db(e) {
            StoreError::Database(m) => {
                StoreError::Database(format!("cannot connect to PostgreSQL: {m}"))
            }
            other => other,
        })?;
        let mut setup = format!(
            "SET synchronous_commit = on; SET lock_timeout = {};",
            LOCK_TIMEOUT_DEFAULT.as_millis()
        );
        if read_only {
            setup.push_str(" SET default_transaction_read_only = on;");
        }
        client.batch_execute(&setup).map_err(db)?;
        Ok(Conn {
            client: RefCell::new(client),
            prepared: RefCell::default(),
            tx: Cell::new(Tx::None),
            failed: Cell::new(false),
            upper: RefCell::default(),
            read_only,
            schema: Cell::new(SCHEMA_VERSION),
        })
    }

    fn create(url: &str, origin: &str) -> Result<Self, StoreError> {
        let store = Self::connect(url, false)?;
        store.in_write(|s| {
            let exists: bool = s
                .query_one_raw("SELECT to_regclass('meta') IS NOT NULL", &[])
                .and_then(|r| get(&r, 0))?;
            if exists {
                let held = s
                    .meta("origin")
                    .ok()
                    .flatten()
                    .map(|o| format!(" (the log of `{o}`)"))
                    .unwrap_or_default();
                return Err(StoreError::Database(format!(
                    "the database already holds a compact store{held}: a store is created once"
                )));
            }
            s.migrate(0)?;
            s.execute(
                "INSERT INTO meta (key, value) VALUES ('format', $1), ('origin', $2), ('projection', $3)",
                &[&STORE_FORMAT, &origin, &PROJECTION],
            )?;
            Ok(())
        })?;
        Ok(store)
    }

    fn open(url: &str) -> Result<Self, StoreError> {
        let store = Self::connect(url, false)?;
        let version = store.checked()?;
        if version < SCHEMA_VERSION {
            store.in_write(|s| {
                // Again under the lock: another process may have migrated it meanwhile.
                let now = s.schema_version()?;
                s.migrate(now)
            })?;
        }
        store.ensure_projection()?;
        Ok(store)
    }

    fn open_read_only(url: &str) -> Result<Self, StoreError> {
        let store = Self::connect(url, true)?;
        store.schema.set(store.checked()?);
        Ok(store)
    }

    fn set_busy_timeout(&self, timeout: Duration) -> Result<(), StoreError> {
        // At least a millisecond: 0 would mean waiting for ever.
        let ms = timeout.as_millis().max(1);
        self.batch(&format!("SET lock_timeout = {ms}"))
    }

    fn with_client<T>(&self, f: impl FnOnce(&mut Client) -> T) -> Result<T, StoreError> {
        Ok(f(&mut *self.client()?))
    }

    fn client(&self) -> Result<RefMut<'_, Client>, StoreError> {
        self.client.try_borrow_mut().map_err(|_| {
            StoreError::Database("the store's connection is already in use (a nested call)".into())
        })
    }

    /// Notes a failure within an open transaction (see `failed`).
    fn noted<T>(&self, r: Result<T, postgres::Error>) -> Result<T, StoreError> {
        r.map_err(|e| {
            if self.tx.get() != Tx::None {
                self.failed.set(true);
            }
            db(e)
        })
    }

    fn statement(&self, sql: &'static str) -> Result<postgres::Statement, StoreError> {
        if let Some(s) = self
            .prepared
            .try_borrow()
            .ok()
            .and_then(|p| p.get(sql).cloned())
        {
            return Ok(s);
        }
        let prepared = self.client()?.prepare(sql);
        let s = self.noted(prepared)?;
        if let Ok(mut p) = self.prepared.try_borrow_mut() {
            p.insert(sql, s.clone());
        }
        Ok(s)
    }

    fn query(
        &self,
        sql: &'static str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<Row>, StoreError> {
        let stmt = self.statement(sql)?;
        let rows = self.client()?.query(&stmt, params);
        self.noted(rows)
    }

    fn query_opt(
        &self,
        sql: &'static str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Option<Row>, StoreError> {
        let stmt = self.statement(sql)?;
        let row = self.client()?.query_opt(&stmt, params);
        self.noted(row)
    }

    /// One row of a query not worth preparing.
    fn query_one_raw(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<Row, StoreError> {
        let row = self.client()?.query_one(sql, params);
        self.noted(row)
    }

    fn execute(
        &self,
        sql: &'static str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<u64, StoreError> {
        let stmt = self.statement(sql)?;
        let n = self.client()?.execute(&stmt, params);
        self.noted(n)
    }

    fn batch(&self, sql: &str) -> Result<(), StoreError> {
        let done = self.client()?.batch_execute(sql);
        self.noted(done)
    }

    fn meta(&self, key: &str) -> Result<Option<String>, StoreError> {
        self.query_opt(META, &[&key])?
            .map(|r| get(&r, 0))
            .transpose()
    }

    /// The store's schema version (a store without one is of version 1, the first).
    fn schema_version(&self) -> Result<u32, StoreError> {
        match self.meta("schema_version")? {
            None => Ok(1),
            Some(v) => v.parse().map_err(|_| {
                StoreError::Corrupt(format!("the store's schema version `{v}` is not a number"))
            }),
        }
    }

    /// Runs the migrations after version `from`, within the caller's write transaction.
    fn migrate(&self, from: u32) -> Result<(), StoreError> {
        if from > SCHEMA_VERSION {
            return Err(StoreError::NotAStore(format!(
                "the store's schema is version {from}, newer than this version of compact reads ({SCHEMA_VERSION})"
            )));
        }
        for (version, steps) in MIGRATIONS.iter().filter(|(v, _)| *v > from) {
            for step in *steps {
                self.batch(step)?;
            }
            self.execute(
                "INSERT INTO meta (key, value) VALUES ('schema_version', $1) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
                &[&version.to_string()],
            )?;
        }
        // Statements prepared on the tables before may describe them no more.
        self.forget_prepared();
        Ok(())
    }

    fn forget_prepared(&self) {
        if let Ok(mut p) = self.prepared.try_borrow_mut() {
            p.clear();
        }
    }

    /// Checks that the database holds a compact store of this format; returns its schema
    /// version (refusing a newer one).
    fn checked(&self) -> Result<u32, StoreError> {
        let format = self.meta("format").map_err(|e| match e {
            StoreError::Database(m) if m.starts_with(SqlState::UNDEFINED_TABLE.code()) => {
                StoreError::NotAStore(
                    "not a compact store: a PostgreSQL database without the store's tables (create one with `compact init`)".into(),
                )
            }
            other => other,
        })?;
        match format.as_deref() {
            Some(STORE_FORMAT) => {}
            Some(other) => {
                return Err(StoreError::NotAStore(format!(
                    "store format `{other}` is not `{STORE_FORMAT}`: this version of compact reads `{STORE_FORMAT}` stores (create a new one with `compact init` and import the statements)"
                )));
            }
            None => {
                return Err(StoreError::NotAStore(
                    "not a compact store: no format recorded".into(),
                ));
            }
        }
        let version = self.schema_version()?;
        if version > SCHEMA_VERSION {
            return Err(StoreError::NotAStore(format!(
                "the store's schema is version {version}, newer than this version of compact reads ({SCHEMA_VERSION})"
            )));
        }
        Ok(version)
    }

    /// Runs `f` in a write transaction of its own, holding the write lock; commits what it
    /// wrote if it succeeds, else rolls it back.
    fn in_write<T>(&self, f: impl FnOnce(&Self) -> Result<T, StoreError>) -> Result<T, StoreError> {
        self.begin()?;
        let out = f(self);
        self.end(out.is_ok()).and(out)
    }

    /// Opens a write transaction and takes the write lock.
    fn begin(&self) -> Result<(), StoreError> {
        match self.tx.get() {
            Tx::None => {}
            Tx::Write => {
                return Err(StoreError::Database(
                    "a write is already in progress on this connection".into(),
                ));
            }
            Tx::Read => {
                return Err(StoreError::Database(
                    "cannot write within a read transaction".into(),
                ));
            }
        }
        // The transaction and the lock in one round trip (the simple protocol's batch).
        self.tx.set(Tx::Write);
        self.failed.set(false);
        let locked = self.batch(&format!(
            "BEGIN; SELECT pg_advisory_xact_lock({WRITE_LOCK})"
        ));
        if let Err(e) = locked {
            let _ = self.end(false);
            return Err(e);
        }
        Ok(())
    }

    /// Commits (or rolls back) the transaction open; a transaction in which a statement failed
    /// is rolled back and reported.
    fn end(&self, commit: bool) -> Result<(), StoreError> {
        if self.tx.get() == Tx::None {
            return Ok(());
        }
        let failed = self.failed.get();
        let sql = if commit && !failed {
            "COMMIT"
        } else {
            "ROLLBACK"
        };
        let ended = self.batch(sql);
        self.tx.set(Tx::None);
        self.failed.set(false);
        ended?;
        if commit && failed {
            return Err(StoreError::Database(
                "a statement of the transaction failed: it was rolled back, nothing of it was written".into(),
            ));
        }
        Ok(())
    }

    /// Inserts the projection rows of entries `first..`, within the caller's transaction.
    fn insert_records(&self, first: u64, rows: &[&RecordRow]) -> Result<(), StoreError> {
        if rows.is_empty() {
            return Ok(());
        }
        let idx = (0..rows.len())
            .map(|k| to_i64(first + k as u64))
            .collect::<Result<Vec<i64>, _>>()?;
        let kind: Vec<&str> = rows.iter().map(|r| r.kind.as_str()).collect();
        let author: Vec<&str> = rows.iter().map(|r| r.author.as_str()).collect();
        let time: Vec<i64> = rows.iter().map(|r| r.time).collect();
        let received: Vec<Option<i64>> = rows.iter().map(|r| r.received).collect();
        let commitment = texts(rows, |r| &r.commitment);
        let amount = texts(rows, |r| &r.amount);
        let date = texts(rows, |r| &r.date);
        let reference = texts(rows, |r| &r.reference);
        let payload = texts(rows, |r| &r.payload);
        let refers: Vec<Option<i64>> = rows.iter().map(|r| r.refers).collect();
        self.execute(
            INSERT_RECORDS,
            &[
                &idx,
                &kind,
                &author,
                &time,
                &received,
                &commitment,
                &amount,
                &date,
                &reference,
                &refers,
                &payload,
            ],
        )?;
        Ok(())
    }

    /// Runs `sql` (its parameters: the first index, the page size) page by page from index
    /// `from`, calling `each` on every row in index order: it gives the row's index to go on
    /// after, or `None` to stop. Pages bound what one query holds in memory.
    fn paged(
        &self,
        sql: &'static str,
        from: i64,
        each: &mut dyn FnMut(&Row) -> Result<Option<i64>, StoreError>,
    ) -> Result<(), StoreError> {
        let mut next = from;
        loop {
            let rows = self.query(sql, &[&next, &PAGE])?;
            for r in &rows {
                let Some(at) = each(r)? else {
                    return Ok(());
                };
                match at.checked_add(1) {
                    Some(n) => next = n,
                    None => return Ok(()),
                }
            }
            if (rows.len() as i64) < PAGE {
                return Ok(());
            }
        }
    }

    /// Inserts a batch's rows, within the caller's transaction holding the write lock, in one
    /// statement; a batch that does not start at the log's size writes nothing and is a
    /// [`StoreError::Conflict`].
    fn insert_batch(&self, batch: &Batch) -> Result<(), StoreError> {
        let entries = &batch.entries;
        let idx = (0..entries.len())
            .map(|k| to_i64(batch.first_index + k as u64))
            .collect::<Result<Vec<i64>, _>>()?;
        let leaf: Vec<&[u8]> = entries.iter().map(|e| e.leaf.as_slice()).collect();
        let leaf_hash: Vec<&[u8]> = entries.iter().map(|e| e.leaf_hash.0.as_slice()).collect();
        let stmt_hash: Vec<&[u8]> = entries
            .iter()
            .map(|e| e.statement_hash.0.as_slice())
            .collect();
        let key: Vec<i64> = entries
            .iter()
            .map(|e| stmt_key(&e.statement_hash))
            .collect();
        let kind: Vec<&str> = entries.iter().map(|e| e.kind.as_str()).collect();
        let author: Vec<&str> = entries.iter().map(|e| e.author.as_str()).collect();
        let reference = entries
            .iter()
            .map(|e| e.reference.map(to_i64).transpose())
            .collect::<Result<Vec<Option<i64>>, _>>()?;
        // The projection's rows, in the entries' statement.
        let rows: Vec<&RecordRow> = entries.iter().map(|e| &e.record).collect();
        let r_kind: Vec<&str> = rows.iter().map(|r| r.kind.as_str()).collect();
        let r_author: Vec<&str> = rows.iter().map(|r| r.author.as_str()).collect();
        let time: Vec<i64> = rows.iter().map(|r| r.time).collect();
        let received: Vec<Option<i64>> = rows.iter().map(|r| r.received).collect();
        let commitment = texts(&rows, |r| &r.commitment);
        let amount = texts(&rows, |r| &r.amount);
        let date = texts(&rows, |r| &r.date);
        let r_reference = texts(&rows, |r| &r.reference);
        let payload = texts(&rows, |r| &r.payload);
        let refers: Vec<Option<i64>> = rows.iter().map(|r| r.refers).collect();
        let hash_idx = (0..batch.hashes.len())
            .map(|k| to_i64(batch.first_hash + k as u64))
            .collect::<Result<Vec<i64>, _>>()?;
        let hash: Vec<&[u8]> = batch.hashes.iter().map(|h| h.0.as_slice()).collect();
        let written = self.execute(
            INSERT_BATCH,
            &[
                &idx,
                &leaf,
                &leaf_hash,
                &stmt_hash,
                &key,
                &kind,
                &author,
                &reference,
                &idx,
                &r_kind,
                &r_author,
                &time,
                &received,
                &commitment,
                &amount,
                &date,
                &r_reference,
                &refers,
                &payload,
                &hash_idx,
                &hash,
                &to_i64(batch.first_index)?,
                &to_i64(batch.size)?,
                &batch.checkpoint,
            ],
        )?;
        if written != 1 {
            return Err(StoreError::Conflict {
                size: self.size()?,
                first: batch.first_index,
            });
        }
        Ok(())
    }

    /// Builds the projection of a store that lacks it (or holds another version of it), once,
    /// in one transaction, from the leaves; another process doing the same meanwhile is
    /// waited for, and its work kept.
    fn ensure_projection(&self) -> Result<(), StoreError> {
        if self.has_records()? {
            return Ok(());
        }
        self.in_write(|s| {
            if s.has_records()? {
                return Ok(());
            }
            s.build_projection()
        })
    }

    /// The projection rebuilt from every leaf, within the caller's write transaction.
    fn build_projection(&self) -> Result<(), StoreError> {
        self.batch("DROP TABLE IF EXISTS records;")?;
        self.batch(RECORDS_SCHEMA)?;
        self.forget_prepared();
        let mut pending: Vec<(u64, RecordRow)> = Vec::new();
        let mut failure = None;
        let flush = |pending: &mut Vec<(u64, RecordRow)>| -> Result<(), StoreError> {
            if let Some((first, _)) = pending.first() {
                let rows: Vec<&RecordRow> = pending.iter().map(|(_, r)| r).collect();
                self.insert_records(*first, &rows)?;
            }
            pending.clear();
            Ok(())
        };
        self.scan(0, &mut |index, leaf| {
            let row = Statement::decode(leaf)
                .map(|st| RecordRow::of_statement(&st))
                .map_err(|e| {
                    StoreError::Corrupt(format!(
                        "entry {index} does not decode ({e}): the projection cannot be built; run `compact verify`"
                    ))
                });
            // Rows are inserted by runs of consecutive indices.
            let consecutive = pending
                .last()
                .is_none_or(|(last, _)| last.checked_add(1) == Some(index));
            let done = row.and_then(|row| {
                if !consecutive || pending.len() >= PAGE as usize {
                    flush(&mut pending)?;
                }
                pending.push((index, row));
                Ok(())
            });
            match done {
                Ok(()) => true,
                Err(e) => {
                    failure = Some(e);
                    false
                }
            }
        })?;
        if let Some(e) = failure {
            return Err(e);
        }
        flush(&mut pending)?;
        self.execute(
            "INSERT INTO meta (key, value) VALUES ('projection', $1) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
            &[&PROJECTION],
        )?;
        Ok(())
    }

    fn entries(
        &self,
        sql: &'static str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<Entry>, StoreError> {
        self.query(sql, params)?
            .iter()
            .map(|r| Ok((to_u64(get(r, 0)?)?, get(r, 1)?)))
            .collect()
    }
}

impl Conn {
    fn append(&self, batch: &Batch) -> Result<(), StoreError> {
        match self.tx.get() {
            Tx::None => self.in_write(|s| s.insert_batch(batch)),
            Tx::Write => {
                // Within `begin_write`: a savepoint keeps the batch whole inside the
                // transaction, and the transaction usable if the batch fails.
                let failed = self.failed.get();
                self.batch("SAVEPOINT batch")?;
                match self.insert_batch(batch) {
                    Ok(()) => self.batch("RELEASE SAVEPOINT batch"),
                    Err(e) => {
                        if self.batch("ROLLBACK TO SAVEPOINT batch").is_ok() {
                            self.failed.set(failed);
                        }
                        Err(e)
                    }
                }
            }
            Tx::Read => Err(StoreError::Database(
                "cannot append within a read transaction".into(),
            )),
        }
    }

    fn end_write(&self, commit: bool) -> Result<(), StoreError> {
        if self.tx.get() != Tx::Write {
            return Ok(());
        }
        self.end(commit)
    }

    fn add_cosignature_line(
        &self,
        size: u64,
        witness: &str,
        line: &[u8],
    ) -> Result<(), StoreError> {
        self.execute(ADD_COSIGNATURE, &[&to_i64(size)?, &witness, &line])?;
        Ok(())
    }

    /// Opens a read snapshot unless a transaction is open: whether it opened one.
    fn begin_read(&self) -> Result<bool, StoreError> {
        if self.tx.get() != Tx::None {
            return Ok(false);
        }
        self.batch("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")?;
        self.tx.set(Tx::Read);
        self.failed.set(false);
        Ok(true)
    }

    /// Ends the read snapshot open. Nothing was written: a failed read was reported to the
    /// reader already.
    fn end_read(&self) {
        self.tx.set(Tx::None);
        self.failed.set(false);
        let _ = self.batch("COMMIT");
    }
}

impl PostgresStore {
    fn of(conn: Conn) -> Self {
        PostgresStore {
            inner: Mutex::new(conn),
        }
    }

    /// Creates the store of the compact `origin` in the database at `url`: the tables, by the
    /// migrations, and `meta`, in one transaction. Refuses a database that already holds a
    /// store (a store is created once).
    pub fn create(url: &str, origin: &str) -> Result<Self, StoreError> {
        Conn::create(url, origin).map(Self::of)
    }

    /// Opens the store in the database at `url` for writing; refuses a database that does not
    /// hold one. A store of an older schema is migrated, and one without the projection
    /// rebuilds it, each once, in one transaction.
    pub fn open(url: &str) -> Result<Self, StoreError> {
        Conn::open(url).map(Self::of)
    }

    /// Opens the store in the database at `url` for reading only (an auditor's connection):
    /// every transaction of the session is read-only. A store of an older schema is read as
    /// it is (what it lacks, such as cosignatures, reads as none).
    pub fn open_read_only(url: &str) -> Result<Self, StoreError> {
        Conn::open_read_only(url).map(Self::of)
    }

    /// How long to wait for another writer's lock before giving up with
    /// [`StoreError::Busy`] (default [`LOCK_TIMEOUT_DEFAULT`]).
    pub fn set_busy_timeout(&self, timeout: Duration) -> Result<(), StoreError> {
        lock(&self.inner)?.set_busy_timeout(timeout)
    }

    /// Runs `f` on the connection: for tests that tamper with the database as an attacker
    /// would, and for administration. Nothing the store caches is affected but the upper
    /// tree hashes, which never change in a store that is not tampered with.
    pub fn with_client<T>(&self, f: impl FnOnce(&mut Client) -> T) -> Result<T, StoreError> {
        lock(&self.inner)?.with_client(f)
    }

    fn conn_mut(&mut self) -> Result<&mut Conn, StoreError> {
        lock_mut(&mut self.inner)
    }
}

impl Store for PostgresStore {
    fn snapshot(&self) -> Result<Snapshot<'_>, StoreError> {
        let conn = lock(&self.inner)?;
        let end: Option<fn(&Conn)> = if conn.begin_read()? {
            Some(Conn::end_read)
        } else {
            None
        };
        Ok(Box::new(Held::new(conn, end)))
    }

    fn latest(&self) -> Result<Snapshot<'_>, StoreError> {
        Ok(Box::new(Held::new(lock(&self.inner)?, None)))
    }

    fn append(&mut self, batch: &Batch) -> Result<(), StoreError> {
        self.conn_mut()?.append(batch)
    }

    fn begin_write(&mut self) -> Result<(), StoreError> {
        self.conn_mut()?.begin()
    }

    fn end_write(&mut self, commit: bool) -> Result<(), StoreError> {
        self.conn_mut()?.end_write(commit)
    }

    fn add_cosignature(&self, size: u64, witness: &str, line: &[u8]) -> Result<(), StoreError> {
        lock(&self.inner)?.add_cosignature_line(size, witness, line)
    }
}

impl Reads for Conn {
    fn origin(&self) -> Result<String, StoreError> {
        self.meta("origin")?
            .ok_or_else(|| StoreError::NotAStore("not a compact store: no origin recorded".into()))
    }

    fn size(&self) -> Result<u64, StoreError> {
        let row = self.query_opt(SIZE, &[])?;
        let n: i64 = match row {
            Some(r) => get(&r, 0)?,
            None => 0,
        };
        to_u64(n)
    }

    fn entry(&self, index: u64) -> Result<Option<Vec<u8>>, StoreError> {
        self.query_opt(ENTRY, &[&to_i64(index)?])?
            .map(|r| get(&r, 0))
            .transpose()
    }

    fn find_statement(&self, hash: &Hash) -> Result<Option<u64>, StoreError> {
        let row = self.query_opt(FIND, &[&stmt_key(hash), &hash.0.as_slice()])?;
        let first: Option<i64> = match row {
            Some(r) => get(&r, 0)?,
            None => None,
        };
        first.map(to_u64).transpose()
    }

    fn find_statements(&self, hashes: &[Hash]) -> Result<Vec<Option<u64>>, StoreError> {
        // One query for the batch: a round trip per statement would cost more than its
        // signature check.
        if hashes.len() <= 1 {
            return hashes.iter().map(|h| self.find_statement(h)).collect();
        }
        let keys: Vec<i64> = hashes.iter().map(stmt_key).collect();
        let mut first: HashMap<[u8; 32], u64> = HashMap::new();
        for r in &self.query(FIND_MANY, &[&keys])? {
            let index = to_u64(get(r, 0)?)?;
            if let Ok(h) = <[u8; 32]>::try_from(get::<&[u8]>(r, 1)?) {
                first
                    .entry(h)
                    .and_modify(|i| *i = (*i).min(index))
                    .or_insert(index);
            }
        }
        Ok(hashes.iter().map(|h| first.get(&h.0).copied()).collect())
    }

    fn of_kind(&self, kind: Kind) -> Result<Vec<Entry>, StoreError> {
        self.entries(OF_KIND, &[&kind.as_str()])
    }

    fn referring(&self, index: u64, kind: Kind) -> Result<Vec<Entry>, StoreError> {
        self.entries(REFERRING, &[&to_i64(index)?, &kind.as_str()])
    }

    fn hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, StoreError> {
        let mut found: HashMap<u64, Hash> = HashMap::new();
        let mut missing = Vec::new();
        {
            let cache = self.upper.borrow();
            for i in indexes {
                match cache.get(i) {
                    Some(h) => {
                        found.insert(*i, *h);
                    }
                    None => missing.push(to_i64(*i)?),
                }
            }
        }
        if !missing.is_empty() {
            let rows = self.query(HASHES, &[&missing])?;
            let mut cache = self.upper.borrow_mut();
            for r in &rows {
                let i = to_u64(get(r, 0)?)?;
                let h = hash_of(get(r, 1)?, &format!("stored hash {i}"))?;
                if compact_log::stored_hash_level(i) >= UPPER_LEVEL {
                    if cache.len() >= UPPER_CACHE_MAX {
                        cache.clear();
                    }
                    cache.insert(i, h);
                }
                found.insert(i, h);
            }
        }
        indexes
            .iter()
            .map(|i| {
                found
                    .get(i)
                    .copied()
                    .ok_or_else(|| StoreError::Corrupt(format!("stored hash {i} is missing")))
            })
            .collect()
    }

    fn scan(&self, from: u64, f: &mut dyn FnMut(u64, &[u8]) -> bool) -> Result<(), StoreError> {
        self.paged(SCAN, to_i64(from)?, &mut |r| {
            let i: i64 = get(r, 0)?;
            Ok(f(to_u64(i)?, get(r, 1)?).then_some(i))
        })
    }

    fn scan_rows(&self, f: &mut dyn FnMut(StoredRow) -> bool) -> Result<(), StoreError> {
        self.paged(SCAN_ROWS, i64::MIN, &mut |r| {
            let index: i64 = get(r, 0)?;
            let row = StoredRow {
                index,
                leaf: get(r, 1)?,
                leaf_hash: get(r, 2)?,
                statement_hash: get(r, 3)?,
                kind: get(r, 4)?,
                author: get(r, 5)?,
                reference: get(r, 6)?,
                statement_key: Some(get(r, 7)?),
            };
            Ok(f(row).then_some(index))
        })
    }

    fn scan_hashes(&self, f: &mut dyn FnMut(u64, Hash) -> bool) -> Result<(), StoreError> {
        self.paged(SCAN_HASHES, 0, &mut |r| {
            let i: i64 = get(r, 0)?;
            let u = to_u64(i)?;
            Ok(f(u, hash_of(get(r, 1)?, &format!("stored hash {u}"))?).then_some(i))
        })
    }

    fn projection_meta(&self) -> Result<Option<String>, StoreError> {
        self.meta("projection")
    }

    fn records_between(&self, from: u64, to: u64) -> Result<Vec<(u64, Record)>, StoreError> {
        let mut out = Vec::with_capacity(usize::try_from(to.saturating_sub(from)).unwrap_or(0));
        let end = to_i64(to)?;
        let mut expected = from;
        while expected < to {
            let rows = self
                .query(RECORDS_PAGE, &[&to_i64(expected)?, &end, &(PAGE * 16)])
                .map_err(corrupt_record)?;
            if rows.is_empty() {
                break;
            }
            for r in &rows {
                let (index, row) = record_row(r).map_err(corrupt_record)?;
                let index = to_u64(index)?;
                if index != expected {
                    return Err(StoreError::Corrupt(format!(
                        "the projection has no row for entry {expected}: run `compact verify`"
                    )));
                }
                out.push((index, row.into_record(index).map_err(StoreError::Corrupt)?));
                expected += 1;
            }
        }
        if expected < to {
            return Err(StoreError::Corrupt(format!(
                "the projection has no row for entry {expected}: run `compact verify`"
            )));
        }
        Ok(out)
    }

    fn record(&self, index: u64) -> Result<Option<Record>, StoreError> {
        let row = self
            .query_opt(RECORD, &[&to_i64(index)?])
            .map_err(corrupt_record)?;
        row.map(|r| {
            let (_, row) = record_row(&r).map_err(corrupt_record)?;
            row.into_record(index).map_err(StoreError::Corrupt)
        })
        .transpose()
    }

    fn record_rows(&self, from: i64, to: i64) -> Result<Vec<StoredRecord>, StoreError> {
        if from > to {
            return Ok(Vec::new());
        }
        self.query(RECORD_ROWS, &[&from, &to])?
            .iter()
            .map(|r| {
                let (index, row) = record_row(r)?;
                Ok(StoredRecord { index, row })
            })
            .collect()
    }

    fn latest_checkpoint(&self) -> Result<Option<(u64, Vec<u8>)>, StoreError> {
        self.query_opt(LATEST_CHECKPOINT, &[])?
            .map(|r| Ok((to_u64(get(&r, 0)?)?, get(&r, 1)?)))
            .transpose()
    }

    fn checkpoints(&self) -> Result<Vec<(u64, Vec<u8>)>, StoreError> {
        self.query(CHECKPOINTS, &[])?
            .iter()
            .map(|r| Ok((to_u64(get(r, 0)?)?, get(r, 1)?)))
            .collect()
    }

    fn cosignatures(&self, size: u64) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        // A store from before cosignatures, opened read-only, has no table: none kept.
        if self.schema.get() < 2 {
            return Ok(Vec::new());
        }
        self.query(COSIGNATURES, &[&to_i64(size)?])?
            .iter()
            .map(|r| Ok((get(r, 0)?, get(r, 1)?)))
            .collect()
    }
}
