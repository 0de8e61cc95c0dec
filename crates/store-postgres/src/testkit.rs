//! Test databases: one fresh PostgreSQL database per test, so that tests run in parallel.
//!
//! The cluster is the one [`URL_VAR`] names (an admin URL, `postgres://postgres@127.0.0.1:55432/postgres`
//! as `.ci/run` starts it). Where it is unset, a test that needs PostgreSQL says on the
//! terminal that it was skipped and why, and passes; where [`REQUIRE_VAR`] is set (in CI), it
//! fails instead. Test support only: it reads the environment and panics.

#![allow(clippy::panic, clippy::expect_used, clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::io::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use postgres::{Client, NoTls};

/// The variable naming the cluster's admin URL.
pub const URL_VAR: &str = "COMPACT_TEST_POSTGRES";
/// The variable that makes a missing cluster a failure rather than a skip.
pub const REQUIRE_VAR: &str = "COMPACT_REQUIRE_POSTGRES";

static COUNTER: AtomicU64 = AtomicU64::new(0);
static SAID: Mutex<BTreeSet<String>> = Mutex::new(BTreeSet::new());

/// A database of its own for one test, dropped (with its connections) when this is.
#[derive(Debug)]
pub struct TestDatabase {
    admin: String,
    name: String,
    url: String,
}

/// The admin URL of the test cluster, or `None` (said once per test on the terminal, past
/// the test harness's capture) when none is named; panics when one is required.
pub fn cluster(test: &str) -> Option<String> {
    match std::env::var(URL_VAR) {
        Ok(url) if !url.trim().is_empty() => Some(url),
        _ => {
            if std::env::var(REQUIRE_VAR).is_ok_and(|v| !v.is_empty() && v != "0") {
                panic!("{test}: {REQUIRE_VAR} is set but {URL_VAR} is not: PostgreSQL is required");
            }
            let new = SAID
                .lock()
                .map(|mut s| s.insert(test.to_owned()))
                .unwrap_or(true);
            if new {
                // Straight to the terminal: the test harness captures what a passing test prints.
                let _ = writeln!(
                    std::io::stderr(),
                    "\nskipped {test} on PostgreSQL: {URL_VAR} is not set (start a cluster as .ci/run does)"
                );
            }
            None
        }
    }
}

/// `url` with its database name replaced by `name`.
fn with_database(url: &str, name: &str) -> String {
    let (scheme, rest) = url
        .split_once("://")
        .unwrap_or_else(|| panic!("{URL_VAR} must be a URL, postgres://user@host:port/database"));
    let (before_query, query) = match rest.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (rest, None),
    };
    let authority = before_query.split('/').next().unwrap_or(before_query);
    match query {
        Some(q) => format!("{scheme}://{authority}/{name}?{q}"),
        None => format!("{scheme}://{authority}/{name}"),
    }
}

fn admin(url: &str) -> Client {
    Client::connect(url, NoTls)
        .unwrap_or_else(|e| panic!("cannot connect to the test cluster ({URL_VAR}): {e}"))
}

fn unique(test: &str) -> String {
    let clean: String = test
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let mut name = format!("ct_{}_{n}_{clean}", std::process::id());
    name.truncate(63);
    name
}

impl TestDatabase {
    /// A new empty database for `test`, or `None` where no cluster is named (see [`cluster`]).
    pub fn new(test: &str) -> Option<TestDatabase> {
        let admin_url = cluster(test)?;
        Some(Self::create(&admin_url, test, None))
    }

    fn create(admin_url: &str, test: &str, template: Option<&str>) -> TestDatabase {
        let name = unique(test);
        let sql = match template {
            Some(t) => format!("CREATE DATABASE \"{name}\" TEMPLATE \"{t}\""),
            None => format!("CREATE DATABASE \"{name}\""),
        };
        admin(admin_url)
            .batch_execute(&sql)
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
        TestDatabase {
            url: with_database(admin_url, &name),
            admin: admin_url.to_owned(),
            name,
        }
    }

    /// A copy of this database (which nothing may be connected to), for `test`.
    pub fn copy(&self, test: &str) -> TestDatabase {
        Self::create(&self.admin, test, Some(&self.name))
    }

    /// Its URL, for [`crate::PostgresStore::create`] and `open`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Its name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Ok(mut c) = Client::connect(&self.admin, NoTls) {
            let _ = c.batch_execute(&format!(
                "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
                self.name
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn the_database_name_is_replaced() {
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1:55432/postgres", "t1"),
            "postgres://postgres@127.0.0.1:55432/t1"
        );
        assert_eq!(
            with_database("postgres://u:p@h/db?sslmode=disable", "t2"),
            "postgres://u:p@h/t2?sslmode=disable"
        );
        assert_eq!(with_database("postgresql://h", "t3"), "postgresql://h/t3");
    }
}
