#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# test_livex.sh - the livex demo end to end: run.sh starts the host under the shim, which
# queues a job every 2 ms; reload.sh installs build 2, whose live type live_job has a new
# layout and a live_job_upgrade; jobs queued under build 1 are upgraded and handled by
# build 2's live_job_run, and at SIGTERM every queued job has been handled.
. "$(dirname "$0")/../../tests/lib.sh"
. "$(dirname "$0")/../demo_test.sh"
demo_setup livex

"$ROOT/examples/livex/run.sh" 2 >"$OUT" 2>&1 &
HPID=$!; t_reap "$HPID"
t_check "build 1's live_job_run handles the queued jobs" wait_for "host: jobs now handled by build 1 (was 0)"
t_check "without the shim the host says how to start it" \
  bash -c "'$B/examples/livex/host' 2>&1 | grep -qF 'hotswap is not loaded; start me with examples/livex/run.sh'"
t_check "the plugin exports the live function live_job_make" \
  bash -c "'$B/hotswap' inspect '$BUILD/examples/livex/plugins/jobs.so' | grep -qE 'live_job_make'"

"$ROOT/examples/livex/reload.sh" >"$T_TMP/reload.out" 2>&1
t_check "reload.sh exits 0" [ $? -eq 0 ]
t_check "reload.sh prints what changed" grep -qE "reload 1 ok in .*: jobs.so [0-9a-f]{7}(-dirty)? -> [0-9a-f]{7}(-dirty)?" "$T_TMP/reload.out"
t_check "build 2 now handles the jobs" wait_for "host: jobs now handled by build 2 (was 1)"
t_check "a job queued under build 1 is upgraded and handled by build 2's code" \
  bash -c "$(declare -f wait_for); OUT=$OUT; wait_for 'queued under build 1, upgraded by build 2, handled by build 2'"
sleep 0.3
kill -TERM "$HPID"; wait "$HPID"; rc=$?
t_check "the host exits 0 (no job lost)" [ "$rc" -eq 0 ]
t_check "queued = handled, none lost" grep -qE "^host: stopped: queued ([0-9]+), handled \\1, lost 0; [1-9][0-9]* handled by a later build" "$OUT"
t_check "hundreds of jobs went through" grep -qE "^host: stopped: queued [0-9]{3,}," "$OUT"
cat "$T_TMP/reload.out"; grep "^host: stopped" "$OUT"
t_done
