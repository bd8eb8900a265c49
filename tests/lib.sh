# SPDX-License-Identifier: BSD-3-Clause
# tests/lib.sh - helpers for shell integration tests. Source it, call t_ok/t_fail (or
# t_check), and end with t_done: it prints a cmocka-style summary that tests/run.sh reads.
#
#   . "$(dirname "$0")/../lib.sh"
#   t_check "inspect lists exports" grep -q handle_request "$out"
#   t_done
T_PASSED=0
T_FAILED=0
T_FAILED_NAMES=""
BUILD=${BUILD:-build}
T_TMP=$(mktemp -d "${TMPDIR:-/tmp}/hotswap-test.XXXXXX")
trap 't_cleanup' EXIT
# Daemons under the shim keep last-known-good builds and crash records in a state folder
# (/var/lib/hotswap/<program> for root): each test gets its own, inside its temp folder.
export HOTSWAP_STATE_DIR="${HOTSWAP_STATE_DIR:-$T_TMP/state}"

# T_MACHINE: the machine $BUILD's programs are for (x86_64, aarch64). T_EMULATED: non-empty
# when that is not this one's (`make check-aarch64` on x86-64): qemu-user runs them through
# binfmt_misc, and emulates a process, not a kernel (no setuid: no AT_SECURE).
case "$(od -An -tx1 -j18 -N1 "$BUILD/hotswap" 2>/dev/null | tr -d ' ')" in
  b7) T_MACHINE=aarch64 ;;
  *) T_MACHINE=x86_64 ;;
esac
T_EMULATED=""
[ "$T_MACHINE" != "$(uname -m)" ] && T_EMULATED=qemu-user

t_cleanup() {
  # Kill what the test started (registered with t_reap) and remove its temp folder.
  for p in ${T_PIDS:-}; do kill -9 "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  if [ -n "${T_KEEP:-}" ]; then echo "kept $T_TMP"; else rm -rf "$T_TMP"; fi
}
t_reap() { T_PIDS="${T_PIDS:-} $*"; }

t_ok() { T_PASSED=$((T_PASSED + 1)); echo "[       OK ] $1"; }
t_fail() {
  T_FAILED=$((T_FAILED + 1))
  T_FAILED_NAMES="$T_FAILED_NAMES
[  FAILED  ] $1"
  echo "[  ERROR   ] $1: ${2:-}"
}
# t_check NAME CMD...: passes when CMD exits 0.
t_check() {
  n=$1; shift
  if "$@"; then t_ok "$n"; else t_fail "$n" "command failed: $*"; fi
}
# t_expect_rc NAME RC CMD...: passes when CMD exits with RC.
t_expect_rc() {
  n=$1; want=$2; shift 2
  "$@"; got=$?
  if [ "$got" -eq "$want" ]; then t_ok "$n"; else t_fail "$n" "exit $got, wanted $want: $*"; fi
}
# T_DONE_HOOKS: names of functions t_done runs first (they may call t_ok/t_fail).
t_done() {
  for h in ${T_DONE_HOOKS:-}; do "$h"; done
  echo "[==========] $((T_PASSED + T_FAILED)) test(s) run."
  echo "[  PASSED  ] $T_PASSED test(s)."
  if [ "$T_FAILED" -gt 0 ]; then
    echo "[  FAILED  ] $T_FAILED test(s), listed below:$T_FAILED_NAMES"
    exit 1
  fi
  exit 0
}
