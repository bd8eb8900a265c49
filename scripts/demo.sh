#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# make demo: a legacy server (no hotswap code in it) is started under the shim, a client
# keeps requests flowing, v2 of its handler library is installed and reloaded, a broken v3
# is refused while v2 keeps serving, and the client's count of failed requests is shown.
# The library's request counter (a static in libhandler.so) keeps counting across reloads:
# the shim carries the state the program changed into each new version.
set -u
BUILD=${1:-build}
LEG="$BUILD/examples/legacy-server"
SHIM="$(cd "$BUILD" && pwd)/libhotswap_preload.so"
HS="$BUILD/hotswap"
DIR=$(mktemp -d "${TMPDIR:-/tmp}/hotswap-demo.XXXXXX")
APP="$DIR/app"
mkdir -p "$APP" && chmod 755 "$APP"
SPID="" LPID=""
cleanup() {
  [ -n "$LPID" ] && kill "$LPID" 2>/dev/null
  [ -n "$SPID" ] && kill "$SPID" 2>/dev/null
  wait 2>/dev/null
  rm -rf "$DIR"
}
trap cleanup EXIT
. "$(dirname "$0")/demo_lib.sh"
replies() { for p in /hello/operator /greet/operator /add/2/40 /stats; do printf '  GET %-16s -> %s\n' "$p" "$(get $p)"; done; }

say "1. start the legacy server under the shim (it links libhandler.so v1; no source change)"
install 1
echo "  LD_PRELOAD=$SHIM HOTSWAP_PLUGINS=$APP/libhandler.so $LEG/server"
HOTSWAP_PLUGINS="$APP/libhandler.so" HOTSWAP_LOG="$DIR/hotswap.log" LD_LIBRARY_PATH="$APP" \
  HOTSWAP_STATE_DIR="$DIR/state" \
  LD_PRELOAD="$SHIM" "$LEG/server" -P "$DIR/port" >"$DIR/server.out" 2>&1 &
SPID=$!
for _ in $(seq 100); do [ -s "$DIR/port" ] && break; sleep 0.05; done
PORT=$(cat "$DIR/port" 2>/dev/null)
[ -n "$PORT" ] || { echo "server did not start:"; cat "$DIR/server.out"; exit 1; }
sed 's/^/  /' "$DIR/server.out"
replies

say "2. a client keeps 4 connections busy for the whole demo"
"$LEG/loadgen" -p "$PORT" -c 4 -d 60 -s "$DIR/stop" >"$DIR/loadgen.out" 2>&1 &
LPID=$!
sleep 1
echo "  running (loadgen pid $LPID)"

requests() { get /stats | sed -n 's/.*requests=\([0-9]*\).*/\1/p'; }
say "3. install v2 with an atomic rename and reload: hotswap reload $SPID"
install 2
before=$(requests)
"$HS" reload "$SPID" | sed 's/^/  /'
after=$(requests)
replies
echo "  the request counter in libhandler.so: $before before the reload, $after after it"
echo "  (a static of the library: the shim carried it into v2, so it keeps counting)"

say "4. install a broken v3 (it drops handle_stats) and try it"
install 3
"$HS" reload "$SPID" 2>&1 | sed 's/^/  /'
echo "  (hotswap reload exit status ${PIPESTATUS[0]}: refused; the old version keeps serving)"
replies

say "5. kill -HUP works too: install v1 again and send the signal"
install 1
kill -HUP "$SPID"
sleep 0.5
tail -n 1 "$DIR/hotswap.log" | sed 's/^/  /'
replies

say "6. hotswap status $SPID"
"$HS" status "$SPID" | sed 's/^/  /'

say "7. stop the client"
touch "$DIR/stop"
wait "$LPID"
lrc=$?
LPID=""
summary=$(tail -n 1 "$DIR/loadgen.out")
echo "  $summary"

say "summary"
failed=$(sed -n 's/.*failed=\([0-9]*\).*/\1/p' <<<"$summary")
echo "  reloads: $(grep -cE ': reload [0-9]+ ok in ' "$DIR/hotswap.log") ok, $(grep -c ' rejected: ' "$DIR/hotswap.log") refused"
echo "  requests served during the demo: $(sed -n 's/requests=\([0-9]*\).*/\1/p' <<<"$summary"), failed: ${failed:-?}"
echo "  shim log:"
sed 's/^/    /' "$DIR/hotswap.log"
[ "$lrc" -eq 0 ] && [ "${failed:-1}" -eq 0 ]
