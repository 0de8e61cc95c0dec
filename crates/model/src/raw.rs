//! The files as written: serde shapes of the TOML, with the span of every value that a later
//! check may need to point at. Nothing here is validated beyond its TOML type; `validate` turns
//! these into the model.

use serde::Deserialize;
use toml::Spanned;

/// A date as written: a TOML local date (`2024-01-12`) or a string (`"2024-01-12"`). Kept as
/// text so that a malformed date is reported by validation, at its place, with the others.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DateText(pub String);

impl<'de> Deserialize<'de> for DateText {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = DateText;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a date such as 2024-01-12")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<DateText, E> {
                Ok(DateText(v.to_owned()))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<DateText, A::Error> {
                let dt = toml::value::Datetime::deserialize(
                    serde::de::value::MapAccessDeserializer::new(map),
                )?;
                Ok(DateText(dt.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

/// `compact.toml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompactFile {
    pub id: Spanned<String>,
    pub title: String,
    pub beneficiary: Spanned<String>,
    pub currency: Spanned<String>,
    pub currencies: Vec<Spanned<String>>,
    #[serde(default)]
    pub units: Vec<Spanned<String>>,
    pub adopted_on: Spanned<DateText>,
    #[serde(default)]
    pub consultation_hours: Option<Spanned<i64>>,
    #[serde(default)]
    pub threat_levels: Option<Spanned<i64>>,
    #[serde(default)]
    pub source: Option<String>,
    #[serde(default)]
    pub quote: Option<String>,
    #[serde(default)]
    pub synthetic: bool,
    pub end: EndFile,
    #[serde(default)]
    pub log: Option<LogFile>,
    #[serde(default)]
    pub store: Option<StoreFile>,
    pub pillars: Vec<Spanned<PillarFile>>,
    pub groups: Vec<Spanned<GroupFile>>,
}

/// `[end]` of `compact.toml`: when the compact's bridging period ends.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EndFile {
    pub condition: Spanned<String>,
    pub organisation: String,
    #[serde(default)]
    pub quote: Option<String>,
    #[serde(default)]
    pub source: Option<String>,
}

/// `[log]` of `compact.toml`: the transparency log's operator.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogFile {
    #[serde(default)]
    pub operator_key: Option<Spanned<String>>,
    /// How many of the witnesses must cosign a checkpoint (default: all of them).
    #[serde(default)]
    pub quorum: Option<Spanned<i64>>,
    #[serde(default)]
    pub witnesses: Vec<Spanned<WitnessFile>>,
}

/// `[store]` of `compact.toml`: where the log's store is, when not `compact.sqlite`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreFile {
    /// A PostgreSQL URL (`postgres://user@host/db`), without its password.
    #[serde(default)]
    pub url: Option<Spanned<String>>,
    /// A file holding the database password (relative to the compact directory).
    #[serde(default)]
    pub password_file: Option<Spanned<String>>,
}

/// One `[[log.witnesses]]`: a witness the log submits its checkpoints to.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WitnessFile {
    pub name: Spanned<String>,
    pub key: Spanned<String>,
    pub url: Spanned<String>,
}

/// One `[[pillars]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PillarFile {
    pub id: Spanned<String>,
    pub name: String,
    #[serde(default)]
    pub quote: Option<String>,
    #[serde(default)]
    pub source: Option<String>,
    #[serde(default)]
    pub summary: Option<String>,
    #[serde(default)]
    pub tracker_category: Option<Spanned<String>>,
    #[serde(default)]
    pub tracker_source: Option<String>,
}

/// One `[[groups]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupFile {
    pub id: Spanned<String>,
    pub name: String,
    pub guarantees: Spanned<String>,
    #[serde(default)]
    pub quote: Option<String>,
    #[serde(default)]
    pub source: Option<String>,
}

/// `parties/<CODE>.toml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PartyFile {
    pub code: Spanned<String>,
    pub name: String,
    #[serde(default)]
    pub group: Option<Spanned<String>>,
    #[serde(default)]
    pub population: Option<Spanned<i64>>,
    #[serde(default)]
    pub population_source: Option<String>,
    #[serde(default)]
    pub gdp: Vec<Spanned<GdpFile>>,
    #[serde(default)]
    pub keys: Vec<Spanned<KeyFile>>,
    #[serde(default)]
    pub notes: Option<String>,
    #[serde(default)]
    pub nato_member_since: Option<Spanned<DateText>>,
    #[serde(default)]
    pub nato_source: Option<String>,
}

/// One `[[gdp]]` of a party.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GdpFile {
    pub year: Spanned<i64>,
    pub amount: Spanned<String>,
    #[serde(default)]
    pub source: Option<String>,
    #[serde(default)]
    pub synthetic: bool,
}

/// One `[[keys]]` of a party: a verifier key in the C2SP signed-note format.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyFile {
    pub key: Spanned<String>,
    #[serde(default)]
    pub valid_from: Option<Spanned<DateText>>,
    #[serde(default)]
    pub retired_on: Option<Spanned<DateText>>,
}

/// `agreements/<id>.toml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgreementFile {
    pub id: Spanned<String>,
    pub version: Spanned<i64>,
    pub guarantor: Spanned<String>,
    pub beneficiary: Spanned<String>,
    pub title: String,
    pub signed_on: Spanned<DateText>,
    pub in_force_from: Spanned<DateText>,
    #[serde(default)]
    pub duration_years: Option<Spanned<i64>>,
    #[serde(default)]
    pub ends_on: Option<Spanned<DateText>>,
    #[serde(default)]
    pub on_accession: Option<Spanned<String>>,
    #[serde(default)]
    pub termination_notice_months: Option<Spanned<i64>>,
    pub source: Spanned<String>,
    #[serde(default)]
    pub synthetic: bool,
    #[serde(default)]
    pub notes: Option<String>,
    #[serde(default)]
    pub consultation: Option<Spanned<ConsultationFile>>,
    #[serde(default)]
    pub clauses: Vec<Spanned<ClauseFile>>,
    #[serde(default)]
    pub commitments: Vec<Spanned<CommitmentFile>>,
}

/// `[consultation]` of an agreement: the clause that convenes the parties after an attack.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsultationFile {
    #[serde(default)]
    pub hours: Option<Spanned<i64>>,
    #[serde(default)]
    pub on: Option<Spanned<String>>,
    #[serde(default)]
    pub threat_level: Option<Spanned<i64>>,
    #[serde(default)]
    pub clause: Option<Spanned<String>>,
}

/// One `[[clauses]]`: a quoted passage of the agreement's text.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClauseFile {
    pub id: Spanned<String>,
    #[serde(default)]
    pub quote: Option<String>,
    #[serde(default)]
    pub summary: Option<String>,
    #[serde(default)]
    pub source: Option<String>,
    #[serde(default)]
    pub synthetic: bool,
}

/// One `[[commitments]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommitmentFile {
    pub id: Spanned<String>,
    pub pillar: Spanned<String>,
    pub description: String,
    #[serde(default)]
    pub clause: Option<Spanned<String>>,
    #[serde(default)]
    pub amount: Option<Spanned<String>>,
    pub schedule: Spanned<ScheduleFile>,
    #[serde(default)]
    pub scaling: Vec<Spanned<ScalingFile>>,
    #[serde(default)]
    pub on_accession: Option<Spanned<String>>,
    #[serde(default)]
    pub synthetic: bool,
    #[serde(default)]
    pub notes: Option<String>,
}

/// `schedule` of a commitment: exactly one of the three forms.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduleFile {
    #[serde(default)]
    pub once: Option<Spanned<DateText>>,
    #[serde(default)]
    pub yearly: Option<Spanned<YearlyFile>>,
    #[serde(default)]
    pub tranches: Option<Vec<Spanned<TrancheFile>>>,
}

/// `schedule.yearly`: the amount is due every year from `from` to `to` (inclusive).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct YearlyFile {
    pub from: Spanned<i64>,
    pub to: Spanned<i64>,
    /// Month and day in the year, `MM-DD`; 12-31 when absent.
    #[serde(default)]
    pub due: Option<Spanned<String>>,
}

/// One explicit tranche.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrancheFile {
    pub due: Spanned<DateText>,
    pub amount: Spanned<String>,
}

/// One `[[commitments.scaling]]` rule.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScalingFile {
    pub on: Spanned<String>,
    #[serde(default)]
    pub threat_level: Option<Spanned<i64>>,
    pub factor: Spanned<String>,
    pub within_days: Spanned<i64>,
    #[serde(default)]
    pub synthetic: bool,
}

/// `rates.toml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RatesFile {
    #[serde(default)]
    pub rates: Vec<Spanned<RateFile>>,
}

/// One dated exchange rate, written `"1 EUR = 0.85 GBP"`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateFile {
    pub on: Spanned<DateText>,
    pub rate: Spanned<String>,
    #[serde(default)]
    pub source: Option<String>,
    #[serde(default)]
    pub synthetic: bool,
}

/// `requirements.toml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequirementsFile {
    #[serde(default)]
    pub requirements: Vec<Spanned<RequirementFile>>,
}

/// The beneficiary's stated requirement for one pillar and year.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequirementFile {
    pub pillar: Spanned<String>,
    pub year: Spanned<i64>,
    pub amount: Spanned<String>,
    #[serde(default)]
    pub source: Option<String>,
    #[serde(default)]
    pub synthetic: bool,
}
