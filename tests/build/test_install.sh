#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# make install into a DESTDIR with PREFIX=/usr, then use the installed tree alone: a plugin
# and the legacy demo server compiled with pkg-config, the server run under the installed
# shim and reloaded with the installed CLI, `hotswap build` finding the installed header, a
# static host linked with `pkg-config --libs`; then make uninstall leaves no file.
. "$(dirname "$0")/../lib.sh"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=$(cd "$BUILD" && pwd)
D="$T_TMP/root"
MA=$(${CC:-cc} -print-multiarch)
LIB="$D/usr/lib/$MA"
mk() { env -u MAKEFLAGS -u MAKELEVEL -u MFLAGS make -s -C "$ROOT" BUILD="$BUILD" "$@"; }

t_check "make install DESTDIR=... PREFIX=/usr" mk install DESTDIR="$D" PREFIX=/usr
for f in usr/bin/hotswap "usr/lib/$MA/libhotswap_preload.so.0" "usr/lib/$MA/libhotswap_static.a" \
  usr/include/hotswap.h "usr/lib/$MA/pkgconfig/hotswap.pc" usr/share/man/man1/hotswap.1 \
  usr/share/man/man3/hotswap.3 usr/share/man/man7/hotswap.7 \
  usr/share/bash-completion/completions/hotswap usr/share/doc/hotswap/LICENSE; do
  t_check "installed: /$f" test -e "$D/$f"
done
t_check "the shim's SONAME is libhotswap_preload.so.0, the link chain ends in the file" bash -c \
  "readelf -d '$LIB/libhotswap_preload.so' | grep -q 'Library soname: \[libhotswap_preload.so.0\]' &&
   [ \"\$(readlink '$LIB/libhotswap_preload.so')\" = libhotswap_preload.so.0 ] &&
   [ \"\$(readlink '$LIB/libhotswap_preload.so.0')\" = libhotswap_preload.so.$("$BUILD/hotswap" --version | awk '{print $2}') ]"
# Exactly the allowlist of preload/exports.map: the hotswap_* API and the interposed
# functions (unversioned: a named version node would stop them from interposing libc's).
want=$(sed -n 's/^ *\([a-z_][a-z_0-9]*\);$/\1/p' "$ROOT/preload/exports.map" | sort)
have=$(nm -D --defined-only "$LIB/libhotswap_preload.so.0" | awk '{print $3}' | sort)
t_check "it exports exactly preload/exports.map's $(wc -w <<<"$want") symbols" [ "$want" = "$have" ]

export PKG_CONFIG_SYSROOT_DIR="$D" PKG_CONFIG_LIBDIR="$LIB/pkgconfig"
t_check "pkg-config knows hotswap" pkg-config --exists hotswap
CF=$(pkg-config --cflags hotswap | xargs)
t_check "its cflags point into the installed tree ($CF)" [ "$CF" = "-I$D/usr/include" ]
APP="$T_TMP/app"
mkdir -p "$APP/v1" "$APP/v2" && chmod 755 "$T_TMP" "$APP"
LEG="$ROOT/examples/legacy-server"
for v in 1 2; do
  t_check "a plugin compiles with cc -shared -fPIC \$(pkg-config --cflags hotswap) (v$v)" \
    cc -shared -fPIC $CF -DHANDLER_VERSION=$v -Wl,-soname,libhandler.so \
    "$LEG/handler.c" "$ROOT/tests/build/pc_plugin.c" -o "$APP/v$v/libhandler.so"
done
t_check "the demo server compiles against it" cc $CF -I"$LEG" "$LEG/server.c" \
  -L"$APP/v1" -lhandler -lpthread -ldl -o "$APP/server"
cp "$APP/v1/libhandler.so" "$APP/libhandler.so"
HOTSWAP_PLUGINS="$APP/libhandler.so" HOTSWAP_LOG="$T_TMP/log" HOTSWAP_STATE_DIR="$T_TMP/state" \
  LD_LIBRARY_PATH="$APP" LD_PRELOAD="$LIB/libhotswap_preload.so.0" \
  "$APP/server" -P "$T_TMP/port" >"$T_TMP/server.out" 2>&1 &
SPID=$!
t_reap "$SPID"
for _ in $(seq 400); do [ -s "$T_TMP/port" ] && break; sleep 0.05; done
PORT=$(cat "$T_TMP/port" 2>/dev/null)
get() {
  exec 7<>"/dev/tcp/127.0.0.1/$PORT" || return 1
  printf 'GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' "$1" >&7
  sed '1,/^\r$/d' <&7 | tr -d '\r'
  exec 7<&- 7>&-
}
t_check "the server runs under the installed shim, v1" [ "$(get /version)" = v1 ]
t_check "... that shim is the installed file" grep -q "$LIB/libhotswap_preload.so" "/proc/$SPID/maps"
cp "$APP/v2/libhandler.so" "$APP/.new" && mv "$APP/.new" "$APP/libhandler.so"
t_check "the installed CLI reloads it" "$D/usr/bin/hotswap" reload "$SPID"
t_check "v2 serves" [ "$(get /version)" = v2 ]
t_check "the installed CLI shows its status" bash -c "'$D/usr/bin/hotswap' status $SPID | grep -q '^pid $SPID'"
kill "$SPID"; wait "$SPID" 2>/dev/null

# hotswap build with the installed CLI: hotswap.h found next to it (../include).
"$D/usr/bin/hotswap" build -v "$ROOT/examples/slink/dog" "$T_TMP/out" >"$T_TMP/build.out" 2>&1
t_check "installed hotswap build compiles with the installed hotswap.h" \
  grep -q -- "-I$D/usr/include " "$T_TMP/build.out"
t_check "... and writes dog.so" test -f "$T_TMP/out/dog.so"
t_check "... and --static-linking writes libdog.a" \
  "$D/usr/bin/hotswap" build --static-linking "$ROOT/examples/slink/dog" "$T_TMP/out"
t_check "a static host links with \$(pkg-config --libs hotswap)" cc $CF -DSLINK_STATIC \
  "$ROOT/examples/slink/host.c" "$T_TMP/out/libdog.a" $(pkg-config --libs hotswap) \
  -o "$T_TMP/host-static"
t_check "the installed man pages render" bash -c \
  "mandoc -Tascii '$D/usr/share/man/man7/hotswap.7' | grep -q HOTSWAP_PLUGINS"

t_check "make uninstall" mk uninstall DESTDIR="$D" PREFIX=/usr
left=$(find "$D" ! -type d | sed "s|^$D||")
t_check "uninstall leaves no file (left: ${left:-none})" [ -z "$left" ]
t_done
