//! Corrections through the real binary: a statement retracted by its author with a reason,
//! the log keeping both, every report counting the corrected state from the retraction on
//! (and the old one before it), and what nobody may retract.

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::{fails_in as fails, json_in, ok_in as ok, populated, signed_base, submit_args};

fn size(dir: &std::path::Path) -> String {
    ok(dir, &["log", "checkpoint"])
}

fn retract<'a>(entry: &'a str, key: &'a str, reason: &'a str, time: &'a str) -> [&'a str; 8] {
    [
        "retract", entry, "--key", key, "--reason", reason, "--time", time,
    ]
}

const WRONG: &str = r#"{"commitment":"gb-tranches","amount":"50 shells","date":"2024-06-30","reference":"GB-2024-17"}"#;
const RIGHT: &str = r#"{"commitment":"gb-tranches","amount":"500 shells","date":"2024-06-30","reference":"GB-2024-17"}"#;

#[test]
fn a_guarantor_corrects_a_mistaken_report() {
    let t = signed_base("retract-correct");
    let d = t.path();
    // 7: GB reports 50 shells, a typo; 8: retracts it; 9: reports the 500 delivered; 10: UA
    // confirms the corrected report.
    ok(
        d,
        &submit_args("keys/GB.key", "delivery.report", WRONG, "2024-07-01"),
    );
    let out = ok(
        d,
        &retract(
            "7",
            "keys/GB.key",
            "50 is a typo: 500 shells were delivered",
            "2024-07-05",
        ),
    );
    assert!(
        out.contains("entry 8: GB retracted entry 7 (delivery.report): 50 is a typo"),
        "{out}"
    );
    ok(
        d,
        &submit_args(
            "keys/GB.key",
            "delivery.report",
            RIGHT,
            "2024-07-05T00:10:00Z",
        ),
    );
    ok(
        d,
        &submit_args(
            "keys/UA.key",
            "delivery.confirm",
            r#"{"report":9,"date":"2024-07-06"}"#,
            "2024-07-06",
        ),
    );

    let explain = |as_of: &str| {
        json_in(
            d,
            &[
                "explain",
                "gb-tranches",
                "--as-of",
                as_of,
                "--format",
                "json",
            ],
        )
    };
    // After the retraction: the corrected figure, and the history.
    let now = explain("2024-07-10");
    let f = &now["figures"];
    assert_eq!(f["reported"], "500", "{now:#}");
    assert_eq!(f["confirmed"], "500", "{now:#}");
    assert_eq!(f["entries"], serde_json::json!([9, 10]));
    assert_eq!(f["retracted"], serde_json::json!([7]));
    let r = &now["retracted"][0];
    assert_eq!(r["index"], 7);
    assert_eq!(r["type"], "delivery.report");
    assert_eq!(r["author"], "GB");
    assert_eq!(r["statement"]["amount"], "50 shells");
    assert_eq!(r["retraction"], 8);
    assert_eq!(r["retracted_at"], "2024-07-05T00:00:00Z");
    assert_eq!(r["reason"], "50 is a typo: 500 shells were delivered");
    // Before it, what was counted then: history is kept.
    let then = explain("2024-07-02");
    assert_eq!(then["figures"]["reported"], "50", "{then:#}");
    assert_eq!(then["figures"]["entries"], serde_json::json!([7]));
    assert_eq!(then["retracted"], serde_json::json!([]));

    let table = ok(d, &["explain", "gb-tranches", "--as-of", "2024-07-10"]);
    assert!(table.contains("Retracted by their authors"), "{table}");
    assert!(
        table.contains("entry 8 at 2024-07-05T00:00:00Z: 50 is a typo"),
        "{table}"
    );
    // The status (units: what is due and confirmed) counts the corrected report's confirmation.
    let status = json_in(
        d,
        &[
            "status",
            "--as-of",
            "2024-07-10",
            "--by",
            "commitment",
            "--format",
            "json",
        ],
    );
    let row = &status["units"][0];
    assert_eq!(
        (&row["key"], &row["confirmed"], &row["arrears"]),
        (&"gb-tranches".into(), &"500".into(), &"0".into()),
        "{status:#}"
    );

    // The retraction, in the log like any entry, is covered by the audit.
    let v = ok(d, &["verify"]);
    assert!(v.contains("ok: 11 entries"), "{v}");
    let e = json_in(d, &["log", "entry", "8", "--format", "json"]);
    assert_eq!(e["statement"]["type"], "statement.retract", "{e:#}");
}

#[test]
fn nobody_retracts_what_is_not_theirs_or_final() {
    // 0-4: log.init and keys; 5, 6: gb-ua signed; 7: GB's report; 8: UA's confirmation.
    let t = populated("retract-adversary");
    let d = t.path();
    let before = size(d);
    let refused = |entry: &str, key: &str| fails(d, &retract(entry, key, "undo", "2024-07-04"));
    // Another party's statement: UA cannot retract GB's report, GB cannot retract UA's
    // confirmation.
    let e = refused("7", "keys/UA.key");
    assert!(
        e.contains("error[role]") && e.contains("entry 7 is `GB`'s delivery.report"),
        "{e}"
    );
    let e = refused("8", "keys/GB.key");
    assert!(e.contains("error[role]"), "{e}");
    // GB's own report, confirmed by UA: the confirmation stands.
    let e = refused("7", "keys/GB.key");
    assert!(e.contains("error[relied-on]"), "{e}");
    assert!(
        e.contains("confirmed by `UA` (entry 8): the confirmation stands until `UA` retracts it"),
        "{e}"
    );
    // A key registration (2: GB's signing key, by GB) and an agreement signature (5).
    let e = refused("2", "keys/GB.key");
    assert!(
        e.contains("error[not-retractable]") && e.contains("key.revoke"),
        "{e}"
    );
    let e = refused("5", "keys/GB.key");
    assert!(e.contains("error[not-retractable]"), "{e}");
    // An entry beyond the log.
    let e = refused("99", "keys/GB.key");
    assert!(
        e.contains("error[reference]") && e.contains("no entry 99 in the log"),
        "{e}"
    );
    // No reason.
    let e = fails(d, &retract("8", "keys/UA.key", " ", "2024-07-04"));
    assert!(e.contains("a retraction gives a reason"), "{e}");
    assert_eq!(size(d), before, "a refusal writes nothing");

    // UA retracts its confirmation (9); then GB may retract its report (10); a retraction is
    // never retracted, nor retracted twice.
    ok(
        d,
        &retract("8", "keys/UA.key", "confirmed in error", "2024-07-04"),
    );
    ok(
        d,
        &retract("7", "keys/GB.key", "reported in error", "2024-07-04"),
    );
    let e = refused("9", "keys/UA.key");
    assert!(
        e.contains("error[not-retractable]") && e.contains("a retraction is final"),
        "{e}"
    );
    let e = refused("7", "keys/GB.key");
    assert!(
        e.contains("error[retracted]") && e.contains("already retracted at entry 10"),
        "{e}"
    );
    // Nothing is built on a retracted report.
    let e = fails(
        d,
        &submit_args(
            "keys/UA.key",
            "delivery.confirm",
            r#"{"report":7,"date":"2024-07-05"}"#,
            "2024-07-05",
        ),
    );
    assert!(e.contains("error[retracted]"), "{e}");
    // `submit --type statement.retract` is the same statement.
    let e = fails(
        d,
        &submit_args(
            "keys/GB.key",
            "statement.retract",
            r#"{"entry":7,"reason":"again"}"#,
            "2024-07-05",
        ),
    );
    assert!(e.contains("error[retracted]"), "{e}");
    let v = ok(d, &["verify"]);
    assert!(v.contains("ok: 11 entries"), "{v}");
    let f = json_in(
        d,
        &[
            "explain",
            "gb-tranches",
            "--as-of",
            "2024-07-10",
            "--format",
            "json",
        ],
    );
    assert_eq!(f["figures"]["reported"], "0", "{f:#}");
    assert_eq!(f["figures"]["retracted"], serde_json::json!([7, 8]));
}

#[test]
fn a_withdrawn_attack_declaration_sets_nothing_off() {
    let t = signed_base("retract-attack");
    let d = t.path();
    // 7: UA declares an armed attack, in error; 8: withdraws it.
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
    // GB cannot withdraw the beneficiary's declaration.
    let e = fails(
        d,
        &retract("7", "keys/GB.key", "no attack", "2024-08-01T06:00:00Z"),
    );
    assert!(e.contains("error[role]"), "{e}");
    let out = ok(
        d,
        &retract(
            "7",
            "keys/UA.key",
            "declared in error: a drill",
            "2024-08-01T06:00:00Z",
        ),
    );
    assert!(
        out.contains("activation 7 is withdrawn: nothing falls due on it"),
        "{out}"
    );
    // Before the withdrawal: GB asked, gb-once's surge due.
    let before = ok(d, &["activation", "7", "--at", "2024-08-01T05:30:00Z"]);
    assert!(before.contains("pending"), "{before}");
    assert!(before.contains("what now falls due"), "{before}");
    assert!(before.contains("gb-once"), "{before}");
    // After it: withdrawn, with the reason; nothing falls due; GB no longer asked.
    let after = ok(d, &["activation", "7", "--at", "2024-08-03T00:00:00Z"]);
    assert!(after.contains("(withdrawn)"), "{after}");
    assert!(
        after.contains("withdrawn by the beneficiary at entry 8 on 2024-08-01T06:00:00Z: declared in error: a drill"),
        "{after}"
    );
    assert!(after.contains("nothing falls due on it"), "{after}");
    assert!(!after.contains("what now falls due"), "{after}");
    let v = json_in(
        d,
        &[
            "activation",
            "7",
            "--at",
            "2024-08-03T00:00:00Z",
            "--format",
            "json",
        ],
    );
    assert_eq!(v["withdrawn"]["entry"], 8, "{v:#}");
    assert_eq!(v["asked"][0]["state"], "withdrawn", "{v:#}");
    assert_eq!(v["surges"], serde_json::json!([]), "{v:#}");
    let list = ok(d, &["activation", "--at", "2024-08-03T00:00:00Z"]);
    assert!(list.contains("withdrawn"), "{list}");
    // The status: no surge owed on gb-once once the 30 days have run.
    let f = json_in(
        d,
        &[
            "explain",
            "gb-once",
            "--as-of",
            "2024-09-15",
            "--format",
            "json",
        ],
    );
    assert_eq!(f["figures"]["surge"], "0", "{f:#}");
    assert_eq!(f["surges"], serde_json::json!([]), "{f:#}");
    // Nobody answers a withdrawn activation.
    std::fs::write(
        d.join("m.json"),
        r#"[{"kind":"sanctions","description":"a package"}]"#,
    )
    .unwrap();
    let e = fails(
        d,
        &[
            "respond",
            "7",
            "--key",
            "keys/GB.key",
            "--measures",
            "m.json",
            "--time",
            "2024-08-01T07:00:00Z",
        ],
    );
    assert!(
        e.contains("error[retracted]") && e.contains("withdrawn"),
        "{e}"
    );
    ok(d, &["verify"]);
}

/// GET `path` of a running server, as JSON.
fn get_json(server: &common::Listening, path: &str) -> serde_json::Value {
    let mut r = ureq::get(format!("{}{path}", server.url))
        .call()
        .expect("GET");
    serde_json::from_slice(&r.body_mut().read_to_vec().expect("body")).expect("JSON")
}

#[test]
fn a_correction_posted_to_a_server_is_served_as_the_cli_computes_it() {
    let t = signed_base("retract-server");
    let d = t.path();
    let server = common::Listening::serve(d);
    let remote = |args: &[&str]| {
        let mut all = vec!["--server", server.url.as_str()];
        all.extend_from_slice(args);
        common::compact_in(Some(d), &all)
    };
    let r = remote(&submit_args(
        "keys/GB.key",
        "delivery.report",
        WRONG,
        "2024-07-01",
    ));
    assert_eq!(r.code, 0, "{}", r.stderr);
    // Refused over HTTP with the rule's code, as locally.
    let r = remote(&retract("7", "keys/UA.key", "not yours", "2024-07-05"));
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("error[role]"), "{}", r.stderr);
    let r = remote(&retract("7", "keys/GB.key", "a typo", "2024-07-05"));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains("entry 8: GB retracted entry 7: a typo"),
        "{}",
        r.stdout
    );
    let r = remote(&submit_args(
        "keys/GB.key",
        "delivery.report",
        RIGHT,
        "2024-07-05T00:10:00Z",
    ));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let served = get_json(&server, "/v1/explain/gb-tranches?as_of=2024-07-10");
    let local = json_in(
        d,
        &[
            "explain",
            "gb-tranches",
            "--as-of",
            "2024-07-10",
            "--format",
            "json",
        ],
    );
    assert_eq!(served, local);
    assert_eq!(served["retracted"][0]["reason"], "a typo", "{served:#}");
    assert_eq!(served["figures"]["reported"], "500", "{served:#}");
}

#[test]
fn a_correction_in_one_batch_is_written_whole_or_not_at_all() {
    let t = signed_base("retract-batch");
    let d = t.path();
    ok(
        d,
        &submit_args("keys/GB.key", "delivery.report", WRONG, "2024-07-01"),
    );
    let signed = |kind: &str, payload: &str, time: &str| {
        let mut args = submit_args("keys/GB.key", kind, payload, time).to_vec();
        args.push("--print");
        ok(d, &args).trim().to_owned()
    };
    let retraction = signed(
        "statement.retract",
        r#"{"entry":7,"reason":"50 is a typo"}"#,
        "2024-07-05",
    );
    // The corrected report names a commitment that is not GB's: the whole batch is refused.
    let bad = signed(
        "delivery.report",
        r#"{"commitment":"jp-sanctions","amount":"500 EUR","date":"2024-06-30","reference":"x"}"#,
        "2024-07-05T00:01:00Z",
    );
    let good = signed("delivery.report", RIGHT, "2024-07-05T00:01:00Z");
    std::fs::write(d.join("bad.jsonl"), format!("{retraction}\n{bad}\n")).unwrap();
    std::fs::write(d.join("good.jsonl"), format!("{retraction}\n{good}\n")).unwrap();
    let before = size(d);
    let e = fails(d, &["import", "bad.jsonl"]);
    assert!(e.contains("error[role]"), "{e}");
    assert_eq!(size(d), before, "nothing of the batch is written");
    ok(d, &["import", "good.jsonl"]);
    let f = json_in(
        d,
        &[
            "explain",
            "gb-tranches",
            "--as-of",
            "2024-07-10",
            "--format",
            "json",
        ],
    );
    assert_eq!(f["figures"]["reported"], "500", "{f:#}");
    assert_eq!(f["figures"]["entries"], serde_json::json!([9]));
    assert_eq!(f["retracted"][0]["retraction"], 8, "{f:#}");
    ok(d, &["verify"]);
}
