# SPDX-License-Identifier: BSD-3-Clause
# bash completion for hotswap(1): commands, each command's flags, plugin files, and the pids
# of daemons under the shim (those that listen on "@hotswap/<pid>", from /proc/net/unix,
# which every user may read). Install as /usr/share/bash-completion/completions/hotswap.

# The pids of processes serving the default control socket.
_hotswap_pids() {
  sed -n 's|.* @hotswap/\([0-9][0-9]*\)$|\1|p' /proc/net/unix 2>/dev/null | sort -un
}

_hotswap() {
  local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}
  local commands="inspect check reload revert status build help"
  if [ "$COMP_CWORD" -eq 1 ]; then
    mapfile -t COMPREPLY < <(compgen -W "$commands --help --version" -- "$cur")
    return
  fi
  local cmd=${COMP_WORDS[1]} flags=""
  case $cmd in
    help) [ "$COMP_CWORD" -eq 2 ] && mapfile -t COMPREPLY < <(compgen -W "$commands" -- "$cur"); return ;;
    reload | revert) flags="--timeout --json --help" ;;
    status) flags="--json --help" ;;
    inspect) flags="--json --verbose --host --help" ;;
    check) flags="--json --host --help" ;;
    build) flags="--verbose --debug --include --exclude --prefix-live --static-linking
                  --leave-temps --no-compile --include-dir --help" ;;
  esac
  case $prev in
    --timeout | --include | --exclude | --prefix-live) return ;; # a number, a regex, a prefix
    --host) mapfile -t COMPREPLY < <(compgen -f -- "$cur"); return ;;
    --include-dir) mapfile -t COMPREPLY < <(compgen -d -- "$cur"); return ;;
  esac
  if [[ $cur == -* ]]; then
    mapfile -t COMPREPLY < <(compgen -W "$flags" -- "$cur")
    return
  fi
  case $cmd in
    reload | revert | status) mapfile -t COMPREPLY < <(compgen -W "$(_hotswap_pids)" -- "$cur") ;;
    inspect | check) mapfile -t COMPREPLY < <(compgen -f -X '!*.so*' -- "$cur"; compgen -d -- "$cur") ;;
    build) mapfile -t COMPREPLY < <(compgen -d -- "$cur") ;;
  esac
}
complete -F _hotswap hotswap
