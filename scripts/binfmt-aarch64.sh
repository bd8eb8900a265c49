#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# scripts/binfmt-aarch64.sh BINARY: make sure this machine runs aarch64 ELF programs by
# name, through qemu-user and binfmt_misc, as `make check-aarch64`'s shim tests need (they
# start daemons, the CLI and helpers from bash; explicit `qemu-aarch64-static prog` would
# not reach the programs those start). BINARY: an aarch64 program to try. Registers
# qemu-user-static's entry (/usr/lib/binfmt.d/qemu-aarch64.conf) when it is missing and we
# are root; fails, saying why, when aarch64 programs still do not run.
set -u
bin=${1:?usage: scripts/binfmt-aarch64.sh AARCH64_BINARY}
runs() { "$bin" --version >/dev/null 2>&1; }
runs && exit 0
conf=/usr/lib/binfmt.d/qemu-aarch64.conf
bm=/proc/sys/fs/binfmt_misc
if [ "$(id -u)" = 0 ] && [ -r "$conf" ]; then
  [ -e "$bm/register" ] || mount -t binfmt_misc binfmt_misc "$bm" 2>/dev/null
  [ -e "$bm/qemu-aarch64" ] || grep -v '^#' "$conf" >"$bm/register" 2>/dev/null
  [ -e "$bm/qemu-aarch64" ] && echo 1 >"$bm/qemu-aarch64" 2>/dev/null
fi
runs && exit 0
echo "binfmt-aarch64: this machine cannot run aarch64 programs by name ($bin):" >&2
if [ ! -r "$conf" ]; then
  echo "  install qemu-user-static (scripts/deps.sh aarch64)" >&2
elif [ "$(id -u)" != 0 ]; then
  echo "  as root: grep -v '^#' $conf > $bm/register" >&2
else
  echo "  binfmt_misc cannot be registered here (a container without it?)" >&2
fi
exit 1
