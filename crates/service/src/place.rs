//! Where a compact and its store are, and the compact as it governs.

use std::path::{Path, PathBuf};
use std::time::Duration;

use compact_files::{Loaded, load_dir};
use compact_model::{Compact, Diagnostic, SourceFile, check};
use compact_statement::rules::Facts;
use compact_store::Reads as _;
use compact_store::governing::Drift;
use jiff::Timestamp;

use crate::anystore::{AnyStore, Location};
use crate::error::{Context as _, Result, ServiceError};

/// The store's default file in a compact directory.
pub const STORE_FILE: &str = "compact.sqlite";

/// Where the compact and its store are.
#[derive(Clone, Debug)]
pub struct Place {
    /// The compact directory.
    pub dir: PathBuf,
    /// The store, when not `DIR/compact.sqlite`.
    pub database: Option<PathBuf>,
    /// The store's PostgreSQL URL, when the compact lives in PostgreSQL (it wins over
    /// `database`): from `--database URL`, `COMPACT_DATABASE_URL` or `[store] url`.
    pub url: Option<String>,
    /// How long a writer waits for another's lock (the store's default when `None`).
    pub busy_timeout: Option<Duration>,
}

/// A compact directory read and checked: the compact when valid, and every finding.
#[derive(Debug)]
pub struct Validated {
    /// The compact, when there was no error.
    pub compact: Option<Compact>,
    /// Every finding, the files' own first.
    pub diagnostics: Vec<Diagnostic>,
    /// The files as read (their text renders the findings).
    pub loaded: Loaded,
    /// How the directory is named in findings.
    pub shown: String,
}

impl Validated {
    /// Errors and warnings among the findings.
    pub fn counts(&self) -> (usize, usize) {
        let errors = self.diagnostics.iter().filter(|d| d.is_error()).count();
        (errors, self.diagnostics.len() - errors)
    }
}

/// Reads and checks the compact in `dir`.
pub fn validate_dir(dir: &Path) -> Validated {
    let loaded = load_dir(dir);
    let shown = dir.display().to_string();
    let checked = if loaded
        .diagnostics
        .iter()
        .any(|d| d.span.is_none() && d.is_error() && d.path == shown)
    {
        // The directory itself could not be used: nothing more to check.
        None
    } else {
        Some(check(&loaded.files))
    };
    let mut diagnostics = loaded.diagnostics.clone();
    if let Some(c) = &checked {
        diagnostics.extend(c.diagnostics.iter().cloned());
    }
    let compact = checked
        .and_then(|c| c.compact)
        .filter(|_| !loaded.has_errors());
    Validated {
        compact,
        diagnostics,
        loaded,
        shown,
    }
}

/// The compact as it governs, with what it was derived from.
#[derive(Debug)]
pub struct Governed {
    /// The working files with every version both parties signed as signed.
    pub compact: Compact,
    /// The log's facts (none without a store).
    pub facts: Facts,
    /// The working files' compact.
    pub working: Compact,
    /// The working files that are not the text both parties signed (the signed text governs).
    pub drift: Vec<Drift>,
    /// The log's last receipt time, or the compact's adoption before any: a replay clock's now.
    pub last_receipt: Option<Timestamp>,
}

impl Place {
    /// A place with the store at `DIR/compact.sqlite` and the default busy timeout.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Place {
            dir: dir.into(),
            database: None,
            url: None,
            busy_timeout: None,
        }
    }

    /// The compact in `dir`, its store where `database` says (an SQLite file or a PostgreSQL
    /// URL), else where `compact.toml`'s `[store] url` says, else `DIR/compact.sqlite`. A URL
    /// without a password takes COMPACT_DATABASE_PASSWORD's, else `[store] password_file`'s.
    pub fn locate(dir: &Path, database: Option<&str>) -> Result<Place> {
        let mut place = Place::new(dir);
        let settings = store_settings(dir)?;
        let url = match database {
            Some(d) if crate::anystore::is_postgres_url(d) => Some(d.to_owned()),
            Some(d) => {
                place.database = Some(PathBuf::from(d));
                None
            }
            None => settings.url.clone(),
        };
        if let Some(url) = url {
            place.url = Some(with_password(dir, &url, settings.password_file.as_deref())?);
        }
        Ok(place)
    }

    /// Where the store is: the PostgreSQL URL when one is set, else the file.
    pub fn location(&self) -> Location {
        match &self.url {
            Some(u) => Location::Postgres(u.clone()),
            None => Location::File(self.database()),
        }
    }

    /// Whether a store may be there: the file exists, or the store is in PostgreSQL (where
    /// opening it tells).
    pub fn has_store(&self) -> bool {
        self.url.is_some() || self.database().exists()
    }

    /// The store's file.
    pub fn database(&self) -> PathBuf {
        self.database
            .clone()
            .unwrap_or_else(|| self.dir.join(STORE_FILE))
    }

    /// The store, opened for writing (created if absent), with the busy timeout set.
    pub fn store(&self) -> Result<AnyStore> {
        let at = self.location();
        let store =
            AnyStore::open(&at).with_context(|| format!("cannot open the store {}", at.shown()))?;
        if let Some(timeout) = self.busy_timeout {
            store.set_busy_timeout(timeout)?;
        }
        Ok(store)
    }

    /// The store, opened read-only (an auditor's view).
    pub fn store_read_only(&self) -> Result<AnyStore> {
        let at = self.location();
        AnyStore::open_read_only(&at)
            .with_context(|| format!("cannot open the store {}", at.shown()))
    }

    /// The compact as it governs before its log exists (for `init`): the working files, no
    /// facts.
    pub fn unlogged(working: Compact) -> Governed {
        let adopted = working
            .adopted_on
            .to_zoned_datetime(jiff::tz::TimeZone::UTC)
            .ok()
            .map(|z| z.timestamp());
        Governed {
            compact: working.clone(),
            facts: Facts::default(),
            working,
            drift: Vec::new(),
            last_receipt: adopted,
        }
    }

    /// The compact as it governs: `working` (read from `files`), with every agreement version
    /// both parties signed replaced by the terms the log holds. A working file that differs
    /// from what was signed is named in [`Governed::drift`] and not used.
    pub fn govern(&self, working: Compact, files: &[SourceFile]) -> Result<Governed> {
        // Under a replay clock, a statement made without a time is dated at the last receipt,
        // or at the compact's adoption before any.
        let adopted = working
            .adopted_on
            .to_zoned_datetime(jiff::tz::TimeZone::UTC)
            .ok()
            .map(|z| z.timestamp());
        if !self.has_store() {
            return Ok(Self::unlogged(working));
        }
        let store = self.store_read_only()?;
        // A store of another compact is never read as this one's.
        let origin = store.origin()?;
        if origin != working.id {
            return Err(ServiceError::bad_input(format!(
                "the store {} holds the log of `{origin}`, not of `{}`: name this compact's store",
                self.location().shown(),
                working.id
            )));
        }
        let facts = compact_store::stored_facts(&store, &working)?;
        let last_receipt = facts.last_received.or(adopted);
        let governing =
            compact_store::governing::governing(files, &working, &facts).map_err(|d| {
                ServiceError::internal(format!(
                    "the signed terms in the log no longer fit the working compact: {}",
                    d.iter()
                        .filter(|d| d.is_error())
                        .map(|d| format!("{}: {}", d.path, d.message))
                        .collect::<Vec<_>>()
                        .join("; ")
                ))
            })?;
        let facts = if governing.drift.is_empty() {
            facts
        } else {
            compact_store::stored_facts(&store, &governing.compact)?
        };
        Ok(Governed {
            compact: governing.compact,
            facts,
            working,
            drift: governing.drift,
            last_receipt,
        })
    }
}

/// What a drifted working file means, in one sentence.
pub fn drift_message(d: &Drift) -> String {
    match &d.path {
        Some(p) => format!(
            "{p} is not the text both parties signed as `{}` version {} (signed digest {}, file {}): the signed text governs; give the edit a new version and have both parties sign it",
            d.agreement,
            d.version,
            d.signed,
            d.working.as_deref().unwrap_or("-")
        ),
        None => format!(
            "`{}` version {} is signed by both parties but its working file is gone: the signed text governs",
            d.agreement, d.version
        ),
    }
}

/// `compact.toml`'s `[store]`, as far as it is there (`compact check` reports what is wrong).
#[derive(Debug, Default)]
struct StoreSettings {
    url: Option<String>,
    password_file: Option<String>,
}

fn store_settings(dir: &Path) -> Result<StoreSettings> {
    let path = dir.join("compact.toml");
    let Ok(text) = std::fs::read_to_string(&path) else {
        return Ok(StoreSettings::default());
    };
    let Ok(table) = text.parse::<toml::Table>() else {
        return Ok(StoreSettings::default());
    };
    let Some(store) = table.get("store").and_then(|s| s.as_table()) else {
        return Ok(StoreSettings::default());
    };
    let field = |k: &str| store.get(k).and_then(|v| v.as_str()).map(str::to_owned);
    let url = field("url");
    if let Some(u) = &url
        && let Err(e) = compact_model::validate::check_store_url(u)
    {
        return Err(ServiceError::bad_input(format!(
            "{}: [store] url: {e}",
            path.display()
        )));
    }
    Ok(StoreSettings {
        url,
        password_file: field("password_file"),
    })
}

/// `url` with the password put in when it has none: COMPACT_DATABASE_PASSWORD, else the
/// first line of `password_file` (relative to `dir`).
fn with_password(dir: &Path, url: &str, password_file: Option<&str>) -> Result<String> {
    let Some((scheme, rest)) = url.split_once("://") else {
        return Ok(url.to_owned());
    };
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let Some((user, host)) = authority.rsplit_once('@') else {
        // No user named: the server's defaults (and PGPASSWORD-less trust) apply.
        return Ok(url.to_owned());
    };
    if user.contains(':') {
        return Ok(url.to_owned());
    }
    let password = match std::env::var("COMPACT_DATABASE_PASSWORD") {
        Ok(p) if !p.is_empty() => p,
        _ => match password_file {
            Some(f) => {
                let path = dir.join(f);
                let text = std::fs::read_to_string(&path).map_err(|e| {
                    ServiceError::bad_input(format!(
                        "cannot read the database password file {}: {e}",
                        path.display()
                    ))
                })?;
                text.lines().next().unwrap_or_default().to_owned()
            }
            None => return Ok(url.to_owned()),
        },
    };
    let encoded: String = password
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    Ok(format!("{scheme}://{user}:{encoded}@{host}{tail}"))
}
