//! Each benchmark runs on a small size and reports its figures in the form `bench/*.sh` reads.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[test]
fn the_log_benchmarks_run_and_report_their_figures() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("ingest");
    let b1 = compact_bench::ingest(&dir, 50, 10).unwrap();
    assert!(b1.lines.iter().any(|l| l == "B1 log size: 57"), "{b1:?}");
    let b2 = compact_bench::verify(&dir).unwrap();
    assert!(
        b2.lines
            .iter()
            .any(|l| l.starts_with("B2 verify: 57 entries")),
        "{b2:?}"
    );
    let mut notes = Vec::new();
    let b3 = compact_bench::proofs(&t.path().join("tree"), 100, 5, &mut |s| notes.push(s)).unwrap();
    assert_eq!(b3.lines.len(), 2, "{b3:?}");
    assert!(
        notes
            .iter()
            .any(|n| n.contains("built a tree of 100 leaves")),
        "{notes:?}"
    );
}

#[test]
fn the_status_and_stress_benchmarks_write_their_references_inputs() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("status");
    let b4 = compact_bench::status(&dir, 40, 7, 1, &mut |_| {}).unwrap();
    assert!(
        b4.lines.iter().any(|l| l.starts_with("B4_ENGINE_SECONDS=")),
        "{b4:?}"
    );
    for f in ["tranches.csv", "reports.csv", "confirms.csv", "engine.json"] {
        assert!(dir.join(f).exists(), "{f}");
    }
    assert!(
        compact_bench::status(&dir, 40, 7, 1, &mut |_| {}).is_err(),
        "DIR must be new"
    );
    let input = t.path().join("b5.json");
    let b5 = compact_bench::stress(20, 1, &input).unwrap();
    assert!(
        b5.lines.iter().any(|l| l.starts_with("B5_RUST_SECONDS=")),
        "{b5:?}"
    );
    assert!(input.exists());
}
