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
use compact_model::{Compact, digest};
use compact_statement::rules::status;
use compact_statement::{Draft, Kind, Payload, Statement, keys};
use compact_store::audit::{GivenCheckpoint, audit};
use compact_store::sqlite::SqliteStore;
use compact_store::{AppendError, BATCH_DEFAULT, Ledger, Store, StoreHashes};
use indicatif::{ProgressBar, ProgressStyle};
use jiff::Timestamp;
use jiff::civil::Date;
use signed_note::StandardSigner;

use crate::Format;
use crate::commands::load;
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

    pub(crate) fn compact(&self) -> anyhow::Result<Compact> {
        load(&self.dir).ok_or_else(|| {
            anyhow!(
                "the compact in {} is not valid (see above)",
                self.dir.display()
            )
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

impl Place {}

pub(crate) fn today() -> Date {
    Timestamp::now()
        .to_zoned_datetime(jiff::tz::TimeZone::UTC)
        .date()
}

/// `2024-01-12` (midnight UTC) or `2024-01-12T10:00:00Z`; now when absent.
pub fn parse_time(s: Option<&str>) -> anyhow::Result<Timestamp> {
    let Some(s) = s else {
        let now = Timestamp::now();
        return Timestamp::from_second(now.as_second()).map_err(|e| anyhow!("{e}"));
    };
    if let Ok(d) = s.parse::<Date>() {
        return d
            .to_zoned_datetime(jiff::tz::TimeZone::UTC)
            .map(|z| z.timestamp())
            .map_err(|e| anyhow!("{e}"));
    }
    s.parse::<Timestamp>().map_err(|e| {
        anyhow!("malformed time `{s}`: expected 2024-01-12 or 2024-01-12T10:00:00Z ({e})")
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

/// `compact keygen`.
pub fn keygen(
    dir: &Path,
    party: Option<&str>,
    operator: bool,
    out_path: Option<&Path>,
    valid_from: Option<&str>,
    seed: Option<&str>,
) -> anyhow::Result<ExitCode> {
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
    if let Some(v) = valid_from {
        v.parse::<Date>()
            .map_err(|e| anyhow!("malformed --valid-from `{v}`: {e}"))?;
    }
    let pair = match seed {
        Some(s) => seeded(&name, s)?,
        None => keys::generate(&name).map_err(|e| anyhow!("{e}"))?,
    };
    let file = if operator {
        "operator".to_owned()
    } else {
        name.clone()
    };
    let path = out_path.map_or_else(
        || dir.join("keys").join(format!("{file}.key")),
        Path::to_path_buf,
    );
    write_private_key(&path, &pair.private).map_err(|e| anyhow!(e))?;
    if operator {
        record_operator_key(dir, &pair.verifier).map_err(|e| anyhow!(e))?;
        eprintln!(
            "operator verifier key {} recorded in compact.toml",
            pair.verifier
        );
    } else {
        let retired =
            record_party_key(dir, &name, &pair.verifier, valid_from, &today().to_string())
                .map_err(|e| anyhow!(e))?;
        eprintln!(
            "verifier key {} recorded in parties/{name}.toml",
            pair.verifier
        );
        if retired > 0 {
            eprintln!(
                "retired {retired} earlier key(s) of {name} as of {}",
                today()
            );
        }
    }
    out!("{}", path.display());
    Ok(ExitCode::SUCCESS)
}

/// `compact init`.
pub fn init(place: &Place) -> anyhow::Result<ExitCode> {
    let compact = place.compact()?;
    let path = place.database();
    SqliteStore::create(&path, &compact.id)
        .with_context(|| format!("cannot create the store {}", path.display()))?;
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
    let first = ledger.append(statements, &operator).map_err(append_error)?;
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
            time: parse_time(time)?,
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
    let st = Statement::sign(
        Draft {
            compact: compact.id.clone(),
            author: author.clone(),
            time: parse_time(time)?,
            payload: Payload::AgreementSign(compact_statement::AgreementSign {
                agreement: a.id.clone(),
                version: a.version,
                digest: digest(a)?,
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
            time: parse_time(time)?,
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
                    .prepare(&statements, &operator, batch)
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
    let compact = place.compact()?;
    let store = place.store()?;
    let facts = compact_store::stored_facts(&store)?;
    let today = match as_of {
        Some(d) => d
            .parse::<Date>()
            .map_err(|e| anyhow!("malformed --as-of `{d}`: {e}"))?,
        None => today(),
    };
    let mut rows = Vec::new();
    for a in compact.latest_agreements() {
        let d = digest(a)?;
        let st = status(a, &d, &facts.signatures, facts.accession, today);
        rows.push(serde_json::json!({
            "id": a.id, "guarantor": a.guarantor, "beneficiary": a.beneficiary,
            "status": st.as_str(), "digest": d,
        }));
    }
    match format {
        Format::Json => out!("{}", serde_json::to_string_pretty(&rows)?),
        Format::Table => {
            let t = rows
                .iter()
                .map(|r| {
                    ["id", "guarantor", "beneficiary", "status", "digest"]
                        .iter()
                        .map(|k| r[k].as_str().unwrap_or("").to_owned())
                        .collect()
                })
                .collect();
            out!(
                "{}",
                table(
                    &["id", "guarantor", "beneficiary", "status", "digest"],
                    t,
                    &[]
                )
            );
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
    let compact = place.compact()?;
    let k = compact.operator_key.ok_or_else(|| {
        anyhow!("compact.toml names no operator key: run `compact keygen --operator`")
    })?;
    out!("{k}");
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
pub fn verify(place: &Place, checkpoints: &[PathBuf]) -> anyhow::Result<ExitCode> {
    let compact = place.compact()?;
    let store = place.store()?;
    let mut given = Vec::new();
    for c in checkpoints {
        given.push(GivenCheckpoint {
            name: c.display().to_string(),
            note: read_checkpoint(c)?,
        });
    }
    let pb = bar(store.size()?, "verify");
    let report = audit(&store, &compact, &given, &mut |n| pb.set_position(n))?;
    pb.finish_and_clear();
    if report.ok() {
        out!(
            "ok: {} entries, {} checkpoints verified; root {}",
            report.entries,
            report.checkpoints,
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
