#!/bin/bash
# Revert: `hotswap revert PID` makes the daemon serve its previous generation again (all
# plugins, one commit) while those versions are still loaded; twice goes forward again;
# twenty reverts under load fail no request; refusals say why (no previous generation, the
# previous version already retired).
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
t_done
