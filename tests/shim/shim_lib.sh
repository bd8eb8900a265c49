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
    HOTSWAP_CONTROL=${CONTROL:-$T_TMP/ctl.sock} LD_LIBRARY_PATH="$APP" LD_PRELOAD="$SHIM" \
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
