#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# The manual pages: mandoc finds nothing to warn about, and they keep up with the code:
# every command of `hotswap help` is in hotswap(1), every HOTSWAP_* variable the shim reads
# is in hotswap(7) and the README's table, every function of hotswap.h's API in hotswap(3).
. "$(dirname "$0")/../lib.sh"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
HS="$BUILD/hotswap"

for page in "$ROOT"/man/hotswap.[137]; do
  t_check "$(basename "$page"): mandoc -Tlint -W warning is silent" \
    bash -c "out=\$(mandoc -Tlint -W warning '$page' 2>&1) && [ -z \"\$out\" ] || { echo \"\$out\"; false; }"
done
cmds=$("$HS" help | sed -n 's/^  \([a-z]*\)  .*/\1/p')
t_check "hotswap help lists commands" [ -n "$cmds" ]
for c in $cmds; do
  t_check "hotswap(1) documents '$c'" grep -q "^\.Cm $c\b" "$ROOT/man/hotswap.1"
done
vars=$(grep -oh '\(getenv\|env_uint\|dup_env\)("HOTSWAP_[A-Z_]*"' "$ROOT"/preload/*.c |
  grep -o 'HOTSWAP_[A-Z_]*' | sort -u)
t_check "the shim reads HOTSWAP_* variables" [ -n "$vars" ]
for v in $vars; do
  t_check "hotswap(7) documents $v" grep -q "^\.It Ev $v\$" "$ROOT/man/hotswap.7"
  t_check "the README's table documents $v" grep -q "^| \`$v\` |" "$ROOT/README.md"
done
api=$(sed -n 's/^PRE_API [^(]*[ *]\(hotswap_[a-z_]*\)(.*/\1/p' "$ROOT"/preload/*.c | sort -u)
t_check "the shim exports an API" [ -n "$api" ]
for f in $api; do
  t_check "hotswap(3) documents $f" grep -q "^\.Nm $f\b" "$ROOT/man/hotswap.3"
done
t_done
