#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# The link-mode matrix: the same server linked PIE lazy/now/no-RELRO, -fno-plt, and non-PIE
# lazy/now. In each, calls through the PLT, the GOT and a table of function pointers
# follow a reload.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/shim_lib.sh"

for mode in pie-lazy pie-now pie-norelro pie-noplt nopie-lazy nopie-now; do
  install_handler 1
  : >"$LOG"
  SERVER="$LEG/server-$mode" start_server || { t_fail "$mode: server starts"; continue; }
  t_check "$mode: v1 serves" [ "$(get /greet/x)" = "hello, x (v1)" ]
  install_handler 2
  "$HS" reload "$SPID" >/dev/null
  t_check "$mode: PLT call reaches v2" [ "$(get /hello/x)" = "hi there, x! (v2)" ]
  t_check "$mode: pointer table reaches v2" [ "$(get /greet/x)" = "hi there, x! (v2)" ]
  t_check "$mode: struct return reaches v2" reply_starts /stats "v2 "
  install_handler 1
  "$HS" reload "$SPID" >/dev/null
  t_check "$mode: and back to v1" [ "$(get /greet/x)" = "hello, x (v1)" ]
  stop_server
done
t_done
