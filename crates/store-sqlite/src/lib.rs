//! The embedded store: one SQLite file.
//!
//! WAL journal with `synchronous = FULL`: a batch's commit returns only once it is on disk.
//! Writers take SQLite's write lock before they check (`BEGIN IMMEDIATE`), so concurrent
//! writers, in this process or others, wait for each other (up to the busy timeout, 30 s by
//! default) instead of failing; a store still busy after it is [`StoreError::Busy`].
//! Tables: `meta` (format, origin, projection), `entries` (index, leaf, leaf hash, kind,
//! author, reference), `records` (the projection: one typed row per entry, see
//! [`crate::projection`]), `hashes` (the tree's stored hashes by index), `checkpoints` (size,
//! note).

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::Path;
use std::sync::{Mutex, MutexGuard};

use compact_log::Hash;
use compact_statement::{Kind, Record, Statement};
use compact_store::{
    Batch, Entry, Held, PROJECTION, Reads, RecordRow, STORE_FORMAT, Snapshot, Store, StoreError,
    StoredRecord, StoredRow, lock, lock_mut,
};
use rusqlite::{Connection, OpenFlags, OptionalExtension, TransactionBehavior, params};

/// A compact log in one SQLite file: one connection, which threads share by turns (a reader
/// that must not wait for another opens a store of its own).
#[derive(Debug)]
pub struct SqliteStore {
    inner: Mutex<Conn>,
}

/// The connection and what it caches.
#[derive(Debug)]
struct Conn {
    conn: Connection,
    /// Stored hashes of the upper levels of the tree, which every proof reads again. Stored
    /// hashes never change, so the cache can never be stale; it is bounded.
    upper: RefCell<HashMap<u64, Hash>>,
}

/// The connection of a store, locked: for tests that tamper with the file as an attacker
/// would.
#[derive(Debug)]
pub struct ConnectionGuard<'s>(MutexGuard<'s, Conn>);

impl std::ops::Deref for ConnectionGuard<'_> {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        &self.0.conn
    }
}

/// The lowest tree level whose stored hashes are cached (a level-6 node covers 64 leaves).
const UPPER_LEVEL: u8 = 6;
/// The most hashes cached (about 13 MiB at most).
const UPPER_CACHE_MAX: usize = 200_000;

/// How long a writer waits for another's write lock by default.
pub const BUSY_TIMEOUT_DEFAULT: std::time::Duration = std::time::Duration::from_secs(30);

fn db(e: rusqlite::Error) -> StoreError {
    use rusqlite::ErrorCode as C;
    match &e {
        rusqlite::Error::SqliteFailure(f, _) if f.code == C::NotADatabase => StoreError::NotAStore(
            "not a compact store: the file is not an SQLite database (truncated or foreign)".into(),
        ),
        rusqlite::Error::SqliteFailure(f, _)
            if matches!(f.code, C::DatabaseBusy | C::DatabaseLocked) =>
        {
            StoreError::Busy(format!(
                "the store is busy: another process held its write lock for longer than the busy timeout ({e})"
            ))
        }
        rusqlite::Error::SqliteFailure(f, _)
            if matches!(f.code, C::SystemIoFailure | C::DiskFull | C::CannotOpen) =>
        {
            StoreError::Transient(format!("the store could not be read or written ({e})"))
        }
        _ => StoreError::Database(e.to_string()),
    }
}

const SCHEMA: &str = "
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE entries (
  idx INTEGER PRIMARY KEY,
  leaf BLOB NOT NULL,
  leaf_hash BLOB NOT NULL,
  stmt_hash BLOB NOT NULL,
  stmt_key INTEGER NOT NULL,
  kind TEXT NOT NULL,
  author TEXT NOT NULL,
  ref INTEGER
);
CREATE INDEX entries_stmt_key ON entries (stmt_key);
CREATE INDEX entries_kind ON entries (kind, idx);
CREATE INDEX entries_ref ON entries (ref, kind) WHERE ref IS NOT NULL;
CREATE TABLE hashes (idx INTEGER PRIMARY KEY, hash BLOB NOT NULL);
CREATE TABLE checkpoints (size INTEGER PRIMARY KEY, note BLOB NOT NULL);
";

/// Witnesses' cosignatures beside the checkpoints (made on a writable open of a store from
/// before it).
const COSIGNATURES_SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS cosignatures (
  size INTEGER NOT NULL,
  witness TEXT NOT NULL,
  line BLOB NOT NULL,
  PRIMARY KEY (size, witness)
);
";

/// The projection's table (see [`crate::projection`]): derived from the leaves only.
const RECORDS_SCHEMA: &str = "
CREATE TABLE records (
  idx INTEGER PRIMARY KEY,
  kind TEXT NOT NULL,
  author TEXT NOT NULL,
  time INTEGER NOT NULL,
  received INTEGER,
  commitment TEXT,
  amount TEXT,
  date TEXT,
  reference TEXT,
  ref INTEGER,
  payload TEXT
);
";

const RECORDS_COLUMNS: &str =
    "idx, kind, author, time, received, commitment, amount, date, reference, ref, payload";

const INSERT_RECORD: &str = "INSERT INTO records (idx, kind, author, time, received, commitment, amount, date, reference, ref, payload) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)";

/// Inserts the projection row of entry `index`.
fn insert_record(
    ins: &mut rusqlite::CachedStatement<'_>,
    index: u64,
    r: &RecordRow,
) -> Result<(), StoreError> {
    ins.execute(params![
        to_i64(index)?,
        r.kind,
        r.author,
        r.time,
        r.received,
        r.commitment,
        r.amount,
        r.date,
        r.reference,
        r.refers,
        r.payload
    ])
    .map_err(db)?;
    Ok(())
}

/// A projection row read strictly (as the reports read it): a value of the wrong type is an
/// error, which `compact verify` explains.
fn record_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<(i64, RecordRow)> {
    Ok((
        r.get(0)?,
        RecordRow {
            kind: r.get(1)?,
            author: r.get(2)?,
            time: r.get(3)?,
            received: r.get(4)?,
            commitment: r.get(5)?,
            amount: r.get(6)?,
            date: r.get(7)?,
            reference: r.get(8)?,
            refers: r.get(9)?,
            payload: r.get(10)?,
        },
    ))
}

/// Rows of the projection decoded into records, for reports.
fn corrupt_record(e: rusqlite::Error) -> StoreError {
    match db(e) {
        StoreError::Database(m) => StoreError::Corrupt(format!(
            "the projection (table records) cannot be read ({m}): run `compact verify`"
        )),
        other => other,
    }
}

fn pragmas(conn: &Connection) -> Result<(), StoreError> {
    // The timeout first: switching to WAL may itself wait for another connection.
    conn.busy_timeout(BUSY_TIMEOUT_DEFAULT).map_err(db)?;
    conn.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;",
    )
    .map_err(db)?;
    Ok(())
}

fn to_i64(n: u64) -> Result<i64, StoreError> {
    i64::try_from(n).map_err(|_| StoreError::Database(format!("index {n} out of range")))
}

fn to_u64(n: i64) -> Result<u64, StoreError> {
    u64::try_from(n).map_err(|_| StoreError::Corrupt(format!("negative index {n} in the store")))
}

/// The first 8 bytes of a statement hash, the key of its (non-unique) index: an integer index
/// is far cheaper to maintain than one on 32-byte blobs; lookups compare the whole hash.
fn stmt_key(hash: &Hash) -> i64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(hash.0.get(..8).unwrap_or(&[0; 8]));
    i64::from_be_bytes(b)
}

fn hash_of(bytes: Vec<u8>, what: &str) -> Result<Hash, StoreError> {
    let arr: [u8; 32] = bytes
        .try_into()
        .map_err(|_| StoreError::Corrupt(format!("{what} is not 32 bytes")))?;
    Ok(Hash(arr))
}

/// Inserts a batch's rows on `tx` (a transaction or savepoint holding the write lock).
fn insert_batch(tx: &Connection, batch: &Batch) -> Result<(), StoreError> {
    let size: i64 = tx
        .query_row("SELECT COALESCE(MAX(size), 0) FROM checkpoints", [], |r| {
            r.get(0)
        })
        .map_err(db)?;
    let size = to_u64(size)?;
    if size != batch.first_index {
        return Err(StoreError::Conflict {
            size,
            first: batch.first_index,
        });
    }
    let mut ins = tx
        .prepare_cached(
            "INSERT INTO entries (idx, leaf, leaf_hash, stmt_hash, stmt_key, kind, author, ref) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        )
        .map_err(db)?;
    for (k, e) in batch.entries.iter().enumerate() {
        let r = e.reference.map(to_i64).transpose()?;
        ins.execute(params![
            to_i64(batch.first_index + k as u64)?,
            e.leaf,
            e.leaf_hash.0.as_slice(),
            e.statement_hash.0.as_slice(),
            stmt_key(&e.statement_hash),
            e.kind.as_str(),
            e.author,
            r
        ])
        .map_err(db)?;
    }
    // The projection's rows, in the entries' transaction.
    let mut ins = tx.prepare_cached(INSERT_RECORD).map_err(db)?;
    for (k, e) in batch.entries.iter().enumerate() {
        insert_record(&mut ins, batch.first_index + k as u64, &e.record)?;
    }
    let mut ins = tx
        .prepare_cached("INSERT INTO hashes (idx, hash) VALUES (?1, ?2)")
        .map_err(db)?;
    for (k, h) in batch.hashes.iter().enumerate() {
        ins.execute(params![
            to_i64(batch.first_hash + k as u64)?,
            h.0.as_slice()
        ])
        .map_err(db)?;
    }
    tx.execute(
        "INSERT INTO checkpoints (size, note) VALUES (?1, ?2)",
        params![to_i64(batch.size)?, batch.checkpoint],
    )
    .map_err(db)?;
    Ok(())
}

impl SqliteStore {
    /// Creates a new store for the compact `origin` at `path`. Refuses an existing file.
    pub fn create(path: &Path, origin: &str) -> Result<Self, StoreError> {
        if path.exists() {
            return Err(StoreError::Database(format!(
                "{} already exists: a store is created once",
                path.display()
            )));
        }
        let conn = Connection::open(path).map_err(db)?;
        pragmas(&conn)?;
        let tx = conn.unchecked_transaction().map_err(db)?;
        tx.execute_batch(SCHEMA).map_err(db)?;
        tx.execute_batch(RECORDS_SCHEMA).map_err(db)?;
        tx.execute_batch(COSIGNATURES_SCHEMA).map_err(db)?;
        tx.execute(
            "INSERT INTO meta (key, value) VALUES ('format', ?1), ('origin', ?2), ('projection', ?3)",
            params![STORE_FORMAT, origin, PROJECTION],
        )
        .map_err(db)?;
        tx.commit().map_err(db)?;
        Ok(Self::of(Conn::new(conn)))
    }

    fn of(conn: Conn) -> Self {
        SqliteStore {
            inner: Mutex::new(conn),
        }
    }

    /// Opens an existing store; refuses a file that is not one.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        if !path.exists() {
            return Err(StoreError::NotAStore(format!(
                "no store at {}: run `compact init` first",
                path.display()
            )));
        }
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(db)?;
        pragmas(&conn)?;
        let conn = Self::checked(conn)?;
        conn.ensure_projection()?;
        conn.conn.execute_batch(COSIGNATURES_SCHEMA).map_err(db)?;
        Ok(Self::of(conn))
    }
}

impl Conn {
    fn new(conn: Connection) -> Self {
        Conn {
            conn,
            upper: RefCell::default(),
        }
    }

    /// Builds the projection of a store that lacks it (one written before it existed), once,
    /// in one transaction, from the leaves; another process doing the same meanwhile is
    /// waited for, and its work kept.
    fn ensure_projection(&self) -> Result<(), StoreError> {
        if self.has_records()? {
            return Ok(());
        }
        // The write lock first, then the question again: another process may have built it.
        self.conn.execute_batch("BEGIN IMMEDIATE").map_err(db)?;
        let built = self.has_records().and_then(|done| {
            if done {
                Ok(())
            } else {
                self.build_projection()
            }
        });
        match built {
            Ok(()) => self.conn.execute_batch("COMMIT").map_err(db),
            Err(e) => {
                let _ = self.conn.execute_batch("ROLLBACK");
                Err(e)
            }
        }
    }

    /// The projection rebuilt from every leaf, within the caller's write transaction.
    fn build_projection(&self) -> Result<(), StoreError> {
        self.conn
            .execute_batch("DROP TABLE IF EXISTS records;")
            .map_err(db)?;
        self.conn.execute_batch(RECORDS_SCHEMA).map_err(db)?;
        let mut ins = self.conn.prepare_cached(INSERT_RECORD).map_err(db)?;
        let mut failure = None;
        self.scan(0, &mut |index, leaf| {
            let inserted = Statement::decode(leaf)
                .map_err(|e| {
                    StoreError::Corrupt(format!(
                        "entry {index} does not decode ({e}): the projection cannot be built; run `compact verify`"
                    ))
                })
                .and_then(|st| insert_record(&mut ins, index, &RecordRow::of_statement(&st)));
            match inserted {
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
        self.conn
            .execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES ('projection', ?1)",
                [PROJECTION],
            )
            .map_err(db)?;
        Ok(())
    }
}

impl SqliteStore {
    /// Opens an existing store for reading only (an auditor's copy, a file it may not write):
    /// its contents are never written. SQLite may create its WAL files beside it where the
    /// directory is writable (to share a snapshot with writers); a store whose directory cannot
    /// be written is opened as immutable.
    pub fn open_read_only(path: &Path) -> Result<Self, StoreError> {
        if !path.exists() {
            return Err(StoreError::NotAStore(format!(
                "no store at {}: run `compact init` first",
                path.display()
            )));
        }
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_URI;
        let first = Connection::open_with_flags(path, flags)
            .map_err(db)
            .and_then(Self::checked);
        let conn = match first {
            Ok(c) => c,
            Err(_) => {
                // A read-only directory: SQLite cannot make the WAL's shared-memory file.
                let uri = format!("file:{}?immutable=1", path.display());
                Self::checked(Connection::open_with_flags(uri, flags).map_err(db)?)?
            }
        };
        conn.conn
            .busy_timeout(std::time::Duration::from_secs(30))
            .map_err(db)?;
        Ok(Self::of(conn))
    }

    fn checked(conn: Connection) -> Result<Conn, StoreError> {
        let format: Option<String> = conn
            .query_row("SELECT value FROM meta WHERE key = 'format'", [], |r| {
                r.get(0)
            })
            .optional()
            .map_err(|e| match db(e) {
                StoreError::Database(m) if m.contains("no such table") => StoreError::NotAStore(
                    "not a compact store: an SQLite database without the store's tables".into(),
                ),
                other => other,
            })?;
        match format.as_deref() {
            Some(STORE_FORMAT) => Ok(Conn::new(conn)),
            Some(other) => Err(StoreError::NotAStore(format!(
                "store format `{other}` is not `{STORE_FORMAT}`: this version of compact reads `{STORE_FORMAT}` stores (create a new one with `compact init` and import the statements)"
            ))),
            None => Err(StoreError::NotAStore(
                "not a compact store: no format recorded".into(),
            )),
        }
    }

    /// How long to wait for another writer's lock before giving up with
    /// [`StoreError::Transient`] (default [`BUSY_TIMEOUT_DEFAULT`]).
    pub fn set_busy_timeout(&self, timeout: std::time::Duration) -> Result<(), StoreError> {
        lock(&self.inner)?.conn.busy_timeout(timeout).map_err(db)
    }

    /// The connection, for tests that tamper with the file as an attacker would.
    pub fn connection(&self) -> ConnectionGuard<'_> {
        ConnectionGuard(self.inner.lock().unwrap_or_else(|p| p.into_inner()))
    }

    fn conn_mut(&mut self) -> Result<&mut Conn, StoreError> {
        lock_mut(&mut self.inner)
    }
}

impl Conn {
    fn entries_query(&self, sql: &str, p: impl rusqlite::Params) -> Result<Vec<Entry>, StoreError> {
        let mut stmt = self.conn.prepare_cached(sql).map_err(db)?;
        let rows = stmt
            .query_map(p, |r| Ok((r.get::<_, i64>(0)?, r.get::<_, Vec<u8>>(1)?)))
            .map_err(db)?;
        rows.map(|r| {
            let (i, b) = r.map_err(db)?;
            Ok((to_u64(i)?, b))
        })
        .collect()
    }
}

impl Store for SqliteStore {
    fn snapshot(&self) -> Result<Snapshot<'_>, StoreError> {
        let held = lock(&self.inner)?;
        if !held.conn.is_autocommit() {
            // Within a write: its transaction is the snapshot.
            return Ok(Box::new(Held::new(held, None)));
        }
        held.conn.execute_batch("BEGIN").map_err(db)?;
        // Nothing was written: a failed read was reported to the reader already.
        Ok(Box::new(Held::new(
            held,
            Some(|c: &Conn| {
                let _ = c.conn.execute_batch("COMMIT");
            }),
        )))
    }

    fn latest(&self) -> Result<Snapshot<'_>, StoreError> {
        Ok(Box::new(Held::new(lock(&self.inner)?, None)))
    }

    fn append(&mut self, batch: &Batch) -> Result<(), StoreError> {
        let conn = &mut self.conn_mut()?.conn;
        if conn.is_autocommit() {
            // IMMEDIATE: the write lock before the size is read, so that a writer waits for
            // another instead of failing when it upgrades a stale read.
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(db)?;
            insert_batch(&tx, batch)?;
            tx.commit().map_err(db)
        } else {
            // Within `begin_write`: a savepoint keeps the batch whole inside the transaction.
            let sp = conn.savepoint().map_err(db)?;
            insert_batch(&sp, batch)?;
            sp.commit().map_err(db)
        }
    }

    fn begin_write(&mut self) -> Result<(), StoreError> {
        let conn = &self.conn_mut()?.conn;
        if !conn.is_autocommit() {
            return Err(StoreError::Database(
                "a write is already in progress on this connection".into(),
            ));
        }
        conn.execute_batch("BEGIN IMMEDIATE").map_err(db)
    }

    fn end_write(&mut self, commit: bool) -> Result<(), StoreError> {
        let conn = &self.conn_mut()?.conn;
        if conn.is_autocommit() {
            return Ok(());
        }
        if commit {
            conn.execute_batch("COMMIT").map_err(db)
        } else {
            conn.execute_batch("ROLLBACK").map_err(db)
        }
    }

    fn add_cosignature(&self, size: u64, witness: &str, line: &[u8]) -> Result<(), StoreError> {
        lock(&self.inner)?
            .conn
            .execute(
                "INSERT OR REPLACE INTO cosignatures (size, witness, line) VALUES (?1, ?2, ?3)",
                params![to_i64(size)?, witness, line],
            )
            .map_err(db)?;
        Ok(())
    }
}

impl Reads for Conn {
    fn origin(&self) -> Result<String, StoreError> {
        self.conn
            .query_row("SELECT value FROM meta WHERE key = 'origin'", [], |r| {
                r.get(0)
            })
            .map_err(db)
    }

    fn size(&self) -> Result<u64, StoreError> {
        let n: i64 = self
            .conn
            .query_row("SELECT COALESCE(MAX(size), 0) FROM checkpoints", [], |r| {
                r.get(0)
            })
            .map_err(db)?;
        to_u64(n)
    }

    fn entry(&self, index: u64) -> Result<Option<Vec<u8>>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT leaf FROM entries WHERE idx = ?1")
            .map_err(db)?;
        stmt.query_row([to_i64(index)?], |r| r.get(0))
            .optional()
            .map_err(db)
    }

    fn find_statement(&self, hash: &Hash) -> Result<Option<u64>, StoreError> {
        // INDEXED BY: a plan that walks the table in index order would read the whole log.
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT idx FROM entries INDEXED BY entries_stmt_key WHERE stmt_key = ?1 AND stmt_hash = ?2 AND idx >= 0",
            )
            .map_err(db)?;
        let rows = stmt
            .query_map(params![stmt_key(hash), hash.0.as_slice()], |r| {
                r.get::<_, i64>(0)
            })
            .map_err(db)?;
        let mut first: Option<u64> = None;
        for r in rows {
            let i = to_u64(r.map_err(db)?)?;
            first = Some(first.map_or(i, |f| f.min(i)));
        }
        Ok(first)
    }

    fn of_kind(&self, kind: Kind) -> Result<Vec<Entry>, StoreError> {
        self.entries_query(
            "SELECT idx, leaf FROM entries WHERE kind = ?1 ORDER BY idx",
            [kind.as_str()],
        )
    }

    fn referring(&self, index: u64, kind: Kind) -> Result<Vec<Entry>, StoreError> {
        self.entries_query(
            "SELECT idx, leaf FROM entries WHERE ref = ?1 AND kind = ?2 ORDER BY idx",
            params![to_i64(index)?, kind.as_str()],
        )
    }

    fn hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT hash FROM hashes WHERE idx = ?1")
            .map_err(db)?;
        let mut cache = self.upper.borrow_mut();
        // One read transaction for all the reads: outside one, every statement takes and
        // releases the file's lock (two system calls each).
        let own_tx = self.conn.is_autocommit() && indexes.len() > 1;
        if own_tx {
            self.conn.execute_batch("BEGIN").map_err(db)?;
        }
        let result = indexes
            .iter()
            .map(|i| {
                if let Some(h) = cache.get(i) {
                    return Ok(*h);
                }
                let h: Option<Vec<u8>> = stmt
                    .query_row([to_i64(*i)?], |r| r.get(0))
                    .optional()
                    .map_err(db)?;
                let h =
                    h.ok_or_else(|| StoreError::Corrupt(format!("stored hash {i} is missing")))?;
                let h = hash_of(h, &format!("stored hash {i}"))?;
                if compact_log::stored_hash_level(*i) >= UPPER_LEVEL {
                    if cache.len() >= UPPER_CACHE_MAX {
                        cache.clear();
                    }
                    cache.insert(*i, h);
                }
                Ok(h)
            })
            .collect();
        if own_tx {
            self.conn.execute_batch("COMMIT").map_err(db)?;
        }
        result
    }

    fn scan(&self, from: u64, f: &mut dyn FnMut(u64, &[u8]) -> bool) -> Result<(), StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT idx, leaf FROM entries WHERE idx >= ?1 ORDER BY idx")
            .map_err(db)?;
        let mut rows = stmt.query([to_i64(from)?]).map_err(db)?;
        while let Some(row) = rows.next().map_err(db)? {
            let i: i64 = row.get(0).map_err(db)?;
            let leaf = row
                .get_ref(1)
                .map_err(db)?
                .as_blob()
                .map_err(|e| StoreError::Corrupt(e.to_string()))?;
            if !f(to_u64(i)?, leaf) {
                break;
            }
        }
        Ok(())
    }

    fn scan_rows(&self, f: &mut dyn FnMut(StoredRow) -> bool) -> Result<(), StoreError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT idx, leaf, leaf_hash, stmt_hash, kind, author, ref, stmt_key FROM entries ORDER BY idx",
            )
            .map_err(db)?;
        let mut rows = stmt.query([]).map_err(db)?;
        // Columns are read as whatever the database holds: a tampered type is a finding of the
        // audit, not a failure to read.
        let blob = |v: rusqlite::types::ValueRef<'_>| match v {
            rusqlite::types::ValueRef::Blob(b) => b.to_vec(),
            rusqlite::types::ValueRef::Text(t) => t.to_vec(),
            _ => Vec::new(),
        };
        let text = |v: rusqlite::types::ValueRef<'_>| match v {
            rusqlite::types::ValueRef::Text(t) => String::from_utf8_lossy(t).into_owned(),
            rusqlite::types::ValueRef::Null => "NULL".to_owned(),
            other => format!("{other:?}"),
        };
        while let Some(row) = rows.next().map_err(db)? {
            let get = |i: usize| row.get_ref(i).map_err(db);
            let index = match get(0)? {
                rusqlite::types::ValueRef::Integer(i) => i,
                _ => i64::MIN,
            };
            let reference = match get(6)? {
                rusqlite::types::ValueRef::Integer(i) => Some(i),
                rusqlite::types::ValueRef::Null => None,
                _ => Some(i64::MIN),
            };
            let statement_key = match get(7)? {
                rusqlite::types::ValueRef::Integer(i) => Some(i),
                _ => None,
            };
            let r = StoredRow {
                index,
                leaf: blob(get(1)?),
                leaf_hash: blob(get(2)?),
                statement_hash: blob(get(3)?),
                statement_key,
                kind: text(get(4)?),
                author: text(get(5)?),
                reference,
            };
            if !f(r) {
                break;
            }
        }
        Ok(())
    }

    fn scan_hashes(&self, f: &mut dyn FnMut(u64, Hash) -> bool) -> Result<(), StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT idx, hash FROM hashes ORDER BY idx")
            .map_err(db)?;
        let mut rows = stmt.query([]).map_err(db)?;
        while let Some(row) = rows.next().map_err(db)? {
            let i: i64 = row.get(0).map_err(db)?;
            let h: Vec<u8> = row.get(1).map_err(db)?;
            let i = to_u64(i)?;
            if !f(i, hash_of(h, &format!("stored hash {i}"))?) {
                break;
            }
        }
        Ok(())
    }

    fn projection_meta(&self) -> Result<Option<String>, StoreError> {
        self.conn
            .query_row("SELECT value FROM meta WHERE key = 'projection'", [], |r| {
                r.get(0)
            })
            .optional()
            .map_err(db)
    }

    fn records_between(&self, from: u64, to: u64) -> Result<Vec<(u64, Record)>, StoreError> {
        let mut stmt = self
            .conn
            .prepare(&format!(
                "SELECT {RECORDS_COLUMNS} FROM records WHERE idx >= ?1 AND idx < ?2 ORDER BY idx"
            ))
            .map_err(corrupt_record)?;
        let mut out = Vec::with_capacity(usize::try_from(to.saturating_sub(from)).unwrap_or(0));
        let rows = stmt
            .query_map([to_i64(from)?, to_i64(to)?], record_row)
            .map_err(corrupt_record)?;
        for (expected, row) in (from..).zip(rows) {
            let (index, row) = row.map_err(corrupt_record)?;
            let index = to_u64(index)?;
            if index != expected {
                return Err(StoreError::Corrupt(format!(
                    "the projection has no row for entry {expected}: run `compact verify`"
                )));
            }
            out.push((index, row.into_record(index).map_err(StoreError::Corrupt)?));
        }
        let read = from + out.len() as u64;
        if read < to {
            return Err(StoreError::Corrupt(format!(
                "the projection has no row for entry {read}: run `compact verify`"
            )));
        }
        Ok(out)
    }

    fn record(&self, index: u64) -> Result<Option<Record>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(&format!(
                "SELECT {RECORDS_COLUMNS} FROM records WHERE idx = ?1"
            ))
            .map_err(corrupt_record)?;
        let row = stmt
            .query_row([to_i64(index)?], record_row)
            .optional()
            .map_err(corrupt_record)?;
        row.map(|(_, r)| r.into_record(index).map_err(StoreError::Corrupt))
            .transpose()
    }

    fn record_rows(&self, from: i64, to: i64) -> Result<Vec<StoredRecord>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(&format!(
                "SELECT {RECORDS_COLUMNS} FROM records WHERE idx >= ?1 AND idx <= ?2 ORDER BY idx"
            ))
            .map_err(db)?;
        let mut rows = stmt.query(params![from, to]).map_err(db)?;
        // Read as whatever the database holds: a value of the wrong type is a finding.
        use rusqlite::types::ValueRef as V;
        let text = |v: V<'_>| match v {
            V::Null => None,
            V::Text(t) => Some(String::from_utf8_lossy(t).into_owned()),
            other => Some(format!("{other:?}")),
        };
        let int = |v: V<'_>| match v {
            V::Null => None,
            V::Integer(i) => Some(i),
            _ => Some(i64::MIN),
        };
        let mut out = Vec::new();
        while let Some(r) = rows.next().map_err(db)? {
            let get = |i: usize| r.get_ref(i).map_err(db);
            out.push(StoredRecord {
                index: int(get(0)?).unwrap_or(i64::MIN),
                row: RecordRow {
                    kind: text(get(1)?).unwrap_or_default(),
                    author: text(get(2)?).unwrap_or_default(),
                    time: int(get(3)?).unwrap_or(i64::MIN),
                    received: int(get(4)?),
                    commitment: text(get(5)?),
                    amount: text(get(6)?),
                    date: text(get(7)?),
                    reference: text(get(8)?),
                    refers: int(get(9)?),
                    payload: text(get(10)?),
                },
            });
        }
        Ok(out)
    }

    fn latest_checkpoint(&self) -> Result<Option<(u64, Vec<u8>)>, StoreError> {
        let row: Option<(i64, Vec<u8>)> = self
            .conn
            .query_row(
                "SELECT size, note FROM checkpoints ORDER BY size DESC LIMIT 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(db)?;
        row.map(|(s, n)| Ok((to_u64(s)?, n))).transpose()
    }

    fn cosignatures(&self, size: u64) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        // A store from before cosignatures, opened read-only, has no table: none kept.
        let kept: bool = self
            .conn
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'cosignatures')",
                [],
                |r| r.get(0),
            )
            .map_err(db)?;
        if !kept {
            return Ok(Vec::new());
        }
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT witness, line FROM cosignatures WHERE size = ?1 ORDER BY witness",
            )
            .map_err(db)?;
        let rows = stmt
            .query_map([to_i64(size)?], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(db)?;
        rows.map(|r| r.map_err(db)).collect()
    }

    fn checkpoints(&self) -> Result<Vec<(u64, Vec<u8>)>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT size, note FROM checkpoints ORDER BY size")
            .map_err(db)?;
        let rows = stmt
            .query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, Vec<u8>>(1)?)))
            .map_err(db)?;
        rows.map(|r| {
            let (s, n) = r.map_err(db)?;
            Ok((to_u64(s)?, n))
        })
        .collect()
    }
}
