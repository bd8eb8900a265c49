#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# reload.sh - rebuild the slink demo's dog plugin as the next build number and reload it
# into the host that run.sh started. Dynamic mode: prints the outcome (old -> new version)
# and the host's heartbeat then reaches the new build's live_Woof. Static mode: rebuilds
# libdog.a and sends the host SIGHUP; the host, linked statically, refuses with the reason.
set -e
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) B=$BUILD ;; *) B=$ROOT/$BUILD ;; esac
D=$B/examples/slink
[ -f "$D/host.pid" ] || { echo "reload.sh: no host running; start examples/slink/run.sh" >&2; exit 2; }
n=$(($(cat "$D/build-number") + 1))
pid=$(cat "$D/host.pid")
if [ "$(cat "$D/mode")" = static ]; then
  "$B/hotswap" build --static-linking "$ROOT/examples/slink/dog" "$D/static" -- -DDOG_BUILD=$n
  echo $n >"$D/build-number"
  echo "reload.sh: dog build $n written to $D/static/libdog.a; pid $pid is linked" \
    "statically, asking it anyway (SIGHUP)"
  exec kill -HUP "$pid"
fi
"$B/hotswap" build "$ROOT/examples/slink/dog" "$D/plugins" -- -DDOG_BUILD=$n
echo $n >"$D/build-number"
echo "reload.sh: dog build $n installed, reloading pid $pid"
exec "$B/hotswap" reload "$pid"
