#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# bench_shim.sh - the shim's figures: reload latency (200 reloads of a 10-symbol plugin
# loaded into a running process, with the trial load and without), the legacy server under wrk for 10 s without and with a
# reload every 100 ms, and the time to restart that server instead, for comparison.
set -u
BUILD=${BUILD:-build}
B="$BUILD/bench"
LEG="$BUILD/examples/legacy-server"
SHIM="$(cd "$BUILD" && pwd)/libhotswap_preload.so"
DIR=$(mktemp -d "${TMPDIR:-/tmp}/hotswap-bench.XXXXXX")
chmod 755 "$DIR"
PIDS=""
trap 'for p in $PIDS; do kill $p 2>/dev/null; done; wait 2>/dev/null; rm -rf "$DIR"' EXIT

# --- reload latency: a sleeping process with a 10-symbol plugin under the shim.
cp "$B/many10-a.so" "$DIR/many10.so"
HOTSWAP_PLUGINS="$DIR/many10.so" HOTSWAP_CONTROL="$DIR/ctl.sock" HOTSWAP_LOG="$DIR/log" \
  LD_PRELOAD="$SHIM" sleep 600 &
PIDS="$PIDS $!"
for _ in $(seq 100); do [ -S "$DIR/ctl.sock" ] && break; sleep 0.05; done
"$B/bench_reload" "$DIR/ctl.sock" "$DIR/many10.so" "$B/many10-a.so" "$B/many10-b.so" 200 || exit 1
# The trial copy's share (fork, dlopen and hooks in the copy, its exit), from the log; and
# the same 200 reloads without a trial, side by side.
grep -o 'trial passed in [0-9.]* ms' "$DIR/log" | awk '{ print $4 }' | sort -n |
  awk '{ a[NR] = $1 } END { k = int(NR * 0.99); if (k < 1) k = 1
    if (NR) printf "@trial_load_ms_p50 %.3f\n@trial_load_ms_p99 %.3f\n", a[int((NR + 1) / 2)], a[k] }'
cp "$B/many10-a.so" "$DIR/many10n.so"
HOTSWAP_PLUGINS="$DIR/many10n.so" HOTSWAP_CONTROL="$DIR/ctln.sock" HOTSWAP_LOG="$DIR/logn" \
  HOTSWAP_LOAD_TIMEOUT_MS=0 LD_PRELOAD="$SHIM" sleep 600 &
PIDS="$PIDS $!"
for _ in $(seq 100); do [ -S "$DIR/ctln.sock" ] && break; sleep 0.05; done
"$B/bench_reload" "$DIR/ctln.sock" "$DIR/many10n.so" "$B/many10-a.so" "$B/many10-b.so" 200 |
  sed 's/^@reload_ms_/@reload_notrial_ms_/' || exit 1

# --- the legacy server under wrk.
mkdir -p "$DIR/app" && chmod 755 "$DIR/app"
cp "$LEG/v1/libhandler.so" "$DIR/app/libhandler.so"
start() {
  rm -f "$DIR/port"
  HOTSWAP_PLUGINS="$DIR/app/libhandler.so" HOTSWAP_CONTROL="$DIR/srv.sock" \
    HOTSWAP_LOG="$DIR/srv.log" LD_LIBRARY_PATH="$DIR/app" LD_PRELOAD="$SHIM" \
    "$LEG/server" -P "$DIR/port" >/dev/null 2>&1 &
  SPID=$!
  PIDS="$PIDS $SPID"
  for _ in $(seq 400); do [ -s "$DIR/port" ] && break; sleep 0.005; done
  PORT=$(cat "$DIR/port")
}
# wrk's summary: requests, errors (socket errors + non-2xx), rps, p99 in ms.
run_wrk() {
  wrk -t2 -c16 -d10s --latency "http://127.0.0.1:$PORT/hello/wrk" >"$DIR/wrk.out" 2>&1
  awk '
    / requests in / { req = $1 }
    /Socket errors/ { gsub(/,/, ""); err += $4 + $6 + $8 + $10 }
    /Non-2xx/ { err += $5 }
    /Requests\/sec/ { rps = $2 }
    /^ +99%/ { v = $2; if (v ~ /us$/) { sub(/us/, "", v); v /= 1000 }
               else if (v ~ /ms$/) { sub(/ms/, "", v) } else if (v ~ /s$/) { sub(/s/, "", v); v *= 1000 }
               p99 = v }
    END { printf "%d %d %s %s\n", req, err + 0, rps, p99 }' "$DIR/wrk.out"
}
start
read -r base_req base_err base_rps base_p99 < <(run_wrk)
echo "wrk without reloads: $base_req requests, $base_err errors, $base_rps req/s, p99 $base_p99 ms"
# The driver installs v1/v2 by rename and reloads over the control socket every 100 ms,
# from one process (no fork per reload competing with wrk for the two cores).
"$B/bench_reload" "$DIR/srv.sock" "$DIR/app/libhandler.so" "$LEG/v1/libhandler.so" \
  "$LEG/v2/libhandler.so" 100 100 >/dev/null &
RL=$!
read -r load_req load_err load_rps load_p99 < <(run_wrk)
wait "$RL" || echo "bench_shim: a reload failed during the load run"
reloads=$(grep -c ' ok in ' "$DIR/srv.log")
echo "wrk with a reload every 100 ms: $load_req requests, $load_err errors, $load_rps req/s, p99 $load_p99 ms, $reloads reloads ok"
echo "@load_requests $load_req"
echo "@load_failed $load_err"
echo "@load_reloads $reloads"
awk -v a="$load_rps" -v b="$base_rps" 'BEGIN { printf "@load_rps_ratio %.3f\n", a / b }'
awk -v a="$load_p99" -v b="$base_p99" 'BEGIN { printf "@load_p99_ratio %.3f\n", a / b }'
# The same run without the trial load, side by side: what its fork of the daemon costs the
# daemon's requests (the fork write-protects every page; threads that write one fault).
kill "$SPID"; wait "$SPID" 2>/dev/null
: >"$DIR/srv.log"
HOTSWAP_LOAD_TIMEOUT_MS=0 start
"$B/bench_reload" "$DIR/srv.sock" "$DIR/app/libhandler.so" "$LEG/v1/libhandler.so" \
  "$LEG/v2/libhandler.so" 100 100 >/dev/null &
RL=$!
read -r nt_req nt_err nt_rps nt_p99 < <(run_wrk)
wait "$RL" || echo "bench_shim: a reload failed during the load run without trial"
echo "wrk with a reload every 100 ms, no trial load: $nt_req requests, $nt_err errors, $nt_rps req/s, p99 $nt_p99 ms"
echo "@load_notrial_failed $nt_err"
awk -v a="$nt_rps" -v b="$base_rps" 'BEGIN { printf "@load_notrial_rps_ratio %.3f\n", a / b }'
awk -v a="$nt_p99" -v b="$base_p99" 'BEGIN { printf "@load_notrial_p99_ratio %.3f\n", a / b }'

# --- restart instead of reload: stop the server, start it again, first answer.
t=()
for _ in 1 2 3 4 5; do
  kill "$SPID"; wait "$SPID" 2>/dev/null
  t0=$(date +%s%N)
  start
  while ! (exec 7<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; do sleep 0.001; done
  t+=($(( ($(date +%s%N) - t0) / 1000 )))
done
printf '%s\n' "${t[@]}" | sort -n | awk '{ a[NR] = $1 } END { printf "@restart_ms %.2f\n", a[int((NR + 1) / 2)] / 1000 }'
