#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Runs test programs (cmocka binaries or scripts using tests/lib.sh), each with a time
# limit, and adds up their results. Prints one line per program and, last, the line
# "N passed, N failed". Also writes the two numbers to $BUILD/test-counts.
#
# A program's count comes from its cmocka summary ("[  PASSED  ] N test(s).",
# "[  FAILED  ] N test(s)"); a program that exits non-zero without reporting a
# failure (a crash, a timeout) counts as one failure.
set -u
BUILD=${BUILD:-build}
LIMIT=${HOTSWAP_TEST_TIMEOUT:-600}
# A prefix for test programs that are ELF files, e.g. "qemu-aarch64-static" (make
# check-aarch64); scripts run as they are.
RUNNER=${HOTSWAP_TEST_RUNNER:-}
logs="$BUILD/test-logs"
mkdir -p "$logs"
export BUILD
passed=0
failed=0
for t in "$@"; do
  name=$(basename "$t")
  log="$logs/$name.log"
  start=$(date +%s)
  run=""
  [ -n "$RUNNER" ] && [ "$(head -c 4 "$t" | od -An -c | tr -d ' ')" = "177ELF" ] && run=$RUNNER
  timeout -k 5 "$LIMIT" $run "$t" >"$log" 2>&1
  rc=$?
  secs=$(( $(date +%s) - start ))
  p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log" | awk '{s+=$1} END {print s+0}')
  f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$log" | awk '{s+=$1} END {print s+0}')
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
    f=1
    [ "$rc" -eq 124 ] && echo "   $name: timed out after ${LIMIT}s" >>"$log"
  fi
  passed=$((passed + p))
  failed=$((failed + f))
  if [ "$f" -eq 0 ]; then
    printf 'PASS  %-28s %4d tests  %3ds\n' "$name" "$p" "$secs"
  else
    printf 'FAIL  %-28s %4d passed, %d failed  %3ds  (log: %s)\n' "$name" "$p" "$f" "$secs" "$log"
    grep -E '^\[  FAILED  \] [a-z_]|^\[  ERROR   \]|^not ok|error:|Assert|timed out' "$log" | head -n 20 | sed 's/^/      /'
  fi
done
echo "$passed $failed" >"$BUILD/test-counts"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
