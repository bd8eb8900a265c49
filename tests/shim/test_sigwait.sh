#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# A daemon that blocks SIGHUP in every thread and takes it synchronously (sigwait,
# sigwaitinfo, sigtimedwait: a signal thread, as many daemons have) gets every SIGHUP and
# each one still reloads. With signalfd() the shim cannot share the signal: it keeps it for
# reloads and the log says so, naming the way out (HOTSWAP_SIGNAL).
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/shim_lib.sh"
. "$(dirname "$0")/tiny_lib.sh"

under_shim() {
  tiny_start env HOTSWAP_PLUGINS="$APP/libhandler.so" HOTSWAP_LOG="$LOG" \
    HOTSWAP_CONTROL="$T_TMP/ctl.sock" LD_LIBRARY_PATH="$APP" LD_PRELOAD="$PRELOAD" "$TINY" "$@"
}
reloads() { grep -c 'reload [0-9]* ok' "$LOG"; }

for how in sigwait sigwaitinfo sigtimedwait; do
  : >"$LOG"
  install_vhandler 1
  under_shim -w "$how"
  t_check "$how: the host starts on v1" answer_is v1 version
  # Logged when its signal thread first waits; a SIGHUP sent before that is not the host's.
  t_check "$how: the log says the daemon waits for SIGHUP" wait_for 10 grep -qF \
    "the daemon waits for SIGHUP with sigwait(): it gets every one, and each still reloads" "$LOG"
  install_vhandler 2
  kill -HUP "$TPID"
  t_check "$how: SIGHUP reloads (v2 answers)" wait_for 10 answer_is v2 version
  t_check "$how: the host's $how returned it" wait_for 10 answer_is 1 hups
  if [ "$how" != sigwait ]; then
    t_check "$how: the sender's pid reaches the host" answer_is $$ sender
  fi
  # Three more, each waited for: every one reaches both the daemon and the reloader.
  for k in 2 3 4; do
    v=$(( k % 2 + 1 ))
    install_vhandler $v
    kill -HUP "$TPID"
    t_check "$how: SIGHUP $k reached the host" wait_for 10 answer_is $k hups
    t_check "$how: SIGHUP $k reloaded (v$v answers)" wait_for 10 answer_is "v$v" version
  done
  t_check "$how: one reload per signal (4), after the start-up load" [ "$(reloads)" -eq 4 -a "$(grep -c "start ok" "$LOG")" -eq 1 ]
  tiny_stop
  t_check "$how: the host exits normally" [ "$TRC" -eq 0 ]
done

# hotswap reload (the control socket) needs no signal and leaves the host's count alone.
: >"$LOG"
install_vhandler 1
under_shim -w sigwait
wait_for 10 grep -qF "the daemon waits for SIGHUP" "$LOG"
install_vhandler 2
t_check "sigwait: hotswap reload works too" "$HS" reload "$TPID"
t_check "... v2 answers" answer_is v2 version
t_check "... and the host saw no SIGHUP" answer_is 0 hups
tiny_stop

# signalfd: the shim keeps SIGHUP out of the daemon's fd, so every one reloads (left in,
# each would go to whichever of the two dequeued it first), and the log says so.
: >"$LOG"
install_vhandler 1
under_shim -w signalfd
t_check "signalfd: the log says the shim keeps SIGHUP and what to do" wait_for 10 grep -qF \
  "the daemon asks for SIGHUP through signalfd(), which the shim cannot share: the shim keeps it for reloads and leaves it out of the daemon's signalfd; set HOTSWAP_SIGNAL to a signal the daemon does not use" "$LOG"
for k in 2 1 2 1 2; do
  install_vhandler $k
  kill -HUP "$TPID"
  t_check "signalfd: SIGHUP reloads every time (v$k answers)" wait_for 10 answer_is "v$k" version
done
t_check "signalfd: ... and none reached the daemon's fd" answer_is 0 hups
tiny_stop
t_check "signalfd: the host exits normally" [ "$TRC" -eq 0 ]

# The way out: HOTSWAP_SIGNAL=USR2 leaves SIGHUP to the daemon's signalfd.
: >"$LOG"
install_vhandler 1
tiny_start env HOTSWAP_PLUGINS="$APP/libhandler.so" HOTSWAP_LOG="$LOG" HOTSWAP_SIGNAL=USR2 \
  HOTSWAP_CONTROL="$T_TMP/ctl.sock" LD_LIBRARY_PATH="$APP" LD_PRELOAD="$PRELOAD" "$TINY" -w signalfd
t_check "signalfd + HOTSWAP_SIGNAL=USR2: the host starts on v1" answer_is v1 version
# SIGHUP is blocked in all its threads by now (and in the shim's, which leave only USR2
# open), so it waits, pending, for the daemon's signalfd.
kill -HUP "$TPID"
t_check "... SIGHUP reaches the daemon's signalfd" wait_for 10 answer_is 1 hups
install_vhandler 2
kill -USR2 "$TPID"
t_check "... SIGUSR2 reloads" wait_for 10 answer_is v2 version
t_check "... and nothing was logged about signalfd" bash -c "! grep -q signalfd '$LOG'"
tiny_stop
t_done
