#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# bench_rss.sh - memory over a daemon's lifetime of reloads: a sleeping process with a
# 10-symbol plugin under the shim is reloaded 10,000 times over its control socket
# (alternating two builds); the figure is its RSS after 10,000 reloads minus its RSS after
# 10, each read once the grace period (HOTSWAP_GRACE_MS, default 1000) has passed. Run with
# retirement (the default), with retirement and an extension constructor registered by the
# host (rss_host --extension: one extension and one vault per reload), with the memory scan
# deciding (HOTSWAP_RETIRE=scan), and with HOTSWAP_RETIRE=0 (every old version stays loaded).
#   rss_kib_growth_10k_reloads            target < 1024
#   rss_kib_growth_10k_reloads_extension  target < 1024
#   rss_kib_growth_10k_reloads_scan       target < 1024
#   rss_kib_growth_10k_reloads_no_retire  what retirement saves
set -u
BUILD=${BUILD:-build}
B="$BUILD/bench"
SHIM="$(cd "$BUILD" && pwd)/libhotswap_preload.so"
DIR=$(mktemp -d "${TMPDIR:-/tmp}/hotswap-bench-rss.XXXXXX")
chmod 755 "$DIR"
PIDS=""
trap 'for p in $PIDS; do kill $p 2>/dev/null; done; wait 2>/dev/null; rm -rf "$DIR"' EXIT
N=${RSS_RELOADS:-10000}

rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
mapped() { grep -c 'memfd:hotswap:many10' "/proc/$1/maps"; }
# reloads COUNT: COUNT reloads, back to back, over one connection each.
reloads() { "$B/bench_reload" "$DIR/ctl.sock" "$DIR/many10.so" "$B/many10-a.so" "$B/many10-b.so" "$1" 0.001 >/dev/null; }

# growth KEY HOST_FLAGS [ENV...]: one run of rss_host HOST_FLAGS; prints "@KEY <KiB>".
growth() {
  key=$1; flags=$2; shift 2
  rm -f "$DIR/ctl.sock"
  cp "$B/many10-a.so" "$DIR/many10.so"
  env "$@" HOTSWAP_PLUGINS="$DIR/many10.so" HOTSWAP_CONTROL="$DIR/ctl.sock" \
    HOTSWAP_LOG="$DIR/$key.log" LD_PRELOAD="$SHIM" "$B/rss_host" $flags 3600 &
  pid=$!
  PIDS="$PIDS $pid"
  for _ in $(seq 100); do [ -S "$DIR/ctl.sock" ] && break; sleep 0.05; done
  reloads 10 || { echo "bench_rss: reloads failed ($key)"; return 1; }
  sleep 1.5
  r10=$(rss_kib "$pid")
  t0=$(date +%s%N)
  reloads $((N - 10)) || { echo "bench_rss: reloads failed ($key), see $key.log:"; tail -n 3 "$DIR/$key.log"; return 1; }
  secs=$(( ($(date +%s%N) - t0) / 1000000 ))
  sleep 1.5
  rN=$(rss_kib "$pid")
  echo "$key: RSS $r10 KiB after 10 reloads, $rN KiB after $N ($secs ms), $(mapped "$pid") plugin copies mapped"
  echo "@$key $((rN - r10))"
  kill "$pid"; wait "$pid" 2>/dev/null
}
ulimit -n 65536 2>/dev/null # without retirement every version keeps its memfd open
growth rss_kib_growth_10k_reloads ""
growth rss_kib_growth_10k_reloads_extension --extension
growth rss_kib_growth_10k_reloads_scan "" HOTSWAP_RETIRE=scan
# Without retirement every version stays mapped, and a trial load's fork copies all of
# them (95 ms per reload at 5,000 versions): the trial is off for this one.
growth rss_kib_growth_10k_reloads_no_retire "" HOTSWAP_RETIRE=0 HOTSWAP_LOAD_TIMEOUT_MS=0
