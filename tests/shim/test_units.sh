#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# The example systemd units (examples/systemd/*.service), run as systemd would run them:
# their Environment= and ExecStart= lines (paths moved into the test folder), a fake
# NOTIFY_SOCKET that records what the daemon says, then a reload the unit's way: ExecReload=
# (Type=notify, systemd 252) or ReloadSignal= (Type=notify-reload, systemd >= 253).
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/shim_lib.sh"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
UNITS="$ROOT/examples/systemd"
SHIM_ABS=$(cd "$BUILD" && pwd)/libhotswap_preload.so.0

# field UNIT KEY: the values of KEY= in UNIT, one per line.
field() { sed -n "s/^$2=//p" "$1"; }
# local_paths: the unit's paths moved here (the plugin folder, the shim, the CLI, the port).
local_paths() {
  # (a sanitizer build's runtimes must come first in LD_PRELOAD: SAN_RT, see shim_lib.sh)
  sed -e "s|/srv/app/server|$LEG/server|; s|/srv/app|$APP|g" \
    -e "s|=libhotswap_preload.so.0|=${SAN_RT}$SHIM_ABS|" \
    -e "s|/usr/bin/hotswap|$HS|" -e "s|-p 8080|-P $T_TMP/port|"
}
# record SOCKET FILE: a fake systemd that writes each datagram on one line.
record() {
  rm -f "$1"
  python3 - "$1" "$2" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "w") as f:
    while True:
        f.write(s.recv(4096).decode().replace("\n", " ").strip() + "\n")
        f.flush()
PY
  RPID=$!
  t_reap "$RPID"
  wait_for 5 test -S "$1"
}
notes_have() { grep -qE "$1" "$NOTES"; }

for unit in "$UNITS"/*.service; do
  u=$(basename "$unit")
  type=$(field "$unit" Type)
  t_check "$u: Type is notify or notify-reload ($type)" bash -c "[ '$type' = notify ] || [ '$type' = notify-reload ]"
  t_check "$u: the shim is preloaded by its SONAME" grep -qx "Environment=LD_PRELOAD=libhotswap_preload.so.0" "$unit"
  t_check "$u: the shim speaks the notify protocol" grep -qx "Environment=HOTSWAP_SD_NOTIFY=1" "$unit"
  NS="$T_TMP/notify.sock" NOTES="$T_TMP/$u.notes"
  record "$NS" "$NOTES"
  install_handler 1
  env_args=()
  while IFS= read -r kv; do env_args+=("$kv"); done < <(field "$unit" Environment | local_paths)
  read -r -a cmd < <(field "$unit" ExecStart | local_paths)
  rm -f "$T_TMP/port"
  env "${env_args[@]}" NOTIFY_SOCKET="$NS" HOTSWAP_LOG="$LOG" HOTSWAP_STATE_DIR="$T_TMP/state" \
    "${cmd[@]}" >>"$T_TMP/server.out" 2>&1 &
  MAINPID=$!
  t_reap "$MAINPID"
  SPID=$MAINPID
  t_check "$u: READY=1 once the plugins are loaded, with the start line as STATUS" \
    wait_for 10 notes_have "^READY=1 STATUS=start ok in "
  t_check "$u: the server answers" wait_for 10 test -s "$T_TMP/port"
  PORT=$(cat "$T_TMP/port")
  t_check "$u: v1 serves" serves v1
  install_handler 2
  if [ "$type" = notify ]; then
    read -r -a reload < <(field "$unit" ExecReload | local_paths | sed "s/\$MAINPID/$MAINPID/")
    t_check "$u: ExecReload= ($(basename "${reload[0]}") ${reload[1]}) succeeds" "${reload[@]}"
  else
    sig=$(field "$unit" ReloadSignal)
    t_check "$u: ReloadSignal=$sig is sent" kill -s "${sig#SIG}" "$MAINPID"
  fi
  t_check "$u: RELOADING=1 with MONOTONIC_USEC" wait_for 10 notes_have "^RELOADING=1 MONOTONIC_USEC=[0-9]+$"
  t_check "$u: then READY=1 with the outcome" wait_for 10 notes_have "^READY=1 STATUS=reload 1 ok in "
  t_check "$u: v2 serves" serves v2
  install_handler 3
  if [ "$type" = notify ]; then
    t_check "$u: ExecReload= of a refused build fails (systemctl reload reports it; exit 1)" \
      bash -c "'${reload[0]}' ${reload[*]:1} >/dev/null 2>&1; [ \$? -eq 1 ]"
  else
    kill -s "${sig#SIG}" "$MAINPID"
  fi
  t_check "$u: READY=1 with the reason of the refusal" \
    wait_for 10 notes_have "^READY=1 STATUS=reload 2 rejected: libhandler.so: validate: "
  t_check "$u: v2 still serves" serves v2
  stop_server "$MAINPID"
  kill "$RPID" 2>/dev/null
done
t_done
