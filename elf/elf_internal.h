/* SPDX-License-Identifier: BSD-3-Clause */
/* elf_internal.h - what the files of elf/ share privately: the parse context, the arena that
 * owns every string and array of an elf_info, and bounds-checked access to sections.
 * Nothing here is visible outside elf/.
 */
#ifndef HOTSWAP_ELF_INTERNAL_H
#define HOTSWAP_ELF_INTERNAL_H

#include <gelf.h>
#include <libelf.h>

#include "elf/elf.h"

/* A bump allocator: a list of chunks freed together by elf_info_free(). */
struct elf_arena {
  struct elf_arena *next;
  size_t used, cap;
  _Alignas(16) unsigned char data[];
};

/* One parse of one input. The buffer belongs to the parse and is freed when it ends; every
 * string that outlives it is copied into the arena. */
struct elf_ctx {
  const unsigned char *buf;
  size_t len;
  Elf *elf;
  int cls; /* ELFCLASS32 or ELFCLASS64 */
  bool msb;
  size_t shnum, phnum, shstrndx;
  struct elf_info *info;
  const char *live_prefix;
  size_t live_prefix_len;
  char *err; /* caller's reason buffer (ELF_ERR_MAX) or NULL */
  /* String tables copied into the arena, by section index (small cache). */
  struct {
    size_t idx;
    const char *data;
    size_t size;
  } strtabs[4];
  size_t n_strtabs;
};

/* Record the reason (first failure wins) and return code. */
int elf_fail(struct elf_ctx *c, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Arena allocation of n zeroed bytes, 16-aligned, owned by c->info. NULL when out of
 * memory (the caller reports -ENOMEM). */
void *elf_alloc(struct elf_ctx *c, size_t n);
/* Copy of n bytes plus a terminating NUL into the arena. */
char *elf_strndup(struct elf_ctx *c, const char *s, size_t n);

/* Name of section idx for messages: never NULL, "?" when it has none. */
const char *elf_sec_name(struct elf_ctx *c, size_t idx);

/* Header of section idx with its file range checked against the input (unless SHT_NOBITS).
 * Returns 0 or HOTSWAP_EBADELF with a reason naming the section. */
int elf_sec_hdr(struct elf_ctx *c, size_t idx, GElf_Shdr *sh);

/* Data of section idx through libelf (byte order converted), after elf_sec_hdr(). */
int elf_sec_data(struct elf_ctx *c, size_t idx, GElf_Shdr *sh, Elf_Data **out);

/* The string table in section idx (which must be SHT_STRTAB), copied into the arena; every
 * offset below *size names a NUL-terminated string. `user` names the section that links to
 * it, for the reason. */
int elf_strtab(struct elf_ctx *c, size_t idx, const char *user, const char **data,
               size_t *size);

/* Read a 32-bit word of the input's byte order at buf[off] (caller checked bounds). */
uint32_t elf_rd32(const struct elf_ctx *c, size_t off);

/* Parsers, one per concern; each returns 0 or a negative code with the reason set. */
int elf_parse_dynamic(struct elf_ctx *c); /* SONAME, NEEDED, TEXTREL, flags */
int elf_parse_symbols(struct elf_ctx *c); /* .dynsym + versions, hooks, live */
int elf_parse_notes(struct elf_ctx *c);   /* build-id, hotswap version note, live types */
int elf_parse_state(struct elf_ctx *c);   /* writable objects, address map, copy relocs */

#endif /* HOTSWAP_ELF_INTERNAL_H */
