#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# run.sh - the slink demo: the dog plugin linked statically for debugging (not reloadable)
# or dynamically (reloadable), at the user's choice. Static: `hotswap build
# --static-linking` writes libdog.a, host.c -DSLINK_STATIC is linked with it and
# libhotswap_static.a and runs the lifecycle itself, no shim. Dynamic: `hotswap build`
# writes dog.so and the host runs under the shim. Either way the host calls the dog's
# live_Woof every heartbeat; in another terminal examples/slink/reload.sh rebuilds and
# reloads (refused, with the reason, in static mode).
#
#   examples/slink/run.sh [--static|--dynamic] [PERIOD_MS [COUNT]]   (BUILD=dir picks the
#   build folder; without a flag it asks)
set -e
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) B=$BUILD ;; *) B=$ROOT/$BUILD ;; esac
D=$B/examples/slink
case $1 in
  --static) mode=static; shift ;;
  --dynamic) mode=dynamic; shift ;;
  -*) echo "usage: run.sh [--static|--dynamic] [PERIOD_MS [COUNT]]" >&2; exit 2 ;;
  *)
    printf 'Link plugin statically (not reloadable)? [y|n] '
    read -r answer || answer=n
    case $answer in y | Y | yes) mode=static ;; *) mode=dynamic ;; esac ;;
esac
if [ ! -x "$D/host" ] || [ ! -x "$B/hotswap" ] || [ ! -f "$B/libhotswap_preload.so" ] ||
  [ ! -f "$B/libhotswap_static.a" ]; then
  make -s -C "$ROOT" BUILD="$BUILD" all
fi
mkdir -p "$D/plugins" "$D/static"
echo 1 >"$D/build-number"
echo $mode >"$D/mode"
echo $$ >"$D/host.pid"
if [ $mode = dynamic ]; then
  "$B/hotswap" build "$ROOT/examples/slink/dog" "$D/plugins" -- -DDOG_BUILD=1
  echo "host: pid $$ (dynamic); run examples/slink/reload.sh to reload the plugin"
  exec env HOTSWAP_STATE_DIR="${HOTSWAP_STATE_DIR:-$D/state}" \
    LD_PRELOAD="$B/libhotswap_preload.so" HOTSWAP_PLUGINS="$D/plugins/dog.so" \
    "$D/host" "$@"
fi
"$B/hotswap" build --static-linking "$ROOT/examples/slink/dog" "$D/static" -- -DDOG_BUILD=1
# A sanitizer build (SANITIZE=...) made libhotswap_static.a instrumented: link the host alike.
SAN=""
nm "$B/libhotswap_static.a" | grep -q __asan_ && SAN="$SAN -fsanitize=address"
nm "$B/libhotswap_static.a" | grep -q __ubsan_ && SAN="$SAN -fsanitize=undefined"
nm "$B/libhotswap_static.a" | grep -q __tsan_ && SAN="$SAN -fsanitize=thread"
${CC:-cc} -std=gnu11 -g -O1 $SAN -I"$ROOT/include" -DSLINK_STATIC -o "$D/host-static" \
  "$ROOT/examples/slink/host.c" "$D/static/libdog.a" "$B/libhotswap_static.a"
echo "host: pid $$ (static, no shim: try it under gdb or valgrind); reloads are disabled"
exec "$D/host-static" "$@"
