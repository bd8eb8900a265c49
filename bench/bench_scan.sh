#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# bench_scan.sh - retirement's memory scan (HOTSWAP_RETIRE=scan): how fast it reads a
# daemon's memory, with 64 MiB and 1 GiB of heap. Each reload of the 10-symbol plugin
# retires the version it replaced after a scan; `hotswap status --json` reports the last
# scan's bytes and its memory pass's time. Figure: the median over 7 scans, GiB/s.
set -u
BUILD=${BUILD:-build}
B="$BUILD/bench"
HS="$BUILD/hotswap"
SHIM="$(cd "$BUILD" && pwd)/libhotswap_preload.so"
DIR=$(mktemp -d "${TMPDIR:-/tmp}/hotswap-bench-scan.XXXXXX")
chmod 755 "$DIR"
PIDS=""
trap 'for p in $PIDS; do kill $p 2>/dev/null; done; wait 2>/dev/null; rm -rf "$DIR"' EXIT

for mib in 64 1024; do
  cp "$B/many10-a.so" "$DIR/many10.so"
  HOTSWAP_PLUGINS="$DIR/many10.so" HOTSWAP_LOG="$DIR/log" HOTSWAP_RETIRE=scan \
    HOTSWAP_GRACE_MS=0 HOTSWAP_LOAD_TIMEOUT_MS=0 LD_PRELOAD="$SHIM" \
    "$B/scan_host" "$mib" 600 >"$DIR/out" 2>&1 &
  pid=$!
  PIDS="$PIDS $pid"
  for _ in $(seq 600); do grep -q ready "$DIR/out" && break; sleep 0.1; done
  rates=()
  for i in $(seq 7); do
    cp "$B/many10-$([ $((i % 2)) = 1 ] && echo b || echo a).so" "$DIR/.n" && mv "$DIR/.n" "$DIR/many10.so"
    before=$("$HS" status --json "$pid" | python3 -c 'import json,sys; s=json.load(sys.stdin)["last_scan"]; print(s["scans"] if s else 0)')
    "$HS" reload "$pid" >/dev/null || { echo "bench_scan: reload failed"; exit 1; }
    for _ in $(seq 600); do
      r=$("$HS" status --json "$pid" | python3 -c '
import json, sys
s = json.load(sys.stdin)["last_scan"]
if s and s["scans"] > int(sys.argv[1]) and s["pass_ms"] > 0:
    print("%.3f %d %.3f" % (s["bytes"] / 2**30 / (s["pass_ms"] / 1000), s["bytes"], s["pass_ms"]))' "$before")
      [ -n "$r" ] && break
      sleep 0.05
    done
    [ -n "$r" ] || { echo "bench_scan: no scan after reload $i"; exit 1; }
    read -r rate bytes ms <<<"$r"
    echo "$mib MiB heap: scan read $((bytes / 1048576)) MiB in $ms ms: $rate GiB/s"
    rates+=("$rate")
  done
  printf '%s\n' "${rates[@]}" | sort -n |
    awk -v k="$([ "$mib" = 64 ] && echo 64mib || echo 1gib)" '{ a[NR] = $1 } END { printf "@retire_scan_gib_per_s_%s %.2f\n", k, a[int((NR + 1) / 2)] }'
  kill "$pid"; wait "$pid" 2>/dev/null
done
