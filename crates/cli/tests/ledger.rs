//! Keys, signing, statements, the log and its audit, through the real binary.

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::fs;
use std::path::{Path, PathBuf};

mod common;
use common::{Backend, Run, fails_in as fails, ok_in as ok, usage_in};

fn compact_in(dir: &Path, args: &[&str]) -> Run {
    common::compact_in(Some(dir), args)
}

/// A fresh compact directory (the base fixture) with keys for GB, UA and the operator, and a
/// store: entry 0 is the operator's log.init, entries 1-2 GB's root and signing keys, entries
/// 3-4 UA's.
fn fresh(seed: &str) -> tempfile::TempDir {
    common::fresh_base(seed, &["GB", "UA"])
}

const REPORT: &str = r#"{"commitment":"gb-tranches","amount":"500 shells","date":"2024-06-30","reference":"GB-2024-17"}"#;

/// Both sign gb-ua, GB reports a delivery, UA confirms it: entries 5 to 8.
fn populate(dir: &Path) {
    ok(
        dir,
        &[
            "sign",
            "gb-ua",
            "--key",
            "keys/GB.key",
            "--time",
            "2024-01-12",
        ],
    );
    ok(
        dir,
        &[
            "sign",
            "gb-ua",
            "--key",
            "keys/UA.key",
            "--time",
            "2024-01-12T15:00:00Z",
        ],
    );
    ok(
        dir,
        &[
            "submit",
            "--key",
            "keys/GB.key",
            "--type",
            "delivery.report",
            "--payload",
            REPORT,
            "--time",
            "2024-07-01",
        ],
    );
    ok(
        dir,
        &[
            "submit",
            "--key",
            "keys/UA.key",
            "--type",
            "delivery.confirm",
            "--payload",
            r#"{"report":7,"date":"2024-07-03"}"#,
            "--time",
            "2024-07-03",
        ],
    );
}

fn size(dir: &Path) -> u64 {
    let cp = ok(dir, &["log", "checkpoint"]);
    cp.lines().nth(1).unwrap().parse().unwrap()
}

#[test]
fn the_whole_round_trip_and_a_changed_byte() {
    let t = fresh("round-trip");
    let d = t.path();
    populate(d);
    let rows: serde_json::Value = serde_json::from_str(&ok(
        d,
        &["agreements", "--format", "json", "--as-of", "2025-01-01"],
    ))
    .unwrap();
    assert_eq!(rows[0]["id"], "gb-ua");
    assert_eq!(rows[0]["status"], "in-force");
    assert_eq!(rows[1]["status"], "draft");
    let mut cols: Vec<&String> = rows[0].as_object().unwrap().keys().collect();
    cols.sort();
    assert_eq!(
        cols,
        [
            "beneficiary",
            "digest",
            "guarantor",
            "id",
            "note",
            "status",
            "version",
            "working_digest"
        ]
    );
    assert_eq!(rows[0]["digest"], rows[0]["working_digest"]);
    assert_eq!(rows[0]["note"], "");

    let checkpoint = ok(d, &["log", "checkpoint"]);
    assert!(checkpoint.starts_with("test-compact\n9\n"), "{checkpoint}");
    fs::write(d.join("cp"), &checkpoint).unwrap();
    let key = ok(d, &["log", "public-key"]).trim().to_owned();
    assert!(key.starts_with("test-compact+"));
    for i in 0..9 {
        let proof = ok(d, &["log", "prove", &i.to_string(), "--format", "json"]);
        let v: serde_json::Value = serde_json::from_str(&proof).unwrap();
        let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
        assert_eq!(
            keys,
            ["hashes", "index", "leaf_hash", "root_hash", "tree_size"]
        );
        fs::write(d.join("proof"), &proof).unwrap();
        let verdict = ok(
            d,
            &[
                "log",
                "verify-inclusion",
                "--proof",
                "proof",
                "--checkpoint",
                "cp",
                "--key",
                &key,
            ],
        );
        assert!(verdict.starts_with(&format!("ok: entry {i} ")), "{verdict}");
    }
    // The entry's leaf is the exact bytes, base64; its hash is the proof's leaf hash.
    let entry: serde_json::Value =
        serde_json::from_str(&ok(d, &["log", "entry", "7", "--format", "json"])).unwrap();
    assert_eq!(entry["index"], 7);
    assert_eq!(entry["statement"]["type"], "delivery.report");
    assert_eq!(entry["statement"]["payload"]["reference"], "GB-2024-17");
    let consistency = ok(d, &["log", "consistency", "1", "9", "--format", "json"]);
    fs::write(d.join("consistency"), &consistency).unwrap();
    ok(
        d,
        &[
            "log",
            "verify-consistency",
            "--proof",
            "consistency",
            "--checkpoint",
            "cp",
            "--key",
            &key,
        ],
    );

    let verified = ok(d, &["verify"]);
    assert!(
        verified.starts_with("ok: 9 entries, 5 checkpoints verified; root "),
        "{verified}"
    );

    // Change one stored byte of entry 7, as an attacker with the file would.
    let db = d.join("compact.sqlite");
    tamper::flip_byte_of_entry(&db, 7);
    let err = fails(d, &["verify"]);
    assert!(
        err.contains("error: entry 7 was changed after it was logged"),
        "{err}"
    );
    assert!(err.contains("error: verification failed"), "{err}");
}

/// Edits of the store with plain SQL, as someone holding the file could make.
mod tamper {
    use std::path::Path;

    pub fn flip_byte_of_entry(path: &Path, index: i64) {
        let store = compact_store_sqlite::SqliteStore::open(path).unwrap();
        let c = store.connection();
        let mut leaf: Vec<u8> = c
            .query_row("SELECT leaf FROM entries WHERE idx = ?1", [index], |r| {
                r.get(0)
            })
            .unwrap();
        let at = leaf.windows(3).position(|w| w == b"500").unwrap();
        leaf[at] = b'9';
        c.execute("UPDATE entries SET leaf = ?1 WHERE idx = ?2", (leaf, index))
            .unwrap();
    }
}

fn refusals_are_clear_and_write_nothing(b: &Backend) {
    let t = fresh("refusals");
    let d = t.path();
    b.adopt(d);
    populate(d);
    // Signing a version already signed.
    let err = fails(
        d,
        &[
            "sign",
            "gb-ua",
            "--key",
            "keys/GB.key",
            "--time",
            "2024-07-04",
        ],
    );
    assert!(
        err.contains("`GB` already signed `gb-ua` version 1 (entry 5)"),
        "{err}"
    );
    // A confirmation by anyone but the beneficiary.
    let err = fails(
        d,
        &[
            "submit",
            "--key",
            "keys/GB.key",
            "--type",
            "delivery.confirm",
            "--payload",
            r#"{"report":7,"date":"2024-07-03"}"#,
        ],
    );
    assert!(
        err.contains("only the beneficiary `UA` may make a delivery.confirm"),
        "{err}"
    );
    // Unknown fields and types.
    let err = fails(
        d,
        &[
            "submit",
            "--key",
            "keys/GB.key",
            "--type",
            "delivery.report",
            "--payload",
            r#"{"commitment":"gb-once","amount":"1 GBP","date":"2024-06-30","reference":"x","colour":"red"}"#,
        ],
    );
    assert!(err.contains("unknown field `colour`"), "{err}");
    let err = fails(
        d,
        &[
            "submit",
            "--key",
            "keys/GB.key",
            "--type",
            "delivery.teleport",
            "--payload",
            "{}",
        ],
    );
    assert!(
        err.contains("unknown statement type `delivery.teleport`"),
        "{err}"
    );
    assert_eq!(size(d), 9);

    // An import file: line 2 replays entry 7 (identical bytes): it is skipped and counted.
    let good = ok(
        d,
        &[
            "submit",
            "--key",
            "keys/GB.key",
            "--type",
            "delivery.report",
            "--payload",
            &REPORT.replace("GB-2024-17", "GB-2024-18"),
            "--time",
            "2024-07-05",
            "--print",
        ],
    );
    let entry: serde_json::Value = serde_json::from_str(&ok(d, &["log", "entry", "7"])).unwrap();
    let replay = entry["statement"].to_string();
    fs::write(d.join("bad.jsonl"), format!("{good}{{\"v\":1}}\n")).unwrap();
    let err = fails(d, &["import", "bad.jsonl"]);
    assert!(err.contains("bad.jsonl:2: malformed statement"), "{err}");
    // A refusal anywhere in the input writes nothing of it.
    let over = ok(
        d,
        &[
            "submit",
            "--key",
            "keys/UA.key",
            "--type",
            "delivery.confirm",
            "--payload",
            r#"{"report":7,"amount":"1 shells","date":"2024-07-04"}"#,
            "--time",
            "2024-07-04",
            "--print",
        ],
    );
    fs::write(d.join("over.jsonl"), format!("{good}{over}")).unwrap();
    let err = fails(d, &["import", "over.jsonl"]);
    assert!(
        err.contains("over.jsonl:2: refused: ") && err.contains("(nothing was written)"),
        "{err}"
    );
    assert_eq!(size(d), 9);
    fs::write(d.join("in.jsonl"), format!("{good}{replay}\n")).unwrap();
    assert_eq!(
        ok(d, &["import", "in.jsonl"]).trim(),
        "imported 1 statements in 1 batches, 1 already in the log; the log now holds 10"
    );
    assert_eq!(
        ok(d, &["import", "in.jsonl"]).trim(),
        "imported 0 statements in 0 batches, 2 already in the log; the log now holds 10"
    );
    assert!(ok(d, &["verify"]).starts_with("ok: 10 entries"));
}

fn keys_are_guarded(b: &Backend) {
    let t = fresh("keys");
    let d = t.path();
    b.adopt(d);
    let err = fails(d, &["keygen", "--party", "GB"]);
    assert!(
        err.contains("keys/GB.key already exists: refusing to overwrite a key"),
        "{err}"
    );
    let err = fails(d, &["keygen", "--party", "ZZ"]);
    assert!(err.contains("unknown party `ZZ`"), "{err}");
    let err = fails(d, &["keygen", "--operator"]);
    assert!(err.contains("already names an operator key"), "{err}");
    // A corrupt or truncated key file.
    let text = fs::read_to_string(d.join("keys/GB.key")).unwrap();
    fs::write(d.join("cut.key"), &text[..30]).unwrap();
    let err = fails(d, &["sign", "gb-ua", "--key", "cut.key"]);
    assert!(err.contains("not a private key"), "{err}");
    // Loose permissions: a warning, not a refusal.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        fs::set_permissions(d.join("keys/GB.key"), fs::Permissions::from_mode(0o644)).unwrap();
        let r = compact_in(
            d,
            &[
                "sign",
                "gb-ua",
                "--key",
                "keys/GB.key",
                "--time",
                "2024-01-12",
            ],
        );
        assert_eq!(r.code, 0, "{}", r.stderr);
        assert!(
            r.stderr
                .contains("warning: key file keys/GB.key has permissions 0644"),
            "{}",
            r.stderr
        );
    }
    // Rotation: a second key for GB, registered in the log by GB's root key, which revokes the
    // first from the moment the log receives the rotation (2024-02-01 on the operator's clock).
    // The party file records the keys for information only.
    let at = |clock: &str, args: &[&str]| common::compact_with_clock(Some(d), Some(clock), args);
    let r = at(
        "2024-02-01T00:00:00Z",
        &[
            "keygen",
            "--party",
            "GB",
            "--out",
            "keys/GB-2.key",
            "--seed",
            "second",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr.contains("registered in the log: entries 6 to 7"),
        "{}",
        r.stderr
    );
    let party = fs::read_to_string(d.join("parties/GB.toml")).unwrap();
    assert_eq!(party.matches("[[keys]]").count(), 2);
    assert_eq!(party.matches("retired_on").count(), 1);
    ok(d, &["check"]);
    let rotation: serde_json::Value = serde_json::from_str(&ok(d, &["log", "entry", "7"])).unwrap();
    assert_eq!(rotation["statement"]["type"], "key.revoke", "{rotation}");
    let pledge = r#"{"pillar":"weapons","amount":"1e6 GBP","date":"2024-01-15","description":"x"}"#;
    let before = size(d);
    let r = at(
        "2024-02-02T00:00:00Z",
        &[
            "submit",
            "--key",
            "keys/GB.key",
            "--type",
            "pledge",
            "--payload",
            pledge,
        ],
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("does not sign statements received at 2024-02-02T00:00:00Z"),
        "{}",
        r.stderr
    );
    assert_eq!(size(d), before, "a refusal writes nothing");
    let r = at(
        "2024-02-02T00:00:00Z",
        &[
            "submit",
            "--key",
            "keys/GB-2.key",
            "--type",
            "pledge",
            "--payload",
            pledge,
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("entry 8: pledge by GB"), "{}", r.stdout);
    assert!(ok(d, &["verify"]).starts_with("ok: 9 entries"));
}

#[test]
fn proofs_checkpoints_and_stores_from_elsewhere_are_refused() {
    let t = fresh("proofs");
    let d = t.path();
    populate(d);
    let err = fails(d, &["log", "entry", "9"]);
    assert!(
        err.contains("entry 9 is out of range: the log holds 9 entries"),
        "{err}"
    );
    let err = fails(d, &["log", "prove", "1", "--size", "12"]);
    assert!(
        err.contains("tree size 12 is beyond the log's 9 entries"),
        "{err}"
    );
    fs::write(d.join("cp"), ok(d, &["log", "checkpoint"])).unwrap();
    let key = ok(d, &["log", "public-key"]).trim().to_owned();
    // A proof for another tree size.
    fs::write(d.join("p3"), ok(d, &["log", "prove", "1", "--size", "3"])).unwrap();
    let err = fails(
        d,
        &[
            "log",
            "verify-inclusion",
            "--proof",
            "p3",
            "--checkpoint",
            "cp",
            "--key",
            &key,
        ],
    );
    assert!(
        err.contains("the proof is for tree size 3, the checkpoint for size 9"),
        "{err}"
    );
    // A checkpoint of another origin.
    let err = fails(
        d,
        &[
            "log",
            "verify-inclusion",
            "--proof",
            "p3",
            "--checkpoint",
            "cp",
            "--key",
            &key,
            "--origin",
            "elsewhere",
        ],
    );
    assert!(err.contains("checkpoint of another origin"), "{err}");
    // A proof that is not a proof.
    fs::write(d.join("junk"), "{\"index\": 1}").unwrap();
    let err = fails(
        d,
        &[
            "log",
            "verify-inclusion",
            "--proof",
            "junk",
            "--checkpoint",
            "cp",
            "--key",
            &key,
        ],
    );
    assert!(err.contains("junk: not an inclusion proof"), "{err}");
    // A foreign database file.
    fs::write(d.join("foreign.sqlite"), vec![7u8; 4096]).unwrap();
    let err = fails(d, &["verify", "--database", "foreign.sqlite"]);
    assert!(err.contains("not a compact store"), "{err}");
    let err = fails(d, &["verify", "--database", "missing.sqlite"]);
    assert!(
        err.contains("no store at missing.sqlite: run `compact init` first"),
        "{err}"
    );
}

#[test]
fn a_fork_between_two_stores_is_reported() {
    let a = fresh("fork");
    let b = fresh("fork");
    populate(a.path());
    // The same keys (same seed), the same first seven entries (log.init, keys, signatures),
    // then another report.
    ok(
        b.path(),
        &[
            "sign",
            "gb-ua",
            "--key",
            "keys/GB.key",
            "--time",
            "2024-01-12",
        ],
    );
    ok(
        b.path(),
        &[
            "sign",
            "gb-ua",
            "--key",
            "keys/UA.key",
            "--time",
            "2024-01-12T15:00:00Z",
        ],
    );
    ok(
        b.path(),
        &[
            "submit",
            "--key",
            "keys/GB.key",
            "--type",
            "delivery.report",
            "--payload",
            &REPORT.replace("500", "400"),
            "--time",
            "2024-07-01",
        ],
    );
    let other: PathBuf = b.path().join("b.checkpoint");
    fs::write(&other, ok(b.path(), &["log", "checkpoint"])).unwrap();
    let err = fails(
        a.path(),
        &["verify", "--checkpoint", &other.display().to_string()],
    );
    assert!(
        err.contains("does not match the log") && err.contains("a fork"),
        "{err}"
    );
}

#[test]
fn an_edited_agreement_is_flagged_and_the_signed_text_governs() {
    let t = fresh("changed");
    let d = t.path();
    populate(d);
    let f = d.join("agreements/gb-ua.toml");
    fs::write(
        &f,
        fs::read_to_string(&f)
            .unwrap()
            .replace("\"2.5e9 GBP\"", "\"2.4e9 GBP\""),
    )
    .unwrap();
    let r = compact_in(
        d,
        &["agreements", "--format", "json", "--as-of", "2025-01-01"],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr.contains("is not the text both parties signed"),
        "{}",
        r.stderr
    );
    let rows: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    // The signed text governs: the version both signed is in force, the working file is
    // flagged beside it.
    assert_eq!(rows[0]["id"], "gb-ua");
    assert_eq!(rows[0]["status"], "in-force");
    assert_eq!(rows[0]["note"], "working file differs from the signed text");
    assert_ne!(rows[0]["digest"], rows[0]["working_digest"]);
    // The figures follow the signed 2.5e9 GBP, not the edited 2.4e9 (0.8 GBP per EUR).
    let v: serde_json::Value = serde_json::from_str(&ok(
        d,
        &[
            "explain",
            "gb-once",
            "--as-of",
            "2025-01-01",
            "--format",
            "json",
        ],
    ))
    .unwrap();
    assert_eq!(v["figures"]["due"], "3125000000", "{v}");
    assert_eq!(v["schedule"][0]["amount"], "2500000000 GBP", "{v}");
    // The log still verifies: the signatures were of the text as it was.
    assert!(ok(d, &["verify"]).starts_with("ok: 9 entries"));
}

fn status_reads_the_log_at_a_date_and_a_size(b: &Backend) {
    let t = fresh("status");
    let d = t.path();
    b.adopt(d);
    populate(d);
    let json = |args: &[&str]| -> serde_json::Value { serde_json::from_str(&ok(d, args)).unwrap() };
    let v = json(&[
        "status",
        "--as-of",
        "2025-01-01",
        "--by",
        "commitment",
        "--format",
        "json",
    ]);
    assert_eq!(v["as_of"], "2025-01-01");
    assert_eq!(v["currency"], "EUR");
    assert_eq!(v["log_size"], 9);
    let row = |v: &serde_json::Value, key: &str| {
        v["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["key"] == key)
            .cloned()
            .unwrap()
    };
    // 2.5e9 GBP at 0.8 GBP per EUR, due 2024-12-31, nothing delivered.
    assert_eq!(row(&v, "gb-once")["due"], "3125000000.00");
    assert_eq!(row(&v, "gb-once")["arrears"], "3125000000.00");
    let shells = v["units"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["unit"] == "shells")
        .unwrap()
        .clone();
    assert_eq!(
        (shells["due"].as_str(), shells["confirmed"].as_str()),
        (Some("500"), Some("500"))
    );
    // The first eight entries: the confirmation is not among them.
    let v3 = json(&[
        "status",
        "--as-of",
        "2025-01-01",
        "--at-size",
        "8",
        "--format",
        "json",
    ]);
    assert_eq!(v3["log_size"], 8);
    let shells = v3["units"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["unit"] == "shells")
        .unwrap()
        .clone();
    assert_eq!(shells["confirmed"], "0");
    // Rows add up to the total whatever the grouping.
    for by in ["guarantor", "pillar", "year", "group", "commitment"] {
        let v = json(&[
            "status",
            "--as-of",
            "2026-01-01",
            "--by",
            by,
            "--format",
            "json",
        ]);
        let dec = |x: &serde_json::Value| {
            x.as_str()
                .unwrap()
                .parse::<rust_decimal::Decimal>()
                .unwrap()
        };
        for field in [
            "due",
            "surge",
            "allocated",
            "reported",
            "confirmed",
            "arrears",
        ] {
            let sum: rust_decimal::Decimal = v["rows"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| dec(&r[field]))
                .sum();
            assert_eq!(sum, dec(&v["total"][field]), "{by} {field}");
        }
    }
    let csv = ok(d, &["status", "--as-of", "2025-01-01", "--format", "csv"]);
    assert!(
        csv.starts_with(
            "guarantor,due,surge,allocated,outside,reported,confirmed,arrears,on_time_rate,synthetic,note\n"
        ),
        "{csv}"
    );
    assert!(csv.lines().last().unwrap().starts_with("total,"), "{csv}");
    assert!(
        usage_in(d, &["status", "--by", "colour"])
            .contains("[possible values: guarantor, pillar, year, group, commitment]")
    );
    assert!(
        fails(d, &["status", "--as-of", "2020-01-01"])
            .contains("is before the compact was adopted on 2022-09-13")
    );
    assert!(
        fails(d, &["status", "--at-size", "12"])
            .contains("--at-size 12 is beyond the log's 9 entries")
    );
}

fn explain_lists_the_schedule_and_the_entries_behind_a_figure(b: &Backend) {
    let t = fresh("explain");
    let d = t.path();
    b.adopt(d);
    populate(d);
    let v: serde_json::Value = serde_json::from_str(&ok(
        d,
        &[
            "explain",
            "gb-tranches",
            "--as-of",
            "2025-01-01",
            "--format",
            "json",
        ],
    ))
    .unwrap();
    assert_eq!(v["figures"]["confirmed"], "500");
    assert_eq!(v["figures"]["arrears"], "0");
    let entries: Vec<u64> = v["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["index"].as_u64().unwrap())
        .collect();
    assert_eq!(entries, [7, 8]);
    let schedule = v["schedule"].as_array().unwrap();
    assert_eq!(schedule.len(), 2);
    assert_eq!(schedule[0]["is_due"], true);
    assert_eq!(schedule[1]["is_due"], false);
    let table = ok(d, &["explain", "gb-tranches", "--as-of", "2025-01-01"]);
    assert!(
        table.starts_with("gb-tranches (gb-ua, GB, weapons): on-track as of 2025-01-01"),
        "{table}"
    );
    assert!(fails(d, &["explain", "gb-nothing"]).contains("unknown commitment `gb-nothing`"));
}

fn burden_rows_carry_the_fair_share_and_the_gap(b: &Backend) {
    let t = fresh("burden");
    let d = t.path();
    b.adopt(d);
    populate(d);
    let v: serde_json::Value =
        serde_json::from_str(&ok(d, &["burden", "--year", "2024", "--format", "json"])).unwrap();
    assert_eq!(v["gdp_year"], 2024);
    let row = &v["rows"][0];
    let mut keys: Vec<&String> = row.as_object().unwrap().keys().collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "allocated",
            "confirmed",
            "fair_share",
            "gap",
            "gdp_share",
            "outside",
            "party",
            "pct_gdp",
            "rank",
            "surge",
            "synthetic_figures"
        ]
    );
    assert_eq!(row["party"], "GB");
    assert_eq!(row["fair_share"], "40000000000.00");
    // NATO's basis: JP is not an ally; PL is, without a GDP figure.
    assert_eq!(v["basis"], "nato-allies");
    assert_eq!(v["without_gdp"], serde_json::json!(["PL"]));
    assert_eq!(v["others"][0]["party"], "JP");
    assert_eq!(v["others"][0]["reason"], "not a NATO ally");
    // Every guarantor, as an option, labelled.
    let all: serde_json::Value = serde_json::from_str(&ok(
        d,
        &[
            "burden",
            "--year",
            "2024",
            "--basis",
            "guarantors",
            "--format",
            "json",
        ],
    ))
    .unwrap();
    assert_eq!(all["basis"], "all-guarantors");
    assert_eq!(all["without_gdp"], serde_json::json!(["JP", "PL"]));
    assert!(
        fails(d, &["burden", "--baseline", "40 shells"]).contains("the baseline must be money")
    );
    assert!(fails(d, &["burden", "--year", "2023"]).contains("no GDP for 2023"));
}

fn reconcile_sets_the_log_beside_the_tracker(b: &Backend) {
    let t = fresh("reconcile");
    let d = t.path();
    b.adopt(d);
    populate(d);
    ok(
        d,
        &[
            "submit",
            "--key",
            "keys/GB.key",
            "--type",
            "allocation",
            "--time",
            "2024-07-04",
            "--payload",
            r#"{"commitment":"gb-once","amount":"0.8e9 GBP","date":"2024-03-01","reference":"a1"}"#,
        ],
    );
    let header = "\"country\",\"iso\",\"year\",\"month\",\"total\",\"financial\",\"humanitarian\",\"military\",\"commitments\",\"to_be_allocated\",\"gdp\",\"pct_gdp\"\n";
    let csv = format!(
        "{header}\"United Kingdom\",\"GBR\",2024,3,1.5,0,0.5,1.0,1.5,0,2647.5,0.05\n\"United Kingdom\",\"GBR\",2024,9,0.2,0.2,0,0,0.2,0,2647.5,0.01\n\"Austria\",\"AUT\",2024,1,0.1,0,0.1,0,0.1,0,400,0.02\n"
    );
    fs::write(d.join("kiel.csv"), &csv).unwrap();
    let v: serde_json::Value = serde_json::from_str(&ok(
        d,
        &["reconcile", "kiel", "kiel.csv", "--format", "json"],
    ))
    .unwrap();
    assert_eq!(v["as_of"], "2024-09-30");
    let lines = v["lines"].as_array().unwrap();
    let line = |cat: &str| {
        lines
            .iter()
            .find(|l| l["party"] == "GB" && l["year"] == 2024 && l["category"] == cat)
            .cloned()
            .unwrap()
    };
    // 0.8e9 GBP at 0.8 GBP per EUR: 1e9 EUR allocated in the log, 1e9 in the tracker.
    assert_eq!(line("military")["tracker"], "1000000000.00");
    assert_eq!(line("military")["log_allocated"], "1000000000.00");
    assert_eq!(line("military")["difference"], "0.00");
    // GB has no financial commitment: the tracker's 0.2e9 is outside the agreements, a
    // structural difference, not a gap.
    assert_eq!(line("financial")["outside"], "200000000.00");
    assert_eq!(line("financial")["difference"], "0.00");
    assert_eq!(
        (v["from"].as_i64(), v["to"].as_i64()),
        (Some(2024), Some(2024))
    );
    // Another period, asked for: nothing of the log in 2023.
    let v: serde_json::Value = serde_json::from_str(&ok(
        d,
        &[
            "reconcile",
            "kiel",
            "kiel.csv",
            "--from",
            "2023",
            "--to",
            "2023",
            "--format",
            "json",
        ],
    ))
    .unwrap();
    assert_eq!(v["lines"].as_array().unwrap().len(), 0);
    assert!(
        fails(
            d,
            &[
                "reconcile",
                "kiel",
                "kiel.csv",
                "--from",
                "2025",
                "--to",
                "2024"
            ]
        )
        .contains("--from 2025 is after --to 2024")
    );
    assert!(
        lines.iter().all(|l| l["party"] != "AT"),
        "donors that are not parties are left out"
    );
    // Bad input: a missing column, a value that is not a number.
    fs::write(
        d.join("short.csv"),
        "iso,year,month,military\nGBR,2024,1,1\n",
    )
    .unwrap();
    assert!(
        fails(d, &["reconcile", "kiel", "short.csv"])
            .contains("short.csv: missing column `financial`")
    );
    fs::write(d.join("nan.csv"), csv.replace(",1.0,1.5,", ",lots,1.5,")).unwrap();
    assert!(
        fails(d, &["reconcile", "kiel", "nan.csv"])
            .contains("nan.csv:2: column `military`: `lots` is not a number")
    );
    // The Release 29 file, where the shared data is present.
    let release = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/kiel-ust-release29/data_explorer.csv");
    if release.exists() {
        let v: serde_json::Value = serde_json::from_str(&ok(
            d,
            &[
                "reconcile",
                "kiel",
                &release.display().to_string(),
                "--format",
                "json",
            ],
        ))
        .unwrap();
        assert_eq!(v["as_of"], "2026-04-30");
        assert!(
            v["lines"]
                .as_array()
                .unwrap()
                .iter()
                .any(|l| l["party"] == "GB" && l["category"] == "military")
        );
    } else {
        eprintln!("skipped: {} is absent", release.display());
    }
}

/// `--at-size N` gives the figures of a store holding only the first N entries. `compact init`
/// makes the first five (log.init and the keys in `keys/`, the same bytes under the replay
/// clock); the rest are imported.
fn at_size_equals_a_store_of_the_first_entries(b: &Backend) {
    let t = fresh("at-size");
    let d = t.path();
    b.adopt(d);
    populate(d);
    let line = |db: Option<&str>, i: u64| -> String {
        let mut args = vec!["log", "entry"];
        let i = i.to_string();
        args.push(&i);
        if let Some(db) = db {
            args.extend(["--database", db]);
        }
        let v: serde_json::Value = serde_json::from_str(&ok(d, &args)).unwrap();
        v["statement"].to_string()
    };
    for n in 5..=9u64 {
        let db = format!("first-{n}.sqlite");
        ok(d, &["init", "--database", &db]);
        for i in 0..5 {
            assert_eq!(
                line(Some(&db), i),
                line(None, i),
                "entry {i} of a fresh init"
            );
        }
        if n > 5 {
            let lines: Vec<String> = (5..n).map(|i| line(None, i)).collect();
            fs::write(d.join("first.jsonl"), lines.join("\n") + "\n").unwrap();
            ok(d, &["import", "first.jsonl", "--database", &db]);
        }
        let cut = ok(
            d,
            &[
                "status",
                "--as-of",
                "2025-06-30",
                "--at-size",
                &n.to_string(),
                "--by",
                "commitment",
                "--format",
                "json",
            ],
        );
        let fresh_store = ok(
            d,
            &[
                "status",
                "--as-of",
                "2025-06-30",
                "--database",
                &db,
                "--by",
                "commitment",
                "--format",
                "json",
            ],
        );
        assert_eq!(cut, fresh_store, "at size {n}");
    }
}

fn more_bad_input_gets_clear_errors(b: &Backend) {
    let t = fresh("more-bad-input");
    let d = t.path();
    b.adopt(d);
    populate(d);
    assert!(
        fails(
            d,
            &[
                "submit",
                "--key",
                "keys/GB.key",
                "--type",
                "pledge",
                "--payload",
                "{not json"
            ]
        )
        .contains("the payload is not JSON")
    );
    assert!(
        usage_in(
            d,
            &["keygen", "--party", "PL", "--valid-from", "2024-13-01"]
        )
        .contains("invalid value '2024-13-01' for '--valid-from <TIME>'")
    );
    assert!(!d.join("keys/PL.root.key").exists() && !d.join("keys/PL.key").exists());
    assert!(
        usage_in(d, &["status", "--as-of", "yesterday"])
            .contains("invalid value 'yesterday' for '--as-of <DATE>'")
    );
    assert!(
        usage_in(d, &["agreements", "--as-of", "soon"])
            .contains("invalid value 'soon' for '--as-of <DATE>'")
    );
    assert!(
        usage_in(
            d,
            &["sign", "gb-ua", "--key", "keys/GB.key", "--time", "noon"]
        )
        .contains("invalid value 'noon' for '--time <TIME>'")
    );
    // A consistency proof checked against an older checkpoint it does not start from.
    fs::write(d.join("cp9"), ok(d, &["log", "checkpoint"])).unwrap();
    let key = ok(d, &["log", "public-key"]).trim().to_owned();
    fs::write(d.join("c"), ok(d, &["log", "consistency", "7", "9"])).unwrap();
    ok(
        d,
        &[
            "submit",
            "--key",
            "keys/GB.key",
            "--type",
            "pledge",
            "--payload",
            r#"{"pillar":"weapons","amount":"1 GBP","date":"2024-03-01","description":"x"}"#,
            "--time",
            "2024-07-04",
        ],
    );
    fs::write(d.join("cp10"), ok(d, &["log", "checkpoint"])).unwrap();
    fs::write(d.join("c910"), ok(d, &["log", "consistency", "9", "10"])).unwrap();
    ok(
        d,
        &[
            "log",
            "verify-consistency",
            "--proof",
            "c910",
            "--checkpoint",
            "cp10",
            "--old-checkpoint",
            "cp9",
            "--key",
            &key,
        ],
    );
    let err = fails(
        d,
        &[
            "log",
            "verify-consistency",
            "--proof",
            "c",
            "--checkpoint",
            "cp9",
            "--old-checkpoint",
            "cp10",
            "--key",
            &key,
        ],
    );
    assert!(err.contains("the old checkpoint is size 10"), "{err}");
    // An import file with a line that is not a statement names the line.
    fs::write(d.join("bad.jsonl"), "\n\n[1,2]\n").unwrap();
    assert!(fails(d, &["import", "bad.jsonl"]).contains("bad.jsonl:3: malformed statement"));
}

fn amounts_are_compared_exactly_and_numbers_are_i_json(b: &Backend) {
    let t = fresh("exact");
    let d = t.path();
    b.adopt(d);
    populate(d);
    let submit = |key: &str, kind: &str, payload: &str, time: &str| -> Run {
        compact_in(d, &common::submit_args(key, kind, payload, time))
    };
    let report =
        r#"{"commitment":"gb-once","amount":"1e18 GBP","date":"2024-08-01","reference":"big"}"#;
    let r = submit("keys/GB.key", "delivery.report", report, "2024-08-01");
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout.trim(), "entry 9: delivery.report by GB");
    let confirm = |amount: &str, time: &str| {
        submit(
            "keys/UA.key",
            "delivery.confirm",
            &format!(r#"{{"report":9,"amount":"{amount}","date":"2024-08-02"}}"#),
            time,
        )
    };
    // Up to the report exactly: 1e18 less the smallest unit, then that unit.
    assert_eq!(
        confirm("999999999999999999.9999999999 GBP", "2024-08-02").code,
        0
    );
    assert_eq!(confirm("0.0000000001 GBP", "2024-08-02T01:00:00Z").code, 0);
    // The smallest unit more is over-confirmation.
    let r = confirm("0.0000000001 GBP", "2024-08-02T02:00:00Z");
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr.contains(
            "confirmations of entry 9 would total 1000000000000000000.0000000001, more than the 1000000000000000000 reported"
        ),
        "{}",
        r.stderr
    );
    // A part so small that the sum would need rounding is refused, not rounded away.
    let r = confirm("1e-28 GBP", "2024-08-02T03:00:00Z");
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("the confirmations of entry 9 cannot be added exactly"),
        "{}",
        r.stderr
    );
    // An amount that an exact decimal cannot hold.
    let r = confirm(
        "100000000000000000.000000000001 GBP",
        "2024-08-02T04:00:00Z",
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("number `100000000000000000.000000000001` cannot be held exactly"),
        "{}",
        r.stderr
    );
    assert_eq!(size(d), 12);

    // I-JSON: 2^53 - 1 is a number every reader reads alike; 2^53 is refused, in `submit`...
    let print = |report: &str| {
        compact_in(
            d,
            &[
                "submit",
                "--key",
                "keys/UA.key",
                "--type",
                "delivery.confirm",
                "--payload",
                &format!(r#"{{"report":{report},"date":"2024-08-02"}}"#),
                "--time",
                "2024-08-03",
                "--print",
            ],
        )
    };
    let r = print("9007199254740991");
    assert_eq!(r.code, 0, "{}", r.stderr);
    let largest = r.stdout.trim().to_owned();
    assert!(
        largest.contains(r#""report":9007199254740991"#),
        "{largest}"
    );
    let r = print("9007199254740992");
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("the integer 9007199254740992 is beyond ±(2^53-1)"),
        "{}",
        r.stderr
    );
    let r = submit(
        "keys/UA.key",
        "delivery.confirm",
        r#"{"report":9,"report":10,"date":"2024-08-02"}"#,
        "2024-08-03",
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr.contains("the member `report` occurs twice"),
        "{}",
        r.stderr
    );
    // ... and in `import`: the largest integer decodes (and is then refused by the rules), one
    // more does not decode.
    fs::write(d.join("largest.jsonl"), format!("{largest}\n")).unwrap();
    let err = fails(d, &["import", "largest.jsonl"]);
    assert!(
        err.contains("largest.jsonl:1: refused: no entry 9007199254740991 in the log"),
        "{err}"
    );
    fs::write(
        d.join("beyond.jsonl"),
        largest.replace("9007199254740991", "9007199254740992") + "\n",
    )
    .unwrap();
    let err = fails(d, &["import", "beyond.jsonl"]);
    assert!(
        err.contains(
            "beyond.jsonl:1: malformed statement: the integer 9007199254740992 is beyond ±(2^53-1)"
        ),
        "{err}"
    );
    fs::write(
        d.join("twice.jsonl"),
        largest.replace(r#""v":1"#, r#""v":1,"v":1"#) + "\n",
    )
    .unwrap();
    let err = fails(d, &["import", "twice.jsonl"]);
    assert!(
        err.contains("twice.jsonl:1: malformed statement: duplicate field `v`"),
        "{err}"
    );
    assert_eq!(size(d), 12);
    assert!(ok(d, &["verify"]).starts_with("ok: 12 entries"));
}

#[cfg(unix)]
#[test]
fn files_are_written_safely_and_inputs_are_capped() {
    use std::os::unix::fs::PermissionsExt as _;
    let t = fresh("files");
    let d = t.path();
    populate(d);
    // A symlink planted at the temporary name of parties/PL.toml: never followed.
    fs::write(d.join("precious"), "untouched").unwrap();
    std::os::unix::fs::symlink(d.join("precious"), d.join("parties/PL.toml.tmp")).unwrap();
    ok(d, &["keygen", "--party", "PL", "--seed", "files"]);
    assert_eq!(fs::read_to_string(d.join("precious")).unwrap(), "untouched");
    assert!(
        fs::read_to_string(d.join("parties/PL.toml"))
            .unwrap()
            .contains("[[keys]]")
    );
    ok(d, &["check"]);
    for key in [
        "keys/GB.key",
        "keys/UA.key",
        "keys/PL.key",
        "keys/PL.root.key",
        "keys/operator.key",
    ] {
        let mode = fs::metadata(d.join(key)).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{key}");
    }
    // A symlink where a key file is to be written: refused, its target untouched.
    std::os::unix::fs::symlink(d.join("precious"), d.join("keys/JP.key")).unwrap();
    let err = fails(d, &["keygen", "--party", "JP"]);
    assert!(err.contains("keys/JP.key already exists"), "{err}");
    // Nothing was written for JP: not even its root key.
    assert!(!d.join("keys/JP.root.key").exists());
    assert_eq!(fs::read_to_string(d.join("precious")).unwrap(), "untouched");

    // Endless or oversized inputs: refused quickly, naming the cap.
    fs::write(d.join("cp"), ok(d, &["log", "checkpoint"])).unwrap();
    fs::write(d.join("proof"), ok(d, &["log", "prove", "1"])).unwrap();
    let key = ok(d, &["log", "public-key"]).trim().to_owned();
    let inclusion = |proof: &str, checkpoint: &str| {
        fails(
            d,
            &[
                "log",
                "verify-inclusion",
                "--proof",
                proof,
                "--checkpoint",
                checkpoint,
                "--key",
                &key,
            ],
        )
    };
    let err = inclusion("/dev/zero", "cp");
    assert!(
        err.contains("/dev/zero: larger than 1048576 bytes (1 MiB), the most a proof may hold"),
        "{err}"
    );
    let err = inclusion("proof", "/dev/zero");
    assert!(
        err.contains("/dev/zero: larger than 65536 bytes (64 KiB), the most a checkpoint may hold"),
        "{err}"
    );
    let err = fails(d, &["verify", "--checkpoint", "/dev/zero"]);
    assert!(err.contains("the most a checkpoint may hold"), "{err}");
    let err = fails(
        d,
        &[
            "submit",
            "--key",
            "keys/GB.key",
            "--type",
            "pledge",
            "--payload",
            "@/dev/zero",
        ],
    );
    assert!(
        err.contains(
            "/dev/zero: larger than 65536 bytes (64 KiB), the most a payload file may hold"
        ),
        "{err}"
    );
    let err = fails(
        d,
        &[
            "respond",
            "0",
            "--key",
            "keys/GB.key",
            "--measures",
            "/dev/zero",
        ],
    );
    assert!(err.contains("the most a measures file may hold"), "{err}");
    let err = fails(d, &["stress", "--scenarios", "10", "--risks", "/dev/zero"]);
    assert!(err.contains("the most a risks file may hold"), "{err}");
    let err = fails(d, &["import", "/dev/zero"]);
    assert!(
        err.contains(
            "/dev/zero:1: the line is longer than 65536 bytes (64 KiB), the largest statement"
        ),
        "{err}"
    );
    let long = format!("{{\"v\":1,\"pad\":\"{}\"}}\n", "x".repeat(70_000));
    fs::write(d.join("long.jsonl"), format!("\n{long}")).unwrap();
    let err = fails(d, &["import", "long.jsonl"]);
    assert!(
        err.contains("long.jsonl:2: the line is longer than 65536 bytes"),
        "{err}"
    );
    // keygen registered PL's root and signing keys: 2 entries.
    assert_eq!(size(d), 11);
}

// The CLI end to end on each backend: what it writes, refuses and reports is the same.
common::per_backend!(
    refusals_are_clear_and_write_nothing,
    keys_are_guarded,
    status_reads_the_log_at_a_date_and_a_size,
    explain_lists_the_schedule_and_the_entries_behind_a_figure,
    burden_rows_carry_the_fair_share_and_the_gap,
    reconcile_sets_the_log_beside_the_tracker,
    more_bad_input_gets_clear_errors,
    amounts_are_compared_exactly_and_numbers_are_i_json,
    at_size_equals_a_store_of_the_first_entries,
);
