//! Who an activation asks, and by when.
//!
//! An activation is the log entry of an `attack.declare`, or of a `threat.level` that reaches
//! the level a threat-covering consultation clause names. It asks every guarantor whose
//! agreement was in force at that moment (signed by both parties before the entry, within its
//! period, not ended by accession) and holds a consultation clause that the trigger sets off.
//! Each asked guarantor's deadline is the log's receipt of the statement plus the clause's hours (the
//! compact's `consultation_hours`, 24 by default, when the clause names none).
//!
//! The rules use this to accept a `consultation.respond` only from an asked guarantor; the
//! engine uses it for the timeline. One function, so that both agree.

use compact_model::{Agreement, Compact, ConsultationTrigger, ScalingTrigger};
use jiff::{SignedDuration, Timestamp};

use crate::rules::{Facts, date_of, in_force};
use crate::{Payload, Said};

/// What opened an activation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case", tag = "on")]
pub enum Trigger {
    /// An armed attack was declared.
    Attack,
    /// The threat level was set to `level`.
    Threat {
        /// The level set.
        level: u8,
    },
}

impl Trigger {
    /// The trigger of a statement, if it is an activation's kind.
    pub fn of(st: &(impl Said + ?Sized)) -> Option<Trigger> {
        match st.payload() {
            Payload::AttackDeclare(_) => Some(Trigger::Attack),
            Payload::ThreatLevel(t) => Some(Trigger::Threat { level: t.level }),
            _ => None,
        }
    }

    /// Whether a consultation clause is set off by this trigger.
    pub fn sets_off(self, clause: ConsultationTrigger) -> bool {
        match (self, clause) {
            (Trigger::Attack, _) => true,
            (Trigger::Threat { level }, ConsultationTrigger::AttackOrThreat { level: at }) => {
                level >= at
            }
            (Trigger::Threat { .. }, ConsultationTrigger::Attack) => false,
        }
    }

    /// Whether a scaling rule is set off by this trigger.
    pub fn scales(self, rule: ScalingTrigger) -> bool {
        match (self, rule) {
            (Trigger::Attack, _) => true,
            (Trigger::Threat { level }, ScalingTrigger::Threat { level: at }) => level >= at,
            (Trigger::Threat { .. }, ScalingTrigger::Attack) => false,
        }
    }
}

/// One guarantor asked to consult.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Asked {
    /// The guarantor.
    pub guarantor: String,
    /// The agreement in force that holds the clause.
    pub agreement: String,
    /// Its version.
    pub version: u32,
    /// The clause id, when the agreement names one.
    pub clause: Option<String>,
    /// The hours the clause gives.
    pub hours: u32,
    /// When the answer is due.
    #[serde(serialize_with = "crate::ser_time")]
    pub deadline: Timestamp,
}

/// The agreement versions in force at activation entry `index` (made by `st`): the latest
/// version of each agreement that is in force on the statement's receipt date with what the
/// log held before it.
pub fn in_force_at<'a>(
    compact: &'a Compact,
    index: u64,
    st: &(impl Said + ?Sized),
    facts: &Facts,
) -> Vec<&'a Agreement> {
    let on = date_of(st);
    let mut ids: Vec<&str> = compact.agreements.iter().map(|a| a.id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    ids.into_iter()
        .filter_map(|id| {
            compact
                .agreements
                .iter()
                .filter(|a| a.id == id && in_force(a, on, facts, index).is_ok())
                .max_by_key(|a| a.version)
        })
        .collect()
}

/// Who activation entry `index` (made by `st`) asks, and by when (its receipt plus the
/// clause's hours): in the order of the agreements' ids, each guarantor once (under its first
/// agreement with such a clause). Empty when `st` is not an activation's kind.
pub fn asked(
    compact: &Compact,
    index: u64,
    st: &(impl Said + ?Sized),
    facts: &Facts,
) -> Vec<Asked> {
    let Some(trigger) = Trigger::of(st) else {
        return Vec::new();
    };
    let mut seen = std::collections::BTreeSet::new();
    in_force_at(compact, index, st, facts)
        .into_iter()
        .filter_map(|a| {
            let c = a.consultation.as_ref()?;
            if !trigger.sets_off(c.trigger) {
                return None;
            }
            let hours = c.hours_or(compact.consultation_hours);
            let deadline = st
                .at()
                .checked_add(SignedDuration::from_hours(i64::from(hours)))
                .ok()?;
            if !seen.insert(a.guarantor.as_str()) {
                return None;
            }
            Some(Asked {
                guarantor: a.guarantor.clone(),
                agreement: a.id.clone(),
                version: a.version,
                clause: c.clause.clone(),
                hours,
                deadline,
            })
        })
        .collect()
}
