"""B4 reference: DuckDB running the status report's SQL over the data `compact bench status`
wrote, timed in the same run, and every figure compared with the engine's rows.

Usage: python3 bench/b4_duckdb.py DIR [AS_OF] [--database FILE]

With --database, the tables are kept in a DuckDB database file (written from DIR's CSV files
once); the script then also times, in a fresh process each time, what a user of that file
waits for: opening it read-only, running the query and fetching the rows (three runs).

The SQL computes what the engine computes per guarantor: due (scheduled on or before the
date), reported, confirmed (a confirmation's part, or the whole report), arrears (due minus
confirmed, never below zero, per commitment) and the on-time rate (deliveries, earliest
first, fill the tranches, earliest first; what fills a tranche on or before its due date is on
time). The tables are loaded into memory before the timing starts; the time is the median of
three runs of the query after a warm-up.
"""

import json
import statistics
import sys
import time
from decimal import Decimal

import duckdb

SQL = """
WITH due AS (
  SELECT commitment, any_value(guarantor) AS guarantor,
         sum(CASE WHEN due <= DATE '{as_of}' THEN amount ELSE 0 END) AS due
  FROM tranches GROUP BY commitment
),
delivered AS (
  SELECT r.idx, r.commitment, r.date, r.amount AS reported, c.amount AS confirmed
  FROM reports r LEFT JOIN confirms c ON c.report = r.idx
  WHERE r.date <= DATE '{as_of}'
),
per_commitment AS (
  SELECT commitment, sum(reported) AS reported, coalesce(sum(confirmed), 0) AS confirmed
  FROM delivered GROUP BY commitment
),
-- Cumulative ranges: each confirmed delivery covers [hi - amount, hi) of its commitment's
-- confirmed stream in date order; each tranche covers [hi - amount, hi) of the schedule.
d AS (
  SELECT commitment, date, confirmed AS q,
         sum(confirmed) OVER (PARTITION BY commitment ORDER BY date, idx
                              ROWS UNBOUNDED PRECEDING) AS hi
  FROM delivered WHERE confirmed IS NOT NULL
),
t AS (
  SELECT commitment, due, amount AS q,
         sum(amount) OVER (PARTITION BY commitment ORDER BY due
                           ROWS UNBOUNDED PRECEDING) AS hi
  FROM tranches
),
on_time AS (
  SELECT d.commitment,
         sum(least(d.hi, t.hi) - greatest(d.hi - d.q, t.hi - t.q)) AS on_time
  FROM d JOIN t ON d.commitment = t.commitment
   AND d.hi - d.q < t.hi AND t.hi - t.q < d.hi AND d.date <= t.due
  GROUP BY d.commitment
)
SELECT due.guarantor AS key,
       sum(due.due) AS due,
       sum(coalesce(p.reported, 0)) AS reported,
       sum(coalesce(p.confirmed, 0)) AS confirmed,
       sum(greatest(due.due - coalesce(p.confirmed, 0), 0)) AS arrears,
       sum(coalesce(o.on_time, 0)) AS on_time
FROM due
LEFT JOIN per_commitment p USING (commitment)
LEFT JOIN on_time o USING (commitment)
GROUP BY due.guarantor ORDER BY key
"""


COLD = """
import sys, time
start = time.perf_counter()
import duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
con.execute("PRAGMA threads=2")
rows = con.execute(sys.argv[2]).fetchall()
print(f"{time.perf_counter() - start:.6f} {len(rows)}")
"""


def main() -> int:
    args = sys.argv[1:]
    database = None
    if "--database" in args:
        at = args.index("--database")
        database = args[at + 1]
        del args[at:at + 2]
    folder = args[0]
    as_of = args[1] if len(args) > 1 else "2026-11-28"
    if database:
        import os
        for leftover in [database, database + ".wal"]:
            if os.path.exists(leftover):
                os.remove(leftover)
    con = duckdb.connect(database) if database else duckdb.connect()
    con.execute("PRAGMA threads=2")
    dec = "DECIMAL(18,2)"
    con.execute(
        f"CREATE TABLE tranches AS SELECT commitment, guarantor, pillar, due::DATE AS due, "
        f"amount::{dec} AS amount FROM read_csv('{folder}/tranches.csv', header=true, all_varchar=true)"
    )
    con.execute(
        f"CREATE TABLE reports AS SELECT idx::BIGINT AS idx, commitment, date::DATE AS date, "
        f"amount::{dec} AS amount FROM read_csv('{folder}/reports.csv', header=true, all_varchar=true)"
    )
    con.execute(
        f"CREATE TABLE confirms AS SELECT idx::BIGINT AS idx, report::BIGINT AS report, "
        f"amount::{dec} AS amount FROM read_csv('{folder}/confirms.csv', header=true, all_varchar=true)"
    )
    query = SQL.format(as_of=as_of)
    if database:
        con.execute("CHECKPOINT")
        con.close()
        import subprocess
        cold = []
        for _ in range(3):
            out = subprocess.run([sys.executable, "-c", COLD, database, query],
                                 capture_output=True, text=True, check=True).stdout.split()
            cold.append(float(out[0]))
        print("B4 DuckDB from its database file, fresh process each (open, query, fetch): "
              + ", ".join(f"{c:.3f}" for c in cold) + " s")
        con = duckdb.connect(database, read_only=True)
        con.execute("PRAGMA threads=2")
    con.execute(query).fetchall()  # warm-up
    times = []
    rows = None
    for _ in range(3):
        start = time.perf_counter()
        rows = con.execute(query).fetchall()
        times.append(time.perf_counter() - start)
    seconds = statistics.median(times)

    engine = json.load(open(f"{folder}/engine.json"))
    by_key = {r["key"]: r for r in engine["rows"]}
    mismatches = 0
    for key, due, reported, confirmed, arrears, on_time in rows:
        e = by_key.get(key)
        if e is None:
            print(f"B4 mismatch: {key} is not in the engine's rows")
            mismatches += 1
            continue
        for name, value in [("due", due), ("reported", reported), ("confirmed", confirmed),
                            ("arrears", arrears)]:
            if Decimal(e[name]) != Decimal(value):
                print(f"B4 mismatch: {key} {name}: engine {e[name]}, DuckDB {value}")
                mismatches += 1
        rate = (Decimal(on_time) / Decimal(confirmed)).quantize(Decimal("0.0001")) \
            if confirmed else None
        theirs = Decimal(e["on_time_rate"]) if e["on_time_rate"] is not None else None
        if rate != theirs:
            print(f"B4 mismatch: {key} on_time_rate: engine {theirs}, DuckDB {rate}")
            mismatches += 1
    print(f"B4 DuckDB {duckdb.__version__}: the same report in SQL: {seconds:.3f} s (median of 3)")
    print(f"B4 figures compared: {len(rows)} rows x 5 figures, {mismatches} mismatches")
    print(f"B4_DUCKDB_SECONDS={seconds:.6f}")
    return 1 if mismatches else 0


if __name__ == "__main__":
    sys.exit(main())
