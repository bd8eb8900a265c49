#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# The CLI's own words: --version from the Makefile, `help [CMD]`, one-line usage errors with a
# pointer to the command's help, a value-less option named as such, and a pid that is not
# under the shim (with how to start it) or not there at all.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/cli_lib.sh"

want_version=$(sed -n 's/^VERSION := //p' Makefile)
hs --version
expect "--version prints the Makefile's VERSION" 0 "hotswap $want_version" ""
hs version
expect "version does too" 0 "hotswap $want_version" ""
hs inspect --json "$FX/normal.so"
t_check "inspect --json carries it as hotswap_version" \
  grep -qE "\"hotswap_version\": ?\"$want_version\"" "$OUT"

hs help
t_check "help: the command list on stdout, exit 0" \
  bash -c "[ $RC -eq 0 ] && grep -q '^  reload ' '$OUT' && [ ! -s '$ERR' ]"
for c in inspect check reload revert status build; do
  hs help "$c"
  expect_help "help $c is $c --help" "$c"
done
hs help bogus
expect "help of an unknown command" 2 "" "hotswap help: unknown command 'bogus'
see 'hotswap --help'"
hs bogus
expect "an unknown command: one line and a pointer" 2 "" "hotswap: unknown command 'bogus'
see 'hotswap --help'"
hs
expect "no command" 2 "" "hotswap: expected a command
see 'hotswap --help'"

for c in reload revert; do
  hs "$c" --timeout
  expect_usage_error "$c --timeout without a value" "$c" "hotswap $c: option '--timeout' requires a value"
  hs "$c" --timeout abc 1
  expect_usage_error "$c --timeout abc" "$c" "hotswap $c: --timeout wants seconds, got 'abc'"
  hs "$c" --bogus 1
  expect_usage_error "$c --bogus" "$c" "hotswap $c: unknown option '--bogus'"
  hs "$c"
  expect_usage_error "$c without a pid" "$c" "hotswap $c: expected one PID"
done
hs status -x 1
expect_usage_error "status -x" status "hotswap status: unknown option '-x'"
hs status 1 2
expect_usage_error "status with two pids" status "hotswap status: expected one PID"
hs status abc
expect_usage_error "status abc" status "hotswap status: 'abc' is not a process id"

# execd PID: it runs sleep now (its environment is the one it was exec'd with).
execd() { for _ in $(seq 400); do case "$(readlink "/proc/$1/exe")" in */sleep) return 0 ;; esac; sleep 0.05; done; return 1; }
# A process that is not under the shim: this shell's sleep.
sleep 60 &
SP=$!
t_reap "$SP"
execd "$SP"
hs status "$SP"
expect "a pid not under the shim says so and how to start it" 2 "" \
  "hotswap status: process $SP was not started under hotswap: no HOTSWAP_PLUGINS in its environment; start it as LD_PRELOAD=/path/to/libhotswap_preload.so HOTSWAP_PLUGINS=/path/to/plugin.so COMMAND"
HOTSWAP_PLUGINS=/nonexistent/libx.so sleep 60 &
SP2=$!
t_reap "$SP2"
t_check "(the second sleep has been exec'd)" execd "$SP2"
hs reload "$SP2"
expect "HOTSWAP_PLUGINS without the shim loaded says which is missing" 2 "" \
  "hotswap reload: process $SP2 has HOTSWAP_PLUGINS but libhotswap_preload.so is not loaded in it (LD_PRELOAD=(unset)); start it as LD_PRELOAD=/path/to/libhotswap_preload.so HOTSWAP_PLUGINS=/path/to/plugin.so COMMAND"
kill "$SP" "$SP2"
wait "$SP" "$SP2" 2>/dev/null
hs status "$SP"
expect "a pid that is gone" 2 "" "hotswap status: no process $SP"
t_done
