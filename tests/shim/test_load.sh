#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Zero failed requests: a client keeps requests flowing on 4 connections while 100 reloads
# alternate v1 and v2 (atomic rename + kill -HUP, then `hotswap reload` to wait for it).
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/shim_lib.sh"

install_handler 1
start_server || { t_fail "server starts"; t_done; }
"$LEG/loadgen" -p "$PORT" -c 4 -d 120 -s "$T_TMP/stop" >"$T_TMP/loadgen.out" 2>&1 &
LPID=$!
t_reap "$LPID"
sleep 0.3
bad=0
for i in $(seq 100); do
  v=$(( i % 2 == 1 ? 2 : 1 ))
  install_handler "$v"
  if [ $((i % 2)) -eq 0 ]; then
    kill -HUP "$SPID"
    wait_for 5 serves "v$v" || bad=$((bad + 1))
  else
    "$HS" reload "$SPID" >/dev/null || bad=$((bad + 1))
  fi
done
touch "$T_TMP/stop"
wait "$LPID"
lrc=$?
summary=$(tail -n 1 "$T_TMP/loadgen.out")
echo "loadgen: $summary"
t_check "all 100 reloads took effect" [ "$bad" -eq 0 ]
t_check "zero failed requests across 100 reloads" [ "$lrc" -eq 0 ]
t_check "loadgen saw both versions" bash -c "grep -q 'v1:[0-9]' <<<'$summary' && grep -q 'v2:[0-9]' <<<'$summary'"
switches=$(sed -n 's/.*switches=\([0-9]*\).*/\1/p' <<<"$summary")
t_check "replies switched version many times (saw ${switches:-0})" [ "${switches:-0}" -ge 50 ]
t_check "every reload logged as ok" [ "$(grep -c 'ok in' "$LOG")" -ge 101 ]
t_done
