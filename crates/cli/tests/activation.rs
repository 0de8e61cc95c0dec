//! The activation protocol through the real binary: an attack declared, guarantors asked with
//! their deadlines, responses on time and late, refusals that write nothing, and the surges in
//! the status report.

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::{fails_in as fails, fresh_base, ok_in as ok, usage_in};

fn size(dir: &std::path::Path) -> String {
    ok(dir, &["log", "checkpoint"])
}

#[test]
fn an_attack_asks_the_guarantors_in_force_and_records_their_answers() {
    let t = fresh_base("act", &["GB", "UA", "JP"]);
    let d = t.path();
    // Entries 0-6: the operator's log.init, then the root and signing keys of GB, JP and UA.
    // gb-ua (attack clause, 24 h) signed by both; jp-ua signed by JP only: not in force.
    for (key, at) in [
        ("keys/GB.key", "2024-01-12"),
        ("keys/UA.key", "2024-01-12T15:00:00Z"),
    ] {
        ok(d, &["sign", "gb-ua", "--key", key, "--time", at]);
    }
    ok(
        d,
        &[
            "sign",
            "jp-ua",
            "--key",
            "keys/JP.key",
            "--time",
            "2024-06-13",
        ],
    );

    // Only the beneficiary declares.
    let before = size(d);
    let e = fails(
        d,
        &[
            "activate",
            "--key",
            "keys/GB.key",
            "--at",
            "2024-08-01T03:00:00Z",
            "--summary",
            "x",
            "--time",
            "2024-08-01T05:00:00Z",
        ],
    );
    assert!(e.contains("only the beneficiary"), "{e}");
    assert_eq!(size(d), before, "a refusal writes nothing");

    let out = ok(
        d,
        &[
            "activate",
            "--key",
            "keys/UA.key",
            "--at",
            "2024-08-01T03:00:00Z",
            "--summary",
            "missile strikes",
            "--time",
            "2024-08-01T05:00:00Z",
        ],
    );
    assert!(
        out.contains("entry 10: UA declared an armed attack"),
        "{out}"
    );
    assert!(out.contains("1 guarantors asked"), "{out}");
    assert!(
        out.contains("GB") && out.contains("2024-08-02T05:00:00Z"),
        "{out}"
    );
    assert!(!out.contains("JP"), "jp-ua is not in force: {out}");

    // JP was not asked; a response to an entry that is no activation; a malformed file.
    std::fs::write(
        d.join("m.json"),
        r#"[{"kind":"sanctions","description":"a package"}]"#,
    )
    .unwrap();
    let before = size(d);
    let e = fails(
        d,
        &[
            "respond",
            "10",
            "--key",
            "keys/JP.key",
            "--measures",
            "m.json",
        ],
    );
    assert!(e.contains("was not asked"), "{e}");
    let e = fails(
        d,
        &[
            "respond",
            "0",
            "--key",
            "keys/GB.key",
            "--measures",
            "m.json",
        ],
    );
    assert!(e.contains("not an activation"), "{e}");
    let e = fails(
        d,
        &[
            "respond",
            "42",
            "--key",
            "keys/GB.key",
            "--measures",
            "m.json",
        ],
    );
    assert!(e.contains("no activation at entry 42"), "{e}");
    std::fs::write(
        d.join("bad.toml"),
        "[[measures]]\nkind = \"sanctions\"\nwhat = 1\n",
    )
    .unwrap();
    let e = fails(
        d,
        &[
            "respond",
            "10",
            "--key",
            "keys/GB.key",
            "--measures",
            "bad.toml",
        ],
    );
    assert!(e.contains("bad.toml:3:1"), "{e}");
    std::fs::write(d.join("big.json"), vec![b' '; (1 << 20) + 1]).unwrap();
    let e = fails(
        d,
        &[
            "respond",
            "10",
            "--key",
            "keys/GB.key",
            "--measures",
            "big.json",
        ],
    );
    assert!(e.contains("the most a measures file may hold"), "{e}");
    let e = fails(
        d,
        &[
            "respond",
            "10",
            "--key",
            "keys/GB.key",
            "--measures",
            "none.json",
        ],
    );
    assert!(e.contains("none.json"), "{e}");
    let e = usage_in(
        d,
        &[
            "activate",
            "--key",
            "keys/UA.key",
            "--at",
            "yesterday",
            "--summary",
            "x",
        ],
    );
    assert!(
        e.contains("'--at <DATETIME>'") && e.contains("2024-01-12T10:00:00Z"),
        "{e}"
    );
    std::fs::write(d.join("bad.json"), r#"[{"kind":"sanctions"}]"#).unwrap();
    let e = fails(
        d,
        &[
            "respond",
            "10",
            "--key",
            "keys/GB.key",
            "--measures",
            "bad.json",
        ],
    );
    assert!(e.contains("bad.json:1:"), "{e}");
    assert_eq!(size(d), before);

    // Before the deadline: pending. After: missing.
    let j = ok(
        d,
        &[
            "activation",
            "10",
            "--at",
            "2024-08-01T12:00:00Z",
            "--format",
            "json",
        ],
    );
    let v: serde_json::Value = serde_json::from_str(&j).unwrap();
    assert_eq!(v["asked"][0]["state"], "pending");
    assert_eq!(v["asked"][0]["deadline"], "2024-08-02T05:00:00Z");
    let j = ok(
        d,
        &[
            "activation",
            "10",
            "--at",
            "2024-08-03T00:00:00Z",
            "--format",
            "json",
        ],
    );
    let v: serde_json::Value = serde_json::from_str(&j).unwrap();
    assert_eq!(v["asked"][0]["state"], "missing");

    // GB answers late; a second answer is refused.
    let out = ok(
        d,
        &[
            "respond",
            "10",
            "--key",
            "keys/GB.key",
            "--measures",
            "m.json",
            "--time",
            "2024-08-02T09:00:00Z",
        ],
    );
    assert!(out.contains("late"), "{out}");
    let e = fails(
        d,
        &[
            "respond",
            "10",
            "--key",
            "keys/GB.key",
            "--measures",
            "m.json",
            "--time",
            "2024-08-02T10:00:00Z",
        ],
    );
    assert!(e.contains("already answered"), "{e}");
    let table = ok(d, &["activation", "10", "--at", "2024-08-03T00:00:00Z"]);
    assert!(
        table.contains("late") && table.contains("sanctions: a package"),
        "{table}"
    );
    // What falls due: gb-once's surge (x1.5 of 2.5e9 GBP = 1.5625e9 EUR) within 30 days.
    assert!(
        table.contains("surge x1.5") && table.contains("1,562,500,000"),
        "{table}"
    );
    assert!(table.contains("2024-08-31"), "{table}");
    let list = ok(d, &["activation", "--at", "2024-08-03T00:00:00Z"]);
    assert!(list.contains("armed attack"), "{list}");

    // The status report shows the surge apart from the baseline.
    let j = ok(
        d,
        &[
            "status",
            "--as-of",
            "2024-09-01",
            "--by",
            "guarantor",
            "--format",
            "json",
        ],
    );
    let v: serde_json::Value = serde_json::from_str(&j).unwrap();
    assert_eq!(v["total"]["surge"], "1562500000.00");
    assert_eq!(v["total"]["due"], "0.00");
    // And burden sharing beside each guarantor's share, apart from it.
    let j = ok(d, &["burden", "--year", "2024", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&j).unwrap();
    let gb = v["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["party"] == "GB")
        .unwrap();
    assert_eq!(gb["surge"], "1562500000.00", "{gb}");
    let e = fails(d, &["activation", "42"]);
    assert!(e.contains("no activation at entry 42"), "{e}");
    // Entry 7 is GB's signature of gb-ua: no activation, and the error names the one there is.
    let e = fails(d, &["activation", "7"]);
    assert!(
        e.contains("no activation at entry 7 (activations: 10)"),
        "{e}"
    );
}

#[test]
fn accession_ends_what_its_clauses_end_and_the_report_says_so() {
    let t = fresh_base("acc", &["GB", "UA", "JP"]);
    let d = t.path();
    for (key, id, at) in [
        ("keys/GB.key", "gb-ua", "2024-01-12"),
        ("keys/UA.key", "gb-ua", "2024-01-12T15:00:00Z"),
        ("keys/JP.key", "jp-ua", "2024-06-13"),
        ("keys/UA.key", "jp-ua", "2024-06-13T15:00:00Z"),
    ] {
        ok(d, &["sign", id, "--key", key, "--time", at]);
    }
    // Only the beneficiary declares accession.
    let e = fails(
        d,
        &[
            "submit",
            "--key",
            "keys/GB.key",
            "--type",
            "accession.declare",
            "--payload",
            r#"{"on":"2024-12-01"}"#,
            "--time",
            "2024-12-01",
        ],
    );
    assert!(e.contains("only the beneficiary"), "{e}");
    ok(
        d,
        &[
            "submit",
            "--key",
            "keys/UA.key",
            "--type",
            "accession.declare",
            "--payload",
            r#"{"on":"2024-12-01"}"#,
            "--time",
            "2024-12-01",
        ],
    );
    let j = ok(d, &["status", "--as-of", "2025-01-15", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&j).unwrap();
    let ended: Vec<&str> = v["ended_on_accession"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["commitment"].as_str().unwrap())
        .collect();
    // gb-ua ends on accession (its clause says so); jp-ua carries on.
    assert!(
        ended.contains(&"gb-once") && ended.contains(&"gb-yearly"),
        "{ended:?}"
    );
    assert!(!ended.contains(&"jp-sanctions"), "{ended:?}");
    let table = ok(d, &["status", "--as-of", "2025-01-15"]);
    assert!(
        table.contains("Ended on the beneficiary's accession on 2024-12-01"),
        "{table}"
    );
    // gb-once (due 2024-12-31, after the accession) is no longer owed.
    let j = ok(
        d,
        &[
            "explain",
            "gb-once",
            "--as-of",
            "2025-01-15",
            "--format",
            "json",
        ],
    );
    let v: serde_json::Value = serde_json::from_str(&j).unwrap();
    assert_eq!(v["figures"]["status"], "ended");
    assert_eq!(v["figures"]["due"], "0");
}
