#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# run.sh - the extension demo: build the cat plugin with `hotswap build`, then start the
# host with the shim; it calls the extension's meow() every heartbeat. In another terminal,
# examples/extension/reload.sh rebuilds the plugin and reloads it into this process.
#
#   examples/extension/run.sh [PERIOD_MS [COUNT]]      (BUILD=dir picks the build folder)
set -e
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) B=$BUILD ;; *) B=$ROOT/$BUILD ;; esac
D=$B/examples/extension
if [ ! -x "$D/host" ] || [ ! -x "$B/hotswap" ] || [ ! -f "$B/libhotswap_preload.so" ]; then
  make -s -C "$ROOT" BUILD="$BUILD" all
fi
mkdir -p "$D/plugins"
echo 1 >"$D/build-number"
"$B/hotswap" build "$ROOT/examples/extension/cat" "$D/plugins" -- \
  -I"$ROOT/examples/extension" -DCAT_BUILD=1
echo $$ >"$D/host.pid"
echo "host: pid $$; run examples/extension/reload.sh to reload the plugin"
exec env HOTSWAP_STATE_DIR="${HOTSWAP_STATE_DIR:-$D/state}" \
  LD_PRELOAD="$B/libhotswap_preload.so" HOTSWAP_PLUGINS="$D/plugins/cat.so" \
  "$D/host" "$@"
