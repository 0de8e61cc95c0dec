//! Attacks on the log, replayed through the real binary (and plain SQL on `compact.sqlite`
//! where the attacker holds the file): each must be refused, writing nothing, or detected by
//! `compact verify`, which names the entry.

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::fs;
use std::path::Path;

mod common;
use common::{Run, compact_with_clock, fails_in as fails, ok_in as ok, sql};

/// The base fixture with GB's and UA's keys: entries 0 (log.init) to 4 (the keys); then
/// populated: both sign gb-ua (5, 6), GB reports a delivery (7), UA confirms it (8).
fn populated(seed: &str) -> tempfile::TempDir {
    let t = common::populated(seed);
    assert_eq!(size(t.path()), 9);
    t
}

fn submit_ok(d: &Path, key: &str, kind: &str, payload: &str, time: &str) -> String {
    ok(d, &common::submit_args(key, kind, payload, time))
}

fn submit_fails(d: &Path, key: &str, kind: &str, payload: &str, time: &str) -> String {
    fails(d, &common::submit_args(key, kind, payload, time))
}

/// Runs `compact` in `d` with the operator's clock fixed at `clock`.
fn at(d: &Path, clock: &str, args: &[&str]) -> Run {
    compact_with_clock(Some(d), Some(clock), args)
}

fn at_ok(d: &Path, clock: &str, args: &[&str]) -> Run {
    let r = at(d, clock, args);
    assert_eq!(
        r.code, 0,
        "compact {args:?} at {clock} failed:\n{}",
        r.stderr
    );
    r
}

fn at_fails(d: &Path, clock: &str, args: &[&str]) -> String {
    let r = at(d, clock, args);
    assert_eq!(
        r.code, 1,
        "compact {args:?} at {clock} should fail:\nstdout: {}\nstderr: {}",
        r.stdout, r.stderr
    );
    assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
    r.stderr
}

/// The log's size, from its latest checkpoint.
fn size(d: &Path) -> u64 {
    size_of(d, "compact.sqlite")
}

fn size_of(d: &Path, db: &str) -> u64 {
    let cp = ok(d, &["log", "checkpoint", "--database", db]);
    cp.lines().nth(1).unwrap().parse().unwrap()
}

/// Entry `i` as one import line (the statement as logged).
fn line(d: &Path, i: u64) -> String {
    let v: serde_json::Value =
        serde_json::from_str(&ok(d, &["log", "entry", &i.to_string()])).unwrap();
    v["statement"].to_string()
}

/// A copy of the store to tamper with, beside it.
fn copy_store(d: &Path, name: &str) -> String {
    fs::copy(d.join("compact.sqlite"), d.join(name)).unwrap();
    name.to_owned()
}

/// `compact verify` on `db`, which must fail; returns the error lines.
fn verify_fails(d: &Path, db: &str) -> String {
    let e = fails(d, &["verify", "--database", db]);
    assert!(e.contains("error: verification failed"), "{e}");
    e
}

// ---------------------------------------------------------------------------------------------
// a. Columns altered by SQL, a replay, rows outside the log.

#[test]
fn a_replay_after_the_duplicate_columns_are_wiped_is_refused_or_named() {
    let t = populated("attack-a");
    let d = t.path();
    let confirmation = line(d, 8);
    fs::write(d.join("confirm.jsonl"), format!("{confirmation}\n")).unwrap();

    // The attacker wipes what finds duplicates and what links the confirmation to its report.
    let db = copy_store(d, "wiped.sqlite");
    sql(
        &d.join(&db),
        "UPDATE entries SET leaf_hash = zeroblob(32), stmt_hash = zeroblob(32), ref = NULL WHERE idx = 8;",
    );
    // The wiped columns themselves are named.
    let e = verify_fails(d, &db);
    assert!(
        e.contains("error: entry 8: its stored leaf hash is not the hash of its bytes"),
        "{e}"
    );
    assert!(
        e.contains("error: entry 8: its stored statement hash, reference do not match its bytes"),
        "{e}"
    );
    // Re-importing the same confirmation: refused and nothing written, or, if the wiped
    // columns let it in, verify names it as a replay of entry 8.
    let r = common::compact_in(Some(d), &["import", "confirm.jsonl", "--database", &db]);
    assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
    if r.code == 0 {
        eprintln!("the replay was written: {}", r.stdout.trim());
        assert_eq!(size_of(d, &db), 10);
        let e = verify_fails(d, &db);
        assert!(
            e.contains("error: entry 9 replays entry 8: the same signed statement twice"),
            "{e}"
        );
    } else {
        assert_eq!(r.code, 1, "{}", r.stderr);
        assert!(
            r.stderr.contains("confirm.jsonl:1: refused:"),
            "{}",
            r.stderr
        );
        assert!(r.stderr.contains("(nothing was written)"), "{}", r.stderr);
        assert_eq!(size_of(d, &db), 9);
    }

    // Forced in by SQL: the same leaf again as entry 9, with every column as the log would
    // write it. Verify names the replay (and the row no checkpoint covers).
    let db = copy_store(d, "forced.sqlite");
    sql(
        &d.join(&db),
        "INSERT INTO entries (idx, leaf, leaf_hash, stmt_hash, stmt_key, kind, author, ref)
           SELECT 9, leaf, leaf_hash, stmt_hash, stmt_key, kind, author, ref FROM entries WHERE idx = 8;",
    );
    let e = verify_fails(d, &db);
    assert!(
        e.contains("error: entry 9 replays entry 8: the same signed statement twice"),
        "{e}"
    );
    assert!(
        e.contains("the store holds 10 entries, but its latest checkpoint covers only 9"),
        "{e}"
    );

    // The kind of the report changed by SQL.
    let db = copy_store(d, "kind.sqlite");
    sql(
        &d.join(&db),
        "UPDATE entries SET kind = 'pledge' WHERE idx = 7;",
    );
    let e = verify_fails(d, &db);
    assert!(
        e.contains("error: entry 7: its stored kind do not match its bytes"),
        "{e}"
    );

    // A row at index -1, before the log's first entry.
    let db = copy_store(d, "minus-one.sqlite");
    sql(
        &d.join(&db),
        "INSERT INTO entries (idx, leaf, leaf_hash, stmt_hash, stmt_key, kind, author, ref)
           SELECT -1, leaf, leaf_hash, stmt_hash, stmt_key, kind, author, ref FROM entries WHERE idx = 8;",
    );
    let e = verify_fails(d, &db);
    assert!(e.contains("a row is stored under index -1"), "{e}");

    // A gap: entry 8 moved to index 12.
    let db = copy_store(d, "gap.sqlite");
    sql(&d.join(&db), "UPDATE entries SET idx = 12 WHERE idx = 8;");
    let e = verify_fails(d, &db);
    assert!(
        e.contains("error: entry 8 is missing: the store skips from entry 8 to entry 12"),
        "{e}"
    );

    // The untouched store still verifies.
    assert!(ok(d, &["verify"]).starts_with("ok: 9 entries"));
}

// ---------------------------------------------------------------------------------------------
// b. A key slipped into a party file.

#[test]
fn a_key_added_to_a_party_file_signs_nothing() {
    let t = populated("attack-b");
    let d = t.path();
    fs::write(d.join("old.checkpoint"), ok(d, &["log", "checkpoint"])).unwrap();
    // A UA key made in another directory, never registered in this log.
    let elsewhere = tempfile::tempdir().unwrap();
    common::copy_tree(&common::fixtures().join("base"), elsewhere.path());
    ok(
        elsewhere.path(),
        &["keygen", "--party", "UA", "--seed", "forger"],
    );
    let other = fs::read_to_string(elsewhere.path().join("parties/UA.toml")).unwrap();
    let vkey = other
        .lines()
        .filter_map(|l| l.strip_prefix("key = "))
        .next_back()
        .unwrap()
        .trim_matches('"')
        .to_owned();
    assert!(vkey.starts_with("UA+"), "{vkey}");
    let party = d.join("parties/UA.toml");
    let mut text = fs::read_to_string(&party).unwrap();
    assert!(!text.contains(&vkey));
    text.push_str(&format!("\n[[keys]]\nkey = \"{vkey}\"\n"));
    fs::write(&party, text).unwrap();
    let forged = elsewhere.path().join("keys/UA.key").display().to_string();

    let e = submit_fails(
        d,
        &forged,
        "attack.declare",
        r#"{"at":"2024-07-04T03:00:00Z","summary":"a forged attack"}"#,
        "2024-07-04T05:00:00Z",
    );
    assert!(e.contains("not registered in the log"), "{e}");
    assert_eq!(size(d), 9, "nothing was written");
    let v = ok(d, &["verify", "--checkpoint", "old.checkpoint"]);
    assert!(v.starts_with("ok: 9 entries"), "{v}");
}

// ---------------------------------------------------------------------------------------------
// c. A thief, back-dating, the future, a rotation announced ahead.

#[test]
fn a_revoked_key_and_back_dating_gain_nothing() {
    let t = populated("attack-c");
    let d = t.path();
    fs::copy(d.join("keys/GB.key"), d.join("stolen.key")).unwrap();
    // GB rotates on 2024-08-01: the new key is registered, the old revoked from that moment.
    let r = at_ok(
        d,
        "2024-08-01T00:00:00Z",
        &["keygen", "--party", "GB", "--out", "keys/GB-2.key"],
    );
    assert!(
        r.stderr.contains("registered in the log: entries 9 to 10"),
        "{}",
        r.stderr
    );
    assert_eq!(size(d), 11);

    // The thief signs with the old key, dating the statement before the rotation.
    let pledge =
        r#"{"pillar":"weapons","amount":"1e9 GBP","date":"2024-07-30","description":"stolen"}"#;
    let args = |key: &'static str, time: &'static str| {
        vec![
            "submit",
            "--key",
            key,
            "--type",
            "pledge",
            "--payload",
            pledge,
            "--time",
            time,
        ]
    };
    let e = at_fails(
        d,
        "2024-08-02T00:00:00Z",
        &args("stolen.key", "2024-07-31T12:00:00Z"),
    );
    assert!(
        e.contains("does not sign statements received at 2024-08-02T00:00:00Z"),
        "{e}"
    );
    // Dated further back, it is refused all the same; and even the valid key cannot date a
    // statement more than 7 days before its receipt.
    let e = at_fails(
        d,
        "2024-08-02T00:00:00Z",
        &args("stolen.key", "2024-07-01T00:00:00Z"),
    );
    assert!(
        e.contains("does not sign statements received at 2024-08-02T00:00:00Z"),
        "{e}"
    );
    let e = at_fails(
        d,
        "2024-08-02T00:00:00Z",
        &args("keys/GB-2.key", "2024-07-20T00:00:00Z"),
    );
    assert!(
        e.contains("more than 7 days before the log received it"),
        "{e}"
    );
    assert_eq!(size(d), 11, "nothing was written");
    // The new key signs.
    let r = at_ok(
        d,
        "2024-08-02T00:00:00Z",
        &args("keys/GB-2.key", "2024-08-02T00:00:00Z"),
    );
    assert!(r.stdout.contains("entry 11: pledge by GB"), "{}", r.stdout);

    // An attack on 2024-08-05; GB must answer within 24 hours of the declaration.
    let r = at_ok(
        d,
        "2024-08-05T05:00:00Z",
        &[
            "activate",
            "--key",
            "keys/UA.key",
            "--at",
            "2024-08-05T03:00:00Z",
            "--summary",
            "missile strikes",
        ],
    );
    assert!(r.stdout.contains("entry 12: UA declared"), "{}", r.stdout);
    assert!(r.stdout.contains("2024-08-06T05:00:00Z"), "{}", r.stdout);
    fs::write(
        d.join("m.json"),
        r#"[{"kind":"sanctions","description":"a package"}]"#,
    )
    .unwrap();
    // GB answers a day late, dating its answer before the deadline: late all the same.
    let r = at_ok(
        d,
        "2024-08-07T05:00:00Z",
        &[
            "respond",
            "12",
            "--key",
            "keys/GB-2.key",
            "--measures",
            "m.json",
            "--time",
            "2024-08-06T01:00:00Z",
        ],
    );
    assert!(
        r.stdout
            .contains("entry 13: GB answered activation 12: late"),
        "{}",
        r.stdout
    );
    let r = at_ok(
        d,
        "2024-08-08T00:00:00Z",
        &["activation", "12", "--format", "json"],
    );
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["asked"][0]["state"], "late", "{v}");

    // A report from the future: dated 2030, or reporting a delivery of 2030.
    let e = at_fails(
        d,
        "2024-08-08T00:00:00Z",
        &[
            "submit",
            "--key",
            "keys/GB-2.key",
            "--type",
            "delivery.report",
            "--payload",
            &common::DELIVERY_REPORT.replace("GB-2024-17", "GB-2024-18"),
            "--time",
            "2030-01-01",
        ],
    );
    assert!(
        e.contains("a statement cannot be dated in the future"),
        "{e}"
    );
    let e = at_fails(
        d,
        "2024-08-08T00:00:00Z",
        &[
            "submit",
            "--key",
            "keys/GB-2.key",
            "--type",
            "delivery.report",
            "--payload",
            &common::DELIVERY_REPORT
                .replace("GB-2024-17", "GB-2024-18")
                .replace("2024-06-30", "2030-01-01"),
        ],
    );
    assert!(
        e.contains("reports an event of 2030-01-01, after the log received it on 2024-08-08"),
        "{e}"
    );
    assert_eq!(size(d), 14, "nothing was written");

    // A rotation announced ahead: the current key keeps signing until the new key's first
    // moment; the new key signs nothing before it.
    let r = at_ok(
        d,
        "2024-08-10T00:00:00Z",
        &[
            "keygen",
            "--party",
            "GB",
            "--out",
            "keys/GB-3.key",
            "--valid-from",
            "2024-09-01",
        ],
    );
    assert!(
        r.stderr.contains("registered in the log: entries 14 to 15"),
        "{}",
        r.stderr
    );
    let pledge_at = |key: &'static str, date: &'static str| {
        vec![
            "submit".to_owned(),
            "--key".to_owned(),
            key.to_owned(),
            "--type".to_owned(),
            "pledge".to_owned(),
            "--payload".to_owned(),
            format!(
                r#"{{"pillar":"weapons","amount":"1e6 GBP","date":"{date}","description":"by {key}"}}"#
            ),
        ]
    };
    let run = |clock: &str, args: Vec<String>| {
        let a: Vec<&str> = args.iter().map(String::as_str).collect();
        at(d, clock, &a)
    };
    let r = run(
        "2024-08-10T00:00:00Z",
        pledge_at("keys/GB-2.key", "2024-08-10"),
    );
    assert_eq!(r.code, 0, "no lockout: {}", r.stderr);
    assert!(r.stdout.contains("entry 16: pledge by GB"), "{}", r.stdout);
    let r = run(
        "2024-08-10T00:00:00Z",
        pledge_at("keys/GB-3.key", "2024-08-10"),
    );
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert!(
        r.stderr
            .contains("does not sign statements received at 2024-08-10T00:00:00Z"),
        "{}",
        r.stderr
    );
    assert_eq!(size(d), 17);
    // From the valid-from on, the new key signs and the old does not.
    let r = run(
        "2024-09-02T00:00:00Z",
        pledge_at("keys/GB-3.key", "2024-09-02"),
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = run(
        "2024-09-02T00:00:00Z",
        pledge_at("keys/GB-2.key", "2024-09-01"),
    );
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert!(r.stderr.contains("does not sign"), "{}", r.stderr);
    // A statement made without --time is dated by the operator's clock, whichever it is.
    let r = at_ok(
        d,
        "2024-09-03T00:00:00Z",
        &["threat", "--key", "keys/UA.key", "--level", "3"],
    );
    assert!(
        r.stdout.contains("entry 18: UA set the threat level to 3"),
        "{}",
        r.stdout
    );
    let out = ok(d, &["threat", "--key", "keys/UA.key", "--level", "2"]);
    assert!(
        out.contains("entry 19: UA set the threat level to 2"),
        "{out}"
    );
    let threat: serde_json::Value = serde_json::from_str(&ok(d, &["log", "entry", "19"])).unwrap();
    assert_eq!(
        threat["statement"]["time"], "2024-09-03T00:00:00Z",
        "the replay clock's now is the last receipt: {threat}"
    );
    assert!(ok(d, &["verify"]).starts_with("ok: 20 entries"));
}

// ---------------------------------------------------------------------------------------------
// d. The agreement file edited after both parties signed.

#[test]
fn an_agreement_edited_after_signing_does_not_govern() {
    let t = populated("attack-d");
    let d = t.path();
    let f = d.join("agreements/gb-ua.toml");
    let signed = fs::read_to_string(&f).unwrap();
    let edited = signed.replace("duration_years = 10", "duration_years = 12")
        + "\n[[commitments]]\nid = \"gb-new\"\npillar = \"weapons\"\ndescription = \"Added after signing\"\namount = \"1e9 GBP\"\nschedule.once = 2025-06-30\n";
    assert_ne!(signed, edited);
    fs::write(&f, edited).unwrap();
    ok(d, &["check"]);

    for args in [
        &["status", "--as-of", "2025-01-01"][..],
        &["agreements", "--as-of", "2025-01-01"][..],
    ] {
        let r = common::compact_in(Some(d), args);
        assert_eq!(r.code, 0, "{}", r.stderr);
        assert!(
            r.stderr.contains("is not the text both parties signed"),
            "{args:?}: {}",
            r.stderr
        );
    }
    let rows: serde_json::Value = serde_json::from_str(&ok(
        d,
        &["agreements", "--as-of", "2025-01-01", "--format", "json"],
    ))
    .unwrap();
    assert_eq!(rows[0]["note"], "working file differs from the signed text");

    // An allocation to the commitment the signed text does not hold.
    let e = submit_fails(
        d,
        "keys/GB.key",
        "allocation",
        r#"{"commitment":"gb-new","amount":"1e9 GBP","date":"2024-07-04","reference":"a1"}"#,
        "2024-07-04",
    );
    assert!(e.contains("unknown commitment `gb-new`"), "{e}");
    // A report within the edited twelve years, after the signed ten (to 2034-01-11).
    let e = at_fails(
        d,
        "2035-01-02T00:00:00Z",
        &[
            "submit",
            "--key",
            "keys/GB.key",
            "--type",
            "delivery.report",
            "--payload",
            &common::DELIVERY_REPORT
                .replace("GB-2024-17", "GB-2035-1")
                .replace("2024-06-30", "2035-01-01"),
        ],
    );
    assert!(
        e.contains(
            "agreement `gb-ua` is not in force on 2035-01-01 (in force 2024-01-12 to 2034-01-11)"
        ),
        "{e}"
    );
    assert_eq!(size(d), 9, "nothing was written");
}

// ---------------------------------------------------------------------------------------------
// e. Verify on a file it cannot write, and while another process appends.

#[cfg(unix)]
#[test]
fn verify_reads_a_read_only_store_without_changing_it() {
    use std::os::unix::fs::PermissionsExt as _;
    let t = populated("attack-e1");
    let d = t.path();
    let ro = d.join("ro");
    fs::create_dir(&ro).unwrap();
    fs::copy(d.join("compact.sqlite"), ro.join("compact.sqlite")).unwrap();
    let before = fs::read(ro.join("compact.sqlite")).unwrap();
    let files_before: Vec<_> = fs::read_dir(&ro)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    fs::set_permissions(ro.join("compact.sqlite"), fs::Permissions::from_mode(0o444)).unwrap();
    fs::set_permissions(&ro, fs::Permissions::from_mode(0o555)).unwrap();
    // Whether permissions bind here (they do not for root): a file in the directory.
    let binding = fs::write(ro.join("probe"), b"x").is_err();
    let _ = fs::remove_file(ro.join("probe"));
    if !binding {
        eprintln!(
            "permissions do not bind for this user: checking only that verify changes nothing"
        );
    }
    let r = common::compact_in(Some(d), &["verify", "--database", "ro/compact.sqlite"]);
    fs::set_permissions(&ro, fs::Permissions::from_mode(0o755)).unwrap();
    fs::set_permissions(ro.join("compact.sqlite"), fs::Permissions::from_mode(0o644)).unwrap();
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.starts_with("ok: 9 entries"), "{}", r.stdout);
    assert_eq!(
        fs::read(ro.join("compact.sqlite")).unwrap(),
        before,
        "the file's bytes"
    );
    if binding {
        let files_after: Vec<_> = fs::read_dir(&ro)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(
            files_before, files_after,
            "nothing written beside the store"
        );
    }
}

#[test]
fn verify_while_another_process_appends_finds_no_tampering() {
    let t = populated("attack-e2");
    let d = t.path().to_path_buf();
    let writer = {
        let d = d.clone();
        std::thread::spawn(move || {
            for i in 0..20 {
                let payload = format!(
                    r#"{{"pillar":"weapons","amount":"1 GBP","date":"2024-07-01","description":"pledge {i}"}}"#
                );
                let r = common::compact_in(
                    Some(&d),
                    &[
                        "submit",
                        "--key",
                        "keys/GB.key",
                        "--type",
                        "pledge",
                        "--payload",
                        &payload,
                    ],
                );
                assert_eq!(r.code, 0, "submit {i}: {}", r.stderr);
            }
        })
    };
    let mut sizes = Vec::new();
    for i in 0..20 {
        let r = common::compact_in(Some(&d), &["verify"]);
        assert_eq!(r.code, 0, "verify {i} while appending:\n{}", r.stderr);
        let n: u64 = r
            .stdout
            .strip_prefix("ok: ")
            .and_then(|s| s.split(' ').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("{}", r.stdout));
        sizes.push(n);
    }
    writer.join().unwrap();
    assert!(sizes.iter().all(|n| (9..=29).contains(n)), "{sizes:?}");
    assert!(ok(&d, &["verify"]).starts_with("ok: 29 entries"));
}

// ---------------------------------------------------------------------------------------------
// f. Another operator key; a size-0 checkpoint with a wrong root.

#[test]
fn another_operator_key_and_a_false_empty_checkpoint_are_detected() {
    let t = populated("attack-f");
    let d = t.path();
    let other = common::fresh_base("attack-f-other", &["GB"]);
    let other_key = ok(other.path(), &["log", "public-key"]).trim().to_owned();
    let ours = ok(d, &["log", "public-key"]).trim().to_owned();
    assert_ne!(other_key, ours);
    let e = fails(d, &["verify", "--operator-key", &other_key]);
    assert!(
        e.contains("(entry 0) is not the pinned operator key"),
        "{e}"
    );
    assert!(e.contains("error: verification failed"), "{e}");
    // Pinned to its own key, it verifies.
    assert!(ok(d, &["verify", "--operator-key", &ours]).starts_with("ok: 9 entries"));
    // compact.toml's `[log] operator_key` is the default pin.
    let toml = d.join("compact.toml");
    let text = fs::read_to_string(&toml).unwrap();
    assert!(text.contains(&ours), "{text}");
    fs::write(&toml, text.replace(&ours, &other_key)).unwrap();
    let e = fails(d, &["verify"]);
    assert!(
        e.contains("(entry 0) is not the pinned operator key"),
        "{e}"
    );
    fs::write(&toml, text).unwrap();

    // A size-0 checkpoint signed with the operator's own key, over a root that is not the
    // empty tree's.
    let (text, _) = compact_files::keys::read_private_key(&d.join("keys/operator.key")).unwrap();
    let signer = compact_statement::keys::signer(&text).unwrap();
    let note =
        compact_log::sign_checkpoint("test-compact", 0, compact_log::Hash([7u8; 32]), &signer)
            .unwrap();
    fs::write(d.join("empty.checkpoint"), note).unwrap();
    let e = fails(d, &["verify", "--checkpoint", "empty.checkpoint"]);
    assert!(
        e.contains("checkpoint empty.checkpoint is of size 0 but signs root 0707"),
        "{e}"
    );
    // The true empty root passes.
    let empty = compact_log::Hash(sha256(b""));
    let note = compact_log::sign_checkpoint("test-compact", 0, empty, &signer).unwrap();
    fs::write(d.join("empty.checkpoint"), note).unwrap();
    assert!(ok(d, &["verify", "--checkpoint", "empty.checkpoint"]).starts_with("ok: 9 entries"));
}

/// `status --as-of DAY`'s total due, in the compact's currency.
fn total_due(dir: &Path, day: &str) -> String {
    let v: serde_json::Value =
        serde_json::from_str(&ok(dir, &["status", "--as-of", day, "--format", "json"])).unwrap();
    v["total"]["due"].as_str().unwrap().to_owned()
}

fn sha256(bytes: &[u8]) -> [u8; 32] {
    use sha2::Digest as _;
    sha2::Sha256::digest(bytes).into()
}

// ---------------------------------------------------------------------------------------------
// g. An agreement's lifecycle, and an activation closed.

#[test]
fn suspension_termination_and_closing_are_enforced() {
    let t = populated("attack-g");
    let d = t.path();
    let reason =
        |agreement: &str, why: &str| format!(r#"{{"agreement":"{agreement}","reason":"{why}"}}"#);
    let allocation = |reference: &str, date: &str| {
        format!(
            r#"{{"commitment":"gb-once","amount":"1e8 GBP","date":"{date}","reference":"{reference}"}}"#
        )
    };
    let out = submit_ok(
        d,
        "keys/GB.key",
        "agreement.suspend",
        &reason("gb-ua", "a breach under review"),
        "2024-07-10",
    );
    assert!(out.contains("entry 9: agreement.suspend by GB"), "{out}");
    let e = submit_fails(
        d,
        "keys/GB.key",
        "allocation",
        &allocation("s1", "2024-07-11"),
        "2024-07-11",
    );
    assert!(
        e.contains("agreement `gb-ua` is suspended by `GB` since entry 9"),
        "{e}"
    );
    let rows: serde_json::Value = serde_json::from_str(&ok(
        d,
        &["agreements", "--as-of", "2024-07-11", "--format", "json"],
    ))
    .unwrap();
    assert_eq!(rows[0]["status"], "suspended");
    assert_eq!(rows[0]["note"], "suspended by GB (entry 9)");
    let e = submit_fails(
        d,
        "keys/UA.key",
        "agreement.resume",
        &reason("gb-ua", "we disagree"),
        "2024-07-12",
    );
    assert!(
        e.contains("only `GB`, which suspended agreement `gb-ua` at entry 9, may resume it"),
        "{e}"
    );
    assert_eq!(size(d), 10, "nothing was written");
    let out = submit_ok(
        d,
        "keys/GB.key",
        "agreement.resume",
        &reason("gb-ua", "review closed"),
        "2024-07-12",
    );
    assert!(out.contains("entry 10: agreement.resume by GB"), "{out}");
    let out = submit_ok(
        d,
        "keys/GB.key",
        "allocation",
        &allocation("s2", "2024-07-12"),
        "2024-07-12",
    );
    assert!(out.contains("entry 11: allocation by GB"), "{out}");

    // An activation the beneficiary closes: answers to it are refused from then on.
    let out = ok(
        d,
        &[
            "activate",
            "--key",
            "keys/UA.key",
            "--at",
            "2024-07-13T03:00:00Z",
            "--summary",
            "strikes",
            "--time",
            "2024-07-13T05:00:00Z",
        ],
    );
    assert!(out.contains("entry 12: UA declared"), "{out}");
    let e = submit_fails(
        d,
        "keys/GB.key",
        "activation.close",
        r#"{"activation":12,"reason":"not mine to close"}"#,
        "2024-07-13T06:00:00Z",
    );
    assert!(e.contains("only the beneficiary `UA`"), "{e}");
    let out = submit_ok(
        d,
        "keys/UA.key",
        "activation.close",
        r#"{"activation":12,"reason":"a false alarm"}"#,
        "2024-07-13T06:00:00Z",
    );
    assert!(out.contains("entry 13: activation.close by UA"), "{out}");
    fs::write(
        d.join("m.json"),
        r#"[{"kind":"sanctions","description":"a package"}]"#,
    )
    .unwrap();
    let e = fails(
        d,
        &[
            "respond",
            "12",
            "--key",
            "keys/GB.key",
            "--measures",
            "m.json",
            "--time",
            "2024-07-13T07:00:00Z",
        ],
    );
    assert!(
        e.contains("activation 12 was closed by the beneficiary at entry 13"),
        "{e}"
    );
    assert_eq!(size(d), 14, "nothing was written");

    // Termination by UA on 2024-07-20: the text states no notice period, six months assumed.
    let out = submit_ok(
        d,
        "keys/UA.key",
        "agreement.terminate",
        &reason("gb-ua", "accession talks"),
        "2024-07-20",
    );
    assert!(out.contains("entry 14: agreement.terminate by UA"), "{out}");
    let status_on = |day: &str| -> serde_json::Value {
        serde_json::from_str(&ok(d, &["agreements", "--as-of", day, "--format", "json"])).unwrap()
    };
    let before = status_on("2024-12-01");
    assert_eq!(before[0]["status"], "notice-given", "{before}");
    let note = before[0]["note"].as_str().unwrap();
    assert!(
        note.starts_with("notice by UA (entry 14), effective 2025-01-20"),
        "{note}"
    );
    assert!(note.contains("notice period assumed"), "{note}");
    assert_eq!(status_on("2025-02-01")[0]["status"], "terminated");
    // Allocations after the effective date are refused.
    let e = at_fails(
        d,
        "2025-02-01T00:00:00Z",
        &[
            "submit",
            "--key",
            "keys/GB.key",
            "--type",
            "allocation",
            "--payload",
            &allocation("t1", "2025-02-01"),
        ],
    );
    assert!(
        e.contains(
            "agreement `gb-ua` was terminated by `UA` (entry 14), with effect from 2025-01-20"
        ),
        "{e}"
    );

    // Nothing falls due from the effective date on: gb-tranches' second tranche (2025-06-30)
    // and gb-yearly's 2025 and 2026 years are not owed, where a store without the notice
    // owes them.
    let units_due = |dir: &Path, day: &str| -> Vec<(String, String)> {
        let v: serde_json::Value =
            serde_json::from_str(&ok(dir, &["status", "--as-of", day, "--format", "json"]))
                .unwrap();
        let mut u: Vec<(String, String)> = v["units"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| {
                (
                    u["unit"].as_str().unwrap().to_owned(),
                    u["due"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        u.sort();
        u
    };
    assert_eq!(units_due(d, "2025-01-19"), units_due(d, "2027-01-01"));
    assert_eq!(total_due(d, "2025-01-19"), total_due(d, "2027-01-01"));
    let control = populated("attack-g-control");
    let c = control.path();
    assert_eq!(units_due(c, "2025-01-19"), units_due(d, "2025-01-19"));
    assert_eq!(total_due(c, "2025-01-19"), total_due(d, "2025-01-19"));
    assert_ne!(
        units_due(c, "2025-01-19"),
        units_due(c, "2027-01-01"),
        "without the termination more falls due"
    );
    assert_ne!(total_due(c, "2025-01-19"), total_due(c, "2027-01-01"));
    // `status` says so, in JSON and on the page, with the assumed notice marked.
    let json: serde_json::Value = serde_json::from_str(&ok(
        d,
        &["status", "--as-of", "2025-02-01", "--format", "json"],
    ))
    .unwrap();
    let row = &json["lifecycle"][0];
    assert_eq!(row["agreement"], "gb-ua", "{json}");
    assert_eq!(row["state"], "terminated");
    assert_eq!(row["effective"], "2025-01-20");
    assert_eq!(row["notice_assumed"], true);
    let table = ok(d, &["status", "--as-of", "2025-01-10"]);
    assert!(
        table.contains("gb-ua: terminated by UA (entry 14) with effect from 2025-01-20 (a notice period of 6 months assumed: the text states none)"),
        "{table}"
    );
    assert!(ok(d, &["verify"]).starts_with("ok: 15 entries"));
}

// ---------------------------------------------------------------------------------------------
// Times and dates on the command line: parsed strictly, never truncated.

#[test]
fn times_and_dates_are_parsed_strictly_and_never_truncated() {
    let t = populated("strict-times");
    let d = t.path();
    let print = |time: &str| {
        common::compact_with_clock(
            Some(d),
            Some("2026-05-02T00:00:00Z"),
            &[
                "submit",
                "--print",
                "--key",
                "keys/UA.key",
                "--type",
                "threat.level",
                "--payload",
                r#"{"level":2,"from":"2026-05-01T00:00:00Z"}"#,
                "--time",
                time,
            ],
        )
    };
    for refused in [
        "2026-05-01 04:00",
        "2026-05-01T04:00",
        "2026-05-01T04:00:00.5Z",
        "30/04/2026",
        "2026-05-01T04:00:00",
    ] {
        let r = print(refused);
        // A usage error: the value and the option named, with the accepted forms.
        assert_eq!(r.code, 2, "{refused}: {}", r.stderr);
        assert!(
            r.stderr
                .contains(&format!("invalid value '{refused}' for '--time <TIME>'"))
                && r.stderr.contains("2024-01-12T13:00:00+03:00")
                && !r.stderr.contains("jiff")
                && !r.stderr.contains("four digit"),
            "{refused}: {}",
            r.stderr
        );
    }
    // An RFC 3339 time keeps its offset: Kyiv's 04:00 is 01:00 UTC.
    let r = print("2026-05-01T04:00:00+03:00");
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains(r#""time":"2026-05-01T01:00:00Z""#),
        "{}",
        r.stdout
    );
    let r = print("2026-05-01");
    assert!(
        r.stdout.contains(r#""time":"2026-05-01T00:00:00Z""#),
        "{}",
        r.stdout
    );
    // Dates are dates.
    for bad in ["30/04/2026", "2026-04-30T00:00:00Z", "2026-4-30"] {
        let e = common::usage_in(d, &["status", "--as-of", bad]);
        assert!(
            e.contains(&format!(
                "invalid value '{bad}' for '--as-of <DATE>': expected a date such as 2026-04-30 (YYYY-MM-DD)"
            )),
            "{bad}: {e}"
        );
    }
    // The operator's clock, too.
    let r = common::compact_with_clock(
        Some(d),
        Some("tomorrow"),
        &[
            "submit",
            "--key",
            "keys/UA.key",
            "--type",
            "threat.level",
            "--payload",
            r#"{"level":2,"from":"2026-05-01T00:00:00Z"}"#,
        ],
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("COMPACT_CLOCK"), "{}", r.stderr);
    assert!(
        r.stderr.contains("malformed time `tomorrow`"),
        "{}",
        r.stderr
    );
    assert_eq!(size(d), 9, "nothing was written");
}

// ---------------------------------------------------------------------------------------------
// A root key alone, and an operator key kept outside the directory.

#[test]
fn a_root_key_alone_and_an_operator_key_kept_elsewhere() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    common::copy_tree(&common::fixtures().join("base"), d);
    let vault = tempfile::tempdir().unwrap();
    let op = vault.path().join("operator.key");
    ok(
        d,
        &[
            "keygen",
            "--operator",
            "--seed",
            "vault",
            "--out",
            op.to_str().unwrap(),
        ],
    );
    assert!(!d.join("keys/operator.key").exists());
    // Without --operator-key, init looks in keys/ and says where.
    let e = fails(d, &["init"]);
    assert!(e.contains("operator.key"), "{e}");
    assert!(
        !d.join("compact.sqlite").exists(),
        "a failed init leaves no store"
    );
    ok(d, &["init", "--operator-key", op.to_str().unwrap()]);
    assert_eq!(size(d), 1);
    let pinned = fs::read_to_string(d.join("compact.toml")).unwrap();
    let logged = ok(d, &["log", "public-key"]);
    assert!(pinned.contains(logged.trim()), "{logged}");
    // Registering needs the operator's key: without it, no key is written either.
    let e = fails(d, &["keygen", "--party", "PL", "--root", "--seed", "vault"]);
    assert!(e.contains("operator.key"), "{e}");
    assert!(!d.join("keys/PL.root.key").exists());
    assert_eq!(size(d), 1);
    let with_op = |args: &[&str]| {
        let mut all = args.to_vec();
        all.extend(["--operator-key", op.to_str().unwrap()]);
        all.iter().map(|a| (*a).to_owned()).collect::<Vec<String>>()
    };
    let run = |args: &[&str]| {
        let a = with_op(args);
        common::compact_in(Some(d), &a.iter().map(String::as_str).collect::<Vec<_>>())
    };
    // PL's root key alone: registered (self-signed), and only once.
    let r = run(&["keygen", "--party", "PL", "--root", "--seed", "vault"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(d.join("keys/PL.root.key").exists());
    assert!(!d.join("keys/PL.key").exists());
    assert_eq!(size(d), 2);
    let r = run(&["keygen", "--party", "PL", "--root", "--seed", "vault"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr.contains("PL.root.key already exists"),
        "{}",
        r.stderr
    );
    assert_eq!(size(d), 2);
    // Its signing key, registered by that root.
    let r = run(&["keygen", "--party", "PL", "--seed", "vault"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(size(d), 3);
    let entry: serde_json::Value =
        serde_json::from_str(&ok(d, &["log", "entry", "2", "--format", "json"])).unwrap();
    assert_eq!(entry["statement"]["type"], "key.register");
    assert_eq!(entry["statement"]["payload"]["role"], "signing");
    // `--root` needs a party.
    let r = common::compact_in(Some(d), &["keygen", "--root"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
}
