#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# reload.sh - rebuild all three plugins of the trine demo with one new stamp and reload
# them together into the host that run.sh started; prints the outcome (every plugin's old
# -> new version). The host's output then shows the new stamp on all three lines.
set -e
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) B=$BUILD ;; *) B=$ROOT/$BUILD ;; esac
D=$B/examples/trine
[ -f "$D/host.pid" ] || { echo "reload.sh: no host running; start examples/trine/run.sh" >&2; exit 2; }
old=$(cat "$D/stamp")
"$ROOT/examples/trine/build.sh" "$B" $(($(cat "$D/build-number") + 1))
echo "reload.sh: alpha, beta, gamma stamp $old -> $(cat "$D/stamp"), reloading pid $(cat "$D/host.pid")"
exec "$B/hotswap" reload "$(cat "$D/host.pid")"
