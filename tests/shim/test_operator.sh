#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# The operator's path on a daemon that does what old daemons do: with no HOTSWAP_CONTROL the
# CLI finds the shim from the pid alone (abstract socket "@hotswap/<pid>", no file), idle
# clients cannot keep `status` out, and (as root) status, reload and revert keep working
# after the daemon drops to nobody and after it chroot()s into an empty folder.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/shim_lib.sh"
. "$(dirname "$0")/tiny_lib.sh"

# under_shim: the tiny host under the shim with the default control endpoint; old versions
# stay loaded for a revert (a long grace period).
under_shim() {
  tiny_start env -u HOTSWAP_CONTROL HOTSWAP_PLUGINS="$APP/libhandler.so" HOTSWAP_LOG="$LOG" \
    HOTSWAP_GRACE_MS=600000 LD_LIBRARY_PATH="$APP" LD_PRELOAD="$PRELOAD" "$TINY"
}
listening() { grep -q "@hotswap/$1\$" /proc/net/unix; }
# ok_out CMD...: CMD exits 0 and prints a line that starts with "reload N ok" / "revert ok".
ok_out() { out=$("$@" 2>&1) && case "$out" in "reload "*" ok in "* | "revert ok"*) ;; *) false ;; esac || { echo "$out"; return 1; }; }

install_vhandler 1
: >"$LOG"
under_shim
t_check "the host runs v1 under the shim" answer_is v1 version
t_check "the shim listens on @hotswap/$TPID (abstract: no file)" listening "$TPID"
t_check "hotswap status finds it from the pid alone" "$HS" status "$TPID"
# completions WORD...: what tools/completion/hotswap.bash offers for the last word.
completions() {
  bash -c '. "$0"; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _hotswap; printf "%s\n" "${COMPREPLY[@]}"' \
    tools/completion/hotswap.bash "$@"
}
t_check "bash completion offers its pid after 'hotswap status'" \
  bash -c "$(declare -f completions); completions hotswap status '' | grep -qx '$TPID'"
t_check "... the commands after 'hotswap'" \
  bash -c "$(declare -f completions); [ \"\$(completions hotswap re | tr '\n' ' ')\" = 'reload revert ' ]"
t_check "... and --timeout after 'hotswap reload --t'" \
  bash -c "$(declare -f completions); [ \"\$(completions hotswap reload --t)\" = --timeout ]"
install_vhandler 2
t_check "hotswap reload reaches it" ok_out "$HS" reload "$TPID"
t_check "v2 serves" answer_is v2 version

# 200 clients that connect and say nothing: the shim keeps at most 32 waiting and drops the
# longest silent one first, so a real client still gets in.
python3 - "$TPID" "$T_TMP/held" <<'PY' &
import socket, sys, time
conns = []
for _ in range(200):
    s = socket.socket(socket.AF_UNIX)
    s.connect("\0hotswap/" + sys.argv[1])
    conns.append(s)
open(sys.argv[2], "w").write("held\n")
time.sleep(60)
PY
HPID=$!
t_reap "$HPID"
t_check "200 idle connections are open" wait_for 20 test -s "$T_TMP/held"
t_check "... and hotswap status still answers" "$HS" status "$TPID"
install_vhandler 1
t_check "... and so does hotswap reload" ok_out "$HS" reload --timeout 5 "$TPID"
kill "$HPID"
tiny_stop
t_check "the host exits normally" [ "$TRC" -eq 0 ]
t_check "nothing listens any more (no file to clean up)" bash -c "! grep -q '@hotswap/$TPID\$' /proc/net/unix"

if [ "$(id -u)" = 0 ] && id nobody >/dev/null 2>&1; then
  chmod 711 "$T_TMP" # nobody must reach the plugin folder, as in /srv/app
  # A daemon that starts as root and becomes nobody after start-up.
  install_vhandler 1
  under_shim
  t_check "drop: the host starts as root on v1" answer_is v1 version
  t_check "drop: it becomes nobody" answer_is dropped drop "$(id -u nobody)"
  t_check "drop: it runs as nobody now" [ "$(stat -c %u "/proc/$TPID")" = "$(id -u nobody)" ]
  t_check "drop: hotswap status from root's shell" "$HS" status "$TPID"
  install_vhandler 2
  t_check "drop: hotswap reload from root's shell" ok_out "$HS" reload "$TPID"
  t_check "drop: v2 serves" answer_is v2 version
  t_check "drop: hotswap revert from root's shell" ok_out "$HS" revert "$TPID"
  t_check "drop: v1 serves" answer_is v1 version
  if command -v setpriv >/dev/null; then
    t_check "drop: its own user (nobody) may ask too" \
      setpriv --reuid=nobody --regid=nogroup --clear-groups "$HS" status "$TPID"
    t_check "drop: another user is refused by the shim, and told so" bash -c "
      setpriv --reuid=daemon --regid=daemon --clear-groups '$HS' status '$TPID' 2>&1 |
      grep -qF \"hotswap status: process $TPID: permission denied: not the daemon's user\""
  fi
  tiny_stop
  t_check "drop: the host exits normally" [ "$TRC" -eq 0 ]

  # A daemon that chroot()s into an empty folder: plugin paths stay where they were.
  mkdir -p "$T_TMP/jail"
  install_vhandler 1
  under_shim
  t_check "chroot: the host starts on v1" answer_is v1 version
  t_check "chroot: it chroots into an empty folder" answer_is chrooted chroot "$T_TMP/jail"
  install_vhandler 2
  t_check "chroot: hotswap reload from root's shell" ok_out "$HS" reload "$TPID"
  t_check "chroot: v2 serves" answer_is v2 version
  install_vhandler 1
  kill -HUP "$TPID"
  t_check "chroot: SIGHUP reloads to v1" wait_for 10 answer_is v1 version
  t_check "chroot: hotswap revert" ok_out "$HS" revert "$TPID"
  t_check "chroot: v2 serves again" answer_is v2 version
  t_check "chroot: hotswap status" "$HS" status "$TPID"
  rm -f "$APP/libhandler.so"
  t_check "chroot: a missing plugin is refused, naming the file" \
    bash -c "'$HS' reload '$TPID' 2>&1 | grep -qF 'libhandler.so'"
  t_check "chroot: ... and v2 still serves" answer_is v2 version
  tiny_stop
  t_check "chroot: the host exits normally" [ "$TRC" -eq 0 ]
  chmod 700 "$T_TMP"
fi
t_done
