#!/bin/bash
# test_extension.sh - the extension demo end to end: run.sh starts the host under the shim,
# the cat plugin sets the host's extension in hotswap_on_init, the host calls its meow
# every heartbeat; after reload.sh the same calls reach the new build.
. "$(dirname "$0")/../../tests/lib.sh"
. "$(dirname "$0")/../demo_test.sh"
demo_setup extension

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
t_check "reload.sh prints what changed" grep -qE "reload 2 ok in .*: cat.so [0-9a-f]{7}(-dirty)? -> [0-9a-f]{7}(-dirty)?" "$T_TMP/reload.out"
t_check "the new build fills the new extension" wait_for "[cat build 2] hotswap_on_init: extension.meow set"
t_check "the host reports the change" wait_for "host: extension now from cat build 2 (was 1)"
t_check "the host's calls reach build 2's meow" wait_for "[cat build 2] meow x"
t_check "build 1's meow is no longer called" \
  bash -c "! sed -n '/host: extension now from cat build 2/,\$p' '$OUT' | grep -qF '[cat build 1] meow'"
cat "$T_TMP/reload.out"
kill "$HPID"; wait "$HPID" 2>/dev/null
t_done
