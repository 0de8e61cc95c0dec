//! What may enter the log: a statement's signature, author and payload checked against the
//! compact and against what the log already holds.
//!
//! The same rules run when a statement is appended ([`Mode::Append`]) and when an auditor
//! replays the log ([`Mode::Audit`]), with one difference: on append, an `agreement.sign` must
//! be for the agreement's *current* digest; on audit, a signature of an earlier text is
//! legitimate history (the agreement's status then says `changed-since-signing`).

use std::collections::BTreeMap;

use compact_model::{Agreement, Amount, Commitment, Compact, OnAccession, digest};
use jiff::civil::Date;
use jiff::tz::TimeZone;

use crate::{Kind, Payload, Statement, StatementError, parse_key_ref};

/// Why a statement is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Refusal(pub String);

impl From<StatementError> for Refusal {
    fn from(e: StatementError) -> Self {
        Refusal(e.to_string())
    }
}

fn refuse<T>(msg: impl Into<String>) -> Result<T, Refusal> {
    Err(Refusal(msg.into()))
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
    /// The agreement signatures so far.
    fn signatures(&self) -> &Signatures;
    /// The accession date, if declared so far.
    fn accession(&self) -> Option<Date>;
    /// Every statement of `kind` that refers to entry `index`.
    fn referring(&self, index: u64, kind: Kind) -> Result<Vec<(u64, Statement)>, String>;
}

/// The few facts every check needs, kept up to date as statements are appended: the
/// agreement signatures and the accession. Small: it grows with the agreements, not the log.
#[derive(Debug, Default, Clone)]
pub struct Facts {
    /// Agreement signatures.
    pub signatures: Signatures,
    /// The accession date.
    pub accession: Option<Date>,
}

impl Facts {
    /// Takes note of statement `index`.
    pub fn note(&mut self, index: u64, st: &Statement) {
        match &st.payload {
            Payload::AgreementSign(s) => {
                self.signatures
                    .entry((s.agreement.clone(), s.version))
                    .or_default()
                    .entry(st.author.clone())
                    .or_insert((index, s.digest.clone()));
            }
            Payload::AccessionDeclare(a) if self.accession.is_none() => self.accession = Some(a.on),
            _ => {}
        }
    }
}

/// A log held in memory: for tests and small tools.
#[derive(Debug, Default, Clone)]
pub struct MemoryLog {
    /// The statements, in log order.
    pub entries: Vec<Statement>,
    /// Facts of those statements.
    pub facts: Facts,
}

impl MemoryLog {
    /// Appends a statement (unchecked).
    pub fn push(&mut self, st: Statement) {
        self.facts.note(self.entries.len() as u64, &st);
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
    fn signatures(&self) -> &Signatures {
        &self.facts.signatures
    }
    fn accession(&self) -> Option<Date> {
        self.facts.accession
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
}

fn view<T>(r: Result<T, String>) -> Result<T, Refusal> {
    r.map_err(|e| Refusal(format!("cannot read the log: {e}")))
}

/// The UTC date of a statement's time.
pub fn date_of(st: &Statement) -> Date {
    st.time.to_zoned_datetime(TimeZone::UTC).date()
}

/// Checks the signature: the author's own key, listed in its party file, valid on the date of
/// the statement's time.
pub fn check_signature(st: &Statement, compact: &Compact) -> Result<(), Refusal> {
    let Some(party) = compact.parties.get(&st.author) else {
        return refuse(format!("unknown author `{}`", st.author));
    };
    if st.key_name != st.author {
        return refuse(format!(
            "statement by `{}` signed with a key of `{}` ({})",
            st.author,
            st.key_name,
            st.key_ref()
        ));
    }
    let on = date_of(st);
    let listed = party.keys.iter().find(|k| {
        // `name+keyid+base64`: the base64 may itself hold '+', so split from the left.
        let mut parts = k.key.splitn(3, '+');
        let head = format!(
            "{}+{}",
            parts.next().unwrap_or(""),
            parts.next().unwrap_or("")
        );
        parse_key_ref(&head).is_ok_and(|(name, id)| name == st.key_name && id == st.key_id)
    });
    let Some(key) = listed else {
        return refuse(format!(
            "key {} is not a key of `{}` (see parties/{}.toml)",
            st.key_ref(),
            st.author,
            st.author
        ));
    };
    if let Some(from) = key.valid_from
        && on < from
    {
        return refuse(format!(
            "key {} is valid from {from}, the statement is of {on}",
            st.key_ref()
        ));
    }
    if let Some(retired) = key.retired_on
        && on >= retired
    {
        return refuse(format!(
            "key {} was retired on {retired}; the statement is of {on}",
            st.key_ref()
        ));
    }
    st.verify_with(&key.key)?;
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

/// Whether agreement `a` is in force on `date`, given the signatures and accession so far.
pub fn in_force(
    a: &Agreement,
    date: Date,
    sigs: &Signatures,
    accession: Option<Date>,
) -> Result<(), String> {
    if agreed_digest(a, sigs).is_none() {
        return Err(format!(
            "agreement `{}` version {} is not signed by both parties",
            a.id, a.version
        ));
    }
    if date < a.in_force_from || date > a.ends_on {
        return Err(format!(
            "agreement `{}` is not in force on {date} (in force {} to {})",
            a.id, a.in_force_from, a.ends_on
        ));
    }
    if let Some(acc) = accession
        && a.on_accession == OnAccession::End
        && date >= acc
    {
        return Err(format!(
            "agreement `{}` ended on the beneficiary's accession on {acc}",
            a.id
        ));
    }
    Ok(())
}

fn amount(text: &str, compact: &Compact) -> Result<Amount, Refusal> {
    let a = Amount::parse(text).map_err(|e| Refusal(e.to_string()))?;
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
        return refuse(format!(
            "commitment `{id}` is `{}`'s, not `{}`'s: a guarantor reports only on its own commitments",
            a.guarantor, st.author
        ));
    }
    Ok((a, c))
}

fn require_beneficiary(st: &Statement, compact: &Compact) -> Result<(), Refusal> {
    if st.author != compact.beneficiary {
        return refuse(format!(
            "only the beneficiary `{}` may make a {} statement, not `{}`",
            compact.beneficiary,
            st.kind().as_str(),
            st.author
        ));
    }
    Ok(())
}

fn require_guarantor(st: &Statement, compact: &Compact) -> Result<(), Refusal> {
    if compact.group_of(&st.author).is_none() {
        return refuse(format!(
            "only a guarantor may make a {} statement, not `{}`",
            st.kind().as_str(),
            st.author
        ));
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

/// Checks a statement in full: signature, author, payload, against the compact and the log.
pub fn check(
    st: &Statement,
    compact: &Compact,
    log: &dyn LedgerView,
    mode: Mode,
) -> Result<(), Refusal> {
    check_signature(st, compact)?;
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
        return refuse(format!(
            "statement for compact `{}`, this log is `{}`",
            st.compact, compact.id
        ));
    }
    not_before_compact(date_of(st), compact)?;
    match &st.payload {
        Payload::AgreementSign(s) => {
            let Some(a) = compact.agreement(&s.agreement, Some(s.version)) else {
                return refuse(format!(
                    "unknown agreement `{}` version {}",
                    s.agreement, s.version
                ));
            };
            if st.author != a.guarantor && st.author != a.beneficiary {
                return refuse(format!(
                    "`{}` is not a party to agreement `{}`",
                    st.author, a.id
                ));
            }
            if mode == Mode::Append {
                let current = digest(a).map_err(|e| Refusal(e.to_string()))?;
                if s.digest != current {
                    return refuse(format!(
                        "digest {} is not the current digest of `{}` version {} ({current})",
                        s.digest, a.id, a.version
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
            let (ag, c) = owned_commitment(compact, st, &p.commitment, p.date)?;
            matches_commitment(&amount(&p.amount, compact)?, c)?;
            in_force(ag, p.date, log.signatures(), log.accession()).map_err(Refusal)
        }
        Payload::DeliveryReport(p) => {
            let (ag, c) = owned_commitment(compact, st, &p.commitment, p.date)?;
            matches_commitment(&amount(&p.amount, compact)?, c)?;
            in_force(ag, p.date, log.signatures(), log.accession()).map_err(Refusal)?;
            if let Some(index) = p.allocation {
                match view(log.entry(index))? {
                    Some(e) => match &e.payload {
                        Payload::Allocation(al) if al.commitment == p.commitment => {}
                        _ => {
                            return refuse(format!(
                                "entry {index} is not an allocation to commitment `{}`",
                                p.commitment
                            ));
                        }
                    },
                    None => return refuse(format!("no entry {index} in the log")),
                }
            }
            Ok(())
        }
        Payload::DeliveryConfirm(p) => {
            require_beneficiary(st, compact)?;
            let Some(report) = view(log.entry(p.report))? else {
                return refuse(format!("no entry {} in the log", p.report));
            };
            let Payload::DeliveryReport(r) = &report.payload else {
                return refuse(format!(
                    "entry {} is a {}, not a delivery.report",
                    p.report,
                    report.kind().as_str()
                ));
            };
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
            for (_, earlier) in view(log.referring(p.report, Kind::DeliveryConfirm))? {
                if total > reported.number() {
                    return refuse(over(total));
                }
                if let Payload::DeliveryConfirm(e) = &earlier.payload {
                    let part = match &e.amount {
                        Some(t) => amount(t, compact)?.number(),
                        None => reported.number(),
                    };
                    total = compact_model::amount::add_exact(total, part).ok_or_else(|| {
                        Refusal(format!(
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
                    return refuse(format!(
                        "entry {} is a {}, not an activation (attack.declare or threat.level)",
                        r.activation,
                        e.kind().as_str()
                    ));
                }
                None => return refuse(format!("no activation at entry {}", r.activation)),
            };
            if let Some(acc) = log.accession()
                && date_of(st) >= acc
            {
                return refuse(format!(
                    "activation {} is closed: the compact ended on the beneficiary's accession on {acc}",
                    r.activation
                ));
            }
            let asked = crate::activation::asked(
                compact,
                r.activation,
                &activation,
                log.signatures(),
                log.accession(),
            );
            if asked.is_empty() {
                return refuse(format!(
                    "entry {} asks no guarantor to consult: there is nothing to answer",
                    r.activation
                ));
            }
            if !asked.iter().any(|a| a.guarantor == st.author) {
                return refuse(format!(
                    "`{}` was not asked by activation {}: asked were {}",
                    st.author,
                    r.activation,
                    asked
                        .iter()
                        .map(|a| a.guarantor.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
            if st.time < activation.time {
                return refuse(format!(
                    "a response at {} precedes activation {} at {}",
                    crate::format_time(st.time),
                    r.activation,
                    crate::format_time(activation.time)
                ));
            }
            let answers = view(log.referring(r.activation, Kind::ConsultationRespond))?;
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
    /// One party signed.
    SignedByOne,
    /// Both signed the current text and it is within its period.
    InForce,
    /// Both signed; the date is before it enters into force.
    NotYetInForce,
    /// Past its end.
    Expired,
    /// Ended on the beneficiary's accession.
    EndedByAccession,
    /// The file no longer matches what was signed.
    ChangedSinceSigning,
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
        }
    }
}

/// The status of agreement version `a` on `today`.
pub fn status(
    a: &Agreement,
    current_digest: &str,
    sigs: &Signatures,
    accession: Option<Date>,
    today: Date,
) -> Status {
    let by = sigs.get(&(a.id.clone(), a.version));
    let n = by.map_or(0, |b| b.len());
    if n == 0 {
        return Status::Draft;
    }
    if by.is_some_and(|b| b.values().any(|(_, d)| d != current_digest)) {
        return Status::ChangedSinceSigning;
    }
    if agreed_digest(a, sigs).is_none() {
        return Status::SignedByOne;
    }
    if let Some(acc) = accession
        && a.on_accession == OnAccession::End
        && today >= acc
    {
        return Status::EndedByAccession;
    }
    if today > a.ends_on {
        Status::Expired
    } else if today < a.in_force_from {
        Status::NotYetInForce
    } else {
        Status::InForce
    }
}
