#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# The opt-in path: a host that does not link the plugin loads it through the shim and calls
# it through hotswap_fn(); the trampoline address stays the same across reloads.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/shim_lib.sh"

install_handler 1
t_check "without the shim, the weak API is absent" bash -c "[ \"\$('$BUILD/tests/optin_host' </dev/null)\" = 'no shim' ]"
mkfifo "$T_TMP/in"
HOTSWAP_PLUGINS="$APP/libhandler.so" HOTSWAP_LOG="$LOG" HOTSWAP_CONTROL="$T_TMP/ctl.sock" \
  LD_PRELOAD="$PRELOAD" "$BUILD/tests/optin_host" <"$T_TMP/in" >"$T_TMP/out" 2>&1 &
HPID=$!; t_reap "$HPID"
exec 8>"$T_TMP/in"
echo >&8
t_check "the shim loaded the plugin (not linked by the host)" wait_for 5 grep -q " v1$" "$T_TMP/out"
t_check "hotswap_fn of an unknown name is NULL" grep -qx "missing=(nil)" "$T_TMP/out"
t_check "first load logged as loaded, not adopted" grep -q "libhandler.so [0-9a-f]* loaded" "$LOG"
install_handler 2
"$HS" reload "$HPID" >/dev/null
echo >&8
t_check "after the reload the same trampoline reaches v2" wait_for 5 grep -q " v2$" "$T_TMP/out"
addrs=$(grep -c . <(awk '/ v[12]$/ {print $1}' "$T_TMP/out" | sort -u))
t_check "the trampoline address did not change" [ "$addrs" -eq 1 ]
exec 8>&-
wait "$HPID"
t_done
