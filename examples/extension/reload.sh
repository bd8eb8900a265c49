#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# reload.sh - rebuild the extension demo's cat plugin as the next build number and reload
# it into the host that run.sh started; prints the outcome (old -> new version). The
# host's output then shows the extension set by the new build and its meows.
set -e
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) B=$BUILD ;; *) B=$ROOT/$BUILD ;; esac
D=$B/examples/extension
[ -f "$D/host.pid" ] || { echo "reload.sh: no host running; start examples/extension/run.sh" >&2; exit 2; }
n=$(($(cat "$D/build-number") + 1))
"$B/hotswap" build "$ROOT/examples/extension/cat" "$D/plugins" -- \
  -I"$ROOT/examples/extension" -DCAT_BUILD=$n
echo $n >"$D/build-number"
echo "reload.sh: cat build $n installed, reloading pid $(cat "$D/host.pid")"
exec "$B/hotswap" reload "$(cat "$D/host.pid")"
