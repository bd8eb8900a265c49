#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# The shim's interposed signal functions and dlvsym() with a real host (tiny_host) under
# LD_PRELOAD: a SIGHUP handler installed with signal, sigaction, bsd_signal or sigset still
# runs and reloads still happen; sigset keeps glibc's System V answers (SIG_HOLD); a
# dlvsym()ed plugin function follows reloads while every other lookup answers as libc's.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/shim_lib.sh"
. "$(dirname "$0")/tiny_lib.sh"

under_shim() {
  tiny_start env HOTSWAP_PLUGINS="$APP/libhandler.so" HOTSWAP_LOG="$LOG" \
    HOTSWAP_CONTROL="$T_TMP/ctl.sock" LD_LIBRARY_PATH="$APP" LD_PRELOAD="$PRELOAD" "$TINY" "$@"
}
without_shim() { tiny_start env LD_LIBRARY_PATH="$APP" "$TINY" "$@"; }

# The daemon's own SIGHUP handler, installed after the shim by each libc function.
for how in signal sigaction bsd_signal sigset; do
  install_vhandler 1
  under_shim -s "$how"
  t_check "$how: the host starts on v1" answer_is v1 version
  t_check "$how: returns the previous disposition (SIG_DFL)" \
    answer_is "hold=- prev=SIG_DFL masked=0" install
  install_vhandler 2
  kill -HUP "$TPID"
  t_check "$how: SIGHUP reloads (v2 answers)" wait_for 10 answer_is v2 version
  t_check "$how: the host's own handler ran" wait_for 10 answer_is 1 hups
  kill -HUP "$TPID"
  t_check "$how: the handler stays installed (a second SIGHUP counted)" \
    wait_for 10 answer_is 2 hups
  tiny_stop
  t_check "$how: the host exits normally" [ "$TRC" -eq 0 ]
done

# sigset's System V semantics: SIG_HOLD blocks the signal in the caller and keeps the
# disposition; a later sigset() unblocks it and returns SIG_HOLD. Same answers as glibc's.
for args in "-s sigset -H" "-s none -H"; do
  install_vhandler 1
  without_shim $args
  glibc=$(ask install)
  tiny_stop
  under_shim $args
  t_check "tiny_host $args: sigset answers as glibc's ($glibc)" answer_is "$glibc" install
  if [ "$args" = "-s none -H" ]; then
    t_check "glibc's answer for SIG_HOLD alone: held, disposition SIG_DFL" \
      [ "$glibc" = "hold=SIG_DFL prev=- masked=1" ]
    install_vhandler 2
    kill -HUP "$TPID"
    t_check "SIGHUP held by the host: the shim's thread still reloads" wait_for 10 answer_is v2 version
    t_check "... and the host was not killed (its disposition is SIG_DFL)" kill -0 "$TPID"
  else
    t_check "glibc's answer for SIG_HOLD then a handler: prev SIG_HOLD, unblocked" \
      [ "$glibc" = "hold=SIG_DFL prev=SIG_HOLD masked=0" ]
    install_vhandler 2
    kill -HUP "$TPID"
    t_check "released with sigset(): SIGHUP reloads" wait_for 10 answer_is v2 version
    t_check "released with sigset(): the host's handler ran" wait_for 10 answer_is 1 hups
  fi
  tiny_stop
done

# dlvsym: what libc answers without the shim, for lookups the shim must not change.
install_vhandler 1
without_shim -V HANDLER_2
for q in "dlvsym handler_version NOPE" "dlvsym handler_version HANDLER_1" next; do
  libc_says[${#libc_says[@]}]=$(ask "$q")
done
tiny_stop
t_check "without the shim an unknown version fails with libc's message" \
  grep -q "undefined symbol: handler_version, version NOPE" <<<"${libc_says[0]}"
t_check "without the shim RTLD_NEXT from libnexta finds libnextb's" \
  [ "${libc_says[2]}" = "dlvsym=b dlsym=b" ]

under_shim -V HANDLER_2
t_check "dlvsym(handler_version, HANDLER_2) at start-up calls v1" answer_is v1 vsym
install_vhandler 2
t_check "hotswap reload" bash -c "\"$HS\" reload $TPID >/dev/null"
t_check "after the reload the host's PLT calls reach v2" answer_is v2 version
t_check "the pointer dlvsym returned at start-up follows the reload" answer_is v2 vsym
t_check "a fresh dlvsym(HANDLER_2) answers v2" answer_is v2 dlvsym handler_version HANDLER_2
t_check "dlvsym of an unknown version: NULL and libc's message, word for word" \
  answer_is "${libc_says[0]}" dlvsym handler_version NOPE
t_check "dlvsym of the older handler_version@HANDLER_1 is libc's (not routed): compat" \
  answer_is "${libc_says[1]}" dlvsym handler_version HANDLER_1
t_check "RTLD_NEXT keeps the caller: libnexta's dlvsym and dlsym find libnextb's" \
  answer_is "${libc_says[2]}" next
tiny_stop
t_check "the host exits normally" [ "$TRC" -eq 0 ]
t_done
