#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Revert: `hotswap revert PID` makes the daemon serve its previous generation again (all
# plugins, one commit) while those versions are still loaded; twice goes forward again;
# twenty reverts under load fail no request; refusals say why (no previous generation, the
# previous version already retired, a plugin or a function the previous generation lacked).
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/shim_lib.sh"

export HOTSWAP_GRACE_MS=60000
install_handler 1
start_server || { t_fail "server starts"; t_done; }
V1=$(sed -n 's/.*libhandler.so \([0-9a-f]*\) adopted.*/\1/p' "$LOG" | head -1)

t_check "revert with only generation 0 is refused (exit 1)" \
  bash -c "! '$HS' revert $SPID 2>'$T_TMP/err0'"
t_check "... with the reason" \
  [ "$(cat "$T_TMP/err0")" = "revert refused: no previous generation (generation 0 is the first)" ]
t_check "... and the log says it" log_has "revert refused: no previous generation (generation 0 is the first)"
t_check "v1 still serves" serves v1

install_handler 2
"$HS" reload "$SPID" >/dev/null
V2=$(sed -n 's/.*libhandler.so [0-9a-f]* -> \([0-9a-f]*\) .*/\1/p' "$LOG" | tail -1)
t_check "v2 serves after the reload" serves v2
t_check "revert succeeds" bash -c "'$HS' revert $SPID >'$T_TMP/out1'"
t_check "... and says what it did" \
  [ "$(cat "$T_TMP/out1")" = "revert ok: generation 2 (as generation 0): handler $V2 -> $V1" ]
t_check "v1 serves again (the adopted copy, through the same trampolines)" serves v1
t_check "a second revert goes forward again" bash -c "'$HS' revert $SPID >'$T_TMP/out2'"
t_check "... as generation 1" \
  [ "$(cat "$T_TMP/out2")" = "revert ok: generation 3 (as generation 1): handler $V1 -> $V2" ]
t_check "v2 serves" serves v2
t_check "JSON answer has ok and the generation" bash -c "'$HS' revert --json $SPID | python3 -c '
import json,sys; d=json.load(sys.stdin); assert d[\"ok\"] is True and d[\"generation\"]==4, d'"
t_check "v1 serves after the third" serves v1

# Twenty reverts under load: every one commits, no request fails, the last one wins.
"$LEG/loadgen" -p "$PORT" -c 4 -d 300 -s "$T_TMP/stop" >"$T_TMP/loadgen.out" 2>&1 &
LPID=$!; t_reap "$LPID"
sleep 0.2
bad=0
for _ in $(seq 20); do
  "$HS" revert "$SPID" >/dev/null 2>>"$T_TMP/revert.err" || bad=$((bad + 1))
done
touch "$T_TMP/stop"; wait "$LPID"; lrc=$?
t_check "20 reverts under load all succeed ($bad refused)" [ "$bad" -eq 0 ]
t_check "zero failed requests under 20 reverts ($(tail -n 1 "$T_TMP/loadgen.out"))" [ "$lrc" -eq 0 ]
t_check "an even number of reverts later v1 still serves" serves v1
t_check "status shows v1 current" bash -c "'$HS' status --json $SPID | python3 -c '
import json,sys; d=json.load(sys.stdin); assert d[\"plugins\"][0][\"version\"]==\"$V1\", d[\"plugins\"][0]'"
stop_server

# The previous version already retired: refused, the current one keeps serving.
install_handler 1
HOTSWAP_GRACE_MS=100 HOTSWAP_LOG="$T_TMP/short.log" CONTROL="$T_TMP/short.sock" start_server ||
  { t_fail "second server starts"; t_done; }
install_handler 2
"$HS" reload "$SPID" >/dev/null
t_check "v1 retires after its 100 ms grace period" \
  wait_for 3 grep -q "retired handler $V1 (adopted" "$T_TMP/short.log"
t_check "revert is refused once the previous version is gone" \
  bash -c "! '$HS' revert $SPID 2>'$T_TMP/err3'"
t_check "... with the reason" [ "$(cat "$T_TMP/err3")" = \
  "revert refused: the version of handler that generation 0 ran was unloaded since (retired)" ]
t_check "v2 keeps serving" serves v2
stop_server

# elf/'s fixture plugin ("fixture"): dropped.so exports no function libhandler.so also
# exports; normal.so is the same plus handle_stats.
install_fixture() { cp "$BUILD/fixtures/$1.so" "$2/.libfixture.so.tmp" && mv -f "$2/.libfixture.so.tmp" "$2/libfixture.so"; }

# A plugin the previous generation did not have: the plugin folder gains one.
install_handler 1
PLUGINS="$APP" HOTSWAP_LOG="$T_TMP/dir.log" CONTROL="$T_TMP/dir.sock" start_server ||
  { t_fail "server with a plugin folder starts"; t_done; }
install_fixture dropped "$APP"
t_check "a plugin added to the folder is loaded by a reload" \
  bash -c "'$HS' reload $SPID >/dev/null && grep -qF 'libfixture.so 0123456-dirty loaded' '$T_TMP/dir.log'"
t_check "revert is refused: the plugin is new since the previous generation" \
  bash -c "! '$HS' revert $SPID 2>'$T_TMP/err4'"
t_check "... with the reason" \
  [ "$(cat "$T_TMP/err4")" = "revert refused: plugin fixture did not exist in generation 0" ]
t_check "... logged" grep -qxF "hotswap[$SPID]: revert refused: plugin fixture did not exist in generation 0" "$T_TMP/dir.log"
t_check "... and v1 keeps serving" serves v1
stop_server
rm -f "$APP/libfixture.so"

# A function the previous generation did not have: the fixture's next build adds one.
FX_APP="$T_TMP/fxapp"
mkdir -m 755 "$FX_APP"
install_fixture dropped "$FX_APP"
PLUGINS="$FX_APP/libfixture.so" HOTSWAP_LOG="$T_TMP/fx.log" CONTROL="$T_TMP/fx.sock" start_server ||
  { t_fail "server with the fixture plugin starts"; t_done; }
install_fixture normal "$FX_APP"
t_check "the build that adds handle_stats is loaded" \
  bash -c "'$HS' reload $SPID >/dev/null && grep -qE 'reload 1 ok in .*: libfixture.so 0123456-dirty -> 0123456-dirty \(4 symbols\)' '$T_TMP/fx.log'"
t_check "revert is refused: handle_stats has a trampoline generation 0 could not serve" \
  bash -c "! '$HS' revert $SPID 2>'$T_TMP/err5'"
t_check "... with the reason" \
  [ "$(cat "$T_TMP/err5")" = "revert refused: 'handle_stats' did not exist in generation 0" ]
t_check "... logged" grep -qxF "hotswap[$SPID]: revert refused: 'handle_stats' did not exist in generation 0" "$T_TMP/fx.log"
t_check "... and the server still answers" reply_starts /version "v"
stop_server
t_done
