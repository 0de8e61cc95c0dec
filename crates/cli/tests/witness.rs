//! A witness (C2SP tlog-witness) through the real binary: `compact keygen --witness`, then
//! `compact witness serve` cosigning this compact's checkpoints over HTTP, answering the spec's
//! statuses, and keeping its state across a kill -9.

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::{ok_in as ok, signed_base};
use compact_log::cosignature::{CosignatureVerifier, cosignatures};

/// A witness process on a free loopback port.
struct WitnessProcess {
    /// Stopped when this is dropped.
    _process: common::Listening,
    url: String,
}

impl WitnessProcess {
    fn start(key: &Path, log: &str, state: &Path) -> WitnessProcess {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_compact"));
        cmd.args(["witness", "serve", "--listen", "127.0.0.1:0", "--key"])
            .arg(key)
            .args(["--log", log, "--state"])
            .arg(state);
        let process = common::Listening::start(cmd);
        let url = process.url.clone();
        WitnessProcess {
            _process: process,
            url,
        }
    }

    /// POST add-checkpoint: (status, content type, body).
    fn add(&self, body: &[u8]) -> (u16, String, String) {
        let agent = common::agent();
        let mut r = agent
            .post(format!("{}/add-checkpoint", self.url))
            .send(body)
            .expect("POST");
        let status = r.status().as_u16();
        let media = r
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        (status, media, r.body_mut().read_to_string().expect("body"))
    }
}

#[test]
fn a_witness_cosigns_the_log_s_checkpoints_and_remembers() {
    let t = signed_base("witness");
    let d = t.path();
    let vkey = common::witness_key(d, "witness.example/w1", &[]);
    let key = d.join("keys/witness-witness.example_w1.key");
    assert!(key.exists(), "{vkey}");
    let origin = ok(d, &["log", "checkpoint"])
        .lines()
        .next()
        .expect("origin")
        .to_owned();
    let log_key = ok(d, &["log", "public-key"]).trim().to_owned();
    let checkpoint = ok(d, &["log", "checkpoint"]);
    let state = d.join("witness.sqlite");
    let log = format!("{origin}={log_key}");
    let witness = WitnessProcess::start(&key, &log, &state);

    // The first cosignature: from size 0, no proof.
    let (status, media, lines) = witness.add(format!("old 0\n\n{checkpoint}").as_bytes());
    assert_eq!(status, 200, "{lines}");
    assert!(media.starts_with("text/plain"), "{media}");
    let cosigned = format!("{checkpoint}{lines}");
    let v = CosignatureVerifier::new(&vkey).expect("witness vkey");
    let found = cosignatures(cosigned.as_bytes(), &[v]).expect("cosignatures");
    assert_eq!(found.len(), 1, "{cosigned}");
    assert_eq!(found[0].cosigner, "witness.example/w1");

    // From size 0 again: 409 with the size it cosigned, as text/x.tlog.size.
    let size = checkpoint.lines().nth(1).expect("size").to_owned();
    let (status, media, body) = witness.add(format!("old 0\n\n{checkpoint}").as_bytes());
    assert_eq!((status, media.as_str()), (409, "text/x.tlog.size"));
    assert_eq!(body, format!("{size}\n"));

    // Malformed, an origin it does not witness, a key it does not trust.
    assert_eq!(witness.add(b"old 00\n\n").0, 400);
    let renamed = checkpoint.replacen(&origin, "elsewhere.example/log", 1);
    assert_eq!(witness.add(format!("old 0\n\n{renamed}").as_bytes()).0, 404);
    let other = signed_base("witness-other");
    let foreign = ok(other.path(), &["log", "checkpoint"]);
    // The same origin signed by another operator key: no signature it trusts.
    assert_eq!(foreign.lines().next(), Some(origin.as_str()));
    assert_eq!(
        witness.add(format!("old {size}\n\n{foreign}").as_bytes()).0,
        403
    );

    // kill -9, restart on the same state: it remembers what it cosigned.
    drop(witness);
    let witness = WitnessProcess::start(&key, &log, &state);
    let (status, _, body) = witness.add(format!("old 0\n\n{checkpoint}").as_bytes());
    assert_eq!((status, body), (409, format!("{size}\n")));
    let (status, _, _) = witness.add(format!("old {size}\n\n{checkpoint}").as_bytes());
    assert_eq!(status, 200, "the same checkpoint again is cosigned");
}

#[test]
fn a_witness_refuses_a_bad_start() {
    let t = signed_base("witness-bad");
    let d = t.path();
    let run = common::compact_in(
        Some(d),
        &["witness", "serve", "--key", "missing.key", "--log", "a=b"],
    );
    assert_ne!(run.code, 0);
    assert!(run.stderr.contains("missing.key"), "{}", run.stderr);
    let run = common::compact_in(
        Some(d),
        &["witness", "serve", "--key", "k", "--log", "nokey"],
    );
    assert_eq!(run.code, 2, "a usage error: {}", run.stderr);
    assert!(run.stderr.contains("ORIGIN=KEY"), "{}", run.stderr);
    let run = common::compact_in(Some(d), &["keygen", "--witness", "has space"]);
    assert_ne!(run.code, 0);
}

/// `compact submit --server URL` of a delivery report by GB with `reference`, at `time`.
fn submit(url: &str, reference: &str, time: &str) -> Vec<String> {
    [
        "submit",
        "--server",
        url,
        "--key",
        "keys/GB.key",
        "--type",
        "delivery.report",
        "--payload",
        &format!(
            r#"{{"commitment":"gb-tranches","amount":"100 shells","date":"2024-06-30","reference":"{reference}"}}"#
        ),
        "--time",
        time,
    ]
    .map(str::to_owned)
    .to_vec()
}

/// Polls `url` until its `Compact-Cosignatures` header starts with `want`: the checkpoint then.
fn checkpoint_with(url: &str, want: &str) -> String {
    let agent = common::agent();
    let mut last = String::new();
    for _ in 0..300 {
        let mut r = agent.get(format!("{url}/checkpoint")).call().expect("GET");
        last = r
            .headers()
            .get("compact-cosignatures")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let body = r.body_mut().read_to_string().expect("body");
        if last.starts_with(want) {
            return body;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("the checkpoint never had {want} cosignatures (last: {last:?})");
}

#[test]
fn the_log_collects_its_witnesses_cosignatures() {
    let t = signed_base("witnessed");
    let d = t.path();
    let origin = ok(d, &["log", "checkpoint"])
        .lines()
        .next()
        .expect("origin")
        .to_owned();
    let log_key = ok(d, &["log", "public-key"]).trim().to_owned();
    let log = format!("{origin}={log_key}");
    let mut witnesses = Vec::new();
    let mut verifiers = Vec::new();
    let mut config = String::from("\n");
    for n in 1..=3 {
        let name = format!("w{n}.example");
        let vkey = common::witness_key(d, &name, &[]);
        let w = WitnessProcess::start(
            &d.join(format!("keys/witness-{name}.key")),
            &log,
            &d.join(format!("{name}.sqlite")),
        );
        config.push_str(&format!(
            "[[log.witnesses]]\nname = \"{name}\"\nkey = \"{vkey}\"\nurl = \"{}\"\n\n",
            w.url
        ));
        verifiers.push(CosignatureVerifier::new(&vkey).expect("vkey"));
        witnesses.push(w);
    }
    let toml = d.join("compact.toml");
    let mut text = std::fs::read_to_string(&toml).expect("compact.toml");
    text.push_str(&config);
    std::fs::write(&toml, text).expect("write compact.toml");
    ok(d, &["check"]);

    let server = common::Listening::serve(d);
    // The checkpoint the server starts with is cosigned by all three.
    let note = checkpoint_with(&server.url, "3; quorum=3");
    let found = cosignatures(note.as_bytes(), &verifiers).expect("cosignatures");
    assert_eq!(found.len(), 3, "{note}");

    // A statement lands: its checkpoint is cosigned too (each witness given a proof from the
    // size it held).
    let run = common::compact_in(
        Some(d),
        &submit(&server.url, "GB-1", "2024-07-01")
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let note = checkpoint_with(&server.url, "3; quorum=3");
    assert!(note.contains("\n8\n"), "the checkpoint of size 8: {note}");
    assert_eq!(
        cosignatures(note.as_bytes(), &verifiers)
            .expect("cosignatures")
            .len(),
        3
    );

    // A proof bundle of entry 7, from the server and from the store, verifies offline with the
    // log's key and the three witnesses' keys, and says what it proved.
    let state = tempfile::tempdir().unwrap();
    let mut bundle_args = vec![
        "log",
        "bundle",
        "7",
        "--out",
        "bundle.json",
        "--server",
        server.url.as_str(),
        "--state",
        state.path().to_str().unwrap(),
    ];
    ok(d, &bundle_args);
    bundle_args.truncate(5);
    bundle_args[4] = "local.json";
    ok(d, &bundle_args);
    let vkeys: Vec<String> = (1..=3)
        .map(|n| {
            common::witness_key(
                d,
                &format!("w{n}.example"),
                &["--out", &format!("again-{n}.key")],
            )
        })
        .collect();
    for file in ["bundle.json", "local.json"] {
        let mut args = vec!["log", "verify-bundle", file, "--log-key", log_key.as_str()];
        for v in &vkeys {
            args.extend(["--witness", v.as_str()]);
        }
        let said = ok(d, &args);
        assert_eq!(
            said.trim(),
            "ok: entry 7, a delivery.report by GB, signed with GB's key registered at entry 2, is in the log of test-compact at size 8, cosigned by 3 of 3 witnesses",
            "{file}"
        );
    }
    // Every byte of the bundle changed in turn: it never verifies.
    let bytes = std::fs::read(d.join("bundle.json")).unwrap();
    let witness_keys = vkeys.clone();
    for i in 0..bytes.len() {
        let mut changed = bytes.clone();
        changed[i] ^= 0x01;
        let Ok(b) = serde_json::from_slice::<compact_service::bundle::Bundle>(&changed) else {
            continue;
        };
        assert!(
            compact_service::bundle::verify(&b, &log_key, &witness_keys, None).is_err(),
            "byte {i} changed ({:?}), and the bundle still verifies",
            changed[i] as char
        );
    }

    // A witness down delays nothing but its own cosignature.
    drop(witnesses.pop());
    let run = common::compact_in(
        Some(d),
        &submit(&server.url, "GB-2", "2024-07-02")
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let note = checkpoint_with(&server.url, "2; quorum=3");
    assert!(note.contains("\n9\n"), "{note}");
}

#[test]
fn a_rolled_back_log_cannot_get_its_other_history_cosigned() {
    let t = signed_base("witness-rollback");
    let d = t.path();
    let origin = ok(d, &["log", "checkpoint"])
        .lines()
        .next()
        .unwrap()
        .to_owned();
    let log_key = ok(d, &["log", "public-key"]).trim().to_owned();
    let vkey = common::witness_key(d, "w1.example", &[]);
    let witness = WitnessProcess::start(
        &d.join("keys/witness-w1.example.key"),
        &format!("{origin}={log_key}"),
        &d.join("w1.sqlite"),
    );
    let toml = d.join("compact.toml");
    let mut text = std::fs::read_to_string(&toml).unwrap();
    text.push_str(&format!(
        "\n[[log.witnesses]]\nname = \"w1.example\"\nkey = \"{vkey}\"\nurl = \"{}\"\n",
        witness.url
    ));
    std::fs::write(&toml, text).unwrap();
    let state = tempfile::tempdir().unwrap();
    let s = state.path().to_str().unwrap();
    // The store as it is now (size 7), kept aside by the operator.
    let aside = tempfile::tempdir().unwrap();
    for name in ["compact.sqlite", "compact.sqlite-wal", "compact.sqlite-shm"] {
        if d.join(name).exists() {
            std::fs::copy(d.join(name), aside.path().join(name)).unwrap();
        }
    }
    let report = |reference: &str| common::DELIVERY_REPORT.replace("GB-2024-17", reference);
    // A local append: its checkpoint is cosigned by the witness at once.
    let payload = report("GB-1");
    let run = common::compact_in(
        Some(d),
        &common::submit_args("keys/GB.key", "delivery.report", &payload, "2024-07-01"),
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(!run.stderr.contains("warning"), "{}", run.stderr);
    ok(d, &["verify", "--state", s]);
    // The operator rolls the store back and appends another history.
    for name in ["compact.sqlite", "compact.sqlite-wal", "compact.sqlite-shm"] {
        let _ = std::fs::remove_file(d.join(name));
        if aside.path().join(name).exists() {
            std::fs::copy(aside.path().join(name), d.join(name)).unwrap();
        }
    }
    let payload = report("GB-other");
    let run = common::compact_in(
        Some(d),
        &common::submit_args("keys/GB.key", "delivery.report", &payload, "2024-07-01"),
    );
    assert_eq!(run.code, 0, "the entry is written: {}", run.stderr);
    assert!(
        run.stderr.contains("witness w1.example did not cosign")
            && run.stderr.contains("a fork of this log")
            && run.stderr.contains("cosigned by 0 of the 1"),
        "{}",
        run.stderr
    );
    // The audit with the witness policy fails, naming it; and a client that saw the first
    // history refuses the second.
    let run = common::compact_in(Some(d), &["verify"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("0 valid cosignature(s) of the 1 compact.toml's quorum asks"),
        "{}",
        run.stderr
    );
    let run = common::compact_in(Some(d), &["verify", "--state", s]);
    assert_eq!(run.code, 1, "{}", run.stderr);
}

#[test]
fn the_demo_s_checkpoint_is_cosigned_by_three_witnesses_and_its_entries_bundle() {
    let t = tempfile::tempdir().unwrap();
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
    let d = d.as_path();
    let origin = ok(d, &["log", "checkpoint"])
        .lines()
        .next()
        .unwrap()
        .to_owned();
    let log_key = ok(d, &["log", "public-key"]).trim().to_owned();
    let mut witnesses = Vec::new();
    let mut vkeys = Vec::new();
    let mut config = String::from("\n");
    for n in 1..=3 {
        let name = format!("w{n}.example");
        let vkey = common::witness_key(d, &name, &[]);
        let w = WitnessProcess::start(
            &d.join(format!("keys/witness-{name}.key")),
            &format!("{origin}={log_key}"),
            &d.join(format!("{name}.sqlite")),
        );
        config.push_str(&format!(
            "[[log.witnesses]]\nname = \"{name}\"\nkey = \"{vkey}\"\nurl = \"{}\"\n\n",
            w.url
        ));
        vkeys.push(vkey);
        witnesses.push(w);
    }
    let toml = d.join("compact.toml");
    let mut text = std::fs::read_to_string(&toml).unwrap();
    text.push_str(&config);
    std::fs::write(&toml, text).unwrap();
    let server = common::Listening::serve(d);
    let note = checkpoint_with(&server.url, "3; quorum=3");
    let size: u64 = note.lines().nth(1).unwrap().parse().unwrap();
    assert!(size > 1000, "the demo's log: {size}");
    // Any entry of the demo, bundled from the server, verifies offline.
    let state = tempfile::tempdir().unwrap();
    for index in [0, 17, size / 2, size - 1] {
        let i = index.to_string();
        ok(
            d,
            &[
                "log",
                "bundle",
                &i,
                "--out",
                "b.json",
                "--server",
                &server.url,
                "--state",
                state.path().to_str().unwrap(),
            ],
        );
        let mut args = vec![
            "log",
            "verify-bundle",
            "b.json",
            "--log-key",
            log_key.as_str(),
        ];
        for v in &vkeys {
            args.extend(["--witness", v.as_str()]);
        }
        let said = ok(d, &args);
        assert!(
            said.starts_with(&format!("ok: entry {index}, "))
                && said.contains(&format!(
                    "is in the log of {origin} at size {size}, cosigned by 3 of 3 witnesses"
                )),
            "{said}"
        );
    }
}

/// A bundle checked with another log's key, a file that is not a bundle, a bundle of another
/// format, an entry beyond the log: each refused, saying why.
#[test]
fn a_bundle_that_proves_nothing_is_refused() {
    let t = signed_base("bundle-bad");
    let d = t.path();
    ok(d, &["log", "bundle", "3", "--out", "b.json"]);
    let key = ok(d, &["log", "public-key"]).trim().to_owned();
    ok(d, &["log", "verify-bundle", "b.json", "--log-key", &key]);
    let other = signed_base("bundle-bad-other");
    let stranger = ok(other.path(), &["log", "public-key"]).trim().to_owned();
    let refused = |args: &[&str], why: &str| {
        let run = common::compact_in(Some(d), args);
        assert_eq!(run.code, 1, "{args:?}: {}", run.stderr);
        assert!(run.stderr.contains(why), "{args:?}: {}", run.stderr);
    };
    refused(
        &["log", "verify-bundle", "b.json", "--log-key", &stranger],
        "the checkpoint",
    );
    std::fs::write(d.join("junk.json"), "{\"not\": \"a bundle\"}").unwrap();
    refused(
        &["log", "verify-bundle", "junk.json", "--log-key", &key],
        "not a bundle",
    );
    let text = std::fs::read_to_string(d.join("b.json")).unwrap();
    std::fs::write(
        d.join("v2.json"),
        text.replace("compact-bundle/v1", "compact-bundle/v2"),
    )
    .unwrap();
    refused(
        &["log", "verify-bundle", "v2.json", "--log-key", &key],
        "not a bundle of this format",
    );
    let witness = common::witness_key(d, "w9.example", &[]);
    refused(
        &[
            "log",
            "verify-bundle",
            "b.json",
            "--log-key",
            &key,
            "--witness",
            &witness,
        ],
        "cosigned by 0 of the 1 witnesses asked",
    );
    let run = common::compact_in(Some(d), &["log", "bundle", "99"]);
    assert_ne!(run.code, 0);
    assert!(run.stderr.contains("99"), "{}", run.stderr);
}
