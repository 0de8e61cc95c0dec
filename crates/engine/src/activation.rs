//! Activations: the timeline of each armed-attack declaration or threat level that asked
//! guarantors to consult (who was asked, who answered, when, late or missing), and the
//! obligations it set off.
//!
//! What falls due on an activation:
//!
//! - **Surges.** Each commitment of an agreement in force at the activation whose scaling rule
//!   the trigger sets off: the extra `(factor - 1) x` the amount scheduled in the year after
//!   the activation, due `within_days` after the activation's date. When several rules of a
//!   commitment are set off, the largest factor applies.
//! - **Sanctions snap back.** On an armed attack, each sanctions commitment of a guarantor in
//!   a group whose guarantees are non-military (the broader group), with no surge of its own:
//!   its next scheduled tranche is brought forward to the end of the consultation period
//!   (the compact's `consultation_hours` after the declaration).
//!
//! An activation the beneficiary withdrew (`statement.retract`) sets nothing off from the
//! withdrawal's receipt: the figures leave it out, later activations surge as if it had not
//! been made, and the timeline shows it withdrawn with its reason. Before the withdrawal, it
//! is shown as it was.

use std::collections::BTreeMap;

use compact_model::{Agreement, Commitment, Compact, Guarantees};
use compact_statement::activation::{Asked, Trigger, asked, in_force_at};
use compact_statement::rules::{Facts, date_of};
use compact_statement::{Measure as ResponseMeasure, Payload, Said};
use jiff::civil::Date;
use jiff::{SignedDuration, Span, Timestamp};
use rust_decimal::Decimal;
use serde::Serialize;

use crate::{EngineError, Measure, measure_of, tranche_quantity};

/// Where an asked guarantor's answer stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum AnswerState {
    /// Answered by the deadline.
    Answered,
    /// Answered after the deadline.
    Late,
    /// No answer, and the deadline has passed.
    Missing,
    /// No answer yet; the deadline has not passed.
    Pending,
    /// No answer, and the beneficiary withdrew the activation before the deadline: no longer
    /// asked.
    Withdrawn,
}

impl AnswerState {
    /// The kebab-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            AnswerState::Answered => "answered",
            AnswerState::Late => "late",
            AnswerState::Missing => "missing",
            AnswerState::Pending => "pending",
            AnswerState::Withdrawn => "withdrawn",
        }
    }
}

/// One asked guarantor and its answer.
#[derive(Clone, Debug, Serialize)]
pub struct Answer {
    /// Who was asked, under which agreement, by when.
    #[serde(flatten)]
    pub asked: Asked,
    /// Where the answer stands.
    pub state: AnswerState,
    /// The log entry of the response.
    pub response: Option<u64>,
    /// When it was made.
    #[serde(serialize_with = "ser_opt_time")]
    pub answered_at: Option<Timestamp>,
    /// The measures it commits.
    pub measures: Vec<ResponseMeasure>,
}

/// What kind of obligation an activation set off.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum SurgeKind {
    /// A scaling rule: an extra amount.
    Scaling {
        /// The rule's factor.
        factor: Decimal,
    },
    /// A sanctions tranche brought forward.
    SnapBack {
        /// The date it was scheduled for.
        scheduled_for: Date,
    },
}

/// An obligation set off by an activation.
#[derive(Clone, Debug, Serialize)]
pub struct Surge {
    /// The activation's log entry.
    pub activation: u64,
    /// The commitment.
    pub commitment: String,
    /// Its agreement.
    pub agreement: String,
    /// The guarantor.
    pub guarantor: String,
    /// The pillar.
    pub pillar: String,
    /// Money or a unit.
    pub measure: Measure,
    /// Scaling or snap-back.
    #[serde(flatten)]
    pub kind: SurgeKind,
    /// What falls due (in the reporting currency for money).
    pub amount: Decimal,
    /// By when.
    pub due: Date,
    /// True when the commitment, the rule or a figure it is valued with is not from a source.
    pub synthetic: bool,
}

/// One activation.
#[derive(Clone, Debug, Serialize)]
pub struct Activation {
    /// Its log entry: the activation's id.
    pub entry: u64,
    /// What opened it.
    pub trigger: Trigger,
    /// When the beneficiary declared it.
    #[serde(serialize_with = "compact_statement::ser_time")]
    pub declared_at: Timestamp,
    /// When the attack began (attack declarations).
    #[serde(serialize_with = "ser_opt_time")]
    pub attack_at: Option<Timestamp>,
    /// The declaration's summary.
    pub summary: Option<String>,
    /// False once closed by the beneficiary, withdrawn, or the compact ended on accession.
    pub open: bool,
    /// Each guarantor asked, in the order of the agreements.
    pub asked: Vec<Answer>,
    /// What it set off: nothing once withdrawn (what it set off before is in the timeline at
    /// an earlier time).
    pub surges: Vec<Surge>,
    /// The beneficiary's withdrawal (`statement.retract`), if it was withdrawn.
    pub withdrawn: Option<Withdrawal>,
}

/// The withdrawal of an activation declared in error.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Withdrawal {
    /// The `statement.retract` entry.
    pub entry: u64,
    /// When the log received it: nothing falls due on the activation from then.
    #[serde(serialize_with = "compact_statement::ser_time")]
    pub at: Timestamp,
    /// Why.
    pub reason: String,
}

fn ser_opt_time<S: serde::Serializer>(t: &Option<Timestamp>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => compact_statement::ser_time(t, s),
        None => s.serialize_none(),
    }
}

fn add_days(d: Date, days: i64) -> Option<Date> {
    d.checked_add(Span::new().days(days)).ok()
}

/// What earlier activations set off, per commitment: an activation within a year of a
/// commitment's earlier surge adds only what a larger factor adds over it (repeating a
/// declaration, or an attack after a threat, does not surge twice), and a tranche is brought
/// forward once.
#[derive(Clone, Debug, Default)]
struct Applied {
    scaling: BTreeMap<String, (Date, Decimal)>,
    snapped: std::collections::BTreeSet<(String, Date)>,
}

/// The obligations activation `entry` (made by `st`) sets off, given the agreements in force
/// and what earlier activations set off.
fn surges(
    compact: &Compact,
    entry: u64,
    st: &(impl Said + ?Sized),
    facts: &Facts,
    applied: &mut Applied,
) -> Result<Vec<Surge>, EngineError> {
    let Some(trigger) = Trigger::of(st) else {
        return Ok(Vec::new());
    };
    let on = date_of(st);
    let year_after = add_days(on, 365).unwrap_or(on);
    let deadline = st
        .at()
        .checked_add(SignedDuration::from_hours(i64::from(
            compact.consultation_hours,
        )))
        .map(date_of_time)
        .unwrap_or(on);
    let mut out = Vec::new();
    for a in in_force_at(compact, entry, st, facts) {
        for c in &a.commitments {
            // A commitment that ends on accession sets off nothing after it, and its base
            // stops at it.
            let ends = facts
                .accession
                .filter(|_| c.on_accession == compact_model::OnAccession::End);
            if ends.is_some_and(|acc| on >= acc) {
                continue;
            }
            let factor = c
                .scaling
                .iter()
                .filter(|r| trigger.scales(r.trigger))
                .max_by_key(|r| r.factor);
            let mut synthetic = a.synthetic || c.synthetic;
            if let Some(rule) = factor {
                synthetic |= rule.synthetic;
                let mut base = Decimal::ZERO;
                for t in c.schedule.tranches() {
                    if t.due > on && t.due <= year_after && ends.is_none_or(|acc| t.due < acc) {
                        let q = tranche_quantity(compact, a, c, &t, &mut synthetic)?;
                        base = base.saturating_add(q);
                    }
                }
                let earlier = applied
                    .scaling
                    .get(&c.id)
                    .filter(|(d, _)| add_days(*d, 365).is_some_and(|end| on < end))
                    .map_or(Decimal::ONE, |(_, f)| *f);
                if rule.factor <= earlier {
                    continue;
                }
                let amount = base.saturating_mul(rule.factor - earlier);
                if amount > Decimal::ZERO {
                    applied.scaling.insert(c.id.clone(), (on, rule.factor));
                    out.push(surge(
                        entry,
                        a,
                        c,
                        SurgeKind::Scaling {
                            factor: rule.factor,
                        },
                        amount,
                        add_days(on, i64::from(rule.within_days)).unwrap_or(on),
                        synthetic,
                    ));
                }
                continue;
            }
            let broader = compact
                .group_of(&a.guarantor)
                .is_some_and(|g| g.guarantees == Guarantees::NonMilitary);
            if trigger == Trigger::Attack && broader && c.pillar == "sanctions" {
                let next = c
                    .schedule
                    .tranches()
                    .into_iter()
                    .filter(|t| t.due > deadline)
                    .min_by_key(|t| t.due);
                if let Some(t) = next.filter(|t| applied.snapped.insert((c.id.clone(), t.due))) {
                    let q = tranche_quantity(compact, a, c, &t, &mut synthetic)?;
                    out.push(surge(
                        entry,
                        a,
                        c,
                        SurgeKind::SnapBack {
                            scheduled_for: t.due,
                        },
                        q,
                        deadline,
                        synthetic,
                    ));
                }
            }
        }
    }
    Ok(out)
}

fn date_of_time(t: Timestamp) -> Date {
    t.to_zoned_datetime(jiff::tz::TimeZone::UTC).date()
}

fn surge(
    activation: u64,
    a: &Agreement,
    c: &Commitment,
    kind: SurgeKind,
    amount: Decimal,
    due: Date,
    synthetic: bool,
) -> Surge {
    Surge {
        activation,
        commitment: c.id.clone(),
        agreement: a.id.clone(),
        guarantor: a.guarantor.clone(),
        pillar: c.pillar.clone(),
        measure: measure_of(c),
        kind,
        amount,
        due,
        synthetic,
    }
}

/// The one walk over the log behind both the figures and the timeline, so that they agree:
/// `each` sees every statement in order with the facts before it and, for an activation's
/// kind, the surges it sets off given those set off before it. An activation `withdrawn`
/// says was withdrawn is given what it set off as declared, but later ones are set off as if
/// it had not been made. Returns the facts at the end.
fn walk<'s, T: Said + 's>(
    compact: &Compact,
    statements: impl Iterator<Item = &'s (u64, T)>,
    withdrawn: impl Fn(u64) -> bool,
    mut each: impl FnMut(u64, &'s T, &Facts, Option<Vec<Surge>>),
) -> Result<Facts, EngineError> {
    let mut facts = Facts::default();
    let mut applied = Applied::default();
    for (index, st) in statements {
        let set_off = match Trigger::of(st) {
            Some(_) if withdrawn(*index) => {
                Some(surges(compact, *index, st, &facts, &mut applied.clone())?)
            }
            Some(_) => Some(surges(compact, *index, st, &facts, &mut applied)?),
            None => None,
        };
        each(*index, st, &facts, set_off);
        facts.note(*index, st, compact);
    }
    Ok(facts)
}

/// Every surge of the activations made on or before `as_of`, by commitment.
pub(crate) fn surges_by_commitment<T: Said>(
    compact: &Compact,
    statements: &[&(u64, T)],
) -> Result<BTreeMap<String, Vec<Surge>>, EngineError> {
    let mut out: BTreeMap<String, Vec<Surge>> = BTreeMap::new();
    walk(
        compact,
        statements.iter().copied(),
        |_| false,
        |_, _, _, set_off| {
            for s in set_off.into_iter().flatten() {
                out.entry(s.commitment.clone()).or_default().push(s);
            }
        },
    )?;
    Ok(out)
}

/// Every activation in the log up to `now`, oldest first, with its answers as of `now`.
pub fn activations<T: Said>(
    compact: &Compact,
    statements: &[(u64, T)],
    now: Timestamp,
) -> Result<Vec<Activation>, EngineError> {
    let mut out: Vec<Activation> = Vec::new();
    let mut by_entry: BTreeMap<u64, usize> = BTreeMap::new();
    let shown: Vec<&(u64, T)> = statements.iter().filter(|(_, st)| st.at() <= now).collect();
    // The retractions made by `now`: an activation withdrawn, an answer retracted.
    let retractions: BTreeMap<u64, Withdrawal> = shown
        .iter()
        .filter_map(|(i, st)| match st.payload() {
            Payload::Retract(r) => Some((
                r.entry,
                Withdrawal {
                    entry: *i,
                    at: st.at(),
                    reason: r.reason.clone(),
                },
            )),
            _ => None,
        })
        .collect();
    let withdrawn = |i: u64| retractions.contains_key(&i);
    let facts = walk(
        compact,
        shown.iter().copied(),
        withdrawn,
        |index, st, facts, set_off| {
            if let Some(set_off) = set_off {
                let list = asked(compact, index, st, facts);
                if !list.is_empty() || !set_off.is_empty() {
                    let (attack_at, summary) = match st.payload() {
                        Payload::AttackDeclare(a) => (Some(a.at), Some(a.summary.clone())),
                        _ => (None, None),
                    };
                    by_entry.insert(index, out.len());
                    out.push(Activation {
                        entry: index,
                        trigger: Trigger::of(st).unwrap_or(Trigger::Attack),
                        declared_at: st.at(),
                        attack_at,
                        summary,
                        open: true,
                        withdrawn: None,
                        asked: list
                            .into_iter()
                            .map(|asked| Answer {
                                state: if now > asked.deadline {
                                    AnswerState::Missing
                                } else {
                                    AnswerState::Pending
                                },
                                asked,
                                response: None,
                                answered_at: None,
                                measures: Vec::new(),
                            })
                            .collect(),
                        surges: set_off,
                    });
                }
            }
            // A retracted answer is as if not given: its author may answer anew.
            if let Payload::ConsultationRespond(r) = st.payload()
                && !withdrawn(index)
                && let Some(a) = by_entry.get(&r.activation).and_then(|i| out.get_mut(*i))
                && let Some(answer) = a
                    .asked
                    .iter_mut()
                    .find(|x| x.asked.guarantor == st.author() && x.response.is_none())
            {
                answer.response = Some(index);
                answer.answered_at = Some(st.at());
                answer.measures = r.measures.clone();
                answer.state = if st.at() <= answer.asked.deadline {
                    AnswerState::Answered
                } else {
                    AnswerState::Late
                };
            }
        },
    )?;
    for activation in facts.closed.keys() {
        if let Some(a) = by_entry.get(activation).and_then(|i| out.get_mut(*i)) {
            // Closed by the beneficiary: whoever has not answered no longer can.
            a.open = false;
            for x in &mut a.asked {
                if x.state == AnswerState::Pending {
                    x.state = AnswerState::Missing;
                }
            }
        }
    }
    if let Some(acc) = facts.accession {
        for a in &mut out {
            if date_of_time(now) >= acc {
                // Closed: whoever has not answered no longer can.
                a.open = false;
                for x in &mut a.asked {
                    if x.state == AnswerState::Pending {
                        x.state = AnswerState::Missing;
                    }
                }
            }
        }
    }
    for a in &mut out {
        let Some(w) = retractions.get(&a.entry) else {
            continue;
        };
        // Withdrawn: nothing falls due on it, and whoever had not answered by the
        // withdrawal, with time left, is no longer asked.
        a.open = false;
        a.surges.clear();
        for x in &mut a.asked {
            if x.response.is_none() && w.at <= x.asked.deadline {
                x.state = AnswerState::Withdrawn;
            }
        }
        a.withdrawn = Some(w.clone());
    }
    Ok(out)
}
