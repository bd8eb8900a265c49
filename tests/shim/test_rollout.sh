#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# examples/rollout/rollout.yml against two local daemons (Ansible's local connection), one
# batch at a time: a good build reaches both; a build `hotswap check` refuses stops the
# rollout on the first host (the second is never touched, both keep serving); a build that
# reloads but fails the health check is reverted on the first host, and the rollout stops.
. "$(dirname "$0")/../lib.sh"
BUILD=$(cd "$BUILD" && pwd) # Ansible resolves relative paths from the playbook's folder
. "$(dirname "$0")/shim_lib.sh"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
command -v ansible-playbook >/dev/null || { t_fail "ansible-playbook is installed (make deps)"; t_done; }

declare -A PID_OF PORT_OF
for h in a b; do
  APP="$T_TMP/app-$h"
  mkdir -p "$APP" && chmod 755 "$APP"
  install_handler 1
  # A revert needs the previous version loaded: the grace period covers the health check.
  HOTSWAP_GRACE_MS=600000 CONTROL="@hotswap-rollout-$$-$h" HOTSWAP_LOG="$T_TMP/log-$h" start_server ||
    t_fail "server $h starts"
  PID_OF[$h]=$SPID PORT_OF[$h]=$PORT
done
inventory() { # EXPECT: the text the health check wants
  echo "[daemons]"
  for h in a b; do
    echo "host-$h ansible_connection=local ansible_python_interpreter=/usr/bin/python3" \
      "daemon_pid=${PID_OF[$h]} plugin_path=$T_TMP/app-$h/libhandler.so" \
      "health_url=http://127.0.0.1:${PORT_OF[$h]}/version health_expect=$1 hotswap_bin=$HS"
  done
}
version_of() { PORT=${PORT_OF[$1]} get /version; }
rollout() { # BUILD EXPECT LOG
  inventory "$2" >"$T_TMP/inventory.ini"
  ANSIBLE_NOCOLOR=1 ANSIBLE_LOCALHOST_WARNING=False ANSIBLE_INVENTORY_UNPARSED_WARNING=False \
    ansible-playbook -i "$T_TMP/inventory.ini" "$ROOT/examples/rollout/rollout.yml" \
    -e "new_build=$LEG/v$1/libhandler.so" >"$T_TMP/$3" 2>&1
}

rollout 2 v2 good.out
t_check "a good build: the rollout succeeds (exit $?)" grep -qE "host-b +: ok=[0-9]+ .*failed=0" "$T_TMP/good.out"
t_check "... host a serves v2" [ "$(version_of a)" = v2 ]
t_check "... host b serves v2" [ "$(version_of b)" = v2 ]

rollout 3 v3 refused.out
rc=$?
t_check "a build hotswap check refuses: the rollout fails (exit $rc)" [ "$rc" -ne 0 ]
t_check "... at the check on host a, naming the reason" \
  grep -qF "drops function 'handle_stats'" "$T_TMP/refused.out"
t_check "... host a still serves v2 (the staged build was never installed)" [ "$(version_of a)" = v2 ]
t_check "... host b was never touched" bash -c "! grep -q 'host-b' <(grep -E '^(changed|ok|fatal): ' '$T_TMP/refused.out')"
t_check "... and serves v2" [ "$(version_of b)" = v2 ]

rollout 1 v2 health.out
rc=$?
t_check "a build that fails the health check: the rollout fails (exit $rc)" [ "$rc" -ne 0 ]
t_check "... host a reloaded, then reverted" bash -c \
  "grep -qF 'health check failed after the reload; reverted' '$T_TMP/health.out' && grep -q 'revert ok' '$T_TMP/log-a'"
t_check "... host a serves v2 again" [ "$(version_of a)" = v2 ]
t_check "... host b was never touched, serves v2" [ "$(version_of b)" = v2 ]
t_check "... its log has no reload after the first rollout" [ "$(grep -c 'reload [0-9]* ok' "$T_TMP/log-b")" -eq 1 ]
for h in a b; do stop_server "${PID_OF[$h]}"; done
t_done
