#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# test_trine.sh - the trine demo end to end: run.sh starts the host under the shim with
# alpha, beta and gamma built with one stamp; every pulse runs gamma -> beta -> alpha;
# reload.sh rebuilds all three with a new stamp, and every line of a pulse shows it.
. "$(dirname "$0")/../../tests/lib.sh"
. "$(dirname "$0")/../demo_test.sh"
demo_setup trine
S=$BUILD/examples/trine/stamp

"$ROOT/examples/trine/run.sh" 100 >"$OUT" 2>&1 &
HPID=$!; t_reap "$HPID"
wait_for "host: pulse -> (1, 2, 3)" >/dev/null
s1=$(cat "$S")
t_check "the pulse reaches alpha through beta" wait_for "[alpha $s1] one: x = 1"
t_check "beta runs after alpha" wait_for "[beta  $s1] two: y = 2"
t_check "gamma answers the host's pulse" wait_for "[gamma $s1] pulse: z = 3"
t_check "the host sees all three coordinates" wait_for "host: pulse -> (1, 2, 3)"
t_check "without the shim the host says how to start it" \
  bash -c "'$B/examples/trine/host' 2>&1 | grep -qF 'hotswap is not loaded; start me with examples/trine/run.sh'"

"$ROOT/examples/trine/reload.sh" >"$T_TMP/reload.out" 2>&1
t_check "reload.sh exits 0" [ $? -eq 0 ]
s2=$(cat "$S")
t_check "the stamp changed" [ "$s1" != "$s2" ]
t_check "reload.sh prints the stamps" grep -qF "alpha, beta, gamma stamp $s1 -> $s2" "$T_TMP/reload.out"
for p in alpha beta gamma; do
  t_check "one reload switched $p" grep -qE "reload 1 ok in .*$p.so [0-9a-f]{7}(-dirty)? -> [0-9a-f]{7}" "$T_TMP/reload.out"
done
t_check "alpha changed" wait_for "[alpha $s2] one: x = 1"
t_check "beta changed" wait_for "[beta  $s2] two: y = 2"
t_check "gamma changed" wait_for "[gamma $s2] pulse: z = 3"
t_check "no old build answers after the switch" \
  bash -c "! sed -n '/\\[alpha $s2\\]/,\$p' '$OUT' | grep -qF '$s1]'"
cat "$T_TMP/reload.out"
kill "$HPID"; wait "$HPID" 2>/dev/null
t_done
