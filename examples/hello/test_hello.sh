#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# test_hello.sh - the hello demo end to end: run.sh starts the host under the shim with
# the plugin built by `hotswap build`, reload.sh rebuilds and reloads it, and the host's
# output shows the lifecycle of both builds and greetings from the new one.
. "$(dirname "$0")/../../tests/lib.sh"
. "$(dirname "$0")/../demo_test.sh"
demo_setup hello

"$ROOT/examples/hello/run.sh" 100 >"$OUT" 2>&1 &
HPID=$!; t_reap "$HPID"
t_check "the plugin is loaded at start-up: on_load and on_init run" \
  bash -c "$(declare -f wait_for); OUT=$OUT; wait_for '[hello build 1] hotswap_on_init' && grep -qF '[hello build 1] hotswap_on_load' $OUT"
t_check "the host greets through hotswap_invoke_each" wait_for "[hello build 1] Hello, world!"
t_check "without the shim the host says how to start it" \
  bash -c "'$B/examples/hello/host' 2>&1 | grep -qF 'hotswap is not loaded; start me with examples/hello/run.sh'"

"$ROOT/examples/hello/reload.sh" >"$T_TMP/reload.out" 2>&1
t_check "reload.sh exits 0" [ $? -eq 0 ]
t_check "reload.sh prints what changed" grep -qE "reload 1 ok in .*: hello.so [0-9a-f]{7}(-dirty)? -> [0-9a-f]{7}(-dirty)?" "$T_TMP/reload.out"
t_check "the new build's hooks ran" wait_for "[hello build 2] hotswap_on_init"
t_check "the host now greets from build 2" wait_for "[hello build 2] Hello, world!"
# Build 2's hooks run before the commit, so the host may still greet from build 1 after
# "[hello build 2] hotswap_on_init"; once build 2 has greeted, build 1 never may again.
t_check "the old build stopped greeting once the new one greeted" \
  bash -c "! sed -n '/\\[hello build 2\\] Hello/,\$p' '$OUT' | grep -qF '[hello build 1] Hello'"
cat "$T_TMP/reload.out"
kill "$HPID"; wait "$HPID" 2>/dev/null
t_done
