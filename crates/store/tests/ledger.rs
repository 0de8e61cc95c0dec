//! The ledger over the embedded store: appends, refusals, durability, tampering, forks.

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use compact_log::{
    open_checkpoint, prove_consistency, prove_inclusion, verify_consistency, verify_inclusion,
};
use compact_statement::testkit::*;
use compact_statement::{DeliveryConfirm, Payload, Statement};
use compact_store::audit::{GivenCheckpoint, audit};
use compact_store::sqlite::SqliteStore;
use compact_store::{AppendError, Clock, Ledger, Store, StoreHashes};

fn fresh(dir: &std::path::Path, w: &World) -> SqliteStore {
    SqliteStore::create(&dir.join("log.sqlite"), &w.compact.id).unwrap()
}

/// The genesis (entries 0 to 8), then gb-ua signed by both parties, a delivery reported and
/// confirmed: entries 9 to 12.
fn populate(ledger: &mut Ledger<'_, SqliteStore>, w: &World) {
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

fn audit_ok(store: &SqliteStore, w: &World) -> compact_store::audit::Report {
    audit(store, &w.compact, &[], None, &mut |_| {}).unwrap()
}

#[test]
fn appended_statements_survive_a_restart_and_verify() {
    let w = world();
    let dir = tempfile::tempdir().unwrap();
    let mut ledger = Ledger::open(fresh(dir.path(), &w), &w.compact).unwrap();
    populate(&mut ledger, &w);
    drop(ledger);

    let store = SqliteStore::open(&dir.path().join("log.sqlite")).unwrap();
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
}

#[test]
fn refusals_write_nothing() {
    let w = world();
    let dir = tempfile::tempdir().unwrap();
    let mut ledger = Ledger::open(fresh(dir.path(), &w), &w.compact).unwrap();
    populate(&mut ledger, &w);
    // A replay: identical bytes.
    // A replay: the same signed statement, whatever its receipt time.
    let first = Statement::decode(&ledger.store().entry(11).unwrap().unwrap()).unwrap();
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

#[test]
fn a_batch_may_refer_to_its_own_statements() {
    let w = world();
    let dir = tempfile::tempdir().unwrap();
    let mut ledger = Ledger::open(fresh(dir.path(), &w), &w.compact).unwrap();
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

/// Changing, deleting or reordering stored rows with plain SQL is detected and named.
#[test]
fn tampering_is_detected_and_named() {
    let w = world();
    let cases: [(&str, &str, Option<u64>); 10] = [
        (
            "change a byte",
            "UPDATE entries SET leaf = CAST(REPLACE(CAST(leaf AS TEXT), '500 shells', '900 shells') AS BLOB) WHERE idx = 11",
            Some(11),
        ),
        (
            "delete an entry",
            "DELETE FROM entries WHERE idx = 10",
            Some(10),
        ),
        (
            "reorder two entries",
            "UPDATE entries SET idx = -1 WHERE idx = 9; UPDATE entries SET idx = 9 WHERE idx = 10; UPDATE entries SET idx = 10 WHERE idx = -1",
            Some(9),
        ),
        (
            "drop the last entry",
            "DELETE FROM entries WHERE idx = 12",
            Some(12),
        ),
        (
            "zero a statement hash",
            "UPDATE entries SET stmt_hash = zeroblob(32), stmt_key = 0 WHERE idx = 12",
            Some(12),
        ),
        (
            "zero a leaf hash",
            "UPDATE entries SET leaf_hash = zeroblob(32) WHERE idx = 12",
            Some(12),
        ),
        (
            "null a reference",
            "UPDATE entries SET ref = NULL WHERE idx = 12",
            Some(12),
        ),
        (
            "change a kind",
            "UPDATE entries SET kind = 'pledge' WHERE idx = 9",
            Some(9),
        ),
        (
            "change an author",
            "UPDATE entries SET author = 'PL' WHERE idx = 11",
            Some(11),
        ),
        (
            "insert a row at index -1",
            "INSERT INTO entries SELECT -1, leaf, leaf_hash, stmt_hash, stmt_key, kind, author, ref FROM entries WHERE idx = 12",
            Some(0),
        ),
    ];
    for (name, sql, entry) in cases {
        let dir = tempfile::tempdir().unwrap();
        let mut ledger = Ledger::open(fresh(dir.path(), &w), &w.compact).unwrap();
        populate(&mut ledger, &w);
        let store = ledger.store();
        store
            .connection()
            .execute_batch(&format!(
                "PRAGMA defer_foreign_keys = ON; BEGIN; {sql}; COMMIT;"
            ))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let report = audit_ok(store, &w);
        assert!(!report.ok(), "{name}: not detected");
        assert!(
            report.problems.iter().any(|p| p.entry == entry),
            "{name}: {:?}",
            report.problems
        );
    }
}

#[test]
fn a_fork_shown_in_two_checkpoints_is_reported() {
    let w = world();
    let (a_dir, b_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let mut a = Ledger::open(fresh(a_dir.path(), &w), &w.compact).unwrap();
    let mut b = Ledger::open(fresh(b_dir.path(), &w), &w.compact).unwrap();
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

#[test]
fn foreign_and_truncated_files_are_not_stores() {
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
    let empty = dir.path().join("empty.sqlite");
    rusqlite_free_empty_db(&empty);
    let err = SqliteStore::open(&empty).unwrap_err();
    assert!(err.to_string().contains("not a compact store"), "{err}");
    let err = Ledger::open(
        SqliteStore::create(&dir.path().join("other.sqlite"), "another-compact").unwrap(),
        &w.compact,
    )
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("holds the log of `another-compact`"),
        "{err}"
    );
}

/// An SQLite database without the store's tables.
fn rusqlite_free_empty_db(path: &std::path::Path) {
    let store = SqliteStore::create(path, "x").unwrap();
    store
        .connection()
        .execute_batch("DROP TABLE meta;")
        .unwrap();
}

/// R2: random byte changes in stored entries, and random deletions, are every one detected.
mod random_tampering {
    use super::*;
    use proptest::prelude::*;

    /// A store of 21 entries, built once; each case works on a copy of the file.
    fn template() -> &'static (tempfile::TempDir, World) {
        static T: std::sync::OnceLock<(tempfile::TempDir, World)> = std::sync::OnceLock::new();
        T.get_or_init(|| {
            let w = world();
            let dir = tempfile::tempdir().unwrap();
            let mut ledger = Ledger::open(fresh(dir.path(), &w), &w.compact).unwrap();
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
            ledger
                .store()
                .connection()
                .execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")
                .unwrap();
            (dir, w)
        })
    }

    fn copy() -> (tempfile::TempDir, SqliteStore) {
        let (dir, _) = template();
        let to = tempfile::tempdir().unwrap();
        std::fs::copy(dir.path().join("log.sqlite"), to.path().join("log.sqlite")).unwrap();
        let store = SqliteStore::open(&to.path().join("log.sqlite")).unwrap();
        (to, store)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(32))]

        #[test]
        fn a_changed_byte_is_detected(entry in 0i64..21, at in any::<prop::sample::Index>(), xor in 1u8..=255) {
            let (_d, store) = copy();
            let c = store.connection();
            let mut leaf: Vec<u8> = c.query_row("SELECT leaf FROM entries WHERE idx = ?1", [entry], |r| r.get(0)).unwrap();
            let i = at.index(leaf.len());
            leaf[i] ^= xor;
            c.execute("UPDATE entries SET leaf = ?1 WHERE idx = ?2", (leaf, entry)).unwrap();
            let report = audit(&store, &template().1.compact, &[], None, &mut |_| {}).unwrap();
            prop_assert!(!report.ok());
            prop_assert!(report.problems.iter().any(|p| p.entry == Some(entry as u64)), "{:?}", report.problems);
        }

        #[test]
        fn a_deleted_or_swapped_entry_is_detected(a in 0i64..21, b in 0i64..21, delete in any::<bool>()) {
            prop_assume!(a != b || delete);
            let (_d, store) = copy();
            let c = store.connection();
            if delete {
                c.execute("DELETE FROM entries WHERE idx = ?1", [a]).unwrap();
            } else {
                c.execute_batch(&format!(
                    "UPDATE entries SET idx = -1 WHERE idx = {a}; UPDATE entries SET idx = {a} WHERE idx = {b}; UPDATE entries SET idx = {b} WHERE idx = -1;"
                )).unwrap();
            }
            let report = audit(&store, &template().1.compact, &[], None, &mut |_| {}).unwrap();
            prop_assert!(!report.ok());
            let first = if delete { a } else { a.min(b) };
            prop_assert!(report.problems.iter().any(|p| p.entry == Some(first as u64)), "{:?}", report.problems);
        }

        /// Any stored column of any entry set to another value (another row's, zeros, a
        /// shifted index, NULL) is detected and named.
        #[test]
        fn a_changed_column_is_detected(entry in 0i64..21, column in 0usize..6, other in 0i64..21) {
            let (_d, store) = copy();
            let c = store.connection();
            let sql = match column {
                0 => format!("UPDATE entries SET leaf_hash = (SELECT leaf_hash FROM entries WHERE idx = {other}) WHERE idx = {entry}"),
                1 => format!("UPDATE entries SET stmt_hash = (SELECT stmt_hash FROM entries WHERE idx = {other}), stmt_key = (SELECT stmt_key FROM entries WHERE idx = {other}) WHERE idx = {entry}"),
                2 => format!("UPDATE entries SET kind = (SELECT kind FROM entries WHERE idx = {other}) WHERE idx = {entry}"),
                3 => format!("UPDATE entries SET author = (SELECT author FROM entries WHERE idx = {other}) WHERE idx = {entry}"),
                4 => format!("UPDATE entries SET ref = COALESCE(ref + 1, {other}) WHERE idx = {entry}"),
                _ => format!("UPDATE entries SET idx = {} WHERE idx = {entry}", 100 + other),
            };
            c.execute_batch(&sql).unwrap();
            let changed: i64 = c.query_row("SELECT changes()", [], |r| r.get(0)).unwrap();
            prop_assume!(changed > 0);
            // Setting a column to its own value changes nothing to detect.
            let report = audit(&store, &template().1.compact, &[], None, &mut |_| {}).unwrap();
            let same = (0..=3).contains(&column) && {
                let fresh = copy().1;
                let q = |s: &SqliteStore, col: &str| -> Vec<u8> {
                    s.connection().query_row(&format!("SELECT CAST({col} AS BLOB) FROM entries WHERE idx = ?1"), [entry], |r| r.get(0)).unwrap()
                };
                let col = ["leaf_hash", "stmt_hash", "kind", "author"][column];
                q(&fresh, col) == q(&store, col)
            };
            prop_assume!(!same);
            prop_assert!(!report.ok(), "column {column} of entry {entry} from {other}: not detected");
            prop_assert!(report.problems.iter().any(|p| p.entry == Some(entry as u64)), "{:?}", report.problems);
        }
    }
}

/// An audit reads one snapshot: appends made while it runs never make it report tampering,
/// whatever the interleaving (batches of random sizes, audits at random moments).
mod concurrent_audit {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(6))]

        #[test]
        fn appends_during_audits_raise_no_false_alarm(sizes in proptest::collection::vec(1usize..6, 4..10)) {
            let w = world();
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("log.sqlite");
            {
                let mut ledger = Ledger::open(fresh(dir.path(), &w), &w.compact).unwrap();
                populate(&mut ledger, &w);
            }
            let writer = {
                let path = path.clone();
                let sizes = sizes.clone();
                std::thread::spawn(move || {
                    let w = world();
                    let mut ledger =
                        Ledger::open(SqliteStore::open(&path).unwrap(), &w.compact).unwrap();
                    let mut n = 0;
                    for size in sizes {
                        let batch: Vec<Statement> = (0..size)
                            .map(|_| {
                                n += 1;
                                report(&w, &w.gb, "GB", "gb-tranches", &format!("{n} shells"))
                            })
                            .collect();
                        ledger.append(&batch, &w.operator.signer, Clock::Simulated).unwrap();
                    }
                })
            };
            let reader = SqliteStore::open_read_only(&path).unwrap();
            let mut audits = 0;
            while !writer.is_finished() || audits < 3 {
                let report = audit(&reader, &w.compact, &[], None, &mut |_| {}).unwrap();
                prop_assert!(report.ok(), "{:?}", report.problems);
                audits += 1;
            }
            writer.join().unwrap();
            let report = audit(&reader, &w.compact, &[], None, &mut |_| {}).unwrap();
            prop_assert!(report.ok(), "{:?}", report.problems);
            prop_assert_eq!(report.entries, GENESIS + 4 + sizes.iter().sum::<usize>() as u64);
        }
    }
}

/// A second writer waits for the first's lock; past its busy timeout it fails with a
/// transient error (not a refusal), and a batch prepared on a log that grew meanwhile is not
/// written.
#[test]
fn writers_wait_for_each_other_or_fail_transiently() {
    let w = world();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("log.sqlite");
    let mut first = Ledger::open(fresh(dir.path(), &w), &w.compact).unwrap();
    first
        .append(&w.genesis(), &w.operator.signer, Clock::Simulated)
        .unwrap();
    let second_store = SqliteStore::open(&path).unwrap();
    second_store
        .set_busy_timeout(std::time::Duration::from_millis(50))
        .unwrap();
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
