//! What can go wrong in a stress test.

use compact_model::value::ValueError;

/// Why a baseline, a what-if or a Monte Carlo run could not be made.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum StressError {
    /// A party code that is not a guarantor of the baseline.
    #[error("unknown party `{code}`: the guarantors are {valid}")]
    UnknownParty {
        /// The code given.
        code: String,
        /// The valid codes, comma-separated.
        valid: String,
    },
    /// A year outside the baseline's years.
    #[error("year {year} is outside the compact's years {first}-{last}")]
    YearOutOfRange {
        /// The year given.
        year: i16,
        /// The first year of the baseline.
        first: i16,
        /// The last year of the baseline.
        last: i16,
    },
    /// A Monte Carlo horizon outside `1..=` the baseline's number of years.
    #[error(
        "a horizon of {years} years is out of range: give 1 to {max} (the compact's years are {first}-{last})"
    )]
    Horizon {
        /// The number of years given.
        years: i16,
        /// The most years allowed (the baseline's).
        max: usize,
        /// The first year of the baseline.
        first: i16,
        /// The last year of the baseline.
        last: i16,
    },
    /// A number of scenarios of 0 or above the limit.
    #[error("{given} scenarios is out of range: give 1 to {max}")]
    Scenarios {
        /// The number given.
        given: u64,
        /// The limit ([`crate::MAX_SCENARIOS`]).
        max: u64,
    },
    /// A delay above the limit.
    #[error("a delay of {months} months is out of range: give 0 to {max} months")]
    Delay {
        /// The delay given.
        months: u32,
        /// The limit ([`crate::MAX_DELAY_MONTHS`]).
        max: u32,
    },
    /// An empty or too long range of years.
    #[error("years {first}-{last}: give a non-empty range of at most {max} years")]
    Years {
        /// First year given.
        first: i16,
        /// Last year given.
        last: i16,
        /// The most years a baseline may span ([`crate::MAX_YEARS`]).
        max: usize,
    },
    /// An amount of the compact that could not be valued in the reporting currency.
    #[error("cannot value {what}: {source}")]
    Value {
        /// What was being valued (a commitment, a requirement, a GDP figure).
        what: String,
        /// Why.
        source: ValueError,
    },
    /// A figure beyond the range of the integer scale (cents, hundredths of a unit).
    #[error("{0} is out of range: sums must stay below 9.2e16 in the reporting currency")]
    Overflow(String),
    /// A compact with no tranche and no requirement.
    #[error("the compact schedules nothing and states no requirement: nothing to stress")]
    NothingToStress,
    /// Raw arrays given to [`crate::Baseline::new`] that do not fit together.
    #[error("invalid baseline: {0}")]
    Baseline(String),
    /// Risks built by hand (not parsed) that are not valid.
    #[error("invalid risks: {0}")]
    Risks(String),
}

impl StressError {
    /// The error for `code`, not one of `guarantors`.
    pub(crate) fn unknown_party(code: &str, guarantors: &[String]) -> Self {
        StressError::UnknownParty {
            code: code.to_owned(),
            valid: if guarantors.is_empty() {
                "none".to_owned()
            } else {
                guarantors.join(", ")
            },
        }
    }
}
