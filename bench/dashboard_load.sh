#!/bin/sh
# The dashboard's overview (issue 15): load to charts drawn in headless Chromium (Debian's
# chromium driven by playwright-core, crates/server/dashboard/tests/load.mjs), on the demo
# compact or on a store of N deliveries made as bench/status_at_scale.sh makes it
# (`compact bench status-store`); and the embedded bundle's size, gzip -9.
#
#   sh bench/dashboard_load.sh demo
#   sh bench/dashboard_load.sh [N]                       # default 1,000,000 deliveries
#   WORK=/tmp/scale sh bench/dashboard_load.sh [N]       # keep the store there, reuse it
#
# Each of the 3 runs starts a fresh server, files the log's records with one status request by
# year (one the overview does not ask for: what a server that has answered once holds), then
# opens the overview in a new page: every figure the page asks for is computed, none is in the
# server's cache. Then one
# load on a fresh server without that request (the records read and filed by the page's own
# requests). Needs the npm packages .ci/dashboard-e2e installs (in $target/dashboard-e2e).
set -eu
cd "$(dirname "$0")/.."
WHAT=${1:-1000000}
target=${CARGO_TARGET_DIR:-$PWD/target}
node_dir="$target/dashboard-e2e"
[ -d "$node_dir/node_modules/playwright-core" ] || { echo "run .ci/dashboard-e2e first (it installs playwright-core)"; exit 1; }
cargo build --release --locked --quiet
BIN=$target/release/compact
SERVER=
if [ -n "${WORK:-}" ]; then
  mkdir -p "$WORK"
  trap 'kill "$SERVER" 2>/dev/null || true' EXIT
else
  WORK=$(mktemp -d)
  trap 'kill "$SERVER" 2>/dev/null || true; rm -rf "$WORK"' EXIT
fi
export COMPACT_STATE_DIR="$WORK/state"
if [ "$WHAT" = demo ]; then
  AS_OF=2026-04-30
  DIR="$WORK/demo"
  [ -d "$DIR" ] || "$BIN" demo --no-serve --dir "$DIR" > /dev/null
else
  AS_OF=2026-11-28
  DIR="$WORK/store"
  [ -d "$DIR" ] || "$BIN" bench status-store --dir "$DIR" --n "$WHAT" | tail -3
fi
cp crates/server/dashboard/tests/load.mjs "$node_dir/load.mjs"
serve() {
  rm -f "$WORK/serve.out"
  "$BIN" serve --dir "$DIR" --listen 127.0.0.1:0 > "$WORK/serve.out" 2>&1 &
  SERVER=$!
  URL=
  for _ in $(seq 1 300); do
    URL=$(sed -n 's/^listening on //p' "$WORK/serve.out" 2>/dev/null || true)
    [ -n "$URL" ] && break
    sleep 0.1
  done
  [ -n "$URL" ] || { cat "$WORK/serve.out"; exit 1; }
}
echo "== $WHAT: overview, load to charts drawn; a fresh server each run, records filed, nothing cached"
for _ in 1 2 3; do
  serve
  curl -sf -o /dev/null "$URL/v1/status?as_of=$AS_OF&by=year"
  node "$node_dir/load.mjs" "$URL" "$AS_OF" 1 | head -1
  kill "$SERVER"; wait "$SERVER" 2>/dev/null || true; SERVER=
done
echo "== $WHAT: the first load on a fresh server (the page's requests read and file the records)"
serve
node "$node_dir/load.mjs" "$URL" "$AS_OF" 1 | head -1
echo "== $WHAT: the same page again on that server (answers cached per log size)"
node "$node_dir/load.mjs" "$URL" "$AS_OF" 1 | head -1
kill "$SERVER"; wait "$SERVER" 2>/dev/null || true; SERVER=
echo "== the embedded bundle (page, script, style, two languages), gzip -9, bytes"
cat crates/server/dashboard/index.html crates/server/dashboard/app.js \
    crates/server/dashboard/app.css crates/server/dashboard/i18n/*.ftl | gzip -9 | wc -c
