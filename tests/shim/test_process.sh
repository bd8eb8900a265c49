#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# The process contract: daemonizing and pre-forked servers, exec'd children, nohup, a
# server without its own handler or blocking the signal, another reload signal, bad
# configuration, and plugin files other users could replace.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/shim_lib.sh"
# The shim makes every process multi-threaded, and GCC 12's libasan does not take its
# allocator's locks around fork() (LLVM added that in 2023): a child forked while another
# thread allocates deadlocks in malloc, as the daemonized server here did one run in five.
san_skip "it forks multi-threaded servers, and GCC 12's ASan allocator is not fork-safe"

# Daemonized with a double fork: the reloader must live in the grandchild.
install_handler 1
start_server -d -i "$T_TMP/pid" || t_fail "daemon starts"
DPID=$(cat "$T_TMP/pid"); t_reap "$DPID"
install_handler 2
t_check "daemonized (double fork): its control socket answers" wait_for 5 "$HS" status "$DPID"
t_check "daemonized (double fork): reload by pid" "$HS" reload "$DPID"
t_check "daemonized: serves v2" serves v2
kill -TERM "$DPID"; stop_server

# Pre-forked workers: each has its own reloader and control socket.
install_handler 1
start_server -w 2 || t_fail "workers start"
wait_for 5 bash -c "[ \$(grep -c '^server: worker [0-9]* is pid' '$T_TMP/server.out') -ge 2 ]" ||
  t_fail "two workers say their pids"
WPIDS=$(sed -n 's/^server: worker [0-9]* is pid \([0-9]*\)$/\1/p' "$T_TMP/server.out" | tail -n 2)
for w in $WPIDS; do t_reap "$w"; done
install_handler 2
for w in $WPIDS; do
  wait_for 5 "$HS" status "$w"
  t_check "worker $w: hotswap reload" "$HS" reload "$w"
  t_check "worker $w: status shows generation 1" \
    bash -c "$HS status --json $w | grep -q '\"generation\":1'"
done
t_check "workers serve v2" wait_for 3 serves v2
# The master was not reloaded (reloads are per process) and still reports generation 0.
t_check "master still at generation 0" bash -c "$HS status --json $SPID | grep -q '\"generation\":0'"
stop_server; for w in $WPIDS; do kill "$w" 2>/dev/null; done

# A child the server fork+execs stays inert: no log line, no control socket of its own.
install_handler 1
: >"$LOG"
start_server
CPID=$(get /spawn)
t_reap "$CPID"
# Asleep in sleep(1)'s main: every constructor, the shim's included, has run.
asleep() { case "$(cut -d' ' -f1 "/proc/$CPID/syscall" 2>/dev/null)" in 35 | 230) ;; *) false ;; esac; }
t_check "exec'd child ($CPID) runs, asleep in sleep(1)" wait_for 10 asleep
t_check "exec'd child wrote no log line" bash -c "! grep -q 'hotswap\\[$CPID\\]' '$LOG'"
t_check "exec'd child has no control socket" bash -c "! ls $T_TMP/ctl.sock.$CPID 2>/dev/null | grep -q . && ! grep -q '@hotswap/$CPID\$' /proc/net/unix"
# Its environment still names the server's socket: the CLI must not report the server's
# state as the child's.
t_expect_rc "hotswap status of the exec'd child exits 2" 2 "$HS" status "$CPID"
t_check "... saying the shim is inert in it, not reporting the server's state" bash -c "'$HS' status $CPID 2>&1 |
  grep -qF \"hotswap status: process $CPID is a program that process $SPID exec'd: the shim stays inert in programs a daemon starts, and only process $SPID takes reloads\""
stop_server

# Two servers started with the same HOTSWAP_CONTROL: the second leaves the socket to the
# first and says so; a socket left by a SIGKILLed server is replaced by the next one.
install_handler 1
: >"$LOG"
start_server; FIRST=$SPID
start_server; SECOND=$SPID
t_check "a second server on the same socket path says it is taken, and by whom" wait_for 5 grep -qF \
  "hotswap[$SECOND]: control socket $T_TMP/ctl.sock is in use by process $FIRST (give each process its own HOTSWAP_CONTROL); \`hotswap reload\` and \`hotswap status\` cannot reach this process (kill -HUP still reloads)" "$LOG"
t_check "... the first still answers on it" bash -c "'$HS' status --json $FIRST | grep -qF '\"pid\":$FIRST'"
t_expect_rc "... and the second is not reachable through it" 2 "$HS" status "$SECOND"
stop_server "$SECOND"
kill -9 "$FIRST"; wait "$FIRST" 2>/dev/null
t_check "a SIGKILLed server leaves its socket file behind" [ -S "$T_TMP/ctl.sock" ]
start_server
t_check "the next server replaces the stale socket and answers on it" \
  bash -c "'$HS' status --json $SPID | grep -qF '\"pid\":$SPID'"
t_check "... without complaining about it" bash -c "! grep -q 'hotswap\[$SPID\]: control socket' '$LOG'"
stop_server

# nohup (SIGHUP ignored from the start) and no handler of the server's own.
install_handler 1
rm -f "$T_TMP/port" # the last server's port file would otherwise be read at once
(trap '' HUP; exec env HOTSWAP_PLUGINS="$APP/libhandler.so" HOTSWAP_LOG="$LOG" \
  HOTSWAP_CONTROL="$T_TMP/ctl.sock" LD_LIBRARY_PATH="$APP" LD_PRELOAD="$PRELOAD" \
  "$LEG/server" -n -P "$T_TMP/port" >>"$T_TMP/server.out" 2>&1) &
SPID=$!; t_reap "$SPID"
wait_for 5 test -s "$T_TMP/port"; PORT=$(cat "$T_TMP/port")
install_handler 2
kill -HUP "$SPID"
t_check "nohup'd server reloads on SIGHUP" wait_for 5 serves v2
t_check "... and is still alive" kill -0 "$SPID"
stop_server; rm -f "$T_TMP/port"

# SIGHUP blocked in every server thread: the shim's thread takes it and runs the server's
# handler too.
install_handler 1
start_server -b
install_handler 2
kill -HUP "$SPID"
t_check "server blocking SIGHUP still reloads" wait_for 5 serves v2
t_check "... and its own handler still counted the signal" wait_for 3 reply_is /hups 1
stop_server

# Another reload signal.
install_handler 1
HOTSWAP_SIGNAL=USR2 start_server
install_handler 2
kill -USR2 "$SPID"
t_check "HOTSWAP_SIGNAL=USR2 reloads on SIGUSR2" wait_for 5 serves v2
stop_server

# Bad configuration: one log line, reloads disabled, the server still serves.
install_handler 1
: >"$LOG"
HOTSWAP_SIGNAL=BOGUS start_server
t_check "bad HOTSWAP_SIGNAL: server still serves" serves v1
t_check "bad HOTSWAP_SIGNAL: one clear log line" \
  grep -q "HOTSWAP_SIGNAL='BOGUS' is not a signal that can be caught" "$LOG"
stop_server
for sig in SEGV SIGABRT bus; do
  : >"$LOG"
  HOTSWAP_SIGNAL=$sig start_server
  t_check "HOTSWAP_SIGNAL=$sig (a fault signal) is refused: server still serves" serves v1
  t_check "HOTSWAP_SIGNAL=$sig: the log says why" \
    grep -qF "HOTSWAP_SIGNAL='$sig' is a signal the kernel sends for a crash" "$LOG"
  stop_server
done
# A FIFO put at the plugin path is refused at once; the reloader never blocks in open().
install_handler 1
start_server
rm -f "$APP/libhandler.so" && mkfifo "$APP/libhandler.so"
t_check "a FIFO at the plugin path: the reload is refused (exit 1)" \
  bash -c "! timeout 20 '$HS' reload $SPID >'$T_TMP/fifo.out' 2>&1"
t_check "... naming the file and what it is" \
  grep -qF "libhandler.so: snapshot: '$APP/libhandler.so' is a FIFO, not a regular file" "$T_TMP/fifo.out"
t_check "... status still answers" bash -c "timeout 20 '$HS' status $SPID >/dev/null"
t_check "... and v1 serves" serves v1
rm -f "$APP/libhandler.so"
install_handler 2
t_check "... and the next reload, with a real file, works" bash -c "timeout 20 '$HS' reload $SPID >/dev/null"
stop_server
install_handler 1
: >"$LOG"
PLUGINS="$APP/missing.so" start_server
t_check "missing plugin file: server still serves" serves v1
t_check "missing plugin file: the log names it" grep -q "missing.so" "$LOG"
stop_server

# A plugin folder other users can write is refused, unless HOTSWAP_INSECURE=1.
install_handler 1
chmod 777 "$APP"
: >"$LOG"
start_server
t_check "world-writable folder: refused with the reason" \
  grep -q "writable by every user" "$LOG"
t_check "world-writable folder: server still serves (unrouted v1)" serves v1
stop_server
: >"$LOG"
HOTSWAP_INSECURE=1 start_server
install_handler 2
"$HS" reload "$SPID" >/dev/null
t_check "HOTSWAP_INSECURE=1 loads anyway" serves v2
t_check "HOTSWAP_INSECURE=1 says so loudly" grep -q "WARNING: HOTSWAP_INSECURE=1" "$LOG"
stop_server
chmod 755 "$APP"
t_done
