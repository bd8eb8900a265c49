#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# reload.sh - rebuild the hello demo's plugin as the next build number and reload it into
# the host that run.sh started; prints the outcome (old -> new version). The host's output
# then shows the hooks of the new build and greetings from it.
set -e
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) B=$BUILD ;; *) B=$ROOT/$BUILD ;; esac
D=$B/examples/hello
[ -f "$D/host.pid" ] || { echo "reload.sh: no host running; start examples/hello/run.sh" >&2; exit 2; }
n=$(($(cat "$D/build-number") + 1))
"$B/hotswap" build "$ROOT/examples/hello/hello" "$D/plugins" -- -DHELLO_BUILD=$n
echo $n >"$D/build-number"
echo "reload.sh: plugin build $n installed, reloading pid $(cat "$D/host.pid")"
exec "$B/hotswap" reload "$(cat "$D/host.pid")"
