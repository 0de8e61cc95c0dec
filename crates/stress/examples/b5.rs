//! Benchmark B5 in Rust: the Monte Carlo on the synthetic case (40 guarantors × 1 line × 20
//! years, 100,000 scenarios), timed as the median of 3 runs after a warm-up.
//!
//! `cargo run --release -p compact-stress --example b5 [scenarios] [seed] [input.json]`
//!
//! With a third argument, writes the input of `bench/b5_numpy.py` there first.

#![allow(clippy::print_stdout)]

use std::time::Instant;

use compact_stress::{BENCH_SCENARIOS, BenchInput, McConfig, bench_input, monte_carlo};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let scenarios = args
        .next()
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(BENCH_SCENARIOS);
    let seed = args.next().map(|s| s.parse()).transpose()?.unwrap_or(2025);
    let (baseline, risks) = bench_input(seed)?;
    if let Some(path) = args.next() {
        let input = BenchInput::new(&baseline, &risks, scenarios, seed)?;
        std::fs::write(&path, serde_json::to_string(&input)?)?;
    }
    let config = McConfig {
        scenarios,
        seed,
        years: None,
    };
    let mut times = Vec::new();
    let mut report = monte_carlo(&baseline, &risks, &config, |_| {})?;
    for _ in 0..3 {
        let start = Instant::now();
        report = monte_carlo(&baseline, &risks, &config, |_| {})?;
        times.push(start.elapsed().as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    let cells = report
        .lines
        .first()
        .map(|l| l.years.as_slice())
        .unwrap_or_default();
    let pick = |f: fn(&compact_stress::McYear) -> i64| cells.iter().map(f).collect::<Vec<_>>();
    println!(
        "{}",
        serde_json::json!({
            "seconds": times.get(1),
            "threads": rayon::current_num_threads(),
            "mean": pick(|c| c.mean),
            "p5": pick(|c| c.p5),
            "p50": pick(|c| c.p50),
            "p95": pick(|c| c.p95),
            "p_meet": cells.iter().map(|c| c.p_meet).collect::<Vec<_>>(),
        })
    );
    Ok(())
}
