#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# State across reloads: a legacy-style server (tests/shim/state) whose main() fills the
# library's statics once through state_init(), reloaded under load into the same code
# rebuilt, a changed build, a build whose struct grew (with and without hotswap_on_transfer),
# reverted, and refused under HOTSWAP_STATE=strict; as a PIE and as a non-PIE executable,
# both of which copy-relocate the library's exported variable state_limit on x86-64, and as
# a PIE that reaches it through its GOT. Checked through what the server answers.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/shim_lib.sh"

ST="$BUILD/tests/shim/state"
export HOTSWAP_GRACE_MS=60000 # keep old versions loaded: reverts reach them

install_state() {
  cp "$ST/$1/libstate.so" "$APP/.libstate.so.tmp" && mv -f "$APP/.libstate.so.tmp" "$APP/libstate.so"
}
start_state() {
  SERVER="$ST/state_host_$1" PLUGINS="$APP/libstate.so" start_server
}
reload_ok() { "$HS" reload "$SPID" >"$T_TMP/reload.out" 2>&1; }
count() { get /count | cut -d' ' -f1; }
peek() { get /peek | cut -d' ' -f1; }
# grows_by N: wait until the counter (which every /check of the load increments) has grown
# by N from now: the load is running in the version that serves.
grows_by() {
  from=$(peek)
  wait_for 10 bash -c "[ \"\$(get_peek)\" -ge $((from + $1)) ]"
}
get_peek() { peek; }
export -f get peek get_peek
export PORT

# --- the PIE host: the whole story ---------------------------------------------------------
install_state v1
start_state pie || { t_fail "the state host starts"; t_done; }
t_check "v1: the start-up table answers" reply_is /mime/html "text/html (v1)"
t_check "v1: the cache is warm" reply_is /cache "warm (v1)"
t_check "v1: the exported variable's initial value" reply_is /limit "10 (v1)"
c1=$(count)

"$LEG/loadgen" -p "$PORT" -c 4 -d 300 -s "$T_TMP/stop" -u /check >"$T_TMP/loadgen.out" 2>&1 &
LPID=$!; t_reap "$LPID"
t_check "the load runs in v1" grows_by 50

install_state v1b
t_check "the same code rebuilt reloads" reload_ok
t_check "... and the log says what was carried" log_has "state: "
t_check "the table sorted at start-up still answers (the first reload used to lose it)" \
  reply_is /mime/html "text/html (v1)"
t_check "the counter keeps counting" bash -c "[ $(count) -gt $c1 ]"
t_check "the heap cache pointer survived" reply_is /cache "warm (v1)"
t_check "the static string pointer was rebased" reply_is /name "configured-name (v1)"

c2=$(count)
install_state v2
t_check "a changed build reloads" reload_ok
t_check "v2 serves" serves "(v2)"
t_check "the table still answers in v2" reply_is /mime/html "text/html (v2)"
t_check "the counter went on in v2" bash -c "[ $(count) -gt $c2 ]"
t_check "the load runs in v2" grows_by 50
t_check "a table of static functions now reaches v2's functions" reply_is /dispatch/0 "alpha (v2)"
t_check "... both of them" reply_is /dispatch/1 "beta (v2)"
t_check "the string pointer points into v2's read-only data" reply_is /name "configured-name (v2)"
t_check "a changed initial value the program never touched takes effect" reply_is /level "2 (v2)"
t_check "the program's copy of state_limit gets v2's initial value (copy relocation)" \
  reply_is /limit "20 (v2)"
t_check "... and the log says so" \
  log_has "exported variable 'state_limit': the program never changed its copy; it gets the new build's initial value"

t_check "the program changes state_limit" reply_is /setlimit/33 "33 (v2)"
install_state v1b
t_check "reloading to v1 again" reload_ok
t_check "a value the program set is kept" reply_is /limit "33 (v1)"
t_check "... with a warning in the log" \
  log_has "warning: exported variable 'state_limit' was changed by the program"
t_check "the load runs in v1 again" grows_by 50

c3=$(count)
t_check "revert (to v2)" bash -c "'$HS' revert $SPID >'$T_TMP/revert.out'"
t_check "... carries state back" grep -qF "state: " "$T_TMP/revert.out"
t_check "after the revert v2 answers from the table" reply_is /mime/html "text/html (v2)"
t_check "... and the counter went on" bash -c "[ $(count) -gt $c3 ]"
t_check "... and state_limit is still the program's" reply_is /limit "33 (v2)"

touch "$T_TMP/stop"
wait "$LPID"; lrc=$?
summary=$(tail -n 1 "$T_TMP/loadgen.out")
echo "loadgen /check: $summary"
t_check "under load, no request failed or answered wrong (the table was never lost)" \
  bash -c "[ $lrc -eq 0 ] && grep -q 'failed=0 ' <<<'$summary'"
t_check "... and the load saw v1 and v2" \
  bash -c "grep -q 'v1:[0-9]' <<<'$summary' && grep -q 'v2:[0-9]' <<<'$summary'"

install_state v3
t_check "a build whose struct grew reloads (default policy)" reload_ok
t_check "... the log names the object left fresh" \
  log_has "left fresh: mime_table (libstate.c) (size 96 -> 144)"
t_check "... which then starts from its initial value" \
  reply_is /mime/html "application/octet-stream (v3)"
t_check "... while the rest was carried" reply_is /cache "warm (v3)"

"$HS" revert "$SPID" >/dev/null 2>&1
t_check "revert to v2 gets the table back" reply_is /mime/html "text/html (v2)"
install_state v4
t_check "a grown build with hotswap_on_transfer reloads" reload_ok
t_check "... and converted the table itself" reply_is /mime/html "text/html (v4)"
t_check "status JSON counts what the last reload carried" bash -c "'$HS' status --json $SPID | python3 -c '
import json,sys; d=json.load(sys.stdin); s=d[\"last_reload\"][\"state\"]
assert s[\"carried\"] >= 3 and s[\"carried_bytes\"] > 0 and s[\"fresh\"] == 0, s'"

install_state v5
t_check "a build whose copy-relocated variable grew is refused" bash -c "! '$HS' reload $SPID >'$T_TMP/r5' 2>&1"
t_check "... naming the variable and the step" \
  grep -qF "libstate.so: state: exported variable 'state_limit' is 8 bytes in the new build, 4 in the program" "$T_TMP/r5"
t_check "... and v4 keeps serving" serves "(v4)"
stop_server

# --- HOTSWAP_STATE=strict and fresh --------------------------------------------------------
install_state v1
HOTSWAP_STATE=strict start_state pie || t_fail "strict host starts"
install_state v3
t_check "strict: a build that cannot take the changed table is refused" \
  bash -c "! '$HS' reload $SPID >'$T_TMP/rs' 2>&1"
t_check "... naming the step and the object" \
  grep -qF "libstate.so: state: HOTSWAP_STATE=strict: the program changed state the new build cannot take: mime_table (libstate.c) (size 96 -> 144)" "$T_TMP/rs"
t_check "... and v1 serves with its table" reply_is /mime/html "text/html (v1)"
stop_server

install_state v1
HOTSWAP_STATE=fresh start_state pie || t_fail "fresh host starts"
install_state v1b
t_check "fresh: reloads" reload_ok
t_check "... and the new copy starts from its initial values (the old behaviour)" \
  reply_is /mime/html "application/octet-stream (v1)"
stop_server
HOTSWAP_STATE=maybe HOTSWAP_LOG="$T_TMP/bad.log" start_state pie || t_fail "host with a bad HOTSWAP_STATE starts"
t_check "a bad HOTSWAP_STATE is named in the log, and the server runs" \
  grep -qF "HOTSWAP_STATE='maybe' is not one of carry, strict, fresh" "$T_TMP/bad.log"
t_check "... serving v1" serves "(v1)"
stop_server

# --- the non-PIE host --------------------------------------------------------------------
install_state v1
start_state nopie || { t_fail "the non-PIE host starts"; t_done; }
install_state v2
t_check "non-PIE: reloads to v2" reload_ok
t_check "non-PIE: the table survived" reply_is /mime/html "text/html (v2)"
t_check "non-PIE: the program's copy of state_limit gets v2's initial value" reply_is /limit "20 (v2)"
t_check "non-PIE: the program sets it" reply_is /setlimit/7 "7 (v2)"
install_state v1b
t_check "non-PIE: back to v1" reload_ok
t_check "non-PIE: ... 7" reply_is /limit "7 (v1)"
stop_server

# --- the PIE that reaches state_limit through its GOT --------------------------------------
# No copy: the program, v1 and every later version all bind to v1's (the adopted first
# version's) state_limit, which then plays the program's copy.
t_check "the GOT host has a GLOB_DAT, not a copy, for state_limit" bash -c \
  "readelf -rW '$ST/state_host_got' | grep -E 'GLOB_DAT.* state_limit' && ! readelf -rW '$ST/state_host_got' | grep -q '_COPY'"
install_state v1
start_state got || { t_fail "the GOT host starts"; t_done; }
install_state v2
t_check "GOT: reloads to v2" reload_ok
t_check "GOT: the variable the program uses gets v2's initial value" reply_is /limit "20 (v2)"
t_check "GOT: the program sets it" reply_is /setlimit/9 "9 (v2)"
install_state v5
t_check "GOT: a build whose variable grew is refused" bash -c "! '$HS' reload $SPID >'$T_TMP/r7' 2>&1"
t_check "... naming the variable" grep -qF "exported variable 'state_limit' is 8 bytes in the new build, 4 in the program" "$T_TMP/r7"
install_state v1b
t_check "GOT: back to v1" reload_ok
t_check "GOT: ... 9" reply_is /limit "9 (v1)"
stop_server
t_done
