//! The store a compact lives in: an SQLite file or a PostgreSQL database, as one type.
//!
//! [`AnyStore`] implements [`Store`] by delegating to the backend it holds, and adds what
//! only the backends' own types offer (opening by location, the busy timeout, discarding a
//! store just created).

use std::path::{Path, PathBuf};
use std::time::Duration;

use compact_store::{Batch, Snapshot, Store, StoreError};
use compact_store_postgres::PostgresStore;
use compact_store_sqlite::SqliteStore;

/// Where a store is: a file, or a PostgreSQL database by URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Location {
    /// An SQLite file.
    File(PathBuf),
    /// A PostgreSQL URL (`postgres://` or `postgresql://`), with its password when one is set.
    Postgres(String),
}

/// Whether `s` is a PostgreSQL URL.
pub fn is_postgres_url(s: &str) -> bool {
    s.starts_with("postgres://") || s.starts_with("postgresql://")
}

/// The URL with any password replaced by `***`: for messages.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (auth, host) = match rest.split_once('@') {
        Some((a, h)) => (a, h),
        None => return url.to_owned(),
    };
    match auth.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_owned(),
    }
}

/// The URL without its password, if it has one: what may be written into a compact's files
/// (the password is then read from the environment or a file).
pub fn without_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    match rest.split_once('@') {
        Some((auth, host)) => match auth.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}@{host}"),
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

impl Location {
    /// A location from what the user wrote: a PostgreSQL URL or a file path.
    pub fn parse(s: &str) -> Location {
        if is_postgres_url(s) {
            Location::Postgres(s.to_owned())
        } else {
            Location::File(PathBuf::from(s))
        }
    }

    /// How the location is named in messages (never with a password).
    pub fn shown(&self) -> String {
        match self {
            Location::File(p) => p.display().to_string(),
            Location::Postgres(u) => redact(u),
        }
    }

    /// Whether a store may be there already: a file that exists, or any database (asked
    /// by opening it).
    pub fn file(&self) -> Option<&Path> {
        match self {
            Location::File(p) => Some(p),
            Location::Postgres(_) => None,
        }
    }
}

/// A store in SQLite or in PostgreSQL.
#[derive(Debug)]
pub enum AnyStore {
    /// An SQLite file.
    Sqlite(SqliteStore),
    /// A PostgreSQL database (boxed: its client is large).
    Postgres(Box<PostgresStore>),
}

impl From<SqliteStore> for AnyStore {
    fn from(s: SqliteStore) -> Self {
        AnyStore::Sqlite(s)
    }
}

impl From<PostgresStore> for AnyStore {
    fn from(s: PostgresStore) -> Self {
        AnyStore::Postgres(Box::new(s))
    }
}

impl AnyStore {
    /// Opens the store at `at` for writing.
    pub fn open(at: &Location) -> Result<AnyStore, StoreError> {
        Ok(match at {
            Location::File(p) => SqliteStore::open(p)?.into(),
            Location::Postgres(u) => PostgresStore::open(u)?.into(),
        })
    }

    /// Opens the store at `at` for reading only.
    pub fn open_read_only(at: &Location) -> Result<AnyStore, StoreError> {
        Ok(match at {
            Location::File(p) => SqliteStore::open_read_only(p)?.into(),
            Location::Postgres(u) => PostgresStore::open_read_only(u)?.into(),
        })
    }

    /// Creates the store of the compact `origin` at `at`; refuses where one is already.
    pub fn create(at: &Location, origin: &str) -> Result<AnyStore, StoreError> {
        Ok(match at {
            Location::File(p) => SqliteStore::create(p, origin)?.into(),
            Location::Postgres(u) => PostgresStore::create(u, origin)?.into(),
        })
    }

    /// How long to wait for another writer's lock.
    pub fn set_busy_timeout(&self, timeout: Duration) -> Result<(), StoreError> {
        match self {
            AnyStore::Sqlite(s) => s.set_busy_timeout(timeout),
            AnyStore::Postgres(s) => s.set_busy_timeout(timeout),
        }
    }

    /// Removes a store this process has just created at `at` and that must not stay (a
    /// refused `init`, a copy that did not prove equal): the SQLite file, or the store's
    /// tables in the PostgreSQL database. Never for a store that was opened.
    pub fn discard(self, at: &Location) {
        match self {
            AnyStore::Sqlite(s) => {
                drop(s);
                if let Some(p) = at.file() {
                    for suffix in ["", "-wal", "-shm"] {
                        let mut name = p.as_os_str().to_owned();
                        name.push(suffix);
                        let _ = std::fs::remove_file(PathBuf::from(name));
                    }
                }
            }
            AnyStore::Postgres(s) => {
                let _ = s.with_client(|c| {
                    c.batch_execute(
                        "DROP TABLE IF EXISTS cosignatures, records, checkpoints, hashes, entries, meta",
                    )
                });
            }
        }
    }

    /// The backend's name: `sqlite` or `postgres`.
    pub fn backend(&self) -> &'static str {
        match self {
            AnyStore::Sqlite(_) => "sqlite",
            AnyStore::Postgres(_) => "postgres",
        }
    }
}

macro_rules! each {
    ($self:expr, $s:ident => $e:expr) => {
        match $self {
            AnyStore::Sqlite($s) => $e,
            AnyStore::Postgres($s) => $e,
        }
    };
}

impl Store for AnyStore {
    fn snapshot(&self) -> Result<Snapshot<'_>, StoreError> {
        each!(self, s => s.snapshot())
    }
    fn latest(&self) -> Result<Snapshot<'_>, StoreError> {
        each!(self, s => s.latest())
    }
    fn append(&mut self, batch: &Batch) -> Result<(), StoreError> {
        each!(self, s => s.append(batch))
    }
    fn begin_write(&mut self) -> Result<(), StoreError> {
        each!(self, s => s.begin_write())
    }
    fn end_write(&mut self, commit: bool) -> Result<(), StoreError> {
        each!(self, s => s.end_write(commit))
    }
    fn add_cosignature(&self, size: u64, witness: &str, line: &[u8]) -> Result<(), StoreError> {
        each!(self, s => s.add_cosignature(size, witness, line))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_location_is_a_url_or_a_file_and_is_shown_without_its_password() {
        assert_eq!(
            Location::parse("postgresql://u@h/db"),
            Location::Postgres("postgresql://u@h/db".to_owned())
        );
        assert_eq!(
            Location::parse("store.sqlite"),
            Location::File(PathBuf::from("store.sqlite"))
        );
        assert_eq!(
            Location::parse("postgres://u:secret@h:5432/db").shown(),
            "postgres://u:***@h:5432/db"
        );
        assert_eq!(redact("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(
            without_password("postgres://u:secret@h:5432/db"),
            "postgres://u@h:5432/db"
        );
        assert_eq!(without_password("postgres://h/db"), "postgres://h/db");
    }
}
