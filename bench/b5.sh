#!/bin/sh
# B5 (PRODUCT.md): Monte Carlo, N scenarios (default 100,000) x 40 guarantors x 20 years,
# beside a vectorised numpy implementation of the same model on the same input, in the same run.
#
#   sh bench/b5.sh [N]
set -eu
N=${1:-100000}
python3 -m pip install --quiet numpy
cargo build --release --quiet
INPUT=$(mktemp -d)/b5-input.json
target/release/compact bench stress --scenarios "$N" --input "$INPUT" | tee "$INPUT.rust"
python3 bench/b5_numpy.py "$INPUT" | tee "$INPUT.numpy"
RUST=$(sed -n 's/^B5_RUST_SECONDS=//p' "$INPUT.rust")
NUMPY=$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).read().strip().splitlines()[-1])["seconds"])' "$INPUT.numpy")
awk -v r="$RUST" -v n="$NUMPY" 'BEGIN { printf "B5 ratio: numpy / Rust = %.1fx (Rust %.3f s, numpy %.3f s)\n", n / r, r, n }'
