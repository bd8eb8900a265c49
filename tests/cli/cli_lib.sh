# SPDX-License-Identifier: BSD-3-Clause
# tests/cli/cli_lib.sh - helpers for the CLI integration tests (sourced after tests/lib.sh):
# run build/hotswap, keep its stdout, stderr and exit status, and compare them exactly.
HS=$BUILD/hotswap
FX=$BUILD/fixtures
CLI=$BUILD/cli
OUT=$T_TMP/out
ERR=$T_TMP/err

# run CMD...: runs CMD with stdout in $OUT, stderr in $ERR and the exit status in $RC.
run() {
  "$@" >"$OUT" 2>"$ERR"
  RC=$?
}

# hs ARGS...: run build/hotswap ARGS.
hs() { run "$HS" "$@"; }

# expect NAME RC STDOUT STDERR: the last run exited RC with exactly this output
# (each a whole text, "" for none; a trailing newline is implied).
expect() {
  n=$1; want_rc=$2; want_out=$3; want_err=$4
  got_out=$(cat "$OUT"); got_err=$(cat "$ERR")
  if [ "$RC" -ne "$want_rc" ]; then
    t_fail "$n" "exit $RC, wanted $want_rc; stderr: $got_err"
  elif [ "$got_out" != "$want_out" ]; then
    t_fail "$n" "stdout was:
$got_out
wanted:
$want_out"
  elif [ "$got_err" != "$want_err" ]; then
    t_fail "$n" "stderr was:
$got_err
wanted:
$want_err"
  else
    t_ok "$n"
  fi
}

# expect_line NAME LINE: the last run exited 0 and its stdout has exactly this line.
expect_line() {
  if [ "$RC" -ne 0 ]; then
    t_fail "$1" "exit $RC: $(cat "$ERR")"
  elif grep -qxF -- "$2" "$OUT"; then
    t_ok "$1"
  else
    t_fail "$1" "no line '$2' in:
$(cat "$OUT")"
  fi
}

# expect_no_line NAME PATTERN: the last run's stdout has no line matching the fixed string.
expect_no_match() {
  if grep -qF -- "$2" "$OUT"; then t_fail "$1" "found '$2'"; else t_ok "$1"; fi
}

# expect_usage_error NAME CMD FIRST_LINE: the last run exited 2, printed nothing on stdout,
# and on stderr two lines: FIRST_LINE, then "see 'hotswap CMD --help'".
expect_usage_error() {
  n=$1; cmd=$2; first=$3
  if [ "$RC" -ne 2 ]; then
    t_fail "$n" "exit $RC, wanted 2"
  elif [ -s "$OUT" ]; then
    t_fail "$n" "printed on stdout: $(cat "$OUT")"
  elif [ "$(sed -n 1p "$ERR")" != "$first" ] ||
    [ "$(sed -n 2p "$ERR")" != "see 'hotswap $cmd --help'" ] || [ "$(wc -l <"$ERR")" -ne 2 ]; then
    t_fail "$n" "stderr was:
$(cat "$ERR")"
  else
    t_ok "$n"
  fi
}

# expect_help NAME CMD: the last run exited 0 with the usage on stdout and nothing on stderr.
expect_help() {
  if [ "$RC" -eq 0 ] && [ ! -s "$ERR" ] && head -n 1 "$OUT" | grep -q "^usage: hotswap $2 "; then
    t_ok "$1"
  else
    t_fail "$1" "exit $RC, stdout: $(head -n 1 "$OUT"), stderr: $(cat "$ERR")"
  fi
}

# py NAME SCRIPT: runs python3 SCRIPT with the last run's stdout parsed as JSON in `d`;
# passes when the script's assertions hold.
py() {
  n=$1; script=$2
  if [ "$RC" -gt 1 ]; then
    t_fail "$n" "exit $RC: $(cat "$ERR")"
    return
  fi
  if msg=$(python3 -c "import json, sys
d = json.load(open(sys.argv[1], encoding='utf-8'))
$script" "$OUT" 2>&1); then
    t_ok "$n"
  else
    t_fail "$n" "$msg"
  fi
}

# t_cond NAME 'SHELL CONDITION': passes when the condition (evaluated here, so it may use
# && and the variables above) holds.
t_cond() {
  if eval "$2"; then t_ok "$1"; else t_fail "$1" "condition failed: $2"; fi
}
