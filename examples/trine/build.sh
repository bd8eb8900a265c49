#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# build.sh - build the trine demo's three plugins (alpha, beta, gamma) with `hotswap build`
# into $D/plugins, all with the same stamp "<build number>-<epoch seconds>" (the Go seed's
# shared compileTimeString), which it records in $D/stamp. Used by run.sh and reload.sh.
#
#   build.sh BUILD_DIR BUILD_NUMBER      (BUILD_DIR: the absolute build folder)
set -e
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
B=$1 D=$1/examples/trine
stamp="$2-$(date +%s)"
mkdir -p "$D/plugins"
for p in alpha beta gamma; do
  "$B/hotswap" build "$ROOT/examples/trine/$p" "$D/plugins" -- \
    -I"$ROOT/examples/trine" -DTRINE_STAMP="\"$stamp\""
done
echo "$2" >"$D/build-number"
echo "$stamp" >"$D/stamp"
