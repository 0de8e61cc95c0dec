//! The risks of a Monte Carlo run, read from a TOML file.
//!
//! ```toml
//! [default]                      # for every guarantor not listed
//! withdrawal = 0.02              # yearly chance of leaving, if still in
//! reason = "..."
//! delay = [{ months = 0, probability = 0.7 }, { months = 6, probability = 0.3 }]
//!
//! [[guarantors]]
//! party = "US"
//! withdrawal = 0.10
//! reason = "..."
//! delay = [...]                  # optional: the default's otherwise
//!
//! [[shocks]]                     # all members leave together
//! name = "..."
//! members = ["US", "CA"]
//! probability = 0.01             # yearly
//! reason = "..."
//! ```

use std::collections::BTreeSet;
use std::ops::Range;

use compact_model::diag::{Diagnostic, Diagnostics};
use serde::{Deserialize, Serialize};
use toml::Spanned;

use crate::error::StressError;
use crate::whatif::MAX_DELAY_MONTHS;

/// The most options a delay distribution may have.
pub const MAX_DELAY_OPTIONS: usize = 128;

/// How far from 1 the probabilities of a delay distribution may sum.
const SUM_TOLERANCE: f64 = 1e-9;

/// One possible delay and its probability.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DelayOption {
    /// Months of delay (`0..=`[`MAX_DELAY_MONTHS`]).
    pub months: u32,
    /// Its probability.
    pub probability: f64,
}

/// How a guarantor may fail.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RiskProfile {
    /// The chance that it leaves in a given year, if it has not left before.
    pub withdrawal: f64,
    /// The distribution of its delay (drawn once per scenario); the probabilities sum to 1.
    pub delay: Vec<DelayOption>,
    /// Why these numbers.
    pub reason: Option<String>,
}

impl Default for RiskProfile {
    /// Never leaves, never late.
    fn default() -> Self {
        RiskProfile {
            withdrawal: 0.0,
            delay: vec![DelayOption {
                months: 0,
                probability: 1.0,
            }],
            reason: None,
        }
    }
}

/// A guarantor's own risk profile.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct GuarantorRisk {
    /// The party code.
    pub party: String,
    /// Its profile.
    pub profile: RiskProfile,
}

/// A correlated shock: each year, with `probability`, all its members leave together.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Shock {
    /// Its name.
    pub name: String,
    /// Party codes of the members (at least one).
    pub members: Vec<String>,
    /// Its yearly probability.
    pub probability: f64,
    /// Why.
    pub reason: Option<String>,
}

/// The risks of a Monte Carlo run.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Risks {
    /// For guarantors not listed.
    pub default: RiskProfile,
    /// Guarantors with a profile of their own, in file order.
    pub guarantors: Vec<GuarantorRisk>,
    /// Correlated shocks, in file order.
    pub shocks: Vec<Shock>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    default: RawDefault,
    #[serde(default)]
    guarantors: Vec<RawGuarantor>,
    #[serde(default)]
    shocks: Vec<RawShock>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDefault {
    withdrawal: Spanned<f64>,
    reason: Option<String>,
    delay: Option<Spanned<Vec<RawDelay>>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGuarantor {
    party: Spanned<String>,
    withdrawal: Spanned<f64>,
    reason: Option<String>,
    delay: Option<Spanned<Vec<RawDelay>>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDelay {
    months: Spanned<i64>,
    probability: Spanned<f64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawShock {
    name: Spanned<String>,
    members: Spanned<Vec<Spanned<String>>>,
    probability: Spanned<f64>,
    reason: Option<String>,
}

struct Reader<'a> {
    path: &'a str,
    guarantors: &'a [String],
    diags: Diagnostics,
}

fn span<T>(s: &Spanned<T>) -> Option<Range<usize>> {
    Some(s.span())
}

impl Reader<'_> {
    fn error(&mut self, span: Option<Range<usize>>, message: String) {
        self.diags.error(self.path, span, message);
    }

    fn probability(&mut self, p: &Spanned<f64>, what: &str) -> f64 {
        let v = *p.get_ref();
        if !(0.0..=1.0).contains(&v) {
            self.error(
                span(p),
                format!("{what} {v} is outside [0, 1]: give a probability such as 0.05"),
            );
            return 0.0;
        }
        v
    }

    fn party(&mut self, code: &Spanned<String>) -> Option<String> {
        let c = code.get_ref();
        if self.guarantors.contains(c) {
            return Some(c.clone());
        }
        let valid = if self.guarantors.is_empty() {
            "none".to_owned()
        } else {
            self.guarantors.join(", ")
        };
        self.diags.push(
            Diagnostic::error(
                self.path,
                span(code),
                format!("unknown party `{c}`: not a guarantor of the compact"),
            )
            .with_help(format!("the guarantors are {valid}")),
        );
        None
    }

    fn delay(&mut self, raw: &Spanned<Vec<RawDelay>>) -> Vec<DelayOption> {
        let options = raw.get_ref();
        if options.is_empty() {
            self.error(
                span(raw),
                "empty delay distribution: give at least { months = 0, probability = 1 }"
                    .to_owned(),
            );
            return RiskProfile::default().delay;
        }
        if options.len() > MAX_DELAY_OPTIONS {
            self.error(
                span(raw),
                format!(
                    "{} delay options: give at most {MAX_DELAY_OPTIONS}",
                    options.len()
                ),
            );
            return RiskProfile::default().delay;
        }
        let mut out = Vec::with_capacity(options.len());
        let mut ok = true;
        for o in options {
            let m = *o.months.get_ref();
            let months = if m < 0 {
                self.error(
                    span(&o.months),
                    format!("negative delay: {m} months; a delay is 0 months or more"),
                );
                ok = false;
                0
            } else if m > i64::from(MAX_DELAY_MONTHS) {
                self.error(
                    span(&o.months),
                    format!(
                        "a delay of {m} months is out of range: give 0 to {MAX_DELAY_MONTHS} months"
                    ),
                );
                ok = false;
                0
            } else {
                u32::try_from(m).unwrap_or(0)
            };
            let before = self.diags.error_count();
            let probability = self.probability(&o.probability, "delay probability");
            ok &= self.diags.error_count() == before;
            out.push(DelayOption {
                months,
                probability,
            });
        }
        let sum: f64 = out.iter().map(|o| o.probability).sum();
        if ok && (sum - 1.0).abs() > SUM_TOLERANCE {
            self.error(
                span(raw),
                format!("the delay probabilities sum to {sum}, not 1"),
            );
        }
        out
    }
}

impl Risks {
    /// Reads a risk file. `path` names it in findings; `guarantors` are the valid party codes
    /// (e.g. [`crate::Baseline::guarantors`]). Every problem is reported with its byte span:
    /// malformed TOML, an unknown key, a probability outside `[0, 1]`, an unknown or repeated
    /// party, a delay distribution that does not sum to 1 (within 1e-9), a negative or too long
    /// delay, a shock without members.
    pub fn parse(path: &str, text: &str, guarantors: &[String]) -> Result<Risks, Vec<Diagnostic>> {
        let raw = match toml::from_str::<RawFile>(text) {
            Ok(raw) => raw,
            Err(e) => {
                let message = e.message().trim().replace('\n', " ");
                return Err(vec![Diagnostic::error(path, e.span(), message)]);
            }
        };
        let mut r = Reader {
            path,
            guarantors,
            diags: Diagnostics::default(),
        };
        let default = RiskProfile {
            withdrawal: r.probability(&raw.default.withdrawal, "withdrawal probability"),
            delay: match &raw.default.delay {
                Some(d) => r.delay(d),
                None => RiskProfile::default().delay,
            },
            reason: raw.default.reason,
        };
        let mut seen = BTreeSet::new();
        let mut listed = Vec::with_capacity(raw.guarantors.len());
        for g in raw.guarantors {
            let party = r.party(&g.party);
            let withdrawal = r.probability(&g.withdrawal, "withdrawal probability");
            let delay = match &g.delay {
                Some(d) => r.delay(d),
                None => default.delay.clone(),
            };
            let Some(party) = party else {
                continue;
            };
            if !seen.insert(party.clone()) {
                r.error(
                    span(&g.party),
                    format!("`{party}` is given twice: give one [[guarantors]] entry per party"),
                );
                continue;
            }
            listed.push(GuarantorRisk {
                party,
                profile: RiskProfile {
                    withdrawal,
                    delay,
                    reason: g.reason,
                },
            });
        }
        let mut shocks = Vec::with_capacity(raw.shocks.len());
        for s in raw.shocks {
            let name = s.name.get_ref().clone();
            if s.members.get_ref().is_empty() {
                r.error(
                    span(&s.members),
                    format!("shock `{name}` has no members: name the parties that leave together"),
                );
            }
            let members: Vec<String> = s
                .members
                .get_ref()
                .iter()
                .filter_map(|m| r.party(m))
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect();
            let probability = r.probability(&s.probability, "shock probability");
            shocks.push(Shock {
                name,
                members,
                probability,
                reason: s.reason,
            });
        }
        if r.diags.has_errors() {
            return Err(r.diags.into_sorted());
        }
        Ok(Risks {
            default,
            guarantors: listed,
            shocks,
        })
    }

    /// The profile of `party`: its own, or the default.
    pub fn profile(&self, party: &str) -> &RiskProfile {
        self.guarantors
            .iter()
            .find(|g| g.party == party)
            .map_or(&self.default, |g| &g.profile)
    }

    /// Checks risks built by hand as [`Risks::parse`] checks a file, against `guarantors`.
    pub fn validate(&self, guarantors: &[String]) -> Result<(), StressError> {
        let bad = |m: String| Err(StressError::Risks(m));
        let profiles = std::iter::once(("default", &self.default)).chain(
            self.guarantors
                .iter()
                .map(|g| (g.party.as_str(), &g.profile)),
        );
        for (who, p) in profiles {
            if !(0.0..=1.0).contains(&p.withdrawal) {
                return bad(format!(
                    "the withdrawal probability of {who} ({}) is outside [0, 1]",
                    p.withdrawal
                ));
            }
            if p.delay.is_empty() || p.delay.len() > MAX_DELAY_OPTIONS {
                return bad(format!(
                    "the delay distribution of {who} has {} options: give 1 to {MAX_DELAY_OPTIONS}",
                    p.delay.len()
                ));
            }
            for o in &p.delay {
                if o.months > MAX_DELAY_MONTHS {
                    return Err(StressError::Delay {
                        months: o.months,
                        max: MAX_DELAY_MONTHS,
                    });
                }
                if !(0.0..=1.0).contains(&o.probability) {
                    return bad(format!(
                        "a delay probability of {who} ({}) is outside [0, 1]",
                        o.probability
                    ));
                }
            }
            let sum: f64 = p.delay.iter().map(|o| o.probability).sum();
            if (sum - 1.0).abs() > SUM_TOLERANCE {
                return bad(format!(
                    "the delay probabilities of {who} sum to {sum}, not 1"
                ));
            }
        }
        for g in &self.guarantors {
            if !guarantors.contains(&g.party) {
                return Err(StressError::unknown_party(&g.party, guarantors));
            }
        }
        for s in &self.shocks {
            if s.members.is_empty() {
                return bad(format!("shock `{}` has no members", s.name));
            }
            if let Some(m) = s.members.iter().find(|m| !guarantors.contains(m)) {
                return Err(StressError::unknown_party(m, guarantors));
            }
            if !(0.0..=1.0).contains(&s.probability) {
                return bad(format!(
                    "the probability of shock `{}` ({}) is outside [0, 1]",
                    s.name, s.probability
                ));
            }
        }
        Ok(())
    }
}
