//! Clients that remember: a client keeps the largest checkpoint of each log it accepted
//! (`--state DIR`), and refuses a server or a store that later shows a smaller one (a
//! rollback), another root at the same size (a fork), a newer one that does not extend it, or,
//! with witnesses in `compact.toml`, one short of their quorum. Through the real binary and a
//! real server.

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use std::path::Path;

use common::{
    DELIVERY_REPORT, Listening, compact_in, copy_tree, ok_in as ok, signed_base, submit_args,
};

/// The store's files (the database and its write-ahead log) copied aside, or back.
fn copy_store(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for name in ["compact.sqlite", "compact.sqlite-wal", "compact.sqlite-shm"] {
        let _ = std::fs::remove_file(to.join(name));
        if from.join(name).exists() {
            std::fs::copy(from.join(name), to.join(name)).unwrap();
        }
    }
}

fn report(reference: &str) -> String {
    DELIVERY_REPORT.replace("GB-2024-17", reference)
}

#[test]
fn a_rolled_back_log_is_refused_by_a_client_that_saw_more() {
    let t = signed_base("remember-rollback");
    let d = t.path();
    let state = tempfile::tempdir().unwrap();
    let s = state.path().to_str().unwrap();
    let before = tempfile::tempdir().unwrap();
    copy_store(d, before.path());

    let server = Listening::serve(d);
    ok(
        d,
        &["log", "checkpoint", "--server", &server.url, "--state", s],
    );
    let payload = report("GB-1");
    let mut args = submit_args("keys/GB.key", "delivery.report", &payload, "2024-07-01").to_vec();
    args.extend(["--server", server.url.as_str()]);
    ok(d, &args);
    // Size 8, proved to extend size 7: accepted and remembered.
    let note = ok(
        d,
        &["log", "checkpoint", "--server", &server.url, "--state", s],
    );
    assert_eq!(note.lines().nth(1), Some("8"));
    drop(server);

    // The operator puts the store of size 7 back and serves it again.
    copy_store(before.path(), d);
    let server = Listening::serve(d);
    let run = compact_in(
        Some(d),
        &["log", "checkpoint", "--server", &server.url, "--state", s],
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("at size 7")
            && run.stderr.contains("smaller than the checkpoint of size 8"),
        "{}",
        run.stderr
    );
    // Every read through the server is refused alike, and so is the local audit.
    let run = compact_in(
        Some(d),
        &["log", "prove", "3", "--server", &server.url, "--state", s],
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    let run = compact_in(Some(d), &["verify", "--state", s]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("smaller than the checkpoint of size 8"),
        "{}",
        run.stderr
    );
    // A client that remembers nothing accepts it: what witnesses are for.
    ok(d, &["verify"]);
}

#[test]
fn two_histories_of_one_log_are_refused() {
    let t = signed_base("remember-fork");
    let one = t.path();
    let other_dir = tempfile::tempdir().unwrap();
    let other = other_dir.path();
    copy_tree(one, other);
    let state = tempfile::tempdir().unwrap();
    let s = state.path().to_str().unwrap();
    for (d, reference) in [(one, "GB-1"), (other, "GB-2")] {
        let payload = report(reference);
        ok(
            d,
            &submit_args("keys/GB.key", "delivery.report", &payload, "2024-07-01"),
        );
    }
    ok(one, &["verify", "--state", s]);
    // The same log (origin, operator key), size 8, another root.
    let run = compact_in(Some(other), &["verify", "--state", s]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("two histories"), "{}", run.stderr);
    // A checkpoint file of the other history is refused too, at that size; an older one of
    // the same log is not (it may check an older proof).
    std::fs::write(other.join("cp8"), ok(other, &["log", "checkpoint"])).unwrap();
    std::fs::write(
        other.join("proof.json"),
        ok(other, &["log", "prove", "7", "--format", "json"]),
    )
    .unwrap();
    let key = ok(other, &["log", "public-key"]);
    let run = compact_in(
        Some(other),
        &[
            "log",
            "verify-inclusion",
            "--proof",
            "proof.json",
            "--checkpoint",
            "cp8",
            "--key",
            key.trim(),
            "--state",
            s,
        ],
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("two histories"), "{}", run.stderr);
}

#[test]
fn a_checkpoint_short_of_the_witnesses_quorum_is_refused() {
    let t = signed_base("remember-quorum");
    let d = t.path();
    let vkey = common::witness_key(d, "w1.example", &[]);
    // A witness that nobody runs: the log cannot collect its cosignature.
    let toml = d.join("compact.toml");
    let mut text = std::fs::read_to_string(&toml).unwrap();
    text.push_str(&format!(
        "\n[[log.witnesses]]\nname = \"w1.example\"\nkey = \"{vkey}\"\nurl = \"http://127.0.0.1:9\"\n"
    ));
    std::fs::write(&toml, text).unwrap();
    let server = Listening::serve(d);
    let state = tempfile::tempdir().unwrap();
    let run = compact_in(
        Some(d),
        &[
            "log",
            "checkpoint",
            "--server",
            &server.url,
            "--state",
            state.path().to_str().unwrap(),
        ],
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("0 valid cosignature(s) of the 1 compact.toml's quorum asks"),
        "{}",
        run.stderr
    );
}
