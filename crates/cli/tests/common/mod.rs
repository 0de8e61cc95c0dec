//! What the integration tests share: running the real binary, and the fixtures.

#![allow(dead_code, clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The outcome of one run of `compact`.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// The operator's clock the tests run under unless they say otherwise: `replay`, each statement
/// received at its own time, so that a test can replay a dated history with `--time`.
pub const DEFAULT_CLOCK: &str = "replay";

/// Runs the `compact` binary built for these tests, in `dir` if given, under the replay clock.
pub fn compact_in(dir: Option<&Path>, args: &[&str]) -> Run {
    compact_with_clock(dir, Some(DEFAULT_CLOCK), args)
}

/// The width tables are laid out to in these tests (`COLUMNS`): wide enough that a cell's text
/// stays on one line, so that tests can look for it; `tests/widths.rs` tests the layout itself.
pub const TEST_COLUMNS: &str = "240";

/// Runs `compact` with `COMPACT_CLOCK` set to `clock` (a time, or `replay`), or unset (the
/// system's clock) when `None`.
pub fn compact_with_clock(dir: Option<&Path>, clock: Option<&str>, args: &[&str]) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_compact"));
    // Each run remembers checkpoints in a directory of its own (a test of the memory gives
    // `--state`): runs of other tests never meet.
    let state = tempfile::tempdir().expect("a state directory");
    cmd.args(args)
        .env("COLUMNS", TEST_COLUMNS)
        .env("COMPACT_STATE_DIR", state.path());
    if let Some(d) = dir {
        cmd.current_dir(d);
    }
    match clock {
        Some(c) => cmd.env("COMPACT_CLOCK", c),
        None => cmd.env_remove("COMPACT_CLOCK"),
    };
    let out = cmd.output().expect("run compact");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// the repository's `testdata/` (shared by every crate's tests).
pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata")
}

/// Copies a directory tree.
pub fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).expect("mkdir");
    for entry in fs::read_dir(from).expect("read dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

/// Runs `compact` in `dir` and returns its stdout; fails the test if it fails.
pub fn ok_in(dir: &Path, args: &[&str]) -> String {
    let r = compact_in(Some(dir), args);
    assert_eq!(r.code, 0, "compact {args:?} failed:\n{}", r.stderr);
    r.stdout
}

/// Runs `compact` in `dir`, which must fail with exit code 1 and no panic; returns stderr.
pub fn fails_in(dir: &Path, args: &[&str]) -> String {
    let r = compact_in(Some(dir), args);
    assert_eq!(
        r.code, 1,
        "compact {args:?} should fail:\nstdout: {}\nstderr: {}",
        r.stdout, r.stderr
    );
    assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
    r.stderr
}

/// Runs `compact` in `dir`, which must be refused as a usage error (exit code 2, before
/// anything is read); returns stderr.
pub fn usage_in(dir: &Path, args: &[&str]) -> String {
    let r = compact_in(Some(dir), args);
    assert_eq!(
        r.code, 2,
        "compact {args:?} should be a usage error:\nstdout: {}\nstderr: {}",
        r.stdout, r.stderr
    );
    assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
    r.stderr
}

/// A fresh copy of the base fixture with seeded keys for `parties` and the operator, and a
/// store.
pub fn fresh_base(seed: &str, parties: &[&str]) -> tempfile::TempDir {
    let t = tempfile::tempdir().expect("tempdir");
    copy_tree(&fixtures().join("base"), t.path());
    for p in parties {
        ok_in(t.path(), &["keygen", "--party", p, "--seed", seed]);
    }
    ok_in(t.path(), &["keygen", "--operator", "--seed", seed]);
    ok_in(t.path(), &["init"]);
    t
}

/// The store's file in a compact directory.
pub const STORE: &str = "compact.sqlite";

/// GB's delivery report on gb-tranches that [`populated`] logs as entry 7.
pub const DELIVERY_REPORT: &str = r#"{"commitment":"gb-tranches","amount":"500 shells","date":"2024-06-30","reference":"GB-2024-17"}"#;

/// The base fixture with GB's and UA's keys (entries 0-4: log.init and the keys) and gb-ua
/// signed by both (5 by GB on 2024-01-12, 6 by UA on 2024-01-12T15:00:00Z).
pub fn signed_base(seed: &str) -> tempfile::TempDir {
    let t = fresh_base(seed, &["GB", "UA"]);
    let d = t.path();
    for (key, time) in [
        ("keys/GB.key", "2024-01-12"),
        ("keys/UA.key", "2024-01-12T15:00:00Z"),
    ] {
        ok_in(d, &["sign", "gb-ua", "--key", key, "--time", time]);
    }
    t
}

/// [`signed_base`], then GB reports a delivery ([`DELIVERY_REPORT`], entry 7, on 2024-07-01)
/// and UA confirms it (entry 8, on 2024-07-03).
pub fn populated(seed: &str) -> tempfile::TempDir {
    let t = signed_base(seed);
    let d = t.path();
    for (key, kind, payload, time) in [
        (
            "keys/GB.key",
            "delivery.report",
            DELIVERY_REPORT,
            "2024-07-01",
        ),
        (
            "keys/UA.key",
            "delivery.confirm",
            r#"{"report":7,"date":"2024-07-03"}"#,
            "2024-07-03",
        ),
    ] {
        ok_in(d, &submit_args(key, kind, payload, time));
    }
    t
}

/// The arguments of `compact submit`: `payload` of `kind` signed with `key`, dated `time`.
pub fn submit_args<'a>(
    key: &'a str,
    kind: &'a str,
    payload: &'a str,
    time: &'a str,
) -> [&'a str; 9] {
    [
        "submit",
        "--key",
        key,
        "--type",
        kind,
        "--payload",
        payload,
        "--time",
        time,
    ]
}

/// Runs `compact` in `dir`, which must succeed, and reads its stdout as JSON.
pub fn json_in(dir: &Path, args: &[&str]) -> serde_json::Value {
    serde_json::from_str(&ok_in(dir, args)).expect("JSON")
}

/// Runs plain SQL on the store file `db`, as someone holding the file could.
pub fn sql(db: &Path, statements: &str) {
    let c = rusqlite::Connection::open(db).unwrap();
    c.execute_batch(statements).unwrap();
}

/// The one number a query on the store file `db` gives.
pub fn count(db: &Path, query: &str) -> i64 {
    let c = rusqlite::Connection::open(db).unwrap();
    c.query_row(query, [], |r| r.get(0)).unwrap()
}

/// A process serving on a free loopback port (`compact serve`, `compact witness serve`): its
/// address read from its first line, `listening on URL`; killed when dropped.
pub struct Listening {
    pub child: std::process::Child,
    pub url: String,
}

impl Listening {
    /// Starts `cmd` (which must print `listening on URL` first) with its stdout piped.
    pub fn start(mut cmd: Command) -> Listening {
        use std::io::BufRead as _;
        let mut child = cmd
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start the server");
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("read the address");
        let url = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("no address in {line:?}"))
            .to_owned();
        Listening { child, url }
    }

    /// `compact serve` of `dir` on a free loopback port, under the replay clock.
    pub fn serve(dir: &Path) -> Listening {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_compact"));
        cmd.args(["serve", "--listen", "127.0.0.1:0", "--dir"])
            .arg(dir)
            .env("COMPACT_CLOCK", "replay");
        Listening::start(cmd)
    }
}

impl Drop for Listening {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `compact keygen --witness NAME --seed NAME` (and `extra`) in `dir`: the verifier key it
/// prints.
pub fn witness_key(dir: &Path, name: &str, extra: &[&str]) -> String {
    let mut args = vec!["keygen", "--witness", name, "--seed", name];
    args.extend_from_slice(extra);
    ok_in(dir, &args)
        .lines()
        .find_map(|l| l.strip_prefix("witness key "))
        .expect("the witness's verifier key")
        .to_owned()
}

/// Where a test's compact keeps its log: the SQLite file beside it (the default), or a
/// database of its own in the PostgreSQL cluster the tests are given. Tests written once over
/// `&Backend` run on both ([`per_backend!`]).
#[derive(Debug)]
pub enum Backend {
    Sqlite,
    Postgres(compact_store_postgres::testkit::TestDatabase),
}

impl Backend {
    /// The backend `name` (`sqlite`, `postgres`) for `test`; `None` where PostgreSQL is not
    /// available (the test then says it was skipped, or fails where it is required).
    pub fn new(name: &str, test: &str) -> Option<Backend> {
        match name {
            "sqlite" => Some(Backend::Sqlite),
            "postgres" => {
                compact_store_postgres::testkit::TestDatabase::new(test).map(Backend::Postgres)
            }
            other => panic!("no backend {other}"),
        }
    }

    /// Moves the log of the compact in `dir` to this backend. On PostgreSQL: copied by
    /// `compact store copy` (which proves the copy by equal roots), the SQLite file removed,
    /// and the database named in `compact.toml`'s `[store] url`, which every command and
    /// `compact serve` then use.
    pub fn adopt(&self, dir: &Path) {
        let Backend::Postgres(db) = self else {
            return;
        };
        move_log_to(dir, db.url());
    }
}

/// An HTTP client that gives every status as an answer (not an error), with a generous
/// timeout for a loaded machine.
pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(std::time::Duration::from_secs(120)))
        .build()
        .new_agent()
}

/// Moves the log of the compact in `dir` to the PostgreSQL database at `url`: copied by
/// `compact store copy` (which proves the copy by equal roots), the SQLite file removed, and
/// the database named in `compact.toml`'s `[store] url`.
pub fn move_log_to(dir: &Path, url: &str) {
    ok_in(dir, &["store", "copy", "--to", url]);
    for suffix in ["", "-wal", "-shm"] {
        let _ = fs::remove_file(dir.join(format!("{STORE}{suffix}")));
    }
    let toml = dir.join("compact.toml");
    let mut text = fs::read_to_string(&toml).unwrap();
    text.push_str(&format!("\n[store]\nurl = \"{url}\"\n"));
    fs::write(&toml, text).unwrap();
}

/// Runs each test function named (each taking `&Backend`) once per backend: as
/// `sqlite::NAME` and `postgres::NAME`.
#[allow(unused_macros)]
macro_rules! per_backend {
    ($($test:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[test]
                fn $test() {
                    if let Some(b) = crate::common::Backend::new("sqlite", stringify!($test)) {
                        super::$test(&b);
                    }
                }
            )*
        }
        mod postgres {
            $(
                #[test]
                fn $test() {
                    if let Some(b) = crate::common::Backend::new("postgres", stringify!($test)) {
                        super::$test(&b);
                    }
                }
            )*
        }
    };
}
#[allow(unused_imports)]
pub(crate) use per_backend;
