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

use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::{ok_in as ok, signed_base};
use compact_log::cosignature::{CosignatureVerifier, cosignatures};

/// A witness process on a free loopback port.
struct WitnessProcess {
    child: Child,
    url: String,
}

impl WitnessProcess {
    fn start(key: &Path, log: &str, state: &Path) -> WitnessProcess {
        let mut child = Command::new(env!("CARGO_BIN_EXE_compact"))
            .args(["witness", "serve", "--listen", "127.0.0.1:0", "--key"])
            .arg(key)
            .args(["--log", log, "--state"])
            .arg(state)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start compact witness serve");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("read the address");
        let url = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("no address in {line:?}"))
            .to_owned();
        WitnessProcess { child, url }
    }

    /// POST add-checkpoint: (status, content type, body).
    fn add(&self, body: &[u8]) -> (u16, String, String) {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(60)))
            .build()
            .new_agent();
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

impl Drop for WitnessProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn a_witness_cosigns_the_log_s_checkpoints_and_remembers() {
    let t = signed_base("witness");
    let d = t.path();
    let made = ok(
        d,
        &["keygen", "--witness", "witness.example/w1", "--seed", "w1"],
    );
    let vkey = made
        .lines()
        .find_map(|l| l.strip_prefix("witness key "))
        .expect("the verifier key")
        .to_owned();
    let key = d.join("keys/witness-witness.example_w1.key");
    assert!(key.exists(), "{made}");
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
