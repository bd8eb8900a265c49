#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# test_check.sh - `hotswap check OLD.so NEW.so` on the real fixture plugins: exit 0 with
# "NEW may replace OLD", exit 1 with every reason, exit 2 with the file and the reason for
# unreadable or invalid files, --json, --help and usage errors.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/cli_lib.sh"

N=$FX/normal.so

# check_no NAME NEW REASON...: checking NEW against normal.so exits 1 and prints exactly
# "NEW cannot replace normal.so:" and these reasons.
check_no() {
  n=$1; new=$2; shift 2
  want="$new cannot replace $N:"
  for r in "$@"; do want="$want
  $r"; done
  hs check "$N" "$new"
  expect "$n" 1 "$want" ""
}

# --- compatible ------------------------------------------------------------------------------
hs check "$N" "$N"
expect "check: a build may replace itself" 0 "$N may replace $N" ""
hs check "$N" "$FX/nodelete.so"
expect "check: NODELETE does not block a swap" 0 "$FX/nodelete.so may replace $N" ""
hs check "$FX/versioned.so" "$N"
expect "check: unversioned functions replace versioned ones" 0 \
  "$N may replace $FX/versioned.so" ""

# --- incompatible: every reason, one per line ---------------------------------------------------
check_no "check: dropped function" "$FX/dropped.so" "drops function 'handle_stats'"
check_no "check: function now a variable" "$FX/tovar.so" \
  "'handle_stats' is now a variable (OBJECT), was a function"
check_no "check: executable stack" "$FX/execstack.so" \
  "needs an executable stack (PT_GNU_STACK is RWX); rebuild without -z execstack"
check_no "check: foreign machine" "$FX/aarch64.so" \
  "is built for AArch64, the running build is x86-64"
check_no "check: 32-bit build, every reason" "$FX/m32.so" \
  "is 32-bit (ELFCLASS32), the running build is 64-bit" \
  "is built for i386, the running build is x86-64" \
  "live type 'live_order' changed layout (size 16 -> 12, fields 'id, amount' -> 'id, amount') and no upgrade is declared"
check_no "check: live type changed" "$FX/livetype2.so" \
  "live type 'live_order' changed layout (size 16 -> 24, fields 'id, amount' -> 'id, amount, note') and no upgrade is declared"
check_no "check: ABI 2" "$FX/abi2.so" "hotswap ABI version 2, this shim speaks 1"
hs check "$N" "$FX/textrel.so"
t_cond "check: text relocations, first reason" \
  '[ "$RC" = 1 ] && [ "$(sed -n 2p "$OUT")" = "  has text relocations (TEXTREL); rebuild with -fPIC" ]'
t_check "check: text relocations, all dropped functions listed too" \
  [ "$(grep -c "^  drops function '" "$OUT")" = 4 ]

# --- JSON ------------------------------------------------------------------------------------
hs check --json "$N" "$N"
expect "check --json compatible: exit 0" 0 "$(cat "$OUT")" ""
py "check --json compatible: object" "
assert d == {'old': '$N', 'new': '$N', 'compatible': True, 'reasons': [], 'state': []}, d
"
hs check --json "$N" "$FX/m32.so"
t_check "check --json incompatible: exit 1" [ "$RC" = 1 ]
py "check --json incompatible: every reason" "
assert d['compatible'] is False and d['old'] == '$N' and d['new'] == '$FX/m32.so', d
assert d['reasons'][:2] == ['is 32-bit (ELFCLASS32), the running build is 64-bit',
                            'is built for i386, the running build is x86-64'], d['reasons']
assert len(d['reasons']) == 3
"

# --- I/O and format errors: exit 2, naming the file ---------------------------------------------
hs check "$N" "$T_TMP/missing.so"
expect "check: missing new file" 2 "" \
  "hotswap check: $T_TMP/missing.so: cannot open: No such file or directory"
hs check "$T_TMP/missing.so" "$N"
expect "check: missing old file" 2 "" \
  "hotswap check: $T_TMP/missing.so: cannot open: No such file or directory"
hs check "$N" "$FX/garbage.bin"
expect "check: new file is not ELF" 2 "" \
  "hotswap check: $FX/garbage.bin: not an ELF file (bad magic)"
hs check "$FX/empty.bin" "$N"
expect "check: old file is empty" 2 "" \
  "hotswap check: $FX/empty.bin: not an ELF file: file is empty"
hs check "$N" "$FX/truncated.so"
t_cond "check: truncated file is malformed" '[ "$RC" = 2 ] && [ ! -s "$OUT" ] &&
  grep -qx "hotswap check: $FX/truncated.so: malformed ELF file: section header table at offset [0-9]* is past the end of the file (4096 bytes)" "$ERR"'
hs check "$FX" "$N"
expect "check: a directory" 2 "" "hotswap check: $FX: is a directory, not a plugin file"
hs check "$FX/garbage.bin" "$T_TMP/missing.so"
expect "check: both files bad, both named" 2 "" \
  "hotswap check: $FX/garbage.bin: not an ELF file (bad magic)
hotswap check: $T_TMP/missing.so: cannot open: No such file or directory"
hs check --json "$N" "$FX/empty.bin"
expect "check --json with a bad file: message on stderr, no JSON" 2 "" \
  "hotswap check: $FX/empty.bin: not an ELF file: file is empty"

# --- usage -----------------------------------------------------------------------------------
hs check --help
expect_help "check --help: usage on stdout, exit 0" check
hs check -h
expect_help "check -h: usage on stdout, exit 0" check
hs check --bogus "$N" "$N"
expect_usage_error "check --bogus: usage error" check "hotswap check: unknown option '--bogus'"
hs check -v "$N" "$N"
expect_usage_error "check -v: usage error" check "hotswap check: unknown option '-v'"
hs check "$N"
expect_usage_error "check with one file" check \
  "hotswap check: expected two plugin files (OLD and NEW), got 1"
hs check "$N" "$N" "$N"
expect_usage_error "check with three files" check \
  "hotswap check: expected two plugin files (OLD and NEW), got 3"
hs check
expect_usage_error "check without files" check \
  "hotswap check: expected two plugin files (OLD and NEW), got 0"

# --- state a reload would not carry, and copy-relocated variables ---------------------
ST="$BUILD/tests/shim/state"
hs check "$ST/v1/libstate.so" "$ST/v3/libstate.so"
t_cond "check: a grown static is listed, the build may still replace the old one" \
  '[ "$RC" = 0 ] && [ "$(sed -n 3p "$OUT")" = "  state '"'"'mime_table'"'"' (libstate.c): size 96 -> 144" ]'
hs check --host "$ST/state_host_pie" "$ST/v1/libstate.so" "$ST/v5/libstate.so"
t_check "check --host: a copy-relocated variable that grew cannot be replaced (exit 1)" [ "$RC" = 1 ]
t_check "check --host: ... with the reason" \
  grep -qxF "  exported variable 'state_limit' is 8 bytes, was 4, and the host copy-relocates it (its copy cannot grow); restart the program to run this build" "$OUT"
t_check "check --host: lists the copy-relocated variables" \
  grep -qxF "  'state_limit' (4 bytes in the host)" "$OUT"
hs check --json --host "$ST/state_host_pie" "$ST/v1/libstate.so" "$ST/v2/libstate.so"
py "check --json --host: state and copy_relocated" "
assert d['compatible'] is True and d['state'] == [], d
assert d['copy_relocated'] == [\"'state_limit' (4 bytes in the host)\"], d
"

t_done
