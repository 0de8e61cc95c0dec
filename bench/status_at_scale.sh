#!/bin/sh
# Status at scale (issue 11): `compact status --by guarantor` end to end and a server's status
# request on a store of N deliveries (default 1,000,000: 1.9M entries), beside DuckDB answering
# the same question from its own database file, in the same run.
#
#   sh bench/status_at_scale.sh [N]
#   WORK=/tmp/scale sh bench/status_at_scale.sh [N]   # keep the stores there, reuse them next time
#
# The server's requests: the first (it reads the log's records from the store's projection and
# files them once), then requests at 20 different log sizes (`at_size`: none is in the
# server's report cache, so each is the engine's work over the filing it holds, as after a
# write), then the same request 20 times (answered from the cache). curl's total time each.
set -eu
N=${1:-1000000}
AS_OF=2026-11-28
python3 -m pip install --quiet duckdb
cargo build --release --quiet
BIN=${CARGO_TARGET_DIR:-$PWD/target}/release/compact
SERVER=
if [ -n "${WORK:-}" ]; then
  mkdir -p "$WORK"
  trap 'kill "$SERVER" 2>/dev/null || true' EXIT
else
  WORK=$(mktemp -d)
  trap 'kill "$SERVER" 2>/dev/null || true; rm -rf "$WORK"' EXIT
fi
[ -d "$WORK/store" ] || "$BIN" bench status-store --dir "$WORK/store" --n "$N" | tail -3
echo "== compact status --by guarantor, process start to output (3 runs)"
for _ in 1 2 3; do
  /usr/bin/time -f "%e s, peak RSS %M KiB" "$BIN" status --dir "$WORK/store" --by guarantor \
    --as-of "$AS_OF" --format json > "$WORK/cli.json"
done
"$BIN" serve --dir "$WORK/store" --listen 127.0.0.1:0 > "$WORK/serve.out" 2>&1 &
SERVER=$!
for _ in $(seq 1 100); do
  URL=$(sed -n 's/^listening on //p' "$WORK/serve.out")
  [ -n "$URL" ] && break
  sleep 0.1
done
SIZE=$(curl -sf "$URL/v1/log" | python3 -c 'import json,sys; print(json.load(sys.stdin)["size"])')
Q="as_of=$AS_OF&by=guarantor"
t() { curl -sf -o "$WORK/server.json" -w '%{time_total}\n' "$URL/v1/status?$1"; }
echo "== server: the first status request (records read and filed once)"
t "$Q"
python3 - "$WORK/cli.json" "$WORK/server.json" <<'PY'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
print("server answer equals the CLI's JSON:", a == b)
sys.exit(0 if a == b else 1)
PY
echo "== server: 20 requests at different log sizes (none cached), seconds"
for k in $(seq 1 20); do t "$Q&at_size=$((SIZE - k))"; done | sort -n | awk '{ v[NR] = $1 } END { printf "min %s  median %s  max %s\n", v[1], v[int((NR + 1) / 2)], v[NR] }'
echo "== server: the same request 20 times (cached), seconds"
for _ in $(seq 1 20); do t "$Q"; done | sort -n | awk '{ v[NR] = $1 } END { printf "min %s  median %s  max %s\n", v[1], v[int((NR + 1) / 2)], v[NR] }'
grep -E "^[0-9]+ " /proc/"$SERVER"/status 2>/dev/null || true
echo "server peak RSS: $(grep VmHWM /proc/"$SERVER"/status | awk '{print $2, $3}')"
kill "$SERVER"; SERVER=
echo "== DuckDB: the same data, the same question, from its own database file"
[ -d "$WORK/csv" ] || "$BIN" bench status --dir "$WORK/csv" --n "$N" | grep -E "^B4 " || true
python3 bench/b4_duckdb.py "$WORK/csv" "$AS_OF" --database "$WORK/b4.duckdb"
