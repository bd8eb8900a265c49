#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""mkseeds.py DIR - writes small hand-made ELF files into DIR as fuzzing seeds: headers
that are valid, truncated, or that point their program/section header tables, string
tables and dynamic sections past the end or at each other."""
import os
import struct
import sys


def ehdr64(etype=3, machine=62, phoff=0, phnum=0, shoff=0, shnum=0, shstrndx=0,
           data=1, cls=2):
    ident = b"\x7fELF" + bytes([cls, data, 1, 0]) + bytes(8)
    end = "<" if data == 1 else ">"
    return ident + struct.pack(end + "HHIQQQIHHHHHH", etype, machine, 1, 0, phoff, shoff,
                               0, 64, 56, phnum, 64, shnum, shstrndx)


def ehdr32(etype=3, machine=3):
    ident = b"\x7fELF" + bytes([1, 1, 1, 0]) + bytes(8)
    return ident + struct.pack("<HHIIIIIHHHHHH", etype, machine, 1, 0, 0, 0, 0, 52, 32,
                               0, 40, 0, 0)


def phdr64(ptype, flags, off, vaddr, filesz, memsz):
    return struct.pack("<IIQQQQQQ", ptype, flags, off, vaddr, vaddr, filesz, memsz, 8)


def shdr64(name, stype, flags, addr, off, size, link=0, info=0, align=1, entsize=0):
    return struct.pack("<IIQQQQIIQQ", name, stype, flags, addr, off, size, link, info, align,
                       entsize)


def seeds():
    yield "magic-only", b"\x7fELF"
    yield "ehdr64-dyn", ehdr64()
    yield "ehdr64-exec", ehdr64(etype=2)
    yield "ehdr64-bigendian", ehdr64(data=2)
    yield "ehdr32-i386", ehdr32()
    yield "ehdr64-aarch64", ehdr64(machine=183)
    yield "shoff-past-end", ehdr64(shoff=4096, shnum=5, shstrndx=4)
    yield "phoff-past-end", ehdr64(phoff=4096, phnum=3)
    # One PT_DYNAMIC whose contents lie past the end, and a PT_GNU_STACK with PF_X.
    ph = phdr64(2, 6, 1 << 20, 0, 4096, 4096) + phdr64(0x6474E551, 7, 0, 0, 0, 0)
    yield "dynamic-past-end", ehdr64(phoff=64, phnum=2) + ph
    # Section table: null, .shstrtab, a .dynsym whose size is not a multiple of its
    # entry size and whose string table link points at itself.
    strtab = b"\0.shstrtab\0.dynsym\0"
    base = 64 + 3 * 64
    sh = (shdr64(0, 0, 0, 0, 0, 0) + shdr64(1, 3, 0, 0, base, len(strtab)) +
          shdr64(11, 11, 2, 0, base, 37, link=2, info=1, align=8, entsize=24))
    yield "dynsym-bad-size", ehdr64(shoff=64, shnum=3, shstrndx=1) + sh + strtab
    yield "shstrndx-out-of-range", ehdr64(shoff=64, shnum=1, shstrndx=9) + shdr64(0, 0, 0, 0, 0, 0)
    # A .note section with an owner name "hotswap" and a descriptor size past the end.
    note = struct.pack("<III", 8, 0xFFFF, 0x48530001) + b"hotswap\0" + b"abi=1\0\0\0"
    nbase = 64 + 2 * 64
    sh = shdr64(0, 0, 0, 0, 0, 0) + shdr64(0, 7, 2, 0, nbase, len(note), align=4)
    yield "note-desc-past-end", ehdr64(shoff=64, shnum=2) + sh + note


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for name, data in seeds():
        with open(os.path.join(out, "hand-" + name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
