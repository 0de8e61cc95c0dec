//! `compact serve` driven over real sockets: the read routes answer with what the CLI prints,
//! signed writes land (or are refused with their rule's code, writing nothing), concurrent
//! clients are sequenced without loss, the tiles rebuild the checkpoint's root, and neither
//! SIGTERM nor kill -9 loses an acknowledged statement.

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::{Backend, compact_in, ok_in as ok, signed_base};
use compact_statement::{DeliveryReport, Draft, Payload, Statement, keys};
use serde_json::Value;
use signed_note::StandardSigner;

/// A running `compact serve`, killed when dropped.
struct Server {
    child: Child,
    url: String,
}

impl Server {
    /// Serves `dir` on a free loopback port under the replay clock.
    fn start(dir: &Path) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_compact"))
            .args(["serve", "--listen", "127.0.0.1:0", "--dir"])
            .arg(dir)
            .env("COMPACT_CLOCK", "replay")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start compact serve");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("read the address");
        let url = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("no address in {line:?}"))
            .to_owned();
        Server { child, url }
    }

    fn agent() -> ureq::Agent {
        common::agent()
    }

    /// GET: (status, body).
    fn get(&self, path: &str) -> (u16, Vec<u8>) {
        let mut r = Self::agent()
            .get(format!("{}{path}", self.url))
            .call()
            .expect("GET");
        let status = r.status().as_u16();
        (status, r.body_mut().read_to_vec().expect("body"))
    }

    fn get_json(&self, path: &str) -> Value {
        let (status, body) = self.get(path);
        assert_eq!(status, 200, "{path}: {}", String::from_utf8_lossy(&body));
        serde_json::from_slice(&body).expect("json")
    }

    /// POST with a content type: (status, JSON body).
    fn post(&self, media: &str, body: &[u8]) -> (u16, Value) {
        post(&Self::agent(), &self.url, media, body)
    }

    fn size(&self) -> u64 {
        self.get_json("/v1/log")["size"].as_u64().expect("size")
    }

    /// Sends SIGTERM and waits: the exit status.
    fn terminate(mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill -TERM");
        self.child.wait().expect("wait")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn post(agent: &ureq::Agent, url: &str, media: &str, body: &[u8]) -> (u16, Value) {
    let mut r = agent
        .post(format!("{url}/v1/statements"))
        .header("Content-Type", media)
        .send(body)
        .expect("POST");
    let status = r.status().as_u16();
    let body = r.body_mut().read_to_vec().expect("body");
    (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
}

fn signer(path: &Path) -> StandardSigner {
    let text = std::fs::read_to_string(path).expect("key file");
    keys::signer(&text).expect("signer")
}

/// A delivery report on `commitment` by `author` signed with `key`, at `time`.
fn report(
    key: &StandardSigner,
    author: &str,
    commitment: &str,
    reference: &str,
    time: &str,
) -> Statement {
    Statement::sign(
        Draft {
            compact: "test-compact".into(),
            author: author.into(),
            time: time.parse().expect("time"),
            payload: Payload::DeliveryReport(DeliveryReport {
                commitment: commitment.into(),
                amount: "5 shells".into(),
                date: "2024-06-30".parse().expect("date"),
                reference: reference.into(),
                allocation: None,
            }),
        },
        key,
    )
    .expect("sign")
}

#[test]
fn reads_answer_with_the_types_the_cli_prints() {
    let t = signed_base("server-reads");
    let d = t.path();
    let server = Server::start(d);
    for (route, cli) in [
        (
            "/v1/status?as_of=2024-12-31",
            vec!["status", "--as-of", "2024-12-31", "--format", "json"],
        ),
        (
            "/v1/status?as_of=2024-12-31&by=commitment",
            vec![
                "status",
                "--as-of",
                "2024-12-31",
                "--by",
                "commitment",
                "--format",
                "json",
            ],
        ),
        (
            "/v1/agreements?on=2024-12-31",
            vec!["agreements", "--as-of", "2024-12-31", "--format", "json"],
        ),
        (
            "/v1/entries?party=gb&limit=3",
            vec![
                "log", "list", "--party", "gb", "--limit", "3", "--format", "json",
            ],
        ),
        (
            "/v1/entries?kind=agreement.sign&reverse=true&after=5",
            vec![
                "log",
                "list",
                "--kind",
                "agreement.sign",
                "--reverse",
                "--after",
                "5",
                "--format",
                "json",
            ],
        ),
        (
            "/v1/explain/gb-tranches?as_of=2024-12-31",
            vec![
                "explain",
                "gb-tranches",
                "--as-of",
                "2024-12-31",
                "--format",
                "json",
            ],
        ),
    ] {
        let served = server.get_json(route);
        let printed: Value = serde_json::from_str(&ok(d, &cli)).expect("CLI json");
        assert_eq!(
            served,
            printed,
            "{route} differs from `compact {}`",
            cli.join(" ")
        );
    }
    // `log list --server` reads the server's entries: the same page.
    let listed = ok(
        d,
        &[
            "log",
            "list",
            "--kind",
            "key.register",
            "--format",
            "json",
            "--server",
            &server.url,
        ],
    );
    let local = ok(
        d,
        &["log", "list", "--kind", "key.register", "--format", "json"],
    );
    assert_eq!(listed, local);
    let e = compact_in(
        Some(d),
        &["log", "list", "--party", "gx", "--server", &server.url],
    );
    assert_eq!(e.code, 1, "{}", e.stderr);
    assert!(e.stderr.contains("unknown party `gx`"), "{}", e.stderr);
    let entry = server.get_json("/v1/entries/5");
    assert_eq!(entry["statement"]["type"], "agreement.sign");
    let keys = server.get_json("/v1/keys");
    assert_eq!(keys["keys"].as_array().expect("keys").len(), 4, "{keys}");
    // Bad queries are problems with a reason, never a 5xx.
    for (path, status) in [
        ("/v1/status?as_of=31/12/2024", 400),
        ("/v1/status?by=country", 400),
        ("/v1/status?as_off=2024-12-31", 400),
        ("/v1/status?at_size=99", 400),
        ("/v1/entries/99", 404),
        ("/v1/entries/9223372036854775808", 404),
        ("/v1/status?as_of=2000-01-01", 400),
        ("/v1/explain/gb-tranches?as_of=2000-01-01", 400),
        ("/v1/entries/-1", 400),
        ("/v1/entries/1/proof?size=99", 404),
        ("/v1/consistency?old=5&new=3", 400),
        ("/v1/explain/nothing", 404),
        ("/v1/entries?limit=10001", 400),
        ("/v1/entries?kind=delivery.reprot", 400),
        ("/v1/entries?party=zz", 400),
        ("/v1/entries?from=01/07/2024", 400),
        ("/v1/entries?from=2025-01-01&to=2024-01-01", 400),
        ("/v1/entries?order=oldest", 400),
        ("/v1/entries?after=9223372036854775808", 400),
        ("/tile/0/000", 404),
        ("/tile/0/0", 404),
        ("/tile/64/000", 404),
        ("/tile/0/000.p/0", 404),
        ("/tile/entries/000.p/0", 404),
        ("/v1/nothing", 404),
    ] {
        let (got, body) = server.get(path);
        assert_eq!(got, status, "{path}: {}", String::from_utf8_lossy(&body));
        let p: Value = serde_json::from_slice(&body).expect("a problem");
        assert!(
            p["detail"].as_str().is_some_and(|s| !s.is_empty()),
            "{path}: {p}"
        );
        assert_eq!(p["status"], status);
    }
}

/// A demo compact (seed 7) in a directory of its own.
fn demo_dir() -> tempfile::TempDir {
    let t = tempfile::tempdir().expect("tempdir");
    let d = t.path().join("demo");
    let out = Command::new(env!("CARGO_BIN_EXE_compact"))
        .args(["demo", "--no-serve", "--dir"])
        .arg(&d)
        .output()
        .expect("compact demo");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    t
}

/// A request with a body: (status, JSON body).
fn send(url: &str, method: &str, media: &str, body: &[u8]) -> (u16, Value) {
    let agent = Server::agent();
    let mut r = match method {
        "POST" => agent.post(url).header("Content-Type", media).send(body),
        "PUT" => agent.put(url).header("Content-Type", media).send(body),
        _ => agent.get(url).call(),
    }
    .expect("request");
    let status = r.status().as_u16();
    let body = r.body_mut().read_to_vec().expect("body");
    (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
}

#[test]
fn the_analyses_answer_with_the_types_the_cli_prints() {
    let t = demo_dir();
    let d = t.path().join("demo");
    let server = Server::start(&d);
    for (route, cli) in [
        (
            "/v1/burden?year=2025",
            vec!["burden", "--year", "2025", "--format", "json"],
        ),
        (
            "/v1/burden?year=2024&basis=guarantors&aid=all&baseline=30e9%20EUR",
            vec![
                "burden",
                "--year",
                "2024",
                "--basis",
                "guarantors",
                "--aid",
                "all",
                "--baseline",
                "30e9 EUR",
                "--format",
                "json",
            ],
        ),
        (
            "/v1/activations?at=2026-06-01T00:00:00Z",
            vec![
                "activation",
                "--at",
                "2026-06-01T00:00:00Z",
                "--format",
                "json",
            ],
        ),
        (
            "/v1/stress?without=us,gb&from_year=2026",
            vec![
                "stress",
                "--without",
                "us,gb",
                "--from-year",
                "2026",
                "--format",
                "json",
            ],
        ),
        (
            "/v1/stress?scenarios=500&seed=3",
            vec![
                "stress",
                "--scenarios",
                "500",
                "--seed",
                "3",
                "--format",
                "json",
            ],
        ),
        (
            "/v1/reconcile/kiel?from=2024",
            vec!["reconcile", "kiel", "--from", "2024", "--format", "json"],
        ),
    ] {
        let served = server.get_json(route);
        let printed: Value = serde_json::from_str(&ok(&d, &cli)).expect("CLI json");
        assert_eq!(
            served,
            printed,
            "{route} differs from `compact {}`",
            cli.join(" ")
        );
    }
    // The stress report is the seed's: asked twice, the same.
    assert_eq!(
        server.get_json("/v1/stress?scenarios=300&seed=11"),
        server.get_json("/v1/stress?scenarios=300&seed=11")
    );
    // A tracker file posted is reconciled as the CLI reconciles it.
    let csv = "iso,year,month,military,financial,humanitarian\nGBR,2024,3,0.5,0,0.01\nDEU,2024,11,1.25,0,0\n";
    let file = t.path().join("explorer.csv");
    std::fs::write(&file, csv).expect("write csv");
    let url = format!("{}/v1/reconcile/kiel?from=2024", server.url);
    let (status, posted) = send(&url, "POST", "text/csv", csv.as_bytes());
    assert_eq!(status, 200, "{posted}");
    let printed: Value = serde_json::from_str(&ok(
        &d,
        &[
            "reconcile",
            "kiel",
            file.to_str().expect("path"),
            "--from",
            "2024",
            "--format",
            "json",
        ],
    ))
    .expect("CLI json");
    assert_eq!(posted["lines"], printed["lines"]);
    assert_eq!(posted["as_of"], "2024-11-30");
    // Bad input is a problem with a reason; the work of a request is bounded.
    for (method, route, media, body, status) in [
        ("GET", "/v1/burden?year=20x5", "", "", 400),
        ("GET", "/v1/burden?baseline=40e9", "", "", 400),
        ("GET", "/v1/burden?baseline=12%20shells", "", "", 400),
        ("GET", "/v1/burden?basis=everyone", "", "", 400),
        ("GET", "/v1/activations?at=yesterday", "", "", 400),
        ("GET", "/v1/activations/999999", "", "", 404),
        ("GET", "/v1/activations/x", "", "", 400),
        ("GET", "/v1/stress?scenarios=10001", "", "", 400),
        ("GET", "/v1/stress?scenarios=0", "", "", 400),
        ("GET", "/v1/stress?delay=121", "", "", 400),
        ("GET", "/v1/stress?without=ZZ", "", "", 400),
        ("GET", "/v1/stress?from_year=2026", "", "", 400),
        ("GET", "/v1/reconcile/kiel?from=2026&to=2024", "", "", 400),
        ("POST", "/v1/reconcile/kiel", "application/json", "{}", 415),
        (
            "POST",
            "/v1/reconcile/kiel",
            "text/csv",
            "iso,year\nGBR,2024\n",
            400,
        ),
        ("POST", "/v1/reconcile/kiel", "text/csv", "", 400),
        ("PUT", "/v1/reconcile/kiel", "text/csv", "", 405),
    ] {
        let url = format!("{}{route}", server.url);
        let (got, p) = send(&url, method, media, body.as_bytes());
        assert_eq!(got, status, "{method} {route}: {p}");
        assert!(
            p["detail"].as_str().is_some_and(|s| !s.is_empty()),
            "{method} {route}: {p}"
        );
    }
}

#[test]
fn every_documented_route_is_served_and_the_issue_s_routes_are_documented() {
    let t = signed_base("server-openapi");
    let server = Server::start(t.path());
    let doc = server.get_json("/v1/openapi.json");
    assert!(
        doc["openapi"]
            .as_str()
            .is_some_and(|v| v.starts_with("3.1")),
        "{}",
        doc["openapi"]
    );
    let paths = doc["paths"].as_object().expect("paths");
    for needed in [
        "/checkpoint",
        "/tile/{path}",
        "/v1/statements",
        "/v1/agreements",
        "/v1/status",
        "/v1/explain/{commitment}",
        "/v1/burden",
        "/v1/reconcile/kiel",
        "/v1/activations",
        "/v1/activations/{entry}",
        "/v1/stress",
        "/v1/entries",
        "/v1/entries/{index}",
        "/v1/entries/{index}/proof",
        "/v1/consistency",
        "/v1/keys",
        "/v1/log",
        "/v1/openapi.json",
    ] {
        assert!(paths.contains_key(needed), "{needed} is not documented");
    }
    // Each documented operation is routed: a request reaches its handler (whatever it
    // answers, it is not the fallback's `no-route` nor a 405), and every answer the
    // handler gives is documented.
    for (path, ops) in paths {
        let concrete = path
            .replace("{path}", "0/000")
            .replace("{commitment}", "gb-tranches")
            .replace("{index}", "0")
            .replace("{entry}", "0")
            .replace("{code}", "rule");
        let ops = ops.as_object().expect("operations");
        assert!(!ops.is_empty(), "{path}");
        for (method, op) in ops {
            let method = method.to_ascii_uppercase();
            let url = format!("{}{concrete}", server.url);
            let (status, body) = send(&url, &method, "application/json", b"{}");
            assert_ne!(status, 405, "{method} {path}");
            assert_ne!(body["code"], "no-route", "{method} {path}: {body}");
            assert!(
                op["responses"].get(status.to_string()).is_some(),
                "{method} {path} answered {status}, which is not documented: {body}"
            );
        }
    }
    // Every schema the document names is in it.
    let text = doc.to_string();
    let schemas = doc["components"]["schemas"].as_object().expect("schemas");
    for r in text.split("\"#/components/schemas/").skip(1) {
        let name = r.split('"').next().unwrap_or_default();
        assert!(
            schemas.contains_key(name),
            "{name} is referenced, not defined"
        );
    }
}

fn a_statement_posted_lands_and_its_proof_verifies_offline(b: &Backend) {
    let t = signed_base("server-submit");
    let d = t.path();
    b.adopt(d);
    let server = Server::start(d);
    // The server files the log in memory at its first report, and extends it as it grows.
    let status = "/v1/status?as_of=2024-12-31&by=commitment";
    let before = server.get_json(status);
    let explained = server.get_json("/v1/explain/gb-tranches?as_of=2024-12-31");
    assert_eq!(explained["entries"], serde_json::json!([]), "{explained}");
    // Signed here by the CLI, with a key that stays here.
    let run = compact_in(
        Some(d),
        &[
            "submit",
            "--server",
            &server.url,
            "--key",
            "keys/GB.key",
            "--type",
            "delivery.report",
            "--payload",
            r#"{"commitment":"gb-tranches","amount":"500 shells","date":"2024-06-30","reference":"GB-1"}"#,
            "--time",
            "2024-07-01",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout.trim(), "entry 7: delivery.report by GB");
    assert_eq!(server.size(), 8);
    let after = server.get_json(status);
    let printed: Value = serde_json::from_str(&ok(
        d,
        &[
            "status",
            "--as-of",
            "2024-12-31",
            "--by",
            "commitment",
            "--format",
            "json",
        ],
    ))
    .expect("CLI json");
    assert_eq!(after, printed, "the status after a write is the CLI's");
    assert_ne!(after["log_size"], before["log_size"]);
    let explained = server.get_json("/v1/explain/gb-tranches?as_of=2024-12-31");
    assert_eq!(
        explained["entries"][0]["index"], 7,
        "the delivery reported counts: {explained}"
    );
    assert_eq!(
        server.get_json(&format!("{status}&at_size=7")),
        before,
        "the status at the earlier size is what it was"
    );
    // The proof from the server, checked here against the operator's checkpoint.
    let prove = ok(d, &["log", "prove", "7", "--server", &server.url]);
    let proof: Value = serde_json::from_str(&prove).expect("proof");
    assert_eq!(proof["tree_size"], 8);
    std::fs::write(d.join("proof.json"), &prove).expect("write");
    let (_, note) = server.get("/checkpoint");
    std::fs::write(d.join("checkpoint"), &note).expect("write");
    let key = ok(d, &["log", "public-key"]);
    let verified = ok(
        d,
        &[
            "log",
            "verify-inclusion",
            "--proof",
            "proof.json",
            "--checkpoint",
            "checkpoint",
            "--key",
            key.trim(),
        ],
    );
    assert!(verified.starts_with("ok: entry 7"), "{verified}");
    // The same statement again: 409 with the index it has, and nothing written.
    let leaf = server.get_json("/v1/entries/7")["leaf"]
        .as_str()
        .unwrap()
        .to_owned();
    use base64::Engine as _;
    let leaf = base64::engine::general_purpose::STANDARD
        .decode(leaf)
        .unwrap();
    let (status, problem) = server.post("application/json", &leaf);
    assert_eq!(status, 409, "{problem}");
    assert_eq!(problem["code"], "duplicate");
    assert_eq!(problem["index"], 7);
    assert_eq!(server.size(), 8);
    // The local log is the server's: verify passes over it.
    ok(d, &["verify"]);
    assert_eq!(server.terminate().code(), Some(0));
}

/// R5: every way a write can be wrong, refused with its rule's code, nothing written.
fn r5_every_bad_write_is_refused_with_its_code_and_writes_nothing(b: &Backend) {
    let t = signed_base("server-r5");
    let d = t.path();
    b.adopt(d);
    // GB's key is rotated from 2024-09-01: the old key signs nothing received after.
    ok(
        d,
        &[
            "keygen",
            "--party",
            "GB",
            "--out",
            "keys/GB-2.key",
            "--valid-from",
            "2024-09-01T00:00:00Z",
        ],
    );
    let server = Server::start(d);
    let before = server.size();
    let gb_old = signer(&d.join("keys/GB.key"));
    let gb = signer(&d.join("keys/GB-2.key"));
    let ua = signer(&d.join("keys/UA.key"));
    let stranger = keys::signer(&keys::from_seed("GB", &[7; 32]).unwrap().private).unwrap();
    let good = report(&gb, "GB", "gb-tranches", "GB-ok", "2024-10-01T00:00:00Z");
    let json = |st: &Statement| st.leaf.clone();
    let unsigned = {
        let mut v: Value = serde_json::from_slice(&good.leaf).unwrap();
        v.as_object_mut().unwrap().remove("sig");
        serde_json::to_vec(&v).unwrap()
    };
    let altered = String::from_utf8(good.leaf.clone())
        .unwrap()
        .replace("5 shells", "9 shells")
        .into_bytes();
    let cases: Vec<(&str, Vec<u8>, u16, &str)> = vec![
        ("unsigned", unsigned, 400, "malformed"),
        ("not JSON", b"{\"type\":".to_vec(), 400, "malformed"),
        ("altered after signing", altered, 409, "signature"),
        (
            "another party's key",
            json(&report(
                &ua,
                "GB",
                "gb-tranches",
                "GB-ua",
                "2024-10-01T00:00:00Z",
            )),
            409,
            "key-of-another-party",
        ),
        (
            "an unregistered key",
            json(&report(
                &stranger,
                "GB",
                "gb-tranches",
                "GB-x",
                "2024-10-01T00:00:00Z",
            )),
            409,
            "key-unregistered",
        ),
        (
            "a retired key",
            json(&report(
                &gb_old,
                "GB",
                "gb-tranches",
                "GB-old",
                "2024-10-01T00:00:00Z",
            )),
            409,
            "key-not-valid",
        ),
        (
            "a beneficiary reporting a guarantor's delivery",
            json(&report(
                &ua,
                "UA",
                "gb-tranches",
                "UA-1",
                "2024-10-01T00:00:00Z",
            )),
            409,
            "role",
        ),
        (
            "an unknown author",
            json(&report(
                &stranger,
                "ZZ",
                "gb-tranches",
                "ZZ-1",
                "2024-10-01T00:00:00Z",
            )),
            409,
            "author-unknown",
        ),
    ];
    for (what, body, status, code) in cases {
        let (got, problem) = server.post("application/json", &body);
        assert_eq!(got, status, "{what}: {problem}");
        assert_eq!(problem["code"], code, "{what}: {problem}");
        assert_eq!(server.size(), before, "{what}: something was written");
    }
    // A batch with one bad statement: refused whole, naming its position.
    let mut batch = json(&good);
    batch.push(b'\n');
    batch.extend(json(&report(
        &ua,
        "UA",
        "gb-tranches",
        "UA-2",
        "2024-10-01T00:00:00Z",
    )));
    let (got, problem) = server.post("application/x-ndjson", &batch);
    assert_eq!(
        (got, problem["code"].as_str()),
        (409, Some("role")),
        "{problem}"
    );
    assert_eq!(problem["position"], 1);
    assert_eq!(server.size(), before);
    // Not a statement's media type.
    let (got, _) = server.post("text/plain", &json(&good));
    assert_eq!(got, 415);
    // The good one lands; its replay is a duplicate with its index.
    let (got, ack) = server.post("application/json", &json(&good));
    assert_eq!(got, 201, "{ack}");
    let index = ack["entries"][0]["index"].as_u64().unwrap();
    assert_eq!(index, before);
    let (got, problem) = server.post("application/json", &json(&good));
    assert_eq!((got, problem["code"].as_str()), (409, Some("duplicate")));
    assert_eq!(problem["index"], index);
    assert_eq!(server.size(), before + 1);
}

/// R6: 8 clients × 10,000 statements at once: every one acknowledged is there, at the index
/// and with the leaf hash it was acknowledged with; indices are dense; `verify` passes.
fn r6_concurrent_clients_lose_nothing(b: &Backend) {
    const CLIENTS: usize = 8;
    const EACH: usize = 10_000;
    let t = signed_base("server-r6");
    let d = t.path().to_owned();
    b.adopt(&d);
    let server = Server::start(&d);
    let gb = signer(&d.join("keys/GB.key"));
    let before = server.size();
    let acknowledged: Vec<(u64, String)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..CLIENTS)
            .map(|c| {
                let url = server.url.clone();
                let gb = &gb;
                scope.spawn(move || {
                    let agent = Server::agent();
                    let mut mine = Vec::with_capacity(EACH);
                    for i in 0..EACH {
                        let st = report(
                            gb,
                            "GB",
                            "gb-tranches",
                            &format!("R6-{c}-{i}"),
                            "2024-10-01T00:00:00Z",
                        );
                        let (status, ack) = post(&agent, &url, "application/json", &st.leaf);
                        assert_eq!(status, 201, "{ack}");
                        let e = &ack["entries"][0];
                        mine.push((
                            e["index"].as_u64().unwrap(),
                            e["leaf_hash"].as_str().unwrap().to_owned(),
                        ));
                    }
                    mine
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("client"))
            .collect()
    });
    assert_eq!(acknowledged.len(), CLIENTS * EACH);
    assert_eq!(server.size(), before + (CLIENTS * EACH) as u64);
    let mut indices: Vec<u64> = acknowledged.iter().map(|(i, _)| *i).collect();
    indices.sort_unstable();
    let dense: Vec<u64> = (before..before + (CLIENTS * EACH) as u64).collect();
    assert_eq!(indices, dense);
    for (i, hash) in acknowledged.iter().step_by(997) {
        let proof = server.get_json(&format!("/v1/entries/{i}/proof"));
        assert_eq!(proof["leaf_hash"].as_str(), Some(hash.as_str()));
    }
    assert_eq!(server.terminate().code(), Some(0));
    let verified = ok(&d, &["verify"]);
    assert!(verified.starts_with("ok: 80007 entries"), "{verified}");
}

/// A tile client: the entry bundles and the level-0 hash tiles rebuild the root of the
/// operator's checkpoint; full tiles are immutable.
fn the_tiles_rebuild_the_checkpoint_root(b: &Backend) {
    let t = signed_base("server-tiles");
    let d = t.path();
    b.adopt(d);
    let server = Server::start(d);
    let gb = signer(&d.join("keys/GB.key"));
    let mut batch = Vec::new();
    for i in 0..300 {
        batch.extend(
            report(
                &gb,
                "GB",
                "gb-tranches",
                &format!("T-{i}"),
                "2024-10-01T00:00:00Z",
            )
            .leaf,
        );
        batch.push(b'\n');
    }
    let (status, ack) = server.post("application/x-ndjson", &batch);
    assert_eq!(status, 201, "{ack}");
    let (_, note) = server.get("/checkpoint");
    let note = String::from_utf8(note).unwrap();
    let mut lines = note.lines();
    assert_eq!(lines.next(), Some("test-compact"));
    let size: u64 = lines.next().unwrap().parse().unwrap();
    assert_eq!(size, 307);
    let root = lines.next().unwrap().to_owned();
    // Entry bundles: one full (256), one partial (51).
    let mut leaves = Vec::new();
    for (path, width) in [("/tile/entries/000", 256), ("/tile/entries/001.p/51", 51)] {
        let mut r = Server::agent()
            .get(format!("{}{path}", server.url))
            .call()
            .unwrap();
        assert_eq!(r.status().as_u16(), 200, "{path}");
        let cache = r
            .headers()
            .get("cache-control")
            .unwrap()
            .to_str()
            .unwrap()
            .to_owned();
        assert_eq!(cache.contains("immutable"), width == 256, "{path}: {cache}");
        let bundle = r.body_mut().read_to_vec().unwrap();
        let mut at = 0;
        let mut n = 0;
        while at < bundle.len() {
            let len = usize::from(u16::from_be_bytes([bundle[at], bundle[at + 1]]));
            leaves.push(bundle[at + 2..at + 2 + len].to_vec());
            at += 2 + len;
            n += 1;
        }
        assert_eq!(n, width, "{path}");
    }
    let mut tree = compact_log::MemoryTree::default();
    for leaf in &leaves {
        tree.push(leaf).unwrap();
    }
    use base64::Engine as _;
    let rebuilt = base64::engine::general_purpose::STANDARD.encode(tree.root(size).unwrap().0);
    assert_eq!(rebuilt, root);
    // The level-0 hash tile holds the leaf hashes.
    let (status, tile) = server.get("/tile/0/000");
    assert_eq!(status, 200);
    assert_eq!(tile.len(), 256 * 32);
    assert_eq!(
        &tile[32 * 9..32 * 10],
        compact_log::leaf_hash(&leaves[9]).0.as_slice()
    );
    // Beyond the log: 404.
    assert_eq!(server.get("/tile/entries/001").0, 404);
    assert_eq!(server.get("/tile/entries/001.p/52").0, 404);
    assert_eq!(server.get("/tile/1/000.p/1").0, 200);
}

/// R1 for the server: kill -9 during a sustained write load; after a restart every
/// acknowledged statement is in the log and `verify` passes.
fn kill_9_loses_no_acknowledged_statement(b: &Backend) {
    let t = signed_base("server-kill");
    let d = t.path().to_owned();
    b.adopt(&d);
    let server = Server::start(&d);
    let gb = signer(&d.join("keys/GB.key"));
    let url = server.url.clone();
    let stop = std::sync::atomic::AtomicBool::new(false);
    let acknowledged: Vec<(u64, String)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..4)
            .map(|c| {
                let (url, gb, stop) = (url.clone(), &gb, &stop);
                scope.spawn(move || {
                    let agent = Server::agent();
                    let mut mine = Vec::new();
                    for i in 0.. {
                        if stop.load(std::sync::atomic::Ordering::Relaxed) {
                            break;
                        }
                        let st = report(
                            gb,
                            "GB",
                            "gb-tranches",
                            &format!("K-{c}-{i}"),
                            "2024-10-01T00:00:00Z",
                        );
                        let Ok(mut r) = agent
                            .post(format!("{url}/v1/statements"))
                            .header("Content-Type", "application/json")
                            .send(&st.leaf[..])
                        else {
                            break;
                        };
                        if r.status().as_u16() != 201 {
                            break;
                        }
                        let Ok(ack) = r
                            .body_mut()
                            .read_to_vec()
                            .map_err(|_| ())
                            .and_then(|b| serde_json::from_slice::<Value>(&b).map_err(|_| ()))
                        else {
                            break;
                        };
                        let e = &ack["entries"][0];
                        mine.push((
                            e["index"].as_u64().unwrap(),
                            e["leaf_hash"].as_str().unwrap().to_owned(),
                        ));
                    }
                    mine
                })
            })
            .collect();
        std::thread::sleep(Duration::from_millis(1500));
        let mut server = server;
        server.child.kill().expect("kill -9");
        server.child.wait().expect("wait");
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("client"))
            .collect()
    });
    assert!(
        acknowledged.len() > 10,
        "too few writes to test: {}",
        acknowledged.len()
    );
    ok(&d, &["verify"]);
    let again = Server::start(&d);
    for (i, hash) in &acknowledged {
        let proof = again.get_json(&format!("/v1/entries/{i}/proof"));
        assert_eq!(
            proof["leaf_hash"].as_str(),
            Some(hash.as_str()),
            "entry {i}"
        );
    }
}

/// `verify --server`: a reader holding only the published compact files (no store, no keys)
/// audits the server's log from its tiles; an operator who rewrites an entry under the
/// running server is caught.
#[test]
fn verify_from_the_tiles_audits_the_remote_log() {
    let t = signed_base("server-verify");
    let d = t.path();
    let server = Server::start(d);
    let gb = signer(&d.join("keys/GB.key"));
    let mut batch = Vec::new();
    for i in 0..260 {
        batch.extend(
            report(
                &gb,
                "GB",
                "gb-tranches",
                &format!("V-{i}"),
                "2024-10-01T00:00:00Z",
            )
            .leaf,
        );
        batch.push(b'\n');
    }
    assert_eq!(server.post("application/x-ndjson", &batch).0, 201);
    let reader = tempfile::tempdir().expect("tempdir");
    for part in [
        "compact.toml",
        "rates.toml",
        "requirements.toml",
        "agreements",
        "parties",
    ] {
        let from = d.join(part);
        if from.is_dir() {
            common::copy_tree(&from, &reader.path().join(part));
        } else {
            std::fs::copy(&from, reader.path().join(part)).expect("copy");
        }
    }
    let out = ok(reader.path(), &["verify", "--server", &server.url]);
    assert!(out.starts_with("ok: 267 entries, fetched from"), "{out}");
    assert!(!reader.path().join("compact.sqlite").exists());
    // The operator rewrites entry 100's amount in the store the server serves.
    let db = rusqlite::Connection::open(d.join("compact.sqlite")).expect("open");
    let leaf: Vec<u8> = db
        .query_row("SELECT leaf FROM entries WHERE idx = 100", [], |r| r.get(0))
        .expect("leaf");
    let forged = String::from_utf8(leaf)
        .unwrap()
        .replace("5 shells", "6 shells");
    db.execute(
        "UPDATE entries SET leaf = ?1 WHERE idx = 100",
        [forged.as_bytes()],
    )
    .expect("update");
    let run = compact_in(Some(reader.path()), &["verify", "--server", &server.url]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(run.stderr.contains("entry 100"), "{}", run.stderr);
}

/// Writes `statements` as a JSON-lines import file at `path`.
fn write_lines<'a>(path: &Path, statements: impl IntoIterator<Item = &'a Statement>) {
    let mut text = Vec::new();
    for st in statements {
        text.extend_from_slice(&st.leaf);
        text.push(b'\n');
    }
    std::fs::write(path, text).expect("write the import file");
}

/// `compact import FILE --server`: the file's statements posted in batches; run again over an
/// interrupted import, what is in the log is counted as already there (one round trip per
/// batch, not per statement) and the rest written; a statement a rule refuses is named by its
/// line, with what was written before it.
fn import_over_http_completes_an_interrupted_run_and_names_a_refused_line(b: &Backend) {
    let t = signed_base("server-import");
    let d = t.path();
    b.adopt(d);
    let server = Server::start(d);
    let before = server.size();
    let gb = signer(&d.join("keys/GB.key"));
    let ua = signer(&d.join("keys/UA.key"));
    let all: Vec<Statement> = (0..2500)
        .map(|i| {
            report(
                &gb,
                "GB",
                "gb-tranches",
                &format!("I-{i}"),
                "2024-10-01T00:00:00Z",
            )
        })
        .collect();
    // An interrupted import: the first 1,300 lines written.
    write_lines(&d.join("part.jsonl"), &all[..1300]);
    write_lines(&d.join("all.jsonl"), &all);
    let import = |file: &str| {
        compact_in(
            Some(d),
            &["import", file, "--batch", "1000", "--server", &server.url],
        )
    };
    // Imports `file`: the summary line, and the log's size after.
    let imported = |file: &str, written: u64, batches: u64, already: u64, size: u64| {
        let run = import(file);
        assert_eq!(run.code, 0, "{}", run.stderr);
        assert_eq!(
            run.stdout.trim(),
            format!(
                "imported {written} statements in {batches} batches, {already} already in the log; the log now holds {size}"
            )
        );
        assert_eq!(server.size(), size);
    };
    imported("part.jsonl", 1300, 2, 0, before + 1300);
    // Run again over the whole file: the 1,300 are counted, the rest written.
    imported("all.jsonl", 1200, 2, 1300, before + 2500);
    // In the order of the file.
    use base64::Engine as _;
    for i in [0, 1299, 1300, 2499] {
        let leaf = server.get_json(&format!("/v1/entries/{}", before + i))["leaf"]
            .as_str()
            .unwrap()
            .to_owned();
        let leaf = base64::engine::general_purpose::STANDARD
            .decode(leaf)
            .unwrap();
        let logged = Statement::decode(&leaf).unwrap();
        assert_eq!(logged.statement_hash(), all[i as usize].statement_hash());
    }
    let verified = ok(d, &["verify"]);
    assert!(
        verified.starts_with(&format!("ok: {} entries", before + 2500)),
        "{verified}"
    );
    // Once more: everything already there, nothing written.
    imported("all.jsonl", 0, 0, 2500, before + 2500);
    // What the client reads: a batch holding statements already logged is refused whole
    // with each of them, its position in the batch and its index in the log.
    let fresh = report(&gb, "GB", "gb-tranches", "I-new", "2024-10-01T00:00:00Z");
    let mut batch = Vec::new();
    for st in [&all[7], &fresh, &all[9]] {
        batch.extend_from_slice(&st.leaf);
        batch.push(b'\n');
    }
    let (status, problem) = server.post("application/x-ndjson", &batch);
    assert_eq!(status, 409, "{problem}");
    assert_eq!(problem["code"], "duplicate");
    assert_eq!(
        problem["duplicates"],
        serde_json::json!([
            {"position": 0, "index": before + 7},
            {"position": 2, "index": before + 9},
        ])
    );
    assert_eq!(server.size(), before + 2500);
    // A file with a statement a rule refuses at line 2,200: the two batches before it are
    // written, the message names the line and what was written.
    let mut bad: Vec<Statement> = (0..2500)
        .map(|i| {
            report(
                &gb,
                "GB",
                "gb-tranches",
                &format!("B-{i}"),
                "2024-10-01T00:00:00Z",
            )
        })
        .collect();
    bad[2199] = report(&ua, "UA", "gb-tranches", "UA-B", "2024-10-01T00:00:00Z");
    write_lines(&d.join("bad.jsonl"), &bad);
    let run = import("bad.jsonl");
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(run.stderr.contains("error[role]"), "{}", run.stderr);
    assert!(
        run.stderr.contains("bad.jsonl:2200: refused"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("2000 statements of this input were written before it, in 2 batches"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("everything through line 2000 is in the log"),
        "{}",
        run.stderr
    );
    assert!(run.stdout.is_empty(), "{}", run.stdout);
    assert_eq!(server.size(), before + 4500);
    ok(d, &["verify"]);
    assert_eq!(server.terminate().code(), Some(0));
}

/// A body over the server's cap is answered 413 as a problem (documented), and the server
/// goes on answering.
#[test]
fn a_body_over_the_cap_is_a_413_problem_and_the_server_goes_on() {
    let t = signed_base("server-too-large");
    let server = Server::start(t.path());
    let doc = server.get_json("/v1/openapi.json");
    assert!(
        doc["paths"]["/v1/reconcile/kiel"]["post"]["responses"]
            .get("413")
            .is_some(),
        "413 is not documented"
    );
    let body = vec![b'0'; compact_server::BODY_MAX + 1];
    let mut r = Server::agent()
        .post(format!("{}/v1/reconcile/kiel", server.url))
        .header("Content-Type", "text/csv")
        .send(&body[..])
        .expect("POST");
    assert_eq!(r.status().as_u16(), 413);
    let media = r
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert_eq!(media, "application/problem+json");
    let problem: Value = serde_json::from_slice(&r.body_mut().read_to_vec().unwrap()).unwrap();
    assert_eq!(problem["status"], 413, "{problem}");
    assert_eq!(problem["code"], "too-large", "{problem}");
    assert!(
        problem["detail"].as_str().unwrap().contains("16 MiB"),
        "{problem}"
    );
    let (status, body) = server.get("/healthz");
    assert_eq!((status, body.as_slice()), (200, b"ok\n".as_slice()));
    assert_eq!(server.terminate().code(), Some(0));
}

/// A compact the server cannot serve (here: no operator key to sign checkpoints) fails at
/// start with the reason, before it says it listens: a script waiting for the address is not
/// told of a server that is not there.
#[test]
fn a_server_that_cannot_serve_says_why_before_it_listens() {
    let t = signed_base("server-no-key");
    let d = t.path();
    std::fs::remove_file(d.join("keys/operator.key")).expect("remove the operator key");
    let mut child = Command::new(env!("CARGO_BIN_EXE_compact"))
        .args(["serve", "--listen", "127.0.0.1:0", "--dir"])
        .arg(d)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start compact serve");
    let mut waited = Duration::ZERO;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if waited > Duration::from_secs(60) {
            let _ = child.kill();
            panic!("compact serve did not stop without an operator key");
        }
        std::thread::sleep(Duration::from_millis(50));
        waited += Duration::from_millis(50);
    };
    let out = child.wait_with_output().expect("output");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!status.success());
    assert!(!stdout.contains("listening on"), "{stdout}");
    assert!(stderr.contains("operator.key"), "{stderr}");
}

/// Cents of an amount the API gives to the cent (`"12.30"`).
fn cents(v: &Value) -> i128 {
    v.as_str()
        .and_then(|s| s.replace('.', "").parse().ok())
        .unwrap_or_else(|| panic!("not an amount to the cent: {v}"))
}

#[test]
fn the_aid_rows_sum_to_the_status_reports_rows() {
    let t = demo_dir();
    let d = t.path().join("demo");
    let server = Server::start(&d);
    let aid = server.get_json("/v1/aid?as_of=2026-04-30");
    let rows = aid["rows"].as_array().expect("rows");
    assert!(rows.len() > 20, "{aid}");
    let groups: std::collections::BTreeMap<&str, &str> = aid["guarantors"]
        .as_array()
        .expect("guarantors")
        .iter()
        .map(|p| {
            (
                p["code"].as_str().unwrap_or(""),
                p["group"].as_str().unwrap_or(""),
            )
        })
        .collect();
    for (by, key) in [
        ("guarantor", "guarantor"),
        ("pillar", "pillar"),
        ("year", "year"),
        ("group", "group"),
    ] {
        let status = server.get_json(&format!("/v1/status?as_of=2026-04-30&by={by}"));
        for row in status["rows"].as_array().expect("status rows") {
            let name = row["key"].as_str().unwrap_or("");
            let mine = rows.iter().filter(|r| match key {
                "year" => r["year"].as_i64().is_some_and(|y| y.to_string() == name),
                "group" => groups.get(r["guarantor"].as_str().unwrap_or("")) == Some(&name),
                _ => r[key].as_str() == Some(name),
            });
            let mine: Vec<&Value> = mine.collect();
            for f in [
                "due",
                "surge",
                "allocated",
                "reported",
                "confirmed",
                "arrears",
            ] {
                let sum: i128 = mine.iter().map(|r| cents(&r[f])).sum();
                assert_eq!(sum, cents(&row[f]), "by {by}: {name} {f}");
            }
        }
    }
    // Units apart, by guarantor and unit.
    let status = server.get_json("/v1/status?as_of=2026-04-30&by=guarantor");
    for u in status["units"].as_array().expect("units") {
        let sum: f64 = aid["units"]
            .as_array()
            .expect("aid units")
            .iter()
            .filter(|r| r["guarantor"] == u["key"] && r["unit"] == u["unit"])
            .map(|r| {
                r["confirmed"]
                    .as_str()
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(f64::NAN)
            })
            .sum();
        let want: f64 = u["confirmed"]
            .as_str()
            .and_then(|s| s.parse().ok())
            .unwrap_or(f64::NAN);
        assert!((sum - want).abs() < 1e-6, "{u}: {sum}");
    }
    assert_eq!(server.get("/v1/aid?as_of=2026-02-30").0, 400);
    assert_eq!(server.get("/v1/aid?at=2026-02-01").0, 400);
}

// The server's write path, its recovery and its proofs, on each backend.
common::per_backend!(
    a_statement_posted_lands_and_its_proof_verifies_offline,
    r5_every_bad_write_is_refused_with_its_code_and_writes_nothing,
    r6_concurrent_clients_lose_nothing,
    the_tiles_rebuild_the_checkpoint_root,
    kill_9_loses_no_acknowledged_statement,
    import_over_http_completes_an_interrupted_run_and_names_a_refused_line,
);
