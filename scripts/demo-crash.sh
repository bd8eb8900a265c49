#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# make demo-crash: a build that passes every check crashes the daemon on one route. The
# shim's log line names the file, version and function; a supervisor loop restarts the
# daemon as systemd's Restart=on-failure would; the restarted daemon serves the
# last-known-good build instead of the one that crashed, and the route answers again; a
# fixed build then clears the record.
set -u
BUILD=${1:-build}
LEG="$BUILD/examples/legacy-server"
SHIM="$(cd "$BUILD" && pwd)/libhotswap_preload.so"
HS="$BUILD/hotswap"
DIR=$(mktemp -d "${TMPDIR:-/tmp}/hotswap-demo-crash.XXXXXX")
APP="$DIR/app"
mkdir -p "$APP" && chmod 755 "$APP"
SUP=""
: >"$DIR/starts"
cleanup() {
  touch "$DIR/stop"
  [ -s "$DIR/server.pid" ] && kill "$(cat "$DIR/server.pid")" 2>/dev/null
  [ -n "$SUP" ] && wait "$SUP" 2>/dev/null
  rm -rf "$DIR"
}
trap cleanup EXIT
. "$(dirname "$0")/demo_lib.sh"
# wait_line PATTERN: until the shim's log has a line matching PATTERN (60 s at most).
wait_line() {
  for _ in $(seq 1200); do grep -qE "$1" "$DIR/hotswap.log" 2>/dev/null && return 0; sleep 0.05; done
  echo "  (no log line matching '$1')"; return 1
}
# wait_server N: until the Nth start of the server listens; sets PORT and SPID.
wait_server() {
  for _ in $(seq 1200); do [ "$(wc -l <"$DIR/starts" 2>/dev/null)" -ge "$1" ] && [ -s "$DIR/port" ] && break; sleep 0.05; done
  PORT=$(cat "$DIR/port" 2>/dev/null) SPID=$(cat "$DIR/server.pid" 2>/dev/null)
  [ -n "$PORT" ] || { echo "server did not start:"; cat "$DIR/server.out"; exit 1; }
}

# The supervisor: restart the server when it dies by a signal (Restart=on-failure), the
# same command each time, at most 5 times.
supervise() {
  for _ in 1 2 3 4 5; do
    rm -f "$DIR/port"
    HOTSWAP_PLUGINS="$APP/libhandler.so" HOTSWAP_LOG="$DIR/hotswap.log" LD_LIBRARY_PATH="$APP" \
      HOTSWAP_STATE_DIR="$DIR/state" HOTSWAP_PROBATION_MS=2000 \
      LD_PRELOAD="$SHIM" "$LEG/server" -P "$DIR/port" >>"$DIR/server.out" 2>&1 &
    echo $! >"$DIR/server.pid"
    echo start >>"$DIR/starts"
    wait $!
    rc=$?
    echo "  supervisor: the server exited with status $rc$([ $rc -gt 128 ] && echo " (signal $((rc - 128)))")"
    [ -e "$DIR/stop" ] || [ $rc -le 128 ] && return
    echo "  supervisor: restarting it, the same command"
  done
}

say "1. a supervisor starts the legacy server under the shim (HOTSWAP_PROBATION_MS=2000)"
install 1
supervise &
SUP=$!
wait_server 1
echo "  server pid $SPID; GET /div/7/2 -> $(get /div/7/2)"

say "2. v1 serves 2 s without a crash: it becomes the last-known-good build"
wait_line "probation: libhandler.so [0-9a-f]+ served" && tail -n 1 "$DIR/hotswap.log" | sed 's/^/  /'

say "3. install v8: it passes every check, and has a bug on /div/N/0"
install 8
"$HS" reload "$SPID" | sed 's/^/  /'
echo "  GET /div/7/2 -> $(get /div/7/2)"

say "4. a client asks for /div/7/0: the server crashes"
get /div/7/0 >/dev/null 2>&1
wait_line ": crash: " && grep -F ": crash: " "$DIR/hotswap.log" | sed 's/^/  /'

say "5. the supervisor restarted it on the same files: the shim loads the last-known-good build"
wait_server 2
wait_line "probation: libhandler.so on disk is build" &&
  grep -F "probation: libhandler.so on disk" "$DIR/hotswap.log" | sed 's/^/  /'
answer=$(get /div/7/0)
echo "  GET /div/7/0 -> $answer"
"$HS" status "$SPID" | sed 's/^/  /'

say "6. install a fixed build (v2): the crash record is cleared"
install 2
"$HS" reload "$SPID" | sed 's/^/  /'
echo "  GET /div/7/0 -> $(get /div/7/0)"

say "summary"
echo "  shim log:"
sed 's/^/    /' "$DIR/hotswap.log"
[ "$answer" = "0 r 0 (v1)" ]
