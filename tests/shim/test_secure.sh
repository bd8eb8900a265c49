#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Setuid and setgid processes stay inert (issue 4). secure_host is linked with the shim
# itself and an absolute RUNPATH (a setuid process ignores LD_PRELOAD paths and
# LD_LIBRARY_PATH); run as user nobody with its setuid or setgid bit set, the kernel gives it
# AT_SECURE: no plugin loaded, no shim thread, no control socket, no log file opened from the
# environment, SIGHUP handled as without the shim, and one line on stderr saying why. The
# same binary without the bit is the control: as nobody it loads and reloads the plugin.
# Needs root (chown, chmod u+s); otherwise it says so and runs no check.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/shim_lib.sh"
. "$(dirname "$0")/tiny_lib.sh"

if [ "$(id -u)" -ne 0 ]; then
  echo "test_secure.sh: skipped: needs root (chown root and chmod u+s of a test binary)" >&2
  t_done
fi
if [ -n "$T_EMULATED" ]; then
  echo "test_secure.sh: skipped: under $T_EMULATED the kernel does not see the setuid bit (no AT_SECURE)" >&2
  t_done
fi
for tool in setpriv readelf; do
  command -v "$tool" >/dev/null || { t_fail "$tool is installed" "not found"; t_done; }
done
id nobody >/dev/null && getent group nogroup >/dev/null ||
  { t_fail "user nobody and group nogroup exist" "missing"; t_done; }

# The folder named by secure_host's RUNPATH (under /var/tmp, which user nobody can enter,
# unlike our mktemp folder; one per build folder): the host, the shim and the plugin. Mode
# 0750, group nogroup: no other user can run the setuid root copy, even one left behind by
# a killed run (the next run removes it).
HOST="$BUILD/tests/shim/secure_host"
RUNPATH=$(readelf -d "$HOST" | sed -n 's/.*(RUNPATH).*\[\(.*\)\]$/\1/p')
D=${RUNPATH%/lib}
case "$D" in
  /var/tmp/hotswap-secure-*) ;;
  *) t_fail "secure_host has its RUNPATH" "got '$RUNPATH'"; t_done ;;
esac
rm -rf "$D" # left over by an interrupted run (rm does not follow a symlink)
mkdir -m 0750 "$D" || { t_fail "create $D" "mkdir failed"; t_done; }
trap 't_cleanup; rm -rf "$D"' EXIT
mkdir -m 0755 "$D/lib" "$D/run" && cp "$SHIM" "$D/lib/" && cp "$SHIM" "$D/lib/libhotswap_preload.so.0" && cp "$HOST" "$D/host" &&
  chown -R root:root "$D" && chgrp nogroup "$D" && chown nobody:nogroup "$D/run" ||
  { t_fail "fill $D" "cp/chown failed"; t_done; }
ERR="$T_TMP/tiny.err"
WHY="setuid/setgid process (AT_SECURE): HOTSWAP_PLUGINS ignored, no plugin loaded, reloads disabled"

NOGROUP=$(getent group nogroup | cut -d: -f3)
# as_nobody ARGS...: $D/host as user nobody, group nogroup (also as its only supplementary
# group: with the setgid bit its effective group is root, and nogroup still opens $D), the
# shim's variables pointing into $D.
as_nobody() {
  : >"$ERR"
  rm -f "$D/run/hotswap.log" "$D/run/ctl.sock"
  tiny_start env HOTSWAP_PLUGINS="$D/lib/libhandler.so" HOTSWAP_LOG="$D/run/hotswap.log" \
    HOTSWAP_CONTROL="$D/run/ctl.sock" setpriv --reuid=nobody --regid=nogroup --groups="$NOGROUP" \
    "$D/host" "$@"
}
threads() { ls "/proc/$TPID/task" | wc -l; }
# ids FIELD: "real effective" uid (Uid) or gid (Gid) of the host, from /proc.
ids() { awk -v f="$1:" '$1 == f {print $2, $3}' "/proc/$TPID/status"; }

# Control: no special bit. The shim loads the plugin as user nobody and reloads it.
chmod 0755 "$D/host"
install_vhandler 1 "$D/lib"
as_nobody -s none
t_check "control: runs as nobody, not secure (AT_SECURE 0)" answer_is 0 secure
t_check "control: real and effective uid are nobody's" [ "$(ids Uid)" = "65534 65534" ]
t_check "control: the shim adopted the plugin (log line)" wait_for 10 \
  grep -qE "^hotswap\[$TPID\]: start ok in [0-9.]+ ms: libhandler.so [0-9a-f]+ adopted" \
  "$D/run/hotswap.log"
t_check "control: the shim's threads run ($(threads) threads)" [ "$(threads)" -gt 1 ]
t_check "control: its control socket is there" wait_for 10 test -S "$D/run/ctl.sock"
t_check "control: nothing on stderr (the log goes to HOTSWAP_LOG)" [ ! -s "$ERR" ]
install_vhandler 2 "$D/lib"
kill -HUP "$TPID"
t_check "control: SIGHUP reloads (v2 answers)" wait_for 10 answer_is v2 version
tiny_stop
t_check "control: SIGHUP did not end it; it exits normally" [ "$TRC" -eq 0 ]

# Setuid root, run by nobody; the host has its own SIGHUP handler.
chmod 4755 "$D/host"
install_vhandler 1 "$D/lib"
as_nobody -s sigaction
secure=$(ask secure)
t_check "setuid: the kernel set AT_SECURE (else: is $D on a nosuid mount?)" [ "$secure" = 1 ]
t_check "setuid: real uid nobody, effective uid root" [ "$(ids Uid)" = "65534 0" ]
t_check "setuid: one line on stderr says why" grep -qxF "hotswap[$TPID]: $WHY" "$ERR"
t_check "setuid: ... and nothing else" [ "$(wc -l <"$ERR")" -eq 1 ]
t_check "setuid: no shim thread (1 thread)" [ "$(threads)" -eq 1 ]
t_check "setuid: no control socket" [ ! -e "$D/run/ctl.sock" ]
t_check "setuid: HOTSWAP_LOG from the environment is not opened" [ ! -e "$D/run/hotswap.log" ]
install_vhandler 2 "$D/lib"
kill -HUP "$TPID"
t_check "setuid: SIGHUP reaches the host's own handler" wait_for 10 answer_is 1 hups
t_check "setuid: no reload: the host still calls v1" answer_is v1 version
t_check "setuid: still no shim thread" [ "$(threads)" -eq 1 ]
tiny_stop
t_check "setuid: exits normally" [ "$TRC" -eq 0 ]

# A setuid program that a daemon running the shim exec()s (the daemon's pid in
# HOTSWAP_OWNER_PID) stays silent, like every program it execs.
HOTSWAP_OWNER_PID=$$ as_nobody -s none
t_check "setuid, exec'd by a daemon: AT_SECURE" answer_is 1 secure
t_check "setuid, exec'd by a daemon: no line at all" [ ! -s "$ERR" ]
t_check "setuid, exec'd by a daemon: no shim thread" [ "$(threads)" -eq 1 ]
tiny_stop

# Setgid root, run by nobody:nogroup; no handler of its own: SIGHUP's default action.
chmod 2755 "$D/host"
install_vhandler 1 "$D/lib"
as_nobody -s none
t_check "setgid: the kernel set AT_SECURE" answer_is 1 secure
t_check "setgid: real gid nogroup, effective gid root" \
  [ "$(ids Gid)" = "$NOGROUP 0" ]
t_check "setgid: one line on stderr says why" grep -qxF "hotswap[$TPID]: $WHY" "$ERR"
t_check "setgid: no shim thread" [ "$(threads)" -eq 1 ]
t_check "setgid: no control socket, no log file" \
  [ ! -e "$D/run/ctl.sock" -a ! -e "$D/run/hotswap.log" ]
kill -HUP "$TPID"
tiny_stop
t_check "setgid: SIGHUP ends it as without the shim (status $TRC = 128 + SIGHUP)" [ "$TRC" -eq 129 ]
t_done
