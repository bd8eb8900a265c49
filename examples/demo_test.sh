# SPDX-License-Identifier: BSD-3-Clause
# demo_test.sh - what every demo's test needs (bash): source after tests/lib.sh, then
#   demo_setup NAME [ARTEFACT...]
# gives the demo a private build folder under $T_TMP that links the built CLI, shim, host
# (and any other ARTEFACT of the build folder), a private XDG_RUNTIME_DIR and TMPDIR, and
# sets ROOT (the source tree), B (the real build folder), BUILD, OUT (the demo's output).
#   wait_for TEXT   waits until OUT contains TEXT (WAIT_TRIES x 50 ms, default 400: 20 s,
#                   for a stalled CI machine), else prints OUT and fails.
demo_setup() {
  name=$1; shift
  ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
  case $BUILD in /*) B=$BUILD ;; *) B=$ROOT/$BUILD ;; esac
  export BUILD=$T_TMP/build
  mkdir -p "$BUILD/examples/$name"
  for a in hotswap libhotswap_preload.so "$@"; do ln -s "$B/$a" "$BUILD/"; done
  ln -s "$B/examples/$name/host" "$BUILD/examples/$name/host"
  export XDG_RUNTIME_DIR=$T_TMP/run TMPDIR=$T_TMP
  mkdir -m 700 "$XDG_RUNTIME_DIR"
  OUT=$T_TMP/out
}

wait_for() {
  for _ in $(seq "${WAIT_TRIES:-400}"); do grep -qF "$1" "$OUT" && return 0; sleep 0.05; done
  cat "$OUT"
  return 1
}
