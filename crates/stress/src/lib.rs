//! Stress tests of the compact's guarantees: what happens to the support Ukraine receives when
//! guarantors withdraw or deliver late.
//!
//! - [`Baseline`]: the scheduled support per guarantor, line (a pillar and a measure: money in
//!   the reporting currency, or a physical unit) and year, beside the requirements, all as
//!   integers (cents, or hundredths of a unit).
//! - [`what_if`]: a deterministic scenario (some guarantors withdraw from a year; everything
//!   slips by some months), [`single_points_of_failure`] and [`rebalance`] (who would carry the
//!   gap a what-if opens, by share of GDP).
//! - [`monte_carlo`]: seeded random scenarios of withdrawals, correlated shocks and delays,
//!   with the [`Risks`] read from a TOML file; the same seed gives the same report whatever the
//!   number of threads.
//! - [`bench_input`] and [`BenchInput`]: the synthetic case of benchmark B5.
//!
//! **No IO**: this crate takes values and strings and returns values. Money is never floating
//! point; probabilities are.

#![warn(missing_docs)]

mod baseline;
mod bench;
mod error;
mod mc;
mod risks;
mod whatif;

pub use baseline::{
    Baseline, BaselineInput, Line, MAX_YEARS, Measure, SCALE, to_decimal, years_of,
};
pub use bench::{
    BENCH_GUARANTORS, BENCH_SCENARIOS, BENCH_YEARS, BenchDelay, BenchInput, BenchShock, bench_input,
};
pub use error::StressError;
pub use mc::{MAX_SCENARIOS, McConfig, McLine, McReport, McYear, Survival, monte_carlo};
pub use risks::{DelayOption, GuarantorRisk, MAX_DELAY_OPTIONS, RiskProfile, Risks, Shock};
pub use whatif::{
    MAX_DELAY_MONTHS, Rebalance, RebalancePart, SPOF_MARGIN_PERCENT, Spof, WhatIf, WhatIfLine,
    WhatIfReport, WhatIfYear, rebalance, single_points_of_failure, what_if,
};

#[cfg(test)]
mod tests;
