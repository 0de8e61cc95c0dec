//! The obligation engine: for any date, per commitment, what was due, pledged, allocated,
//! reported delivered and confirmed delivered, the arrears and the on-time rate.
//!
//! Input: the compact and the log's statements (already checked by the rules when they were
//! logged), in log order. No IO, no clock: the date is an argument.
//!
//! The pipeline follows the trackers' terms: pledge (announced beyond the schedule),
//! commitment (the schedule), allocation (earmarked), delivery reported, delivery confirmed.
//! Only confirmed deliveries count as delivered. Money is valued in the reporting currency with
//! the rate of its own date (a tranche's due date; a statement's date); physical units are
//! counted in their unit and never added to money or to other units.
//!
//! A statement its author retracted (`statement.retract`) counts until the retraction's
//! receipt, and not from then: the figures as of a date before it are those of the log as it
//! was; after it, as if the entry had never been made ([`Figures::retracted`] lists it).

pub mod activation;
pub mod booking;
pub mod burden;
pub mod reconcile;
pub mod report;

use std::collections::BTreeMap;

pub use compact_model::summary::cents;
use compact_model::value::{ValueError, value};
use compact_model::{Agreement, Amount, Commitment, Compact, OnAccession};
use compact_statement::{DeliveryReport, Payload, Said};
use jiff::civil::Date;
use rayon::prelude::*;
use rust_decimal::Decimal;
use rustc_hash::FxHashMap;
use serde::Serialize;

/// Why figures could not be computed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EngineError {
    /// A value needs a rate or a GDP figure the compact does not have.
    #[error("commitment `{commitment}`: {source}")]
    Value {
        /// The commitment concerned.
        commitment: String,
        /// What is missing.
        source: ValueError,
    },
    /// The date is before the compact.
    #[error("{0} is before the compact was adopted on {1}")]
    BeforeCompact(Date, Date),
    /// No GDP year that every participant has, up to the year.
    #[error("no GDP for {0} or an earlier year that every guarantor with GDP figures has")]
    NoGdpVintage(i16),
}

/// What a commitment is counted in.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case", tag = "kind", content = "unit")]
pub enum Measure {
    /// Money, in the reporting currency.
    Money,
    /// A physical unit.
    Units(String),
}

/// Where a commitment stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// Nothing due is unconfirmed.
    OnTrack,
    /// Something due is not confirmed.
    Behind,
    /// Everything scheduled is confirmed.
    Fulfilled,
    /// The agreement has ended (expired, or on accession).
    Ended,
}

/// When and why a commitment ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Ended {
    /// The day.
    pub on: Date,
    /// `accession` (its clause ends it on the beneficiary's accession) or `expired`.
    pub reason: &'static str,
}

/// The figures of one commitment at a date.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Figures {
    /// Commitment id.
    pub commitment: String,
    /// Agreement id.
    pub agreement: String,
    /// Guarantor code.
    pub guarantor: String,
    /// Pillar id.
    pub pillar: String,
    /// Money or a unit.
    pub measure: Measure,
    /// Scheduled in all, over the whole schedule.
    pub scheduled: Decimal,
    /// Scheduled with a due date on or before the date (the baseline, as the agreement
    /// schedules it).
    pub due: Decimal,
    /// Due on or before the date because of an activation: surges from scaling rules, and
    /// sanctions tranches brought forward (until their scheduled date, when they are part of
    /// `due`). Apart from the baseline.
    pub surge: Decimal,
    /// Pledged beyond the schedule (pledges naming the commitment).
    pub pledged: Decimal,
    /// Earmarked (allocations).
    pub allocated: Decimal,
    /// Reported delivered by the guarantor.
    pub reported: Decimal,
    /// Confirmed delivered by the beneficiary: what counts as delivered.
    pub confirmed: Decimal,
    /// Due minus confirmed, never below zero.
    pub arrears: Decimal,
    /// Confirmed value that arrived by the due date of the tranche it fills.
    pub on_time: Decimal,
    /// `on_time / confirmed`, when anything is confirmed.
    pub on_time_rate: Option<Decimal>,
    /// Where it stands.
    pub status: Status,
    /// When and why it ended, if it has.
    pub ended: Option<Ended>,
    /// True when the commitment, or a figure it is valued with, is not from a source.
    pub synthetic: bool,
    /// Which of the figures rest on synthetic data: the schedule (`due`, `surge`, `arrears`)
    /// when the commitment, its agreement or a rate or GDP figure valuing it is synthetic; the
    /// steps (`allocated`, `reported`, `confirmed`, and `arrears` and `on_time` with the
    /// confirmations) when a statement behind them is generated (its `reference` starts with
    /// [`SYNTHETIC_REFERENCE`]; a confirmation is generated when the report it confirms is) or
    /// valued with a synthetic rate.
    pub marks: Marks,
    /// The same figures attributed to years: due and arrears to the year a tranche falls
    /// due, the rest to the year of the statement's date (a delivery's, for confirmations).
    pub years: BTreeMap<i16, YearFigures>,
    /// The log entries behind the figures, in order.
    pub entries: Vec<u64>,
    /// The entries that would count toward the figures but were retracted on or before the
    /// date, in log order, each with its retraction.
    pub retracted: Vec<Retracted>,
}

/// A statement retracted by its author: it counts no more from the retraction's receipt.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Retracted {
    /// The entry retracted.
    pub entry: u64,
    /// The `statement.retract` entry (for a confirmation whose report was retracted, the
    /// report's retraction).
    pub by: u64,
}

/// A commitment's figures in one year. Summed over the years they give the commitment's.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct YearFigures {
    /// Due in the year (on or before the date).
    pub due: Decimal,
    /// Due in the year because of an activation (see [`Figures::surge`]).
    pub surge: Decimal,
    /// Pledged in the year.
    pub pledged: Decimal,
    /// Allocated in the year.
    pub allocated: Decimal,
    /// Reported delivered in the year.
    pub reported: Decimal,
    /// Confirmed, delivered in the year.
    pub confirmed: Decimal,
    /// What falls due in the year and is not confirmed (deliveries fill tranches earliest first).
    pub arrears: Decimal,
    /// Confirmed, delivered in the year, on time.
    pub on_time: Decimal,
}

/// A statement whose `reference` starts with this is generated, not from a source (the demo's
/// synthetic deliveries): every figure it enters is marked synthetic.
pub const SYNTHETIC_REFERENCE: &str = "synthetic/";

/// Which figures of a commitment (or of a row of them) rest on synthetic data.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Marks {
    /// Due (the schedule).
    pub due: bool,
    /// Surge obligations.
    pub surge: bool,
    /// Allocations.
    pub allocated: bool,
    /// Reported deliveries.
    pub reported: bool,
    /// Confirmed deliveries.
    pub confirmed: bool,
    /// Arrears (due minus confirmed).
    pub arrears: bool,
    /// The on-time rate.
    pub on_time: bool,
}

impl Marks {
    /// Either's marks.
    pub fn or(self, o: Marks) -> Marks {
        Marks {
            due: self.due || o.due,
            surge: self.surge || o.surge,
            allocated: self.allocated || o.allocated,
            reported: self.reported || o.reported,
            confirmed: self.confirmed || o.confirmed,
            arrears: self.arrears || o.arrears,
            on_time: self.on_time || o.on_time,
        }
    }

    /// The names of the marked figures, in column order.
    pub fn names(&self) -> Vec<&'static str> {
        [
            ("due", self.due),
            ("surge", self.surge),
            ("allocated", self.allocated),
            ("reported", self.reported),
            ("confirmed", self.confirmed),
            ("arrears", self.arrears),
            ("on_time_rate", self.on_time),
        ]
        .into_iter()
        .filter_map(|(n, m)| m.then_some(n))
        .collect()
    }

    /// Whether any figure is marked.
    pub fn any(&self) -> bool {
        !self.names().is_empty()
    }
}

/// One dated quantity in the commitment's measure.
#[derive(Clone, Copy, Debug)]
struct Dated {
    date: Date,
    quantity: Decimal,
}

fn measure_of(c: &Commitment) -> Measure {
    match c.schedule.tranches().first().map(|t| &t.amount) {
        Some(Amount::Units { unit, .. }) => Measure::Units(unit.clone()),
        _ => Measure::Money,
    }
}

/// The quantity of `amount` in the commitment's measure, valued on `on` for money.
fn quantity(
    compact: &Compact,
    guarantor: &str,
    commitment: &str,
    amount: &Amount,
    on: Date,
    synthetic: &mut bool,
) -> Result<Decimal, EngineError> {
    match amount {
        Amount::Units { quantity, .. } => Ok(*quantity),
        _ => {
            let v = value(compact, guarantor, amount, on).map_err(|source| EngineError::Value {
                commitment: commitment.to_owned(),
                source,
            })?;
            *synthetic |= v.synthetic;
            Ok(v.value)
        }
    }
}

/// The quantity of tranche `t` of commitment `c` (of agreement `a`), valued on its due date.
pub(crate) fn tranche_quantity(
    compact: &Compact,
    a: &Agreement,
    c: &Commitment,
    t: &compact_model::Tranche,
    synthetic: &mut bool,
) -> Result<Decimal, EngineError> {
    quantity(compact, &a.guarantor, &c.id, &t.amount, t.due, synthetic)
}

/// A sum that saturates instead of overflowing. Amounts are at most 1e18 and rates bounded,
/// so only a log of millions of absurd statements could reach the limit; a report then shows
/// the limit rather than failing.
fn total(values: impl Iterator<Item = Decimal>) -> Decimal {
    values.fold(Decimal::ZERO, Decimal::saturating_add)
}

/// Adds each dated quantity to `field` of its year.
fn years_add(
    list: &[Dated],
    field: fn(&mut YearFigures) -> &mut Decimal,
    years: &mut BTreeMap<i16, YearFigures>,
) {
    for x in list {
        let f = field(years.entry(x.date.year()).or_default());
        *f = f.saturating_add(x.quantity);
    }
}

/// Each commitment id's versions (agreement version, commitment), earliest first: the index
/// behind [`compact_statement::rules::commitment`], built once per report instead of a scan
/// of every agreement per statement.
struct Versions<'a>(FxHashMap<&'a str, Vec<(&'a Agreement, &'a Commitment)>>);

impl<'a> Versions<'a> {
    fn of(compact: &'a Compact) -> Versions<'a> {
        let mut map: FxHashMap<&str, Vec<(&Agreement, &Commitment)>> = FxHashMap::default();
        for a in &compact.agreements {
            for c in &a.commitments {
                map.entry(c.id.as_str()).or_default().push((a, c));
            }
        }
        for list in map.values_mut() {
            list.sort_by_key(|(a, _)| a.version);
        }
        Versions(map)
    }

    /// The versions of commitment `id`, earliest first.
    fn of_id(&self, id: &str) -> &[(&'a Agreement, &'a Commitment)] {
        self.0.get(id).map_or(&[], Vec::as_slice)
    }

    /// The same answer as [`compact_statement::rules::commitment`], from the versions of one
    /// id.
    fn pick(
        found: &[(&'a Agreement, &'a Commitment)],
        date: Date,
    ) -> Option<(&'a Agreement, &'a Commitment)> {
        found
            .iter()
            .find(|(a, _)| a.in_force_from <= date && date <= a.ends_on)
            .or_else(|| found.last())
            .copied()
    }
}

/// Whether agreement `a` has ended by `as_of`, given an accession date.
/// Files each statement of `chunk` under the commitment it concerns, with its step, the date
/// it counts on and its value: done in log order, on every core, so that the statements are
/// read where they lie in memory, once; the per-commitment pass then reads only these records.
fn file<'s, T: Said>(
    compact: &Compact,
    chunk: &'s [(u64, T)],
    report_at: &(dyn Fn(u64) -> Option<(&'s DeliveryReport, jiff::Timestamp)> + Sync),
) -> FxHashMap<&'s str, Vec<Filed>> {
    let mut map: FxHashMap<&str, Vec<Filed>> = FxHashMap::default();
    for (index, st) in chunk {
        let generated = |reference: &str| reference.starts_with(SYNTHETIC_REFERENCE);
        let mut at = st.at();
        let mut report = None;
        let (id, step, date, amount, generated) = match st.payload() {
            Payload::Pledge(p) => match &p.commitment {
                Some(id) => (id.as_str(), Step::Pledge, p.date, p.amount.as_str(), false),
                None => continue,
            },
            Payload::Allocation(p) => (
                p.commitment.as_str(),
                Step::Allocation,
                p.date,
                &*p.amount,
                generated(&p.reference),
            ),
            Payload::DeliveryReport(p) => (
                p.commitment.as_str(),
                Step::Report,
                p.date,
                &*p.amount,
                generated(&p.reference),
            ),
            // A confirmation counts on the delivery date: the day the value changed hands;
            // and only once its report, too, is visible.
            Payload::DeliveryConfirm(p) => match report_at(p.report) {
                Some((r, reported_at)) => {
                    at = at.max(reported_at);
                    report = Some(p.report);
                    (
                        r.commitment.as_str(),
                        Step::Confirm,
                        r.date,
                        p.amount.as_deref().unwrap_or(&r.amount),
                        generated(&r.reference),
                    )
                }
                None => continue,
            },
            _ => continue,
        };
        // The rules admit only money and units in statements; anything else counts nothing.
        let value = match Amount::parse(amount) {
            Ok(Amount::Units { quantity, .. }) => Ok((quantity, false)),
            Ok(am @ Amount::Money { .. }) => compact_model::value::value(compact, "", &am, date)
                .map(|v| (v.value, v.synthetic))
                .map_err(Box::new),
            _ => Ok((Decimal::ZERO, false)),
        };
        map.entry(id).or_default().push(Filed {
            index: *index,
            report,
            at,
            step,
            date,
            value,
            generated,
        });
    }
    map
}

/// Whether a statement concerns no commitment's figures directly: what governs them (the
/// agreements' lifecycle, accession, activations and their answers, keys, retractions).
fn governs(payload: &Payload) -> bool {
    !matches!(
        payload,
        Payload::Pledge(_)
            | Payload::Allocation(_)
            | Payload::DeliveryReport(_)
            | Payload::DeliveryConfirm(_)
    )
}

/// The log filed for the figures, once: each statement that counts toward a commitment under
/// it, its amount valued, with the moment it becomes visible; the positions of the statements
/// that govern the figures. Extended as the log grows ([`Filing::update`]), it answers
/// [`Filing::figures`] on any date without going over the log again: a server keeps one.
///
/// A filing belongs to one log and one compact's rates: `update` and `figures` are given the
/// same statements each time, grown at the end.
#[derive(Default)]
pub struct Filing {
    /// How many statements of the log were filed.
    filed: usize,
    /// The index of the last statement filed.
    last: Option<u64>,
    /// The statements filed under each commitment id, in log order (in chunks as filed).
    by_commitment: FxHashMap<String, Vec<Vec<Filed>>>,
    /// The positions, in the log, of the statements that govern the figures.
    governing: Vec<usize>,
}

impl std::fmt::Debug for Filing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Filing")
            .field("filed", &self.filed)
            .field("commitments", &self.by_commitment.len())
            .field("governing", &self.governing.len())
            .finish()
    }
}

impl Filing {
    /// An empty filing.
    pub fn new() -> Filing {
        Filing::default()
    }

    /// How many statements of the log it holds.
    pub fn len(&self) -> usize {
        self.filed
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.filed == 0
    }

    /// Files the statements of `log` beyond those filed before: `log` is the log it was
    /// updated with before, grown at the end. A log that does not continue the one filed is
    /// filed again from its start.
    pub fn update<T: Said + Sync>(&mut self, compact: &Compact, log: &[(u64, T)]) {
        let continues = match (self.filed.checked_sub(1), self.last) {
            (Some(i), Some(last)) => log.get(i).is_some_and(|(index, _)| *index == last),
            _ => self.filed == 0,
        };
        if !continues || log.len() < self.filed {
            *self = Filing::default();
        }
        let Some(fresh) = log.get(self.filed..).filter(|f| !f.is_empty()) else {
            return;
        };
        let first = log.first().map_or(0, |(i, _)| *i);
        // The delivery report at a log index: directly at its position in a dense log, else
        // by a binary search.
        let report_at = |index: u64| -> Option<(&DeliveryReport, jiff::Timestamp)> {
            let dense = index
                .checked_sub(first)
                .and_then(|p| usize::try_from(p).ok())
                .and_then(|p| log.get(p))
                .filter(|(i, _)| *i == index);
            let found = dense.or_else(|| {
                log.binary_search_by_key(&index, |(i, _)| *i)
                    .ok()
                    .and_then(|p| log.get(p))
            })?;
            match found.1.payload() {
                Payload::DeliveryReport(r) => Some((r, found.1.at())),
                _ => None,
            }
        };
        // Filed in chunks on every core, kept in log order.
        let chunk = fresh
            .len()
            .div_ceil(rayon::current_num_threads().max(1))
            .max(4096);
        let parts: Vec<FxHashMap<&str, Vec<Filed>>> = fresh
            .par_chunks(chunk)
            .map(|c| file(compact, c, &report_at))
            .collect();
        for part in parts {
            for (id, filed) in part {
                match self.by_commitment.get_mut(id) {
                    Some(lists) => lists.push(filed),
                    None => {
                        self.by_commitment.insert(id.to_owned(), vec![filed]);
                    }
                }
            }
        }
        let start = self.filed;
        self.governing.extend(
            fresh
                .iter()
                .enumerate()
                .filter(|(_, (_, st))| governs(st.payload()))
                .map(|(p, _)| start + p),
        );
        self.filed = log.len();
        self.last = log.last().map(|(i, _)| *i);
    }

    /// The figures of every commitment (of each agreement's latest version) on `as_of`, from
    /// the statements of `log` made on or before that date: `log` is the log it was updated
    /// with, or its beginning (the figures of the log at an earlier size).
    pub fn figures<T: Said + Sync>(
        &self,
        compact: &Compact,
        log: &[(u64, T)],
        as_of: Date,
    ) -> Result<Vec<Figures>, EngineError> {
        figures(compact, self, log, as_of)
    }
}

/// What a filed statement is in the pipeline.
#[derive(Clone, Copy, Debug)]
enum Step {
    Pledge,
    Allocation,
    Report,
    Confirm,
}

/// A statement filed under a commitment.
struct Filed {
    index: u64,
    /// A confirmation's report.
    report: Option<u64>,
    /// When it becomes visible: when it counts (a confirmation: when it and its report do).
    at: jiff::Timestamp,
    step: Step,
    /// The date it counts on (a confirmation's: its report's delivery date).
    date: Date,
    /// Its quantity in the commitment's measure, and whether a synthetic rate valued it.
    value: Result<(Decimal, bool), Box<ValueError>>,
    /// Whether the statement is generated (see [`SYNTHETIC_REFERENCE`]).
    generated: bool,
}

/// Whether commitment `c` of agreement `a` has ended by `as_of`, given an accession date:
/// on accession when the commitment's clause (by default its agreement's) says it ends then,
/// or past the agreement's end; whichever came first.
fn ended(
    a: &Agreement,
    c: &Commitment,
    as_of: Date,
    accession: Option<Date>,
    terminated: Option<Date>,
) -> Option<Ended> {
    let on_accession = accession
        .filter(|d| c.on_accession == OnAccession::End && as_of >= *d)
        .map(|on| Ended {
            on,
            reason: "accession",
        });
    let expired = (as_of > a.ends_on).then_some(Ended {
        on: a.ends_on,
        reason: "expired",
    });
    let terminated = terminated.filter(|d| as_of >= *d).map(|on| Ended {
        on,
        reason: "terminated",
    });
    [on_accession, expired, terminated]
        .into_iter()
        .flatten()
        .min_by_key(|e| e.on)
}

/// The day agreement `a` stops holding after a notice of termination received on `notice`:
/// the notice date plus the agreement's notice period (assumed where its text states none).
fn terminated_on(a: &Agreement, notice: Option<Date>) -> Option<Date> {
    let months = a.notice_months().0;
    notice?
        .checked_add(jiff::Span::new().months(i64::from(months)))
        .ok()
}

/// The figures of every commitment (of each agreement's latest version) on `as_of`, from the
/// statements made on or before that date.
/// The statements may be read from their leaves or from the store's projection
/// ([`compact_statement::Record`]): the figures depend only on what they say.
pub fn fulfilment<T: Said + Sync>(
    compact: &Compact,
    statements: &[(u64, T)],
    as_of: Date,
) -> Result<Vec<Figures>, EngineError> {
    if as_of < compact.adopted_on {
        return Err(EngineError::BeforeCompact(as_of, compact.adopted_on));
    }
    let mut filing = Filing::new();
    filing.update(compact, statements);
    filing.figures(compact, statements, as_of)
}

/// [`Filing::figures`].
fn figures<T: Said + Sync>(
    compact: &Compact,
    filing: &Filing,
    log: &[(u64, T)],
    as_of: Date,
) -> Result<Vec<Figures>, EngineError> {
    if as_of < compact.adopted_on {
        return Err(EngineError::BeforeCompact(as_of, compact.adopted_on));
    }
    // Made on or before `as_of` (UTC): before midnight UTC at its end. One comparison of
    // instants per statement instead of a conversion to a civil date.
    let cutoff = as_of
        .tomorrow()
        .ok()
        .and_then(|d| d.to_zoned_datetime(jiff::tz::TimeZone::UTC).ok())
        .map(|z| z.timestamp());
    let visible_at = |at: jiff::Timestamp| cutoff.is_none_or(|c| at < c);
    // The statements of `log` (which may end before what was filed) that are visible.
    let bound = log.last().map(|(i, _)| *i);
    let shown = |f: &Filed| bound.is_some_and(|b| f.index <= b) && visible_at(f.at);
    let visible: Vec<&(u64, T)> = filing
        .governing
        .iter()
        .filter_map(|p| log.get(*p))
        .filter(|(_, st)| visible_at(st.at()))
        .collect();
    // The retractions made on or before `as_of`: each retracted entry to its retraction. A
    // retracted statement counts as if it had not been made; before its retraction, as made.
    let retracted: FxHashMap<u64, u64> = visible
        .iter()
        .filter_map(|(i, st)| match st.payload() {
            Payload::Retract(r) => Some((r.entry, *i)),
            _ => None,
        })
        .collect();
    let visible: Vec<&(u64, T)> = visible
        .into_iter()
        .filter(|(i, _)| !retracted.contains_key(i))
        .collect();
    let accession = visible.iter().find_map(|(_, st)| match st.payload() {
        Payload::AccessionDeclare(a) if a.on <= as_of => Some(a.on),
        _ => None,
    });
    // Notices of termination: the receipt date of the first notice given for each agreement.
    let mut notices: FxHashMap<&str, Date> = FxHashMap::default();
    for (_, st) in &visible {
        if let Payload::AgreementTerminate(l) = st.payload() {
            notices
                .entry(l.agreement.as_str())
                .or_insert_with(|| compact_statement::rules::date_of(st));
        }
    }
    let versions = Versions::of(compact);
    let surges = activation::surges_by_commitment(compact, &visible)?;

    let one = |a: &Agreement, c: &Commitment| -> Result<Figures, EngineError> {
        {
            let mut synthetic = a.synthetic || c.synthetic;
            let mut marks = Marks::default();
            let measure = measure_of(c);
            let mut tranches = Vec::new();
            for t in c.schedule.tranches() {
                let q = tranche_quantity(compact, a, c, &t, &mut synthetic)?;
                tranches.push(Dated {
                    date: t.due,
                    quantity: q,
                });
            }
            // A commitment that ends on accession schedules nothing from that day on.
            if let Some(acc) = accession.filter(|_| c.on_accession == OnAccession::End) {
                tranches.retain(|t| t.date < acc);
            }
            // Nor does one whose agreement was terminated, from the day the notice has run.
            let terminated = terminated_on(a, notices.get(a.id.as_str()).copied());
            if let Some(end) = terminated {
                tranches.retain(|t| t.date < end);
            }
            let due = total(
                tranches
                    .iter()
                    .filter(|t| t.date <= as_of)
                    .map(|t| t.quantity),
            );
            let due_tranches: Vec<Dated> = tranches
                .iter()
                .copied()
                .filter(|t| t.date <= as_of)
                .collect();
            // What deliveries fill: the baseline with the tranches brought forward at their
            // new date, and the surges.
            let mut fill = tranches.clone();
            let mut surge_due: Vec<Dated> = Vec::new();
            let mut surge_total = Decimal::ZERO;
            let ends_on_accession = accession.filter(|_| c.on_accession == OnAccession::End);
            for s in surges.get(c.id.as_str()).into_iter().flatten() {
                // An ended commitment owes no surge falling due from its end.
                if s.agreement != a.id
                    || ends_on_accession.is_some_and(|acc| s.due >= acc)
                    || terminated.is_some_and(|end| s.due >= end)
                {
                    continue;
                }
                let at = Dated {
                    date: s.due,
                    quantity: s.amount,
                };
                match s.kind {
                    activation::SurgeKind::Scaling { .. } => {
                        fill.push(at);
                        surge_total = surge_total.saturating_add(s.amount);
                        if s.due <= as_of {
                            surge_due.push(at);
                        }
                    }
                    // Brought forward until its own date has come; from then on it is
                    // baseline again, due (and in arrears) in its own year. The tranche of
                    // the version that schedules the figures, whatever its amount now.
                    activation::SurgeKind::SnapBack { scheduled_for } if as_of < scheduled_for => {
                        if let Some(t) = fill.iter_mut().find(|t| t.date == scheduled_for) {
                            t.date = s.due;
                            if s.due <= as_of {
                                surge_due.push(Dated {
                                    date: s.due,
                                    quantity: t.quantity,
                                });
                            }
                        }
                    }
                    activation::SurgeKind::SnapBack { .. } => {}
                }
            }
            // The schedule rests on synthetic data when the commitment, its agreement or a
            // figure valuing its tranches is synthetic.
            marks.due = synthetic;
            marks.surge = synthetic;
            let scheduled = total(tranches.iter().map(|t| t.quantity)).saturating_add(surge_total);
            let surge = total(surge_due.iter().map(|t| t.quantity));
            let (mut pledged, mut allocated, mut reported) = (Vec::new(), Vec::new(), Vec::new());
            let mut confirmed: Vec<Dated> = Vec::new();
            let mut entries = Vec::new();
            let mut retracted_here = Vec::new();
            // Every statement filed here names this commitment's id: which version it counts
            // for depends only on its date.
            let versions_of_id = versions.of_id(&c.id);
            let mine = |date: Date| {
                Versions::pick(versions_of_id, date)
                    .is_some_and(|(ag, cm)| ag.id == a.id && cm.id == c.id)
            };
            // Its statements in log order: its list in each chunk, chunk after chunk (not
            // copied into one list).
            let filed = filing.by_commitment.get(c.id.as_str());
            for f in filed.into_iter().flatten().flatten() {
                if !shown(f) || !mine(f.date) {
                    continue;
                }
                // Retracted, or a confirmation of a retracted report (most logs retract
                // nothing: no lookup then).
                if !retracted.is_empty()
                    && let Some(by) = retracted
                        .get(&f.index)
                        .or_else(|| f.report.and_then(|r| retracted.get(&r)))
                {
                    retracted_here.push(Retracted {
                        entry: f.index,
                        by: *by,
                    });
                    continue;
                }
                let (quantity, synth) = f.value.clone().map_err(|source| EngineError::Value {
                    commitment: c.id.clone(),
                    source: *source,
                })?;
                synthetic |= synth;
                let generated = synth || f.generated;
                let list = match f.step {
                    Step::Pledge => &mut pledged,
                    Step::Allocation => {
                        marks.allocated |= generated;
                        &mut allocated
                    }
                    Step::Report => {
                        marks.reported |= generated;
                        &mut reported
                    }
                    Step::Confirm => {
                        marks.confirmed |= generated;
                        &mut confirmed
                    }
                };
                list.push(Dated {
                    date: f.date,
                    quantity,
                });
                entries.push(f.index);
            }
            let sum = |v: &[Dated]| total(v.iter().map(|d| d.quantity));
            let confirmed_total = sum(&confirmed);
            let on_time_parts = on_time(&fill, &confirmed);
            let on_time = total(on_time_parts.iter().map(|d| d.quantity));
            let arrears = (due.saturating_add(surge) - confirmed_total).max(Decimal::ZERO);
            let mut years: BTreeMap<i16, YearFigures> = BTreeMap::new();
            years_add(&due_tranches, |y| &mut y.due, &mut years);
            years_add(&surge_due, |y| &mut y.surge, &mut years);
            years_add(&pledged, |y| &mut y.pledged, &mut years);
            years_add(&allocated, |y| &mut y.allocated, &mut years);
            years_add(&reported, |y| &mut y.reported, &mut years);
            years_add(&confirmed, |y| &mut y.confirmed, &mut years);
            years_add(&on_time_parts, |y| &mut y.on_time, &mut years);
            // Arrears by the year they fall due: deliveries fill tranches earliest first.
            let mut sorted = fill;
            sorted.sort_by_key(|t| t.date);
            let mut left = confirmed_total;
            let mut unfilled = Vec::new();
            for t in sorted {
                let fill = left.min(t.quantity);
                left -= fill;
                if t.date <= as_of && t.quantity > fill {
                    unfilled.push(Dated {
                        date: t.date,
                        quantity: t.quantity - fill,
                    });
                }
            }
            years_add(&unfilled, |y| &mut y.arrears, &mut years);
            let (pledged, allocated, reported) = (sum(&pledged), sum(&allocated), sum(&reported));
            let ended = ended(a, c, as_of, accession, terminated);
            marks.arrears = marks.due || marks.confirmed;
            marks.on_time = marks.due || marks.confirmed;
            synthetic |= marks.any();
            let status = if ended.is_some() {
                Status::Ended
            } else if confirmed_total >= scheduled {
                Status::Fulfilled
            } else if arrears > Decimal::ZERO {
                Status::Behind
            } else {
                Status::OnTrack
            };
            Ok(Figures {
                commitment: c.id.clone(),
                agreement: a.id.clone(),
                guarantor: a.guarantor.clone(),
                pillar: c.pillar.clone(),
                measure,
                scheduled,
                due,
                surge,
                pledged,
                allocated,
                reported,
                confirmed: confirmed_total,
                arrears,
                on_time,
                on_time_rate: (!confirmed_total.is_zero()).then(|| on_time / confirmed_total),
                status,
                ended,
                synthetic,
                marks,
                years,
                entries,
                retracted: retracted_here,
            })
        }
    };
    // Each commitment's figures are independent of the others': computed on every core, in
    // the order of the agreements and their commitments.
    let pairs: Vec<(&Agreement, &Commitment)> = compact
        .latest_agreements()
        .flat_map(|a| a.commitments.iter().map(move |c| (a, c)))
        .collect();
    // Collected in order before the first error is taken, so that the same input gives the
    // same error whichever core finishes first.
    let results: Vec<Result<Figures, EngineError>> =
        pairs.par_iter().map(|(a, c)| one(a, c)).collect();
    results.into_iter().collect()
}

/// Deliveries, earliest first, fill the tranches, earliest first; what fills a tranche on or
/// before its due date is on time. Deliveries beyond the whole schedule are not on time.
/// Returns the on-time part of each delivery, dated by the delivery.
fn on_time(tranches: &[Dated], deliveries: &[Dated]) -> Vec<Dated> {
    let mut tranches: Vec<Dated> = tranches.to_vec();
    tranches.sort_by_key(|t| t.date);
    let mut deliveries: Vec<Dated> = deliveries.to_vec();
    deliveries.sort_by_key(|d| d.date);
    let mut parts = Vec::new();
    let mut t = 0usize;
    let mut left_in_tranche = tranches.first().map_or(Decimal::ZERO, |x| x.quantity);
    for d in deliveries {
        let mut on_time = Decimal::ZERO;
        let mut left = d.quantity;
        while left > Decimal::ZERO {
            let Some(tranche) = tranches.get(t) else {
                break;
            };
            let part = left.min(left_in_tranche);
            if d.date <= tranche.date {
                on_time = on_time.saturating_add(part);
            }
            left -= part;
            left_in_tranche -= part;
            if left_in_tranche <= Decimal::ZERO {
                t += 1;
                left_in_tranche = tranches.get(t).map_or(Decimal::ZERO, |x| x.quantity);
            }
        }
        parts.push(Dated {
            date: d.date,
            quantity: on_time,
        });
    }
    parts
}

#[cfg(test)]
mod tests;
