//! Writing to the log: signing, appending, submitting, importing, key registration, `init`.

use std::io::BufRead;
use std::path::{Path, PathBuf};

use compact_files::keys::{record_operator_key, record_party_key, write_private_key};
use compact_model::Compact;
use compact_statement::rules::Facts;
use compact_statement::{Draft, KeyRegister, KeyRevoke, Kind, Payload, Role, Statement, keys};
use compact_store::{AppendError, Ledger, Reads as _};
use jiff::Timestamp;
use jiff::civil::Date;
use signed_note::StandardSigner;

use crate::clock::OperatorClock;
use crate::error::{
    Context as _, ErrorKind, REFUSED_BY_RULE, REFUSED_KEY_EXISTS, REFUSED_OPERATOR_KEY_SET, Result,
    ServiceError,
};
use crate::keys::{KeyFile, key_path, root_key_path, seeded, signer_from, verifier_of};
use crate::place::{Governed, Place};

/// One line of an import: 64 KiB, the largest statement.
pub const IMPORT_LINE_MAX: u64 = compact_statement::STATEMENT_SIZE_MAX as u64;
/// A whole import: 1 GiB.
pub const IMPORT_FILE_MAX: u64 = 1024 * 1024 * 1024;

/// `payload` signed by `signer` as `author` for `compact`, dated `time`.
pub fn sign_statement(
    compact: &Compact,
    signer: &StandardSigner,
    author: &str,
    payload: Payload,
    time: Timestamp,
) -> Result<Statement> {
    Ok(Statement::sign(
        Draft {
            compact: compact.id.clone(),
            author: author.to_owned(),
            time,
            payload,
        },
        signer,
    )?)
}

/// Appends `statements` (all or nothing), each batch ending with a checkpoint signed by
/// `operator`; the index of the first.
pub fn append(
    place: &Place,
    compact: &Compact,
    statements: &[Statement],
    operator: &StandardSigner,
    clock: OperatorClock,
) -> Result<u64> {
    let mut ledger = Ledger::open(place.store()?, compact)?;
    match ledger.append(statements, operator, clock.store_clock()) {
        Ok(index) => Ok(index),
        // One statement: its position in the input says nothing.
        Err(AppendError::Refused { reason, code, .. }) if statements.len() == 1 => Err(
            ServiceError::refused(code.as_str(), format!("refused: {reason}")),
        ),
        Err(e) => Err(e.into()),
    }
}

/// A statement signed and appended.
#[derive(Debug)]
pub struct Appended {
    /// Its index in the log.
    pub index: u64,
    /// The statement.
    pub statement: Statement,
}

/// Signs `payload` with `key` (the author is the key's name), dated `time` or the clock's
/// now, and appends it.
pub fn sign_and_append(
    place: &Place,
    governed: &Governed,
    key: &KeyFile,
    payload: Payload,
    time: Option<Timestamp>,
    operator: &StandardSigner,
    clock: OperatorClock,
) -> Result<Appended> {
    let time = time.unwrap_or_else(|| clock.statement_time(governed.last_receipt));
    let st = sign_statement(&governed.compact, &key.signer, &key.name(), payload, time)?;
    let index = append(
        place,
        &governed.compact,
        std::slice::from_ref(&st),
        operator,
        clock,
    )?;
    Ok(Appended {
        index,
        statement: st,
    })
}

/// The `agreement.sign` of `agreement` (the latest version unless given) by `key`, with the
/// terms read from its working file.
pub fn agreement_signature(
    governed: &Governed,
    agreement: &str,
    version: Option<u32>,
    key: &KeyFile,
    time: Timestamp,
) -> Result<Statement> {
    let compact = &governed.compact;
    let a = compact.agreement(agreement, version).ok_or_else(|| {
        let known: Vec<&str> = compact.latest_agreements().map(|a| a.id.as_str()).collect();
        ServiceError::not_found(match version {
            Some(v) if known.contains(&agreement) => {
                format!("agreement `{agreement}` has no version {v}")
            }
            _ => format!(
                "unknown agreement `{agreement}`{}",
                crate::suggest::hint(agreement, known, "`compact agreements` lists them")
            ),
        })
    })?;
    let terms = compact_files::read_text(Path::new(&a.path)).map_err(ServiceError::internal)?;
    sign_statement(
        compact,
        &key.signer,
        &key.name(),
        Payload::AgreementSign(compact_statement::AgreementSign {
            agreement: a.id.clone(),
            version: a.version,
            digest: a.digest.clone(),
            terms,
        }),
        time,
    )
}

/// "unknown statement type": the nearest types when there are, else every type.
pub fn unknown_kind(kind: &str) -> String {
    let near = crate::suggest::nearest(kind, Kind::ALL.map(Kind::as_str));
    if near.is_empty() {
        format!(
            "unknown statement type `{kind}`; known: {}",
            Kind::ALL.map(Kind::as_str).join(", ")
        )
    } else {
        format!(
            "unknown statement type `{kind}`{}",
            crate::suggest::hint(kind, near, "")
        )
    }
}

/// A statement of `kind` by `key` from its payload's JSON text (I-JSON, RFC 7493).
pub fn submission(
    compact: &Compact,
    key: &KeyFile,
    kind: &str,
    payload: &str,
    time: Timestamp,
) -> Result<(Kind, Statement)> {
    let kind = Kind::parse(kind).ok_or_else(|| ServiceError::bad_input(unknown_kind(kind)))?;
    let value = compact_statement::ijson::parse(payload).map_err(|e| {
        ServiceError::bad_input(format!(
            "the payload is not JSON, or not I-JSON (RFC 7493): {e}"
        ))
    })?;
    let payload = Payload::from_json(kind, value)?;
    let st = sign_statement(compact, &key.signer, &key.name(), payload, time)?;
    Ok((kind, st))
}

/// Reads JSON lines of statements from `reader`, named `name` in errors: (line number,
/// statement). Lines are at most [`IMPORT_LINE_MAX`] bytes, the whole at most
/// [`IMPORT_FILE_MAX`]; blank lines are skipped.
pub fn read_statements(reader: impl BufRead, name: &str) -> Result<Vec<(usize, Statement)>> {
    use std::io::Read as _;
    let mut reader = reader.take(IMPORT_FILE_MAX + 1);
    let mut statements = Vec::new();
    let mut line = Vec::new();
    for number in 1.. {
        line.clear();
        let n = (&mut reader)
            .take(IMPORT_LINE_MAX + 2)
            .read_until(b'\n', &mut line)
            .map_err(|e| {
                ServiceError::caused(
                    ErrorKind::Transient,
                    format!("{name}:{number}: cannot read"),
                    e,
                )
            })?;
        if n == 0 {
            break;
        }
        if reader.limit() == 0 {
            return Err(ServiceError::bad_input(format!(
                "{name}: larger than {IMPORT_FILE_MAX} bytes (1 GiB), the most an import file may hold: split it"
            )));
        }
        let text = line.strip_suffix(b"\n").unwrap_or(&line);
        let text = text.strip_suffix(b"\r").unwrap_or(text);
        if text.len() as u64 > IMPORT_LINE_MAX {
            return Err(ServiceError::bad_input(format!(
                "{name}:{number}: the line is longer than {IMPORT_LINE_MAX} bytes (64 KiB), the largest statement"
            )));
        }
        if text.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let text = std::str::from_utf8(text)
            .map_err(|_| ServiceError::bad_input(format!("{name}:{number}: not UTF-8")))?;
        let st = Statement::decode(text.as_bytes())
            .map_err(|e| ServiceError::bad_input(format!("{name}:{number}: {e}")))?;
        statements.push((number, st));
    }
    Ok(statements)
}

/// What an import did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Imported {
    /// Statements written by this import.
    pub written: u64,
    /// Batches written.
    pub batches: u64,
    /// Statements of the input already in the log, skipped.
    pub already: u64,
    /// The log's size afterwards.
    pub size: u64,
}

/// Appends `statements` (with their line numbers in the input named `name`) in batches of
/// `batch`; `progress` is told after each batch how many statements of the input are in the
/// log.
///
/// Statements already in the log are skipped and counted, so an interrupted import run again
/// completes it. The whole input is checked before anything is written; each batch is then
/// written under the store's write lock, and if another writer appended in between, what is
/// left is checked again against the log as it now is. A refusal names the input's line; a
/// busy store is [`ErrorKind::Transient`].
#[allow(clippy::too_many_arguments)]
pub fn import(
    place: &Place,
    compact: &Compact,
    name: &str,
    statements: Vec<(usize, Statement)>,
    batch: usize,
    operator: &StandardSigner,
    clock: OperatorClock,
    progress: &mut dyn FnMut(u64),
) -> Result<Imported> {
    let (mut lines, mut statements): (Vec<usize>, Vec<Statement>) = statements.into_iter().unzip();
    let mut ledger = Ledger::open(place.store()?, compact)?;
    let (mut already, mut written, mut batches_written) = (0u64, 0u64, 0u64);
    // What is prepared: batches for `statements[done..]`, valid while the log's size is the
    // first batch's first index.
    let mut prepared: std::collections::VecDeque<compact_store::Batch> = Default::default();
    let mut done = 0usize;
    loop {
        ledger.begin_write()?;
        let step = (|| -> Result<Option<usize>> {
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
                    .prepare(&statements, operator, batch, clock.store_clock())
                    .map_err(|e| match e {
                        AppendError::Refused {
                            position,
                            code,
                            reason,
                        } => ServiceError::refused(
                            code.as_str(),
                            format!(
                                "{name}:{}: refused: {reason} ({refused_note})",
                                lines.get(position).copied().unwrap_or(0)
                            ),
                        ),
                        other => other.into(),
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
                progress(already + written);
            }
            None => break,
        }
    }
    Ok(Imported {
        written,
        batches: batches_written,
        already,
        size: ledger.store().size()?,
    })
}

/// The statements that register `code`'s keys found in `DIR/keys/`: its root key
/// (self-signed) when the log has none, and its signing key (signed by the root), unless
/// already there.
pub fn registrations(
    dir: &Path,
    compact: &Compact,
    code: &str,
    facts: &Facts,
    time: Timestamp,
) -> Result<Vec<Statement>> {
    let mut out = Vec::new();
    let root_path = root_key_path(dir, code);
    if !root_path.exists() {
        return Ok(out);
    }
    let root = signer_from(&root_path)?.signer;
    let root_vkey = verifier_of(&root_path)?;
    let root_id = signed_note::Signer::key_id(&root);
    let registered = |id: u32| facts.keys.contains_key(&(code.to_owned(), id));
    if !facts.roots.contains_key(code) && !registered(root_id) {
        out.push(sign_statement(
            compact,
            &root,
            code,
            Payload::KeyRegister(KeyRegister {
                key: root_vkey,
                role: Role::Root,
                valid_from: None,
            }),
            time,
        )?);
    }
    let key_path = key_path(dir, code);
    if key_path.exists() {
        let signing = signer_from(&key_path)?.signer;
        if !registered(signed_note::Signer::key_id(&signing)) {
            out.push(sign_statement(
                compact,
                &root,
                code,
                Payload::KeyRegister(KeyRegister {
                    key: verifier_of(&key_path)?,
                    role: Role::Signing,
                    valid_from: None,
                }),
                time,
            )?);
        }
    }
    Ok(out)
}

/// Whose key `keygen` makes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyFor {
    /// A party's keys (its root key, and a signing key unless `root_only`).
    Party {
        /// The party's code.
        code: String,
        /// Only the root key.
        root_only: bool,
    },
    /// The log operator's key.
    Operator,
}

/// What `keygen` is asked.
#[derive(Clone, Debug)]
pub struct KeygenRequest {
    /// Whose key.
    pub key_for: KeyFor,
    /// Where to write the private key instead of `DIR/keys/`.
    pub out: Option<PathBuf>,
    /// When the new key may first sign (default: on registration).
    pub valid_from: Option<Timestamp>,
    /// A seed for reproducible keys (tests, demos); the OS's randomness otherwise.
    pub seed: Option<String>,
    /// The day recorded as the key's first in the party file when `valid_from` is absent.
    pub today: Date,
}

/// What `keygen` did.
#[derive(Clone, Debug, Default)]
pub struct Keygen {
    /// The operator's verifier key, recorded in `compact.toml`.
    pub operator_verifier: Option<String>,
    /// A new root key: its verifier key and file.
    pub root: Option<(String, PathBuf)>,
    /// The log entries that registered the keys (first, last), when there is a log.
    pub registered: Option<(u64, u64)>,
    /// The private key files written.
    pub written: Vec<PathBuf>,
}

/// `keygen`: writes a party's (or the operator's) key pair, records the verifier key in the
/// party file (or `compact.toml`) and, when there is a log, registers the keys in it,
/// revoking the party's earlier signing keys from the new key's first moment (a rotation).
/// Refuses before writing anything when the key file exists.
pub fn keygen(
    place: &Place,
    compact: &Compact,
    request: &KeygenRequest,
    operator_key: Option<&Path>,
    clock: OperatorClock,
) -> Result<Keygen> {
    let dir = place.dir.as_path();
    let mut done = Keygen::default();
    let (name, root_only) = match &request.key_for {
        KeyFor::Party { code, root_only } => {
            (crate::suggest::party_code(compact, code)?, *root_only)
        }
        KeyFor::Operator => {
            if let Some(k) = &compact.operator_key {
                return Err(ServiceError::refused(
                    REFUSED_OPERATOR_KEY_SET,
                    format!(
                        "compact.toml already names an operator key ({k}); a log has one operator key"
                    ),
                ));
            }
            (compact.id.clone(), false)
        }
    };
    let pair_for = |label: &str| match &request.seed {
        Some(s) => seeded(&name, &format!("{s}{label}")),
        None => keys::generate(&name).map_err(|e| ServiceError::internal(e.to_string())),
    };
    if request.key_for == KeyFor::Operator {
        let pair = pair_for("")?;
        let path = request
            .out
            .clone()
            .unwrap_or_else(|| dir.join("keys/operator.key"));
        write_private_key(&path, &pair.private).map_err(ServiceError::bad_input)?;
        record_operator_key(dir, &pair.verifier).map_err(ServiceError::bad_input)?;
        done.operator_verifier = Some(pair.verifier);
        done.written.push(path);
        return Ok(done);
    }
    let root_path = root_key_path(dir, &name);
    let new_key_path = request.out.clone().unwrap_or_else(|| key_path(dir, &name));
    // Refuse before writing anything: a failed keygen leaves no key behind.
    if !root_only && new_key_path.symlink_metadata().is_ok() {
        return Err(ServiceError::refused(
            REFUSED_KEY_EXISTS,
            format!(
                "{} already exists: refusing to overwrite a key",
                new_key_path.display()
            ),
        ));
    }
    // The operator's key appends the registrations: without it, nothing is written (no key
    // left behind unregistered).
    let operator = if place.has_store() {
        Some(crate::keys::operator_signer(place, operator_key)?)
    } else {
        None
    };
    if !root_path.exists() {
        let root = pair_for("\nroot")?;
        write_private_key(&root_path, &root.private).map_err(ServiceError::bad_input)?;
        done.root = Some((root.verifier, root_path.clone()));
        done.written.push(root_path.clone());
    } else if root_only {
        return Err(ServiceError::refused(
            REFUSED_KEY_EXISTS,
            format!(
                "{} already exists: a party has one root key (rotate it with a new key registered by the old)",
                root_path.display()
            ),
        ));
    }
    let valid_from = request.valid_from;
    let mut new_key = None;
    if !root_only {
        let pair = pair_for("")?;
        write_private_key(&new_key_path, &pair.private).map_err(ServiceError::bad_input)?;
        let from_day = valid_from.map_or(request.today, |t| {
            t.to_zoned_datetime(jiff::tz::TimeZone::UTC).date()
        });
        record_party_key(
            dir,
            &name,
            &pair.verifier,
            valid_from.map(|_| from_day.to_string()).as_deref(),
            &from_day.to_string(),
        )
        .map_err(ServiceError::bad_input)?;
        done.written.push(new_key_path);
        new_key = Some(pair.verifier);
    }
    // Register in the log, if there is one yet; otherwise `init` will.
    let Some(operator) = operator else {
        return Ok(done);
    };
    let store = place.store()?;
    let facts = compact_store::stored_facts(&store, compact)?;
    drop(store);
    let time = clock.statement_time(facts.last_received);
    let root = signer_from(&root_path)?.signer;
    let mut statements = Vec::new();
    if !facts.roots.contains_key(&name) {
        statements.push(sign_statement(
            compact,
            &root,
            &name,
            Payload::KeyRegister(KeyRegister {
                key: verifier_of(&root_path)?,
                role: Role::Root,
                valid_from: None,
            }),
            time,
        )?);
    }
    if let Some(vkey) = &new_key {
        statements.push(sign_statement(
            compact,
            &root,
            &name,
            Payload::KeyRegister(KeyRegister {
                key: vkey.clone(),
                role: Role::Signing,
                valid_from,
            }),
            time,
        )?);
        // Rotation: the party's earlier signing keys sign nothing from the new key's first
        // moment on (not before: the party is never left without a key).
        for ((code, _), rec) in &facts.keys {
            if *code == name && rec.role == Role::Signing && rec.revoked_from.is_none() {
                statements.push(sign_statement(
                    compact,
                    &root,
                    &name,
                    Payload::KeyRevoke(KeyRevoke {
                        key: compact_statement::rules::vkey_ref(&rec.vkey),
                        from: valid_from,
                        reason: "rotation".into(),
                    }),
                    time,
                )?);
            }
        }
    }
    let first = append(place, compact, &statements, &operator.signer, clock)?;
    done.registered = Some((first, first + statements.len() as u64 - 1));
    Ok(done)
}

/// What `init` did.
#[derive(Clone, Debug)]
pub struct Init {
    /// The store created.
    pub database: String,
    /// Key registrations appended after `log.init`.
    pub registrations: usize,
}

/// `init`: creates the store; its first entry, the operator's `log.init`, pins the compact's
/// id and the operator's key; then the keys of every party found in `DIR/keys/` are
/// registered (root keys self-signed, trust on first use; signing keys by their root). A
/// refusal leaves no store behind, so that `init` can be run again.
pub fn init(
    place: &Place,
    governed: &Governed,
    operator_key: Option<&Path>,
    clock: OperatorClock,
) -> Result<Init> {
    let compact = &governed.compact;
    let operator = crate::keys::operator_signer(place, operator_key)?;
    let op_vkey = verifier_of(&crate::keys::operator_key_path(place, operator_key))?;
    let time = clock.statement_time(governed.last_receipt);
    let mut statements = vec![sign_statement(
        compact,
        &operator.signer,
        &compact.id,
        Payload::LogInit(compact_statement::LogInit {
            operator_key: op_vkey,
        }),
        time,
    )?];
    let facts = Facts::default();
    for code in compact.parties.keys() {
        statements.extend(registrations(&place.dir, compact, code, &facts, time)?);
    }
    let at = place.location();
    let store = crate::anystore::AnyStore::create(&at, &compact.id)
        .with_context(|| format!("cannot create the store {}", at.shown()))?;
    let mut ledger = Ledger::open(store, compact)?;
    let appended = ledger.append(&statements, &operator.signer, clock.store_clock());
    if let Err(e) = appended {
        // Nothing of the log was written: remove the empty store so that init can be rerun.
        drop(ledger);
        match at.file() {
            Some(path) => {
                let _ = std::fs::remove_file(path);
            }
            None => {
                if let Ok(s) = crate::anystore::AnyStore::open(&at) {
                    s.discard(&at);
                }
            }
        }
        return Err(ServiceError::refused(
            REFUSED_BY_RULE,
            format!("refused: {e}"),
        ));
    }
    Ok(Init {
        database: at.shown(),
        registrations: statements.len() - 1,
    })
}
