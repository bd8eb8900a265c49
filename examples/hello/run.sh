#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# run.sh - the hello demo: build the plugin with `hotswap build`, then start the host with
# the shim; it greets through hotswap_invoke_each once a second. In another terminal,
# examples/hello/reload.sh rebuilds the plugin and reloads it into this process.
#
#   examples/hello/run.sh [PERIOD_MS [COUNT]]      (BUILD=dir picks the build folder)
set -e
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) B=$BUILD ;; *) B=$ROOT/$BUILD ;; esac
D=$B/examples/hello
if [ ! -x "$D/host" ] || [ ! -x "$B/hotswap" ] || [ ! -f "$B/libhotswap_preload.so" ]; then
  make -s -C "$ROOT" BUILD="$BUILD" all
fi
mkdir -p "$D/plugins"
echo 1 >"$D/build-number"
"$B/hotswap" build "$ROOT/examples/hello/hello" "$D/plugins" -- -DHELLO_BUILD=1
echo $$ >"$D/host.pid"
echo "host: pid $$; run examples/hello/reload.sh to reload the plugin"
exec env HOTSWAP_STATE_DIR="${HOTSWAP_STATE_DIR:-$D/state}" \
  LD_PRELOAD="$B/libhotswap_preload.so" HOTSWAP_PLUGINS="$D/plugins/hello.so" \
  "$D/host" "$@"
