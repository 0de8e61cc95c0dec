//! What a newcomer used to git, cargo or sqlite3 expects, through the binary: the log browsed
//! like `git log`, each statement type's payload with an example `submit` takes as it is,
//! shell completions, a man page, `--version` with the commit; and the figures that confused,
//! explained in the output itself.

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use common::{compact_in, fails_in as fails, json_in as json, ok_in as ok, populated};
use compact_statement::Kind;
use serde_json::Value;

/// The indices of a listing's entries.
fn indices(v: &Value) -> Vec<u64> {
    v["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["index"].as_u64().unwrap())
        .collect()
}

#[test]
fn the_log_is_browsed_newest_first_filtered_and_paged() {
    let t = populated("browse");
    let d = t.path();
    // Entries 0-4 the keys, 5-6 the signatures, 7 GB's report, 8 UA's confirmation.
    let all = json(d, &["log", "list", "--format", "json"]);
    assert_eq!(all["size"], 9);
    assert_eq!(all["matched"], 9);
    assert_eq!(all["order"], "newest-first");
    assert_eq!(indices(&all), (0..9).rev().collect::<Vec<_>>());
    let first = &all["entries"][1];
    assert_eq!(first["type"], "delivery.report");
    assert_eq!(first["author"], "GB");
    assert_eq!(first["received"], "2024-07-01T00:00:00Z");
    assert_eq!(
        first["summary"],
        "gb-tranches: 500 shells delivered 2024-06-30, ref GB-2024-17"
    );
    assert_eq!(all["entries"][0]["refers_to"], 7);
    assert_eq!(all["entries"][0]["payload"]["report"], 7);
    assert!(all["next_after"].is_null());

    // Oldest first; filters combine; party codes in any case.
    let v = json(d, &["log", "list", "--reverse", "--format", "json"]);
    assert_eq!(indices(&v), (0..9).collect::<Vec<_>>());
    let v = json(d, &["log", "list", "--party", " gb ", "--format", "json"]);
    assert_eq!(indices(&v), vec![7, 5, 2, 1]);
    let v = json(
        d,
        &[
            "log",
            "list",
            "--party",
            "gb",
            "--kind",
            "agreement.sign",
            "--format",
            "json",
        ],
    );
    assert_eq!(indices(&v), vec![5]);
    let v = json(
        d,
        &["log", "list", "--party", "test-compact", "--format", "json"],
    );
    assert_eq!(indices(&v), vec![0]);
    let v = json(
        d,
        &[
            "log",
            "list",
            "--from",
            "2024-07-01",
            "--to",
            "2024-07-02",
            "--format",
            "json",
        ],
    );
    assert_eq!(indices(&v), vec![7]);

    // Pages: --limit, then --after the last one shown.
    let v = json(d, &["log", "list", "--limit", "4", "--format", "json"]);
    assert_eq!(indices(&v), vec![8, 7, 6, 5]);
    assert_eq!(v["matched"], 9);
    assert_eq!(v["next_after"], 5);
    let v = json(
        d,
        &[
            "log", "list", "--limit", "4", "--after", "5", "--format", "json",
        ],
    );
    assert_eq!(indices(&v), vec![4, 3, 2, 1]);
    let v = json(
        d,
        &[
            "log",
            "list",
            "--reverse",
            "--after",
            "6",
            "--format",
            "json",
        ],
    );
    assert_eq!(indices(&v), vec![7, 8]);

    // The table: one line per entry, and how many there are.
    let table = ok(d, &["log", "list", "--limit", "2"]);
    assert!(table.contains("what it says"), "{table}");
    assert!(
        table.contains("confirms report 7: all received 2024-07-03"),
        "{table}"
    );
    assert!(table.contains("2 of 9 matching, 9 in the log"), "{table}");
    assert!(table.contains("more: add --after 7"), "{table}");
    let none = ok(d, &["log", "list", "--kind", "pledge"]);
    assert!(none.contains("no entry matches"), "{none}");

    // A retraction: the entry it retracts says so; the log keeps both.
    ok(
        d,
        &[
            "retract",
            "8",
            "--key",
            "keys/UA.key",
            "--reason",
            "confirmed by mistake",
            "--time",
            "2024-07-04",
        ],
    );
    let v = json(d, &["log", "list", "--limit", "2", "--format", "json"]);
    assert_eq!(indices(&v), vec![9, 8]);
    assert_eq!(v["entries"][0]["type"], "statement.retract");
    assert_eq!(
        v["entries"][0]["summary"],
        "retracts entry 8: confirmed by mistake"
    );
    assert_eq!(v["entries"][1]["retracted_by"], 9);
    assert!(v["entries"][0]["retracted_by"].is_null());
    let table = ok(d, &["log", "list", "--limit", "2"]);
    assert!(table.contains("(retracted by entry 9)"), "{table}");

    // Mistakes: did you mean.
    let e = fails(d, &["log", "list", "--party", "GX"]);
    assert!(e.contains("unknown party `GX`"), "{e}");
    let e = fails(d, &["log", "list", "--kind", "delivery.reprot"]);
    assert!(e.contains("did you mean `delivery.report`"), "{e}");
    let e = fails(
        d,
        &["log", "list", "--from", "2025-01-01", "--to", "2024-01-01"],
    );
    assert!(e.contains("is after --to"), "{e}");
    let e = common::usage_in(d, &["log", "list", "--from", "01/07/2024"]);
    assert!(e.contains("YYYY-MM-DD"), "{e}");
}

#[test]
fn every_type_has_a_schema_whose_example_submit_takes_as_it_is() {
    let t = populated("schema");
    let d = t.path();
    let list = ok(d, &["schema"]);
    for k in Kind::ALL {
        assert!(
            list.contains(k.as_str()),
            "{} is not listed:\n{list}",
            k.as_str()
        );
        let s = json(d, &["schema", k.as_str(), "--format", "json"]);
        assert_eq!(s["type"], k.as_str());
        assert!(!s["fields"].as_array().unwrap().is_empty(), "{s}");
        // The example, signed as it is (printed, not appended: the rules judge the log).
        let example = s["example"].to_string();
        let signed = ok(
            d,
            &[
                "submit",
                "--key",
                "keys/GB.key",
                "--type",
                k.as_str(),
                "--payload",
                &example,
                "--print",
            ],
        );
        assert!(
            signed.contains(&format!("\"type\":\"{}\"", k.as_str())),
            "{signed}"
        );
    }
    let one = ok(d, &["schema", "delivery.report"]);
    for s in [
        "delivery.report:",
        "Signed by the commitment's guarantor",
        "required",
        "optional",
        "allocation",
        "compact submit --type delivery.report",
    ] {
        assert!(one.contains(s), "{s}:\n{one}");
    }
    let e = common::usage_in(d, &["schema", "delivery.reprot"]);
    assert!(e.contains("did you mean `delivery.report`"), "{e}");
    // The example of the schema appends as it is.
    let s = json(d, &["schema", "allocation", "--format", "json"]);
    let out = ok(
        d,
        &common::submit_args(
            "keys/GB.key",
            "allocation",
            &s["example"].to_string(),
            "2024-07-05",
        ),
    );
    assert!(out.contains("entry 9: allocation by GB"), "{out}");

    // `submit --type T --help`: the command's help, then the payload.
    let help = ok(d, &["submit", "--type", "pledge", "--help"]);
    assert!(help.contains("Usage: compact submit"), "{help}");
    assert!(help.contains("The payload of pledge"), "{help}");
    assert!(
        help.contains("description") && help.contains("pillar"),
        "{help}"
    );
    // A payload that does not read points to its schema.
    let e = fails(
        d,
        &[
            "submit",
            "--key",
            "keys/GB.key",
            "--type",
            "delivery.report",
            "--payload",
            r#"{"commitment":"gb-tranches","amount":"5 shells"}"#,
        ],
    );
    assert!(
        e.contains("missing field") && e.contains("compact schema delivery.report"),
        "{e}"
    );
    let help = ok(d, &["submit", "--help"]);
    assert!(help.contains("compact schema TYPE"), "{help}");
}

#[test]
fn completions_man_page_and_version() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    for shell in ["bash", "zsh", "fish"] {
        let script = ok(d, &["completions", shell]);
        for sub in ["status", "schema", "submit", "completions", "list"] {
            assert!(script.contains(sub), "{shell}: no `{sub}`");
        }
    }
    let r = compact_in(Some(d), &["completions", "tcsh"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    let page = ok(d, &["man"]);
    assert!(page.starts_with(".ie") || page.contains(".TH"), "{page}");
    for sub in ["status", "schema", "completions", "log"] {
        assert!(page.contains(sub), "the man page lacks `{sub}`");
    }
    let out = ok(d, &["man", "--out-dir", "pages"]);
    assert!(out.contains("pages"), "{out}");
    assert!(d.join("pages/compact.1").exists());
    assert!(d.join("pages/compact-status.1").exists());

    let v = ok(d, &["--version"]);
    let commit = std::process::Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned());
    let expected = format!(
        "compact {} (commit {})\n",
        env!("CARGO_PKG_VERSION"),
        commit.as_deref().unwrap_or("unknown")
    );
    // Built from this checkout: its commit (a build outside git says `unknown`).
    if std::env::var("COMPACT_COMMIT").is_err() {
        assert_eq!(v, expected);
    }
    assert!(v.starts_with("compact ") && v.contains("(commit "), "{v}");
}

#[test]
fn the_figures_that_confused_are_explained_where_they_are_printed() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    common::copy_tree(&common::fixtures().join("base"), d);
    // gb-tranches (shells) gets a surge on an attack, as gb-once (money) has.
    let file = d.join("agreements/gb-ua.toml");
    let text = std::fs::read_to_string(&file).unwrap();
    let text = text.replacen(
        "[[commitments]]\nid = \"gb-share\"",
        "[[commitments.scaling]]\non = \"attack\"\nfactor = \"2\"\nwithin_days = 30\n\n[[commitments]]\nid = \"gb-share\"",
        1,
    );
    std::fs::write(&file, text).unwrap();
    for p in ["GB", "UA"] {
        ok(d, &["keygen", "--party", p, "--seed", "legend"]);
    }
    ok(d, &["keygen", "--operator", "--seed", "legend"]);
    ok(d, &["init"]);
    for (key, time) in [
        ("keys/GB.key", "2024-01-12"),
        ("keys/UA.key", "2024-01-12T15:00:00Z"),
    ] {
        ok(d, &["sign", "gb-ua", "--key", key, "--time", time]);
    }
    ok(
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
    // A delivery received later than the date asked for.
    ok(
        d,
        &common::submit_args(
            "keys/GB.key",
            "delivery.report",
            common::DELIVERY_REPORT,
            "2024-10-01",
        ),
    );

    // Status: how many entries count on the date; the units' surge; the legends.
    let s = ok(d, &["status", "--as-of", "2024-09-15"]);
    assert!(
        s.contains("9 entries in the log, 8 made on or before 2024-09-15 (the 1 later count for nothing yet)"),
        "{s}"
    );
    let units = s
        .lines()
        .find(|l| l.contains("unit") && l.contains("due"))
        .unwrap_or_else(|| panic!("no units table:\n{s}"));
    assert!(units.contains("surge"), "{units}\n{s}");
    assert!(s.contains("surge: due because an activation"), "{s}");
    assert!(
        s.contains("on time: the share of the confirmed deliveries"),
        "{s}"
    );
    let v = json(d, &["status", "--as-of", "2024-09-15", "--format", "json"]);
    assert_eq!(v["log_size"], 9);
    assert_eq!(v["entries_as_of"], 8);
    let gb = v["units"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["unit"] == "shells")
        .unwrap();
    assert_ne!(gb["surge"], "0", "{gb}");
    let s = ok(d, &["status", "--as-of", "2024-12-31"]);
    assert!(
        s.contains("9 entries in the log, all made on or before"),
        "{s}"
    );

    let s = ok(d, &["status", "--as-of", "2024-09-15", "--at-size", "7"]);
    assert!(
        s.contains("the log's first 7 entries, all made on or before 2024-09-15"),
        "{s}"
    );

    // The activations: labelled columns and a summary line.
    let a = ok(d, &["activation", "--at", "2024-08-03T00:00:00Z"]);
    assert!(
        a.contains("activation") && a.contains("what was declared"),
        "{a}"
    );
    assert!(a.contains("missile strikes"), "{a}");
    assert!(
        a.contains("1 activation (1 open); 1 guarantor asked to consult: 0 answered by the deadline, 0 late, 1 missing, 0 pending"),
        "{a}"
    );
    let a = ok(d, &["activation", "7", "--at", "2024-08-03T00:00:00Z"]);
    assert!(
        a.contains("answer's entry") && a.contains("1 guarantor asked"),
        "{a}"
    );

    // Burden: what the gap is against.
    let b = ok(d, &["burden", "--year", "2024"]);
    assert!(b.contains("gap to allocated"), "{b}");
    assert!(b.contains("confirmed deliveries are shown apart"), "{b}");

    // Stress: what P5, P50, P95 and P(meet) are.
    std::fs::write(
        d.join("stress.toml"),
        "[default]\nwithdrawal = 0.1\ndelay = [{ months = 0, probability = 1.0 }]\n",
    )
    .unwrap();
    let m = ok(d, &["stress", "--scenarios", "200"]);
    assert!(m.contains("P5, P50, P95: the support that 5%"), "{m}");
    assert!(m.contains("P(meet): the share of the scenarios"), "{m}");
}
