#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# test_extension.sh - the extension demo end to end: run.sh starts the host under the shim,
# the cat plugin sets the host's extension in hotswap_on_init, the host calls its meow
# every heartbeat; after reload.sh the same calls reach the new build; after hotswap revert
# the extension of the old build is current again, and its calls reach the old build.
. "$(dirname "$0")/../../tests/lib.sh"
. "$(dirname "$0")/../demo_test.sh"
demo_setup extension
# Build 1 must still be loaded when the test reverts to it, however slow the machine: a
# replaced version stays at least this long (run.sh passes the environment on).
export HOTSWAP_GRACE_MS=600000

"$ROOT/examples/extension/run.sh" 100 >"$OUT" 2>&1 &
HPID=$!; t_reap "$HPID"
t_check "on_init runs before main() without an extension" wait_for "[cat build 1] hotswap_on_init: no extension yet"
t_check "registering the constructor runs on_init again, which sets meow" \
  wait_for "[cat build 1] hotswap_on_init: extension.meow set"
t_check "the host sees the extension of build 1" wait_for "host: extension now from cat build 1 (was 0)"
t_check "the host's heartbeat calls build 1's meow" wait_for "[cat build 1] meow x"
t_check "without the shim the host says how to start it" \
  bash -c "'$B/examples/extension/host' 2>&1 | grep -qF 'hotswap is not loaded; start me with examples/extension/run.sh'"

"$ROOT/examples/extension/reload.sh" >"$T_TMP/reload.out" 2>&1
t_check "reload.sh exits 0" [ $? -eq 0 ]
t_check "reload.sh prints what changed" grep -qE "reload 1 ok in .*: cat.so [0-9a-f]{7}(-dirty)? -> [0-9a-f]{7}(-dirty)?" "$T_TMP/reload.out"
t_check "the new build fills the new extension" wait_for "[cat build 2] hotswap_on_init: extension.meow set"
t_check "the host reports the change" wait_for "host: extension now from cat build 2 (was 1)"
t_check "the host's calls reach build 2's meow" wait_for "[cat build 2] meow x"
t_check "build 1's meow is no longer called" \
  bash -c "! sed -n '/host: extension now from cat build 2/,\$p' '$OUT' | grep -qF '[cat build 1] meow'"
cat "$T_TMP/reload.out"

# hotswap revert: build 1's code serves again, and so does the extension build 1 filled
# (the host must not keep calling into build 2, which now retires).
"$B/hotswap" revert "$HPID" >"$T_TMP/revert.out" 2>&1
t_check "hotswap revert exits 0" [ $? -eq 0 ]
t_check "... and says it went back to generation 0" \
  grep -qE "^revert ok: generation 2 \(as generation 0\): cat [0-9a-f]{7}(-dirty)? -> [0-9a-f]{7}(-dirty)?$" "$T_TMP/revert.out"
t_check "the host sees build 1's extension again" wait_for "host: extension now from cat build 1 (was 2)"
# after_line TEXT LINE: OUT has LINE after the first line containing TEXT.
after_line() { sed -n "/$1/,\$p" "$OUT" | grep -qF "$2"; }
wait_after() {
  for _ in $(seq 200); do after_line "$1" "$2" && return 0; sleep 0.05; done
  cat "$OUT"; return 1
}
t_check "... and its calls reach build 1's meow" \
  wait_after "host: extension now from cat build 1 (was 2)" "[cat build 1] meow x"
t_check "a second revert goes forward to build 2's extension" \
  bash -c "'$B/hotswap' revert $HPID >/dev/null"
t_check "... which the host sees" wait_for "host: extension now from cat build 2 (was 1)"
t_check "... and calls" wait_after "host: extension now from cat build 2 (was 1)" "[cat build 2] meow x"
kill "$HPID"; wait "$HPID" 2>/dev/null
t_done
