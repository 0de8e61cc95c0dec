#!/bin/sh
# B4 (PRODUCT.md): the status report over N deliveries (default 1,000,000), 40 guarantors and
# 10 pillars, beside DuckDB running the equivalent SQL over the same data, in the same run.
# Every figure of the two is compared; a mismatch fails the script.
#
#   sh bench/b4.sh [N]
set -eu
N=${1:-1000000}
python3 -m pip install --quiet duckdb
cargo build --release --quiet
DIR=$(mktemp -d)/b4
target/release/compact bench status --dir "$DIR" --n "$N" | tee "$DIR.rust"
python3 bench/b4_duckdb.py "$DIR" | tee "$DIR.duckdb"
ENGINE=$(sed -n 's/^B4_ENGINE_SECONDS=//p' "$DIR.rust")
DUCK=$(sed -n 's/^B4_DUCKDB_SECONDS=//p' "$DIR.duckdb")
awk -v e="$ENGINE" -v d="$DUCK" 'BEGIN { printf "B4 ratio: engine / DuckDB = %.2fx\n", e / d }'
rm -rf "$DIR"
