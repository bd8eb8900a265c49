#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# A faulty build never takes the daemon down or wedges it (issue 13). The matrix in
# faults.tsv: each bad build is refused at step "trial", run only in a disposable copy of
# the daemon. Then a hook that hangs in the daemon itself (build 7 holds its on_load, but not
# in the trial copy): the log said "loading" first, status and revert answer, the server
# serves, SIGTERM stops it.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/shim_lib.sh"

export HOTSWAP_LOAD_TIMEOUT_MS=2000 HANDLER_EVENTS="$T_TMP/events"
export HANDLER_HOLD="$T_TMP/release" # read by build 7 only
FAULTS="$BUILD/tests/shim/faults"

install_fault() {
  cp "$FAULTS/$1/libhandler.so" "$APP/.libhandler.so.tmp" &&
    mv -f "$APP/.libhandler.so.tmp" "$APP/libhandler.so"
}
# status_quick: `hotswap status` answers (5 s is a ceiling for a loaded machine, not a target).
status_quick() { timeout 5 "$HS" status "$SPID" >"$T_TMP/status.out" 2>&1; }

install_handler 1
start_server || t_fail "server starts"
k=0
skipped=0
while IFS=$'\t' read -r case want <&3; do
  case "$case" in '#'* | '') continue ;; esac
  if [ -n "$SAN_RT" ] && [ "${case#*-}" = segv ]; then
    # The sanitizer's own SIGSEGV handler reports the fault in the copy and ends it first.
    echo "$case: skipped under ${SAN_RT%:}" >&2
    skipped=$((skipped + 1))
    continue
  fi
  k=$((k + 1))
  install_fault "$case"
  "$HS" reload "$SPID" >"$T_TMP/$case.out" 2>&1 &
  rpid=$!
  t_check "$case: status answers while the trial runs" status_quick
  wait "$rpid"
  rc=$?
  t_check "$case: the reload is refused (exit 1, got $rc)" [ "$rc" -eq 1 ]
  t_check "$case: the answer names file, step and reason: $want" \
    grep -qF "reload $k rejected: libhandler.so: trial: $want" "$T_TMP/$case.out"
  t_check "$case: ... and says the daemon never ran it" \
    grep -qF "this build never ran in the daemon; still serving handler" "$T_TMP/$case.out"
  t_check "$case: the log has the same line" log_has "reload $k rejected: libhandler.so: trial: $want"
  t_check "$case: the daemon still serves v1" serves v1
done 3<"$(dirname "$0")/faults.tsv"
t_check "the matrix has its 8 cases" [ $((k + skipped)) -eq 8 ]
t_check "no bad build's code ran in the daemon (its constructor would have logged a load)" \
  bash -c "! grep -q '^load v2-' '$HANDLER_EVENTS' 2>/dev/null"
t_check "no crash line: the trial copies' faults are theirs" bash -c "! grep -q ': crash: ' '$LOG'"
t_check "the trial copies are gone (no child of the server left)" \
  bash -c "[ -z \"\$(pgrep -P $SPID)\" ]"

# A good build after all that: the trial passes, the log says so before its code runs here.
install_handler 2
t_check "a good build reloads after the bad ones" "$HS" reload "$SPID"
t_check "the log said 'loading' with the trial's time before its code ran here" \
  grep -qE "reload $((k + 1)): loading libhandler.so [0-9a-f]+ \(trial passed in [0-9.]+ ms\)$" "$LOG"
t_check "v2 serves" serves v2
stop_server

# A hook that hangs in the daemon itself, not in the trial copy (build 7 waits for a file in
# its on_load unless HOTSWAP_TRIAL is set, as a build that behaves differently would).
: >"$LOG"
install_handler 1
start_server || t_fail "server starts again"
install_handler 7
"$HS" reload --timeout 3 "$SPID" >"$T_TMP/held.out" 2>&1 &
held=$!
t_check "the held reload reaches build 7's on_load" wait_for 5 test -e "$HANDLER_HOLD.waiting"
t_check "the log said 'loading libhandler.so' before its code ran" \
  log_has "reload 1: loading libhandler.so"
t_check "status answers during the hang" status_quick
t_check "... and says where it hangs" \
  grep -qE "^reload 1 running for [0-9.]+ s, in libhandler.so hotswap_on_load for [0-9.]+ s$" "$T_TMP/status.out"
t_check "status --json: running.in is hotswap_on_load" bash -c \
  "timeout 5 '$HS' status --json $SPID | python3 -c 'import json,sys; r=json.load(sys.stdin)[\"running\"]; sys.exit(r[\"in\"] != \"hotswap_on_load\" or r[\"label\"] != \"reload 1\")'"
t_check "revert is refused at once, saying why" bash -c \
  "timeout 5 '$HS' revert $SPID 2>&1 | grep -qF 'revert refused: a reload is still running, in libhandler.so hotswap_on_load for'"
t_check "the server goes on serving v1" serves v1
t_check "... and its dlsym() calls are answered (no loader lock held by the hook)" \
  reply_is /dlsym/di "hello, di (v1)"
wait "$held"
t_check "reload --timeout 3 gives up with exit 2 and names the hang" bash -c \
  "grep -qE 'the daemon is busy: reload 1 running for [0-9.]+ s, in libhandler.so hotswap_on_load' '$T_TMP/held.out'"
kill -TERM "$SPID"
wait "$SPID"
rc=$?
t_check "SIGTERM still stops the daemon during the hang (exit $rc)" [ "$rc" -ne 127 ]
t_check "... it is gone" bash -c "! kill -0 $SPID 2>/dev/null"

# HOTSWAP_LOAD_TIMEOUT_MS: 0 turns the trial off; a bad value refuses to start.
: >"$LOG"
install_handler 1
HOTSWAP_LOAD_TIMEOUT_MS=0 start_server || t_fail "server starts without trial"
install_handler 2
"$HS" reload "$SPID" >/dev/null 2>&1
t_check "HOTSWAP_LOAD_TIMEOUT_MS=0: no trial, still a 'loading' line" \
  grep -qE "reload 1: loading libhandler.so [0-9a-f]+$" "$LOG"
stop_server
: >"$LOG"
HOTSWAP_LOAD_TIMEOUT_MS=soon start_server || t_fail "server starts with a bad value"
t_check "a bad HOTSWAP_LOAD_TIMEOUT_MS: start refused in config, named" \
  log_has "start refused: config: HOTSWAP_LOAD_TIMEOUT_MS='soon' is not a whole number"
stop_server
t_done
