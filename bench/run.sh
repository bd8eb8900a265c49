#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Runs benchmark programs and merges their figures into $BUILD/bench.json.
# A benchmark prints any text it likes; lines of the form "@key value" (a number) are
# figures and become "key": value in the JSON. Figures are printed as they come.
set -u
BUILD=${BUILD:-build}
export BUILD
out="$BUILD/bench.json"
tmp="$BUILD/bench.figures"
: >"$tmp"
rc=0
for b in "$@"; do
  echo "=== $(basename "$b")"
  "$b" | tee -a "$tmp" || rc=1
done
{
  echo "{"
  grep -E '^@[a-z0-9_]+ -?[0-9.eE+-]+$' "$tmp" | sed 's/^@//' |
    awk 'NR > 1 { printf ",\n" } { printf "  \"%s\": %s", $1, $2 } END { printf "\n" }'
  echo "}"
} >"$out"
echo "figures written to $out"
exit $rc
