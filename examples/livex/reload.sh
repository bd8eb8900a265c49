#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# reload.sh - rebuild the livex demo's jobs plugin as the next build number and reload
# it into the host that run.sh started; prints the outcome (old -> new version). The
# host's output then shows jobs queued under the old build handled by the new one.
set -e
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) B=$BUILD ;; *) B=$ROOT/$BUILD ;; esac
D=$B/examples/livex
[ -f "$D/host.pid" ] || { echo "reload.sh: no host running; start examples/livex/run.sh" >&2; exit 2; }
n=$(($(cat "$D/build-number") + 1))
"$B/hotswap" build "$ROOT/examples/livex/jobs" "$D/plugins" -- \
  -I"$ROOT/examples/livex" -DLIVEX_BUILD=$n
echo $n >"$D/build-number"
echo "reload.sh: jobs build $n installed, reloading pid $(cat "$D/host.pid")"
exec "$B/hotswap" reload "$(cat "$D/host.pid")"
