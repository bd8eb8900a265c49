#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# test_slink.sh - the slink demo end to end, both modes. Dynamic: run.sh --dynamic starts
# the host under the shim with dog.so, reload.sh rebuilds and reloads it and the heartbeat
# reaches build 2's live_Woof. Static: run.sh --static links libdog.a into the host, the
# lifecycle hooks run without the shim, and reload.sh's request is refused with the reason.
. "$(dirname "$0")/../../tests/lib.sh"
. "$(dirname "$0")/../demo_test.sh"
demo_setup slink libhotswap_static.a
WAIT_TRIES=600

# --- dynamic: reloadable under the shim ----------------------------------------------------
"$ROOT/examples/slink/run.sh" --dynamic 100 >"$OUT" 2>&1 &
HPID=$!; t_reap "$HPID"
t_check "dynamic: the plugin is loaded at start-up by the shim" wait_for "[dog build 1] hotswap_on_init"
t_check "dynamic: the host says how it is linked" wait_for "slink: dog linked dynamically; reload.sh reloads it"
t_check "dynamic: the heartbeat calls build 1's live_Woof" wait_for "[dog build 1] live_Woof x"
t_check "without the shim the dynamic host says how to start it" \
  bash -c "'$B/examples/slink/host' 2>&1 | grep -qF 'hotswap is not loaded; start me with examples/slink/run.sh'"
"$ROOT/examples/slink/reload.sh" >"$T_TMP/reload.out" 2>&1
t_check "dynamic: reload.sh exits 0" [ $? -eq 0 ]
t_check "dynamic: reload.sh prints what changed" grep -qE "reload 1 ok in .*: dog.so [0-9a-f]{7}(-dirty)? -> [0-9a-f]{7}(-dirty)?" "$T_TMP/reload.out"
t_check "dynamic: the new build's hooks ran" wait_for "[dog build 2] hotswap_on_init"
t_check "dynamic: the heartbeat now reaches build 2's live_Woof" wait_for "[dog build 2] live_Woof x"
# Build 2's hooks run before the commit; once build 2 has answered, build 1 never may again.
t_check "dynamic: build 1's live_Woof is no longer called once build 2's was" \
  bash -c "! sed -n '/\\[dog build 2\\] live_Woof/,\$p' '$OUT' | grep -qF '[dog build 1] live_Woof'"
cat "$T_TMP/reload.out"
kill "$HPID"; wait "$HPID" 2>/dev/null

# --- static: linked into the host, no shim, reloads refused ---------------------------------
"$ROOT/examples/slink/run.sh" --static 100 >"$OUT" 2>&1 &
HPID=$!; t_reap "$HPID"
t_check "static: the lifecycle hooks run through hotswap_static_start" \
  bash -c "$(declare -f wait_for); OUT=$OUT; wait_for '[dog build 1] hotswap_on_init' && grep -qF '[dog build 1] hotswap_on_load' $OUT"
t_check "static: the host says reloads are disabled" \
  wait_for "slink: dog linked statically for debugging (commit "
t_check "static: the heartbeat calls the linked live_Woof" wait_for "[dog build 1] live_Woof x"
t_expect_rc "static: no shim in the process" 1 grep -q libhotswap_preload "/proc/$(cat "$BUILD/examples/slink/host.pid")/maps"
t_expect_rc "static: the plugin is linked in, not a dog.so" 0 \
  bash -c "nm '$BUILD/examples/slink/host-static' | grep -q ' dog__hotswap_on_init$'"
"$ROOT/examples/slink/reload.sh" >"$T_TMP/reload.out" 2>&1
t_check "static: reload.sh exits 0" [ $? -eq 0 ]
t_check "static: reload.sh says the host is linked statically" \
  grep -qF "is linked statically, asking it anyway (SIGHUP)" "$T_TMP/reload.out"
t_check "static: the reload is refused with the reason" \
  wait_for "slink: linked statically for debugging: reloads are disabled (run.sh --dynamic to reload)"
n=$(grep -c "live_Woof" "$OUT")
t_check "static: the host keeps serving after the refusal" \
  bash -c "for _ in \$(seq 100); do [ \$(grep -c live_Woof '$OUT') -gt $n ] && exit 0; sleep 0.05; done; exit 1"
t_check "static: build 2 never runs" bash -c "! grep -qF '[dog build 2]' '$OUT'"
cat "$T_TMP/reload.out"
kill "$HPID"; wait "$HPID" 2>/dev/null

# --- the question, without a flag -----------------------------------------------------------
echo y | "$ROOT/examples/slink/run.sh" 10 3 >"$OUT" 2>&1
t_check "run.sh asks, and 'y' links statically" \
  bash -c "grep -qF 'Link plugin statically (not reloadable)? [y|n]' '$OUT' && grep -qF 'slink: dog linked statically' '$OUT'"
t_check "the static host calls on_free at exit" grep -qF "[dog build 1] hotswap_on_free" "$OUT"
t_done
