//! `compact digest`, `show` and `demo` through the real binary.

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::fs;
use std::path::{Path, PathBuf};

fn base() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/base")
}

mod common;

fn compact(args: &[&str]) -> (i32, String, String) {
    let r = common::compact_in(None, args);
    (r.code, r.stdout, r.stderr)
}

/// The digest of the base fixture's agreement. Signatures are made over digests, so a change
/// to the canonical form must be deliberate: it changes this value.
const GB_UA_DIGEST: &str = "11f279fbd1f835a8fc02f02f1e73ef4d78d8d7fd8a6924b56a1611997e1fbcd9";

/// The same agreement as the base fixture's, written differently: keys reordered, comments,
/// quoted dates, scientific and grouped numbers, `ends_on` for `duration_years`, tables as
/// inline tables and commitments in another order.
const GB_UA_REFORMATTED: &str = r#"
# Reformatted by hand.
source = "https://example.org/gb-ua"
on_accession = "end"   # ends on accession
ends_on = "2034-01-11"
in_force_from = "2024-01-12"
signed_on = 2024-01-12
title = "Test agreement between the United Kingdom and Ukraine"
beneficiary = "UA"
guarantor = "GB"
version = 1
id = "gb-ua"
consultation = { clause = "consult", on = "attack" }
clauses = [{ quote = "the Participants will consult within 24 hours", id = "consult" }]

[[commitments]]
synthetic = true
schedule = { yearly = { to = 2025, from = 2024 } }
amount = "0.250% GDP"
description = "A quarter of a percent of GDP"
pillar = "weapons"
id = "gb-share"

[[commitments]]
id = "gb-tranches"
pillar = "weapons"
description = "Shells in two tranches"
schedule.tranches = [
  { amount = "1.5e3 shells", due = 2025-06-30 },
  { amount = "500 shells", due = 2024-06-30 },
]

[[commitments]]
id = "gb-once"
pillar = "weapons"
description = "A one-off package"
clause = "consult"
amount = "2_500_000_000 GBP"
schedule.once = 2024-12-31
scaling = [{ within_days = 30, factor = "1.50", on = "attack" }]

[[commitments]]
id = "gb-yearly"
pillar = "training"
description = "Trainees every year"
amount = "1e3 trainees"
schedule.yearly = { from = 2024, to = 2026, due = "12-31" }
"#;

#[test]
fn digest_is_stable_across_reformatting_and_changes_with_meaning() {
    let original = base().join("agreements/gb-ua.toml");
    let (code, out, err) = compact(&["digest", &original.display().to_string()]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.trim(), GB_UA_DIGEST);

    let dir = tempfile::tempdir().expect("temp dir");
    let reformatted = dir.path().join("gb-ua.toml");
    fs::write(&reformatted, GB_UA_REFORMATTED).expect("write");
    let (code, out, err) = compact(&["digest", &reformatted.display().to_string()]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.trim(), GB_UA_DIGEST, "reformatting changed the digest");

    let changed = dir.path().join("changed.toml");
    fs::write(
        &changed,
        GB_UA_REFORMATTED.replace("2_500_000_000 GBP", "2_500_000_001 GBP"),
    )
    .expect("write");
    let (code, out, _) = compact(&["digest", &changed.display().to_string()]);
    assert_eq!(code, 0);
    assert_ne!(
        out.trim(),
        GB_UA_DIGEST,
        "changing an amount kept the digest"
    );

    let (code, json, _) = compact(&[
        "digest",
        "--format",
        "json",
        &original.display().to_string(),
    ]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&json).expect("json");
    assert_eq!(v["digest"], GB_UA_DIGEST);
    assert_eq!(v["id"], "gb-ua");
    assert_eq!(v["version"], 1);

    let (code, canonical, _) = compact(&["digest", "--canonical", &original.display().to_string()]);
    assert_eq!(code, 0);
    assert!(
        canonical.starts_with(r#"{"agreement":{"beneficiary":"UA","clauses":[{"id":"consult""#),
        "{canonical}"
    );
    assert!(
        canonical
            .trim_end()
            .ends_with(r#""format":"compact-agreement/1"}"#),
        "{canonical}"
    );
}

#[test]
fn digest_of_a_bad_file_is_an_error_with_its_place() {
    let dir = tempfile::tempdir().expect("temp dir");
    let bad = dir.path().join("bad.toml");
    fs::write(
        &bad,
        GB_UA_REFORMATTED.replace("\"500 shells\"", "\"0 shells\""),
    )
    .expect("write");
    let (code, out, err) = compact(&["digest", &bad.display().to_string()]);
    assert_eq!(code, 1);
    assert!(out.is_empty());
    assert!(
        err.contains(&format!(
            "{}:30:14: error: amount must be greater than zero, got 0",
            bad.display()
        )),
        "{err}"
    );

    let (code, _, err) = compact(&["digest", "/nonexistent/a.toml"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("/nonexistent/a.toml: error: cannot read: no such file or directory"),
        "{err}"
    );
}

#[test]
fn show_agreement_prints_terms_commitments_and_json() {
    let dir = base().display().to_string();
    let (code, out, err) = compact(&["show", "agreement", "gb-ua", "--dir", &dir]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.starts_with("gb-ua version 1: Test agreement between the United Kingdom and Ukraine")
    );
    assert!(
        out.contains("2024-01-12 to 2034-01-11 (inclusive)"),
        "{out}"
    );
    assert!(
        out.contains("within 24 hours of an armed attack (clause consult)"),
        "{out}"
    );
    assert!(out.contains(&format!("sha256:{GB_UA_DIGEST}")), "{out}");
    assert!(out.contains("x1.5 on attack, within 30 days"), "{out}");

    let (code, json, _) = compact(&[
        "show",
        "agreement",
        "gb-ua",
        "--dir",
        &dir,
        "--format",
        "json",
    ]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&json).expect("json");
    assert_eq!(v["digest"], GB_UA_DIGEST);
    let commitments = v["agreement"]["commitments"].as_array().expect("array");
    let ids: Vec<&str> = commitments
        .iter()
        .filter_map(|c| c["id"].as_str())
        .collect();
    assert_eq!(ids, ["gb-once", "gb-share", "gb-tranches", "gb-yearly"]);
    assert_eq!(commitments[0]["schedule"]["amount"], "2500000000 GBP");
    assert_eq!(commitments[0]["schedule"]["kind"], "once");

    let (code, _, err) = compact(&["show", "agreement", "nope", "--dir", &dir]);
    assert_eq!(code, 1);
    assert!(
        err.contains("error: unknown agreement `nope`; the known ones are: gb-ua, jp-ua"),
        "{err}"
    );
    let (code, _, err) = compact(&["show", "agreement", "gb-au", "--dir", &dir]);
    assert_eq!(code, 1);
    assert!(
        err.contains("error: unknown agreement `gb-au`; did you mean `gb-ua`?"),
        "{err}"
    );
    let (code, _, err) = compact(&[
        "show",
        "agreement",
        "gb-ua",
        "--version",
        "7",
        "--dir",
        &dir,
    ]);
    assert_eq!(code, 1);
    assert!(err.contains("agreement `gb-ua` has no version 7"), "{err}");
}

#[test]
fn check_json_summary_values_money_in_the_reporting_currency() {
    let (code, json, err) = compact(&["check", &base().display().to_string(), "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&json).expect("json");
    // 2024: 2.5e9 GBP at 0.8 GBP per EUR (3.125e9) + 100e6 EUR, sourced; 0.25% of 2800e9 EUR
    // GDP (7e9), synthetic. 2025: 0.25% of 2400e9 GBP GDP = 6e9 GBP = 7.5e9 EUR, synthetic.
    assert_eq!(v["years"][0]["year"], 2024);
    assert_eq!(v["years"][0]["sourced"], "3225000000.00");
    assert_eq!(v["years"][0]["synthetic"], "7000000000.00");
    assert_eq!(v["years"][1]["synthetic"], "7500000000.00");
    assert_eq!(v["years"][1]["total"], "7500000000.00");
    assert_eq!(v["without_agreement"], serde_json::json!(["PL"]));
    assert_eq!(v["agreements"], 2);
}

#[test]
fn demo_builds_a_verified_compact_that_other_commands_use() {
    let dir = tempfile::tempdir().expect("temp dir");
    let target = dir.path().join("demo");
    let t = target.display().to_string();
    let (code, out, err) = compact(&["demo", "--dir", &t, "--no-serve"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.starts_with("The Kyiv Security Compact (kyiv-compact): 36 parties, 28 agreements signed by both parties;"),
        "{out}"
    );
    assert!(out.contains("Sourced: the agreements"), "{out}");
    assert!(
        out.contains("Generated (seed 7), marked * wherever shown"),
        "{out}"
    );
    assert!(
        out.contains("Status by guarantor as of 2026-04-30"),
        "{out}"
    );
    assert!(out.contains("The largest arrears"), "{out}");
    assert!(out.contains("Burden sharing in 2025"), "{out}");
    let (code, _, err) = compact(&["check", "--dir", &t]);
    assert_eq!(code, 0, "{err}");
    let (code, out, err) = compact(&["verify", "--dir", &t]);
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("ok: "), "{out}");
    let (code, out, _) = compact(&[
        "agreements",
        "--dir",
        &t,
        "--as-of",
        "2026-04-30",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0);
    let rows: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(
        rows.as_array()
            .unwrap()
            .iter()
            .all(|r| r["status"] == "in-force"),
        "{rows}"
    );
    // A second demo into the same, now non-empty, directory is refused.
    let (code, _, err) = compact(&["demo", "--dir", &t]);
    assert_eq!(code, 1);
    assert!(err.contains("is not empty"), "{err}");
}

#[test]
fn the_same_seed_gives_the_same_bytes() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut outputs = Vec::new();
    for (name, seed) in [("a", "11"), ("b", "11"), ("c", "12")] {
        let t = dir.path().join(name).display().to_string();
        let (code, _, err) = compact(&["demo", "--dir", &t, "--seed", seed]);
        assert_eq!(code, 0, "{err}");
        let (_, status, _) = compact(&[
            "status",
            "--dir",
            &t,
            "--as-of",
            "2026-04-30",
            "--by",
            "commitment",
            "--format",
            "json",
        ]);
        let (_, checkpoint, _) = compact(&["log", "checkpoint", "--dir", &t]);
        outputs.push((status, checkpoint));
    }
    assert_eq!(outputs[0], outputs[1]);
    assert_ne!(outputs[0].1, outputs[2].1);
}
