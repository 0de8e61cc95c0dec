//! The commands that work on the log: keys, the store, signing, statements, proofs, audit.

use std::io::{BufRead as _, IsTerminal as _};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, anyhow, bail};
use base64::Engine as _;
use compact_files::keys::{
    read_private_key, record_operator_key, record_party_key, write_private_key,
};
use compact_log::{
    ConsistencyProof, InclusionProof, open_checkpoint, prove_consistency, prove_inclusion,
    verify_consistency, verify_inclusion,
};
use compact_model::Compact;
use compact_statement::rules::status;
use compact_statement::{Draft, Kind, Payload, Statement, keys};
use compact_store::audit::{GivenCheckpoint, audit};
use compact_store::sqlite::SqliteStore;
use compact_store::{AppendError, BATCH_DEFAULT, Clock, Ledger, Store, StoreHashes};
use indicatif::{ProgressBar, ProgressStyle};
use jiff::Timestamp;
use jiff::civil::Date;
use signed_note::StandardSigner;

use crate::Format;
use crate::commands::{load, load_with_files};
use crate::output::{out, table};

/// The store's default file in a compact directory.
pub const STORE_FILE: &str = "compact.sqlite";

/// Where a command finds the compact and its store.
#[derive(Clone, Debug)]
pub struct Place {
    /// The compact directory.
    pub dir: PathBuf,
    /// The store, when not `DIR/compact.sqlite`.
    pub database: Option<PathBuf>,
}

impl Place {
    fn database(&self) -> PathBuf {
        self.database
            .clone()
            .unwrap_or_else(|| self.dir.join(STORE_FILE))
    }

    /// The compact as it governs: the working files, with every agreement version both
    /// parties signed replaced by the terms the log holds. A working file that differs from
    /// what was signed draws a warning and is not used.
    pub(crate) fn compact(&self) -> anyhow::Result<Compact> {
        Ok(self.governed()?.compact)
    }

    /// [`Place::compact`], and the facts of the log (none without a store).
    pub(crate) fn governing(&self) -> anyhow::Result<(Compact, compact_statement::rules::Facts)> {
        let g = self.governed()?;
        Ok((g.compact, g.facts))
    }

    /// The compact as it governs, the log's facts, and the working files' compact.
    pub(crate) fn governed(&self) -> anyhow::Result<Governed> {
        let (working, files) = load_with_files(&self.dir).ok_or_else(|| {
            anyhow!(
                "the compact in {} is not valid (see above)",
                self.dir.display()
            )
        })?;
        let path = self.database();
        // Under a replay clock, a statement made without a time is dated at the last receipt,
        // or at the compact's adoption before any.
        let adopted = working
            .adopted_on
            .to_zoned_datetime(jiff::tz::TimeZone::UTC)
            .ok()
            .map(|z| z.timestamp());
        if !path.exists() {
            note_last_receipt(adopted);
            return Ok(Governed {
                compact: working.clone(),
                facts: compact_statement::rules::Facts::default(),
                working,
            });
        }
        let store = SqliteStore::open_read_only(&path)
            .with_context(|| format!("cannot open the store {}", path.display()))?;
        let facts = compact_store::stored_facts(&store, &working)?;
        note_last_receipt(facts.last_received.or(adopted));
        let governing =
            compact_store::governing::governing(&files, &working, &facts).map_err(|d| {
                anyhow!(
                    "the signed terms in the log no longer fit the working compact: {}",
                    d.iter()
                        .filter(|d| d.is_error())
                        .map(|d| format!("{}: {}", d.path, d.message))
                        .collect::<Vec<_>>()
                        .join("; ")
                )
            })?;
        for d in &governing.drift {
            eprintln!("warning: {}", drift_message(d));
        }
        let facts = if governing.drift.is_empty() {
            facts
        } else {
            compact_store::stored_facts(&store, &governing.compact)?
        };
        Ok(Governed {
            compact: governing.compact,
            facts,
            working,
        })
    }

    pub(crate) fn store(&self) -> anyhow::Result<SqliteStore> {
        let path = self.database();
        let store = SqliteStore::open(&path)
            .with_context(|| format!("cannot open the store {}", path.display()))?;
        if let Some(timeout) = busy_timeout()? {
            store.set_busy_timeout(timeout)?;
        }
        Ok(store)
    }
}

/// The compact as it governs, with what it was derived from.
pub(crate) struct Governed {
    /// The working files with every version both parties signed as signed.
    pub(crate) compact: Compact,
    /// The log's facts.
    pub(crate) facts: compact_statement::rules::Facts,
    /// The working files' compact.
    pub(crate) working: Compact,
}

/// What a drifted working file means, in one sentence.
pub(crate) fn drift_message(d: &compact_store::governing::Drift) -> String {
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

/// A statement's own time: as given, or the operator clock's now (under a replay clock, the
/// last entry's receipt time).
pub(crate) fn parse_time_or_clock(time: Option<&str>) -> anyhow::Result<Timestamp> {
    match time {
        Some(_) => parse_time(time),
        None => clock(),
    }
}

/// The operator's clock as `COMPACT_CLOCK` sets it: unset, the system's now; a time, a fixed
/// simulated clock; `replay`, a clock that receives each statement at its own time (to replay a
/// dated history, as the demo does). Receipt times never go back, whichever clock runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum OperatorClock {
    Now(Timestamp),
    Fixed(Timestamp),
    Replay,
}

pub(crate) fn operator_clock() -> anyhow::Result<OperatorClock> {
    match std::env::var("COMPACT_CLOCK") {
        Ok(s) if s.trim() == "replay" => Ok(OperatorClock::Replay),
        Ok(s) if !s.trim().is_empty() => Ok(OperatorClock::Fixed(
            parse_time(Some(s.trim()))
                .context("COMPACT_CLOCK, the operator's simulated clock (a time, or `replay`)")?,
        )),
        _ => Ok(OperatorClock::Now(parse_time(None)?)),
    }
}

impl OperatorClock {
    /// The store's clock.
    pub(crate) fn store_clock(self) -> Clock {
        match self {
            OperatorClock::Now(t) | OperatorClock::Fixed(t) => Clock::At(t),
            OperatorClock::Replay => Clock::Simulated,
        }
    }
}

/// The time a statement made now is dated: the clock's now; under a replay clock, the last
/// entry's receipt (the compact's adoption before any; 2000-01-01 before a compact is read).
pub(crate) fn clock() -> anyhow::Result<Timestamp> {
    match operator_clock()? {
        OperatorClock::Now(t) | OperatorClock::Fixed(t) => Ok(t),
        OperatorClock::Replay => REPLAY_NOW
            .with(|n| n.get())
            .map_or_else(|| Ok("2000-01-01T00:00:00Z".parse()?), Ok),
    }
}

thread_local! {
    /// Under a replay clock: the last entry's receipt time of the store in use.
    static REPLAY_NOW: std::cell::Cell<Option<Timestamp>> = const { std::cell::Cell::new(None) };
}

/// Notes the last receipt time of the store, for a replay clock's now.
pub(crate) fn note_last_receipt(t: Option<Timestamp>) {
    REPLAY_NOW.with(|n| n.set(t));
}
/// The environment variable that sets how long a writer waits for another's lock.
pub const BUSY_TIMEOUT_VAR: &str = "COMPACT_BUSY_TIMEOUT_MS";

/// `COMPACT_BUSY_TIMEOUT_MS`, when set: milliseconds to wait for another writer's lock.
fn busy_timeout() -> anyhow::Result<Option<std::time::Duration>> {
    match std::env::var(BUSY_TIMEOUT_VAR) {
        Ok(v) => v
            .trim()
            .parse::<u64>()
            .map(|ms| Some(std::time::Duration::from_millis(ms)))
            .map_err(|_| anyhow!("{BUSY_TIMEOUT_VAR}=`{v}` is not a whole number of milliseconds")),
        Err(std::env::VarError::NotPresent) => Ok(None),
        Err(e) => bail!("{BUSY_TIMEOUT_VAR}: {e}"),
    }
}

/// Whether `e` is a transient failure (a busy store, the log growing meanwhile, IO): nothing
/// was refused, and the same command may succeed when run again.
pub fn is_transient(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<compact_store::StoreError>()
            .is_some_and(compact_store::StoreError::is_transient)
            || matches!(
                c.downcast_ref::<AppendError>(),
                Some(AppendError::Store(s)) if s.is_transient()
            )
    })
}

/// A refusal says `refused:`; a store failure keeps its type (a transient one has its own
/// exit code).
fn append_error(e: AppendError) -> anyhow::Error {
    match e {
        AppendError::Refused { .. } => anyhow!("refused: {e}"),
        other => anyhow::Error::new(other),
    }
}

pub(crate) fn today() -> Date {
    Timestamp::now()
        .to_zoned_datetime(jiff::tz::TimeZone::UTC)
        .date()
}

/// The forms a time is accepted in on the command line.
pub(crate) const TIME_FORMS: &str = "2024-01-12 (midnight UTC), 2024-01-12T10:00:00Z, or 2024-01-12T13:00:00+03:00 (RFC 3339 with its offset, kept: stored as 10:00:00Z), in whole seconds";

/// A time given on the command line, parsed strictly: a date alone (`2024-01-12`, midnight
/// UTC), or RFC 3339 with a `Z` or numeric offset (kept: stored as the same instant in UTC),
/// whole seconds. Anything else is refused with the accepted forms named; nothing is
/// truncated. Now (whole seconds) when absent.
pub fn parse_time(s: Option<&str>) -> anyhow::Result<Timestamp> {
    let Some(s) = s else {
        let now = Timestamp::now();
        return Timestamp::from_second(now.as_second()).map_err(|e| anyhow!("{e}"));
    };
    let refused = || anyhow!("malformed time `{s}`: expected {TIME_FORMS}");
    let is_date = s.len() == 10
        && s.bytes().enumerate().all(|(i, b)| {
            if i == 4 || i == 7 {
                b == b'-'
            } else {
                b.is_ascii_digit()
            }
        });
    if is_date {
        let d = s.parse::<Date>().map_err(|_| refused())?;
        return d
            .to_zoned_datetime(jiff::tz::TimeZone::UTC)
            .map(|z| z.timestamp())
            .map_err(|_| refused());
    }
    // RFC 3339: `T` between date and time, seconds given, an offset (Z or ±hh:mm).
    let b = s.as_bytes();
    let shaped = b.len() >= 20
        && b.get(10) == Some(&b'T')
        && b.get(13) == Some(&b':')
        && b.get(16) == Some(&b':')
        && b.get(19).is_some_and(|c| matches!(c, b'Z' | b'+' | b'-'))
        && (b.len() == 20 && b.get(19) == Some(&b'Z') || b.len() == 25 && b.get(22) == Some(&b':'));
    if !shaped {
        return Err(refused());
    }
    let t = s.parse::<Timestamp>().map_err(|_| refused())?;
    if t.subsec_nanosecond() != 0 {
        return Err(refused());
    }
    Ok(t)
}

/// A date given on the command line: exactly `YYYY-MM-DD`.
pub fn parse_date(s: &str, what: &str) -> anyhow::Result<Date> {
    let is_date = s.len() == 10
        && s.bytes().enumerate().all(|(i, b)| {
            if i == 4 || i == 7 {
                b == b'-'
            } else {
                b.is_ascii_digit()
            }
        });
    is_date
        .then(|| s.parse::<Date>().ok())
        .flatten()
        .ok_or_else(|| {
            anyhow!("malformed {what} `{s}`: expected a date such as 2026-04-30 (YYYY-MM-DD)")
        })
}

fn signer_from(path: &Path) -> anyhow::Result<StandardSigner> {
    let (text, warning) = read_private_key(path).map_err(|e| anyhow!(e))?;
    if let Some(w) = warning {
        eprintln!("warning: {w}");
    }
    keys::signer(&text).map_err(|e| anyhow!("{}: {e}", path.display()))
}

fn operator_signer(place: &Place, path: Option<&Path>) -> anyhow::Result<StandardSigner> {
    let default = place.dir.join("keys/operator.key");
    signer_from(path.unwrap_or(&default))
        .context("the log operator's key signs every checkpoint (--operator-key)")
}

/// A key pair from `--seed`: SHA-256 of a fixed label, the seed and the key's name.
pub(crate) fn seeded(name: &str, seed: &str) -> anyhow::Result<keys::KeyPair> {
    use sha2::Digest as _;
    let d = sha2::Sha256::digest(format!("compact keygen\n{seed}\n{name}").as_bytes());
    let bytes: [u8; 32] = d.into();
    keys::from_seed(name, &bytes).map_err(|e| anyhow!("{e}"))
}

/// The root key file of a party: `keys/CODE.root.key`.
pub(crate) fn root_key_path(dir: &Path, code: &str) -> PathBuf {
    dir.join("keys").join(format!("{code}.root.key"))
}

fn signed_by(
    compact: &Compact,
    signer: &StandardSigner,
    author: &str,
    payload: Payload,
) -> anyhow::Result<Statement> {
    Ok(Statement::sign(
        Draft {
            compact: compact.id.clone(),
            author: author.to_owned(),
            time: clock()?,
            payload,
        },
        signer,
    )?)
}

/// The statements that register `code`'s keys found in `keys/`: its root key (self-signed)
/// when the log has none, and its signing key (signed by the root), unless already there.
fn registrations(
    dir: &Path,
    compact: &Compact,
    code: &str,
    facts: &compact_statement::rules::Facts,
) -> anyhow::Result<Vec<Statement>> {
    let mut out = Vec::new();
    let root_path = root_key_path(dir, code);
    if !root_path.exists() {
        return Ok(out);
    }
    let root = signer_from(&root_path)?;
    let root_vkey = verifier_of(&root_path)?;
    let root_id = signed_note::Signer::key_id(&root);
    let registered = |id: u32| facts.keys.contains_key(&(code.to_owned(), id));
    if !facts.roots.contains_key(code) && !registered(root_id) {
        out.push(signed_by(
            compact,
            &root,
            code,
            Payload::KeyRegister(compact_statement::KeyRegister {
                key: root_vkey,
                role: compact_statement::Role::Root,
                valid_from: None,
            }),
        )?);
    }
    let key_path = dir.join("keys").join(format!("{code}.key"));
    if key_path.exists() {
        let signing = signer_from(&key_path)?;
        if !registered(signed_note::Signer::key_id(&signing)) {
            out.push(signed_by(
                compact,
                &root,
                code,
                Payload::KeyRegister(compact_statement::KeyRegister {
                    key: verifier_of(&key_path)?,
                    role: compact_statement::Role::Signing,
                    valid_from: None,
                }),
            )?);
        }
    }
    Ok(out)
}

/// The verifier key of a private key file.
fn verifier_of(path: &Path) -> anyhow::Result<String> {
    let (text, _) = read_private_key(path).map_err(|e| anyhow!(e))?;
    keys::verifier_of(&text).map_err(|e| anyhow!("{}: {e}", path.display()))
}

/// `compact keygen`.
#[allow(clippy::too_many_arguments)]
pub fn keygen(
    place: &Place,
    party: Option<&str>,
    operator: bool,
    root_only: bool,
    out_path: Option<&Path>,
    valid_from: Option<&str>,
    seed: Option<&str>,
) -> anyhow::Result<ExitCode> {
    let dir = place.dir.as_path();
    let compact = load(dir)
        .ok_or_else(|| anyhow!("the compact in {} is not valid (see above)", dir.display()))?;
    let name = match (party, operator) {
        (Some(code), false) => {
            if !compact.parties.contains_key(code) {
                bail!(
                    "unknown party `{code}`; the compact has: {}",
                    compact
                        .parties
                        .keys()
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(" ")
                );
            }
            code.to_owned()
        }
        (None, true) => {
            if let Some(k) = &compact.operator_key {
                bail!(
                    "compact.toml already names an operator key ({k}); a log has one operator key"
                );
            }
            compact.id.clone()
        }
        _ => bail!("give exactly one of --party CODE or --operator"),
    };
    let valid_from = valid_from
        .map(|v| parse_time(Some(v)).with_context(|| format!("--valid-from `{v}`")))
        .transpose()?;
    let pair_for = |label: &str| match seed {
        Some(s) => seeded(&name, &format!("{s}{label}")),
        None => keys::generate(&name).map_err(|e| anyhow!("{e}")),
    };
    if operator {
        let pair = pair_for("")?;
        let path = out_path.map_or_else(|| dir.join("keys/operator.key"), Path::to_path_buf);
        write_private_key(&path, &pair.private).map_err(|e| anyhow!(e))?;
        record_operator_key(dir, &pair.verifier).map_err(|e| anyhow!(e))?;
        eprintln!(
            "operator verifier key {} recorded in compact.toml; `compact init` pins it in the log",
            pair.verifier
        );
        out!("{}", path.display());
        return Ok(ExitCode::SUCCESS);
    }
    let root_path = root_key_path(dir, &name);
    let key_path = out_path.map_or_else(
        || dir.join("keys").join(format!("{name}.key")),
        Path::to_path_buf,
    );
    // Refuse before writing anything: a failed keygen leaves no key behind.
    if !root_only && key_path.symlink_metadata().is_ok() {
        bail!(
            "{} already exists: refusing to overwrite a key",
            key_path.display()
        );
    }
    let mut written = Vec::new();
    if !root_path.exists() {
        let root = pair_for("\nroot")?;
        write_private_key(&root_path, &root.private).map_err(|e| anyhow!(e))?;
        eprintln!(
            "root key {} of {name} written to {} (keep it offline: it registers and revokes the party's keys)",
            root.verifier,
            root_path.display()
        );
        written.push(root_path.clone());
    } else if root_only {
        bail!(
            "{} already exists: a party has one root key (rotate it with a new key registered by the old)",
            root_path.display()
        );
    }
    let mut new_key = None;
    if !root_only {
        let pair = pair_for("")?;
        let path = key_path;
        write_private_key(&path, &pair.private).map_err(|e| anyhow!(e))?;
        let from_day = valid_from.map_or_else(today, |t| {
            t.to_zoned_datetime(jiff::tz::TimeZone::UTC).date()
        });
        record_party_key(
            dir,
            &name,
            &pair.verifier,
            valid_from.map(|_| from_day.to_string()).as_deref(),
            &from_day.to_string(),
        )
        .map_err(|e| anyhow!(e))?;
        written.push(path);
        new_key = Some(pair.verifier);
    }
    // Register in the log, if there is one yet; otherwise `compact init` will.
    let db = place.database();
    if db.exists() {
        let store = place.store()?;
        let facts = compact_store::stored_facts(&store, &compact)?;
        note_last_receipt(facts.last_received);
        drop(store);
        let root = signer_from(&root_path)?;
        let mut statements = Vec::new();
        if !facts.roots.contains_key(&name) {
            statements.push(signed_by(
                &compact,
                &root,
                &name,
                Payload::KeyRegister(compact_statement::KeyRegister {
                    key: verifier_of(&root_path)?,
                    role: compact_statement::Role::Root,
                    valid_from: None,
                }),
            )?);
        }
        if let Some(vkey) = &new_key {
            statements.push(signed_by(
                &compact,
                &root,
                &name,
                Payload::KeyRegister(compact_statement::KeyRegister {
                    key: vkey.clone(),
                    role: compact_statement::Role::Signing,
                    valid_from,
                }),
            )?);
            // Rotation: the party's earlier signing keys sign nothing from the new key's first
            // moment on (not before: the party is never left without a key).
            for ((code, _), rec) in &facts.keys {
                if *code == name
                    && rec.role == compact_statement::Role::Signing
                    && rec.revoked_from.is_none()
                {
                    statements.push(signed_by(
                        &compact,
                        &root,
                        &name,
                        Payload::KeyRevoke(compact_statement::KeyRevoke {
                            key: compact_statement::rules::vkey_ref(&rec.vkey),
                            from: valid_from,
                            reason: "rotation".into(),
                        }),
                    )?);
                }
            }
        }
        let first = append(place, &compact, &statements, None)?;
        eprintln!(
            "registered in the log: entries {first} to {}",
            first + statements.len() as u64 - 1
        );
    } else {
        eprintln!(
            "not in the log yet: `compact init` registers the keys in {}/keys",
            dir.display()
        );
    }
    for p in written {
        out!("{}", p.display());
    }
    Ok(ExitCode::SUCCESS)
}

/// `compact init`: creates the store; its first entry, the operator's `log.init`, pins the
/// compact's id and the operator's key; then the keys of every party found in `keys/` are
/// registered (root keys self-signed, trust on first use; signing keys by their root).
pub fn init(place: &Place, operator_key: Option<&Path>) -> anyhow::Result<ExitCode> {
    let compact = place.compact()?;
    let operator = operator_signer(place, operator_key)?;
    let default = place.dir.join("keys/operator.key");
    let op_vkey = verifier_of(operator_key.unwrap_or(&default))?;
    let mut statements = vec![signed_by(
        &compact,
        &operator,
        &compact.id,
        Payload::LogInit(compact_statement::LogInit {
            operator_key: op_vkey,
        }),
    )?];
    let facts = compact_statement::rules::Facts::default();
    for code in compact.parties.keys() {
        statements.extend(registrations(&place.dir, &compact, code, &facts)?);
    }
    let path = place.database();
    let store = SqliteStore::create(&path, &compact.id)
        .with_context(|| format!("cannot create the store {}", path.display()))?;
    let mut ledger = Ledger::open(store, &compact)?;
    let appended = ledger.append(&statements, &operator, operator_clock()?.store_clock());
    if let Err(e) = appended {
        // Nothing of the log was written: remove the empty store so that init can be rerun.
        drop(ledger);
        let _ = std::fs::remove_file(&path);
        bail!("refused: {e}");
    }
    eprintln!(
        "log.init and {} key registrations appended",
        statements.len() - 1
    );
    out!("{}", path.display());
    Ok(ExitCode::SUCCESS)
}

fn append(
    place: &Place,
    compact: &Compact,
    statements: &[Statement],
    operator_key: Option<&Path>,
) -> anyhow::Result<u64> {
    let operator = operator_signer(place, operator_key)?;
    let mut ledger = Ledger::open(place.store()?, compact)?;
    let first = ledger
        .append(statements, &operator, operator_clock()?.store_clock())
        .map_err(append_error)?;
    Ok(first)
}

/// Signs `payload` with the key in `key` (the author is the key's name) and appends it.
pub(crate) fn sign_and_append(
    place: &Place,
    key: &Path,
    payload: Payload,
    time: Option<&str>,
    operator_key: Option<&Path>,
) -> anyhow::Result<(u64, Statement)> {
    let compact = place.compact()?;
    let signer = signer_from(key)?;
    let author = signed_note::Signer::name(&signer).to_owned();
    let st = Statement::sign(
        Draft {
            compact: compact.id.clone(),
            author,
            time: parse_time_or_clock(time)?,
            payload,
        },
        &signer,
    )?;
    let index = append(place, &compact, std::slice::from_ref(&st), operator_key)?;
    Ok((index, st))
}

/// `compact sign`.
pub fn sign(
    place: &Place,
    agreement: &str,
    version: Option<u32>,
    key: &Path,
    time: Option<&str>,
    operator_key: Option<&Path>,
) -> anyhow::Result<ExitCode> {
    let compact = place.compact()?;
    let a = compact.agreement(agreement, version).ok_or_else(|| {
        anyhow!(
            "unknown agreement `{agreement}`{}",
            version.map(|v| format!(" version {v}")).unwrap_or_default()
        )
    })?;
    let signer = signer_from(key)?;
    let author = signed_note::Signer::name(&signer).to_owned();
    let terms = compact_files::agreement_text(Path::new(&a.path)).map_err(|e| anyhow!(e))?;
    let st = Statement::sign(
        Draft {
            compact: compact.id.clone(),
            author: author.clone(),
            time: parse_time_or_clock(time)?,
            payload: Payload::AgreementSign(compact_statement::AgreementSign {
                agreement: a.id.clone(),
                version: a.version,
                digest: a.digest.clone(),
                terms,
            }),
        },
        &signer,
    )?;
    let index = append(place, &compact, std::slice::from_ref(&st), operator_key)?;
    out!(
        "entry {index}: {author} signed {} version {}",
        a.id,
        a.version
    );
    Ok(ExitCode::SUCCESS)
}

/// `compact submit`.
pub fn submit(
    place: &Place,
    key: &Path,
    kind: &str,
    payload: &str,
    time: Option<&str>,
    print: bool,
    operator_key: Option<&Path>,
) -> anyhow::Result<ExitCode> {
    let compact = place.compact()?;
    let kind = Kind::parse(kind).ok_or_else(|| {
        anyhow!(
            "unknown statement type `{kind}`; known: {}",
            Kind::ALL.map(Kind::as_str).join(", ")
        )
    })?;
    let text = match payload.strip_prefix('@') {
        Some(file) => crate::input::read_text_capped(
            Path::new(file),
            crate::input::PAYLOAD_MAX,
            "a payload file",
        )?,
        None => payload.to_owned(),
    };
    let signer = signer_from(key)?;
    let author = signed_note::Signer::name(&signer).to_owned();
    let value = compact_statement::ijson::parse(&text)
        .map_err(|e| anyhow!("the payload is not JSON, or not I-JSON (RFC 7493): {e}"))?;
    let payload = Payload::from_json(kind, value)?;
    let st = Statement::sign(
        Draft {
            compact: compact.id.clone(),
            author: author.clone(),
            time: parse_time_or_clock(time)?,
            payload,
        },
        &signer,
    )?;
    if print {
        out!("{}", String::from_utf8_lossy(&st.leaf));
        return Ok(ExitCode::SUCCESS);
    }
    let index = append(place, &compact, std::slice::from_ref(&st), operator_key)?;
    out!("entry {index}: {} by {author}", kind.as_str());
    Ok(ExitCode::SUCCESS)
}

fn bar(len: u64, what: &str) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let pb = ProgressBar::new(len);
    let style = ProgressStyle::with_template("{msg:>10} [{bar:40}] {pos}/{len} ({per_sec}, {eta})")
        .map(|s| s.progress_chars("=> "))
        .unwrap_or_else(|_| ProgressStyle::default_bar());
    pb.set_style(style);
    pb.set_message(what.to_owned());
    pb
}

/// Progress of an import: a bar on a terminal; otherwise a line on stderr every
/// [`PROGRESS_BATCHES`] batches or [`PROGRESS_EVERY`], whichever comes first.
struct Progress {
    bar: ProgressBar,
    lines: bool,
    total: u64,
    last: std::time::Instant,
    batches: u32,
}

/// Batches between two progress lines when stderr is not a terminal.
const PROGRESS_BATCHES: u32 = 10;
/// The longest time between two progress lines when stderr is not a terminal.
const PROGRESS_EVERY: std::time::Duration = std::time::Duration::from_secs(2);

impl Progress {
    fn new(total: u64) -> Self {
        Progress {
            bar: bar(total, "import"),
            lines: !std::io::stderr().is_terminal(),
            total,
            last: std::time::Instant::now(),
            batches: 0,
        }
    }

    /// `in_log` statements of the input are durably in the log.
    fn batch_written(&mut self, in_log: u64) {
        self.bar.set_position(in_log);
        self.batches += 1;
        if self.lines && (self.batches >= PROGRESS_BATCHES || self.last.elapsed() >= PROGRESS_EVERY)
        {
            eprintln!("import: {in_log} of {} statements in the log", self.total);
            self.batches = 0;
            self.last = std::time::Instant::now();
        }
    }
}

/// Reads a JSON-lines file of statements: (line number, statement). Lines are at most
/// [`crate::input::IMPORT_LINE_MAX`] bytes, the file at most [`crate::input::IMPORT_FILE_MAX`].
fn read_statements(file: &Path) -> anyhow::Result<Vec<(usize, Statement)>> {
    use crate::input::{IMPORT_FILE_MAX, IMPORT_LINE_MAX};
    use std::io::Read as _;
    let mut reader = std::io::BufReader::new(
        std::fs::File::open(file).with_context(|| format!("cannot read {}", file.display()))?,
    )
    .take(IMPORT_FILE_MAX + 1);
    let mut statements = Vec::new();
    let mut line = Vec::new();
    for number in 1.. {
        line.clear();
        let n = (&mut reader)
            .take(IMPORT_LINE_MAX + 2)
            .read_until(b'\n', &mut line)
            .with_context(|| format!("{}:{number}: cannot read", file.display()))?;
        if n == 0 {
            break;
        }
        if reader.limit() == 0 {
            bail!(
                "{}: larger than {IMPORT_FILE_MAX} bytes (1 GiB), the most an import file may hold: split it",
                file.display()
            );
        }
        let text = line.strip_suffix(b"\n").unwrap_or(&line);
        let text = text.strip_suffix(b"\r").unwrap_or(text);
        if text.len() as u64 > IMPORT_LINE_MAX {
            bail!(
                "{}:{number}: the line is longer than {IMPORT_LINE_MAX} bytes (64 KiB), the largest statement",
                file.display()
            );
        }
        if text.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let text = std::str::from_utf8(text)
            .map_err(|_| anyhow!("{}:{number}: not UTF-8", file.display()))?;
        let st = Statement::decode(text.as_bytes())
            .map_err(|e| anyhow!("{}:{number}: {e}", file.display()))?;
        statements.push((number, st));
    }
    Ok(statements)
}

/// `compact import`.
///
/// Statements already in the log are skipped and counted, so an interrupted import run again
/// completes it. The whole input is checked before anything is written; each batch is then
/// written under the store's write lock, and if another writer appended in between, what is
/// left is checked again against the log as it now is.
pub fn import(
    place: &Place,
    file: &Path,
    batch: usize,
    operator_key: Option<&Path>,
) -> anyhow::Result<ExitCode> {
    let compact = place.compact()?;
    let operator = operator_signer(place, operator_key)?;
    let (mut lines, mut statements): (Vec<usize>, Vec<Statement>) =
        read_statements(file)?.into_iter().unzip();
    let total = statements.len() as u64;
    let mut ledger = Ledger::open(place.store()?, &compact)?;
    let mut progress = Progress::new(total);
    let (mut already, mut written, mut batches_written) = (0u64, 0u64, 0u64);
    // What is prepared: batches for `statements[done..]`, valid while the log's size is the
    // first batch's first index.
    let mut prepared: std::collections::VecDeque<compact_store::Batch> = Default::default();
    let mut done = 0usize;
    loop {
        ledger.begin_write()?;
        let step = (|| -> anyhow::Result<Option<usize>> {
            let size = ledger.store().size()?;
            if prepared.front().is_none_or(|b| b.first_index != size) {
                prepared.clear();
                let mut rest_lines = Vec::new();
                let mut rest = Vec::new();
                for (line, st) in lines.drain(done..).zip(statements.drain(done..)) {
                    if ledger.already_logged(&st)?.is_some() {
                        already += 1;
                    } else {
                        rest_lines.push(line);
                        rest.push(st);
                    }
                }
                (lines, statements, done) = (rest_lines, rest, 0);
                let refused_note = if written == 0 {
                    "nothing was written".to_owned()
                } else {
                    format!(
                        "the log grew meanwhile; {written} statements of this input were written before, the rest was not"
                    )
                };
                prepared = ledger
                    .prepare(
                        &statements,
                        &operator,
                        batch,
                        operator_clock()?.store_clock(),
                    )
                    .map_err(|e| match e {
                        AppendError::Refused { position, reason } => anyhow!(
                            "{}:{}: refused: {reason} ({refused_note})",
                            file.display(),
                            lines.get(position).copied().unwrap_or(0)
                        ),
                        other => append_error(other),
                    })?
                    .into();
            }
            let Some(b) = prepared.pop_front() else {
                return Ok(None);
            };
            ledger.write(std::slice::from_ref(&b), &mut |_| {})?;
            Ok(Some(b.entries.len()))
        })();
        ledger.end_write(step.is_ok())?;
        match step? {
            Some(n) => {
                done += n;
                written += n as u64;
                batches_written += 1;
                progress.batch_written(already + written);
            }
            None => break,
        }
    }
    progress.bar.finish_and_clear();
    out!(
        "imported {written} statements in {batches_written} batches, {already} already in the log; the log now holds {}",
        ledger.store().size()?
    );
    Ok(ExitCode::SUCCESS)
}

/// `compact agreements`.
pub fn agreements(place: &Place, as_of: Option<&str>, format: Format) -> anyhow::Result<ExitCode> {
    let Governed {
        compact,
        facts,
        working,
    } = place.governed()?;
    let today = match as_of {
        Some(d) => parse_date(d, "--as-of")?,
        None => today(),
    };
    let mut rows = Vec::new();
    for a in compact.latest_agreements() {
        let st = status(a, &facts, today);
        let file = working
            .agreement(&a.id, Some(a.version))
            .map(|w| w.digest.clone());
        let note = match (&file, st) {
            (Some(f), _) if *f != a.digest => {
                "working file differs from the signed text".to_owned()
            }
            (None, _) => "no working file".to_owned(),
            (
                _,
                compact_statement::rules::Status::NoticeGiven
                | compact_statement::rules::Status::Terminated,
            ) => {
                let t = facts.terminations.get(&a.id);
                t.map(|t| {
                    format!(
                        "notice by {} (entry {}), effective {}{}",
                        t.by,
                        t.entry,
                        t.effective,
                        if t.notice_assumed {
                            " (notice period assumed: the text states none)"
                        } else {
                            ""
                        }
                    )
                })
                .unwrap_or_default()
            }
            (_, compact_statement::rules::Status::Suspended) => facts
                .suspended(&a.id, u64::MAX)
                .map(|s| format!("suspended by {} (entry {})", s.by, s.entry))
                .unwrap_or_default(),
            _ => String::new(),
        };
        rows.push(serde_json::json!({
            "id": a.id, "version": a.version, "guarantor": a.guarantor, "beneficiary": a.beneficiary,
            "status": st.as_str(), "digest": a.digest, "working_digest": file, "note": note,
        }));
    }
    match format {
        Format::Json => out!("{}", serde_json::to_string_pretty(&rows)?),
        Format::Table => {
            let cols = [
                "id",
                "version",
                "guarantor",
                "beneficiary",
                "status",
                "digest",
                "note",
            ];
            let t = rows
                .iter()
                .map(|r| {
                    cols.iter()
                        .map(|k| match &r[k] {
                            serde_json::Value::String(s) if *k == "digest" => format!("sha256:{s}"),
                            serde_json::Value::String(s) => s.clone(),
                            other => other.to_string(),
                        })
                        .collect()
                })
                .collect();
            out!("{}", table(&cols, t, &[]));
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn latest(store: &SqliteStore) -> anyhow::Result<(u64, Vec<u8>)> {
    store
        .latest_checkpoint()?
        .ok_or_else(|| anyhow!("the log is empty: there is no checkpoint yet"))
}

/// `compact log checkpoint`.
pub fn log_checkpoint(place: &Place) -> anyhow::Result<ExitCode> {
    let (_, note) = latest(&place.store()?)?;
    use std::io::Write as _;
    std::io::stdout().lock().write_all(&note)?;
    Ok(ExitCode::SUCCESS)
}

/// `compact log public-key`.
pub fn log_public_key(place: &Place) -> anyhow::Result<ExitCode> {
    let store = place.store()?;
    let first = store
        .entry(0)?
        .ok_or_else(|| anyhow!("the log is empty: run `compact init`"))?;
    let st = Statement::decode(&first)?;
    let Payload::LogInit(l) = st.payload else {
        bail!("entry 0 is not the operator's log.init: the store was not made by `compact init`");
    };
    out!("{}", l.operator_key);
    Ok(ExitCode::SUCCESS)
}

/// `compact log entry`.
pub fn log_entry(place: &Place, index: u64, format: Format) -> anyhow::Result<ExitCode> {
    let store = place.store()?;
    let size = store.size()?;
    let leaf = store
        .entry(index)?
        .filter(|_| index < size)
        .ok_or_else(|| anyhow!("entry {index} is out of range: the log holds {size} entries"))?;
    let statement: serde_json::Value =
        serde_json::from_slice(&leaf).unwrap_or(serde_json::Value::Null);
    let v = serde_json::json!({
        "index": index,
        "leaf": base64::engine::general_purpose::STANDARD.encode(&leaf),
        "statement": statement,
    });
    match format {
        Format::Json => out!("{}", serde_json::to_string(&v)?),
        Format::Table => out!("{}", serde_json::to_string_pretty(&v)?),
    }
    Ok(ExitCode::SUCCESS)
}

/// `compact log prove`.
pub fn log_prove(place: &Place, index: u64, size: Option<u64>) -> anyhow::Result<ExitCode> {
    let store = place.store()?;
    let latest_size = store.size()?;
    let size = size.unwrap_or(latest_size);
    if size > latest_size {
        bail!("tree size {size} is beyond the log's {latest_size} entries");
    }
    let p = store.read_tx(|| prove_inclusion(index, size, &StoreHashes(&store)))??;
    out!("{}", serde_json::to_string_pretty(&p)?);
    Ok(ExitCode::SUCCESS)
}

/// `compact log consistency`.
pub fn log_consistency(place: &Place, old: u64, new: u64) -> anyhow::Result<ExitCode> {
    let store = place.store()?;
    let size = store.size()?;
    if new > size {
        bail!("tree size {new} is beyond the log's {size} entries");
    }
    let p = store.read_tx(|| prove_consistency(old, new, &StoreHashes(&store)))??;
    out!("{}", serde_json::to_string_pretty(&p)?);
    Ok(ExitCode::SUCCESS)
}

fn read_checkpoint(path: &Path) -> anyhow::Result<Vec<u8>> {
    crate::input::read_capped(path, crate::input::CHECKPOINT_MAX, "a checkpoint")
}

fn verifier_key(key: &str) -> anyhow::Result<String> {
    // A key, or a file holding one.
    if Path::new(key).is_file() {
        let text =
            crate::input::read_text_capped(Path::new(key), crate::input::KEY_MAX, "a key file")?;
        return Ok(text.trim().to_owned());
    }
    Ok(key.to_owned())
}

/// A proof read from a file, and the checkpoint it is checked against, opened with the
/// operator's key (the origin is the key's name unless given).
fn proof_and_checkpoint<P: serde::de::DeserializeOwned>(
    proof: &Path,
    what: &str,
    checkpoint: &Path,
    key: &str,
    origin: Option<&str>,
) -> anyhow::Result<(P, String, compact_log::Verified)> {
    let p: P = serde_json::from_slice(&crate::input::read_capped(
        proof,
        crate::input::PROOF_MAX,
        "a proof",
    )?)
    .with_context(|| format!("{}: not {what}", proof.display()))?;
    let key = verifier_key(key)?;
    let origin = origin.map_or_else(
        || key.split('+').next().unwrap_or("").to_owned(),
        str::to_owned,
    );
    let cp = open_checkpoint(&read_checkpoint(checkpoint)?, &key, &origin)
        .map_err(|e| anyhow!("{}: {e}", checkpoint.display()))?;
    Ok((p, key, cp))
}

/// `compact log verify-inclusion`.
pub fn verify_inclusion_cmd(
    proof: &Path,
    checkpoint: &Path,
    key: &str,
    origin: Option<&str>,
) -> anyhow::Result<ExitCode> {
    let (p, _, cp): (InclusionProof, _, _) =
        proof_and_checkpoint(proof, "an inclusion proof", checkpoint, key, origin)?;
    verify_inclusion(&p, &cp)?;
    out!(
        "ok: entry {} (leaf {}) is in the log of {} at size {}",
        p.index,
        p.leaf_hash,
        cp.origin,
        cp.size
    );
    Ok(ExitCode::SUCCESS)
}

/// `compact log verify-consistency`.
pub fn verify_consistency_cmd(
    proof: &Path,
    checkpoint: &Path,
    old_checkpoint: Option<&Path>,
    key: &str,
    origin: Option<&str>,
) -> anyhow::Result<ExitCode> {
    let (p, key, cp): (ConsistencyProof, _, _) =
        proof_and_checkpoint(proof, "a consistency proof", checkpoint, key, origin)?;
    verify_consistency(&p, &cp)?;
    if let Some(old) = old_checkpoint {
        let o = open_checkpoint(&read_checkpoint(old)?, &key, &cp.origin)
            .map_err(|e| anyhow!("{}: {e}", old.display()))?;
        if o.size != p.old_size || compact_log::hex_hash(&o.root) != p.old_root {
            bail!(
                "the proof starts at size {} root {}, the old checkpoint is size {} root {}",
                p.old_size,
                p.old_root,
                o.size,
                compact_log::hex_hash(&o.root)
            );
        }
    }
    out!(
        "ok: the log of {} at size {} extends size {}",
        cp.origin,
        cp.size,
        p.old_size
    );
    Ok(ExitCode::SUCCESS)
}

/// `compact verify`.
pub fn verify(
    place: &Place,
    checkpoints: &[PathBuf],
    operator_key: Option<&str>,
) -> anyhow::Result<ExitCode> {
    let compact = place.compact()?;
    let path = place.database();
    let store = SqliteStore::open_read_only(&path)
        .with_context(|| format!("cannot open the store {}", path.display()))?;
    let pinned = operator_key.map(verifier_key).transpose()?;
    let mut given = Vec::new();
    for c in checkpoints {
        given.push(GivenCheckpoint {
            name: c.display().to_string(),
            note: read_checkpoint(c)?,
        });
    }
    let pb = bar(store.size()?, "verify");
    let report = audit(&store, &compact, &given, pinned.as_deref(), &mut |n| {
        pb.set_position(n)
    })?;
    pb.finish_and_clear();
    if report.ok() {
        out!(
            "ok: {}, {} verified; root (hex) {}",
            crate::output::plural(report.entries.try_into().unwrap_or(usize::MAX), "entry"),
            crate::output::plural(report.checkpoints, "checkpoint"),
            report.root.as_deref().unwrap_or("-")
        );
        return Ok(ExitCode::SUCCESS);
    }
    for p in &report.problems {
        eprintln!("error: {}", p.message);
    }
    eprintln!(
        "error: verification failed: {} problem(s) in {} entries",
        report.problems.len(),
        report.entries
    );
    Ok(ExitCode::from(1))
}

/// The default number of statements per import transaction.
pub const IMPORT_BATCH: usize = BATCH_DEFAULT;
