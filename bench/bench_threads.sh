#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# bench_threads.sh - what the number of threads costs reloads and retirement: the legacy
# server under the shim with 8 and with 256 worker threads (HOTSWAP_GRACE_MS=0), each
# reloaded 100 times alternating v1/v2, each reload once the version it replaced is retired
# (the stack check signals every thread and waits for each one's answer). Both runs side by
# side in one go, idle and then with loadgen keeping 16 connections busy.
#   reload_ms_p50_{8,256}_threads   control-socket request to committed reply
#   retire_ms_p50_{8,256}_threads   committed reply to the "retired ..." log line
#   *_load                          the same while loadgen runs
#   *_ratio_256_vs_8                256 threads over 8
#   *_stacks                        8 and 256 threads under load again with
#                                   HOTSWAP_RETIRE=stacks (the frames-only check), beside
#                                   the default memory scan; retire_ms_p50_ratio_scan_vs_stacks*
set -u
BUILD=${BUILD:-build}
B="$BUILD/bench"
LEG="$BUILD/examples/legacy-server"
SHIM="$(cd "$BUILD" && pwd)/libhotswap_preload.so"
DIR=$(mktemp -d "${TMPDIR:-/tmp}/hotswap-bench-threads.XXXXXX")
chmod 755 "$DIR"
mkdir -p "$DIR/app" && chmod 755 "$DIR/app"
PIDS=""
trap 'for p in $PIDS; do kill $p 2>/dev/null; done; wait 2>/dev/null; rm -rf "$DIR"' EXIT
N=${THREADS_RELOADS:-100}

# start THREADS: the legacy server with THREADS workers, v1 installed; sets SPID, PORT.
start() {
  rm -f "$DIR/port" "$DIR/ctl.sock"
  cp "$LEG/v1/libhandler.so" "$DIR/app/.t.so" && mv -f "$DIR/app/.t.so" "$DIR/app/libhandler.so"
  : >"$DIR/log"
  HOTSWAP_RETIRE=${RETIRE:-scan} HOTSWAP_GRACE_MS=0 HOTSWAP_PLUGINS="$DIR/app/libhandler.so" HOTSWAP_CONTROL="$DIR/ctl.sock" \
    HOTSWAP_LOG="$DIR/log" LD_LIBRARY_PATH="$DIR/app" LD_PRELOAD="$SHIM" \
    "$LEG/server" -t "$1" -P "$DIR/port" >/dev/null 2>&1 &
  SPID=$!
  PIDS="$PIDS $SPID"
  for _ in $(seq 400); do [ -s "$DIR/port" ] && [ -S "$DIR/ctl.sock" ] && break; sleep 0.05; done
  PORT=$(cat "$DIR/port")
  # The workers are started after the port file is written: wait for all of them.
  for _ in $(seq 400); do [ "$(ls "/proc/$SPID/task" | wc -l)" -gt "$1" ] && break; sleep 0.05; done
}

# run THREADS SUFFIX [LOAD]: one server, N reloads; prints the driver's @ lines.
run() {
  start "$1"
  tasks=$(ls "/proc/$SPID/task" | wc -l)
  if [ -n "${3:-}" ]; then
    "$LEG/loadgen" -p "$PORT" -c 16 -d 600 -s "$DIR/stop" >"$DIR/loadgen.out" 2>&1 &
    LPID=$!
    PIDS="$PIDS $LPID"
  fi
  "$B/bench_threads" "$DIR/ctl.sock" "$DIR/app/libhandler.so" "$LEG/v1/libhandler.so" \
    "$LEG/v2/libhandler.so" "$DIR/log" "$N" "$2" || { echo "bench_threads: $2 failed:"; tail -n 5 "$DIR/log"; }
  echo "$2: $tasks tasks in the server; stack-check trouble in the log: $(grep -cE 'waits to retire|did not answer|cannot be unwound' "$DIR/log")"
  if [ -n "${3:-}" ]; then
    touch "$DIR/stop"; wait "$LPID"
    echo "$2: loadgen $(tail -n 1 "$DIR/loadgen.out")"
    rm -f "$DIR/stop"
  fi
  kill "$SPID"; wait "$SPID" 2>/dev/null
}

if [ -n "${THREADS_ONLY:-}" ]; then # e.g. THREADS_ONLY=1024: one run, by hand
  run "$THREADS_ONLY" "${THREADS_ONLY}_threads" ${THREADS_LOAD:+load}
  exit
fi
run 8 8_threads | tee "$DIR/figures"
run 256 256_threads | tee -a "$DIR/figures"
run 8 8_threads_load load | tee -a "$DIR/figures"
run 256 256_threads_load load | tee -a "$DIR/figures"
# ratio NAME A B: "@NAME A/B" from the figures above (A and B are keys, without the @).
ratio() {
  a=$(sed -n "s/^@$2 //p" "$DIR/figures")
  b=$(sed -n "s/^@$3 //p" "$DIR/figures")
  [ -n "$a" ] && [ -n "$b" ] &&
    awk -v a="$a" -v b="$b" -v k="$1" 'BEGIN { if (b > 0) printf "@%s %.2f\n", k, a / b }'
}
for k in reload_ms_p50 retire_ms_p50; do
  for s in "" _load; do ratio "${k}_ratio_256_vs_8$s" "${k}_256_threads$s" "${k}_8_threads$s"; done
done
RETIRE=stacks run 8 8_threads_load_stacks load | tee -a "$DIR/figures"
RETIRE=stacks run 256 256_threads_load_stacks load | tee -a "$DIR/figures"
# The scan's retirement over the frames-only check's, same server, threads and load.
for t in 8 256; do
  ratio "retire_ms_p50_ratio_scan_vs_stacks_${t}_threads_load" "retire_ms_p50_${t}_threads_load" \
    "retire_ms_p50_${t}_threads_load_stacks"
done
