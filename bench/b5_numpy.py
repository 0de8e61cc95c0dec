#!/usr/bin/env python3
"""Benchmark B5, reference implementation: the Monte Carlo of `compact-stress` in numpy.

Usage: python3 bench/b5_numpy.py INPUT.json

INPUT.json is a `compact_stress::BenchInput` (written by
`cargo run --release -p compact-stress --example b5 -- 100000 2025 INPUT.json`, or by the CLI):
support per guarantor and year in cents, yearly withdrawal probabilities, delay distributions,
correlated shocks, the number of scenarios and a seed.

The model is the Rust one (see crates/stress/src/mc.rs):
- each guarantor leaves in year k with probability (1-p)^k p (the year-by-year coin flips drawn
  at once: a geometric variable); leaving removes that year and every later year;
- each shock first fires in year k with probability (1-q)^k q and removes all its members;
- each guarantor draws one delay per scenario; a delay of 12w + r months moves its support w
  years on, then the share r/12 (rounded half to even, in cents) one year further; what passes
  the last year is lost;
- delivered support in a year = sum over the guarantors still in of their delayed support.

Statistics per year: mean (rounded half to even), nearest-rank P5, P50, P95, and the share of
scenarios meeting the requirement. numpy's random streams are not ChaCha8's: results agree with
the Rust ones only statistically.

Timing covers the simulation and the statistics only (not reading the JSON, not precomputing
the delayed support), as the median of 3 runs after a warm-up. Prints one JSON line.
"""

import json
import sys
import time

import numpy as np

CHUNK = 10_000  # scenarios per block when summing, to bound memory (~CHUNK * G * Y * 8 bytes)


def delayed_row(row, months):
    """`row` (int64 cents per year) delayed by `months`, and what passes the end."""
    whole, rest = divmod(months, 12)
    n = len(row)
    # moved = round_half_even(row * rest / 12), exactly in integers
    q, r = np.divmod(row * rest, 12)
    moved = q + ((2 * r > 12) | ((2 * r == 12) & (q % 2 == 1)))
    stay = row - moved
    out = np.zeros(n, dtype=np.int64)
    if whole < n:
        out[whole:] += stay[: n - whole]
    if whole + 1 < n:
        out[whole + 1 :] += moved[: n - whole - 1]
    return out


def first_year(u, p, years):
    """Index of the first year an event of yearly probability p happens (years if never)."""
    p = np.asarray(p, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        k = np.floor(np.log1p(-u) / np.log1p(-p))
    k = np.where(p <= 0.0, years, k)
    k = np.where(p >= 1.0, 0, k)
    return np.minimum(np.nan_to_num(k, nan=years, posinf=years), years).astype(np.int64)


def prepare(inp):
    support = np.array(inp["support"], dtype=np.int64)  # (G, Y)
    g_n, y_n = support.shape
    k_n = max(len(d["months"]) for d in inp["delay"])
    delayed = np.zeros((g_n, k_n, y_n), dtype=np.int64)
    cum = np.ones((g_n, k_n), dtype=np.float64)
    for g, d in enumerate(inp["delay"]):
        c = np.cumsum(d["probability"])
        c[-1] = 1.0
        cum[g, : len(c)] = c
        for k, m in enumerate(d["months"]):
            delayed[g, k] = delayed_row(support[g], m)
    requirement = np.array(
        [np.nan if r is None else r for r in inp["requirement"]], dtype=np.float64
    )
    return {
        "n": int(inp["scenarios"]),
        "g_n": g_n,
        "y_n": y_n,
        "p": np.array(inp["withdrawal"], dtype=np.float64),
        "delayed": delayed,
        "cum": cum,
        "shocks": [(np.array(s["members"], dtype=np.int64), s["probability"]) for s in inp["shocks"]],
        "requirement": requirement,
    }


def simulate(m, rng):
    n, g_n, y_n = m["n"], m["g_n"], m["y_n"]
    # the year each guarantor leaves, then the shocks
    exits = first_year(rng.random((n, g_n)), m["p"][None, :], y_n)
    for members, q in m["shocks"]:
        fired = first_year(rng.random(n), q, y_n)
        exits[:, members] = np.minimum(exits[:, members], fired[:, None])
    # one delay option per guarantor and scenario
    w = rng.random((n, g_n))
    option = (w[:, :, None] >= m["cum"][None, :, :]).sum(axis=2)
    option = np.minimum(option, m["cum"].shape[1] - 1)
    # delivered support, by blocks of scenarios
    delivered = np.empty((n, y_n), dtype=np.int64)
    years = np.arange(y_n)[None, None, :]
    g_idx = np.arange(g_n)[None, :]
    for start in range(0, n, CHUNK):
        stop = min(start + CHUNK, n)
        rows = m["delayed"][g_idx, option[start:stop]]  # (b, G, Y)
        alive = years < exits[start:stop, :, None]
        delivered[start:stop] = np.where(alive, rows, 0).sum(axis=1)
    return delivered


def statistics(delivered, requirement):
    n = delivered.shape[0]
    total = delivered.sum(axis=0, dtype=np.int64)  # exact for these magnitudes
    q, r = np.divmod(total, n)
    mean = q + ((2 * r > n) | ((2 * r == n) & (q % 2 == 1)))
    ordered = np.sort(delivered, axis=0)

    def nearest(pct):
        rank = max(-(-pct * n // 100), 1)
        return ordered[rank - 1]

    meet = (delivered >= requirement[None, :]).mean(axis=0)
    p_meet = [None if np.isnan(req) else float(x) for req, x in zip(requirement, meet)]
    return {
        "mean": [int(x) for x in mean],
        "p5": [int(x) for x in nearest(5)],
        "p50": [int(x) for x in nearest(50)],
        "p95": [int(x) for x in nearest(95)],
        "p_meet": p_meet,
    }


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: b5_numpy.py INPUT.json")
    with open(sys.argv[1], encoding="utf-8") as f:
        inp = json.load(f)
    m = prepare(inp)
    seed = int(inp["seed"])
    statistics(simulate(m, np.random.default_rng(seed)), m["requirement"])  # warm-up
    times = []
    result = None
    for _ in range(3):
        rng = np.random.default_rng(seed)
        start = time.perf_counter()
        result = statistics(simulate(m, rng), m["requirement"])
        times.append(time.perf_counter() - start)
    times.sort()
    print(json.dumps({"seconds": times[1], **result}))


if __name__ == "__main__":
    main()
