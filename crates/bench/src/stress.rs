//! B5 (PRODUCT.md): the Monte Carlo on the synthetic case (40 guarantors, 20 years, one
//! line), timed as the median of 3 runs after a warm-up, beside numpy on the same input.

use std::path::Path;
use std::time::Instant;

use anyhow::Context as _;
use compact_stress::{McConfig, monte_carlo, to_decimal};

use crate::Report;

/// B5: `scenarios` scenarios from `seed`; writes the same input for `bench/b5_numpy.py` to
/// `input`.
pub fn stress(scenarios: u64, seed: u64, input: &Path) -> anyhow::Result<Report> {
    let mut r = Report::default();
    let (baseline, risks) = compact_stress::bench_input(seed)?;
    let data = compact_stress::BenchInput::new(&baseline, &risks, scenarios, seed)?;
    std::fs::write(input, serde_json::to_string(&data)?)
        .with_context(|| format!("cannot write {}", input.display()))?;
    let cfg = McConfig {
        scenarios,
        seed,
        years: None,
    };
    let mut report = monte_carlo(&baseline, &risks, &cfg, |_| {})?;
    let mut times = Vec::new();
    for _ in 0..3 {
        let start = Instant::now();
        report = monte_carlo(&baseline, &risks, &cfg, |_| {})?;
        times.push(start.elapsed().as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    let median = times.get(1).copied().unwrap_or(f64::NAN);
    let cells = report
        .lines
        .first()
        .map(|l| l.years.as_slice())
        .unwrap_or_default();
    r.line(format!(
        "B5 Monte Carlo: {scenarios} scenarios x {} guarantors x {} years on {} threads: {median:.3} s (median of 3)",
        baseline.guarantors().len(),
        baseline.year_count(),
        rayon::current_num_threads()
    ));
    r.line(format!(
        "B5 means by year: {}",
        cells
            .iter()
            .map(|c| to_decimal(c.mean).normalize().to_string())
            .collect::<Vec<_>>()
            .join(" ")
    ));
    r.line(format!(
        "B5 input for the numpy reference: {}",
        input.display()
    ));
    r.line(format!("B5_RUST_SECONDS={median:.6}"));
    Ok(r)
}
