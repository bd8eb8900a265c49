#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""note.py - test helper: prints the hotswap version note of an ELF64 file, one key=value a
line, read straight from the section headers (independent of elf/). Exit 1 when absent."""
import struct
import sys

NT_VERSION = 0x48530001

def notes(data):
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3A)
    secs = [struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * shentsize) for i in range(shnum)]
    strtab = secs[shstrndx]
    for s in secs:
        name = data[strtab[4] + s[0]:].split(b"\0", 1)[0]
        if name != b".note.hotswap":
            continue
        off, end = s[4], s[4] + s[5]
        while off + 12 <= end:
            namesz, descsz, ntype = struct.unpack_from("<III", data, off)
            off += 12
            owner = data[off:off + namesz].rstrip(b"\0")
            off += (namesz + 3) & ~3
            desc = data[off:off + descsz]
            off += (descsz + 3) & ~3
            yield owner, ntype, desc

def main():
    data = open(sys.argv[1], "rb").read()
    for owner, ntype, desc in notes(data):
        if owner == b"hotswap" and ntype == NT_VERSION:
            for kv in desc.rstrip(b"\0").split(b"\0"):
                print(kv.decode())
            return 0
    print("no hotswap version note", file=sys.stderr)
    return 1

sys.exit(main())
