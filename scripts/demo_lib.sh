# SPDX-License-Identifier: BSD-3-Clause
# demo_lib.sh - what the demos (scripts/demo.sh, scripts/demo-crash.sh) share. Source it
# after setting LEG (the legacy server's build folder) and APP (the plugin folder); get()
# reads PORT.

# Bold headings only on a terminal, and never with NO_COLOR set (https://no-color.org).
if [ -t 1 ] && [ -z "${NO_COLOR:-}" ]; then B=$'\033[1m' N=$'\033[0m'; else B="" N=""; fi
say() { printf '\n%s== %s%s\n' "$B" "$*" "$N"; }
# install V: put build V of libhandler.so in place with an atomic rename, as a deploy would.
install() { cp "$LEG/v$1/libhandler.so" "$APP/.new" && mv -f "$APP/.new" "$APP/libhandler.so"; }
# get PATH: the body of GET PATH from the server (bash /dev/tcp, no client needed).
get() {
  exec 7<>"/dev/tcp/127.0.0.1/$PORT" || return 1
  printf 'GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' "$1" >&7
  sed '1,/^\r$/d' <&7 | tr -d '\r'
  exec 7<&- 7>&-
}
