#!/bin/sh
# Checks that the build dependencies of hotswap are present. As root, installs the
# missing Debian packages with apt-get; otherwise prints the exact command and fails.
set -u
missing=""
need_pc() { pkg-config --exists "$1" 2>/dev/null || missing="$missing $2"; }
need_cmd() { command -v "$1" >/dev/null 2>&1 || missing="$missing $2"; }
need_hdr() { [ -e "$1" ] || missing="$missing $2"; }

need_cmd pkg-config pkg-config
need_cmd cc gcc
need_pc libelf libelf-dev
need_pc libgit2 libgit2-dev
need_pc cmocka libcmocka-dev
need_pc libunwind libunwind-dev
need_cmd clang clang
need_cmd ld.lld lld
need_hdr /usr/include/x86_64-linux-gnu/gnu/stubs-32.h gcc-multilib
need_cmd python3 python3
[ -e /usr/lib/llvm-14/lib/clang/14.0.6/lib/linux/libclang_rt.fuzzer-x86_64.a ] ||
  [ -n "$(ls /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a 2>/dev/null)" ] ||
  missing="$missing libclang-rt-dev"

[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ]; then
  echo "hotswap: installing missing build dependencies:$missing" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y --no-install-recommends $missing >&2 ||
    { apt-get update >&2 && apt-get install -y --no-install-recommends $missing >&2; } || exit 1
  exit 0
fi
echo "hotswap: missing build dependencies. Install them with:" >&2
echo "  sudo apt-get install -y$missing" >&2
exit 1
