//! Concurrent writers, killed imports and a busy store, through the real binary.

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};

use compact_statement::{Draft, Payload, Pledge, Statement};
use rand::rngs::StdRng;
use rand::{RngExt as _, SeedableRng as _};

mod common;
use common::{Run, ok_in as ok};

/// The exit code of a transient failure.
const TRANSIENT: i32 = 75;

fn run(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_compact"));
    // The statements are dated 2024: the log replays them at their own time.
    cmd.args(args)
        .current_dir(dir)
        .env("COMPACT_CLOCK", "replay");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run compact");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// `n` distinct pledges by GB, signed with its key in `dir`, as JSON lines (each line the
/// statement's exact leaf bytes).
fn pledges(dir: &Path, tag: &str, n: usize) -> Vec<String> {
    let key = fs::read_to_string(dir.join("keys/GB.key")).unwrap();
    let signer = compact_statement::keys::signer(&key).unwrap();
    let start: jiff::Timestamp = "2024-03-01T00:00:00Z".parse().unwrap();
    (0..n)
        .map(|i| {
            let st = Statement::sign(
                Draft {
                    compact: "test-compact".into(),
                    author: "GB".into(),
                    time: start
                        .checked_add(jiff::SignedDuration::from_secs(i as i64))
                        .unwrap(),
                    payload: Payload::Pledge(Pledge {
                        pillar: "weapons".into(),
                        commitment: None,
                        amount: format!("{} GBP", i + 1),
                        date: "2024-03-01".parse().unwrap(),
                        description: format!("{tag} {i}"),
                    }),
                },
                &signer,
            )
            .unwrap();
            String::from_utf8(st.leaf).unwrap()
        })
        .collect()
}

/// The entries before the statements of a test: the operator's log.init and GB's two keys.
const GENESIS: usize = 3;

/// Every entry after the genesis, by index, read with plain SQL: the statement as its author
/// signed it (the leaf without the log's receipt time).
fn leaves(dir: &Path) -> Vec<(i64, Vec<u8>)> {
    let store = compact_store_sqlite::SqliteStore::open(&dir.join("compact.sqlite")).unwrap();
    let c = store.connection();
    let mut stmt = c
        .prepare("SELECT idx, leaf FROM entries WHERE idx >= ?1 ORDER BY idx")
        .unwrap();
    stmt.query_map([GENESIS as i64], |r| {
        Ok((r.get(0)?, r.get::<_, Vec<u8>>(1)?))
    })
    .unwrap()
    .map(Result::unwrap)
    .map(|(i, leaf)| {
        let st = Statement::decode(&leaf).unwrap();
        assert!(st.received.is_some(), "entry {i} has no receipt time");
        (i, st.unreceived().unwrap().leaf)
    })
    .collect()
}

/// The genesis, then indices from it to n more, each once; `verify` passes.
fn dense_and_verified(dir: &Path, n: usize) {
    let rows = leaves(dir);
    let indices: Vec<i64> = rows.iter().map(|(i, _)| *i).collect();
    assert_eq!(
        indices,
        (GENESIS as i64..(GENESIS + n) as i64).collect::<Vec<_>>()
    );
    let verified = ok(dir, &["verify"]);
    assert!(
        verified.starts_with(&format!("ok: {} entries", GENESIS + n)),
        "{verified}"
    );
}

#[test]
fn eight_concurrent_submitters_wait_for_each_other() {
    let t = common::fresh_base("concurrent-submit", &["GB"]);
    let d = t.path();
    let results: Vec<Vec<Run>> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..8)
            .map(|w| {
                s.spawn(move || {
                    (0..25)
                        .map(|i| {
                            let payload = format!(
                                r#"{{"pillar":"weapons","amount":"{} GBP","date":"2024-03-01","description":"writer {w} pledge {i}"}}"#,
                                i + 1
                            );
                            run(
                                d,
                                &[
                                    "submit",
                                    "--key",
                                    "keys/GB.key",
                                    "--type",
                                    "pledge",
                                    "--payload",
                                    &payload,
                                    "--time",
                                    "2024-03-01",
                                ],
                                &[],
                            )
                        })
                        .collect()
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap()).collect()
    });
    for r in results.iter().flatten() {
        assert_eq!(r.code, 0, "a writer failed:\n{}", r.stderr);
    }
    dense_and_verified(d, 200);
}

#[test]
fn eight_concurrent_imports_and_a_repeated_one() {
    let t = common::fresh_base("concurrent-import", &["GB"]);
    let d = t.path();
    let mut all = BTreeSet::new();
    for w in 0..8 {
        let lines = pledges(d, &format!("importer {w}"), 25);
        all.extend(lines.iter().cloned());
        fs::write(d.join(format!("in-{w}.jsonl")), lines.join("\n") + "\n").unwrap();
    }
    let results: Vec<Run> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..8)
            .map(|w| {
                s.spawn(move || {
                    run(
                        d,
                        &["import", &format!("in-{w}.jsonl"), "--batch", "5"],
                        &[],
                    )
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap()).collect()
    });
    for r in &results {
        assert_eq!(r.code, 0, "an import failed:\n{}", r.stderr);
        assert!(
            r.stdout.starts_with("imported 25 statements"),
            "{}",
            r.stdout
        );
    }
    dense_and_verified(d, 200);
    let logged: BTreeSet<String> = leaves(d)
        .into_iter()
        .map(|(_, l)| String::from_utf8(l).unwrap())
        .collect();
    assert_eq!(logged, all);
    // Run again: everything is skipped and counted, nothing is written.
    let again = ok(d, &["import", "in-3.jsonl"]);
    assert_eq!(
        again.trim(),
        "imported 0 statements in 0 batches, 25 already in the log; the log now holds 203"
    );
    dense_and_verified(d, 200);
}

/// The largest `N` of the `import: N of M statements in the log` lines.
fn acknowledged(stderr: &str) -> usize {
    stderr
        .lines()
        .filter_map(|l| l.strip_prefix("import: "))
        .filter_map(|l| l.split(' ').next()?.parse().ok())
        .max()
        .unwrap_or(0)
}

#[test]
fn a_killed_import_completes_when_run_again() {
    const N: usize = 3000;
    let t = common::fresh_base("killed-import", &["GB"]);
    let d = t.path();
    let lines = pledges(d, "bulk", N);
    fs::write(d.join("bulk.jsonl"), lines.join("\n") + "\n").unwrap();
    let input: BTreeSet<&[u8]> = lines.iter().map(|l| l.as_bytes()).collect();
    // How long one whole import takes here (into another store) sets the scale of the kill
    // delays, so that kills land while the import writes on any machine.
    ok(d, &["init", "--database", "calibration.sqlite"]);
    let started = std::time::Instant::now();
    ok(
        d,
        &[
            "import",
            "bulk.jsonl",
            "--batch",
            "10",
            "--database",
            "calibration.sqlite",
        ],
    );
    let whole = u64::try_from(started.elapsed().as_millis())
        .unwrap()
        .max(30);
    let mut rng = StdRng::seed_from_u64(9);
    let mut interrupted = 0;
    for kill in 0..20 {
        let stderr_path = d.join(format!("stderr-{kill}"));
        let mut child = Command::new(env!("CARGO_BIN_EXE_compact"))
            .args(["import", "bulk.jsonl", "--batch", "10"])
            .env("COMPACT_CLOCK", "replay")
            .current_dir(d)
            .stdout(Stdio::null())
            .stderr(fs::File::create(&stderr_path).unwrap())
            .spawn()
            .unwrap();
        // Once the import reports writing (or has ended), a random delay, then SIGKILL.
        while child.try_wait().unwrap().is_none()
            && !fs::read_to_string(&stderr_path)
                .unwrap()
                .contains("import: ")
        {
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
        let delay = rng.random_range(0..whole / 20);
        std::thread::sleep(std::time::Duration::from_millis(delay));
        child.kill().unwrap();
        child.wait().unwrap();
        let stderr = fs::read_to_string(&stderr_path).unwrap();
        assert!(!stderr.contains("panicked"), "{stderr}");
        // Every statement acknowledged is in the log; the log is whole and holds only input.
        let rows = leaves(d);
        assert!(
            rows.len() >= acknowledged(&stderr),
            "kill {kill}: {} entries, {} acknowledged",
            rows.len(),
            acknowledged(&stderr)
        );
        assert!(rows.iter().all(|(_, l)| input.contains(l.as_slice())));
        if (1..N).contains(&rows.len()) {
            interrupted += 1;
        }
        let verified = ok(d, &["verify"]);
        assert!(verified.starts_with(&format!("ok: {} entries", GENESIS + rows.len())));
    }
    assert!(
        interrupted > 0,
        "no kill landed in the middle of the import"
    );
    let last = ok(d, &["import", "bulk.jsonl", "--batch", "10"]);
    assert!(
        last.trim().ends_with(&format!(
            "already in the log; the log now holds {}",
            GENESIS + N
        )),
        "{last}"
    );
    dense_and_verified(d, N);
    let logged: BTreeSet<Vec<u8>> = leaves(d).into_iter().map(|(_, l)| l).collect();
    assert_eq!(logged.len(), N);
    assert!(logged.iter().all(|l| input.contains(l.as_slice())));
}

#[test]
fn a_busy_store_is_a_transient_failure() {
    let t = common::fresh_base("busy", &["GB"]);
    let d = t.path();
    fs::write(d.join("one.jsonl"), pledges(d, "busy", 1).join("\n")).unwrap();
    let pledge = r#"{"pillar":"weapons","amount":"1 GBP","date":"2024-03-01","description":"x"}"#;
    let submit = [
        "submit",
        "--key",
        "keys/GB.key",
        "--type",
        "pledge",
        "--payload",
        pledge,
        "--time",
        "2024-03-02",
    ];
    let fast = [("COMPACT_BUSY_TIMEOUT_MS", "100")];
    {
        // Another process holds the write lock.
        let holder = compact_store_sqlite::SqliteStore::open(&d.join("compact.sqlite")).unwrap();
        holder
            .connection()
            .execute_batch("BEGIN IMMEDIATE")
            .unwrap();
        for args in [&submit[..], &["import", "one.jsonl"][..]] {
            let r = run(d, args, &fast);
            assert_eq!(r.code, TRANSIENT, "{args:?}: {}", r.stderr);
            assert!(r.stderr.contains("the store is busy"), "{}", r.stderr);
            assert!(
                r.stderr
                    .contains("a transient failure, not a refusal: run the command again"),
                "{}",
                r.stderr
            );
            assert!(!r.stderr.contains("refused"), "{}", r.stderr);
            assert_eq!(r.stderr.trim_end().lines().count(), 1, "{}", r.stderr);
        }
        holder.connection().execute_batch("ROLLBACK").unwrap();
    }
    // The lock released, the same commands succeed; a refusal is still exit 1.
    let r = run(d, &submit, &fast);
    assert_eq!(r.code, 0, "{}", r.stderr);
    ok(d, &["import", "one.jsonl"]);
    let r = run(
        d,
        &submit
            .map(|a| a.replace("pledge", "delivery.teleport"))
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
        &fast,
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    let r = run(d, &submit, &[("COMPACT_BUSY_TIMEOUT_MS", "soon")]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("COMPACT_BUSY_TIMEOUT_MS=`soon` is not a whole number of milliseconds"),
        "{}",
        r.stderr
    );
    dense_and_verified(d, 2);
}
