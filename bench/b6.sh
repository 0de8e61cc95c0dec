#!/bin/sh
# B6 (PRODUCT.md, issue 11): the server's throughput and latency on loopback, the load tool
# (wrk, from Debian) and the release server sharing this machine's cores, in one run:
#
# - reads on the demo compact: an entry and an inclusion proof (random indices), the status
#   by guarantor, beside /healthz (a handler that does nothing: the ceiling here);
# - writes: single signed statements (distinct delivery reports) posted by 16 connections,
#   each answered once durable; then the log's size is checked and `compact verify` run;
#   beside `compact bench ingest` (the ledger's append rate without HTTP) in the same run.
#
#   sh bench/b6.sh            # 10 s per measurement
#   SECONDS_EACH=30 sh bench/b6.sh
#   B6_POSTGRES=postgresql://postgres@%2Ftmp%2Fcompact-pg%2Fsock:55432/b6 sh bench/b6.sh
#                             # the writes on PostgreSQL too (an empty database)
set -eu
D=${SECONDS_EACH:-10}
cargo build --release --quiet
BIN=${CARGO_TARGET_DIR:-$PWD/target}/release/compact
WORK=$(mktemp -d)
export COMPACT_STATE_DIR="$WORK/state"   # this run's checkpoints, remembered apart from the user's
SERVER=
trap 'kill "$SERVER" 2>/dev/null || true; rm -rf "$WORK"' EXIT
serve() {
  "$BIN" serve --dir "$1" --listen 127.0.0.1:0 > "$WORK/serve.out" 2>&1 &
  SERVER=$!
  URL=
  for _ in $(seq 1 100); do
    URL=$(sed -n 's/^listening on //p' "$WORK/serve.out")
    [ -n "$URL" ] && break
    sleep 0.1
  done
  [ -n "$URL" ] || { cat "$WORK/serve.out"; exit 1; }
}
# One wrk run: prints "<label>: <requests/s> req/s, p50 <..>, p99 <..>, non-2xx <n>".
load() {
  label=$1; shift
  wrk --latency "$@" > "$WORK/wrk.out" 2>&1 || { cat "$WORK/wrk.out"; exit 1; }
  rps=$(sed -n 's/^Requests\/sec: *//p' "$WORK/wrk.out")
  p50=$(awk '$1 == "50%" { print $2 }' "$WORK/wrk.out")
  p99=$(awk '$1 == "99%" { print $2 }' "$WORK/wrk.out")
  bad=$(sed -n 's/^ *Non-2xx or 3xx responses: *//p' "$WORK/wrk.out")
  echo "$label: $rps req/s, p50 $p50, p99 $p99, non-2xx ${bad:-0}"
}

echo "== reads, the demo compact (-t2 -c16, ${D} s each)"
"$BIN" demo --dir "$WORK/demo" > /dev/null
serve "$WORK/demo"
SIZE=$(curl -sf "$URL/v1/log" | python3 -c 'import json,sys; print(json.load(sys.stdin)["size"])')
echo "log size $SIZE"
curl -sf "$URL/v1/status?by=guarantor" > /dev/null
load "healthz (ceiling)" -t2 -c16 -d"${D}s" "$URL/healthz"
TEMPLATE='/v1/entries/{i}' SIZE=$SIZE load "entry" -t2 -c16 -d"${D}s" -s bench/b6_get.lua "$URL"
TEMPLATE='/v1/entries/{i}/proof' SIZE=$SIZE load "inclusion proof" -t2 -c16 -d"${D}s" -s bench/b6_get.lua "$URL"
load "status by guarantor" -t2 -c16 -d"${D}s" "$URL/v1/status?by=guarantor"
# At a log size drawn for each request: most are not in the report cache (it keeps 1,024).
TEMPLATE='/v1/status?by=guarantor&at_size={i}' SIZE=$SIZE load "status by guarantor, random at_size" -t2 -c16 -d"${D}s" -s bench/b6_get.lua "$URL"
kill "$SERVER"; wait "$SERVER" 2>/dev/null || true; SERVER=

# Writes into the compact in $1 (made by `bench statements`), on the store it names.
writes() {
  serve "$1"
  BEFORE=$(curl -sf "$URL/v1/log" | python3 -c 'import json,sys; print(json.load(sys.stdin)["size"])')
  STATEMENTS="$1/statements.jsonl" THREADS=2 \
    load "POST /v1/statements ($2)" -t2 -c16 -d"${D}s" -s bench/b6_post.lua "$URL"
  AFTER=$(curl -sf "$URL/v1/log" | python3 -c 'import json,sys; print(json.load(sys.stdin)["size"])')
  kill "$SERVER"; wait "$SERVER" 2>/dev/null || true; SERVER=
  echo "log size $BEFORE -> $AFTER: $((AFTER - BEFORE)) statements written, $((AFTER - BEFORE)) / ${D} s = $(( (AFTER - BEFORE) / D ))/s"
  # Each compact of this run is the same log (the same seeds): remembered apart.
  COMPACT_STATE_DIR="$WORK/state-$2" "$BIN" verify --dir "$1" | tail -1
}

echo "== writes: single signed statements, 16 connections (-t2 -c16, ${D} s)"
"$BIN" bench statements --dir "$WORK/writes" --n "${B6_STATEMENTS:-150000}" | sed 's/^/  /'
writes "$WORK/writes" sqlite
# B6_POSTGRES=URL (an empty database of a cluster with durable commits): the same writes with
# the compact's log in PostgreSQL (moved there by `compact store copy`, named in [store] url).
if [ -n "${B6_POSTGRES:-}" ]; then
  "$BIN" bench statements --dir "$WORK/writes-pg" --n "${B6_STATEMENTS:-150000}" > /dev/null
  "$BIN" store copy --dir "$WORK/writes-pg" --to "$B6_POSTGRES" | tail -1 | sed 's/^/  /'
  rm -f "$WORK/writes-pg/compact.sqlite"*
  printf '\n[store]\nurl = "%s"\n' "$B6_POSTGRES" >> "$WORK/writes-pg/compact.toml"
  writes "$WORK/writes-pg" postgres
fi
echo "== reference: compact bench ingest (the ledger without HTTP), same run"
"$BIN" bench ingest --dir "$WORK/ingest" --n 100000 | grep -E "^B1 (ingest|ratio)"
