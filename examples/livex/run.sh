#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# run.sh - the livex demo: build the jobs plugin with `hotswap build`, then start the
# host with the shim; it queues a job every PERIOD_MS and runs the queue every 50 ms with
# the plugin's live functions. In another terminal, examples/livex/reload.sh rebuilds the
# plugin (build 2 changes the job's layout) and reloads it; Ctrl-C prints the totals.
#
#   examples/livex/run.sh [PERIOD_MS]      (BUILD=dir picks the build folder)
set -e
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) B=$BUILD ;; *) B=$ROOT/$BUILD ;; esac
D=$B/examples/livex
if [ ! -x "$D/host" ] || [ ! -x "$B/hotswap" ] || [ ! -f "$B/libhotswap_preload.so" ]; then
  make -s -C "$ROOT" BUILD="$BUILD" all
fi
mkdir -p "$D/plugins"
echo 1 >"$D/build-number"
"$B/hotswap" build "$ROOT/examples/livex/jobs" "$D/plugins" -- \
  -I"$ROOT/examples/livex" -DLIVEX_BUILD=1
echo $$ >"$D/host.pid"
echo "host: pid $$; run examples/livex/reload.sh to reload the plugin"
exec env HOTSWAP_STATE_DIR="${HOTSWAP_STATE_DIR:-$D/state}" \
  LD_PRELOAD="$B/libhotswap_preload.so" HOTSWAP_PLUGINS="$D/plugins/jobs.so" \
  "$D/host" "$@"
