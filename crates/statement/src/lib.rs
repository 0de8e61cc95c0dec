//! Signed statements: everything a party does, as a canonical JSON document signed by its key.
//!
//! ```json
//! {"author":"GB","compact":"kyiv-compact","key":"GB+1a2b3c4d","payload":{…},
//!  "sig":"<base64 Ed25519 signature>","time":"2024-05-01T12:00:00Z","type":"delivery.report","v":1}
//! ```
//!
//! The signature is over the RFC 8785 (JCS) canonical bytes of the document without `sig`;
//! the log's leaf is the canonical bytes of the whole document. Keys are C2SP signed-note keys
//! named after the party (`GB+1a2b3c4d+…`). [`rules`] says which statements may enter the log.

pub mod activation;
pub mod ijson;
pub mod keys;
pub mod record;
pub mod rules;
pub mod schema;
#[cfg(any(test, feature = "testkit"))]
pub mod testkit;

pub use record::{Record, Said};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use signed_note::{Signer, StandardSigner, StandardVerifier, Verifier};

/// The largest statement accepted, in bytes of its canonical form (64 KiB).
pub const STATEMENT_SIZE_MAX: usize = 64 * 1024;
/// The statement format version.
pub const FORMAT_VERSION: u8 = 1;

/// Why a statement could not be read, made or verified.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum StatementError {
    /// Larger than [`STATEMENT_SIZE_MAX`].
    #[error("statement is {0} bytes, over the limit of 65536 bytes (64 KiB)")]
    TooLarge(usize),
    /// Not JSON of the statement's shape.
    #[error("malformed statement: {0}")]
    Malformed(String),
    /// A key that cannot be used.
    #[error("{0}")]
    Key(String),
    /// The signature does not verify.
    #[error("the signature does not verify with key {0}")]
    BadSignature(String),
}

/// The kinds of statement.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Kind {
    /// Both parties sign an agreement version's digest.
    #[serde(rename = "agreement.sign")]
    AgreementSign,
    /// A package announced beyond the schedule.
    #[serde(rename = "pledge")]
    Pledge,
    /// A package earmarked for delivery against a commitment.
    #[serde(rename = "allocation")]
    Allocation,
    /// A delivery, reported by the guarantor.
    #[serde(rename = "delivery.report")]
    DeliveryReport,
    /// Receipt of a reported delivery, confirmed by the beneficiary.
    #[serde(rename = "delivery.confirm")]
    DeliveryConfirm,
    /// The beneficiary's threat level.
    #[serde(rename = "threat.level")]
    ThreatLevel,
    /// The beneficiary declares an armed attack.
    #[serde(rename = "attack.declare")]
    AttackDeclare,
    /// A guarantor's response to a consultation.
    #[serde(rename = "consultation.respond")]
    ConsultationRespond,
    /// The beneficiary declares its accession.
    #[serde(rename = "accession.declare")]
    AccessionDeclare,
    /// The log's first entry: the operator pins the compact's id and its own key.
    #[serde(rename = "log.init")]
    LogInit,
    /// A party registers a key: its root key (trust on first use), or a signing key under its
    /// root.
    #[serde(rename = "key.register")]
    KeyRegister,
    /// A party revokes one of its keys.
    #[serde(rename = "key.revoke")]
    KeyRevoke,
    /// A party to an agreement suspends it.
    #[serde(rename = "agreement.suspend")]
    AgreementSuspend,
    /// The party that suspended an agreement resumes it.
    #[serde(rename = "agreement.resume")]
    AgreementResume,
    /// A party to an agreement gives notice of termination.
    #[serde(rename = "agreement.terminate")]
    AgreementTerminate,
    /// The beneficiary closes an activation.
    #[serde(rename = "activation.close")]
    ActivationClose,
    /// An author retracts one of its own statements, with a reason (a correction is a
    /// retraction followed by the corrected statement).
    #[serde(rename = "statement.retract")]
    StatementRetract,
}

impl Kind {
    /// Every kind.
    pub const ALL: [Kind; 17] = [
        Kind::LogInit,
        Kind::KeyRegister,
        Kind::KeyRevoke,
        Kind::AgreementSign,
        Kind::AgreementSuspend,
        Kind::AgreementResume,
        Kind::AgreementTerminate,
        Kind::ActivationClose,
        Kind::Pledge,
        Kind::Allocation,
        Kind::DeliveryReport,
        Kind::DeliveryConfirm,
        Kind::ThreatLevel,
        Kind::AttackDeclare,
        Kind::ConsultationRespond,
        Kind::AccessionDeclare,
        Kind::StatementRetract,
    ];

    /// The name used in JSON (`delivery.report`).
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::AgreementSign => "agreement.sign",
            Kind::Pledge => "pledge",
            Kind::Allocation => "allocation",
            Kind::DeliveryReport => "delivery.report",
            Kind::DeliveryConfirm => "delivery.confirm",
            Kind::ThreatLevel => "threat.level",
            Kind::AttackDeclare => "attack.declare",
            Kind::ConsultationRespond => "consultation.respond",
            Kind::AccessionDeclare => "accession.declare",
            Kind::LogInit => "log.init",
            Kind::KeyRegister => "key.register",
            Kind::KeyRevoke => "key.revoke",
            Kind::AgreementSuspend => "agreement.suspend",
            Kind::AgreementResume => "agreement.resume",
            Kind::AgreementTerminate => "agreement.terminate",
            Kind::ActivationClose => "activation.close",
            Kind::StatementRetract => "statement.retract",
        }
    }

    /// The kind named `s`.
    pub fn parse(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// `agreement.sign`: the author signs this version's canonical digest, and carries the text
/// it signed, so that the terms that govern are in the log, not in a working file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgreementSign {
    /// Agreement id.
    pub agreement: String,
    /// Version.
    pub version: u32,
    /// SHA-256 of the canonical form, hex.
    pub digest: String,
    /// The agreement file's text (TOML) whose canonical form has that digest.
    pub terms: String,
}

/// `log.init`: the log's first entry, signed by the operator's key, which it names.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogInit {
    /// The operator's verifier key (`name+keyid+base64`, named after the compact's id).
    pub operator_key: String,
}

/// A key's role.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Kept offline; signs only `key.register` and `key.revoke`.
    Root,
    /// Signs the party's other statements.
    Signing,
}

/// `key.register`: a party's key enters the log. A root key registers itself, once per party
/// (trust on first use; a later root is registered by the current root, which it replaces); a
/// signing key is registered by the party's root key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyRegister {
    /// The verifier key (`CODE+keyid+base64`).
    pub key: String,
    /// Root or signing.
    pub role: Role,
    /// It signs nothing the log receives before this time (default: its own receipt).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_from: Option<Timestamp>,
}

/// `key.revoke`: one of the party's keys signs nothing the log receives from the later of this
/// statement's receipt and `from`. Signed by the party's root key, or by the key itself.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyRevoke {
    /// `CODE+keyid` of the key revoked.
    pub key: String,
    /// When the revocation takes effect, if later than its receipt (a rotation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<Timestamp>,
    /// Why.
    pub reason: String,
}

/// `agreement.suspend` / `agreement.resume`: a party suspends an agreement (nothing new may be
/// allocated, reported or asked under it), or resumes what it suspended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgreementLifecycle {
    /// Agreement id.
    pub agreement: String,
    /// Why.
    pub reason: String,
}

/// `activation.close`: the beneficiary closes an activation; answers are no longer taken.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActivationClose {
    /// The log entry of the activation.
    pub activation: u64,
    /// Why.
    pub reason: String,
}

/// The longest reason a retraction may give, in characters.
pub const REASON_MAX: usize = 1000;

/// `statement.retract`: the author of entry `entry` retracts it. The log keeps both; from the
/// retraction's receipt the engine and every report count the entry as if it had not been
/// made (before it, as it was). A correction is a retraction and the corrected statement, in
/// that order (in one batch, both are written or neither). Which kinds may be retracted, by
/// whom and until when: [`rules`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Retract {
    /// The log entry retracted.
    pub entry: u64,
    /// Why (at most [`REASON_MAX`] characters).
    pub reason: String,
}

/// `pledge`: an announced package beyond the schedule.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pledge {
    /// The pillar it serves.
    pub pillar: String,
    /// The commitment it adds to, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commitment: Option<String>,
    /// Amount.
    pub amount: String,
    /// Date announced.
    pub date: Date,
    /// What it is.
    pub description: String,
}

/// `allocation`: a package earmarked for delivery against a commitment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Allocation {
    /// Commitment id.
    pub commitment: String,
    /// Amount.
    pub amount: String,
    /// Date earmarked.
    pub date: Date,
    /// The guarantor's own reference.
    pub reference: String,
}

/// `delivery.report`: the guarantor reports a delivery.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeliveryReport {
    /// Commitment id.
    pub commitment: String,
    /// Quantity or value delivered.
    pub amount: String,
    /// Date delivered.
    pub date: Date,
    /// The guarantor's own reference.
    pub reference: String,
    /// The log entry of the allocation it delivers, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allocation: Option<u64>,
}

/// `delivery.confirm`: the beneficiary confirms receipt of a reported delivery.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeliveryConfirm {
    /// The log entry of the `delivery.report`.
    pub report: u64,
    /// The part received; all of it when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<String>,
    /// Date received.
    pub date: Date,
}

/// `threat.level`: the beneficiary's assessment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThreatLevel {
    /// From 1 to the compact's `threat_levels`.
    pub level: u8,
    /// Since when.
    pub from: Timestamp,
}

/// `attack.declare`: the beneficiary declares an armed attack.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttackDeclare {
    /// When the attack began.
    pub at: Timestamp,
    /// What happened.
    pub summary: String,
}

/// One measure of a consultation response.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Measure {
    /// `accelerate`, `pledge` or `sanctions`.
    pub kind: String,
    /// The commitment concerned, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commitment: Option<String>,
    /// The amount, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<String>,
    /// What is done.
    pub description: String,
}

/// `consultation.respond`: a guarantor's measures after an activation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsultationRespond {
    /// The log entry of the `attack.declare` (or `threat.level`) that opened it.
    pub activation: u64,
    /// The measures committed.
    pub measures: Vec<Measure>,
}

/// `accession.declare`: the beneficiary has acceded.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccessionDeclare {
    /// Date of accession.
    pub on: Date,
}

/// A typed payload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Payload {
    /// See [`AgreementSign`].
    AgreementSign(AgreementSign),
    /// See [`Pledge`].
    Pledge(Pledge),
    /// See [`Allocation`].
    Allocation(Allocation),
    /// See [`DeliveryReport`].
    DeliveryReport(DeliveryReport),
    /// See [`DeliveryConfirm`].
    DeliveryConfirm(DeliveryConfirm),
    /// See [`ThreatLevel`].
    ThreatLevel(ThreatLevel),
    /// See [`AttackDeclare`].
    AttackDeclare(AttackDeclare),
    /// See [`ConsultationRespond`].
    ConsultationRespond(ConsultationRespond),
    /// See [`AccessionDeclare`].
    AccessionDeclare(AccessionDeclare),
    /// See [`LogInit`].
    LogInit(LogInit),
    /// See [`KeyRegister`].
    KeyRegister(KeyRegister),
    /// See [`KeyRevoke`].
    KeyRevoke(KeyRevoke),
    /// See [`AgreementLifecycle`].
    AgreementSuspend(AgreementLifecycle),
    /// See [`AgreementLifecycle`].
    AgreementResume(AgreementLifecycle),
    /// See [`AgreementLifecycle`]: effective after the agreement's notice period.
    AgreementTerminate(AgreementLifecycle),
    /// See [`ActivationClose`].
    ActivationClose(ActivationClose),
    /// See [`Retract`].
    Retract(Retract),
}

impl Payload {
    /// Its kind.
    pub fn kind(&self) -> Kind {
        match self {
            Payload::AgreementSign(_) => Kind::AgreementSign,
            Payload::Pledge(_) => Kind::Pledge,
            Payload::Allocation(_) => Kind::Allocation,
            Payload::DeliveryReport(_) => Kind::DeliveryReport,
            Payload::DeliveryConfirm(_) => Kind::DeliveryConfirm,
            Payload::ThreatLevel(_) => Kind::ThreatLevel,
            Payload::AttackDeclare(_) => Kind::AttackDeclare,
            Payload::ConsultationRespond(_) => Kind::ConsultationRespond,
            Payload::AccessionDeclare(_) => Kind::AccessionDeclare,
            Payload::LogInit(_) => Kind::LogInit,
            Payload::KeyRegister(_) => Kind::KeyRegister,
            Payload::KeyRevoke(_) => Kind::KeyRevoke,
            Payload::AgreementSuspend(_) => Kind::AgreementSuspend,
            Payload::AgreementResume(_) => Kind::AgreementResume,
            Payload::AgreementTerminate(_) => Kind::AgreementTerminate,
            Payload::ActivationClose(_) => Kind::ActivationClose,
            Payload::Retract(_) => Kind::StatementRetract,
        }
    }

    /// The log entry this payload refers to, if any.
    pub fn reference(&self) -> Option<u64> {
        match self {
            Payload::DeliveryConfirm(c) => Some(c.report),
            Payload::DeliveryReport(r) => r.allocation,
            Payload::ConsultationRespond(r) => Some(r.activation),
            Payload::ActivationClose(c) => Some(c.activation),
            Payload::Retract(r) => Some(r.entry),
            _ => None,
        }
    }

    fn to_value(&self) -> Result<serde_json::Value, serde_json::Error> {
        match self {
            Payload::AgreementSign(p) => serde_json::to_value(p),
            Payload::Pledge(p) => serde_json::to_value(p),
            Payload::Allocation(p) => serde_json::to_value(p),
            Payload::DeliveryReport(p) => serde_json::to_value(p),
            Payload::DeliveryConfirm(p) => serde_json::to_value(p),
            Payload::ThreatLevel(p) => serde_json::to_value(p),
            Payload::AttackDeclare(p) => serde_json::to_value(p),
            Payload::ConsultationRespond(p) => serde_json::to_value(p),
            Payload::AccessionDeclare(p) => serde_json::to_value(p),
            Payload::LogInit(p) => serde_json::to_value(p),
            Payload::KeyRegister(p) => serde_json::to_value(p),
            Payload::KeyRevoke(p) => serde_json::to_value(p),
            Payload::AgreementSuspend(p)
            | Payload::AgreementResume(p)
            | Payload::AgreementTerminate(p) => serde_json::to_value(p),
            Payload::ActivationClose(p) => serde_json::to_value(p),
            Payload::Retract(p) => serde_json::to_value(p),
        }
    }

    /// The payload as JSON (its members as the statement carries them).
    pub fn to_json(&self) -> serde_json::Value {
        self.to_value().unwrap_or(serde_json::Value::Null)
    }

    /// Reads a payload of `kind` from JSON, refusing unknown fields.
    pub fn from_json(kind: Kind, v: serde_json::Value) -> Result<Payload, StatementError> {
        Payload::from_value(kind, v)
            .map_err(|e| malformed(format!("{} payload: {e}", kind.as_str())))
    }

    fn from_value(kind: Kind, v: serde_json::Value) -> Result<Payload, serde_json::Error> {
        Ok(match kind {
            Kind::AgreementSign => Payload::AgreementSign(serde_json::from_value(v)?),
            Kind::Pledge => Payload::Pledge(serde_json::from_value(v)?),
            Kind::Allocation => Payload::Allocation(serde_json::from_value(v)?),
            Kind::DeliveryReport => Payload::DeliveryReport(serde_json::from_value(v)?),
            Kind::DeliveryConfirm => Payload::DeliveryConfirm(serde_json::from_value(v)?),
            Kind::ThreatLevel => Payload::ThreatLevel(serde_json::from_value(v)?),
            Kind::AttackDeclare => Payload::AttackDeclare(serde_json::from_value(v)?),
            Kind::ConsultationRespond => Payload::ConsultationRespond(serde_json::from_value(v)?),
            Kind::AccessionDeclare => Payload::AccessionDeclare(serde_json::from_value(v)?),
            Kind::LogInit => Payload::LogInit(serde_json::from_value(v)?),
            Kind::KeyRegister => Payload::KeyRegister(serde_json::from_value(v)?),
            Kind::KeyRevoke => Payload::KeyRevoke(serde_json::from_value(v)?),
            Kind::AgreementSuspend => Payload::AgreementSuspend(serde_json::from_value(v)?),
            Kind::AgreementResume => Payload::AgreementResume(serde_json::from_value(v)?),
            Kind::AgreementTerminate => Payload::AgreementTerminate(serde_json::from_value(v)?),
            Kind::ActivationClose => Payload::ActivationClose(serde_json::from_value(v)?),
            Kind::StatementRetract => Payload::Retract(serde_json::from_value(v)?),
        })
    }
}

/// The document as it travels: what is signed, plus the signature.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Envelope {
    v: u8,
    compact: String,
    #[serde(rename = "type")]
    kind: String,
    author: String,
    key: String,
    time: String,
    #[serde(deserialize_with = "ijson::value")]
    payload: serde_json::Value,
    /// The operator's receipt time: set when the log takes the statement, outside what the
    /// author signed, inside the leaf (so the tree and every checkpoint cover it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    received: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sig: Option<String>,
}

/// A decoded, well-formed statement. Whether its signature verifies with a key the compact
/// lists, and whether its payload may enter the log, are for [`rules`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Statement {
    /// The compact (the log's origin).
    pub compact: String,
    /// The author's party code.
    pub author: String,
    /// The signing key's name (the party code).
    pub key_name: String,
    /// The signing key's id.
    pub key_id: u32,
    /// When the author made the statement (the author's claim).
    pub time: Timestamp,
    /// When the log received it (the operator's clock), once logged.
    pub received: Option<Timestamp>,
    /// What it says.
    pub payload: Payload,
    /// The Ed25519 signature.
    pub sig: Vec<u8>,
    /// The canonical bytes that were signed.
    pub signed_bytes: Vec<u8>,
    /// The canonical bytes of the whole statement: the log's leaf.
    pub leaf: Vec<u8>,
}

/// The parts of a statement before signing.
#[derive(Clone, Debug)]
pub struct Draft {
    /// The compact's id.
    pub compact: String,
    /// The author's party code.
    pub author: String,
    /// When.
    pub time: Timestamp,
    /// What.
    pub payload: Payload,
}

fn malformed(e: impl std::fmt::Display) -> StatementError {
    StatementError::Malformed(e.to_string())
}

/// `GB+1a2b3c4d` as ("GB", 0x1a2b3c4d).
pub fn parse_key_ref(s: &str) -> Result<(String, u32), StatementError> {
    let (name, id) = s
        .split_once('+')
        .ok_or_else(|| malformed(format!("key `{s}` is not NAME+KEYID")))?;
    if name.is_empty() || id.len() != 8 {
        return Err(malformed(format!("key `{s}` is not NAME+KEYID")));
    }
    let id = u32::from_str_radix(id, 16)
        .map_err(|_| malformed(format!("key `{s}` has a malformed key id")))?;
    Ok((name.to_owned(), id))
}

/// RFC 3339 in UTC with whole seconds: the one way a statement writes a time.
pub fn format_time(t: Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// Serialises a time as [`format_time`] writes it.
pub fn ser_time<S: serde::Serializer>(t: &Timestamp, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format_time(*t))
}

/// The signed bytes from the canonical leaf: the leaf without its `received` and `sig`
/// members. In RFC 8785 form the members are sorted (`author`, `compact`, `key`, `payload`,
/// `received`, `sig`, `time`, `type`, `v`), so they are `,"received":"<time>","sig":"<base64>"`
/// just before `,"time":`; no payload has such members at its top level and a string's quotes
/// are escaped, so the text occurs once, at the end of the payload. This equals the JCS
/// encoding of the envelope without them (a test checks it on every kind), at the cost of a
/// search instead of a second encoding.
fn without_sig(leaf: &[u8], received: Option<&str>, sig_b64: &str) -> Option<Vec<u8>> {
    let member = match received {
        Some(r) => format!(",\"received\":\"{r}\",\"sig\":\"{sig_b64}\",\"time\":"),
        None => format!(",\"sig\":\"{sig_b64}\",\"time\":"),
    };
    let at = find_last(leaf, &member)?;
    let mut out = Vec::with_capacity(leaf.len().saturating_sub(member.len()) + 8);
    out.extend_from_slice(leaf.get(..at)?);
    out.extend_from_slice(b",\"time\":");
    out.extend_from_slice(leaf.get(at + member.len()..)?);
    Some(out)
}

/// Where `member` last occurs in `leaf`.
fn find_last(leaf: &[u8], member: &str) -> Option<usize> {
    leaf.windows(member.len())
        .rposition(|w| w == member.as_bytes())
}

fn parse_utc(what: &str, text: &str) -> Result<Timestamp, StatementError> {
    let t: Timestamp = text
        .parse()
        .map_err(|e| malformed(format!("malformed {what} `{text}`: {e}")))?;
    if format_time(t) != text {
        return Err(malformed(format!(
            "{what} `{text}` must be RFC 3339 in UTC with whole seconds, e.g. 2024-05-01T12:00:00Z"
        )));
    }
    Ok(t)
}

impl Statement {
    /// Reads a statement from JSON bytes (any layout; it is re-encoded canonically).
    pub fn decode(bytes: &[u8]) -> Result<Statement, StatementError> {
        if bytes.len() > STATEMENT_SIZE_MAX {
            return Err(StatementError::TooLarge(bytes.len()));
        }
        let env: Envelope = serde_json::from_slice(bytes).map_err(malformed)?;
        if env.v != FORMAT_VERSION {
            return Err(malformed(format!("unknown format version {}", env.v)));
        }
        let kind = Kind::parse(&env.kind).ok_or_else(|| {
            malformed(format!(
                "unknown statement type `{}`; known: {}",
                env.kind,
                Kind::ALL.map(Kind::as_str).join(", ")
            ))
        })?;
        let payload = Payload::from_value(kind, env.payload.clone())
            .map_err(|e| malformed(format!("{} payload: {e}", kind.as_str())))?;
        let (key_name, key_id) = parse_key_ref(&env.key)?;
        let time = parse_utc("time", &env.time)?;
        let received = env
            .received
            .as_deref()
            .map(|r| parse_utc("receipt time", r))
            .transpose()?;
        let sig_b64 = env
            .sig
            .as_deref()
            .ok_or_else(|| malformed("unsigned: no `sig`"))?;
        let sig = B64
            .decode(sig_b64)
            .map_err(|e| malformed(format!("malformed signature: {e}")))?;
        if sig.len() != 64 {
            return Err(malformed("malformed signature: not 64 bytes"));
        }
        // Re-encode the payload from its typed form, so that what is signed is exactly what
        // the typed payload says.
        let typed = payload.to_value().map_err(malformed)?;
        if typed != env.payload {
            return Err(malformed(format!(
                "{} payload is not in its canonical shape (write dates as YYYY-MM-DD and times in UTC)",
                kind.as_str()
            )));
        }
        let sig_b64 = sig_b64.to_owned();
        let leaf = serde_jcs::to_vec(&env).map_err(malformed)?;
        if leaf.len() > STATEMENT_SIZE_MAX {
            return Err(StatementError::TooLarge(leaf.len()));
        }
        let signed_bytes = without_sig(&leaf, env.received.as_deref(), &sig_b64)
            .ok_or_else(|| malformed("the canonical form has no `sig` member where it belongs"))?;
        let whole = env;
        Ok(Statement {
            compact: whole.compact,
            author: whole.author,
            key_name,
            key_id,
            time,
            received,
            payload,
            sig,
            signed_bytes,
            leaf,
        })
    }

    /// Signs a draft with a private key in the C2SP signed-note format.
    pub fn sign(draft: Draft, signer: &StandardSigner) -> Result<Statement, StatementError> {
        let payload = draft.payload.to_value().map_err(malformed)?;
        let unsigned = Envelope {
            v: FORMAT_VERSION,
            compact: draft.compact,
            kind: draft.payload.kind().as_str().to_owned(),
            author: draft.author,
            key: format!("{}+{:08x}", signer.name(), signer.key_id()),
            time: format_time(draft.time),
            payload,
            received: None,
            sig: None,
        };
        let bytes = serde_jcs::to_vec(&unsigned).map_err(malformed)?;
        let sig = signer
            .sign(&bytes)
            .map_err(|e| StatementError::Key(format!("cannot sign: {e}")))?;
        let whole = Envelope {
            sig: Some(B64.encode(&sig)),
            ..unsigned
        };
        let leaf = serde_jcs::to_vec(&whole).map_err(malformed)?;
        Statement::decode(&leaf)
    }

    /// The kind.
    pub fn kind(&self) -> Kind {
        self.payload.kind()
    }

    /// The statement as the log takes it: stamped with the operator's receipt time, inside the
    /// leaf and outside what the author signed. Replaces any earlier stamp.
    pub fn received_at(&self, at: Timestamp) -> Result<Statement, StatementError> {
        // The common case, a statement as its author signed it: the member goes in just before
        // `,"sig":` (its place in the sorted canonical form), without encoding the rest again.
        if self.received.is_none() {
            let member = format!(",\"sig\":\"{}\",\"time\":", B64.encode(&self.sig));
            if let Some(pos) = find_last(&self.leaf, &member) {
                let stamp = format!(",\"received\":\"{}\"", format_time(at));
                let mut leaf = Vec::with_capacity(self.leaf.len() + stamp.len());
                leaf.extend_from_slice(self.leaf.get(..pos).unwrap_or_default());
                leaf.extend_from_slice(stamp.as_bytes());
                leaf.extend_from_slice(self.leaf.get(pos..).unwrap_or_default());
                if leaf.len() > STATEMENT_SIZE_MAX {
                    return Err(StatementError::TooLarge(leaf.len()));
                }
                return Ok(Statement {
                    received: Some(at),
                    leaf,
                    ..self.clone()
                });
            }
        }
        let mut env: Envelope = serde_json::from_slice(&self.leaf).map_err(malformed)?;
        env.received = Some(format_time(at));
        let leaf = serde_jcs::to_vec(&env).map_err(malformed)?;
        Statement::decode(&leaf)
    }

    /// The statement as its author signed it, without a receipt time.
    pub fn unreceived(&self) -> Result<Statement, StatementError> {
        let mut env: Envelope = serde_json::from_slice(&self.leaf).map_err(malformed)?;
        env.received = None;
        let leaf = serde_jcs::to_vec(&env).map_err(malformed)?;
        Statement::decode(&leaf)
    }

    /// When the statement counts: the log's receipt time once logged, the author's time before.
    /// Key validity, deadlines, lateness and every "as of" are judged by it.
    pub fn at(&self) -> Timestamp {
        self.received.unwrap_or(self.time)
    }

    /// SHA-256 of the signed bytes: the same statement has the same hash whenever it is
    /// received (a replay has the hash of its original).
    pub fn statement_hash(&self) -> [u8; 32] {
        use sha2::Digest as _;
        sha2::Sha256::digest(&self.signed_bytes).into()
    }

    /// `NAME+keyid` of the signing key.
    pub fn key_ref(&self) -> String {
        format!("{}+{:08x}", self.key_name, self.key_id)
    }

    /// Verifies the signature with a C2SP verifier key.
    pub fn verify_with(&self, vkey: &str) -> Result<(), StatementError> {
        let v = StandardVerifier::new(vkey)
            .map_err(|e| StatementError::Key(format!("malformed verifier key: {e}")))?;
        if v.name() != self.key_name || v.key_id() != self.key_id {
            return Err(StatementError::Key(format!(
                "verifier key {}+{:08x} is not the statement's key {}",
                v.name(),
                v.key_id(),
                self.key_ref()
            )));
        }
        if v.verify(&self.signed_bytes, &self.sig) {
            Ok(())
        } else {
            Err(StatementError::BadSignature(self.key_ref()))
        }
    }

    /// The statement as a JSON value (for display).
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.leaf).unwrap_or(serde_json::Value::Null)
    }
}

#[cfg(test)]
mod tests;

/// One party's keys, as [`genesis`] registers them.
#[allow(missing_debug_implementations)]
pub struct PartyKeys<'a> {
    /// The party's code.
    pub code: &'a str,
    /// Its root key, which signs the registrations.
    pub root: &'a StandardSigner,
    /// The root key's verifier key.
    pub root_vkey: &'a str,
    /// Its signing key's verifier key.
    pub signing_vkey: &'a str,
}

/// The first entries of a log: the operator's `log.init` (pinning the compact's id and the
/// operator's key), then for each party its root key (self-signed) and its signing key (signed
/// by the root), all made at `time`.
pub fn genesis(
    compact: &str,
    operator: &StandardSigner,
    operator_vkey: &str,
    parties: &[PartyKeys<'_>],
    time: Timestamp,
) -> Result<Vec<Statement>, StatementError> {
    let draft = |author: &str, payload| Draft {
        compact: compact.to_owned(),
        author: author.to_owned(),
        time,
        payload,
    };
    let mut out = vec![Statement::sign(
        draft(
            compact,
            Payload::LogInit(LogInit {
                operator_key: operator_vkey.to_owned(),
            }),
        ),
        operator,
    )?];
    for p in parties {
        for (key, role) in [(p.root_vkey, Role::Root), (p.signing_vkey, Role::Signing)] {
            out.push(Statement::sign(
                draft(
                    p.code,
                    Payload::KeyRegister(KeyRegister {
                        key: key.to_owned(),
                        role,
                        valid_from: None,
                    }),
                ),
                p.root,
            )?);
        }
    }
    Ok(out)
}
