//! What may enter the log: a statement's signature, author and payload checked against the
//! compact and against what the log already holds.
//!
//! The same rules run when a statement is appended ([`Mode::Append`]) and when an auditor
//! replays the log ([`Mode::Audit`]), with one difference: on append, an `agreement.sign` must
//! be for the agreement's *current* digest; on audit, a signature of an earlier text is
//! legitimate history (the agreement's status then says `changed-since-signing`).

use std::collections::BTreeMap;

use compact_model::{Agreement, Amount, Commitment, Compact, OnAccession};
use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};

use crate::{Kind, Payload, Role, Said, Statement, StatementError, parse_key_ref};

/// Why a statement is refused: a stable machine-readable code and a message for people.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Refusal {
    /// Which rule refused it.
    pub code: Code,
    /// Why, for people.
    pub message: String,
}

impl Refusal {
    /// A refusal by the rule `code`.
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        Refusal {
            code,
            message: message.into(),
        }
    }
}

impl From<StatementError> for Refusal {
    fn from(e: StatementError) -> Self {
        Refusal::new(Code::Malformed, e.to_string())
    }
}

/// The rule that refused a statement, as a stable code: the CLI prints it, the HTTP API
/// answers with it (`https://compact.invalid/problems/<code>`), clients act on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Code {
    /// Any other rule of the compact (an amount, a date, a lifecycle step).
    Rule,
    /// The statement does not decode or lacks a member.
    Malformed,
    /// The signature does not verify with the key the log holds for its author.
    Signature,
    /// The same statement is already in the log (or twice in one input): a replay.
    Duplicate,
    /// The author is not a party of the compact.
    AuthorUnknown,
    /// Signed with a key named after another party.
    KeyOfAnotherParty,
    /// Signed with a key the log does not hold for its author.
    KeyUnregistered,
    /// Signed with a key revoked (or not yet valid) at the statement's receipt.
    KeyNotValid,
    /// A root key signing anything but keys, or keys signed by other than the root key.
    KeyRole,
    /// The author acts outside its role (a guarantor confirming, another's commitment).
    Role,
    /// The statement's time or an event date does not fit its receipt.
    Time,
    /// It refers to an entry that is absent or of another kind.
    Reference,
    /// It is for another compact, or the operator's statement is out of place.
    Log,
    /// Its canonical bytes are too large for the log.
    TooLarge,
    /// It retracts an entry already retracted, or refers to a retracted entry (confirms a
    /// retracted report, answers a withdrawn activation).
    Retracted,
    /// It retracts an entry of a kind that is never retracted (a retraction, a key, the log's
    /// or an agreement's lifecycle, a closing, accession), or one past the time it could be.
    NotRetractable,
    /// It retracts an entry another standing statement rests on (a report the beneficiary
    /// confirmed, an allocation a report delivers): that one is retracted first.
    ReliedOn,
}

impl Code {
    /// Every code.
    pub const ALL: [Code; 17] = [
        Code::Rule,
        Code::Malformed,
        Code::Signature,
        Code::Duplicate,
        Code::AuthorUnknown,
        Code::KeyOfAnotherParty,
        Code::KeyUnregistered,
        Code::KeyNotValid,
        Code::KeyRole,
        Code::Role,
        Code::Time,
        Code::Reference,
        Code::Log,
        Code::TooLarge,
        Code::Retracted,
        Code::NotRetractable,
        Code::ReliedOn,
    ];

    /// The code as printed and served.
    pub fn as_str(self) -> &'static str {
        match self {
            Code::Rule => "rule",
            Code::Malformed => "malformed",
            Code::Signature => "signature",
            Code::Duplicate => "duplicate",
            Code::AuthorUnknown => "author-unknown",
            Code::KeyOfAnotherParty => "key-of-another-party",
            Code::KeyUnregistered => "key-unregistered",
            Code::KeyNotValid => "key-not-valid",
            Code::KeyRole => "key-role",
            Code::Role => "role",
            Code::Time => "time",
            Code::Reference => "reference",
            Code::Log => "log",
            Code::TooLarge => "too-large",
            Code::Retracted => "retracted",
            Code::NotRetractable => "not-retractable",
            Code::ReliedOn => "relied-on",
        }
    }
}

/// A statement type with its article: `an agreement.sign`, `a pledge`.
fn with_article(kind: &str) -> String {
    let an = kind.starts_with(['a', 'e', 'i', 'o', 'u']);
    format!("{} {kind}", if an { "an" } else { "a" })
}

fn refuse<T>(msg: impl Into<String>) -> Result<T, Refusal> {
    Err(Refusal::new(Code::Rule, msg))
}

fn refuse_as<T>(code: Code, msg: impl Into<String>) -> Result<T, Refusal> {
    Err(Refusal::new(code, msg))
}

/// When the rules run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// A new statement is offered to the log.
    Append,
    /// The log is replayed by an auditor.
    Audit,
}

/// What the rules may ask of the log: only entries before the one being checked.
pub trait LedgerView {
    /// The statement at `index`, if the log holds it.
    fn entry(&self, index: u64) -> Result<Option<Statement>, String>;
    /// The facts of the log so far.
    fn facts(&self) -> &Facts;
    /// Every statement of `kind` that refers to entry `index`.
    fn referring(&self, index: u64, kind: Kind) -> Result<Vec<(u64, Statement)>, String>;
    /// The index the statement being checked takes.
    fn next_index(&self) -> u64;
    /// The agreement signatures so far.
    fn signatures(&self) -> &Signatures {
        &self.facts().signatures
    }
    /// The accession date, if declared so far.
    fn accession(&self) -> Option<Date> {
        self.facts().accession
    }
}

/// How long after its receipt the beneficiary may retract a delivery confirmation: the
/// guarantor relies on it, so a mistake is corrected soon or not by retraction.
pub const CONFIRM_RETRACT_WINDOW: SignedDuration = SignedDuration::from_hours(30 * 24);

/// The kinds an author may retract (`statement.retract`): what is said about deliveries and
/// activations. The log's, keys' and agreements' lifecycle statements have statements of their
/// own to undo them (`key.revoke`, `agreement.resume`) or are final (`log.init`,
/// `activation.close`, `accession.declare`), and a retraction is never retracted.
pub const RETRACTABLE: [Kind; 7] = [
    Kind::Pledge,
    Kind::Allocation,
    Kind::DeliveryReport,
    Kind::DeliveryConfirm,
    Kind::ThreatLevel,
    Kind::AttackDeclare,
    Kind::ConsultationRespond,
];

/// The furthest a statement's own time may lie after the log's receipt of it (clock skew).
pub const TIME_AHEAD_MAX: SignedDuration = SignedDuration::from_mins(5);
/// The furthest a statement's own time may lie before the log's receipt of it (a statement
/// signed offline and brought to the log later). Events further back are dated in the payload.
pub const TIME_BEHIND_MAX: SignedDuration = SignedDuration::from_hours(7 * 24);

/// A key the log has registered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyRecord {
    /// The verifier key text.
    pub vkey: String,
    /// Root or signing.
    pub role: Role,
    /// It signs what the log receives from this time.
    pub valid_from: Timestamp,
    /// It signs nothing the log receives from this time.
    pub revoked_from: Option<Timestamp>,
    /// The entry that registered it.
    pub entry: u64,
}

impl KeyRecord {
    /// Whether the key signs a statement received at `at`.
    pub fn valid_at(&self, at: Timestamp) -> bool {
        self.valid_from <= at && self.revoked_from.is_none_or(|r| at < r)
    }
}

/// A suspension of an agreement: by whom, from which entry, until which entry (resumed).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Suspension {
    /// The party that suspended it.
    pub by: String,
    /// The `agreement.suspend` entry.
    pub entry: u64,
    /// When the log received it.
    pub at: Timestamp,
    /// The `agreement.resume` entry, once resumed.
    pub resumed: Option<u64>,
}

/// A termination of an agreement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Termination {
    /// The party that gave notice.
    pub by: String,
    /// The `agreement.terminate` entry.
    pub entry: u64,
    /// The first day the agreement no longer holds: the notice's receipt date plus the notice.
    pub effective: Date,
    /// True when the notice period is assumed (the text states none).
    pub notice_assumed: bool,
}

/// The facts every check needs, kept up to date as statements are appended: the operator's key,
/// the registered keys, the agreement signatures and the terms signed, suspensions and
/// terminations, closed activations, the accession and the last receipt time. Small: it grows
/// with the parties and agreements, not with the log.
#[derive(Debug, Default, Clone)]
pub struct Facts {
    /// The operator's verifier key, from `log.init`.
    pub operator_key: Option<String>,
    /// Registered keys by (party, key id).
    pub keys: BTreeMap<(String, u32), KeyRecord>,
    /// Each party's current root key id.
    pub roots: BTreeMap<String, u32>,
    /// Agreement signatures.
    pub signatures: Signatures,
    /// The terms (agreement file text) signed, by digest.
    pub terms: BTreeMap<String, String>,
    /// Suspensions by agreement id, in log order.
    pub suspensions: BTreeMap<String, Vec<Suspension>>,
    /// Terminations by agreement id (the first notice given).
    pub terminations: BTreeMap<String, Termination>,
    /// Closed activations: activation entry to the closing entry.
    pub closed: BTreeMap<u64, u64>,
    /// The accession date.
    pub accession: Option<Date>,
    /// The receipt time of the last entry noted.
    pub last_received: Option<Timestamp>,
}

/// The kinds whose statements change [`Facts`]: a store can rebuild the facts from these alone.
pub const FACT_KINDS: [Kind; 9] = [
    Kind::LogInit,
    Kind::KeyRegister,
    Kind::KeyRevoke,
    Kind::AgreementSign,
    Kind::AgreementSuspend,
    Kind::AgreementResume,
    Kind::AgreementTerminate,
    Kind::ActivationClose,
    Kind::AccessionDeclare,
];

/// Adds whole months to a date, clamping the day to the month's end.
fn add_months(d: Date, months: u32) -> Option<Date> {
    d.checked_add(jiff::Span::new().months(i64::from(months)))
        .ok()
}

impl Facts {
    /// Takes note of statement `index`, already accepted, against `compact` (for the notice a
    /// termination takes).
    pub fn note(&mut self, index: u64, st: &(impl Said + ?Sized), compact: &Compact) {
        let at = st.at();
        if st.received().is_some() {
            self.last_received = Some(self.last_received.map_or(at, |l| l.max(at)));
        }
        match st.payload() {
            Payload::LogInit(l) if self.operator_key.is_none() => {
                self.operator_key = Some(l.operator_key.clone());
            }
            Payload::KeyRegister(k) => {
                let Ok((_, id)) = parse_key_ref(&vkey_ref(&k.key)) else {
                    return;
                };
                let valid_from = k.valid_from.map_or(at, |v| v.max(at));
                if k.role == Role::Root
                    && let Some(old) = self.roots.insert(st.author().to_owned(), id)
                    && let Some(rec) = self.keys.get_mut(&(st.author().to_owned(), old))
                    && rec.revoked_from.is_none()
                {
                    rec.revoked_from = Some(valid_from);
                }
                self.keys
                    .entry((st.author().to_owned(), id))
                    .or_insert(KeyRecord {
                        vkey: k.key.clone(),
                        role: k.role,
                        valid_from,
                        revoked_from: None,
                        entry: index,
                    });
            }
            Payload::KeyRevoke(k) => {
                if let Ok((_, id)) = parse_key_ref(&k.key)
                    && let Some(rec) = self.keys.get_mut(&(st.author().to_owned(), id))
                {
                    let from = k.from.map_or(at, |f| f.max(at));
                    rec.revoked_from = Some(rec.revoked_from.map_or(from, |r| r.min(from)));
                }
            }
            Payload::AgreementSign(s) => {
                self.terms
                    .entry(s.digest.clone())
                    .or_insert_with(|| s.terms.clone());
                self.signatures
                    .entry((s.agreement.clone(), s.version))
                    .or_default()
                    .entry(st.author().to_owned())
                    .or_insert((index, s.digest.clone()));
            }
            Payload::AgreementSuspend(l) => {
                self.suspensions
                    .entry(l.agreement.clone())
                    .or_default()
                    .push(Suspension {
                        by: st.author().to_owned(),
                        entry: index,
                        at,
                        resumed: None,
                    });
            }
            Payload::AgreementResume(l) => {
                if let Some(s) = self
                    .suspensions
                    .get_mut(&l.agreement)
                    .and_then(|v| v.iter_mut().rev().find(|s| s.resumed.is_none()))
                {
                    s.resumed = Some(index);
                }
            }
            Payload::AgreementTerminate(l) if !self.terminations.contains_key(&l.agreement) => {
                let (months, assumed) = latest_agreed(compact, &l.agreement, &self.signatures)
                    .map_or((compact_model::NOTICE_MONTHS_ASSUMED, true), |a| {
                        a.notice_months()
                    });
                let on = at.to_zoned_datetime(TimeZone::UTC).date();
                if let Some(effective) = add_months(on, months) {
                    self.terminations.insert(
                        l.agreement.clone(),
                        Termination {
                            by: st.author().to_owned(),
                            entry: index,
                            effective,
                            notice_assumed: assumed,
                        },
                    );
                }
            }
            Payload::ActivationClose(c) => {
                self.closed.entry(c.activation).or_insert(index);
            }
            Payload::AccessionDeclare(a) if self.accession.is_none() => self.accession = Some(a.on),
            _ => {}
        }
    }

    /// The suspension of agreement `id` in effect before entry `before`, if any.
    pub fn suspended(&self, id: &str, before: u64) -> Option<&Suspension> {
        self.suspensions
            .get(id)?
            .iter()
            .find(|s| s.entry < before && s.resumed.is_none_or(|r| r >= before))
    }

    /// The termination of agreement `id` given before entry `before`, if any.
    pub fn terminated(&self, id: &str, before: u64) -> Option<&Termination> {
        self.terminations.get(id).filter(|t| t.entry < before)
    }
}

/// `CODE+keyid` of a verifier key `CODE+keyid+base64` (the base64 may hold `+`).
pub fn vkey_ref(vkey: &str) -> String {
    let mut parts = vkey.splitn(3, '+');
    format!(
        "{}+{}",
        parts.next().unwrap_or(""),
        parts.next().unwrap_or("")
    )
}

/// The latest version of agreement `id` that both parties signed (the same digest), from the
/// compact.
pub fn latest_agreed<'a>(
    compact: &'a Compact,
    id: &str,
    sigs: &Signatures,
) -> Option<&'a Agreement> {
    compact
        .agreements
        .iter()
        .filter(|a| a.id == id && agreed_digest(a, sigs).is_some())
        .max_by_key(|a| a.version)
}

/// A log held in memory: for tests and small tools.
#[derive(Debug, Clone)]
pub struct MemoryLog {
    /// The statements, in log order.
    pub entries: Vec<Statement>,
    /// Facts of those statements.
    pub facts: Facts,
    compact: Compact,
}

impl MemoryLog {
    /// An empty log of `compact`.
    pub fn new(compact: &Compact) -> Self {
        MemoryLog {
            entries: Vec::new(),
            facts: Facts::default(),
            compact: compact.clone(),
        }
    }

    /// Appends a statement (unchecked).
    pub fn push(&mut self, st: Statement) {
        self.facts
            .note(self.entries.len() as u64, &st, &self.compact);
        self.entries.push(st);
    }
}

impl LedgerView for MemoryLog {
    fn entry(&self, index: u64) -> Result<Option<Statement>, String> {
        Ok(usize::try_from(index)
            .ok()
            .and_then(|i| self.entries.get(i))
            .cloned())
    }
    fn facts(&self) -> &Facts {
        &self.facts
    }
    fn referring(&self, index: u64, kind: Kind) -> Result<Vec<(u64, Statement)>, String> {
        Ok(self
            .entries
            .iter()
            .enumerate()
            .filter(|(_, s)| s.kind() == kind && s.payload.reference() == Some(index))
            .map(|(i, s)| (i as u64, s.clone()))
            .collect())
    }
    fn next_index(&self) -> u64 {
        self.entries.len() as u64
    }
}

fn view<T>(r: Result<T, String>) -> Result<T, Refusal> {
    r.map_err(|e| Refusal::new(Code::Log, format!("cannot read the log: {e}")))
}

/// The UTC date a statement counts from: its receipt by the log (the author's own time before
/// it is logged).
pub fn date_of(st: &(impl Said + ?Sized)) -> Date {
    st.at().to_zoned_datetime(TimeZone::UTC).date()
}

/// The verifier key that must have signed `st`, from the keys the log registered before it:
/// - `log.init`: the operator's key it names (named after the compact), once, at entry 0;
/// - a party's first root `key.register`: the key it registers (trust on first use);
/// - any other `key.register`, and `key.revoke`: the party's current root key (a revocation
///   may also be signed by the key it revokes);
/// - everything else: a signing key of the author, valid when the log received the statement.
pub fn signing_key(st: &Statement, compact: &Compact, facts: &Facts) -> Result<String, Refusal> {
    let at = st.at();
    if let Payload::LogInit(l) = &st.payload {
        if st.author != compact.id || st.key_name != compact.id {
            return refuse_as(
                Code::Log,
                format!(
                    "log.init is made by the operator `{}` with its key, not by `{}`",
                    compact.id, st.author
                ),
            );
        }
        if vkey_ref(&l.operator_key) != st.key_ref() {
            return refuse_as(
                Code::KeyRole,
                format!(
                    "log.init names key {} but is signed with {}: the operator's key signs its own registration",
                    vkey_ref(&l.operator_key),
                    st.key_ref()
                ),
            );
        }
        return Ok(l.operator_key.clone());
    }
    if st.author == compact.id {
        return refuse_as(
            Code::Log,
            format!(
                "the operator `{}` makes no {} statement",
                compact.id,
                st.kind().as_str()
            ),
        );
    }
    if !compact.parties.contains_key(&st.author) {
        return refuse_as(
            Code::AuthorUnknown,
            format!("unknown author `{}`", st.author),
        );
    }
    if st.key_name != st.author {
        return refuse_as(
            Code::KeyOfAnotherParty,
            format!(
                "statement by `{}` signed with a key of `{}` ({})",
                st.author,
                st.key_name,
                st.key_ref()
            ),
        );
    }
    let own = facts.keys.get(&(st.author.clone(), st.key_id));
    let root = facts
        .roots
        .get(&st.author)
        .and_then(|id| facts.keys.get(&(st.author.clone(), *id)));
    match &st.payload {
        Payload::KeyRegister(k) if k.role == Role::Root && root.is_none() => {
            if vkey_ref(&k.key) != st.key_ref() {
                return refuse_as(
                    Code::KeyRole,
                    format!(
                        "`{}` has no root key in the log yet: its first root key {} must sign its own registration, not {}",
                        st.author,
                        vkey_ref(&k.key),
                        st.key_ref()
                    ),
                );
            }
            return Ok(k.key.clone());
        }
        Payload::KeyRegister(_) | Payload::KeyRevoke(_) => {
            let Some(root) = root else {
                return refuse_as(
                    Code::KeyUnregistered,
                    format!(
                        "`{}` has no root key in the log: register one first (compact keygen --party {} --root)",
                        st.author, st.author
                    ),
                );
            };
            let self_revoke = matches!(&st.payload, Payload::KeyRevoke(r)
                if parse_key_ref(&r.key).is_ok_and(|(_, id)| id == st.key_id));
            let by_root = vkey_ref(&root.vkey) == st.key_ref();
            if !by_root && !self_revoke {
                return refuse_as(
                    Code::KeyRole,
                    format!(
                        "{} of `{}` is signed by its root key {}, not by {}",
                        with_article(st.kind().as_str()),
                        st.author,
                        vkey_ref(&root.vkey),
                        st.key_ref()
                    ),
                );
            }
            let rec = match (by_root, own) {
                (true, _) => root,
                (false, Some(own)) => own,
                (false, None) => {
                    return refuse_as(
                        Code::KeyUnregistered,
                        format!(
                            "key {} is not registered in the log for `{}`",
                            st.key_ref(),
                            st.author
                        ),
                    );
                }
            };
            if !rec.valid_at(at) {
                return refuse_as(
                    Code::KeyNotValid,
                    format!(
                        "key {} does not sign at {} ({})",
                        st.key_ref(),
                        crate::format_time(at),
                        validity(rec)
                    ),
                );
            }
            return Ok(rec.vkey.clone());
        }
        _ => {}
    }
    let Some(rec) = own else {
        return refuse_as(
            Code::KeyUnregistered,
            format!(
                "key {} is not registered in the log for `{}`: a key in a file signs nothing until its party's root key registers it",
                st.key_ref(),
                st.author
            ),
        );
    };
    if rec.role != Role::Signing {
        return refuse_as(
            Code::KeyRole,
            format!(
                "key {} is `{}`'s root key: it signs only key.register and key.revoke",
                st.key_ref(),
                st.author
            ),
        );
    }
    if !rec.valid_at(at) {
        return refuse_as(
            Code::KeyNotValid,
            format!(
                "key {} does not sign statements received at {} ({})",
                st.key_ref(),
                crate::format_time(at),
                validity(rec)
            ),
        );
    }
    Ok(rec.vkey.clone())
}

fn validity(rec: &KeyRecord) -> String {
    match rec.revoked_from {
        Some(r) => format!(
            "valid from {} until {}",
            crate::format_time(rec.valid_from),
            crate::format_time(r)
        ),
        None => format!("valid from {}", crate::format_time(rec.valid_from)),
    }
}

/// Checks the signature with the key the log registered for the author (see [`signing_key`]).
pub fn check_signature(st: &Statement, compact: &Compact, facts: &Facts) -> Result<(), Refusal> {
    let vkey = signing_key(st, compact, facts)?;
    st.verify_with(&vkey)?;
    Ok(())
}

/// The commitment `id` as it stands on `date`: from the version of its agreement in force
/// then, else the latest version.
pub fn commitment<'a>(
    compact: &'a Compact,
    id: &str,
    date: Date,
) -> Option<(&'a Agreement, &'a Commitment)> {
    let mut found: Vec<(&Agreement, &Commitment)> = compact
        .agreements
        .iter()
        .filter_map(|a| a.commitments.iter().find(|c| c.id == id).map(|c| (a, c)))
        .collect();
    found.sort_by_key(|(a, _)| a.version);
    found
        .iter()
        .find(|(a, _)| a.in_force_from <= date && date <= a.ends_on)
        .or_else(|| found.last())
        .copied()
}

/// The signatures of each agreement version: (agreement, version) to the parties that signed
/// and the digest each signed.
pub type Signatures = BTreeMap<(String, u32), BTreeMap<String, (u64, String)>>;

/// The digest both parties of `a` signed, if they signed the same one.
pub fn agreed_digest(a: &Agreement, sigs: &Signatures) -> Option<String> {
    let by = sigs.get(&(a.id.clone(), a.version))?;
    let g = by.get(&a.guarantor)?;
    let b = by.get(&a.beneficiary)?;
    (g.1 == b.1).then(|| g.1.clone())
}

/// Whether agreement `a` is in force on `date`, given the log's facts before entry `before`:
/// both parties signed this version's terms (the digest of `a`), the date is within its
/// period, it is not suspended, no termination has taken effect, and it has not ended on
/// accession.
pub fn in_force(a: &Agreement, date: Date, facts: &Facts, before: u64) -> Result<(), String> {
    let signed = facts
        .signatures
        .get(&(a.id.clone(), a.version))
        .map(|by| {
            by.iter()
                .filter(|(_, (i, _))| *i < before)
                .map(|(p, (_, d))| (p.as_str(), d.as_str()))
                .collect::<BTreeMap<_, _>>()
        })
        .unwrap_or_default();
    match (
        signed.get(a.guarantor.as_str()),
        signed.get(a.beneficiary.as_str()),
    ) {
        (Some(g), Some(b)) if g == b && *g == a.digest => {}
        (Some(g), Some(b)) if g == b => {
            return Err(format!(
                "agreement `{}` version {} is not the text both parties signed (digest {g}): the signed terms govern",
                a.id, a.version
            ));
        }
        _ => {
            return Err(format!(
                "agreement `{}` version {} is not signed by both parties",
                a.id, a.version
            ));
        }
    }
    if date < a.in_force_from || date > a.ends_on {
        return Err(format!(
            "agreement `{}` is not in force on {date} (in force {} to {})",
            a.id, a.in_force_from, a.ends_on
        ));
    }
    if let Some(acc) = facts.accession
        && a.on_accession == OnAccession::End
        && date >= acc
    {
        return Err(format!(
            "agreement `{}` ended on the beneficiary's accession on {acc}",
            a.id
        ));
    }
    if let Some(t) = facts.terminated(&a.id, before)
        && date >= t.effective
    {
        return Err(format!(
            "agreement `{}` was terminated by `{}` (entry {}), with effect from {}",
            a.id, t.by, t.entry, t.effective
        ));
    }
    if let Some(s) = facts.suspended(&a.id, before) {
        return Err(format!(
            "agreement `{}` is suspended by `{}` since entry {}",
            a.id, s.by, s.entry
        ));
    }
    Ok(())
}

fn amount(text: &str, compact: &Compact) -> Result<Amount, Refusal> {
    let a = Amount::parse(text).map_err(|e| Refusal::new(Code::Rule, e.to_string()))?;
    match &a {
        Amount::Money { currency, .. } if !compact.currencies.contains(currency) => {
            refuse(format!("unknown currency `{currency}`"))
        }
        Amount::Units { unit, .. } if !compact.units.contains(unit) => {
            refuse(format!("unknown unit `{unit}`"))
        }
        Amount::GdpShare { .. } => refuse("a statement gives money or units, not a share of GDP"),
        _ => Ok(a),
    }
}

/// The amount must be of the commitment's kind: money for money and GDP shares, the same unit
/// for units.
fn matches_commitment(a: &Amount, c: &Commitment) -> Result<(), Refusal> {
    let Some(first) = c.schedule.tranches().into_iter().next() else {
        return Ok(());
    };
    match (&first.amount, a) {
        (Amount::Units { unit: want, .. }, Amount::Units { unit: got, .. }) if want == got => {
            Ok(())
        }
        (Amount::Units { unit: want, .. }, _) => refuse(format!(
            "commitment `{}` is counted in {want}, the statement gives `{a}`",
            c.id
        )),
        (_, Amount::Money { .. }) => Ok(()),
        (_, _) => refuse(format!(
            "commitment `{}` is money, the statement gives `{a}`",
            c.id
        )),
    }
}

fn owned_commitment<'a>(
    compact: &'a Compact,
    st: &Statement,
    id: &str,
    date: Date,
) -> Result<(&'a Agreement, &'a Commitment), Refusal> {
    let Some((a, c)) = commitment(compact, id, date) else {
        return refuse(format!("unknown commitment `{id}`"));
    };
    if a.guarantor != st.author {
        return refuse_as(
            Code::Role,
            format!(
                "commitment `{id}` is `{}`'s, not `{}`'s: a guarantor reports only on its own commitments",
                a.guarantor, st.author
            ),
        );
    }
    Ok((a, c))
}

fn require_beneficiary(st: &Statement, compact: &Compact) -> Result<(), Refusal> {
    if st.author != compact.beneficiary {
        return refuse_as(
            Code::Role,
            format!(
                "only the beneficiary `{}` may make {} statement, not `{}`",
                compact.beneficiary,
                with_article(st.kind().as_str()),
                st.author
            ),
        );
    }
    Ok(())
}

fn require_guarantor(st: &Statement, compact: &Compact) -> Result<(), Refusal> {
    if compact.group_of(&st.author).is_none() {
        return refuse_as(
            Code::Role,
            format!(
                "only a guarantor may make {} statement, not `{}`",
                with_article(st.kind().as_str()),
                st.author
            ),
        );
    }
    Ok(())
}

fn not_before_compact(date: Date, compact: &Compact) -> Result<(), Refusal> {
    if date < compact.adopted_on {
        return refuse(format!(
            "date {date} is before the compact was adopted on {}",
            compact.adopted_on
        ));
    }
    Ok(())
}

fn date_utc(t: Timestamp) -> Date {
    t.to_zoned_datetime(TimeZone::UTC).date()
}

/// An event a statement reports (a delivery, an attack) cannot lie after the log received it.
fn not_after_receipt(st: &Statement, event: Date) -> Result<(), Refusal> {
    if let Some(r) = st.received
        && event > date_utc(r)
    {
        return refuse_as(
            Code::Time,
            format!(
                "the {} reports an event of {event}, after the log received it on {}",
                st.kind().as_str(),
                date_utc(r)
            ),
        );
    }
    Ok(())
}

/// The statement's own time lies within the window of its receipt, and receipt times never
/// decrease along the log.
fn check_times(st: &Statement, facts: &Facts) -> Result<(), Refusal> {
    let Some(r) = st.received else {
        return Ok(());
    };
    if let Some(last) = facts.last_received
        && r < last
    {
        return refuse_as(
            Code::Time,
            format!(
                "received at {}, before the previous entry's receipt at {}: receipt times never go back",
                crate::format_time(r),
                crate::format_time(last)
            ),
        );
    }
    let ahead = st.time.duration_since(r);
    if ahead > TIME_AHEAD_MAX {
        return refuse_as(
            Code::Time,
            format!(
                "the statement is dated {}, after the log received it at {} (at most 5 minutes ahead): a statement cannot be dated in the future",
                crate::format_time(st.time),
                crate::format_time(r)
            ),
        );
    }
    if -ahead > TIME_BEHIND_MAX {
        return refuse_as(
            Code::Time,
            format!(
                "the statement is dated {}, more than 7 days before the log received it at {}: sign it anew (a past event is dated in the payload)",
                crate::format_time(st.time),
                crate::format_time(r)
            ),
        );
    }
    Ok(())
}

/// `agreement.suspend`, `agreement.resume`, `agreement.terminate`.
fn lifecycle(
    st: &Statement,
    l: &crate::AgreementLifecycle,
    compact: &Compact,
    facts: &Facts,
    next: u64,
) -> Result<(), Refusal> {
    let Some(a) = latest_agreed(compact, &l.agreement, &facts.signatures) else {
        return refuse(format!(
            "agreement `{}` has no version signed by both parties: there is nothing to {}",
            l.agreement,
            match st.kind() {
                Kind::AgreementSuspend => "suspend",
                Kind::AgreementResume => "resume",
                _ => "terminate",
            }
        ));
    };
    if st.author != a.guarantor && st.author != a.beneficiary {
        return refuse_as(
            Code::Role,
            format!("`{}` is not a party to agreement `{}`", st.author, a.id),
        );
    }
    if l.reason.trim().is_empty() {
        return refuse(format!(
            "{} gives a reason",
            with_article(st.kind().as_str())
        ));
    }
    if let Some(t) = facts.terminated(&a.id, next) {
        return refuse(format!(
            "agreement `{}` was terminated by `{}` at entry {} (effective {})",
            a.id, t.by, t.entry, t.effective
        ));
    }
    let suspended = facts.suspended(&a.id, next);
    match (st.kind(), suspended) {
        (Kind::AgreementSuspend, Some(s)) => refuse(format!(
            "agreement `{}` is already suspended by `{}` since entry {}",
            a.id, s.by, s.entry
        )),
        (Kind::AgreementResume, None) => refuse(format!("agreement `{}` is not suspended", a.id)),
        (Kind::AgreementResume, Some(s)) if s.by != st.author => refuse_as(
            Code::Role,
            format!(
                "only `{}`, which suspended agreement `{}` at entry {}, may resume it",
                s.by, a.id, s.entry
            ),
        ),
        _ => Ok(()),
    }
}

/// The retraction of entry `index` in the log so far, if it was retracted.
fn retraction(log: &dyn LedgerView, index: u64) -> Result<Option<(u64, Statement)>, Refusal> {
    Ok(view(log.referring(index, Kind::StatementRetract))?
        .into_iter()
        .next())
}

/// Refuses a statement that refers to entry `index` once it was retracted: `what` says what
/// the statement would do with it.
fn not_retracted(log: &dyn LedgerView, index: u64, what: &str) -> Result<(), Refusal> {
    match retraction(log, index)? {
        Some((i, r)) => refuse_as(
            Code::Retracted,
            format!(
                "entry {index} was retracted by `{}` at entry {i}: there is {what}",
                r.author
            ),
        ),
        None => Ok(()),
    }
}

/// The statements of `kind` referring to entry `index` that stand (not retracted).
fn standing(
    log: &dyn LedgerView,
    index: u64,
    kind: Kind,
) -> Result<Vec<(u64, Statement)>, Refusal> {
    let mut out = Vec::new();
    for (i, st) in view(log.referring(index, kind))? {
        if retraction(log, i)?.is_none() {
            out.push((i, st));
        }
    }
    Ok(out)
}

/// `statement.retract`: who may retract what, and until when.
///
/// - the entry is in the log, made by the retraction's author, of a [`RETRACTABLE`] kind, and
///   not retracted already;
/// - a delivery report with a standing confirmation is not retracted (the beneficiary retracts
///   its confirmation first), nor an allocation a standing report delivers;
/// - a confirmation is retracted within [`CONFIRM_RETRACT_WINDOW`] of its receipt;
/// - an activation (`attack.declare`, `threat.level`) is withdrawn, and an answer to one
///   retracted, while it is open: not once the beneficiary closed it or the compact ended on
///   accession;
/// - the reason is given, in at most [`crate::REASON_MAX`] characters.
fn retract(
    st: &Statement,
    r: &crate::Retract,
    log: &dyn LedgerView,
    facts: &Facts,
    next: u64,
) -> Result<(), Refusal> {
    if r.reason.trim().is_empty() {
        return refuse("a retraction gives a reason");
    }
    let chars = r.reason.chars().count();
    if chars > crate::REASON_MAX {
        return refuse(format!(
            "a retraction's reason is {chars} characters, over the limit of {}",
            crate::REASON_MAX
        ));
    }
    if r.entry >= next {
        return refuse_as(
            Code::Reference,
            format!(
                "no entry {} in the log: it holds entries 0 to {}",
                r.entry,
                next.saturating_sub(1)
            ),
        );
    }
    let Some(target) = view(log.entry(r.entry))? else {
        return refuse_as(Code::Reference, format!("no entry {} in the log", r.entry));
    };
    if target.author != st.author {
        return refuse_as(
            Code::Role,
            format!(
                "entry {} is `{}`'s {}: only its author retracts it, not `{}`",
                r.entry,
                target.author,
                target.kind().as_str(),
                st.author
            ),
        );
    }
    let kind = target.kind();
    if !RETRACTABLE.contains(&kind) {
        let why = match kind {
            Kind::StatementRetract => {
                "a retraction is final (to undo one, make the retracted statement anew)"
            }
            Kind::KeyRegister | Kind::KeyRevoke => "a key is revoked (key.revoke), not retracted",
            Kind::AgreementSign
            | Kind::AgreementSuspend
            | Kind::AgreementResume
            | Kind::AgreementTerminate => {
                "an agreement's lifecycle changes by its own statements (agreement.suspend, agreement.resume, agreement.terminate)"
            }
            Kind::LogInit => "the log's first entry is the log",
            Kind::ActivationClose => "a closed activation stays closed",
            _ => "it is final",
        };
        return refuse_as(
            Code::NotRetractable,
            format!(
                "entry {} is {}, which is never retracted: {why}; retractable are {}",
                r.entry,
                with_article(kind.as_str()),
                RETRACTABLE.map(Kind::as_str).join(", ")
            ),
        );
    }
    if let Some((i, _)) = retraction(log, r.entry)? {
        return refuse_as(
            Code::Retracted,
            format!("entry {} was already retracted at entry {i}", r.entry),
        );
    }
    match &target.payload {
        Payload::DeliveryReport(_) => {
            if let Some((i, c)) = standing(log, r.entry, Kind::DeliveryConfirm)?.first() {
                return refuse_as(
                    Code::ReliedOn,
                    format!(
                        "delivery report {} is confirmed by `{}` (entry {i}): the confirmation stands until `{}` retracts it",
                        r.entry, c.author, c.author
                    ),
                );
            }
        }
        Payload::Allocation(_) => {
            if let Some((i, _)) = standing(log, r.entry, Kind::DeliveryReport)?.first() {
                return refuse_as(
                    Code::ReliedOn,
                    format!(
                        "allocation {} is delivered by report {i}: retract the report first",
                        r.entry
                    ),
                );
            }
        }
        Payload::DeliveryConfirm(_) => {
            let age = st.at().duration_since(target.at());
            if age > CONFIRM_RETRACT_WINDOW {
                return refuse_as(
                    Code::NotRetractable,
                    format!(
                        "confirmation {} was received at {}, more than 30 days before this retraction at {}: the guarantor relies on it, and it stands",
                        r.entry,
                        crate::format_time(target.at()),
                        crate::format_time(st.at())
                    ),
                );
            }
        }
        Payload::AttackDeclare(_) | Payload::ThreatLevel(_) => {
            activation_open(st, r.entry, log, facts, "withdrawn")?;
        }
        Payload::ConsultationRespond(c) => {
            activation_open(st, c.activation, log, facts, "answered anew").map_err(|e| {
                Refusal::new(e.code, format!("answer {} stands: {}", r.entry, e.message))
            })?;
        }
        _ => {}
    }
    Ok(())
}

/// Refuses when activation `index` is closed (by the beneficiary, or by accession) at `st`.
fn activation_open(
    st: &Statement,
    index: u64,
    log: &dyn LedgerView,
    facts: &Facts,
    what: &str,
) -> Result<(), Refusal> {
    if let Some(i) = facts.closed.get(&index) {
        return refuse_as(
            Code::NotRetractable,
            format!(
                "activation {index} was closed by the beneficiary at entry {i}: a closed activation is history, no longer {what}"
            ),
        );
    }
    if let Some(acc) = log.accession()
        && date_of(st) >= acc
    {
        return refuse_as(
            Code::NotRetractable,
            format!(
                "activation {index} closed when the compact ended on the beneficiary's accession on {acc}: it is history, no longer {what}"
            ),
        );
    }
    Ok(())
}

/// Checks a statement in full: signature, author, payload, against the compact and the log.
pub fn check(
    st: &Statement,
    compact: &Compact,
    log: &dyn LedgerView,
    mode: Mode,
) -> Result<(), Refusal> {
    check_signature(st, compact, log.facts())?;
    check_payload(st, compact, log, mode)
}

/// Checks everything but the signature: for callers that verify signatures apart (in
/// parallel), then run this in log order.
pub fn check_payload(
    st: &Statement,
    compact: &Compact,
    log: &dyn LedgerView,
    mode: Mode,
) -> Result<(), Refusal> {
    if st.compact != compact.id {
        return refuse_as(
            Code::Log,
            format!(
                "statement for compact `{}`, this log is `{}`",
                st.compact, compact.id
            ),
        );
    }
    let facts = log.facts();
    let next = log.next_index();
    check_times(st, facts)?;
    match (&st.payload, next) {
        (Payload::LogInit(_), 0) => return Ok(()),
        (Payload::LogInit(_), _) => {
            return refuse_as(
                Code::Log,
                "log.init is the log's first entry, and only that",
            );
        }
        (_, _) if facts.operator_key.is_none() => {
            return refuse_as(
                Code::Log,
                "the log begins with the operator's log.init (compact init), not with this statement",
            );
        }
        _ => {}
    }
    if !matches!(st.kind(), Kind::KeyRegister | Kind::KeyRevoke) {
        not_before_compact(date_of(st), compact)?;
    }
    match &st.payload {
        Payload::LogInit(_) => Ok(()),
        Payload::KeyRegister(k) => {
            let (name, id) = parse_key_ref(&vkey_ref(&k.key))?;
            signed_note::StandardVerifier::new(&k.key).map_err(|e| {
                Refusal::new(
                    Code::Rule,
                    format!("key.register: `{}` is not a verifier key: {e}", k.key),
                )
            })?;
            if name != st.author {
                return refuse_as(
                    Code::Role,
                    format!(
                        "`{}` registers keys named after itself, not `{name}`",
                        st.author
                    ),
                );
            }
            if let Some(rec) = facts.keys.get(&(st.author.clone(), id)) {
                return refuse(format!(
                    "key {} of `{}` is already registered (entry {}): a key id is registered once",
                    vkey_ref(&k.key),
                    st.author,
                    rec.entry
                ));
            }
            if let (Some(v), Some(r)) = (k.valid_from, st.received)
                && v < r
            {
                return refuse(format!(
                    "a key cannot be valid from {}, before the log received its registration at {}",
                    crate::format_time(v),
                    crate::format_time(r)
                ));
            }
            Ok(())
        }
        Payload::KeyRevoke(k) => {
            let (_, id) = parse_key_ref(&k.key)?;
            let Some(rec) = facts.keys.get(&(st.author.clone(), id)) else {
                return refuse(format!(
                    "key {} is not a registered key of `{}`",
                    k.key, st.author
                ));
            };
            if let Some(r) = rec.revoked_from
                && r <= st.at()
            {
                return refuse(format!(
                    "key {} was already revoked from {}",
                    k.key,
                    crate::format_time(r)
                ));
            }
            if let (Some(f), Some(r)) = (k.from, st.received)
                && f < r
            {
                return refuse(format!(
                    "a revocation cannot take effect at {}, before the log received it at {}: what the log holds stays as it was",
                    crate::format_time(f),
                    crate::format_time(r)
                ));
            }
            if k.reason.trim().is_empty() {
                return refuse("a revocation gives a reason");
            }
            Ok(())
        }
        Payload::AgreementSuspend(l)
        | Payload::AgreementResume(l)
        | Payload::AgreementTerminate(l) => lifecycle(st, l, compact, facts, next),
        Payload::Retract(r) => retract(st, r, log, facts, next),
        Payload::ActivationClose(c) => {
            require_beneficiary(st, compact)?;
            match view(log.entry(c.activation))? {
                Some(e) if matches!(e.kind(), Kind::AttackDeclare | Kind::ThreatLevel) => {}
                Some(e) => {
                    return refuse_as(
                        Code::Reference,
                        format!(
                            "entry {} is {}, not an activation",
                            c.activation,
                            with_article(e.kind().as_str())
                        ),
                    );
                }
                None => {
                    return refuse_as(
                        Code::Reference,
                        format!("no activation at entry {}", c.activation),
                    );
                }
            }
            if let Some(i) = facts.closed.get(&c.activation) {
                return refuse(format!(
                    "activation {} was already closed at entry {i}",
                    c.activation
                ));
            }
            not_retracted(
                log,
                c.activation,
                "no activation to close: it was withdrawn",
            )?;
            if c.reason.trim().is_empty() {
                return refuse("closing an activation gives a reason");
            }
            Ok(())
        }
        Payload::AgreementSign(s) => {
            let terms = compact_model::agreement_alone(&compact_model::SourceFile {
                rel: format!("agreements/{}.toml", s.agreement),
                display: format!("the terms signed for `{}`", s.agreement),
                text: s.terms.clone(),
            })
            .map_err(|d| {
                Refusal::new(
                    Code::Rule,
                    format!(
                        "the terms signed do not read as an agreement: {}",
                        d.first().map(|d| d.message.clone()).unwrap_or_default()
                    ),
                )
            })?;
            if terms.id != s.agreement || terms.version != s.version {
                return refuse(format!(
                    "the terms signed are of `{}` version {}, the statement names `{}` version {}",
                    terms.id, terms.version, s.agreement, s.version
                ));
            }
            if terms.digest != s.digest {
                return refuse(format!(
                    "digest {} is not the digest of the terms signed ({})",
                    s.digest, terms.digest
                ));
            }
            if st.author != terms.guarantor && st.author != terms.beneficiary {
                return refuse_as(
                    Code::Role,
                    format!("`{}` is not a party to agreement `{}`", st.author, terms.id),
                );
            }
            if mode == Mode::Append {
                let Some(a) = compact.agreement(&s.agreement, Some(s.version)) else {
                    return refuse(format!(
                        "unknown agreement `{}` version {}",
                        s.agreement, s.version
                    ));
                };
                if s.digest != a.digest {
                    return refuse(format!(
                        "digest {} is not the digest of `{}` version {} as the compact holds it ({})",
                        s.digest, a.id, a.version, a.digest
                    ));
                }
            }
            if let Some((index, _)) = log
                .signatures()
                .get(&(s.agreement.clone(), s.version))
                .and_then(|by| by.get(&st.author))
            {
                return refuse(format!(
                    "`{}` already signed `{}` version {} (entry {index})",
                    st.author, s.agreement, s.version
                ));
            }
            Ok(())
        }
        Payload::Pledge(p) => {
            require_guarantor(st, compact)?;
            not_before_compact(p.date, compact)?;
            not_after_receipt(st, p.date)?;
            if !compact.pillars.iter().any(|x| x.id == p.pillar) {
                return refuse(format!("unknown pillar `{}`", p.pillar));
            }
            let a = amount(&p.amount, compact)?;
            if let Some(id) = &p.commitment {
                let (_, c) = owned_commitment(compact, st, id, p.date)?;
                matches_commitment(&a, c)?;
            }
            Ok(())
        }
        Payload::Allocation(p) => {
            not_after_receipt(st, p.date)?;
            let (ag, c) = owned_commitment(compact, st, &p.commitment, p.date)?;
            matches_commitment(&amount(&p.amount, compact)?, c)?;
            in_force(ag, p.date, facts, next).map_err(|m| Refusal::new(Code::Rule, m))
        }
        Payload::DeliveryReport(p) => {
            not_after_receipt(st, p.date)?;
            let (ag, c) = owned_commitment(compact, st, &p.commitment, p.date)?;
            matches_commitment(&amount(&p.amount, compact)?, c)?;
            in_force(ag, p.date, facts, next).map_err(|m| Refusal::new(Code::Rule, m))?;
            if let Some(index) = p.allocation {
                match view(log.entry(index))? {
                    Some(e) => match &e.payload {
                        Payload::Allocation(al) if al.commitment == p.commitment => {}
                        _ => {
                            return refuse_as(
                                Code::Reference,
                                format!(
                                    "entry {index} is not an allocation to commitment `{}`",
                                    p.commitment
                                ),
                            );
                        }
                    },
                    None => {
                        return refuse_as(Code::Reference, format!("no entry {index} in the log"));
                    }
                }
                not_retracted(log, index, "no allocation to deliver")?;
            }
            Ok(())
        }
        Payload::DeliveryConfirm(p) => {
            require_beneficiary(st, compact)?;
            not_after_receipt(st, p.date)?;
            let Some(report) = view(log.entry(p.report))? else {
                return refuse_as(Code::Reference, format!("no entry {} in the log", p.report));
            };
            let Payload::DeliveryReport(r) = &report.payload else {
                return refuse_as(
                    Code::Reference,
                    format!(
                        "entry {} is {}, not a delivery.report",
                        p.report,
                        with_article(report.kind().as_str())
                    ),
                );
            };
            not_retracted(log, p.report, "no report to confirm")?;
            if p.date < r.date {
                return refuse(format!(
                    "confirmed on {}, before the delivery date {}",
                    p.date, r.date
                ));
            }
            let reported = amount(&r.amount, compact)?;
            let confirmed = match &p.amount {
                Some(t) => amount(t, compact)?,
                None => reported.clone(),
            };
            let same = match (&reported, &confirmed) {
                (Amount::Money { currency: a, .. }, Amount::Money { currency: b, .. }) => a == b,
                (Amount::Units { unit: a, .. }, Amount::Units { unit: b, .. }) => a == b,
                _ => false,
            };
            if !same {
                return refuse(format!(
                    "confirmed `{confirmed}` is not in the reported delivery's currency or unit (`{reported}`)"
                ));
            }
            // Exact sums in the report's own currency or unit; a sum that would need
            // rounding is refused, never compared rounded.
            let over = |total| {
                format!(
                    "confirmations of entry {} would total {total}, more than the {} reported",
                    p.report,
                    reported.number()
                )
            };
            let mut total = confirmed.number();
            // Confirmations retracted by the beneficiary count no more.
            for (_, earlier) in standing(log, p.report, Kind::DeliveryConfirm)? {
                if total > reported.number() {
                    return refuse(over(total));
                }
                if let Payload::DeliveryConfirm(e) = &earlier.payload {
                    let part = match &e.amount {
                        Some(t) => amount(t, compact)?.number(),
                        None => reported.number(),
                    };
                    total = compact_model::amount::add_exact(total, part).ok_or_else(|| {
                        Refusal::new(Code::Rule, format!(
                            "the confirmations of entry {} cannot be added exactly ({total} + {part} needs more than 28 significant digits)",
                            p.report
                        ))
                    })?;
                }
            }
            if total > reported.number() {
                return refuse(over(total));
            }
            Ok(())
        }
        Payload::ThreatLevel(t) => {
            require_beneficiary(st, compact)?;
            not_after_receipt(st, date_utc(t.from))?;
            if t.level == 0 || t.level > compact.threat_levels {
                return refuse(format!(
                    "threat level {} is out of range (1 to {})",
                    t.level, compact.threat_levels
                ));
            }
            Ok(())
        }
        Payload::AttackDeclare(a) => {
            require_beneficiary(st, compact)?;
            not_after_receipt(st, date_utc(a.at))?;
            if a.summary.trim().is_empty() {
                return refuse("an attack declaration needs a summary");
            }
            Ok(())
        }
        Payload::ConsultationRespond(r) => {
            require_guarantor(st, compact)?;
            let activation = match view(log.entry(r.activation))? {
                Some(e) if matches!(e.kind(), Kind::AttackDeclare | Kind::ThreatLevel) => e,
                Some(e) => {
                    return refuse_as(
                        Code::Reference,
                        format!(
                            "entry {} is {}, not an activation (attack.declare or threat.level)",
                            r.activation,
                            with_article(e.kind().as_str())
                        ),
                    );
                }
                None => {
                    return refuse_as(
                        Code::Reference,
                        format!("no activation at entry {}", r.activation),
                    );
                }
            };
            if let Some(acc) = log.accession()
                && date_of(st) >= acc
            {
                return refuse(format!(
                    "activation {} is closed: the compact ended on the beneficiary's accession on {acc}",
                    r.activation
                ));
            }
            if let Some(i) = facts.closed.get(&r.activation) {
                return refuse(format!(
                    "activation {} was closed by the beneficiary at entry {i}",
                    r.activation
                ));
            }
            not_retracted(
                log,
                r.activation,
                "nothing to answer: the activation was withdrawn",
            )?;
            let asked = crate::activation::asked(compact, r.activation, &activation, facts);
            if asked.is_empty() {
                return refuse(format!(
                    "entry {} asks no guarantor to consult: there is nothing to answer",
                    r.activation
                ));
            }
            if !asked.iter().any(|a| a.guarantor == st.author) {
                return refuse_as(
                    Code::Role,
                    format!(
                        "`{}` was not asked by activation {}: asked were {}",
                        st.author,
                        r.activation,
                        asked
                            .iter()
                            .map(|a| a.guarantor.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                );
            }
            if st.at() < activation.at() {
                return refuse(format!(
                    "a response at {} precedes activation {} at {}",
                    crate::format_time(st.at()),
                    r.activation,
                    crate::format_time(activation.at())
                ));
            }
            // An answer its author retracted leaves it to answer anew.
            let answers = standing(log, r.activation, Kind::ConsultationRespond)?;
            if let Some((i, _)) = answers.iter().find(|(_, a)| a.author == st.author) {
                return refuse(format!(
                    "`{}` already answered activation {} at entry {i}",
                    st.author, r.activation
                ));
            }
            if r.measures.is_empty() {
                return refuse("a response lists at least one measure");
            }
            for m in &r.measures {
                if !["accelerate", "pledge", "sanctions"].contains(&m.kind.as_str()) {
                    return refuse(format!(
                        "unknown measure `{}`: expected accelerate, pledge or sanctions",
                        m.kind
                    ));
                }
                let a = m
                    .amount
                    .as_deref()
                    .map(|t| amount(t, compact))
                    .transpose()?;
                if let Some(id) = &m.commitment {
                    let (_, c) = owned_commitment(compact, st, id, date_of(st))?;
                    if let Some(a) = &a {
                        matches_commitment(a, c)?;
                    }
                }
            }
            Ok(())
        }
        Payload::AccessionDeclare(a) => {
            require_beneficiary(st, compact)?;
            not_before_compact(a.on, compact)?;
            not_after_receipt(st, a.on)?;
            if let Some(earlier) = log.accession() {
                return refuse(format!("accession was already declared for {earlier}"));
            }
            Ok(())
        }
    }
}

/// The lifecycle of an agreement as the log shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// No signature.
    Draft,
    /// One party signed (or the two signed different texts).
    SignedByOne,
    /// Both signed the text and it is within its period.
    InForce,
    /// Both signed; the date is before it enters into force.
    NotYetInForce,
    /// Past its end.
    Expired,
    /// Ended on the beneficiary's accession.
    EndedByAccession,
    /// The working file is not the text both parties signed (the signed text governs).
    ChangedSinceSigning,
    /// Suspended by a party.
    Suspended,
    /// Notice of termination given; not yet in effect.
    NoticeGiven,
    /// Terminated: the notice has run.
    Terminated,
}

impl Status {
    /// The kebab-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Draft => "draft",
            Status::SignedByOne => "signed-by-one",
            Status::InForce => "in-force",
            Status::NotYetInForce => "not-yet-in-force",
            Status::Expired => "expired",
            Status::EndedByAccession => "ended-by-accession",
            Status::ChangedSinceSigning => "changed-since-signing",
            Status::Suspended => "suspended",
            Status::NoticeGiven => "notice-given",
            Status::Terminated => "terminated",
        }
    }
}

/// The status of agreement version `a` on `today`, from everything the log holds.
pub fn status(a: &Agreement, facts: &Facts, today: Date) -> Status {
    let by = facts.signatures.get(&(a.id.clone(), a.version));
    let n = by.map_or(0, |b| b.len());
    if n == 0 {
        return Status::Draft;
    }
    let Some(agreed) = agreed_digest(a, &facts.signatures) else {
        return Status::SignedByOne;
    };
    if agreed != a.digest {
        return Status::ChangedSinceSigning;
    }
    if let Some(t) = facts.terminated(&a.id, u64::MAX)
        && today >= t.effective
    {
        return Status::Terminated;
    }
    if let Some(acc) = facts.accession
        && a.on_accession == OnAccession::End
        && today >= acc
    {
        return Status::EndedByAccession;
    }
    if today > a.ends_on {
        return Status::Expired;
    }
    if facts.suspended(&a.id, u64::MAX).is_some() {
        return Status::Suspended;
    }
    if facts.terminated(&a.id, u64::MAX).is_some() {
        return Status::NoticeGiven;
    }
    if today < a.in_force_from {
        Status::NotYetInForce
    } else {
        Status::InForce
    }
}

#[cfg(test)]
mod tests {
    use super::with_article;

    #[test]
    fn statement_types_take_their_article() {
        assert_eq!(with_article("agreement.sign"), "an agreement.sign");
        assert_eq!(with_article("allocation"), "an allocation");
        assert_eq!(with_article("pledge"), "a pledge");
        assert_eq!(with_article("delivery.report"), "a delivery.report");
    }
}
