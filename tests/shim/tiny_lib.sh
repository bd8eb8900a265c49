# SPDX-License-Identifier: BSD-3-Clause
# tiny_lib.sh - drive tests/shim/tiny_host.c (bash): start it with stdin and stdout on
# FIFOs, ask it one command at a time, stop it and collect its exit status. Source after
# tests/lib.sh and shim_lib.sh.
TINY="$BUILD/tests/shim/tiny/tiny_host"
VH="$BUILD/tests/shim/vhandler"

# install_vhandler V [DIR]: put versioned build V of libhandler.so in place atomically.
install_vhandler() {
  dir=${2:-$APP}
  cp "$VH/v$1/libhandler.so" "$dir/.libhandler.so.tmp" && mv -f "$dir/.libhandler.so.tmp" "$dir/libhandler.so"
}

# tiny_start CMD...: start CMD (a tiny_host, possibly behind env/setpriv) in the background
# with stdin and stdout on FIFOs, stderr appended to $T_TMP/tiny.err; sets TPID.
tiny_start() {
  rm -f "$T_TMP/tiny.in" "$T_TMP/tiny.out"
  mkfifo "$T_TMP/tiny.in" "$T_TMP/tiny.out"
  "$@" <"$T_TMP/tiny.in" >"$T_TMP/tiny.out" 2>>"$T_TMP/tiny.err" &
  TPID=$!
  t_reap "$TPID"
  exec 8>"$T_TMP/tiny.in" 9<"$T_TMP/tiny.out"
}

# ask CMD: send one command, print the answer line (fails when the host is gone).
ask() {
  echo "$*" >&8 2>/dev/null || return 1
  IFS= read -r -t 30 line <&9 || return 1
  printf '%s\n' "$line"
}
# answer_is WANT CMD: the answer to CMD is exactly WANT.
answer_is() { want=$1; shift; [ "$(ask "$@")" = "$want" ]; }

# tiny_stop: close its stdin (it exits at the end of input), wait; sets TRC.
tiny_stop() {
  exec 8>&- 9<&-
  wait "$TPID"
  TRC=$?
}
