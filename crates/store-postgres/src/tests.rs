//! What only the PostgreSQL store does: refusing databases that are not stores, schema
//! versions, the projection rebuilt, read-only sessions. The store suite every backend passes
//! is `crates/store/tests/ledger.rs`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use compact_statement::testkit::{GENESIS, World, world};
use compact_store::Reads as _;
use compact_store::{Clock, Ledger, Store, StoreError};

use crate::PostgresStore;
use crate::testkit::TestDatabase;

/// A new store in `db` with the world's log opened (its first entries appended).
fn with_genesis<'w>(db: &TestDatabase, w: &'w World) -> Ledger<'w, PostgresStore> {
    let mut ledger = Ledger::open(
        PostgresStore::create(db.url(), &w.compact.id).unwrap(),
        &w.compact,
    )
    .unwrap();
    ledger
        .append(&w.genesis(), &w.operator.signer, Clock::Simulated)
        .unwrap();
    ledger
}

fn exec(store: &PostgresStore, sql: &str) {
    store
        .with_client(|c| c.batch_execute(sql))
        .unwrap()
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

#[test]
fn a_database_without_the_tables_is_not_a_store() {
    let Some(db) = TestDatabase::new("a_database_without_the_tables_is_not_a_store") else {
        return;
    };
    for err in [
        PostgresStore::open(db.url()).unwrap_err(),
        PostgresStore::open_read_only(db.url()).unwrap_err(),
    ] {
        assert!(matches!(err, StoreError::NotAStore(_)), "{err:?}");
        assert!(err.to_string().contains("not a compact store"), "{err}");
    }
}

#[test]
fn a_store_is_created_once_and_names_the_log_it_holds() {
    let Some(db) = TestDatabase::new("a_store_is_created_once") else {
        return;
    };
    let w = world();
    drop(PostgresStore::create(db.url(), &w.compact.id).unwrap());
    let err = PostgresStore::create(db.url(), "another-compact").unwrap_err();
    assert!(
        err.to_string()
            .contains("already holds a compact store (the log of `test-compact`)"),
        "{err}"
    );
    // Refused as a whole: the store is the one first created.
    assert_eq!(
        PostgresStore::open(db.url()).unwrap().origin().unwrap(),
        w.compact.id
    );
}

#[test]
fn a_newer_schema_or_another_format_is_refused() {
    let Some(db) = TestDatabase::new("a_newer_schema_is_refused") else {
        return;
    };
    let store = PostgresStore::create(db.url(), "x").unwrap();
    exec(
        &store,
        "UPDATE meta SET value = '99' WHERE key = 'schema_version'",
    );
    for err in [
        PostgresStore::open(db.url()).unwrap_err(),
        PostgresStore::open_read_only(db.url()).unwrap_err(),
    ] {
        assert!(
            err.to_string().contains("schema is version 99, newer"),
            "{err}"
        );
    }
    exec(
        &store,
        "UPDATE meta SET value = '1' WHERE key = 'schema_version'; UPDATE meta SET value = 'compact-store/1' WHERE key = 'format'",
    );
    let err = PostgresStore::open(db.url()).unwrap_err();
    assert!(
        err.to_string().contains("store format `compact-store/1`"),
        "{err}"
    );
}

#[test]
fn a_store_without_its_projection_rebuilds_it_on_opening() {
    let Some(db) = TestDatabase::new("a_store_without_its_projection") else {
        return;
    };
    let w = world();
    let ledger = with_genesis(&db, &w);
    let before = ledger.store().records(GENESIS).unwrap();
    exec(
        ledger.store(),
        "DROP TABLE records; DELETE FROM meta WHERE key = 'projection'",
    );
    drop(ledger);
    // Read-only, it has no records; opened for writing, it builds them from the leaves.
    assert!(
        !PostgresStore::open_read_only(db.url())
            .unwrap()
            .has_records()
            .unwrap()
    );
    let store = PostgresStore::open(db.url()).unwrap();
    assert!(store.has_records().unwrap());
    assert_eq!(store.records(GENESIS).unwrap(), before);
}

#[test]
fn a_read_only_session_writes_nothing() {
    let Some(db) = TestDatabase::new("a_read_only_session_writes_nothing") else {
        return;
    };
    let w = world();
    drop(PostgresStore::create(db.url(), &w.compact.id).unwrap());
    let mut ledger =
        Ledger::open(PostgresStore::open_read_only(db.url()).unwrap(), &w.compact).unwrap();
    let err = ledger
        .append(&w.genesis(), &w.operator.signer, Clock::Simulated)
        .unwrap_err();
    assert!(err.to_string().contains("read-only"), "{err}");
    assert_eq!(ledger.store().size().unwrap(), 0);
}

#[test]
fn a_failed_statement_is_never_committed_as_if_it_had_not() {
    let Some(db) = TestDatabase::new("a_failed_statement_is_never_committed") else {
        return;
    };
    let w = world();
    let mut store = PostgresStore::create(db.url(), &w.compact.id).unwrap();
    store.begin_write().unwrap();
    // A failing statement of the store's own aborts PostgreSQL's transaction.
    let failed = store.conn_mut().unwrap().query_one_raw("SELECT 1/0", &[]);
    assert!(failed.is_err());
    let err = store.end_write(true).unwrap_err();
    assert!(err.to_string().contains("rolled back"), "{err}");
    // The connection is usable again.
    store.begin_write().unwrap();
    store.end_write(true).unwrap();
    assert_eq!(store.size().unwrap(), 0);
}

#[test]
fn a_store_of_schema_1_is_read_as_it_is_and_migrated_when_opened_for_writing() {
    let Some(db) = TestDatabase::new("a_store_of_schema_1_is_migrated") else {
        return;
    };
    let w = world();
    let ledger = with_genesis(&db, &w);
    // Version 1: no cosignatures.
    exec(
        ledger.store(),
        "DROP TABLE cosignatures; UPDATE meta SET value = '1' WHERE key = 'schema_version'",
    );
    drop(ledger);
    let old = PostgresStore::open_read_only(db.url()).unwrap();
    assert_eq!(old.cosignatures(GENESIS).unwrap(), vec![]);
    assert_eq!(old.size().unwrap(), GENESIS);
    drop(old);
    let store = PostgresStore::open(db.url()).unwrap();
    let version = crate::lock(&store.inner).unwrap().schema_version().unwrap();
    assert_eq!(version, crate::SCHEMA_VERSION);
    store.add_cosignature(GENESIS, "w1", b"line").unwrap();
    assert_eq!(
        store.cosignatures(GENESIS).unwrap(),
        vec![("w1".to_owned(), b"line".to_vec())]
    );
}
