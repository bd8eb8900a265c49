#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# CI: build the Debian packages from a clean clone (dpkg-buildpackage -us -uc -b), check them
# with lintian (no error), install them, run a daemon with the installed shim and reload it
# with the installed CLI, remove them. Writes "PASSED FAILED" to $1 (the counts file).
set -u
counts=${1:-build/package-counts}
mkdir -p "$(dirname "$counts")"
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "[       OK ] $1"; }
bad() { fail=$((fail + 1)); echo "[  FAILED  ] $1"; }
check() { local what=$1; shift; if "$@"; then ok "$what"; else bad "$what"; fi; }
ROOT=$(cd "$(dirname "$0")/.." && pwd)
W=$(mktemp -d /tmp/hotswap-pkg.XXXXXX)
trap 'kill $SPID 2>/dev/null; rm -rf "$W"; echo "$pass $fail" >"$counts"' EXIT
git clone -q "$ROOT" "$W/src"
( cd "$W/src" && HOTSWAP_NO_INSTALL=1 dpkg-buildpackage -us -uc -b ) >"$W/build.log" 2>&1
check "dpkg-buildpackage -us -uc -b from a clean clone" test -f "$W"/hotswap_*_amd64.deb ||
  tail -30 "$W/build.log"
changes=$(ls "$W"/hotswap_*_amd64.changes 2>/dev/null)
lintian --no-tag-display-limit "$changes" >"$W/lintian.log" 2>&1
cat "$W/lintian.log"
check "lintian reports no error" bash -c "! grep -q '^E: ' '$W/lintian.log'"
check "the packages install" dpkg -i "$W"/hotswap_*_amd64.deb "$W"/libhotswap-dev_*_amd64.deb
MA=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
check "the shim is at /usr/lib/$MA/libhotswap_preload.so.0" test -f "/usr/lib/$MA/libhotswap_preload.so.0"
check "pkg-config finds the installed hotswap.pc" pkg-config --exists hotswap
check "man finds hotswap(7)" bash -c "man -w 7 hotswap | grep -q /usr/share/man/man7/hotswap.7"
# A daemon under the installed shim (found by LD_PRELOAD's name alone), reloaded with the
# installed CLI; plugin and server built against the installed headers.
APP="$W/app" && mkdir -p "$APP/v1" "$APP/v2" && chmod 755 "$W" "$APP"
LEG="$ROOT/examples/legacy-server"
for v in 1 2; do
  cc -shared -fPIC $(pkg-config --cflags hotswap) -DHANDLER_VERSION=$v -Wl,-soname,libhandler.so \
    "$LEG/handler.c" -o "$APP/v$v/libhandler.so"
done
cc -I"$LEG" "$LEG/server.c" -L"$APP/v1" -lhandler -lpthread -ldl -o "$APP/server"
cp "$APP/v1/libhandler.so" "$APP/libhandler.so"
HOTSWAP_PLUGINS="$APP/libhandler.so" HOTSWAP_STATE_DIR="$W/state" HOTSWAP_LOG="$W/log" \
  LD_LIBRARY_PATH="$APP" LD_PRELOAD=libhotswap_preload.so.0 "$APP/server" -P "$W/port" &
SPID=$!
for _ in $(seq 200); do [ -s "$W/port" ] && break; sleep 0.05; done
check "the daemon starts under the installed shim" grep -q "start ok" "$W/log"
cp "$APP/v2/libhandler.so" "$APP/.n" && mv "$APP/.n" "$APP/libhandler.so"
check "/usr/bin/hotswap reloads it" /usr/bin/hotswap reload "$SPID"
kill "$SPID"; wait "$SPID" 2>/dev/null
check "the packages remove cleanly" dpkg -r libhotswap-dev hotswap
check "... leaving no shim behind" test ! -e "/usr/lib/$MA/libhotswap_preload.so.0"
echo "$pass passed, $fail failed"
