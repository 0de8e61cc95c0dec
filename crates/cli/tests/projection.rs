//! The projection (the store's `records` table, one typed row per entry, which reports read
//! instead of decoding every leaf) against whoever holds the store: edited, deleted, added or
//! dropped with plain SQL, `compact verify` names the entry; an older store without it is
//! rebuilt once, and reads the same.

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::Path;

mod common;
use common::{STORE, count, fails_in as fails, json_in, ok_in as ok, populated, sql};

fn status_json(dir: &Path) -> serde_json::Value {
    json_in(
        dir,
        &["status", "--as-of", "2024-12-31", "--format", "json"],
    )
}

#[test]
fn every_append_writes_its_record_in_the_same_transaction() {
    let t = populated("projection-append");
    let d = t.path();
    assert_eq!(count(&d.join(STORE), "SELECT COUNT(*) FROM records"), 9);
    assert_eq!(
        count(
            &d.join(STORE),
            "SELECT COUNT(*) FROM meta WHERE key = 'projection' AND value = 'records/1'"
        ),
        1
    );
    let (kind, amount, date): (String, String, String) = rusqlite::Connection::open(d.join(STORE))
        .unwrap()
        .query_row(
            "SELECT kind, amount, date FROM records WHERE idx = 7",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!(
        (kind.as_str(), amount.as_str(), date.as_str()),
        ("delivery.report", "500 shells", "2024-06-30")
    );
    let verified = ok(d, &["verify"]);
    assert!(verified.starts_with("ok: 9 entries"), "{verified}");
}

#[test]
fn an_edited_record_is_named_by_verify_though_status_reads_it() {
    let t = populated("projection-edit");
    let d = t.path();
    let before = status_json(d);
    sql(
        &d.join(STORE),
        "UPDATE records SET amount = '5000 shells' WHERE idx = 7",
    );
    // Reports read the projection: the edit shows there until verify names it.
    assert_ne!(status_json(d), before);
    let err = fails(d, &["verify"]);
    assert!(
        err.contains(
            "error: entry 7: its row of the projection (records) does not match its leaf: amount (the database was altered)"
        ),
        "{err}"
    );
    assert!(err.contains("error: verification failed"), "{err}");
}

#[test]
fn a_record_pointed_elsewhere_or_given_another_author_is_named() {
    let t = populated("projection-columns");
    let d = t.path();
    sql(
        &d.join(STORE),
        "UPDATE records SET ref = 5, author = 'GB' WHERE idx = 8; UPDATE records SET received = received + 86400, date = '2024-06-01' WHERE idx = 7;",
    );
    let err = fails(d, &["verify"]);
    assert!(
        err.contains(
            "entry 8: its row of the projection (records) does not match its leaf: author, ref"
        ),
        "{err}"
    );
    assert!(
        err.contains(
            "entry 7: its row of the projection (records) does not match its leaf: received, date"
        ),
        "{err}"
    );
}

#[test]
fn a_deleted_record_is_named_by_verify() {
    let t = populated("projection-delete");
    let d = t.path();
    sql(&d.join(STORE), "DELETE FROM records WHERE idx = 8");
    let err = fails(d, &["verify"]);
    assert!(
        err.contains("error: entry 8: its row of the projection (records) is missing (the database was altered)"),
        "{err}"
    );
    // A report refuses a projection with a hole rather than reading around it.
    let err = fails(d, &["status", "--as-of", "2024-12-31"]);
    assert!(
        err.contains("the projection has no row for entry 8"),
        "{err}"
    );
}

#[test]
fn an_added_record_is_named_by_verify() {
    let t = populated("projection-add");
    let d = t.path();
    sql(&d.join(STORE),
        "INSERT INTO records (idx, kind, author, time, received, commitment, amount, date, reference) SELECT 9, kind, author, time, received, commitment, '99999 shells', date, 'forged' FROM records WHERE idx = 7;
         INSERT INTO records (idx, kind, author, time, payload) VALUES (-1, 'log.init', 'x', 0, '{}');",
    );
    let err = fails(d, &["verify"]);
    assert!(
        err.contains("the projection (records) holds a row for entry 9, which the log does not hold (the database was altered)"),
        "{err}"
    );
    assert!(
        err.contains(
            "the projection (records) holds a row for entry -1, which the log does not hold"
        ),
        "{err}"
    );
}

#[test]
fn a_dropped_projection_is_named_by_verify() {
    let t = populated("projection-drop");
    let d = t.path();
    sql(&d.join(STORE), "DROP TABLE records");
    let err = fails(d, &["verify"]);
    assert!(
        err.contains("the store keeps a projection (records/1) but its table cannot be read"),
        "{err}"
    );
}

#[test]
fn an_older_store_without_the_projection_is_rebuilt_once_and_reads_the_same() {
    let t = populated("projection-rebuild");
    let d = t.path();
    let before = status_json(d);
    let explain_before = ok(
        d,
        &[
            "explain",
            "gb-tranches",
            "--as-of",
            "2024-12-31",
            "--format",
            "json",
        ],
    );
    // As a store written before the projection: no table, no meta row.
    sql(
        &d.join(STORE),
        "DROP TABLE records; DELETE FROM meta WHERE key = 'projection'",
    );
    // An auditor (read-only) finds nothing wrong with an older store.
    let verified = ok(d, &["verify"]);
    assert!(verified.starts_with("ok: 9 entries"), "{verified}");
    // Opened to report, it is rebuilt once from the leaves, and reads the same.
    assert_eq!(status_json(d), before);
    assert_eq!(count(&d.join(STORE), "SELECT COUNT(*) FROM records"), 9);
    assert_eq!(
        count(
            &d.join(STORE),
            "SELECT COUNT(*) FROM meta WHERE key = 'projection' AND value = 'records/1'"
        ),
        1
    );
    assert_eq!(
        ok(
            d,
            &[
                "explain",
                "gb-tranches",
                "--as-of",
                "2024-12-31",
                "--format",
                "json"
            ]
        ),
        explain_before
    );
    let verified = ok(d, &["verify"]);
    assert!(verified.starts_with("ok: 9 entries"), "{verified}");
}
