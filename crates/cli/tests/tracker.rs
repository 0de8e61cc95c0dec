//! `reconcile kiel` without a file: the tracker's yearly figures the compact carries, or the
//! data set's own, named above the table.

#![allow(clippy::expect_used, clippy::unwrap_used)]

mod common;

use common::{fresh_base, ok_in};

#[test]
fn reconcile_without_a_file_reads_the_data_sets_tracker_figures() {
    // The small compact carries no tracker file: the data set's own is used.
    let t = fresh_base("tracker", &["GB", "UA"]);
    let out = ok_in(t.path(), &["reconcile", "kiel"]);
    assert!(
        out.contains("Tracker figures: Kiel Institute for the World Economy, Ukraine Support Tracker, Release 29"),
        "{out}"
    );
    assert!(out.contains("GB"), "{out}");
    let json = ok_in(t.path(), &["reconcile", "kiel", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["as_of"], "2026-04-30");
    assert!(
        v["source"].as_str().unwrap().contains("Release 29"),
        "{json}"
    );
}
