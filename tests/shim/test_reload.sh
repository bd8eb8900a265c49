#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# The operator's path: a legacy server started under the shim, new builds installed and
# reloaded with kill -HUP or `hotswap reload`; bad builds refused while the old one serves.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/shim_lib.sh"

export HANDLER_HOLD="$T_TMP/release" # read by build 7 only (the burst test below)
install_handler 1
start_server -c "$T_TMP/server.conf" -m "$LEG/libmodule.so" || { t_fail "server starts under the shim"; t_done; }
t_ok "server starts under the shim"
t_check "v1 serves /hello" [ "$(get /hello/ann)" = "hello, ann (v1)" ]
t_check "log says the linked copy was adopted as generation 0" wait_for 2 grep -qE "start ok in .*: libhandler.so [0-9a-f]{7} adopted \(8 symbols\)" "$LOG"
t_check "status answers with generation 0" \
  bash -c "$HS status --json $SPID | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d[\"generation\"]==0, d; assert d[\"plugins\"][0][\"name\"]==\"handler\"; assert d[\"plugins\"][0][\"routed\"]==8; assert d[\"plugins\"][0][\"adopted\"]'"

install_handler 2
kill -HUP "$SPID"
t_check "kill -HUP switches to v2" wait_for 5 serves v2
t_check "/hello (PLT call) reaches v2" [ "$(get /hello/ann)" = "hi there, ann! (v2)" ]
t_check "/greet (pointer table) reaches v2" [ "$(get /greet/bo)" = "hi there, bo! (v2)" ]
t_check "/stats (struct through hidden pointer) reaches v2" reply_starts /stats "v2 requests="
t_check "/div (struct in registers) still right" [ "$(get /div/17/5)" = "3 r 2 (v2)" ]
t_check "/avg (doubles) still right" [ "$(get /avg/1/2/4)" = "2.333 (v2)" ]
t_check "a module dlopen()ed after the reload calls v2" reply_is /module/mo "hi there, mo! (v2)"
t_check "dlsym(RTLD_DEFAULT) of a plugin function follows reloads" reply_is /dlsym/di "hi there, di! (v2)"
t_check "the server's own SIGHUP handler ran" [ "$(get /hups)" = "1" ]
t_check "log line for the reload" log_has "reload 1 ok in"

out=$("$HS" reload "$SPID"); rc=$?
t_check "hotswap reload with nothing new exits 0" [ "$rc" -eq 0 ]
t_check "... and says nothing changed" grep -q "nothing changed" <<<"$out"

install_handler 3
out=$("$HS" reload "$SPID" 2>&1); rc=$?
V2=$(sed -n 's/.*reload 1 ok in .*: libhandler.so [0-9a-f]* -> \([0-9a-f]*\) .*/\1/p' "$LOG")
t_check "v3 (drops handle_stats) is refused with exit 1" [ "$rc" -eq 1 ]
# The server calls handle_stats (its GOT entry was retrofitted), so the reason says so.
WANT="rejected: libhandler.so: validate: drops function 'handle_stats' that the server calls; still serving handler $V2"
N=$(sed -n 's/^reload \([0-9]*\) rejected: .*/\1/p' <<<"$out")
t_check "... naming file, step, function and that the server calls it" [ "$out" = "reload $N $WANT" ]
t_check "... and the log line says the same" grep -qxF "hotswap[$SPID]: reload $N $WANT" "$LOG"
t_check "... and v2 keeps serving" serves v2
t_check "... including the function v3 dropped" reply_starts /stats "v2 "

install_handler 4
out=$("$HS" reload "$SPID" 2>&1); rc=$?
t_check "v4 (executable stack) is refused" [ "$rc" -eq 1 ]
t_check "... with the reason" grep -qF "executable stack" <<<"$out"

install_handler 5
out=$("$HS" reload "$SPID" 2>&1); rc=$?
t_check "v5 (hotswap_on_load fails) is refused" [ "$rc" -eq 1 ]
t_check "... naming the step" grep -qF "on_load" <<<"$out"
t_check "... v2 still serving" serves v2

head -c 3000 /dev/urandom >"$APP/.garbage" && mv "$APP/.garbage" "$APP/libhandler.so"
out=$("$HS" reload "$SPID" 2>&1); rc=$?
t_check "a garbage file is refused" [ "$rc" -eq 1 ]
t_check "... as not an ELF file" grep -qF "not an ELF file" <<<"$out"
t_check "... v2 still serving" serves v2

t_check "status reports the last rejection" \
  bash -c "$HS status $SPID | grep -q 'last: reload .* rejected: libhandler.so'"
t_check "status counts failures" \
  bash -c "$HS status --json $SPID | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d[\"failures\"]==4, d'"

install_handler 1
kill -HUP "$SPID"
t_check "back to v1 after a good build" wait_for 5 serves v1
t_check "the dlopen()ed module follows too" reply_is /module/mo "hello, mo (v1)"
t_check "the dlsym()ed pointer follows too" reply_is /dlsym/di "hello, di (v1)"

# Signals that arrive during a reload coalesce into one more reload. Made deterministic:
# build 7's hotswap_on_load holds the first reload until $HANDLER_HOLD exists; 30 signals
# are sent and delivered (no SIGHUP pending in /proc/PID/status) while it waits; then it is
# released. Exactly two reloads follow: the held one and one for the whole burst.
sighup_delivered() { [ $((0x$(sed -n 's/^ShdPnd:\t*//p' "/proc/$SPID/status") & 1)) -eq 0 ]; }
reloads_logged() { grep -c 'reload [0-9]* ' "$LOG"; }
hups0=$(get /hups)
n0=$(reloads_logged)
install_handler 7
kill -HUP "$SPID"
t_check "a reload is held in build 7's on_load" wait_for 5 test -e "$HANDLER_HOLD.waiting"
install_handler 2
for _ in $(seq 30); do kill -HUP "$SPID"; done
t_check "the burst of 30 signals was delivered during the held reload" \
  wait_for 5 sighup_delivered
touch "$HANDLER_HOLD"
t_check "a burst of 30 signals ends on the new build" wait_for 5 serves v2
at_least() { [ "$(reloads_logged)" -ge "$1" ]; }
t_check "... after the held reload and one more" wait_for 5 at_least $((n0 + 2))
t_check "the burst coalesced into that one reload (gave $(($(reloads_logged) - n0)) in all)" \
  [ "$(($(reloads_logged) - n0))" -eq 2 ]
t_check "the server's own handler saw the burst too" [ "$(get /hups)" -gt "$hups0" ]

# Counting, over the good, refused and coalesced reloads above: start-up is "start", reloads
# are numbered 1..N with one log line each, and status counts exactly what the log shows.
agree() {
  "$HS" status --json "$SPID" | python3 -c '
import json, re, sys
d = json.load(sys.stdin)
lines = open(sys.argv[1]).read().splitlines()
pre = "hotswap[%s]: " % sys.argv[2]
nums = [int(m.group(1)) for m in (re.match(re.escape(pre) + r"reload (\d+) (ok in|rejected:)", l) for l in lines) if m]
rej = [l for l in lines if re.match(re.escape(pre) + r"reload \d+ rejected:", l)]
starts = [l for l in lines if l.startswith(pre + "start ")]
assert len(starts) == 1 and starts[0].startswith(pre + "start ok in"), starts
assert nums == list(range(1, d["reloads"] + 1)), (nums, d["reloads"])
assert len(rej) == d["failures"] and d["failures"] >= 4, (len(rej), d["failures"])
assert d["start"]["start"] and d["start"]["ok"] and d["last_reload"]["number"] == d["reloads"]
' "$LOG" "$SPID"
}
t_check "status and the log agree: start once, reloads 1..N once each, every refusal counted" agree

t_expect_rc "hotswap reload of a process not under the shim exits 2" 2 "$HS" reload $$
t_expect_rc "hotswap reload without a pid exits 2" 2 "$HS" reload
t_expect_rc "hotswap reload with a bad flag exits 2" 2 "$HS" reload --bogus "$SPID"
t_expect_rc "hotswap reload --help exits 0" 0 "$HS" reload --help

t_check "control socket has mode 0600" [ "$(stat -c %a "$T_TMP/ctl.sock")" = 600 ]
if command -v setpriv >/dev/null && id nobody >/dev/null 2>&1 && [ -x /usr/bin/python3 ] && [ "$(id -u)" = 0 ]; then
  # Open the file mode so that only SO_PEERCRED stands between another user and the socket.
  chmod 711 "$T_TMP"; chmod 666 "$T_TMP/ctl.sock"
  reply=$(setpriv --reuid=nobody --regid=nogroup --clear-groups /usr/bin/python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
try:
    s.sendall(b"reload\n")
except BrokenPipeError:  # the daemon may refuse and hang up before reading the request
    pass
print(s.recv(4096).decode().strip())' "$T_TMP/ctl.sock" 2>&1)
  chmod 600 "$T_TMP/ctl.sock"; chmod 700 "$T_TMP"
  t_check "another user is refused by the peer check" \
    [ "$reply" = '{"ok":false,"error":"EACCES","message":"permission denied: not the daemon'"'"'s user, the user it started as, or root"}' ]
fi

exports=$(nm -D --defined-only "$SHIM" | awk '{print $3}' | sort | tr '\n' ' ')
t_check "the shim exports only its allowlist" \
  [ "$exports" = "bsd_signal close close_range closefrom dlopen dlsym dlvsym hotswap_err_name hotswap_fn hotswap_invoke hotswap_invoke_each hotswap_invoke_each_backward hotswap_live_data_restore hotswap_live_data_wrap hotswap_live_fn hotswap_live_new hotswap_live_type hotswap_strerror hotswap_vault_extension hotswap_vault_get hotswap_vault_put hotswap_vault_remove hotswap_vault_set_extension_newer sigaction signal signalfd sigset sigtimedwait sigwait sigwaitinfo " ]

stop_server
t_check "control socket removed at exit" bash -c "sleep 0.2; [ ! -e $T_TMP/ctl.sock ]"

# A dropped function that nothing calls through hotswap: the shim loads elf/'s fixture plugin
# beside the server's own libhandler.so; the fixture's handle_stats is reached by no GOT
# entry, dlsym or hotswap_fn, and the reason says exactly that.
FX_APP="$T_TMP/fxapp"
mkdir -m 755 "$FX_APP"
cp "$BUILD/fixtures/normal.so" "$FX_APP/libfixture.so"
PLUGINS="$FX_APP/libfixture.so" HOTSWAP_LOG="$T_TMP/fx.log" CONTROL="$T_TMP/fx.sock" start_server ||
  { t_fail "server with the fixture plugin starts"; t_done; }
t_check "the fixture plugin is loaded" wait_for 5 grep -qF "libfixture.so 0123456-dirty loaded" "$T_TMP/fx.log"
cp "$BUILD/fixtures/dropped.so" "$FX_APP/.new" && mv "$FX_APP/.new" "$FX_APP/libfixture.so"
out=$("$HS" reload "$SPID" 2>&1); rc=$?
t_check "a build dropping a function nothing calls is refused too (exit 1)" [ "$rc" -eq 1 ]
WANT="rejected: libfixture.so: validate: drops function 'handle_stats' (the running version exports it; no caller was routed to it); still serving fixture 0123456-dirty"
N=$(sed -n 's/^reload \([0-9]*\) rejected: .*/\1/p' <<<"$out")
t_check "... saying that no caller was routed to it" [ "$out" = "reload $N $WANT" ]
t_check "... in the log line too" grep -qxF "hotswap[$SPID]: reload $N $WANT" "$T_TMP/fx.log"
t_check "... while the server keeps serving" reply_starts /stats "v"
stop_server

# A plugin missing at start-up: refused once as "start", in step form with the fix; not
# counted as a reload; the first SIGHUP after it is installed is reload 1.
rm -f "$FX_APP/libfixture.so"
PLUGINS="$FX_APP/libfixture.so" HOTSWAP_LOG="$T_TMP/miss.log" CONTROL="$T_TMP/miss.sock" start_server ||
  { t_fail "server with a missing plugin starts"; t_done; }
WANT="hotswap[$SPID]: start rejected: $FX_APP/libfixture.so: open: No such file or directory (HOTSWAP_PLUGINS names it: install the plugin there, or correct the variable); no plugin loaded"
t_check "a missing plugin at start: one line naming the step, the file and the fix" \
  [ "$(grep -c . "$T_TMP/miss.log")" = 1 -a "$(cat "$T_TMP/miss.log")" = "$WANT" ]
t_check "... status: no reload, none failed, start refused" bash -c "'$HS' status --json $SPID | python3 -c '
import json,sys; d=json.load(sys.stdin)
assert d[\"reloads\"]==0 and d[\"failures\"]==0 and not d[\"start\"][\"ok\"] and d[\"last_reload\"] is None, d'"
t_check "... the text status shows the start line" \
  bash -c "'$HS' status $SPID | grep -qF 'start rejected: $FX_APP/libfixture.so: open: '"
cp "$BUILD/fixtures/normal.so" "$FX_APP/libfixture.so"
out=$("$HS" reload "$SPID" 2>&1)
t_check "once installed, the first reload is reload 1 and loads it" \
  grep -qE "^reload 1 ok in .*: libfixture.so 0123456-dirty loaded" <<<"$out"
t_check "... status: 1 reload, 0 failed" bash -c "'$HS' status --json $SPID | python3 -c '
import json,sys; d=json.load(sys.stdin); assert d[\"reloads\"]==1 and d[\"failures\"]==0, d'"
stop_server
t_done
