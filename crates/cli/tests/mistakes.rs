//! What a user sees when asking for JSON, and when making a mistake on the command line:
//! numbers that are numbers, usage errors that name the accepted forms (exit 2), party codes in
//! any case, "did you mean" for near misses, and a refusal that does not number a single
//! statement.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::path::Path;

mod common;

use common::{fails_in as fails, json_in as json, ok_in as ok, usage_in};

/// The base fixture with gb-ua signed by both, a delivery of 1,000,000 GBP on gb-once reported
/// before its due date and confirmed: entries 5 to 8.
fn delivered() -> tempfile::TempDir {
    let t = common::signed_base("mistakes");
    let d = t.path();
    ok(
        d,
        &[
            "submit",
            "--key",
            "keys/GB.key",
            "--type",
            "delivery.report",
            "--payload",
            r#"{"commitment":"gb-once","amount":"1000000 GBP","date":"2024-06-30","reference":"GB-1"}"#,
            "--time",
            "2024-07-01",
        ],
    );
    ok(
        d,
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
    t
}

/// An amount: an exact decimal string.
fn is_amount(v: &serde_json::Value) -> bool {
    v.as_str()
        .is_some_and(|s| s.parse::<rust_decimal::Decimal>().is_ok())
}

#[test]
fn json_gives_counts_and_ratios_as_numbers_and_amounts_as_exact_strings() {
    let t = delivered();
    let d = t.path();
    let v = json(
        d,
        &[
            "status",
            "--as-of",
            "2025-01-01",
            "--by",
            "commitment",
            "--format",
            "json",
        ],
    );
    assert!(v["log_size"].is_u64(), "{v}");
    let once = v["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["key"] == "gb-once")
        .unwrap();
    assert!(once["on_time_rate"].is_number(), "{once}");
    assert_eq!(once["on_time_rate"].as_f64(), Some(1.0), "{once}");
    for k in ["due", "confirmed", "arrears", "allocated"] {
        assert!(is_amount(&once[k]), "{k}: {once}");
    }
    assert!(v["total"]["on_time_rate"].is_number(), "{v}");

    let e = json(
        d,
        &[
            "explain",
            "gb-once",
            "--as-of",
            "2025-01-01",
            "--format",
            "json",
        ],
    );
    assert!(e["figures"]["on_time_rate"].is_number(), "{e}");
    assert!(is_amount(&e["figures"]["confirmed"]), "{e}");
    assert!(e["entries"][0]["index"].is_u64(), "{e}");

    // Burden: shares and percentages are numbers, money is exact.
    let b = json(d, &["burden", "--year", "2024", "--format", "json"]);
    assert!(b["year"].is_number() && is_amount(&b["baseline"]), "{b}");
    for r in b["rows"].as_array().unwrap() {
        assert!(
            r["gdp_share"].is_number() && r["pct_gdp"].is_number(),
            "{r}"
        );
        assert!(r["rank"].is_u64(), "{r}");
        assert!(is_amount(&r["fair_share"]) && is_amount(&r["gap"]), "{r}");
    }

    // Stress: the Monte Carlo's probabilities are numbers.
    std::fs::write(
        d.join("stress.toml"),
        "[default]\nwithdrawal = 0.1\ndelay = [{ months = 0, probability = 1.0 }]\n",
    )
    .unwrap();
    let s = json(
        d,
        &[
            "stress",
            "--without",
            "GB",
            "--scenarios",
            "200",
            "--format",
            "json",
        ],
    );
    for y in s["what_if"]["lines"][0]["years"].as_array().unwrap() {
        assert!(y["year"].is_number() && is_amount(&y["before"]), "{y}");
    }
    for l in s["monte_carlo"]["lines"].as_array().unwrap() {
        for y in l["years"].as_array().unwrap() {
            assert!(y["p_meet"].is_number() || y["requirement"].is_null(), "{y}");
            assert!(is_amount(&y["mean"]), "{y}");
        }
    }
    for g in s["monte_carlo"]["survival"].as_array().unwrap() {
        assert!(
            g["by_year"]
                .as_array()
                .unwrap()
                .iter()
                .all(|p| p.is_number()),
            "{g}"
        );
    }
}

#[test]
fn bad_dates_times_and_groupings_are_usage_errors_naming_the_accepted_forms() {
    let t = delivered();
    let d = t.path();
    for bad in [
        "30/04/2026",
        "2026-04-30T00:00:00Z",
        "2026-4-30",
        "tomorrow",
    ] {
        let e = usage_in(d, &["status", "--as-of", bad]);
        assert!(
            e.contains(&format!("invalid value '{bad}' for '--as-of <DATE>'"))
                && e.contains("2026-04-30 (YYYY-MM-DD)"),
            "{bad}: {e}"
        );
        assert!(
            !e.contains("four digit") && !e.contains("jiff") && !e.contains("failed to parse"),
            "{bad}: {e}"
        );
    }
    // The common mistakes are named, with what to write instead.
    let e = usage_in(d, &["status", "--as-of", "30/04/2026"]);
    assert!(
        e.contains("reads as day/month/year: give it year first, 2026-04-30"),
        "{e}"
    );
    let e = usage_in(d, &["status", "--as-of", "2026-04-30T00:00:00Z"]);
    assert!(e.contains("give the day alone, 2026-04-30"), "{e}");
    let e = usage_in(d, &["activation", "--at", "2026-05-01T04:00:00"]);
    assert!(e.contains("add `Z` for UTC (2026-05-01T04:00:00Z)"), "{e}");
    let e = usage_in(d, &["agreements", "--as-of", "31.12.2024"]);
    assert!(e.contains("YYYY-MM-DD"), "{e}");
    let e = usage_in(d, &["explain", "gb-once", "--as-of", "2024"]);
    assert!(e.contains("YYYY-MM-DD"), "{e}");
    let e = usage_in(d, &["activation", "--at", "2026-05-01 04:00"]);
    assert!(
        e.contains("2024-01-12T10:00:00Z") && e.contains("2024-01-12T13:00:00+03:00"),
        "{e}"
    );
    for args in [
        &["burden", "--year", "25"][..],
        &["stress", "--without", "GB", "--from-year", "next"],
        &["reconcile", "kiel", "--from", "2024-01-01"],
    ] {
        let e = usage_in(d, args);
        assert!(e.contains("expected a year such as 2025"), "{args:?}: {e}");
    }
    let e = usage_in(d, &["status", "--by", "country"]);
    assert!(
        e.contains("invalid value 'country' for '--by <BY>'")
            && e.contains("guarantor, pillar, year, group, commitment"),
        "{e}"
    );
    // Nothing of the store was touched: the figures are still there.
    ok(d, &["status", "--as-of", "2025-01-01"]);
}

#[test]
fn party_codes_are_trimmed_and_case_folded_and_a_party_without_agreement_is_named_so() {
    let t = delivered();
    let d = t.path();
    let v = json(d, &["stress", "--without", " gb , jp", "--format", "json"]);
    assert_eq!(
        v["what_if"]["without"],
        serde_json::json!(["GB", "JP"]),
        "{v}"
    );
    // PL is declared in the fixture, with no agreement.
    let e = fails(d, &["stress", "--without", "pl"]);
    assert!(
        e.contains("`PL` is declared in the compact but has no agreement"),
        "{e}"
    );
    // A key for ` pl ` is PL's.
    ok(d, &["keygen", "--party", " pl ", "--seed", "m"]);
    assert!(d.join("keys/PL.key").exists() && !d.join("keys/pl.key").exists());
    let e = fails(d, &["stress", "--without", "UA"]);
    assert!(e.contains("`UA` is the beneficiary"), "{e}");
    let e = fails(d, &["stress", "--without", "GX"]);
    assert!(
        e.contains("unknown party `GX`") && e.contains("GB") && !e.contains("panicked"),
        "{e}"
    );
}

#[test]
fn unknown_ids_get_suggestions_not_every_id() {
    let t = delivered();
    let d = t.path();
    let e = fails(d, &["explain", "gb-onse", "--as-of", "2025-01-01"]);
    assert!(
        e.contains("unknown commitment `gb-onse`; did you mean `gb-once`"),
        "{e}"
    );
    let e = fails(d, &["sign", "gb-au", "--key", "keys/GB.key"]);
    assert!(
        e.contains("unknown agreement `gb-au`; did you mean `gb-ua`?"),
        "{e}"
    );
    let e = fails(
        d,
        &[
            "submit",
            "--key",
            "keys/GB.key",
            "--type",
            "pledg",
            "--payload",
            "{}",
        ],
    );
    assert!(
        e.contains("unknown statement type `pledg`; did you mean `pledge`?"),
        "{e}"
    );
    let e = fails(d, &["activation", "3", "--at", "2025-01-01"]);
    assert!(e.contains("no activation at entry 3"), "{e}");
}

#[test]
fn the_data_set_answers_a_mistyped_commitment_in_one_short_line() {
    let t = tempfile::tempdir().unwrap();
    common::copy_tree(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/kyiv-compact"),
        t.path(),
    );
    let d = t.path();
    ok(d, &["keygen", "--operator", "--seed", "m"]);
    ok(d, &["init"]);
    let e = fails(d, &["explain", "gb-military-2042", "--as-of", "2025-01-01"]);
    assert!(e.contains("did you mean `gb-military-2024`"), "{e}");
    assert!(e.len() < 300, "no list of every commitment: {e}");
}

#[test]
fn a_single_refused_statement_is_not_numbered() {
    let t = delivered();
    let d = t.path();
    let e = fails(
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
        e.contains("error[role]: refused: only the beneficiary `UA` may make a delivery.confirm"),
        "{e}"
    );
    assert!(!e.contains("statement 0"), "{e}");
}

#[test]
fn the_json_reads_back_into_the_api_types_a_client_uses() {
    use compact_service::api::v1;
    let t = delivered();
    let d = t.path();
    ok(
        d,
        &[
            "activate",
            "--key",
            "keys/UA.key",
            "--at",
            "2024-07-05T04:00:00Z",
            "--summary",
            "missile strikes",
            "--time",
            "2024-07-05T06:00:00Z",
        ],
    );
    std::fs::write(
        d.join("stress.toml"),
        "[default]\nwithdrawal = 0.1\ndelay = [{ months = 0, probability = 1.0 }]\n",
    )
    .unwrap();
    fn read<T: serde::de::DeserializeOwned>(d: &Path, args: &[&str]) -> T {
        serde_json::from_str(&ok(d, args)).unwrap_or_else(|e| panic!("{args:?}: {e}"))
    }
    let status: v1::StatusReport =
        read(d, &["status", "--as-of", "2025-06-01", "--format", "json"]);
    assert_eq!(status.log_size, 10);
    let all: Vec<v1::Activation> =
        read(d, &["activation", "--at", "2024-09-01", "--format", "json"]);
    let one: v1::Activation = read(
        d,
        &["activation", "9", "--at", "2024-09-01", "--format", "json"],
    );
    assert_eq!(all, vec![one.clone()]);
    assert_eq!(one.trigger, v1::Trigger::Attack);
    let surge = one.surges.first().expect("gb-once's scaling rule surges");
    assert_eq!(
        surge.kind,
        v1::SurgeKind::Scaling {
            factor: rust_decimal::Decimal::new(15, 1)
        }
    );
    let raw = json(
        d,
        &["activation", "9", "--at", "2024-09-01", "--format", "json"],
    );
    assert!(raw["surges"][0]["factor"].is_number(), "{raw}");
    let explain: v1::Explain = read(
        d,
        &[
            "explain",
            "gb-once",
            "--as-of",
            "2025-06-01",
            "--format",
            "json",
        ],
    );
    assert_eq!(explain.figures.commitment, "gb-once");
    assert!(!explain.surges.is_empty());
    let _: v1::BurdenReport = read(d, &["burden", "--year", "2024", "--format", "json"]);
    let _: v1::StressReport = read(d, &["stress", "--scenarios", "100", "--format", "json"]);
    let _: v1::StressReport = read(d, &["stress", "--delay", "6", "--format", "json"]);
    let _: v1::CheckSummary = read(d, &["check", "--format", "json"]);
    let _: v1::AgreementDetail = read(d, &["show", "agreement", "gb-ua", "--format", "json"]);
    let _: v1::DigestReport = read(d, &["digest", "agreements/gb-ua.toml", "--format", "json"]);
    let _: Vec<v1::AgreementRow> = read(d, &["agreements", "--format", "json"]);
}
