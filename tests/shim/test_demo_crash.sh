#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# make demo-crash, end to end: a crash in a reloaded build, a supervisor restart, the
# last-known-good build serving the route that crashed, a fixed build clearing the record.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/shim_lib.sh"
san_skip "the demo crashes its server on purpose, which the sanitizer reports"

NO_COLOR=1 scripts/demo-crash.sh "$BUILD" >"$T_TMP/demo.out" 2>&1
rc=$?
t_check "make demo-crash succeeds (exit 0, got $rc)" [ "$rc" -eq 0 ]
t_check "... the crash line names file, version and function" \
  grep -qE "crash: SIGSEGV \(address 0x0\) at libhandler.so [0-9a-f]{7} handle_div\+0x[0-9a-f]+, committed" "$T_TMP/demo.out"
t_check "... the supervisor saw signal 11 and restarted" \
  grep -qF "supervisor: the server exited with status 139 (signal 11)" "$T_TMP/demo.out"
t_check "... the restart loaded the last-known-good build" \
  grep -qF "loading the last-known-good build" "$T_TMP/demo.out"
t_check "... the route that crashed answers from it" grep -qF "GET /div/7/0 -> 0 r 0 (v1)" "$T_TMP/demo.out"
t_check "... status says what it serves and why" grep -qF "serving last-known-good libhandler.so" "$T_TMP/demo.out"
t_check "... a fixed build clears the record" grep -qF "GET /div/7/0 -> 0 r 0 (v2)" "$T_TMP/demo.out"
t_check "... no colour codes with NO_COLOR" bash -c "! grep -q \$'\\033' '$T_TMP/demo.out'"
t_done
