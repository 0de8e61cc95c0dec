//! A compact living on PostgreSQL: its log copied from SQLite and back with equal roots, the
//! same reports, appends local and over HTTP, the audit, and a wrong database refused. Each
//! test makes a fresh database in the cluster `COMPACT_TEST_POSTGRES` names; without it the
//! tests say they were skipped and pass (unless `COMPACT_REQUIRE_POSTGRES` is set).

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

use common::{Listening, compact_in, fails_in, ok_in, signed_base, submit_args};
use compact_store::Reads as _;
use compact_store_postgres::testkit::TestDatabase;

/// The root `compact store copy` proved (the last word of its last line).
fn copied_root(out: &str) -> String {
    let last = out.lines().last().unwrap_or_default();
    assert!(last.starts_with("proved: "), "{out}");
    last.rsplit(' ').next().unwrap_or_default().to_owned()
}

/// The root `compact verify` recomputed.
fn verified_root(out: &str) -> String {
    let line = out
        .lines()
        .find(|l| l.starts_with("ok: "))
        .unwrap_or_else(|| panic!("{out}"));
    line.rsplit(' ').next().unwrap_or_default().to_owned()
}

#[test]
fn the_demo_copied_to_postgres_reports_the_same_and_copies_back() {
    let Some(db) = TestDatabase::new("cli_demo_copy") else {
        return;
    };
    let t = tempfile::tempdir().unwrap();
    let d = t.path().join("demo");
    let demo = compact_in(None, &["demo", "--dir", d.to_str().unwrap(), "--no-serve"]);
    assert_eq!(demo.code, 0, "{}", demo.stderr);
    let sqlite_root = verified_root(&ok_in(&d, &["verify"]));
    let out = ok_in(&d, &["store", "copy", "--to", db.url()]);
    assert_eq!(copied_root(&out), sqlite_root, "{out}");
    let on_sqlite = ok_in(&d, &["status", "--format", "json"]);
    let on_pg = ok_in(&d, &["status", "--format", "json", "--database", db.url()]);
    assert_eq!(on_sqlite, on_pg);
    // Back to a new SQLite file: the same root again.
    let back = t.path().join("back.sqlite");
    let out = ok_in(
        &d,
        &[
            "store",
            "copy",
            "--database",
            db.url(),
            "--to",
            back.to_str().unwrap(),
        ],
    );
    assert_eq!(copied_root(&out), sqlite_root, "{out}");
    let again = ok_in(&d, &["verify", "--database", back.to_str().unwrap()]);
    assert_eq!(verified_root(&again), sqlite_root);
    // A target that holds a store is refused, and left as it was.
    let err = fails_in(&d, &["store", "copy", "--to", db.url()]);
    assert!(err.contains("already holds a compact store"), "{err}");
    let err = fails_in(&d, &["store", "copy", "--to", back.to_str().unwrap()]);
    assert!(err.contains("exists"), "{err}");
    assert_eq!(
        on_pg,
        ok_in(&d, &["status", "--format", "json", "--database", db.url()])
    );
}

#[test]
fn a_compact_on_postgres_appends_verifies_and_serves() {
    let Some(db) = TestDatabase::new("cli_pg_live") else {
        return;
    };
    let t = signed_base("pg-live");
    let d = t.path();
    ok_in(d, &["store", "copy", "--to", db.url()]);
    // The compact now names its store in compact.toml (without a password).
    let toml = d.join("compact.toml");
    let mut text = std::fs::read_to_string(&toml).unwrap();
    text.push_str(&format!("\n[store]\nurl = \"{}\"\n", db.url()));
    std::fs::write(&toml, text).unwrap();
    std::fs::remove_file(d.join("compact.sqlite")).unwrap();
    ok_in(d, &["check"]);
    let out = ok_in(
        d,
        &submit_args(
            "keys/GB.key",
            "delivery.report",
            r#"{"commitment":"gb-tranches","amount":"500 shells","date":"2024-06-30","reference":"GB-1"}"#,
            "2024-07-01",
        ),
    );
    assert!(out.contains("entry 7"), "{out}");
    assert!(
        !d.join("compact.sqlite").exists(),
        "nothing written to SQLite"
    );
    let verified = ok_in(d, &["verify"]);
    assert!(verified.starts_with("ok: 8 entries"), "{verified}");

    // Served from PostgreSQL: status answers, and a statement submitted over HTTP lands.
    let mut child = Command::new(env!("CARGO_BIN_EXE_compact"))
        .args(["serve", "--listen", "127.0.0.1:0", "--dir"])
        .arg(d)
        .env("COMPACT_CLOCK", "replay")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("no address in {line:?}"))
        .to_owned();
    let mut r = ureq::get(format!("{url}/v1/status?as_of=2024-12-31"))
        .call()
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let status: serde_json::Value =
        serde_json::from_slice(&r.body_mut().read_to_vec().unwrap()).unwrap();
    assert!(status.is_object(), "{status}");
    let run = compact_in(
        Some(d),
        &[
            "submit",
            "--server",
            &url,
            "--key",
            "keys/GB.key",
            "--type",
            "delivery.report",
            "--payload",
            r#"{"commitment":"gb-tranches","amount":"200 shells","date":"2024-07-30","reference":"GB-2"}"#,
            "--time",
            "2024-08-01",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout.trim(), "entry 8: delivery.report by GB");
    let pid = child.id().to_string();
    Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    let exit = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&exit.stderr);
    assert!(exit.status.success(), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    let verified = ok_in(d, &["verify"]);
    assert!(verified.starts_with("ok: 9 entries"), "{verified}");
    // And back to SQLite, proved by the same root.
    let root = verified_root(&verified);
    let back = d.join("back.sqlite");
    let out = ok_in(d, &["store", "copy", "--to", back.to_str().unwrap()]);
    assert_eq!(copied_root(&out), root);
}

#[test]
fn init_on_postgres_and_wrong_databases_are_refused_in_one_line() {
    let Some(db) = TestDatabase::new("cli_pg_init") else {
        return;
    };
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    common::copy_tree(&common::fixtures().join("base"), d);
    ok_in(d, &["keygen", "--party", "GB", "--seed", "pg-init"]);
    ok_in(d, &["keygen", "--operator", "--seed", "pg-init"]);
    let out = ok_in(d, &["init", "--database", db.url()]);
    assert!(out.contains(db.name()), "{out}");
    assert!(!d.join("compact.sqlite").exists());
    let verified = ok_in(d, &["verify", "--database", db.url()]);
    assert!(verified.starts_with("ok: "), "{verified}");
    // Again into the same database: refused, naming whose log it holds.
    let err = fails_in(d, &["init", "--database", db.url()]);
    assert!(err.contains("already holds a compact store"), "{err}");

    // A database that does not exist, and a server that is not there.
    let missing = db.url().replace(db.name(), "no_such_database_here");
    let err = fails_in(d, &["status", "--database", &missing]);
    assert!(err.contains("does not exist"), "{err}");
    let init = compact_in(Some(d), &["init", "--database", &missing]);
    assert_ne!(init.code, 0);
    assert!(init.stderr.contains("does not exist"), "{}", init.stderr);
    let unreachable = compact_in(
        Some(d),
        &[
            "init",
            "--database",
            "postgres://postgres@127.0.0.1:1/compact",
        ],
    );
    // A server that is not there may come back: transient (exit 75), in one line.
    assert_eq!(unreachable.code, 75, "{}", unreachable.stderr);
    assert!(
        unreachable.stderr.contains("could not be reached"),
        "{}",
        unreachable.stderr
    );
    assert!(!d.join("compact.sqlite").exists(), "nothing written");
    // Credentials the server refuses: a role it does not know.
    let stranger = db.url().replacen("postgres@", "nobody_known_here@", 1);
    assert_ne!(stranger, db.url());
    let run = compact_in(Some(d), &["status", "--database", &stranger]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("nobody_known_here"), "{}", run.stderr);
    // A database holding another compact's log: named, and left as it was.
    let other = TestDatabase::new("cli_pg_other_compact").unwrap();
    drop(compact_store_postgres::PostgresStore::create(other.url(), "another-compact").unwrap());
    let run = compact_in(Some(d), &["status", "--database", other.url()]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("another-compact"), "{}", run.stderr);
    let run = compact_in(
        Some(d),
        &[
            "submit",
            "--database",
            other.url(),
            "--key",
            "keys/GB.key",
            "--type",
            "threat.level",
            "--payload",
            r#"{"level":"elevated"}"#,
        ],
    );
    assert_ne!(run.code, 0, "{}", run.stdout);
    assert!(run.stderr.contains("another-compact"), "{}", run.stderr);
    let size = compact_store_postgres::PostgresStore::open_read_only(other.url())
        .unwrap()
        .latest_checkpoint()
        .unwrap();
    assert_eq!(size, None, "nothing written to another compact's log");
    // Every one of these errors is one line.
    for run in [&init, &unreachable] {
        assert_eq!(run.stderr.trim_end().lines().count(), 1, "{}", run.stderr);
    }

    // A URL with a password in compact.toml, and one that is not PostgreSQL's.
    check_store_url(d, "postgres://u:secret@localhost/db", "holds a password");
    check_store_url(d, "mysql://localhost/db", "not a PostgreSQL URL");
}

/// `compact check` refuses `[store] url = url` with a finding at its line.
fn check_store_url(d: &Path, url: &str, says: &str) {
    let toml = d.join("compact.toml");
    let before = std::fs::read_to_string(&toml).unwrap();
    std::fs::write(&toml, format!("{before}\n[store]\nurl = \"{url}\"\n")).unwrap();
    let run = compact_in(Some(d), &["check"]);
    assert_ne!(run.code, 0);
    let all = format!("{}{}", run.stdout, run.stderr);
    assert!(all.contains("compact.toml:") && all.contains(says), "{all}");
    // Any other command refuses the place in one line (the finding names no password).
    let run = compact_in(Some(d), &["status"]);
    assert_ne!(run.code, 0);
    assert!(run.stderr.contains(says), "{}", run.stderr);
    assert!(!run.stderr.contains("secret"), "{}", run.stderr);
    std::fs::write(&toml, before).unwrap();
}

/// A cluster of its own for one test, which it may stop and start (`.ci/postgres down|up`);
/// removed when dropped.
struct OwnCluster {
    dir: String,
    port: String,
    url: String,
}

impl OwnCluster {
    fn script(&self, verb: &str) -> std::process::Output {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.ci/postgres");
        Command::new(script)
            .arg(verb)
            .env("COMPACT_PG_DIR", &self.dir)
            .env("COMPACT_PG_PORT", &self.port)
            .output()
            .unwrap()
    }

    fn start(test: &str) -> OwnCluster {
        let pid = std::process::id();
        let mut c = OwnCluster {
            // Under /tmp itself: the server's user must reach it (a tempdir is the tester's).
            dir: format!("/tmp/compact-pg-{test}-{pid}"),
            port: (56000 + pid % 4000).to_string(),
            url: String::new(),
        };
        let out = c.script("start");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let said = String::from_utf8_lossy(&out.stdout);
        c.url = said
            .trim()
            .strip_prefix("export COMPACT_TEST_POSTGRES=")
            .unwrap_or_else(|| panic!("{said}"))
            .to_owned();
        c
    }

    /// `.ci/postgres VERB` (`down`, `up`), which must succeed.
    fn must(&self, verb: &str) {
        let out = self.script(verb);
        assert!(
            out.status.success(),
            "{verb}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

impl Drop for OwnCluster {
    fn drop(&mut self) {
        let _ = self.script("stop");
    }
}

/// GET `path`: (status, content type, Retry-After, body).
fn get(url: &str, path: &str) -> (u16, String, Option<String>, String) {
    let mut r = common::agent().get(format!("{url}{path}")).call().unwrap();
    let header = |name: &str| {
        r.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let (kind, retry) = (
        header("content-type").unwrap_or_default(),
        header("retry-after"),
    );
    (
        r.status().as_u16(),
        kind,
        retry,
        r.body_mut().read_to_string().unwrap(),
    )
}

/// PostgreSQL stopped and started again under a running server: while it is down, requests
/// that need it fail cleanly (503, a problem+json reason, Retry-After) and the server stays
/// up; once it is back, the server reconnects by itself, and nothing acknowledged is lost.
#[test]
fn the_server_rides_out_a_restart_of_postgres() {
    // Run where the tests have PostgreSQL, on a cluster of the test's own (the shared one
    // serves other tests meanwhile).
    if compact_store_postgres::testkit::cluster("the_server_rides_out_a_restart_of_postgres")
        .is_none()
    {
        return;
    }
    let cluster = OwnCluster::start("outage");
    let t = signed_base("pg-outage");
    let d = t.path();
    common::move_log_to(d, &cluster.url);
    // Signed here beforehand (signing reads the terms from the log): a client elsewhere.
    let signed = |reference: &str, date: &str| {
        let payload = format!(
            r#"{{"commitment":"gb-tranches","amount":"100 shells","date":"{date}","reference":"{reference}"}}"#
        );
        let mut args =
            submit_args("keys/GB.key", "delivery.report", &payload, "2024-08-01").to_vec();
        args.push("--print");
        ok_in(d, &args).trim().as_bytes().to_vec()
    };
    let (one, two) = (signed("OUT-1", "2024-07-01"), signed("OUT-2", "2024-07-02"));
    let server = Listening::serve(d);
    let post = |leaf: &[u8]| {
        let mut r = common::agent()
            .post(format!("{}/v1/statements", server.url))
            .header("Content-Type", "application/json")
            .send(leaf)
            .unwrap();
        let kind = r
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        (
            r.status().as_u16(),
            kind,
            r.body_mut().read_to_string().unwrap(),
        )
    };
    assert_eq!(post(&one).0, 201);
    assert_eq!(get(&server.url, "/v1/log").0, 200);

    cluster.must("down");
    let (status, kind, retry, body) = get(&server.url, "/v1/log");
    assert_eq!(status, 503, "{body}");
    assert!(kind.starts_with("application/problem+json"), "{kind}");
    assert!(retry.is_some(), "no Retry-After");
    let problem: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert!(
        problem["detail"].as_str().is_some_and(|d| !d.is_empty()),
        "{problem}"
    );
    let (status, kind, body) = post(&two);
    assert_eq!(status, 503, "{body}");
    assert!(kind.starts_with("application/problem+json"), "{kind}");
    assert_eq!(get(&server.url, "/healthz").0, 200, "the server stays up");

    cluster.must("up");
    // The server reconnects: a read finds its pooled connection lost and answers on a new one;
    // the writer's first group may still find its connection lost (503, retryable) and opens
    // a new one for the next.
    assert_eq!(
        get(&server.url, "/v1/log").0,
        200,
        "reads reconnect at once"
    );
    let mut again = post(&two);
    for _ in 0..20 {
        if again.0 != 503 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(250));
        again = post(&two);
    }
    assert_eq!(again.0, 201, "{}", again.2);
    let mut size = None;
    for _ in 0..20 {
        let (status, _, _, body) = get(&server.url, "/v1/log");
        if status == 200 {
            size = serde_json::from_str::<serde_json::Value>(&body).unwrap()["size"].as_u64();
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(250));
    }
    assert_eq!(size, Some(9), "both acknowledged statements are in the log");
    drop(server);
    let verified = ok_in(d, &["verify"]);
    assert!(verified.starts_with("ok: 9 entries"), "{verified}");
}

/// `compact demo --database postgres://…` builds the demo's log in PostgreSQL, with the same
/// root as on SQLite (the same seed, the same history); compact.toml then names it, so
/// `compact serve` serves it as it is; and `store copy` takes it back to SQLite, root equal.
#[test]
fn the_demo_built_on_postgres_is_served_and_copied_back() {
    let Some(db) = TestDatabase::new("cli_demo_on_pg") else {
        return;
    };
    let t = tempfile::tempdir().unwrap();
    let on_sqlite = t.path().join("sqlite");
    let on_pg = t.path().join("pg");
    for (dir, database) in [(&on_sqlite, None), (&on_pg, Some(db.url()))] {
        let mut args = vec!["demo", "--no-serve", "--dir", dir.to_str().unwrap()];
        args.extend(database.map(|d| ["--database", d]).into_iter().flatten());
        let run = compact_in(None, &args);
        assert_eq!(run.code, 0, "{}", run.stderr);
    }
    assert!(!on_pg.join("compact.sqlite").exists(), "nothing in SQLite");
    // A database that holds a log already is refused, and keeps it.
    let again = t.path().join("again");
    let run = compact_in(
        None,
        &[
            "demo",
            "--no-serve",
            "--dir",
            again.to_str().unwrap(),
            "--database",
            db.url(),
        ],
    );
    assert_ne!(run.code, 0);
    assert!(
        run.stderr.contains("already holds a compact store"),
        "{}",
        run.stderr
    );
    let root = verified_root(&ok_in(&on_sqlite, &["verify"]));
    assert_eq!(verified_root(&ok_in(&on_pg, &["verify"])), root);
    // Served from PostgreSQL: the same status as the CLI's, and the checkpoint's size.
    let server = Listening::serve(&on_pg);
    let (status, _, _, body) = get(&server.url, "/v1/status?as_of=2026-06-30");
    assert_eq!(status, 200, "{body}");
    let served: serde_json::Value = serde_json::from_str(&body).unwrap();
    let printed: serde_json::Value = serde_json::from_str(&ok_in(
        &on_pg,
        &["status", "--as-of", "2026-06-30", "--format", "json"],
    ))
    .unwrap();
    assert_eq!(served, printed);
    drop(server);
    let back = t.path().join("back.sqlite");
    let out = ok_in(&on_pg, &["store", "copy", "--to", back.to_str().unwrap()]);
    assert_eq!(copied_root(&out), root, "{out}");
}

/// Whoever holds the database rewrites a delivery report's amount in place with plain SQL (the
/// leaf and the projection's row alike): `compact verify` names the entry, as on SQLite.
#[test]
fn a_report_rewritten_in_postgresql_is_named_by_verify() {
    let Some(b) = common::Backend::new("postgres", "cli_pg_tamper") else {
        return;
    };
    let t = common::populated("pg-tamper");
    let d = t.path();
    b.adopt(d);
    ok_in(d, &["verify"]);
    let common::Backend::Postgres(db) = &b else {
        unreachable!()
    };
    let store = compact_store_postgres::PostgresStore::open(db.url()).unwrap();
    store
        .with_client(|c| {
            c.batch_execute(
                "UPDATE entries SET leaf = convert_to(replace(convert_from(leaf, 'UTF8'), '500 shells', '900 shells'), 'UTF8') WHERE idx = 7;
                 UPDATE records SET amount = '900 shells' WHERE idx = 7;",
            )
        })
        .unwrap()
        .unwrap();
    drop(store);
    let run = compact_in(Some(d), &["verify"]);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    let said = format!("{}{}", run.stdout, run.stderr);
    assert!(said.contains("entry 7"), "{said}");
}
