# SPDX-License-Identifier: BSD-3-Clause
# shim_lib.sh - helpers for the shim's integration tests (bash): start the legacy server
# under LD_PRELOAD, install handler builds atomically, fetch over real HTTP, wait for
# conditions. Source after tests/lib.sh.
LEG="$BUILD/examples/legacy-server"
SHIM="$(cd "$BUILD" && pwd)/libhotswap_preload.so"
HS="$BUILD/hotswap"
APP="$T_TMP/app"
LOG="$T_TMP/hotswap.log"
mkdir -p "$APP"
chmod 755 "$APP"

# install_handler V [DIR]: put build V of libhandler.so in place with an atomic rename,
# as an operator's deploy would.
install_handler() {
  dir=${2:-$APP}
  cp "$LEG/v$1/libhandler.so" "$dir/.libhandler.so.tmp" && mv -f "$dir/.libhandler.so.tmp" "$dir/libhandler.so"
}

# start_server [SERVER ARGS...]: start $SERVER (default the PIE lazy server) under the shim
# with libhandler.so from $APP; sets SPID and PORT. Extra environment comes from the caller
# (e.g. HOTSWAP_SIGNAL=USR2 start_server). Fails the test when it does not come up.
start_server() {
  rm -f "$T_TMP/port"
  HOTSWAP_PLUGINS=${PLUGINS:-$APP/libhandler.so} HOTSWAP_LOG=${HOTSWAP_LOG:-$LOG} \
    HOTSWAP_CONTROL=${CONTROL:-$T_TMP/ctl.sock} LD_LIBRARY_PATH="$APP" LD_PRELOAD="$PRELOAD" \
    "${SERVER:-$LEG/server}" -P "$T_TMP/port" "$@" >>"$T_TMP/server.out" 2>&1 &
  SPID=$!
  t_reap "$SPID"
  for _ in $(seq 400); do
    [ -s "$T_TMP/port" ] && break
    sleep 0.05
  done
  PORT=$(cat "$T_TMP/port" 2>/dev/null)
  [ -n "$PORT" ] || { echo "server did not start:"; cat "$T_TMP/server.out"; return 1; }
}

stop_server() {
  kill "${1:-$SPID}" 2>/dev/null
  wait "${1:-$SPID}" 2>/dev/null
  return 0
}

# get PATH: the body of GET PATH from the server (bash /dev/tcp, no client needed).
get() {
  exec 7<>"/dev/tcp/127.0.0.1/$PORT" || return 1
  printf 'GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' "$1" >&7
  sed '1,/^\r$/d' <&7 | tr -d '\r'
  exec 7<&- 7>&-
}

# wait_for SECONDS CMD...: retry CMD every 50 ms until it succeeds. SECONDS is what the
# condition normally needs; the ceiling is at least 20 s, since a loaded 2-core CI machine can
# stall a process for seconds and success returns at once anyway (speed is for make bench).
wait_for() {
  limit=$(( ($1 > 20 ? $1 : 20) * 20 )); shift
  for _ in $(seq "$limit"); do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.05
  done
  return 1
}

serves() { [ "$(get /version)" = "$1" ]; }
log_has() { grep -qF -- "$1" "$LOG"; }
# reply_starts PATH PREFIX: the body of GET PATH starts with PREFIX.
reply_starts() { case "$(get "$1")" in "$2"*) return 0 ;; *) return 1 ;; esac; }
# reply_is PATH TEXT: the body of GET PATH is exactly TEXT.
reply_is() { [ "$(get "$1")" = "$2" ]; }

# --- sanitizer builds (SANITIZE=address,undefined) -----------------------------------------
# A shim built with sanitizers names their runtimes in its dynamic section; ASan insists on
# coming first in the initial library list, so the tests put PRELOAD, not $SHIM, in
# LD_PRELOAD: those runtimes (by soname, found like any library) and then $SHIM. $SHIM itself
# stays one path. ASan writes its reports to files in $T_TMP; GCC's libubsan, loaded beside
# libasan, ignores log_path and writes to stderr, which these tests send to files in $T_TMP
# (server.out, tiny.err, ...). t_done fails the test when any file there holds a report.
# Leaks are not checked: a daemon killed with SIGTERM (or exiting with its plugins loaded)
# leaves everything allocated by design.
SAN_RT=$(readelf -d "$SHIM" 2>/dev/null |
  sed -n 's/.*(NEEDED).*\[\(lib[a-z]*san\.so[.0-9]*\)\].*/\1/p' | tr '\n' ':')
PRELOAD="$SAN_RT$SHIM"
if [ -n "$SAN_RT" ]; then
  SAN_LOG="$T_TMP/sanitizer"
  # detect_odr_violation=0: a reload maps a second copy of a library on purpose, and ASan
  # takes its exported variables (e.g. tests/shim/state's state_limit) for an ODR violation.
  export ASAN_OPTIONS="log_path=$SAN_LOG:detect_leaks=0:halt_on_error=1:detect_odr_violation=0"
  export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
  san_reports() {
    found=$(grep -rlIE 'ERROR: [A-Za-z]+Sanitizer|: runtime error: ' "$T_TMP" 2>/dev/null)
    if [ -n "$found" ]; then
      # shellcheck disable=SC2086 # one file name a line, none with spaces (mktemp)
      t_fail "no sanitizer report" "$(grep -hE -A 30 'ERROR: [A-Za-z]+Sanitizer|: runtime error: ' $found | head -n 60)"
    else
      t_ok "no sanitizer report"
    fi
  }
  T_DONE_HOOKS="${T_DONE_HOOKS:-} san_reports"
fi
# san_skip REASON: under a sanitizer build, say why this test cannot run there and end it
# with no check counted.
san_skip() {
  [ -n "$SAN_RT" ] || return 0
  echo "$(basename "$0"): skipped under ${SAN_RT%:}: $1" >&2
  T_DONE_HOOKS=""
  t_done
}
