#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Old daemons close every descriptor from 3 up when they start, after the shim's constructor
# opened its eventfd, log file and control socket; and a daemon may do it again later, with
# memfds of loaded plugin versions open. The shim's descriptors survive every way of doing
# it (a close() loop, close_range, closefrom): reloads by signal and by socket go on, the log
# file keeps its lines, and a replaced version's memfd is still closed when it retires.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/shim_lib.sh"
. "$(dirname "$0")/tiny_lib.sh"

# fds_of PID: what its descriptors point at, one per line.
fds_of() { for f in /proc/"$1"/fd/*; do readlink "$f"; done 2>/dev/null; }

# The legacy server closes everything from 3 up first thing in main().
for how in loop range from; do
  install_handler 1
  : >"$LOG"
  start_server -C "$how" || { t_fail "$how: server starts"; continue; }
  t_check "$how: the server serves v1" serves v1
  t_check "$how: the shim's eventfd is still open" bash -c "$(declare -f fds_of); fds_of $SPID | grep -qF 'anon_inode:[eventfd]'"
  t_check "$how: the log file is still open" bash -c "$(declare -f fds_of); fds_of $SPID | grep -qxF '$LOG'"
  install_handler 2
  kill -HUP "$SPID"
  t_check "$how: SIGHUP still reloads (v2 serves)" wait_for 5 serves v2
  t_check "$how: ... and the log file has its line" wait_for 5 grep -qE "reload 1 ok in .*libhandler.so" "$LOG"
  install_handler 1
  t_check "$how: hotswap reload still reaches the control socket" "$HS" reload "$SPID"
  t_check "$how: v1 serves again" serves v1
  stop_server
done

# A host that closes everything from 3 up while a reloaded version (its memfd) is loaded.
under_shim() {
  tiny_start env HOTSWAP_PLUGINS="$APP/libhandler.so" HOTSWAP_LOG="$LOG" HOTSWAP_GRACE_MS=0 \
    HOTSWAP_CONTROL="$T_TMP/ctl.sock" LD_LIBRARY_PATH="$APP" LD_PRELOAD="$PRELOAD" "$TINY" "$@"
}
memfds() { fds_of "$TPID" | grep -c '^/memfd:hotswap:'; }
# memfd_no: the descriptor number of the one memfd the host has open.
memfd_no() { for f in /proc/"$TPID"/fd/*; do readlink "$f" | grep -q '^/memfd:hotswap:' && echo "${f##*/}"; done; }
for how in loop range from; do
  : >"$LOG"
  install_vhandler 1
  under_shim
  t_check "$how: the host starts on v1" answer_is v1 version # ld.so has loaded v1's file
  install_vhandler 2
  t_check "$how: the host reloads to v2" "$HS" reload "$TPID"
  t_check "$how: v2 answers" answer_is v2 version
  t_check "$how: v2's memfd is open" [ "$(memfds)" -eq 1 ]
  v2fd=$(memfd_no)
  t_check "$how: the host closes everything from 3 up" answer_is closed closeall "$how"
  t_check "$how: ... v2's memfd is still open" [ "$(memfds)" -eq 1 ]
  t_check "$how: v2 still answers" answer_is v2 version
  install_vhandler 1
  kill -HUP "$TPID"
  t_check "$how: SIGHUP reloads to v1" wait_for 10 answer_is v1 version
  t_check "$how: v2 retires and the shim really closes its memfd ($v2fd)" \
    wait_for 10 bash -c "! readlink /proc/$TPID/fd/$v2fd | grep -q '^/memfd:hotswap:'"
  t_check "$how: ... leaving v1's open" [ "$(memfds)" -eq 1 ]
  install_vhandler 2
  t_check "$how: hotswap reload to v2 again" "$HS" reload "$TPID"
  t_check "$how: v2 answers again" answer_is v2 version
  tiny_stop
  t_check "$how: the host exits normally" [ "$TRC" -eq 0 ]
done
t_done
