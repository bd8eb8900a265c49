#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# When new code crashes the daemon: the shim's one log line names the plugin build, the
# function and how long ago it was committed, then the crash goes on exactly as without the
# shim (the daemon's own handler, the exit status, the core). A crash elsewhere is not blamed
# on a plugin. The legacy server's build 8 passes every check and crashes on two routes.
. "$(dirname "$0")/../lib.sh"
BUILD=$(cd "$BUILD" && pwd) # the test runs in its temp folder (below)
. "$(dirname "$0")/shim_lib.sh"
san_skip "the sanitizer's own SIGSEGV handler reports every crash, which is what this test makes"

# crash_once ROUTE [SERVER ARGS...]: start on v1, reload into v8, request ROUTE; sets RC (the
# server's exit status) and V8 (v8's version as the reload named it).
crash_once() {
  route=$1; shift
  : >"$LOG"; : >"$T_TMP/server.out"
  install_handler 1
  start_server "$@" || return 1
  install_handler 8
  out=$("$HS" reload "$SPID" 2>&1)
  V8=$(sed -n 's/^reload 1 ok in .*: libhandler.so [0-9a-f]* -> \([0-9a-f]*\) .*/\1/p' <<<"$out")
  [ -n "$V8" ] || { echo "reload into v8 failed: $out"; return 1; }
  [ "$(get /div/7/2)" = "3 r 1 (v8)" ] || { echo "v8 does not serve"; return 1; }
  get "$route" >/dev/null 2>&1
  wait "$SPID"; RC=$?
}
crash_line() { grep -F ": crash: " "$LOG"; }

cd "$T_TMP" || exit 1 # a core, when the system writes one, lands in the server's folder
core_ok=false
if ulimit -c unlimited 2>/dev/null && [ "$(cat /proc/sys/kernel/core_pattern)" = core ]; then
  core_ok=true
fi

crash_once /div/7/0 || t_fail "v8 serves after the reload"
t_check "a NULL read in new code kills the server with SIGSEGV (exit 139, got $RC)" [ "$RC" -eq 139 ]
WANT="hotswap[$SPID]: crash: SIGSEGV (address 0x0) at libhandler.so $V8 handle_div+0x"
t_check "one log line names the signal, address, file, version and function" \
  bash -c "[ \$(grep -c ': crash: ' '$LOG') -eq 1 ] && grep -qF '$WANT' '$LOG'"
t_check "... and how long ago that build was committed, by which generation" \
  bash -c "grep -F ': crash: ' '$LOG' | grep -qE ', committed [0-9]+\.[0-9] s ago \(generation 1\)$'"
if $core_ok; then
  t_check "... and the kernel still writes a core" bash -c "ls '$T_TMP' | grep -q '^core'"
  rm -f "$T_TMP"/core*
fi

crash_once /add/666/666 || t_fail "v8 serves after the reload (abort)"
t_check "abort() in new code: the server dies by SIGABRT (exit 134, got $RC)" [ "$RC" -eq 134 ]
t_check "... the line names libc and the plugin function that called it" \
  grep -qE "crash: SIGABRT in libc\.so\.6\+0x[0-9a-f]+, called from libhandler\.so $V8 handle_add(\.cold)?\+0x[0-9a-f]+, committed" "$LOG"
rm -f "$T_TMP"/core*

crash_once /segv || t_fail "v8 serves after the reload (server bug)"
t_check "a bug in the server itself: SIGSEGV as without the shim (exit 139, got $RC)" [ "$RC" -eq 139 ]
t_check "... not blamed on a plugin: the line names the server and says so" \
  grep -qE "crash: SIGSEGV \(address 0x0\) in server\+0x[0-9a-f]+: not in plugin code$" "$LOG"
rm -f "$T_TMP"/core*

crash_once /div/7/0 -S || t_fail "v8 serves after the reload (own handler)"
t_check "a server with its own SIGSEGV handler: it still runs" grep -qx "server: caught SIGSEGV" "$T_TMP/server.out"
t_check "... after the shim's line" grep -qF "crash: SIGSEGV (address 0x0) at libhandler.so $V8 handle_div+0x" "$LOG"
t_check "... and its re-raise still ends the server by the signal (exit 139, got $RC)" [ "$RC" -eq 139 ]
rm -f "$T_TMP"/core*

# A signal someone sends is not a fault: no plugin is blamed, the default action stays.
: >"$LOG"
install_handler 1
start_server
kill -SEGV "$SPID"
wait "$SPID"; RC=$?
t_check "kill -SEGV from outside: the server dies by it (exit 139, got $RC)" [ "$RC" -eq 139 ]
t_check "... and the line says who sent it, blaming no plugin" \
  grep -qE "crash: SIGSEGV sent by pid [0-9]+ \(uid $(id -u)\): not a fault, no plugin blamed$" "$LOG"
rm -f "$T_TMP"/core*

# HOTSWAP_CRASH=0: the shim leaves the fatal signals alone.
HOTSWAP_CRASH=0 crash_once /div/7/0 || t_fail "v8 serves after the reload (HOTSWAP_CRASH=0)"
t_check "HOTSWAP_CRASH=0: the crash is as without the shim (exit 139, got $RC)" [ "$RC" -eq 139 ]
t_check "... and no line" bash -c "! grep -q ': crash: ' '$LOG'"
rm -f "$T_TMP"/core*
: >"$LOG"
HOTSWAP_CRASH=yes start_server
t_check "HOTSWAP_CRASH=yes is refused by name" \
  grep -qF "start refused: config: HOTSWAP_CRASH='yes' is not 1" "$LOG"
stop_server

# Probation and last-known-good: a build that served HOTSWAP_PROBATION_MS is kept; a restart
# on the build that crashed serves the kept one instead; a new build clears the record.
export HOTSWAP_STATE_DIR="$T_TMP/lkg-state"
: >"$LOG"
install_handler 1
HOTSWAP_PROBATION_MS=100 start_server
V1=$(sed -n 's/.*start ok in .*: libhandler.so \([0-9a-f]*\) adopted.*/\1/p' "$LOG")
t_check "a build that serves its probation becomes last-known-good" wait_for 10 \
  grep -qF "probation: libhandler.so $V1 served 100 ms without a crash: it is the last-known-good build ($HOTSWAP_STATE_DIR/lkg/libhandler.so)" "$LOG"
stop_server
HOTSWAP_PROBATION_MS=600000 start_server
install_handler 8
out=$("$HS" reload "$SPID" 2>&1)
V8=$(sed -n 's/^reload 1 ok in .*: libhandler.so [0-9a-f]* -> \([0-9a-f]*\) .*/\1/p' <<<"$out")
t_check "status: the new build is on probation, the kept one is last-known-good" \
  bash -c "'$HS' status --json $SPID | python3 -c '
import json,sys; p=json.load(sys.stdin)[\"probation\"]
assert p[\"enabled\"] and p[\"crash\"] is None and p[\"serving_last_known_good\"] is None, p
assert [(w[\"file\"], w[\"version\"]) for w in p[\"on_probation\"]] == [(\"libhandler.so\", \"$V8\")], p
assert 0 < p[\"on_probation\"][0][\"remaining_ms\"] <= 600000, p
assert p[\"last_known_good\"] == [{\"file\": \"libhandler.so\", \"version\": \"$V1\"}], p'"
t_check "... and the text status says so" \
  bash -c "'$HS' status $SPID | grep -qE '^  libhandler.so $V8 on probation: [0-9.]+ s left$'"
get /div/7/0 >/dev/null 2>&1
wait "$SPID"; RC=$?
t_check "the build on probation crashes the server (exit 139, got $RC)" [ "$RC" -eq 139 ]
t_check "... and the crash is recorded in the state folder" \
  grep -qE "^libhandler.so [0-9a-f]{16} $V8 SIGSEGV \(address 0x0\) at libhandler.so $V8 handle_div\+0x" "$HOTSWAP_STATE_DIR/crashed"
rm -f "$T_TMP"/core*

HOTSWAP_PROBATION_MS=600000 start_server # the same command, the crashed build still on disk
t_check "restarted on the crashed build: the log says it loads the last-known-good one" \
  grep -qF "probation: libhandler.so on disk is build $V8, which crashed the daemon (SIGSEGV (address 0x0) at libhandler.so $V8 handle_div+0x" "$LOG"
t_check "... naming the build it loads instead" \
  grep -qF "loading the last-known-good build $V1 from $HOTSWAP_STATE_DIR/lkg/libhandler.so instead (install a new build to clear this)" "$LOG"
t_check "... and the route that crashed answers (v1)" reply_is /div/7/0 "0 r 0 (v1)"
t_check "... every route is served by v1" serves v1
t_check "status: serving last-known-good, and which build crashed how" \
  bash -c "'$HS' status $SPID | grep -qF 'serving last-known-good libhandler.so $V1; libhandler.so $V8 crashed (SIGSEGV (address 0x0) at libhandler.so $V8 handle_div+0x'"
t_check "... and the JSON names the crash" bash -c "'$HS' status --json $SPID | python3 -c '
import json,sys; p=json.load(sys.stdin)[\"probation\"]
assert p[\"crash\"][\"version\"]==\"$V8\" and p[\"crash\"][\"file\"]==\"libhandler.so\", p
assert p[\"serving_last_known_good\"].startswith(\"serving last-known-good libhandler.so $V1;\"), p'"
kill -HUP "$SPID"
t_check "a reload with the crashed build still on disk keeps the last-known-good one" \
  wait_for 10 grep -qE "reload 1 ok in .*: libhandler.so $V1 \(unchanged\); nothing changed" "$LOG"
t_check "... serving v1" serves v1
install_handler 2
out=$("$HS" reload "$SPID" 2>&1)
t_check "a new build on disk clears the record" \
  grep -qF "probation: a new build of libhandler.so is on disk: the record of build $V8's crash is cleared" "$LOG"
t_check "... and is loaded" serves v2
t_check "... status: no crash, nothing served in place of the disk's build" bash -c "'$HS' status --json $SPID | python3 -c '
import json,sys; p=json.load(sys.stdin)[\"probation\"]
assert p[\"crash\"] is None and p[\"serving_last_known_good\"] is None, p'"
stop_server

# A pre-fork server: a worker crashes in the build on probation; the master, which runs that
# build too (and would fork the next worker from it), switches to the last-known-good one.
export HOTSWAP_STATE_DIR="$T_TMP/prefork-state"
: >"$LOG"; : >"$T_TMP/server.out"
install_handler 1
# 3 s of probation: long enough that v8 cannot serve its own before the worker crashes in it
# on a loaded machine (then v8 would be the last-known-good build, and nothing to go back to).
HOTSWAP_PROBATION_MS=3000 start_server -w 1
MASTER=$SPID
WORKER=$(sed -n 's/^server: worker 0 is pid \([0-9]*\)$/\1/p' "$T_TMP/server.out")
t_check "pre-fork: v1 becomes last-known-good" wait_for 10 grep -qF "probation: libhandler.so $V1 served 3000 ms" "$LOG"
install_handler 8
t_check "... the master reloads into v8" bash -c "'$HS' reload $MASTER | grep -q '^reload 1 ok in .* -> $V8 '"
t_check "... the worker too" bash -c "'$HS' reload $WORKER | grep -q '^reload 1 ok in .* -> $V8 '"
get /div/7/0 >/dev/null 2>&1
t_check "... a request kills the worker in v8" wait_for 10 grep -qF "hotswap[$WORKER]: crash: SIGSEGV (address 0x0) at libhandler.so $V8 handle_div+0x" "$LOG"
t_check "... before v8 served its probation anywhere" bash -c "! grep -qF 'probation: libhandler.so $V8 served' '$LOG'"
t_check "... the master sees the record and goes back to the last-known-good build" wait_for 10 \
  grep -qF "hotswap[$MASTER]: probation: libhandler.so $V8, which this process runs, crashed another process (SIGSEGV (address 0x0) at libhandler.so $V8 handle_div+0x" "$LOG"
t_check "... by a reload that loads it (what its next worker inherits)" wait_for 10 \
  grep -qE "hotswap\[$MASTER\]: reload 2 ok in .*: libhandler.so $V8 -> $V1 " "$LOG"
stop_server "$MASTER"

: >"$LOG"
install_handler 2
HOTSWAP_STATE_DIR="$T_TMP/off" HOTSWAP_PROBATION_MS=0 start_server
t_check "HOTSWAP_PROBATION_MS=0: no state folder is made" [ ! -e "$T_TMP/off" ]
stop_server
HOTSWAP_STATE_DIR=/proc/self/nowhere start_server
t_check "a state folder that cannot be made: the server serves" serves v2
t_check "... and the log says why and what to do" grep -qF \
  "probation: cannot use the state folder '/proc/self/nowhere': No such file or directory; no last-known-good build is kept (set HOTSWAP_STATE_DIR, or HOTSWAP_PROBATION_MS=0)" "$LOG"
stop_server
t_done
