//! The validated compact. Every value here has passed `validate`: references resolve, dates are
//! in order, amounts are positive and in declared currencies and units.

use std::collections::BTreeMap;

use jiff::civil::Date;
use rust_decimal::Decimal;
use serde::Serialize;

use crate::amount::Amount;

/// A witness of the log (`[[log.witnesses]]`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct WitnessSpec {
    /// Its name, as in its cosignatures (a schema-less URL, e.g. `witness.example.org/w1`).
    pub name: String,
    /// Its cosigner verifier key (C2SP tlog-cosignature, signature type 0x04).
    pub key: String,
    /// Its submission prefix: `add-checkpoint` is posted to `<url>/add-checkpoint`.
    pub url: String,
}

/// The whole compact: the umbrella document and everything under it.
#[derive(Clone, Debug, Serialize)]
pub struct Compact {
    /// Short id, also the transparency log's origin (e.g. `kyiv-compact`).
    pub id: String,
    /// Human title.
    pub title: String,
    /// The beneficiary party's code (`UA`).
    pub beneficiary: String,
    /// The reporting currency all money is valued in.
    pub currency: String,
    /// Currencies amounts may be written in (including the reporting currency).
    pub currencies: Vec<String>,
    /// Physical units amounts may be counted in.
    pub units: Vec<String>,
    /// The date the compact was adopted; nothing is due or reported before it.
    pub adopted_on: Date,
    /// Default hours within which consultations are held after an armed attack.
    pub consultation_hours: u32,
    /// Threat levels run from 1 to this number.
    pub threat_levels: u8,
    /// Where the compact's text comes from.
    pub source: Option<String>,
    /// A quoted passage of the compact.
    pub quote: Option<String>,
    /// True when the compact itself is not from a source.
    pub synthetic: bool,
    /// When the bridging period ends.
    pub end: End,
    /// The log operator's verifier key (C2SP signed-note format, named after the compact's id),
    /// which signs checkpoints.
    pub operator_key: Option<String>,
    /// The witnesses the log submits each checkpoint to (C2SP tlog-witness), in file order.
    pub witnesses: Vec<WitnessSpec>,
    /// How many of them must cosign a checkpoint for a reader to accept it (0 without
    /// witnesses).
    pub witness_quorum: usize,
    /// The pillars, in file order.
    pub pillars: Vec<Pillar>,
    /// The groups, in file order.
    pub groups: Vec<Group>,
    /// Every party by code.
    pub parties: BTreeMap<String, Party>,
    /// Every agreement version, ordered by id then version.
    pub agreements: Vec<Agreement>,
    /// Dated exchange rates.
    pub rates: Rates,
    /// The beneficiary's stated requirements.
    pub requirements: Vec<Requirement>,
}

/// The end condition of the compact.
#[derive(Clone, Debug, Serialize)]
pub struct End {
    /// Only `accession` is defined: the beneficiary joins `organisation`.
    pub condition: String,
    /// The organisation acceded to (`NATO`).
    pub organisation: String,
    /// The passage that states it.
    pub quote: Option<String>,
    /// Its source.
    pub source: Option<String>,
}

/// A pillar of support.
#[derive(Clone, Debug, Serialize)]
pub struct Pillar {
    /// Short id used by commitments (`air-defence`).
    pub id: String,
    /// Human name.
    pub name: String,
    /// The passage that names it, verbatim.
    pub quote: Option<String>,
    /// What its source says of it, in other words (not a quotation).
    pub summary: Option<String>,
    /// Its source.
    pub source: Option<String>,
    /// The category of the Kiel Institute's Ukraine Support Tracker its money counts in
    /// (`military`, `financial` or `humanitarian`); `None` when the tracker counts none of it
    /// (sanctions).
    pub tracker_category: Option<String>,
    /// Where the mapping to the tracker's category comes from.
    pub tracker_source: Option<String>,
}

/// The tracker categories a pillar may count in.
pub const TRACKER_CATEGORIES: [&str; 3] = ["military", "financial", "humanitarian"];

/// What kind of guarantees a group gives.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Guarantees {
    /// Cast-iron military commitments (the core group).
    Military,
    /// Non-military guarantees, built around sanctions (the broader group).
    NonMilitary,
}

/// A group of guarantors.
#[derive(Clone, Debug, Serialize)]
pub struct Group {
    /// Short id (`core`, `broader`).
    pub id: String,
    /// Human name.
    pub name: String,
    /// Military or non-military.
    pub guarantees: Guarantees,
    /// The passage that defines it.
    pub quote: Option<String>,
    /// Its source.
    pub source: Option<String>,
}

/// A state (or the EU) taking part.
#[derive(Clone, Debug, Serialize)]
pub struct Party {
    /// ISO 3166-1 alpha-2 code, or `EU`.
    pub code: String,
    /// Name.
    pub name: String,
    /// The group of a guarantor; `None` for the beneficiary.
    pub group: Option<String>,
    /// Population, when known.
    pub population: Option<u64>,
    /// Where the population comes from.
    pub population_source: Option<String>,
    /// GDP by year.
    pub gdp: BTreeMap<i16, Gdp>,
    /// Verifier keys, oldest first.
    pub keys: Vec<PartyKey>,
    /// Free notes.
    pub notes: Option<String>,
    /// The day it joined NATO, when it is an ally.
    pub nato_member_since: Option<Date>,
    /// Where its NATO membership is stated.
    pub nato_source: Option<String>,
}

impl Party {
    /// Whether it is a NATO ally on `on`.
    pub fn nato_ally_on(&self, on: Date) -> bool {
        self.nato_member_since.is_some_and(|d| d <= on)
    }
}

/// One year's GDP.
#[derive(Clone, Debug, Serialize)]
pub struct Gdp {
    /// Value in `currency`.
    pub value: Decimal,
    /// Currency of the value.
    pub currency: String,
    /// Where the figure comes from.
    pub source: Option<String>,
    /// True when the figure is not from a source.
    pub synthetic: bool,
}

/// A party's verifier key and the period it may sign in.
#[derive(Clone, Debug, Serialize)]
pub struct PartyKey {
    /// C2SP signed-note verifier key, `name+keyid+base64`.
    pub key: String,
    /// First day the key may sign.
    pub valid_from: Option<Date>,
    /// First day the key may no longer sign.
    pub retired_on: Option<Date>,
}

/// What happens to an agreement or a commitment when the beneficiary accedes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum OnAccession {
    /// It ends on the day of accession.
    End,
    /// It carries on to its own end.
    Continue,
}

/// One version of a bilateral agreement.
#[derive(Clone, Debug, Serialize)]
pub struct Agreement {
    /// Id shared by all versions.
    pub id: String,
    /// Version number, from 1.
    pub version: u32,
    /// The guarantor's party code.
    pub guarantor: String,
    /// The beneficiary's party code.
    pub beneficiary: String,
    /// Title.
    pub title: String,
    /// Date of signature.
    pub signed_on: Date,
    /// First day in force.
    pub in_force_from: Date,
    /// Last day in force (inclusive).
    pub ends_on: Date,
    /// What happens on accession, unless a commitment says otherwise.
    pub on_accession: OnAccession,
    /// The notice a termination takes to have effect, in months, when the text states one.
    /// When absent, [`NOTICE_MONTHS_ASSUMED`] is assumed (and shown as an assumption).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub termination_notice_months: Option<u32>,
    /// Where the text comes from.
    pub source: String,
    /// True when the agreement is not from a source.
    pub synthetic: bool,
    /// Free notes.
    pub notes: Option<String>,
    /// The consultation clause, if the agreement has one.
    pub consultation: Option<Consultation>,
    /// Quoted clauses, ordered by id.
    pub clauses: Vec<Clause>,
    /// Commitments, ordered by id.
    pub commitments: Vec<Commitment>,
    /// The file it was read from (not part of the canonical form).
    #[serde(skip)]
    pub path: String,
    /// The digest of this version's canonical form (not part of it), set by validation.
    #[serde(skip)]
    pub digest: String,
}

/// The notice assumed when an agreement's text states none: six months, as the US agreement is
/// reported to give (a secondary source) and many arrangements of its kind do. An assumption,
/// marked as such wherever a termination's effect is shown.
pub const NOTICE_MONTHS_ASSUMED: u32 = 6;

impl Agreement {
    /// The notice a termination takes, in months, and whether it is assumed (the text states
    /// none).
    pub fn notice_months(&self) -> (u32, bool) {
        match self.termination_notice_months {
            Some(m) => (m, false),
            None => (NOTICE_MONTHS_ASSUMED, true),
        }
    }
}

/// What opens a consultation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case", tag = "on")]
pub enum ConsultationTrigger {
    /// An armed attack only.
    Attack,
    /// An armed attack, or a threat level at or above `level`.
    AttackOrThreat {
        /// The lowest threat level that opens a consultation.
        level: u8,
    },
}

/// The consultation clause of an agreement.
#[derive(Clone, Debug, Serialize)]
pub struct Consultation {
    /// Hours within which the parties consult, when the agreement says; otherwise the
    /// compact's default applies (see [`Consultation::hours_or`]).
    pub hours: Option<u32>,
    /// What opens it.
    pub trigger: ConsultationTrigger,
    /// The clause that states it.
    pub clause: Option<String>,
}

impl Consultation {
    /// The hours, or `default` (the compact's) when the agreement does not say.
    pub fn hours_or(&self, default: u32) -> u32 {
        self.hours.unwrap_or(default)
    }
}

/// A quoted passage of an agreement.
#[derive(Clone, Debug, Serialize)]
pub struct Clause {
    /// Id, unique in its agreement.
    pub id: String,
    /// The words, verbatim; absent when only a summary was read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quote: Option<String>,
    /// What the passage says, in other words (when its wording was not read); never shown as
    /// a quotation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// Where they come from, if not the agreement's source.
    pub source: Option<String>,
    /// True when the passage is not from a source.
    pub synthetic: bool,
}

/// One commitment of an agreement.
#[derive(Clone, Debug, Serialize)]
pub struct Commitment {
    /// Id, unique in the compact (versions of one agreement share theirs).
    pub id: String,
    /// The pillar it serves.
    pub pillar: String,
    /// What is committed.
    pub description: String,
    /// The clause it encodes.
    pub clause: Option<String>,
    /// When what falls due.
    pub schedule: Schedule,
    /// Surge rules.
    pub scaling: Vec<ScalingRule>,
    /// What happens on accession.
    pub on_accession: OnAccession,
    /// True when the commitment is not from a source.
    pub synthetic: bool,
    /// Free notes.
    pub notes: Option<String>,
}

/// A schedule.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum Schedule {
    /// The amount is due once, by `due`.
    Once {
        /// Due date.
        due: Date,
        /// The amount.
        amount: Amount,
    },
    /// The amount is due every year from `from` to `to`, each by `month`-`day` of its year.
    Yearly {
        /// First year.
        from: i16,
        /// Last year (inclusive).
        to: i16,
        /// Month of the due date.
        month: i8,
        /// Day of the due date.
        day: i8,
        /// The amount due each year.
        amount: Amount,
    },
    /// Explicit dated tranches, ordered by date.
    Tranches {
        /// The tranches.
        tranches: Vec<Tranche>,
    },
}

/// One dated part of a schedule.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Tranche {
    /// Due date.
    pub due: Date,
    /// The amount.
    pub amount: Amount,
}

impl Schedule {
    /// Every tranche, in date order.
    pub fn tranches(&self) -> Vec<Tranche> {
        match self {
            Schedule::Once { due, amount } => vec![Tranche {
                due: *due,
                amount: amount.clone(),
            }],
            Schedule::Yearly {
                from,
                to,
                month,
                day,
                amount,
            } => (*from..=*to)
                .filter_map(|year| Date::new(year, *month, *day).ok())
                .map(|due| Tranche {
                    due,
                    amount: amount.clone(),
                })
                .collect(),
            Schedule::Tranches { tranches } => tranches.clone(),
        }
    }
}

/// What sets off a surge.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case", tag = "on")]
pub enum ScalingTrigger {
    /// An armed attack is declared.
    Attack,
    /// The threat level reaches `level` or more.
    Threat {
        /// The lowest level that sets it off.
        level: u8,
    },
}

/// A surge: on the trigger, the amount due is multiplied by `factor`, the extra due within
/// `within_days`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ScalingRule {
    /// What sets it off.
    pub trigger: ScalingTrigger,
    /// Multiplier, at least 1.
    pub factor: Decimal,
    /// Days after the trigger by which the surge is due.
    pub within_days: u32,
    /// True when the rule is not from a source.
    pub synthetic: bool,
}

/// Dated exchange rates against the reporting currency.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Rates {
    /// Per currency, the rates by the date they take effect.
    pub by_currency: BTreeMap<String, BTreeMap<Date, Rate>>,
}

/// One rate: `reporting` units of the reporting currency are worth `foreign` units.
#[derive(Clone, Debug, Serialize)]
pub struct Rate {
    /// Units of the reporting currency.
    pub reporting: Decimal,
    /// Units of the other currency.
    pub foreign: Decimal,
    /// Where the rate comes from.
    pub source: Option<String>,
    /// True when the rate is not from a source.
    pub synthetic: bool,
}

impl Rates {
    /// The rate in effect on `on` for `currency`: the latest dated on or before it.
    pub fn at(&self, currency: &str, on: Date) -> Option<(Date, &Rate)> {
        self.by_currency
            .get(currency)?
            .range(..=on)
            .next_back()
            .map(|(d, r)| (*d, r))
    }
}

/// The beneficiary's stated requirement for a pillar in a year.
#[derive(Clone, Debug, Serialize)]
pub struct Requirement {
    /// The pillar.
    pub pillar: String,
    /// The year.
    pub year: i16,
    /// What is required.
    pub amount: Amount,
    /// Where it comes from.
    pub source: Option<String>,
    /// True when it is not from a source.
    pub synthetic: bool,
}

impl Compact {
    /// The agreement version with this id and version.
    pub fn agreement(&self, id: &str, version: Option<u32>) -> Option<&Agreement> {
        let mut versions = self.agreements.iter().filter(|a| a.id == id);
        match version {
            Some(v) => versions.find(|a| a.version == v),
            None => versions.max_by_key(|a| a.version),
        }
    }

    /// The latest version of each agreement, ordered by id: the versions that schedule what
    /// is owed (an amendment restates the commitments of the version it replaces).
    pub fn latest_agreements(&self) -> impl Iterator<Item = &Agreement> {
        self.agreements.iter().filter(|a| {
            !self
                .agreements
                .iter()
                .any(|b| b.id == a.id && b.version > a.version)
        })
    }

    /// The group a party belongs to.
    pub fn group_of(&self, party: &str) -> Option<&Group> {
        let g = self.parties.get(party)?.group.as_deref()?;
        self.groups.iter().find(|x| x.id == g)
    }
}
