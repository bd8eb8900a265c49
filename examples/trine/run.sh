#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# run.sh - the trine demo: build alpha, beta and gamma with `hotswap build` (one shared
# stamp), then start the host with the shim; it calls gamma's "pulse" every heartbeat,
# which runs through beta down to alpha. In another terminal, examples/trine/reload.sh
# rebuilds all three and reloads them together.
#
#   examples/trine/run.sh [PERIOD_MS [COUNT]]      (BUILD=dir picks the build folder)
set -e
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) B=$BUILD ;; *) B=$ROOT/$BUILD ;; esac
D=$B/examples/trine
if [ ! -x "$D/host" ] || [ ! -x "$B/hotswap" ] || [ ! -f "$B/libhotswap_preload.so" ]; then
  make -s -C "$ROOT" BUILD="$BUILD" all
fi
"$ROOT/examples/trine/build.sh" "$B" 1
echo $$ >"$D/host.pid"
echo "host: pid $$; stamp $(cat "$D/stamp"); run examples/trine/reload.sh to reload the plugins"
exec env HOTSWAP_STATE_DIR="${HOTSWAP_STATE_DIR:-$D/state}" \
  LD_PRELOAD="$B/libhotswap_preload.so" HOTSWAP_PLUGINS="$D/plugins" \
  "$D/host" "$@"
