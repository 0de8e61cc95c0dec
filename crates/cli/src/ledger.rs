//! The commands that work on the log: keys, the store, signing, statements, proofs, audit.

use std::io::IsTerminal as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, anyhow, bail};
use compact_log::{
    ConsistencyProof, InclusionProof, open_checkpoint, verify_consistency, verify_inclusion,
};
use compact_model::Compact;
use compact_service::api::v1::AgreementRow;
use compact_service::keys::KeyFile;
use compact_service::ledger::{KeyFor, KeygenRequest};
use compact_service::{Governed, OperatorClock, ServiceError, drift_message};
use compact_statement::{Kind, Payload, Statement};
use compact_store::Reads as _;
use compact_store::audit::GivenCheckpoint;
use compact_store::{BATCH_DEFAULT, Store};
use indicatif::{ProgressBar, ProgressStyle};
use jiff::Timestamp;
use jiff::civil::Date;
use signed_note::StandardSigner;

use crate::Format;
use crate::commands::{load, load_with_files};
use crate::output::{out, table};

pub use compact_service::{Place, STORE_FILE};

/// The place of the compact in `dir` with its store where `--database` (or
/// COMPACT_DATABASE_URL, or `[store] url`) says. A `[store]` that cannot be used ends the
/// command with a one-line error.
pub(crate) fn place_of(dir: &Path, database: Option<&str>) -> Place {
    match Place::locate(dir, database) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("compact: error: {e}");
            std::process::exit(1);
        }
    }
}

/// The CLI's ways to a [`Place`]: the compact read with its findings printed, drift warned of,
/// and the store with `COMPACT_BUSY_TIMEOUT_MS` applied.
pub(crate) trait PlaceExt {
    /// The compact as it governs: the working files, with every agreement version both
    /// parties signed replaced by the terms the log holds. A working file that differs from
    /// what was signed draws a warning and is not used.
    fn compact(&self) -> anyhow::Result<Compact>;
    /// The compact as it governs, the log's facts, and the working files' compact.
    fn governed(&self) -> anyhow::Result<Governed>;
    /// The place with the busy timeout `COMPACT_BUSY_TIMEOUT_MS` sets: for writing.
    fn writer(&self) -> anyhow::Result<Place>;
}

impl PlaceExt for Place {
    fn compact(&self) -> anyhow::Result<Compact> {
        Ok(self.governed()?.compact)
    }

    fn governed(&self) -> anyhow::Result<Governed> {
        let (working, files) = load_with_files(&self.dir).ok_or_else(|| {
            anyhow!(
                "the compact in {} is not valid (see above)",
                self.dir.display()
            )
        })?;
        let governed = self.govern(working, &files)?;
        note_last_receipt(governed.last_receipt);
        for d in &governed.drift {
            eprintln!("warning: {}", drift_message(d));
        }
        Ok(governed)
    }

    fn writer(&self) -> anyhow::Result<Place> {
        let mut place = self.clone();
        if let Some(timeout) = busy_timeout()? {
            place.busy_timeout = Some(timeout);
        }
        Ok(place)
    }
}

/// A statement's own time: as given, or the operator clock's now (under a replay clock, the
/// last entry's receipt time).
pub(crate) fn time_or_clock(time: Option<Timestamp>) -> anyhow::Result<Timestamp> {
    match time {
        Some(t) => Ok(t),
        None => clock(),
    }
}

/// The operator's clock as `COMPACT_CLOCK` sets it: unset, the system's now; a time, a fixed
/// simulated clock; `replay`, a clock that receives each statement at its own time (to replay a
/// dated history, as the demo does). Receipt times never go back, whichever clock runs.
pub(crate) fn operator_clock() -> anyhow::Result<OperatorClock> {
    match std::env::var("COMPACT_CLOCK") {
        Ok(s) if s.trim() == "replay" => Ok(OperatorClock::Replay),
        Ok(s) if !s.trim().is_empty() => Ok(OperatorClock::Fixed(
            compact_service::parse::time(&s)
                .map_err(|e| anyhow!("malformed time `{}`: {e}", s.trim()))
                .context("COMPACT_CLOCK, the operator's simulated clock (a time, or `replay`)")?,
        )),
        _ => Ok(OperatorClock::Now(now()?)),
    }
}

/// The time a statement made now is dated: the clock's now; under a replay clock, the last
/// entry's receipt (the compact's adoption before any; 2000-01-01 before a compact is read).
pub(crate) fn clock() -> anyhow::Result<Timestamp> {
    Ok(operator_clock()?.statement_time(REPLAY_NOW.with(|n| n.get())))
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
            || c.downcast_ref::<ServiceError>()
                .is_some_and(ServiceError::is_transient)
    })
}

pub(crate) fn today() -> Date {
    Timestamp::now()
        .to_zoned_datetime(jiff::tz::TimeZone::UTC)
        .date()
}

/// Now, in whole seconds (the time a statement is dated when none is given).
fn now() -> anyhow::Result<Timestamp> {
    Timestamp::from_second(Timestamp::now().as_second()).map_err(|e| anyhow!("{e}"))
}

/// The key file in `path`, its warning (if any) printed.
fn key_file(path: &Path) -> anyhow::Result<KeyFile> {
    let key = compact_service::keys::signer_from(path)?;
    if let Some(w) = &key.warning {
        eprintln!("warning: {w}");
    }
    Ok(key)
}

/// The key file's signer; the file's warning, if any, printed.
fn warned(key: KeyFile) -> StandardSigner {
    if let Some(w) = &key.warning {
        eprintln!("warning: {w}");
    }
    key.signer
}

fn operator_signer(place: &Place, path: Option<&Path>) -> anyhow::Result<StandardSigner> {
    Ok(warned(compact_service::keys::operator_signer(place, path)?))
}

/// `compact keygen`.
#[allow(clippy::too_many_arguments)]
pub fn keygen(
    place: &Place,
    party: Option<&str>,
    operator: bool,
    root_only: bool,
    out_path: Option<&Path>,
    valid_from: Option<Timestamp>,
    seed: Option<&str>,
    operator_key: Option<&Path>,
) -> anyhow::Result<ExitCode> {
    let dir = place.dir.as_path();
    let compact = load(dir)
        .ok_or_else(|| anyhow!("the compact in {} is not valid (see above)", dir.display()))?;
    let key_for = match (party, operator) {
        (Some(code), false) => KeyFor::Party {
            code: code.to_owned(),
            root_only,
        },
        (None, true) => KeyFor::Operator,
        _ => bail!("give exactly one of --party CODE or --operator"),
    };
    let request = KeygenRequest {
        key_for,
        out: out_path.map(Path::to_path_buf),
        valid_from,
        seed: seed.map(str::to_owned),
        today: today(),
    };
    let done = compact_service::ledger::keygen(
        &place.writer()?,
        &compact,
        &request,
        operator_key,
        operator_clock()?,
    )?;
    if let Some(v) = &done.operator_verifier {
        eprintln!(
            "operator verifier key {v} recorded in compact.toml; `compact init` pins it in the log"
        );
    }
    if let Some((verifier, path)) = &done.root {
        eprintln!(
            "root key {verifier} of {} written to {} (keep it offline: it registers and revokes the party's keys)",
            // The code as the compact declares it (the key's name), whatever case was given.
            verifier.split('+').next().unwrap_or_default(),
            path.display()
        );
    }
    if done.operator_verifier.is_none() {
        match done.registered {
            Some((first, last)) => eprintln!("registered in the log: entries {first} to {last}"),
            None => eprintln!(
                "not in the log yet: `compact init` registers the keys in {}/keys",
                dir.display()
            ),
        }
    }
    for p in &done.written {
        out!("{}", p.display());
    }
    Ok(ExitCode::SUCCESS)
}

/// `compact init`: creates the store; its first entry, the operator's `log.init`, pins the
/// compact's id and the operator's key; then the keys of every party found in `keys/` are
/// registered (root keys self-signed, trust on first use; signing keys by their root).
pub fn init(place: &Place, operator_key: Option<&Path>) -> anyhow::Result<ExitCode> {
    let governed = if place.url.is_some() {
        // A database is asked only by creating the store in it (which refuses one that
        // holds a store already).
        let (working, _) = load_with_files(&place.dir).ok_or_else(|| {
            anyhow!(
                "the compact in {} is not valid (see above)",
                place.dir.display()
            )
        })?;
        Place::unlogged(working)
    } else {
        place.governed()?
    };
    let done = compact_service::ledger::init(
        &place.writer()?,
        &governed,
        operator_key,
        operator_clock()?,
    )?;
    eprintln!(
        "log.init and {} key registrations appended",
        done.registrations
    );
    out!("{}", done.database);
    Ok(ExitCode::SUCCESS)
}

/// Signs `payload` with the key in `key` (the author is the key's name) and appends it.
pub(crate) fn sign_and_append(
    place: &Place,
    key: &Path,
    payload: Payload,
    time: Option<Timestamp>,
    operator_key: Option<&Path>,
) -> anyhow::Result<(u64, Statement)> {
    let governed = place.governed()?;
    let key = key_file(key)?;
    if let Some(server) = crate::client::server() {
        let time = time.unwrap_or(operator_clock()?.statement_time(governed.last_receipt));
        let st = compact_service::ledger::sign_statement(
            &governed.compact,
            &key.signer,
            &key.name(),
            payload,
            time,
        )?;
        let index = post_one(&server, &st)?;
        return Ok((index, st));
    }
    let operator = operator_signer(place, operator_key)?;
    let a = compact_service::ledger::sign_and_append(
        &place.writer()?,
        &governed,
        &key,
        payload,
        time,
        &operator,
        operator_clock()?,
    )?;
    Ok((a.index, a.statement))
}

/// `compact sign`.
pub fn sign(
    place: &Place,
    agreement: &str,
    version: Option<u32>,
    key: &Path,
    time: Option<Timestamp>,
    operator_key: Option<&Path>,
) -> anyhow::Result<ExitCode> {
    let governed = place.governed()?;
    let key = key_file(key)?;
    let st = compact_service::ledger::agreement_signature(
        &governed,
        agreement,
        version,
        &key,
        time_or_clock(time)?,
    )?;
    let index = append_one(place, &governed, &st, operator_key)?;
    let Payload::AgreementSign(a) = &st.payload else {
        bail!("entry {index} is not an agreement.sign");
    };
    out!(
        "entry {index}: {} signed {} version {}",
        st.author,
        a.agreement,
        a.version
    );
    Ok(ExitCode::SUCCESS)
}

/// Appends one signed statement to the local store, or posts it to the server given with
/// `--server`: its index in the log.
fn append_one(
    place: &Place,
    governed: &Governed,
    st: &Statement,
    operator_key: Option<&Path>,
) -> anyhow::Result<u64> {
    if let Some(server) = crate::client::server() {
        return post_one(&server, st);
    }
    let operator = operator_signer(place, operator_key)?;
    let index = compact_service::ledger::append(
        &place.writer()?,
        &governed.compact,
        std::slice::from_ref(st),
        &operator,
        operator_clock()?,
    )?;
    crate::witness::after_append(place, &governed.compact);
    Ok(index)
}

/// Posts one signed statement: its index, once the server says it is durable.
fn post_one(server: &crate::client::Client, st: &Statement) -> anyhow::Result<u64> {
    let ack = server.post(std::slice::from_ref(st))?;
    let entry = ack
        .entries
        .first()
        .ok_or_else(|| anyhow!("{} acknowledged no entry", server.base()))?;
    eprintln!(
        "{}: received {}, leaf {}, in the checkpoint of size {}",
        server.base(),
        entry.received,
        entry.leaf_hash,
        ack.size
    );
    Ok(entry.index)
}

/// `compact submit`.
pub fn submit(
    place: &Place,
    key: &Path,
    kind: &str,
    payload: &str,
    time: Option<Timestamp>,
    print: bool,
    operator_key: Option<&Path>,
) -> anyhow::Result<ExitCode> {
    let governed = place.governed()?;
    if Kind::parse(kind).is_none() {
        bail!("{}", compact_service::ledger::unknown_kind(kind));
    }
    let text = match payload.strip_prefix('@') {
        Some(file) => crate::input::read_text_capped(
            Path::new(file),
            crate::input::PAYLOAD_MAX,
            "a payload file",
        )?,
        None => payload.to_owned(),
    };
    let key = key_file(key)?;
    let (kind, st) = compact_service::ledger::submission(
        &governed.compact,
        &key,
        kind,
        &text,
        time_or_clock(time)?,
    )
    .map_err(|e| {
        // A payload that does not read: where its fields are described, with an example.
        let bad_payload = matches!(e.kind(), compact_service::ErrorKind::BadInput)
            && Kind::parse(kind).is_some()
            && e.to_string().contains("payload");
        let e = anyhow::Error::new(e);
        if bad_payload {
            anyhow!(
                "{e:#}\n  = help: the fields of a {kind} payload, with an example: compact schema {kind}"
            )
        } else {
            e
        }
    })?;
    if print {
        out!("{}", String::from_utf8_lossy(&st.leaf));
        return Ok(ExitCode::SUCCESS);
    }
    let index = append_one(place, &governed, &st, operator_key)?;
    out!("entry {index}: {} by {}", kind.as_str(), st.author);
    Ok(ExitCode::SUCCESS)
}

/// `compact retract`: the author retracts one of its own entries, with a reason.
pub fn retract(
    place: &Place,
    entry: u64,
    reason: &str,
    key: &Path,
    time: Option<Timestamp>,
    operator_key: Option<&Path>,
) -> anyhow::Result<ExitCode> {
    let payload = Payload::Retract(compact_statement::Retract {
        entry,
        reason: reason.to_owned(),
    });
    let (index, st) = sign_and_append(place, key, payload, time, operator_key)?;
    // What was retracted, when the log is at hand.
    let kind = match crate::client::server() {
        Some(_) => None,
        None => compact_service::reports::log_entry(place, entry)
            .ok()
            .and_then(|e| e.statement.get("type")?.as_str().map(str::to_owned)),
    };
    match kind.as_deref() {
        Some(k) => out!(
            "entry {index}: {} retracted entry {entry} ({k}): {reason}",
            st.author
        ),
        None => out!(
            "entry {index}: {} retracted entry {entry}: {reason}",
            st.author
        ),
    }
    if matches!(kind.as_deref(), Some("attack.declare" | "threat.level")) {
        out!("activation {entry} is withdrawn: nothing falls due on it from now");
    }
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

/// `compact import`.
///
/// Statements already in the log are skipped and counted, so an interrupted import run again
/// completes it (`compact_service::ledger::import`).
pub fn import(
    place: &Place,
    file: &Path,
    batch: usize,
    operator_key: Option<&Path>,
) -> anyhow::Result<ExitCode> {
    let read = || -> anyhow::Result<(String, Vec<(usize, Statement)>)> {
        let reader = std::io::BufReader::new(
            std::fs::File::open(file).with_context(|| format!("cannot read {}", file.display()))?,
        );
        let name = file.display().to_string();
        let statements = compact_service::ledger::read_statements(reader, &name)?;
        Ok((name, statements))
    };
    let done = if let Some(server) = crate::client::server() {
        let (name, statements) = read()?;
        let mut progress = Progress::new(statements.len() as u64);
        let done = crate::client::import(&server, &name, statements, batch, &mut |in_log| {
            progress.batch_written(in_log)
        });
        progress.bar.finish_and_clear();
        done?
    } else {
        let compact = place.compact()?;
        let operator = operator_signer(place, operator_key)?;
        let (name, statements) = read()?;
        let mut progress = Progress::new(statements.len() as u64);
        let done = compact_service::ledger::import(
            &place.writer()?,
            &compact,
            &name,
            statements,
            batch,
            &operator,
            operator_clock()?,
            &mut |in_log| progress.batch_written(in_log),
        );
        progress.bar.finish_and_clear();
        let done = done?;
        crate::witness::after_append(place, &compact);
        done
    };
    out!(
        "imported {} statements in {} batches, {} already in the log; the log now holds {}",
        done.written,
        done.batches,
        done.already,
        done.size
    );
    Ok(ExitCode::SUCCESS)
}

/// `compact agreements`.
pub fn agreements(place: &Place, as_of: Option<Date>, format: Format) -> anyhow::Result<ExitCode> {
    let governed = place.governed()?;
    let on = as_of.unwrap_or_else(today);
    let rows = compact_service::reports::agreements(&governed, on);
    match format {
        Format::Json => out!("{}", serde_json::to_string_pretty(&rows)?),
        Format::Table => {
            let t = rows
                .iter()
                .map(|r| {
                    let mut cells = r.cells();
                    if let Some(d) = cells.get_mut(5) {
                        *d = format!("sha256:{d}");
                    }
                    cells
                })
                .collect();
            out!("{}", table(&AgreementRow::COLUMNS, t, &[]));
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn latest(store: &impl Store) -> anyhow::Result<(u64, Vec<u8>)> {
    store
        .latest_checkpoint()?
        .ok_or_else(|| anyhow!("the log is empty: there is no checkpoint yet"))
}

/// The server's latest checkpoint, opened with the operator key the compact pins
/// (`compact.toml`'s `[log] operator_key`): its note and what it says.
pub(crate) fn server_checkpoint(
    place: &Place,
    server: &crate::client::Client,
) -> anyhow::Result<(Vec<u8>, compact_log::Verified)> {
    let compact = place.compact()?;
    let key = compact.operator_key.clone().ok_or_else(|| {
        anyhow!(
            "{}: compact.toml names no [log] operator_key to check {}'s checkpoints with",
            place.dir.display(),
            server.base()
        )
    })?;
    let note = server.get("/checkpoint")?;
    let cp = open_checkpoint(&note, &key, &compact.id)
        .map_err(|e| anyhow!("{}/checkpoint: {e}", server.base()))?;
    remember(&compact, server, &note, &cp, &key)?;
    Ok((note, cp))
}

/// A server's checkpoint held to what this client accepted before: the witnesses' quorum
/// `compact.toml` asks, and a consistency proof (from the server, checked here) from the
/// checkpoint remembered; then remembered.
fn remember(
    compact: &compact_model::Compact,
    server: &crate::client::Client,
    note: &[u8],
    cp: &compact_log::Verified,
    key: &str,
) -> anyhow::Result<()> {
    let source = format!("{}/checkpoint", server.base());
    compact_service::remember::check_quorum(compact, &source, note)?;
    crate::client::memory().accept(&source, cp, note, key, |old| {
        server
            .get_json::<ConsistencyProof>(&format!("/v1/consistency?old={old}&new={}", cp.size))
            .map_err(|e| {
                ServiceError::bad_input(format!(
                    "{}: no consistency proof from size {old} to {}: {e}",
                    server.base(),
                    cp.size
                ))
            })
    })?;
    Ok(())
}

/// `compact log checkpoint`.
pub fn log_checkpoint(place: &Place) -> anyhow::Result<ExitCode> {
    if let Some(server) = crate::client::server() {
        let (note, cp) = server_checkpoint(place, &server)?;
        use std::io::Write as _;
        std::io::stdout().lock().write_all(&note)?;
        eprintln!(
            "verified: signed by the operator key compact.toml pins; size {}",
            cp.size
        );
        return Ok(ExitCode::SUCCESS);
    }
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
    let entry = compact_service::reports::log_entry(&place.writer()?, index)?;
    match format {
        Format::Json => out!("{}", serde_json::to_string(&entry)?),
        Format::Table => out!("{}", serde_json::to_string_pretty(&entry)?),
    }
    Ok(ExitCode::SUCCESS)
}

/// `compact log prove`.
pub fn log_prove(place: &Place, index: u64, size: Option<u64>) -> anyhow::Result<ExitCode> {
    if let Some(server) = crate::client::server() {
        let (_, cp) = server_checkpoint(place, &server)?;
        if size.is_some_and(|n| n != cp.size) {
            bail!(
                "--size: a proof from {} is checked against its latest checkpoint, of size {}",
                server.base(),
                cp.size
            );
        }
        let p: InclusionProof =
            server.get_json(&format!("/v1/entries/{index}/proof?size={}", cp.size))?;
        verify_inclusion(&p, &cp)?;
        out!("{}", serde_json::to_string_pretty(&p)?);
        eprintln!(
            "verified: entry {index} is in the tree of the operator's checkpoint of size {}",
            cp.size
        );
        return Ok(ExitCode::SUCCESS);
    }
    let p = compact_service::reports::inclusion_proof(&place.writer()?, index, size)?;
    out!("{}", serde_json::to_string_pretty(&p)?);
    Ok(ExitCode::SUCCESS)
}

/// `compact log consistency`.
pub fn log_consistency(place: &Place, old: u64, new: u64) -> anyhow::Result<ExitCode> {
    if let Some(server) = crate::client::server() {
        let (_, cp) = server_checkpoint(place, &server)?;
        if new != cp.size {
            bail!(
                "NEW: a proof from {} is checked against its latest checkpoint, of size {}",
                server.base(),
                cp.size
            );
        }
        let p: ConsistencyProof =
            server.get_json(&format!("/v1/consistency?old={old}&new={}", cp.size))?;
        verify_consistency(&p, &cp)?;
        out!("{}", serde_json::to_string_pretty(&p)?);
        eprintln!(
            "verified: the tree of size {old} is a prefix of the operator's checkpoint of size {}",
            cp.size
        );
        return Ok(ExitCode::SUCCESS);
    }
    let p = compact_service::reports::consistency_proof(&place.writer()?, old, new)?;
    out!("{}", serde_json::to_string_pretty(&p)?);
    Ok(ExitCode::SUCCESS)
}

fn read_checkpoint(path: &Path) -> anyhow::Result<Vec<u8>> {
    crate::input::read_capped(path, crate::input::CHECKPOINT_MAX, "a checkpoint")
}

pub(crate) fn verifier_key(key: &str) -> anyhow::Result<String> {
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
    // An older checkpoint may check an older proof; another root at the size remembered may not.
    crate::client::memory().check_same_size(&checkpoint.display().to_string(), &cp, &key)?;
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
    let governed = place.governed()?;
    let pinned = operator_key.map(verifier_key).transpose()?;
    if let Some(server) = crate::client::server() {
        return verify_remote(place, &server, &governed, checkpoints, pinned.as_deref());
    }
    let mut given = Vec::new();
    for c in checkpoints {
        given.push(GivenCheckpoint {
            name: c.display().to_string(),
            note: read_checkpoint(c)?,
        });
    }
    let pb = bar(compact_service::reports::log_size(place)?, "verify");
    let report =
        compact_service::reports::verify(place, &governed, &given, pinned.as_deref(), &mut |n| {
            pb.set_position(n)
        })?;
    pb.finish_and_clear();
    if report.ok {
        remember_local(place, &governed, pinned.as_deref())?;
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

/// After a local audit: the store's latest checkpoint held to the one this client accepted
/// before (a store rolled back or replaced by another history is refused), then remembered.
fn remember_local(place: &Place, governed: &Governed, pinned: Option<&str>) -> anyhow::Result<()> {
    let Some(key) = pinned
        .map(str::to_owned)
        .or_else(|| governed.compact.operator_key.clone())
        .or_else(|| governed.facts.operator_key.clone())
    else {
        return Ok(());
    };
    let store = place.store_read_only()?;
    let Some((_, note)) = store.latest_checkpoint()? else {
        return Ok(());
    };
    let cp = open_checkpoint(&note, &key, &governed.compact.id)?;
    let source = place.location().shown();
    // The witnesses' quorum, from the cosignatures the store keeps for it.
    let mut cosigned = note.clone();
    for (_, line) in store.cosignatures(cp.size)? {
        cosigned.extend_from_slice(&line);
    }
    compact_service::remember::check_quorum(&governed.compact, &source, &cosigned)?;
    crate::client::memory().accept(&source, &cp, &note, &key, |old| {
        compact_service::reports::consistency_proof_in(&store, old, cp.size)
    })?;
    Ok(())
}

/// `compact verify --server URL`: the log fetched from the server's tiles (its checkpoint
/// checked with the operator key the compact pins, or `pinned`), written into a store of its
/// own in a temporary directory, and audited as a local log is.
fn verify_remote(
    place: &Place,
    server: &crate::client::Client,
    governed: &Governed,
    checkpoints: &[PathBuf],
    pinned: Option<&str>,
) -> anyhow::Result<ExitCode> {
    use compact_server::tiles::{WIDTH, bundle_entries, bundle_path};
    let key = match pinned {
        Some(k) => k.to_owned(),
        None => governed.compact.operator_key.clone().ok_or_else(|| {
            anyhow!(
                "compact.toml names no [log] operator_key to check {}'s checkpoints with: give --operator-key",
                server.base()
            )
        })?,
    };
    let note = server.get("/checkpoint")?;
    let cp = open_checkpoint(&note, &key, &governed.compact.id)
        .map_err(|e| anyhow!("{}/checkpoint: {e}", server.base()))?;
    remember(&governed.compact, server, &note, &cp, &key)?;
    let pb = bar(cp.size, "fetch");
    let mut leaves = Vec::new();
    let mut n = 0;
    while (leaves.len() as u64) < cp.size {
        let width = (cp.size - leaves.len() as u64).min(WIDTH);
        let path = bundle_path(n, u32::try_from(width).unwrap_or(u32::MAX));
        let bundle = bundle_entries(&server.get(&path)?)
            .map_err(|e| anyhow!("{}{path}: {e}", server.base()))?;
        if bundle.len() as u64 != width {
            bail!(
                "{}{path}: {} entries, not {width}",
                server.base(),
                bundle.len()
            );
        }
        leaves.extend(bundle);
        pb.set_position(leaves.len() as u64);
        n += 1;
    }
    pb.finish_and_clear();
    let dir = std::env::temp_dir().join(format!(
        "compact-mirror-{}-{}",
        std::process::id(),
        Timestamp::now().as_nanosecond()
    ));
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let database = dir.join("mirror.sqlite");
    let audited = (|| -> anyhow::Result<compact_service::api::v1::VerifyReport> {
        drop(compact_service::mirror::mirror(
            &database,
            &governed.compact.id,
            &leaves,
            note,
        )?);
        let mirror = Place {
            dir: place.dir.clone(),
            database: Some(database.clone()),
            url: None,
            busy_timeout: None,
        };
        let mut given = Vec::new();
        for c in checkpoints {
            given.push(GivenCheckpoint {
                name: c.display().to_string(),
                note: read_checkpoint(c)?,
            });
        }
        Ok(compact_service::reports::verify(
            &mirror,
            governed,
            &given,
            Some(&key),
            &mut |_| {},
        )?)
    })();
    let _ = std::fs::remove_dir_all(&dir);
    let report = audited?;
    if report.ok {
        out!(
            "ok: {}, fetched from {}'s tiles and verified; root (hex) {}",
            crate::output::plural(report.entries.try_into().unwrap_or(usize::MAX), "entry"),
            server.base(),
            report.root.as_deref().unwrap_or("-")
        );
        return Ok(ExitCode::SUCCESS);
    }
    for p in &report.problems {
        eprintln!("error: {}", p.message);
    }
    eprintln!(
        "error: verification of {}'s log failed: {} problem(s) in {} entries",
        server.base(),
        report.problems.len(),
        report.entries
    );
    Ok(ExitCode::from(1))
}

/// The default number of statements per import transaction.
pub const IMPORT_BATCH: usize = BATCH_DEFAULT;

/// `compact store copy --to`: the log copied into a new store, and what proves the copy.
pub(crate) fn store_copy(place: &Place, to: &str) -> anyhow::Result<ExitCode> {
    let compact = place.compact()?;
    let to = compact_service::Place::locate(&place.dir, Some(to))?.location();
    let from = place.store_read_only()?;
    let copied = compact_service::copy::copy(&from, &to, &compact)?;
    out!(
        "copied {} from {} to {}: {} as signed, {}",
        crate::output::plural(copied.entries.try_into().unwrap_or(usize::MAX), "entry"),
        place.location().shown(),
        copied.to,
        crate::output::plural(copied.checkpoints, "checkpoint"),
        crate::output::plural(copied.cosignatures, "cosignature")
    );
    out!(
        "proved: the copy's full audit passes ({} verified) and its root is the source's: {}",
        crate::output::plural(copied.audited_checkpoints, "checkpoint"),
        copied.root
    );
    Ok(ExitCode::SUCCESS)
}
