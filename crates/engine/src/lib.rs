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

use std::collections::BTreeMap;

use compact_model::value::{ValueError, value};
use compact_model::{Agreement, Amount, Commitment, Compact, OnAccession};
use compact_statement::rules::commitment as commitment_at;
use compact_statement::{Payload, Statement};
use jiff::civil::Date;
use rust_decimal::Decimal;
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
    /// Scheduled with a due date on or before the date.
    pub due: Decimal,
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
    /// True when the commitment, or a figure it is valued with, is not from a source.
    pub synthetic: bool,
    /// The log entries behind the figures, in order.
    pub entries: Vec<u64>,
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

/// Whether agreement `a` has ended by `as_of`, given an accession date.
fn ended(a: &Agreement, as_of: Date, accession: Option<Date>) -> bool {
    as_of > a.ends_on
        || (a.on_accession == OnAccession::End && accession.is_some_and(|d| as_of >= d))
}

/// The figures of every commitment (of each agreement's latest version) on `as_of`, from the
/// statements made on or before that date.
pub fn fulfilment(
    compact: &Compact,
    statements: &[(u64, Statement)],
    as_of: Date,
) -> Result<Vec<Figures>, EngineError> {
    if as_of < compact.adopted_on {
        return Err(EngineError::BeforeCompact(as_of, compact.adopted_on));
    }
    let visible: Vec<&(u64, Statement)> = statements
        .iter()
        .filter(|(_, st)| compact_statement::rules::date_of(st) <= as_of)
        .collect();
    let accession = visible.iter().find_map(|(_, st)| match &st.payload {
        Payload::AccessionDeclare(a) if a.on <= as_of => Some(a.on),
        _ => None,
    });
    let reports: BTreeMap<u64, &Statement> = visible
        .iter()
        .filter(|(_, st)| matches!(st.payload, Payload::DeliveryReport(_)))
        .map(|(i, st)| (*i, st))
        .collect();
    // One pass over the log: each statement filed under the commitment it concerns.
    let mut by_commitment: BTreeMap<&str, Vec<(u64, &Statement)>> = BTreeMap::new();
    for (index, st) in &visible {
        let id = match &st.payload {
            Payload::Pledge(p) => p.commitment.as_deref(),
            Payload::Allocation(p) => Some(p.commitment.as_str()),
            Payload::DeliveryReport(p) => Some(p.commitment.as_str()),
            Payload::DeliveryConfirm(p) => reports.get(&p.report).and_then(|r| match &r.payload {
                Payload::DeliveryReport(r) => Some(r.commitment.as_str()),
                _ => None,
            }),
            _ => None,
        };
        if let Some(id) = id {
            by_commitment.entry(id).or_default().push((*index, st));
        }
    }

    let mut out = Vec::new();
    for a in compact.latest_agreements() {
        for c in &a.commitments {
            let mut synthetic = a.synthetic || c.synthetic;
            let measure = measure_of(c);
            let mut tranches = Vec::new();
            for t in c.schedule.tranches() {
                let q = quantity(
                    compact,
                    &a.guarantor,
                    &c.id,
                    &t.amount,
                    t.due,
                    &mut synthetic,
                )?;
                tranches.push(Dated {
                    date: t.due,
                    quantity: q,
                });
            }
            let scheduled: Decimal = tranches.iter().map(|t| t.quantity).sum();
            let due: Decimal = tranches
                .iter()
                .filter(|t| t.date <= as_of)
                .map(|t| t.quantity)
                .sum();
            let (mut pledged, mut allocated, mut reported) =
                (Decimal::ZERO, Decimal::ZERO, Decimal::ZERO);
            let mut confirmed: Vec<Dated> = Vec::new();
            let mut entries = Vec::new();
            let mine = |id: &str, date: Date| {
                commitment_at(compact, id, date)
                    .is_some_and(|(ag, cm)| ag.id == a.id && cm.id == c.id)
            };
            for (index, st) in by_commitment.get(c.id.as_str()).into_iter().flatten() {
                let q = |amount: &str,
                         on: Date,
                         synthetic: &mut bool|
                 -> Result<Decimal, EngineError> {
                    match Amount::parse(amount) {
                        Ok(am) => quantity(compact, &a.guarantor, &c.id, &am, on, synthetic),
                        Err(_) => Ok(Decimal::ZERO),
                    }
                };
                match &st.payload {
                    Payload::Pledge(p)
                        if p.commitment.as_deref().is_some_and(|id| mine(id, p.date)) =>
                    {
                        pledged += q(&p.amount, p.date, &mut synthetic)?;
                        entries.push(*index);
                    }
                    Payload::Allocation(p) if mine(&p.commitment, p.date) => {
                        allocated += q(&p.amount, p.date, &mut synthetic)?;
                        entries.push(*index);
                    }
                    Payload::DeliveryReport(p) if mine(&p.commitment, p.date) => {
                        reported += q(&p.amount, p.date, &mut synthetic)?;
                        entries.push(*index);
                    }
                    Payload::DeliveryConfirm(p) => {
                        let Some(report) = reports.get(&p.report) else {
                            continue;
                        };
                        let Payload::DeliveryReport(r) = &report.payload else {
                            continue;
                        };
                        if !mine(&r.commitment, r.date) {
                            continue;
                        }
                        let amount = p.amount.as_deref().unwrap_or(&r.amount);
                        // Valued on the delivery date: the day the value changed hands.
                        let quantity = q(amount, r.date, &mut synthetic)?;
                        confirmed.push(Dated {
                            date: r.date,
                            quantity,
                        });
                        entries.push(*index);
                    }
                    _ => {}
                }
            }
            let confirmed_total: Decimal = confirmed.iter().map(|d| d.quantity).sum();
            let on_time = on_time(&tranches, &confirmed);
            let arrears = (due - confirmed_total).max(Decimal::ZERO);
            let status = if ended(a, as_of, accession) {
                Status::Ended
            } else if confirmed_total >= scheduled {
                Status::Fulfilled
            } else if arrears > Decimal::ZERO {
                Status::Behind
            } else {
                Status::OnTrack
            };
            out.push(Figures {
                commitment: c.id.clone(),
                agreement: a.id.clone(),
                guarantor: a.guarantor.clone(),
                pillar: c.pillar.clone(),
                measure,
                scheduled,
                due,
                pledged,
                allocated,
                reported,
                confirmed: confirmed_total,
                arrears,
                on_time,
                on_time_rate: (!confirmed_total.is_zero()).then(|| on_time / confirmed_total),
                status,
                synthetic,
                entries,
            });
        }
    }
    Ok(out)
}

/// Deliveries, earliest first, fill the tranches, earliest first; what fills a tranche on or
/// before its due date is on time. Deliveries beyond the whole schedule are not on time.
fn on_time(tranches: &[Dated], deliveries: &[Dated]) -> Decimal {
    let mut tranches: Vec<Dated> = tranches.to_vec();
    tranches.sort_by_key(|t| t.date);
    let mut deliveries: Vec<Dated> = deliveries.to_vec();
    deliveries.sort_by_key(|d| d.date);
    let mut on_time = Decimal::ZERO;
    let mut t = 0usize;
    let mut left_in_tranche = tranches.first().map_or(Decimal::ZERO, |x| x.quantity);
    for d in deliveries {
        let mut left = d.quantity;
        while left > Decimal::ZERO {
            let Some(tranche) = tranches.get(t) else {
                break;
            };
            let part = left.min(left_in_tranche);
            if d.date <= tranche.date {
                on_time += part;
            }
            left -= part;
            left_in_tranche -= part;
            if left_in_tranche <= Decimal::ZERO {
                t += 1;
                left_in_tranche = tranches.get(t).map_or(Decimal::ZERO, |x| x.quantity);
            }
        }
    }
    on_time
}

#[cfg(test)]
mod tests;
