#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# systemd's notify-reload protocol spoken for an unmodified server: RELOADING=1 with
# MONOTONIC_USEC in one datagram, then READY=1 with a STATUS= line, on a real socket.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/shim_lib.sh"

NS="$T_TMP/notify.sock"
python3 - "$NS" "$T_TMP/notes" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(20)
with open(sys.argv[2], "w") as f:
    for _ in range(6):
        try:
            msg = s.recv(4096).decode()
        except socket.timeout:
            break
        f.write(repr(msg) + "\n")
        f.flush()
PY
NPID=$!; t_reap "$NPID"
wait_for 5 test -S "$NS"
install_handler 1
HOTSWAP_SD_NOTIFY=1 NOTIFY_SOCKET="$NS" start_server
install_handler 2
"$HS" reload "$SPID" >/dev/null
install_handler 3
"$HS" reload "$SPID" >/dev/null
wait_for 5 bash -c "[ \$(wc -l <'$T_TMP/notes') -ge 6 ]"
cat "$T_TMP/notes"
t_check "RELOADING=1 and MONOTONIC_USEC in one message" \
  grep -qE "^'RELOADING=1\\\\nMONOTONIC_USEC=[0-9]+\\\\n'$" "$T_TMP/notes"
t_check "READY=1 with the outcome of a good reload" \
  grep -qE "^'READY=1\\\\nSTATUS=reload [0-9]+ ok in" "$T_TMP/notes"
t_check "READY=1 with the reason of a refused reload" \
  grep -qF "STATUS=reload 2 rejected: libhandler.so: validate: drops function 'handle_stats' that the server calls; still serving handler " "$T_TMP/notes"
stop_server
t_done
