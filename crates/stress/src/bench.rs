//! Benchmark B5: a synthetic case of 40 guarantors × 1 line × 20 years, and its input for the
//! numpy reference implementation (`bench/b5_numpy.py`).

use serde::Serialize;

use crate::baseline::{Baseline, BaselineInput, Line};
use crate::error::StressError;
use crate::mc::{rng, uniform_f64};
use crate::risks::{DelayOption, GuarantorRisk, RiskProfile, Risks, Shock};

/// Guarantors in the synthetic case.
pub const BENCH_GUARANTORS: usize = 40;
/// Years in the synthetic case (2025-2044).
pub const BENCH_YEARS: usize = 20;
/// Scenarios of benchmark B5.
pub const BENCH_SCENARIOS: u64 = 100_000;

const FIRST_YEAR: i16 = 2025;

fn delay(options: &[(u32, f64)]) -> Vec<DelayOption> {
    options
        .iter()
        .map(|(months, probability)| DelayOption {
            months: *months,
            probability: *probability,
        })
        .collect()
}

/// The synthetic case of benchmark B5, built deterministically from `seed`: 40 guarantors
/// (`G01`…`G40`) scheduling 0.05 to 5 billion EUR a year each (±20% from year to year) on one
/// line (`weapons`, EUR) over 2025-2044, a requirement of 90% of the scheduled total, yearly
/// withdrawal probabilities of 1% to 10%, three shapes of delay distribution and three
/// correlated shocks.
pub fn bench_input(seed: u64) -> Result<(Baseline, Risks), StressError> {
    // A stream of its own, far from the scenario streams.
    let mut r = rng(seed);
    r.set_stream(u64::MAX);
    let guarantors: Vec<String> = (1..=BENCH_GUARANTORS).map(|i| format!("G{i:02}")).collect();
    let mut support = Vec::with_capacity(BENCH_GUARANTORS);
    let mut gdp = Vec::with_capacity(BENCH_GUARANTORS);
    let mut profiles = Vec::with_capacity(BENCH_GUARANTORS);
    let shapes = [
        delay(&[(0, 0.7), (6, 0.2), (12, 0.1)]),
        delay(&[(0, 0.5), (3, 0.3), (9, 0.15), (18, 0.05)]),
        delay(&[(0, 1.0)]),
    ];
    for (i, code) in guarantors.iter().enumerate() {
        // log-uniform between 0.05e9 and 5e9 EUR, in cents
        let level = 0.05e9 * 100f64.powf(uniform_f64(&mut r));
        let row: Vec<i64> = (0..BENCH_YEARS)
            .map(|_| (level * (0.8 + 0.4 * uniform_f64(&mut r)) * 100.0).round() as i64)
            .collect();
        support.push(vec![row]);
        gdp.push(Some((level * 200.0 * 100.0).round() as i64));
        let withdrawal = 0.01 + 0.09 * uniform_f64(&mut r);
        let shape = shapes.get(i % shapes.len()).cloned().unwrap_or_default();
        profiles.push(GuarantorRisk {
            party: code.clone(),
            profile: RiskProfile {
                withdrawal,
                delay: shape,
                reason: None,
            },
        });
    }
    let total: Vec<i64> = (0..BENCH_YEARS)
        .map(|y| {
            support
                .iter()
                .filter_map(|g| g.first().and_then(|l| l.get(y)))
                .sum::<i64>()
        })
        .collect();
    let requirement: Vec<Option<i64>> = total.iter().map(|t| Some(t / 10 * 9)).collect();
    let members = |range: std::ops::Range<usize>| -> Vec<String> {
        guarantors
            .get(range)
            .map(<[String]>::to_vec)
            .unwrap_or_default()
    };
    let shocks = vec![
        Shock {
            name: "pair".to_owned(),
            members: members(0..2),
            probability: 0.01 + 0.02 * uniform_f64(&mut r),
            reason: None,
        },
        Shock {
            name: "bloc".to_owned(),
            members: members(2..7),
            probability: 0.01 + 0.02 * uniform_f64(&mut r),
            reason: None,
        },
        Shock {
            name: "coalition".to_owned(),
            members: members(10..21),
            probability: 0.005 + 0.01 * uniform_f64(&mut r),
            reason: None,
        },
    ];
    let baseline = Baseline::new(BaselineInput {
        currency: "EUR".to_owned(),
        first_year: FIRST_YEAR,
        last_year: FIRST_YEAR + BENCH_YEARS as i16 - 1,
        guarantors,
        gdp,
        lines: vec![Line::money("weapons", "EUR")],
        requirements: vec![requirement],
        support,
    })?;
    let risks = Risks {
        default: RiskProfile::default(),
        guarantors: profiles,
        shocks,
    };
    Ok((baseline, risks))
}

/// A delay distribution of the benchmark input.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BenchDelay {
    /// Months of each option.
    pub months: Vec<u32>,
    /// Probability of each option (summing to 1).
    pub probability: Vec<f64>,
}

/// A shock of the benchmark input.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BenchShock {
    /// Its name.
    pub name: String,
    /// Indices of its members in `guarantors`.
    pub members: Vec<usize>,
    /// Its yearly probability.
    pub probability: f64,
}

/// The input of `bench/b5_numpy.py`, as JSON: one line of a baseline with its risks.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BenchInput {
    /// Scenarios to run.
    pub scenarios: u64,
    /// The seed (numpy's streams differ from these: results agree only statistically).
    pub seed: u64,
    /// The years.
    pub years: Vec<i16>,
    /// Guarantor codes.
    pub guarantors: Vec<String>,
    /// Scheduled support per guarantor and year, in cents.
    pub support: Vec<Vec<i64>>,
    /// The requirement per year, in cents.
    pub requirement: Vec<Option<i64>>,
    /// Yearly withdrawal probability per guarantor.
    pub withdrawal: Vec<f64>,
    /// Delay distribution per guarantor.
    pub delay: Vec<BenchDelay>,
    /// Correlated shocks.
    pub shocks: Vec<BenchShock>,
}

impl BenchInput {
    /// The input for the first line of `baseline` under `risks`.
    pub fn new(
        baseline: &Baseline,
        risks: &Risks,
        scenarios: u64,
        seed: u64,
    ) -> Result<BenchInput, StressError> {
        risks.validate(baseline.guarantors())?;
        if baseline.lines().is_empty() {
            return Err(StressError::Baseline("no line to benchmark".to_owned()));
        }
        let guarantors = baseline.guarantors().to_vec();
        let profiles: Vec<&RiskProfile> = guarantors.iter().map(|g| risks.profile(g)).collect();
        Ok(BenchInput {
            scenarios,
            seed,
            years: baseline.years(),
            support: (0..guarantors.len())
                .map(|g| baseline.support(g, 0).to_vec())
                .collect(),
            requirement: baseline.requirements(0).to_vec(),
            withdrawal: profiles.iter().map(|p| p.withdrawal).collect(),
            delay: profiles
                .iter()
                .map(|p| BenchDelay {
                    months: p.delay.iter().map(|o| o.months).collect(),
                    probability: p.delay.iter().map(|o| o.probability).collect(),
                })
                .collect(),
            shocks: risks
                .shocks
                .iter()
                .map(|s| BenchShock {
                    name: s.name.clone(),
                    members: s
                        .members
                        .iter()
                        .filter_map(|m| baseline.guarantor_index(m))
                        .collect(),
                    probability: s.probability,
                })
                .collect(),
            guarantors,
        })
    }
}
