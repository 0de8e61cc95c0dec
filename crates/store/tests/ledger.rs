//! The store suite: the ledger over every backend (the embedded SQLite file; PostgreSQL in the
//! cluster `COMPACT_TEST_POSTGRES` names): appends, refusals, durability, tampering with plain
//! SQL, forks, concurrent writers and audits. Each test is written once, generic over
//! [`Backend`], and run once per backend by `suite!` (`sqlite::…`, `postgres::…`). Where no
//! PostgreSQL cluster is named, the `postgres::…` tests say they were skipped and pass (unless
//! `COMPACT_REQUIRE_POSTGRES` is set, as in CI, where they fail).

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::time::Duration;

use compact_log::{
    Hash, open_checkpoint, prove_consistency, prove_inclusion, verify_consistency, verify_inclusion,
};
use compact_statement::testkit::*;
use compact_statement::{DeliveryConfirm, Payload, Statement};
use compact_store::audit::{GivenCheckpoint, audit};
use compact_store::{AppendError, Clock, Ledger, Reads, Store, StoreError, StoreHashes};
use compact_store_postgres::PostgresStore;
use compact_store_postgres::testkit::TestDatabase;
use compact_store_sqlite::SqliteStore;

/// Where a store lives (a file, a database), kept as long as this is.
struct Place {
    /// The file's path, or the database's URL.
    loc: String,
    _keep: Box<dyn std::any::Any + Send + Sync>,
}

/// What the suite needs of a backend: new stores, and raw SQL against them as whoever holds
/// the database has it.
trait Backend: 'static {
    type S: Store + Send + 'static;
    /// SQL for 32 zero bytes.
    const ZEROS_32: &'static str;
    /// A place for a new store, or `None` where the backend is not available (said).
    fn place(test: &str) -> Option<Place>;
    fn create(loc: &str, origin: &str) -> Self::S;
    fn open(loc: &str) -> Self::S;
    fn open_read_only(loc: &str) -> Self::S;
    /// A copy of a store nothing is connected to.
    fn copy(place: &Place, test: &str) -> Place;
    /// Runs `sql` (statements separated by `;`) in one transaction; returns the number of rows
    /// the last one changed.
    fn exec(s: &Self::S, sql: &str) -> u64;
    /// The bytes `sql` selects, with `idx` as its one parameter.
    fn bytes(s: &Self::S, sql: &str, idx: i64) -> Vec<u8>;
    fn set_leaf(s: &Self::S, idx: i64, leaf: &[u8]);
    /// An SQL expression: the leaf with `from` replaced by `to`.
    fn replace_in_leaf(from: &str, to: &str) -> String;
    /// An SQL expression: column `col` as bytes, to compare values of any type.
    fn as_bytes(col: &str) -> String;
    fn set_busy_timeout(s: &Self::S, timeout: Duration);
}

struct Sqlite;

impl Backend for Sqlite {
    type S = SqliteStore;
    const ZEROS_32: &'static str = "zeroblob(32)";

    fn place(_test: &str) -> Option<Place> {
        let dir = tempfile::tempdir().unwrap();
        Some(Place {
            loc: dir.path().join("log.sqlite").display().to_string(),
            _keep: Box::new(dir),
        })
    }
    fn create(loc: &str, origin: &str) -> SqliteStore {
        SqliteStore::create(loc.as_ref(), origin).unwrap()
    }
    fn open(loc: &str) -> SqliteStore {
        SqliteStore::open(loc.as_ref()).unwrap()
    }
    fn open_read_only(loc: &str) -> SqliteStore {
        SqliteStore::open_read_only(loc.as_ref()).unwrap()
    }
    fn copy(place: &Place, test: &str) -> Place {
        let to = Self::place(test).unwrap();
        std::fs::copy(&place.loc, &to.loc).unwrap();
        to
    }
    fn exec(s: &SqliteStore, sql: &str) -> u64 {
        let c = s.connection();
        c.execute_batch(&format!(
            "PRAGMA defer_foreign_keys = ON; BEGIN; {sql}; COMMIT;"
        ))
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
        c.changes()
    }
    fn bytes(s: &SqliteStore, sql: &str, idx: i64) -> Vec<u8> {
        s.connection()
            .query_row(sql, [idx], |r| r.get(0))
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
    }
    fn set_leaf(s: &SqliteStore, idx: i64, leaf: &[u8]) {
        s.connection()
            .execute("UPDATE entries SET leaf = ?1 WHERE idx = ?2", (leaf, idx))
            .unwrap();
    }
    fn replace_in_leaf(from: &str, to: &str) -> String {
        format!("CAST(REPLACE(CAST(leaf AS TEXT), '{from}', '{to}') AS BLOB)")
    }
    fn as_bytes(col: &str) -> String {
        format!("CAST({col} AS BLOB)")
    }
    fn set_busy_timeout(s: &SqliteStore, timeout: Duration) {
        s.set_busy_timeout(timeout).unwrap();
    }
}

struct Postgres;

impl Backend for Postgres {
    type S = PostgresStore;
    const ZEROS_32: &'static str = "decode(repeat('00', 32), 'hex')";

    fn place(test: &str) -> Option<Place> {
        let db = TestDatabase::new(test)?;
        Some(Place {
            loc: db.url().to_owned(),
            _keep: Box::new(db),
        })
    }
    fn create(loc: &str, origin: &str) -> PostgresStore {
        PostgresStore::create(loc, origin).unwrap()
    }
    fn open(loc: &str) -> PostgresStore {
        PostgresStore::open(loc).unwrap()
    }
    fn open_read_only(loc: &str) -> PostgresStore {
        PostgresStore::open_read_only(loc).unwrap()
    }
    fn copy(place: &Place, test: &str) -> Place {
        let db = place
            ._keep
            .downcast_ref::<TestDatabase>()
            .unwrap()
            .copy(test);
        Place {
            loc: db.url().to_owned(),
            _keep: Box::new(db),
        }
    }
    fn exec(s: &PostgresStore, sql: &str) -> u64 {
        s.with_client(|c| {
            let mut tx = c.transaction()?;
            let mut changed = 0;
            for statement in sql.split(';').filter(|q| !q.trim().is_empty()) {
                changed = tx.execute(statement, &[])?;
            }
            tx.commit().map(|()| changed)
        })
        .unwrap()
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
    }
    fn bytes(s: &PostgresStore, sql: &str, idx: i64) -> Vec<u8> {
        s.with_client(|c| c.query_one(sql, &[&idx]).map(|r| r.get(0)))
            .unwrap()
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
    }
    fn set_leaf(s: &PostgresStore, idx: i64, leaf: &[u8]) {
        s.with_client(|c| {
            c.execute(
                "UPDATE entries SET leaf = $1 WHERE idx = $2",
                &[&leaf, &idx],
            )
        })
        .unwrap()
        .unwrap();
    }
    fn replace_in_leaf(from: &str, to: &str) -> String {
        format!("convert_to(replace(convert_from(leaf, 'UTF8'), '{from}', '{to}'), 'UTF8')")
    }
    fn as_bytes(col: &str) -> String {
        format!("convert_to({col}::TEXT, 'UTF8')")
    }
    fn set_busy_timeout(s: &PostgresStore, timeout: Duration) {
        s.set_busy_timeout(timeout).unwrap();
    }
}

/// The genesis (entries 0 to 8), then gb-ua signed by both parties, a delivery reported and
/// confirmed: entries 9 to 12.
fn populate<S: Store>(ledger: &mut Ledger<'_, S>, w: &World) {
    ledger
        .append(&w.genesis(), &w.operator.signer, Clock::Simulated)
        .unwrap();
    let sign_gb = sign_agreement(w, &w.gb, "GB", "gb-ua");
    let sign_ua = sign_agreement(w, &w.ua, "UA", "gb-ua");
    ledger
        .append(&[sign_gb], &w.operator.signer, Clock::Simulated)
        .unwrap();
    ledger
        .append(&[sign_ua], &w.operator.signer, Clock::Simulated)
        .unwrap();
    let r = report(w, &w.gb, "GB", "gb-tranches", "500 shells");
    let index = ledger
        .append(&[r], &w.operator.signer, Clock::Simulated)
        .unwrap();
    let c = make(
        w,
        &w.ua,
        "UA",
        "2024-07-02T00:00:00Z",
        Payload::DeliveryConfirm(DeliveryConfirm {
            report: index,
            amount: None,
            date: "2024-07-02".parse().unwrap(),
        }),
    );
    ledger
        .append(&[c], &w.operator.signer, Clock::Simulated)
        .unwrap();
}

fn audit_ok<S: Store>(store: &S, w: &World) -> compact_store::audit::Report {
    audit(store, &w.compact, &[], None, &mut |_| {}).unwrap()
}

fn appended_statements_survive_a_restart_and_verify<B: Backend>() {
    let Some(place) = B::place("appended_statements_survive_a_restart_and_verify") else {
        return;
    };
    let w = world();
    let mut ledger = Ledger::open(B::create(&place.loc, &w.compact.id), &w.compact).unwrap();
    populate(&mut ledger, &w);
    drop(ledger);

    let store = B::open(&place.loc);
    assert_eq!(store.size().unwrap(), GENESIS + 4);
    let report = audit_ok(&store, &w);
    assert!(report.ok(), "{:?}", report.problems);
    assert_eq!(report.entries, GENESIS + 4);
    assert_eq!(report.checkpoints, 5);

    // Proofs from the store verify against its latest checkpoint.
    let (size, note) = store.latest_checkpoint().unwrap().unwrap();
    let cp = open_checkpoint(
        &note,
        w.compact.operator_key.as_deref().unwrap(),
        "test-compact",
    )
    .unwrap();
    assert_eq!(cp.size, size);
    for i in 0..size {
        verify_inclusion(
            &prove_inclusion(i, size, &StoreHashes(&store)).unwrap(),
            &cp,
        )
        .unwrap();
    }
    verify_consistency(
        &prove_consistency(2, size, &StoreHashes(&store)).unwrap(),
        &cp,
    )
    .unwrap();
    // Every statement is found by its hash, one by one or all at once.
    let hashes: Vec<Hash> = (0..size)
        .map(|i| {
            Hash(
                Statement::decode(&store.entry(i).unwrap().unwrap())
                    .unwrap()
                    .statement_hash(),
            )
        })
        .chain([Hash([7; 32])])
        .collect();
    let expected: Vec<Option<u64>> = (0..size).map(Some).chain([None]).collect();
    assert_eq!(store.find_statements(&hashes).unwrap(), expected);
    let one_by_one: Vec<Option<u64>> = hashes
        .iter()
        .map(|h| store.find_statement(h).unwrap())
        .collect();
    assert_eq!(one_by_one, expected);
    // The projection holds every entry's record, as decoded from its leaf.
    let records = store.records(size).unwrap();
    assert_eq!(records.len() as u64, size);
    for (i, record) in records {
        let st = Statement::decode(&store.entry(i).unwrap().unwrap()).unwrap();
        assert_eq!(record, compact_statement::Record::of(&st), "entry {i}");
    }
}

fn refusals_write_nothing<B: Backend>() {
    let Some(place) = B::place("refusals_write_nothing") else {
        return;
    };
    let w = world();
    let mut ledger = Ledger::open(B::create(&place.loc, &w.compact.id), &w.compact).unwrap();
    populate(&mut ledger, &w);
    // A replay: the same signed statement, whatever its receipt time.
    let first = Statement::decode(&ledger.store().entry(11).unwrap().unwrap()).unwrap();
    let first_again = first.clone();
    let err = ledger
        .append(
            &[first.unreceived().unwrap()],
            &w.operator.signer,
            Clock::Simulated,
        )
        .unwrap_err();
    assert!(err.to_string().contains("a duplicate of entry 11"), "{err}");
    let err = ledger
        .append(&[first], &w.operator.signer, Clock::Simulated)
        .unwrap_err();
    assert!(err.to_string().contains("a duplicate of entry 11"), "{err}");
    // A replay within a batch, found with the batch's other statements.
    let fresh = report(&w, &w.gb, "GB", "gb-tranches", "7 shells");
    let err = ledger
        .append(&[fresh, first_again], &w.operator.signer, Clock::Simulated)
        .unwrap_err();
    assert!(
        matches!(err, AppendError::Refused { position: 1, .. })
            && err.to_string().contains("a duplicate of entry 11"),
        "{err}"
    );
    // A batch with one bad statement writes none of it.
    let good = report(&w, &w.gb, "GB", "gb-once", "1e6 GBP");
    let bad = report(&w, &w.jp, "JP", "gb-once", "1e6 GBP");
    let err = ledger
        .append(&[good, bad], &w.operator.signer, Clock::Simulated)
        .unwrap_err();
    assert!(
        matches!(err, AppendError::Refused { position: 1, .. }),
        "{err}"
    );
    assert_eq!(ledger.store().size().unwrap(), GENESIS + 4);
    assert!(audit_ok(ledger.store(), &w).ok());
}

fn a_batch_may_refer_to_its_own_statements<B: Backend>() {
    let Some(place) = B::place("a_batch_may_refer_to_its_own_statements") else {
        return;
    };
    let w = world();
    let mut ledger = Ledger::open(B::create(&place.loc, &w.compact.id), &w.compact).unwrap();
    ledger
        .append(&w.genesis(), &w.operator.signer, Clock::Simulated)
        .unwrap();
    let r = report(&w, &w.gb, "GB", "gb-tranches", "500 shells");
    let confirm = |amount: &str| {
        make(
            &w,
            &w.ua,
            "UA",
            "2024-07-02T00:00:00Z",
            Payload::DeliveryConfirm(DeliveryConfirm {
                report: GENESIS + 2,
                amount: Some(amount.into()),
                date: "2024-07-02".parse().unwrap(),
            }),
        )
    };
    let batch = vec![
        sign_agreement(&w, &w.gb, "GB", "gb-ua"),
        sign_agreement(&w, &w.ua, "UA", "gb-ua"),
        r,
        confirm("200 shells"),
        confirm("300 shells"),
    ];
    ledger
        .append(&batch, &w.operator.signer, Clock::Simulated)
        .unwrap();
    let over = confirm("1 shells");
    let err = ledger
        .append(&[over], &w.operator.signer, Clock::Simulated)
        .unwrap_err();
    assert!(err.to_string().contains("would total 501"), "{err}");
}

/// Changing, deleting or reordering stored rows (entries and the projection's) with plain SQL
/// is detected and names the entry.
fn tampering_is_detected_and_named<B: Backend>() {
    let w = world();
    let zeros = B::ZEROS_32;
    let cases: Vec<(&str, String, Option<u64>)> = vec![
        (
            "change a byte",
            format!(
                "UPDATE entries SET leaf = {} WHERE idx = 11",
                B::replace_in_leaf("500 shells", "900 shells")
            ),
            Some(11),
        ),
        (
            "delete an entry",
            "DELETE FROM entries WHERE idx = 10".into(),
            Some(10),
        ),
        (
            "reorder two entries",
            "UPDATE entries SET idx = -1 WHERE idx = 9; UPDATE entries SET idx = 9 WHERE idx = 10; UPDATE entries SET idx = 10 WHERE idx = -1".into(),
            Some(9),
        ),
        (
            "drop the last entry",
            "DELETE FROM entries WHERE idx = 12".into(),
            Some(12),
        ),
        (
            "zero a statement hash",
            format!("UPDATE entries SET stmt_hash = {zeros}, stmt_key = 0 WHERE idx = 12"),
            Some(12),
        ),
        (
            "zero a leaf hash",
            format!("UPDATE entries SET leaf_hash = {zeros} WHERE idx = 12"),
            Some(12),
        ),
        (
            "null a reference",
            "UPDATE entries SET ref = NULL WHERE idx = 12".into(),
            Some(12),
        ),
        (
            "change a kind",
            "UPDATE entries SET kind = 'pledge' WHERE idx = 9".into(),
            Some(9),
        ),
        (
            "change an author",
            "UPDATE entries SET author = 'PL' WHERE idx = 11".into(),
            Some(11),
        ),
        (
            "insert a row at index -1",
            "INSERT INTO entries SELECT -1, leaf, leaf_hash, stmt_hash, stmt_key, kind, author, ref FROM entries WHERE idx = 12".into(),
            Some(0),
        ),
        (
            "change an amount in the projection",
            "UPDATE records SET amount = '900 shells' WHERE idx = 11".into(),
            Some(11),
        ),
        (
            "delete a row of the projection",
            "DELETE FROM records WHERE idx = 10".into(),
            Some(10),
        ),
        (
            "swap two rows of the projection",
            "UPDATE records SET idx = -1 WHERE idx = 11; UPDATE records SET idx = 11 WHERE idx = 12; UPDATE records SET idx = 12 WHERE idx = -1".into(),
            Some(11),
        ),
        (
            "add a row to the projection",
            "INSERT INTO records SELECT 13, kind, author, time, received, commitment, amount, date, reference, ref, payload FROM records WHERE idx = 11".into(),
            Some(13),
        ),
    ];
    for (name, sql, entry) in cases {
        let Some(place) = B::place("tampering_is_detected_and_named") else {
            return;
        };
        let mut ledger = Ledger::open(B::create(&place.loc, &w.compact.id), &w.compact).unwrap();
        populate(&mut ledger, &w);
        let store = ledger.store();
        B::exec(store, &sql);
        let report = audit_ok(store, &w);
        assert!(!report.ok(), "{name}: not detected");
        assert!(
            report.problems.iter().any(|p| p.entry == entry),
            "{name}: {:?}",
            report.problems
        );
    }
}

fn a_fork_shown_in_two_checkpoints_is_reported<B: Backend>() {
    let (Some(a_place), Some(b_place)) = (
        B::place("a_fork_shown_in_two_checkpoints_is_reported"),
        B::place("a_fork_shown_in_two_checkpoints_is_reported"),
    ) else {
        return;
    };
    let w = world();
    let mut a = Ledger::open(B::create(&a_place.loc, &w.compact.id), &w.compact).unwrap();
    let mut b = Ledger::open(B::create(&b_place.loc, &w.compact.id), &w.compact).unwrap();
    populate(&mut a, &w);
    // The same first entries, then a different history.
    for i in 0..GENESIS + 2 {
        let st = Statement::decode(&a.store().entry(i).unwrap().unwrap()).unwrap();
        b.append(&[st], &w.operator.signer, Clock::Simulated)
            .unwrap();
    }
    let other = report(&w, &w.gb, "GB", "gb-tranches", "400 shells");
    b.append(&[other], &w.operator.signer, Clock::Simulated)
        .unwrap();
    let (_, note_b) = b.store().latest_checkpoint().unwrap().unwrap();
    let given = [GivenCheckpoint {
        name: "b.checkpoint".into(),
        note: note_b,
    }];
    let report = audit(a.store(), &w.compact, &given, None, &mut |_| {}).unwrap();
    assert!(
        report.problems.iter().any(|p| p
            .message
            .contains("checkpoint b.checkpoint does not match the log")
            && p.message.contains("fork")),
        "{:?}",
        report.problems
    );
}

/// Witnesses' cosignatures are kept beside their checkpoint, one line per witness (a new line
/// replaces the witness's earlier one), and never touch the log.
fn cosignatures_are_kept_beside_their_checkpoint<B: Backend>() {
    let Some(place) = B::place("cosignatures_are_kept_beside_their_checkpoint") else {
        return;
    };
    let w = world();
    let mut ledger = Ledger::open(B::create(&place.loc, &w.compact.id), &w.compact).unwrap();
    populate(&mut ledger, &w);
    let store = ledger.store();
    let size = store.size().unwrap();
    store.add_cosignature(size, "w2", b"second").unwrap();
    store.add_cosignature(size, "w1", b"first").unwrap();
    store.add_cosignature(size, "w1", b"first, again").unwrap();
    assert_eq!(
        store.cosignatures(size).unwrap(),
        vec![
            ("w1".to_owned(), b"first, again".to_vec()),
            ("w2".to_owned(), b"second".to_vec())
        ]
    );
    assert_eq!(store.cosignatures(size - 1).unwrap(), vec![]);
    drop(ledger);
    let store = B::open_read_only(&place.loc);
    assert_eq!(store.cosignatures(size).unwrap().len(), 2);
    assert!(audit_ok(&store, &w).ok());
}

/// A store holds the log of one compact: another compact's ledger refuses it by its origin.
fn a_store_of_another_compact_is_refused<B: Backend>() {
    let Some(place) = B::place("a_store_of_another_compact_is_refused") else {
        return;
    };
    let w = world();
    let err = Ledger::open(B::create(&place.loc, "another-compact"), &w.compact).unwrap_err();
    assert!(
        err.to_string()
            .contains("holds the log of `another-compact`"),
        "{err}"
    );
    let report = audit(&B::open(&place.loc), &w.compact, &[], None, &mut |_| {}).unwrap();
    assert!(
        report.problems.iter().any(|p| p
            .message
            .contains("the store holds the log of `another-compact`")),
        "{:?}",
        report.problems
    );
}

/// A second writer waits for the first's lock; past its busy timeout it fails with a
/// transient error (not a refusal), and a batch prepared on a log that grew meanwhile is not
/// written.
fn writers_wait_for_each_other_or_fail_transiently<B: Backend>() {
    let Some(place) = B::place("writers_wait_for_each_other_or_fail_transiently") else {
        return;
    };
    let w = world();
    let mut first = Ledger::open(B::create(&place.loc, &w.compact.id), &w.compact).unwrap();
    first
        .append(&w.genesis(), &w.operator.signer, Clock::Simulated)
        .unwrap();
    let second_store = B::open(&place.loc);
    B::set_busy_timeout(&second_store, Duration::from_millis(50));
    let mut second = Ledger::open(second_store, &w.compact).unwrap();
    let sign_gb = sign_agreement(&w, &w.gb, "GB", "gb-ua");
    let sign_ua = sign_agreement(&w, &w.ua, "UA", "gb-ua");

    // A batch prepared now, written after the log grew: refused as transient, nothing written.
    let stale = second
        .prepare(
            std::slice::from_ref(&sign_ua),
            &w.operator.signer,
            10,
            Clock::Simulated,
        )
        .unwrap();
    first.begin_write().unwrap();
    match second.append(
        std::slice::from_ref(&sign_ua),
        &w.operator.signer,
        Clock::Simulated,
    ) {
        Err(AppendError::Store(e)) => {
            assert!(e.is_transient(), "{e}");
            assert!(matches!(e, StoreError::Busy(_)), "{e:?}");
            assert!(e.to_string().contains("the store is busy"), "{e}");
        }
        other => panic!("expected a busy store, got {other:?}"),
    }
    first
        .write(
            &first
                .prepare(
                    std::slice::from_ref(&sign_gb),
                    &w.operator.signer,
                    10,
                    Clock::Simulated,
                )
                .unwrap(),
            &mut |_| {},
        )
        .unwrap();
    first.end_write(true).unwrap();
    match second.write(&stale, &mut |_| {}) {
        Err(AppendError::Store(e)) => {
            assert!(e.is_transient(), "{e}");
            assert!(
                matches!(
                    e,
                    StoreError::Conflict { size, first } if size == GENESIS + 1 && first == GENESIS
                ),
                "{e:?}"
            );
            assert!(e.to_string().contains("the log grew meanwhile"), "{e}");
        }
        other => panic!("expected the log to have grown, got {other:?}"),
    }
    assert_eq!(second.store().size().unwrap(), GENESIS + 1);
    // Checked again under the lock, it is written after the other writer's entry.
    assert_eq!(second.already_logged(&sign_gb).unwrap(), Some(GENESIS));
    assert_eq!(second.already_logged(&sign_ua).unwrap(), None);
    assert_eq!(
        second
            .append(
                std::slice::from_ref(&sign_ua),
                &w.operator.signer,
                Clock::Simulated
            )
            .unwrap(),
        GENESIS + 1
    );
    // The second writer's facts were reread under the lock: both signatures count.
    assert_eq!(
        second
            .facts()
            .signatures
            .values()
            .map(|m| m.len())
            .sum::<usize>(),
        2
    );
    let report = audit(second.store(), &w.compact, &[], None, &mut |_| {}).unwrap();
    assert!(report.ok(), "{:?}", report.problems);
}

/// A snapshot reads one state of the log while another connection appends, and one store is
/// shared by reference between threads, each reading through its own handle in turn.
fn a_snapshot_reads_one_state_while_the_log_grows<B: Backend>() {
    let Some(place) = B::place("a_snapshot_reads_one_state_while_the_log_grows") else {
        return;
    };
    let w = world();
    let mut writer = Ledger::open(B::create(&place.loc, &w.compact.id), &w.compact).unwrap();
    populate(&mut writer, &w);
    let reader = B::open_read_only(&place.loc);
    let before = reader.size().unwrap();
    let root_before = reader.latest_checkpoint().unwrap().unwrap();
    let snapshot = reader.snapshot().unwrap();
    assert_eq!(snapshot.size().unwrap(), before);
    let r = report(&w, &w.gb, "GB", "gb-tranches", "3 shells");
    writer
        .append(&[r], &w.operator.signer, Clock::Simulated)
        .unwrap();
    // The snapshot still reads the state it began with, every part of it alike.
    assert_eq!(snapshot.size().unwrap(), before);
    assert_eq!(snapshot.latest_checkpoint().unwrap().unwrap(), root_before);
    assert_eq!(snapshot.entry(before).unwrap(), None);
    assert_eq!(snapshot.records(before).unwrap().len() as u64, before);
    drop(snapshot);
    assert_eq!(reader.size().unwrap(), before + 1);
    // Threads share the store; each reads a consistent state through its own snapshot.
    let shared: &dyn Store = &reader;
    std::thread::scope(|scope| {
        for _ in 0..4 {
            scope.spawn(|| {
                for _ in 0..20 {
                    let s = shared.snapshot().unwrap();
                    let size = s.size().unwrap();
                    let (checkpoint_size, _) = s.latest_checkpoint().unwrap().unwrap();
                    assert_eq!(size, checkpoint_size);
                    assert!(s.entry(size - 1).unwrap().is_some());
                }
            });
        }
    });
}

/// A writer that finds the write lock taken waits for it (within the busy timeout), then
/// checks and writes after what the first wrote: the log does not fork.
fn a_second_writer_waits_for_the_first<B: Backend>() {
    let Some(place) = B::place("a_second_writer_waits_for_the_first") else {
        return;
    };
    let w = world();
    let mut first = Ledger::open(B::create(&place.loc, &w.compact.id), &w.compact).unwrap();
    populate(&mut first, &w);
    first.begin_write().unwrap();
    let (started, waiting) = std::sync::mpsc::channel();
    let second = {
        let loc = place.loc.clone();
        std::thread::spawn(move || {
            let w = world();
            let mut ledger = Ledger::open(B::open(&loc), &w.compact).unwrap();
            let r = report(&w, &w.gb, "GB", "gb-tranches", "2 shells");
            started.send(()).unwrap();
            let t = std::time::Instant::now();
            let index = ledger
                .append(&[r], &w.operator.signer, Clock::Simulated)
                .unwrap();
            (index, t.elapsed())
        })
    };
    waiting.recv().unwrap();
    std::thread::sleep(Duration::from_millis(400));
    let mine = report(&w, &w.gb, "GB", "gb-tranches", "1 shells");
    let batches = first
        .prepare(&[mine], &w.operator.signer, 10, Clock::Simulated)
        .unwrap();
    first.write(&batches, &mut |_| {}).unwrap();
    first.end_write(true).unwrap();
    let (index, waited) = second.join().unwrap();
    assert_eq!(
        index,
        GENESIS + 5,
        "the second writer wrote after the first"
    );
    assert!(
        waited >= Duration::from_millis(300),
        "it did not wait: {waited:?}"
    );
    let report = audit_ok(first.store(), &w);
    assert!(report.ok(), "{:?}", report.problems);
    assert_eq!(report.entries, GENESIS + 6);
}

/// Two writers on two connections append at once: each waits for the other's lock, and the
/// log is one history with dense indices holding every statement once.
fn two_writers_append_one_history<B: Backend>() {
    let Some(place) = B::place("two_writers_append_one_history") else {
        return;
    };
    let w = world();
    {
        let mut ledger = Ledger::open(B::create(&place.loc, &w.compact.id), &w.compact).unwrap();
        populate(&mut ledger, &w);
    }
    const ROUNDS: usize = 12;
    let writers: Vec<_> = (0..2)
        .map(|k| {
            let loc = place.loc.clone();
            std::thread::spawn(move || {
                let w = world();
                let mut ledger = Ledger::open(B::open(&loc), &w.compact).unwrap();
                let mut first_indices = Vec::new();
                for round in 0..ROUNDS {
                    let batch: Vec<Statement> = (0..1 + round % 3)
                        .map(|i| {
                            report(
                                &w,
                                &w.gb,
                                "GB",
                                "gb-tranches",
                                &format!("{} shells", 1 + k * 1000 + round * 10 + i),
                            )
                        })
                        .collect();
                    let first = ledger
                        .append(&batch, &w.operator.signer, Clock::Simulated)
                        .unwrap();
                    first_indices.push((first, batch.len() as u64));
                }
                first_indices
            })
        })
        .collect();
    let mut taken: Vec<(u64, u64)> = writers
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect();
    taken.sort();
    // The batches tile the indices after the populated log, without gaps or overlaps.
    let mut next = GENESIS + 4;
    for (first, len) in &taken {
        assert_eq!(*first, next, "{taken:?}");
        next += len;
    }
    let store = B::open_read_only(&place.loc);
    assert_eq!(store.size().unwrap(), next);
    let report = audit_ok(&store, &w);
    assert!(report.ok(), "{:?}", report.problems);
    assert_eq!(report.entries, next);
}

/// R2: random byte changes in stored entries, and random deletions, are every one detected.
mod random {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock};

    type Template = (Place, World);

    /// A store of 21 entries per backend, built once; each case works on a copy.
    fn template<B: Backend>() -> Option<&'static Template> {
        static T: OnceLock<Mutex<HashMap<std::any::TypeId, &'static Template>>> = OnceLock::new();
        let mut map = T.get_or_init(Default::default).lock().unwrap();
        let key = std::any::TypeId::of::<B>();
        if let Some(t) = map.get(&key) {
            return Some(t);
        }
        let place = B::place("random_tampering")?;
        let w = world();
        {
            let mut ledger =
                Ledger::open(B::create(&place.loc, &w.compact.id), &w.compact).unwrap();
            populate(&mut ledger, &w);
            for i in 0..8 {
                let r = report(
                    &w,
                    &w.gb,
                    "GB",
                    "gb-tranches",
                    &format!("{} shells", 10 + i),
                );
                ledger
                    .append(&[r], &w.operator.signer, Clock::Simulated)
                    .unwrap();
            }
        }
        let t: &'static Template = Box::leak(Box::new((place, w)));
        map.insert(key, t);
        Some(t)
    }

    fn copy<B: Backend>(t: &Template) -> (Place, B::S) {
        let place = B::copy(&t.0, "random_tampering_case");
        let store = B::open(&place.loc);
        (place, store)
    }

    pub fn a_changed_byte_is_detected<B: Backend>(
        entry: i64,
        at: prop::sample::Index,
        xor: u8,
    ) -> Result<(), TestCaseError> {
        let Some(t) = template::<B>() else {
            return Ok(());
        };
        let (_place, store) = copy::<B>(t);
        let mut leaf = B::bytes(&store, "SELECT leaf FROM entries WHERE idx = $1", entry);
        let i = at.index(leaf.len());
        leaf[i] ^= xor;
        B::set_leaf(&store, entry, &leaf);
        let report = audit(&store, &t.1.compact, &[], None, &mut |_| {}).unwrap();
        prop_assert!(!report.ok());
        prop_assert!(
            report
                .problems
                .iter()
                .any(|p| p.entry == Some(entry as u64)),
            "{:?}",
            report.problems
        );
        Ok(())
    }

    pub fn a_deleted_or_swapped_entry_is_detected<B: Backend>(
        a: i64,
        b: i64,
        delete: bool,
    ) -> Result<(), TestCaseError> {
        prop_assume!(a != b || delete);
        let Some(t) = template::<B>() else {
            return Ok(());
        };
        let (_place, store) = copy::<B>(t);
        if delete {
            B::exec(&store, &format!("DELETE FROM entries WHERE idx = {a}"));
        } else {
            B::exec(
                &store,
                &format!(
                    "UPDATE entries SET idx = -1 WHERE idx = {a}; UPDATE entries SET idx = {a} WHERE idx = {b}; UPDATE entries SET idx = {b} WHERE idx = -1"
                ),
            );
        }
        let report = audit(&store, &t.1.compact, &[], None, &mut |_| {}).unwrap();
        prop_assert!(!report.ok());
        let first = if delete { a } else { a.min(b) };
        prop_assert!(
            report
                .problems
                .iter()
                .any(|p| p.entry == Some(first as u64)),
            "{:?}",
            report.problems
        );
        Ok(())
    }

    /// Any stored column of any entry set to another value (another row's, zeros, a shifted
    /// index, NULL) is detected and named.
    pub fn a_changed_column_is_detected<B: Backend>(
        entry: i64,
        column: usize,
        other: i64,
    ) -> Result<(), TestCaseError> {
        let Some(t) = template::<B>() else {
            return Ok(());
        };
        let (_place, store) = copy::<B>(t);
        let sql = match column {
            0 => format!(
                "UPDATE entries SET leaf_hash = (SELECT leaf_hash FROM entries WHERE idx = {other}) WHERE idx = {entry}"
            ),
            1 => format!(
                "UPDATE entries SET stmt_hash = (SELECT stmt_hash FROM entries WHERE idx = {other}), stmt_key = (SELECT stmt_key FROM entries WHERE idx = {other}) WHERE idx = {entry}"
            ),
            2 => format!(
                "UPDATE entries SET kind = (SELECT kind FROM entries WHERE idx = {other}) WHERE idx = {entry}"
            ),
            3 => format!(
                "UPDATE entries SET author = (SELECT author FROM entries WHERE idx = {other}) WHERE idx = {entry}"
            ),
            4 => format!("UPDATE entries SET ref = COALESCE(ref + 1, {other}) WHERE idx = {entry}"),
            _ => format!(
                "UPDATE entries SET idx = {} WHERE idx = {entry}",
                100 + other
            ),
        };
        let changed = B::exec(&store, &sql);
        prop_assume!(changed > 0);
        let report = audit(&store, &t.1.compact, &[], None, &mut |_| {}).unwrap();
        // Setting a column to its own value changes nothing to detect.
        let same = (0..=3).contains(&column) && {
            let (_p, fresh) = copy::<B>(t);
            let col = ["leaf_hash", "stmt_hash", "kind", "author"][column];
            // `$1`: a positional parameter for both databases.
            let sql = format!("SELECT {} FROM entries WHERE idx = $1", B::as_bytes(col));
            B::bytes(&fresh, &sql, entry) == B::bytes(&store, &sql, entry)
        };
        prop_assume!(!same);
        prop_assert!(
            !report.ok(),
            "column {column} of entry {entry} from {other}: not detected"
        );
        prop_assert!(
            report
                .problems
                .iter()
                .any(|p| p.entry == Some(entry as u64)),
            "{:?}",
            report.problems
        );
        Ok(())
    }

    /// An audit reads one snapshot: appends made while it runs never make it report
    /// tampering, whatever the interleaving (batches of random sizes, audits at random
    /// moments).
    pub fn appends_during_audits_raise_no_false_alarm<B: Backend>(
        sizes: Vec<usize>,
    ) -> Result<(), TestCaseError> {
        let Some(place) = B::place("appends_during_audits_raise_no_false_alarm") else {
            return Ok(());
        };
        let w = world();
        {
            let mut ledger =
                Ledger::open(B::create(&place.loc, &w.compact.id), &w.compact).unwrap();
            populate(&mut ledger, &w);
        }
        let writer = {
            let loc = place.loc.clone();
            let sizes = sizes.clone();
            std::thread::spawn(move || {
                let w = world();
                let mut ledger = Ledger::open(B::open(&loc), &w.compact).unwrap();
                let mut n = 0;
                for size in sizes {
                    let batch: Vec<Statement> = (0..size)
                        .map(|_| {
                            n += 1;
                            report(&w, &w.gb, "GB", "gb-tranches", &format!("{n} shells"))
                        })
                        .collect();
                    ledger
                        .append(&batch, &w.operator.signer, Clock::Simulated)
                        .unwrap();
                }
            })
        };
        let reader = B::open_read_only(&place.loc);
        let mut audits = 0;
        while !writer.is_finished() || audits < 3 {
            let report = audit(&reader, &w.compact, &[], None, &mut |_| {}).unwrap();
            prop_assert!(report.ok(), "{:?}", report.problems);
            audits += 1;
        }
        writer.join().unwrap();
        let report = audit(&reader, &w.compact, &[], None, &mut |_| {}).unwrap();
        prop_assert!(report.ok(), "{:?}", report.problems);
        prop_assert_eq!(
            report.entries,
            GENESIS + 4 + sizes.iter().sum::<usize>() as u64
        );
        Ok(())
    }
}

/// The suite, once per backend.
macro_rules! suite {
    ($module:ident, $backend:ty) => {
        mod $module {
            type B = $backend;

            #[test]
            fn appended_statements_survive_a_restart_and_verify() {
                super::appended_statements_survive_a_restart_and_verify::<B>();
            }
            #[test]
            fn refusals_write_nothing() {
                super::refusals_write_nothing::<B>();
            }
            #[test]
            fn a_batch_may_refer_to_its_own_statements() {
                super::a_batch_may_refer_to_its_own_statements::<B>();
            }
            #[test]
            fn tampering_is_detected_and_named() {
                super::tampering_is_detected_and_named::<B>();
            }
            #[test]
            fn a_fork_shown_in_two_checkpoints_is_reported() {
                super::a_fork_shown_in_two_checkpoints_is_reported::<B>();
            }
            #[test]
            fn cosignatures_are_kept_beside_their_checkpoint() {
                super::cosignatures_are_kept_beside_their_checkpoint::<B>();
            }
            #[test]
            fn a_store_of_another_compact_is_refused() {
                super::a_store_of_another_compact_is_refused::<B>();
            }
            #[test]
            fn writers_wait_for_each_other_or_fail_transiently() {
                super::writers_wait_for_each_other_or_fail_transiently::<B>();
            }
            #[test]
            fn a_snapshot_reads_one_state_while_the_log_grows() {
                super::a_snapshot_reads_one_state_while_the_log_grows::<B>();
            }
            #[test]
            fn a_second_writer_waits_for_the_first() {
                super::a_second_writer_waits_for_the_first::<B>();
            }
            #[test]
            fn two_writers_append_one_history() {
                super::two_writers_append_one_history::<B>();
            }

            /// R2: random byte changes, deletions, swaps and column changes, each detected.
            mod random_tampering {
                use super::B;
                use proptest::prelude::*;

                proptest! {
                    #![proptest_config(ProptestConfig::with_cases(32))]

                    #[test]
                    fn a_changed_byte_is_detected(entry in 0i64..21, at in any::<prop::sample::Index>(), xor in 1u8..=255) {
                        crate::random::a_changed_byte_is_detected::<B>(entry, at, xor)?;
                    }

                    #[test]
                    fn a_deleted_or_swapped_entry_is_detected(a in 0i64..21, b in 0i64..21, delete in any::<bool>()) {
                        crate::random::a_deleted_or_swapped_entry_is_detected::<B>(a, b, delete)?;
                    }

                    #[test]
                    fn a_changed_column_is_detected(entry in 0i64..21, column in 0usize..6, other in 0i64..21) {
                        crate::random::a_changed_column_is_detected::<B>(entry, column, other)?;
                    }
                }
            }

            /// An audit reads one snapshot while another connection appends.
            mod concurrent_audit {
                use super::B;
                use proptest::prelude::*;

                proptest! {
                    #![proptest_config(ProptestConfig::with_cases(6))]

                    #[test]
                    fn appends_during_audits_raise_no_false_alarm(sizes in proptest::collection::vec(1usize..6, 4..10)) {
                        crate::random::appends_during_audits_raise_no_false_alarm::<B>(sizes)?;
                    }
                }
            }
        }
    };
}

suite!(sqlite, crate::Sqlite);
suite!(postgres, crate::Postgres);

/// Every backend is a `Store` that threads may share, and one type of store object serves any.
#[test]
fn stores_are_send_sync_and_object_safe() {
    fn shared<T: Send + Sync>() {}
    shared::<SqliteStore>();
    shared::<PostgresStore>();
    let dir = tempfile::tempdir().unwrap();
    let stores: Vec<Box<dyn Store>> = vec![Box::new(
        SqliteStore::create(&dir.path().join("a.sqlite"), "compact-x").unwrap(),
    )];
    for s in &stores {
        assert_eq!(s.origin().unwrap(), "compact-x");
        assert_eq!(s.snapshot().unwrap().size().unwrap(), 0);
    }
}

/// A file that is not a store, or a truncated one, is never taken as a good store (SQLite
/// only: a PostgreSQL database is checked by its tables, in compact-store-postgres's tests).
#[test]
fn sqlite_foreign_and_truncated_files_are_not_stores() {
    let dir = tempfile::tempdir().unwrap();
    let junk = dir.path().join("junk.sqlite");
    std::fs::write(
        &junk,
        b"this is not a database, just some text that is long enough to matter",
    )
    .unwrap();
    let err = SqliteStore::open(&junk).unwrap_err();
    assert!(err.to_string().contains("not a compact store"), "{err}");
    let w = world();
    let path = dir.path().join("log.sqlite");
    {
        let mut ledger = Ledger::open(
            SqliteStore::create(&path, &w.compact.id).unwrap(),
            &w.compact,
        )
        .unwrap();
        populate(&mut ledger, &w);
        ledger
            .store()
            .connection()
            .execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")
            .unwrap();
    }
    let bytes = std::fs::read(&path).unwrap();
    let cut = dir.path().join("cut.sqlite");
    std::fs::write(&cut, &bytes[..bytes.len() / 3]).unwrap();
    // A truncated file is refused on opening, or fails its audit: never taken as good.
    if let Ok(s) = SqliteStore::open(&cut) {
        let r = audit(&s, &w.compact, &[], None, &mut |_| {});
        assert!(
            r.is_err() || !r.unwrap().ok(),
            "a truncated store passed its audit"
        );
    }
    // An SQLite database without the store's tables.
    let empty = dir.path().join("empty.sqlite");
    SqliteStore::create(&empty, "x")
        .unwrap()
        .connection()
        .execute_batch("DROP TABLE meta;")
        .unwrap();
    let err = SqliteStore::open(&empty).unwrap_err();
    assert!(err.to_string().contains("not a compact store"), "{err}");
}
