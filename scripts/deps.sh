#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# scripts/deps.sh [--install] [PROFILE]: check that the Debian packages hotswap needs for
# PROFILE are present. Installs what is missing with --install (`make deps`, CI), after a yes
# on a terminal, or as root with no terminal (a fresh container; HOTSWAP_NO_INSTALL=1 stops
# that); otherwise prints the exact apt-get line and fails.
#   build  `make`: the shim, the CLI, the examples (gcc, pkg-config, libelf, libgit2,
#          libunwind)
#   unit   `make unit`: build + cmocka, python3, and the compilers of the ELF fixtures of
#          another class and machine (gcc-multilib for -m32, clang and lld for aarch64)
#   check  `make check`, `make bench`: unit + mandoc (the man pages' lint), ansible-core
#          (the rollout example's test)
#   fuzz   `make fuzz`: check + libFuzzer's runtime
#   all    everything above (the default; what CI installs)
#   aarch64  `make check-aarch64`: the cross compiler, Debian's arm64 libraries (multiarch:
#          adds the arm64 architecture to dpkg) and qemu-user-static
set -u
install=false
if [ "${1:-}" = --install ]; then
  install=true
  shift
fi
profile=${1:-all}
case "$profile" in build | unit | check | fuzz | all | aarch64) ;; *)
  echo "usage: scripts/deps.sh [--install] [build|unit|check|fuzz|all|aarch64]" >&2
  exit 2 ;;
esac
missing=""
need_pc() { pkg-config --exists "$1" 2>/dev/null || missing="$missing $2"; }
need_cmd() { command -v "$1" >/dev/null 2>&1 || missing="$missing $2"; }
need_hdr() { [ -e "$1" ] || missing="$missing $2"; }

if [ "$profile" = aarch64 ]; then
  a=/usr/lib/aarch64-linux-gnu
  need_cmd aarch64-linux-gnu-gcc gcc-aarch64-linux-gnu
  need_cmd qemu-aarch64-static qemu-user-static
  need_hdr $a/pkgconfig/libelf.pc libelf-dev:arm64
  need_hdr $a/pkgconfig/cmocka.pc libcmocka-dev:arm64
  need_hdr $a/pkgconfig/libunwind.pc libunwind-dev:arm64
  # libgit2-dev is not co-installable for two architectures: the runtime library only.
  [ -n "$(ls $a/libgit2.so.* 2>/dev/null)" ] || missing="$missing libgit2-1.5:arm64"
fi
need_cmd pkg-config pkg-config
need_cmd cc gcc
need_pc libelf libelf-dev
need_pc libgit2 libgit2-dev
need_pc libunwind libunwind-dev
if [ "$profile" != build ]; then
  need_pc cmocka libcmocka-dev
  need_cmd python3 python3
  need_hdr /usr/include/x86_64-linux-gnu/gnu/stubs-32.h gcc-multilib
  need_cmd clang clang
  need_cmd ld.lld lld
fi
if [ "$profile" != build ] && [ "$profile" != unit ] && [ "$profile" != aarch64 ]; then
  need_cmd mandoc mandoc
  need_cmd ansible-playbook ansible-core
fi
if [ "$profile" = fuzz ] || [ "$profile" = all ]; then
  [ -n "$(ls /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a 2>/dev/null)" ] ||
    missing="$missing libclang-rt-dev"
fi
missing=$(printf '%s\n' $missing | sort -u | tr '\n' ' ' | sed 's/^ *//; s/ *$//')

[ -z "$missing" ] && exit 0
line="apt-get install -y --no-install-recommends $missing"
if ! $install && [ -t 0 ] && [ -t 2 ]; then
  # On a terminal: ask (make demo and make check on a fresh machine, by hand).
  printf 'hotswap: missing build dependencies for %s. Run now:\n  %s%s\n[Y/n] ' \
    "$profile" "$([ "$(id -u)" = 0 ] || echo 'sudo ')" "$line" >&2
  read -r answer </dev/tty || answer=n
  case "$answer" in '' | [yY]*) install=true ;; esac
fi
# Not on a terminal, as root (a fresh container, CI): install, as DESIGN.md promises that
# `make demo` and `make check` set a fresh Debian machine up.
if ! $install && ! [ -t 0 ] && [ "$(id -u)" = 0 ] && [ "${HOTSWAP_NO_INSTALL:-}" != 1 ]; then
  install=true
fi
if ! $install; then
  echo "hotswap: missing build dependencies for '$profile'. Install them with:" >&2
  echo "  sudo $line" >&2
  echo "(or run 'make deps', which runs that line)" >&2
  exit 1
fi
echo "hotswap: installing: $line" >&2
case "$missing" in *:arm64*)
  # Debian multiarch: dpkg must know the architecture, and apt its package lists.
  if ! dpkg --print-foreign-architectures | grep -qx arm64; then
    $([ "$(id -u)" = 0 ] || echo sudo) dpkg --add-architecture arm64 || exit 1
    $([ "$(id -u)" = 0 ] || echo sudo) apt-get update >&2 || exit 1
  fi ;;
esac
if [ "$(id -u)" = 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  $line >&2 || { apt-get update >&2 && $line >&2; } || exit 1
else
  sudo $line >&2 || { sudo apt-get update >&2 && sudo $line >&2; } || exit 1
fi
