/* SPDX-License-Identifier: BSD-3-Clause */
/* elf_check.c - may this build be loaded, and may it replace the running one? Turns what
 * elf_read.c found into one-line reasons (formats ELF_R_* in elf.h), plus the names used
 * when printing symbols, machines and versions.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "elf/elf_internal.h"

#if defined(__x86_64__)
#define HOST_MACHINE EM_X86_64
#elif defined(__aarch64__)
#define HOST_MACHINE EM_AARCH64
#elif defined(__i386__)
#define HOST_MACHINE EM_386
#else
#error "elf/: unknown host machine"
#endif
#define HOST_CLASS (sizeof(void *) == 8 ? ELFCLASS64 : ELFCLASS32)

const char *elf_sym_type_name(enum elf_sym_type t) {
  switch (t) {
  case ELF_SYM_FUNC:
    return "FUNC";
  case ELF_SYM_IFUNC:
    return "IFUNC";
  case ELF_SYM_OBJECT:
    return "OBJECT";
  case ELF_SYM_TLS:
    return "TLS";
  default:
    return "OTHER";
  }
}

const char *elf_machine_name(int machine) {
  switch (machine) {
  case EM_X86_64:
    return "x86-64";
  case EM_AARCH64:
    return "AArch64";
  case EM_386:
    return "i386";
  case EM_ARM:
    return "ARM";
  case EM_RISCV:
    return "RISC-V";
  case EM_PPC64:
    return "PowerPC64";
  case EM_PPC:
    return "PowerPC";
  case EM_S390:
    return "s390";
  case EM_MIPS:
    return "MIPS";
  case EM_SPARCV9:
    return "SPARC V9";
  case EM_LOONGARCH:
    return "LoongArch";
  default:
    return "unknown machine";
  }
}

void elf_reasons_free(struct elf_reasons *r) {
  if (r == NULL)
    return;
  for (size_t i = 0; i < r->n; i++)
    free(r->lines[i]);
  free(r->lines);
  r->lines = NULL;
  r->n = 0;
}

/* Collects reasons; rc becomes HOTSWAP_EINCOMPAT at the first one, -ENOMEM if any line
 * could not be stored. */
struct checker {
  struct elf_reasons *why;
  int rc;
};

static void add(struct checker *k, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add(struct checker *k, const char *fmt, ...) {
  if (k->rc == -ENOMEM)
    return;
  k->rc = HOTSWAP_EINCOMPAT;
  if (k->why == NULL)
    return;
  char *line = NULL;
  va_list ap;
  va_start(ap, fmt);
  int n = vasprintf(&line, fmt, ap);
  va_end(ap);
  char **lines = n >= 0 ? realloc(k->why->lines, (k->why->n + 1) * sizeof(*lines)) : NULL;
  if (lines == NULL) {
    free(n >= 0 ? line : NULL);
    k->rc = -ENOMEM;
    return;
  }
  lines[k->why->n++] = line;
  k->why->lines = lines;
}

/* "x86-64", or "machine 183" for one we have no name for. */
static const char *machine_desc(int machine, char *buf, size_t n) {
  const char *name = elf_machine_name(machine);
  if (strcmp(name, "unknown machine") != 0)
    return name;
  snprintf(buf, n, "machine %d", machine);
  return buf;
}

static const char *type_desc(int type, char *buf, size_t n) {
  static const char *const names[] = {"ET_NONE", "ET_REL", "ET_EXEC", "ET_DYN", "ET_CORE"};
  if (type >= 0 && type < 5)
    return names[type];
  snprintf(buf, n, "ELF type %d", type);
  return buf;
}

/* Checks of one build against a reference class and machine (the host's, or the running
 * build's). */
static void check_self(struct checker *k, const struct elf_info *in, int ref_class,
                       int ref_machine) {
  char b1[32], b2[32];
  if (in->elf_class != ref_class)
    add(k, ELF_R_CLASS, in->elf_class == ELFCLASS32 ? 32 : 64,
        in->elf_class == ELFCLASS32 ? "ELFCLASS32" : "ELFCLASS64",
        ref_class == ELFCLASS32 ? 32 : 64);
  if (in->machine != ref_machine)
    add(k, ELF_R_MACHINE, machine_desc(in->machine, b1, sizeof(b1)),
        machine_desc(ref_machine, b2, sizeof(b2)));
  if (in->type != ET_DYN)
    add(k, ELF_R_NOT_DYN, type_desc(in->type, b1, sizeof(b1)));
  if (in->note.present && in->note.abi != HOTSWAP_ABI_VERSION)
    add(k, ELF_R_ABI, in->note.abi, HOTSWAP_ABI_VERSION);
  if (in->execstack)
    add(k, in->no_gnu_stack ? ELF_R_NO_GNU_STACK : ELF_R_EXECSTACK);
  if (in->textrel)
    add(k, ELF_R_TEXTREL);
}

static bool is_func(enum elf_sym_type t) {
  return t == ELF_SYM_FUNC || t == ELF_SYM_IFUNC;
}

static const char *kind_desc(enum elf_sym_type t) {
  switch (t) {
  case ELF_SYM_OBJECT:
    return "a variable";
  case ELF_SYM_TLS:
    return "a thread-local variable";
  default:
    return "an untyped symbol";
  }
}

/* A lifecycle hook: the loader calls it only when a build defines it; never routed. */
static bool is_hook(const char *name) {
  for (int h = 0; h < ELF_HOOK_COUNT; h++)
    if (strcmp(name, elf_hook_name((enum elf_hook)(1u << h))) == 0)
      return true;
  return false;
}

/* Every function the running build exports must still be a function (lifecycle hooks may
 * come and go between builds). O(n log m). */
static void check_functions(struct checker *k, const struct elf_info *old,
                            const struct elf_info *new_) {
  for (size_t i = 0; i < old->n_exports; i++) {
    const struct elf_sym *o = &old->exports[i];
    if (!is_func(o->type) || !o->default_version || is_hook(o->name))
      continue;
    const struct elf_sym *n = elf_find_export(new_, o->name);
    if (n == NULL || !n->default_version)
      add(k, ELF_R_DROPS_FUNC, o->name);
    else if (!is_func(n->type))
      add(k, ELF_R_NOT_FUNC, o->name, kind_desc(n->type), elf_sym_type_name(n->type));
  }
}

static int cmp_type_name(const void *key, const void *elem) {
  return strcmp(key, ((const struct elf_live_type *)elem)->name);
}

/* Does the build define the live upgrade function "<type>_upgrade" (hotswap.h)? */
static bool has_upgrade(const struct elf_info *info, const char *type) {
  char name[512];
  if ((size_t)snprintf(name, sizeof(name), "%s_upgrade", type) >= sizeof(name))
    return false;
  const struct elf_sym *s = elf_find_export(info, name);
  return s != NULL && is_func(s->type);
}

/* A live type in both builds must keep its fingerprint, unless the new build declares an
 * upgrade for it (hotswap_live_data_restore calls it). */
static void check_live_types(struct checker *k, const struct elf_info *old,
                             const struct elf_info *new_) {
  for (size_t i = 0; i < old->n_live_types; i++) {
    const struct elf_live_type *o = &old->live_types[i];
    const struct elf_live_type *n =
        new_->n_live_types == 0 ? NULL
                                : bsearch(o->name, new_->live_types, new_->n_live_types,
                                          sizeof(*n), cmp_type_name);
    if (n != NULL && n->fingerprint != o->fingerprint && !has_upgrade(new_, n->name))
      add(k, ELF_R_LIVE_TYPE, o->name, (unsigned)o->size, (unsigned)n->size, o->fields,
          n->fields);
  }
}

int elf_check_compat(const struct elf_info *old, const struct elf_info *new_,
                     struct elf_reasons *why) {
  struct checker k = {why, 0};
  if (old == NULL || new_ == NULL)
    return -EINVAL;
  check_self(&k, new_, old->elf_class, old->machine);
  check_functions(&k, old, new_);
  check_live_types(&k, old, new_);
  return k.rc;
}

int elf_check_loadable(const struct elf_info *info, struct elf_reasons *why) {
  struct checker k = {why, 0};
  if (info == NULL)
    return -EINVAL;
  check_self(&k, info, HOST_CLASS, HOST_MACHINE);
  return k.rc;
}

static bool hex_prefix(const char *s, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (s[i] == '\0' || strchr("0123456789abcdefABCDEF", s[i]) == NULL)
      return false;
  return true;
}

void elf_short_version(const struct elf_info *info, char *buf, size_t n) {
  if (buf == NULL || n == 0)
    return;
  if (info == NULL) {
    buf[0] = '\0';
    return;
  }
  const char *commit = info->note.commit;
  if (info->note.present && commit != NULL && hex_prefix(commit, 7)) {
    snprintf(buf, n, "%.7s%s", commit, info->note.dirty ? "-dirty" : "");
  } else if (info->build_id_len > 0) {
    char hex[9] = "";
    size_t len = info->build_id_len < 4 ? info->build_id_len : 4;
    for (size_t i = 0; i < len; i++)
      snprintf(hex + 2 * i, sizeof(hex) - 2 * i, "%02x", info->build_id[i]);
    snprintf(buf, n, "%.7s", hex);
  } else {
    char hex[17];
    snprintf(hex, sizeof(hex), "%016llx", (unsigned long long)info->content_hash);
    snprintf(buf, n, "%.7s", hex);
  }
}

/* " (file.c)" after a static's name, "" for a global. */
static const char *file_suffix(const char *file, char *buf, size_t n) {
  if (file == NULL)
    return "";
  snprintf(buf, n, " (%s)", file);
  return buf;
}

int elf_state_diff(const struct elf_info *old, const struct elf_info *new_,
                   struct elf_reasons *why) {
  struct checker k = {.why = why};
  for (size_t i = 0; i < old->n_state && k.rc != -ENOMEM; i++) {
    const struct elf_state_obj *o = &old->state[i];
    if (o->tls)
      continue;
    const struct elf_state_obj *n = elf_find_state(new_, o->name, o->file);
    char fb[300];
    if (n == NULL || n->tls)
      add(&k, "state '%s'%s: dropped by the new build", o->name, file_suffix(o->file, fb, sizeof(fb)));
    else if (n->size != o->size)
      add(&k, "state '%s'%s: size %ju -> %ju", o->name, file_suffix(o->file, fb, sizeof(fb)),
          (uintmax_t)o->size, (uintmax_t)n->size);
  }
  return k.rc == -ENOMEM ? -ENOMEM : 0;
}
