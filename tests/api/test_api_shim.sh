#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# The host API through the shim: a host (api_host) that declares the API weak calls invoke,
# invoke_each, the vault, its extension and live functions/data of plugins the shim loaded
# from a folder, before and after real reloads (hotswap reload over the control socket).
. "$(dirname "$0")/../lib.sh"
SHIM="$(cd "$BUILD" && pwd)/libhotswap_preload.so"
HS="$BUILD/hotswap"
FIX="$BUILD/api-plugins"
APP="$T_TMP/app"
OUT="$T_TMP/out"
mkdir -p "$APP" && chmod 755 "$APP"

install_fx() { # install_fx FIXTURE: ap_alpha-v2 -> $APP/libap_alpha.so, atomically
  cp "$FIX/$1.so" "$APP/.tmp.so" && mv -f "$APP/.tmp.so" "$APP/lib${1%-v*}.so"
}
# ask CMD WANT: send one command, wait for the exact answer line.
ask() {
  echo "$1" >&8
  for _ in $(seq 100); do
    grep -qxF "$2" "$OUT" && return 0
    sleep 0.05
  done
  echo "wanted '$2' after '$1'; output:"; cat "$OUT"; return 1
}

t_check "without the shim, the weak API is absent" \
  bash -c "[ \"\$('$BUILD/tests/api_host' </dev/null)\" = 'no shim' ]"

install_fx ap_alpha-v1; install_fx ap_beta-v1; install_fx ap_zulu-v1; install_fx ap_quiet-v1
mkfifo "$T_TMP/in"
HOTSWAP_PLUGINS="$APP" HOTSWAP_LOG="$T_TMP/log" HOTSWAP_CONTROL="$T_TMP/ctl.sock" \
  LD_PRELOAD="$SHIM" "$BUILD/tests/api_host" <"$T_TMP/in" >"$OUT" 2>&1 &
HPID=$!; t_reap "$HPID"
exec 8>"$T_TMP/in"
t_check "the host started with the plugins loaded" ask "" "ready"
t_check "hotswap_invoke reaches v1" ask greet "greet ap_alpha v1"
t_check "invoke_each: dependency order, failures collected, the rest runs" ask each \
  "each ap_beta ap_zulu ap_alpha | HOTSWAP_EHOOK ap_beta: 'fail' returned -22; ap_zulu: 'fail' returned 5"
t_check "the extension registered in main() was filled by on_init" ask ext "ext 1 ap_alpha v1"
t_check "a live function of v1" ask job "job 107"
t_check "the bag holds what v1 put there" ask bag "bag written by ap_alpha v1"
t_check "live data restores as is under the same layout" ask restore "restore 42 3 -1"

install_fx ap_alpha-v3 # layout change without an upgrade: refused, v1 keeps serving
"$HS" reload "$HPID" >"$T_TMP/r3" 2>&1
t_check "a layout change without upgrade is refused (exit 1)" [ $? -eq 1 ]
t_check "the refusal names the type and the missing upgrade" \
  grep -q "live type 'live_order' changed layout (size 8 -> 16, fields 'id, qty' -> 'id, qty, total') and no upgrade is declared" "$T_TMP/r3"
t_check "still v1 after the refusal" ask greet "greet ap_alpha v1"

install_fx ap_alpha-v2
"$HS" reload "$HPID" >"$T_TMP/r2" 2>&1
t_check "reload to v2 (exit 0)" [ $? -eq 0 ]
t_check "hotswap_invoke reaches v2" ask greet "greet ap_alpha v2"
# serial 3: #2 was built for the refused reload and destroyed
t_check "the extension was rebuilt from the previous one and filled by v2" ask ext "ext 3 ap_alpha v2"
t_check "the job queued under v1 runs v2's live function" ask job "job 207"
t_check "the bag survived the reload" ask bag "bag written by ap_alpha v1"
t_check "v1's live data is upgraded into v2's layout" ask restore "restore 42 3 30"
exec 8>&-
wait "$HPID"
t_check "the host exited cleanly" [ $? -eq 0 ]
t_done
