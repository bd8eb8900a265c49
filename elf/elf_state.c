/* SPDX-License-Identifier: BSD-3-Clause */
/* elf_state.c - a build's writable state, as the reload's carry-over sees it: every object
 * in a writable, non-RELRO section (statics included when .symtab is there), an address map
 * of its functions and objects (to rebase a pointer from one build into another), its
 * read-only data sections (string literals), and an executable's copy relocations.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "elf/elf_internal.h"

#ifndef R_X86_64_COPY
#define R_X86_64_COPY 5
#endif
#ifndef R_AARCH64_COPY
#define R_AARCH64_COPY 1024
#endif
#ifndef R_386_COPY
#define R_386_COPY 5
#endif

/* Writable sections that hold the linker's or the runtime's bookkeeping, not state. */
static const char *const not_state_sections[] = {
    ".got", ".got.plt", ".dynamic", ".init_array", ".fini_array", ".preinit_array",
    ".tm_clone_table", ".ctors", ".dtors", "asan_globals", "__sancov_guards",
};

/* Objects crt files and sanitizers add: never the program's state. */
static bool bookkeeping_name(const char *name) {
  static const char *const names[] = {"__dso_handle", "__TMC_END__", "_GLOBAL_OFFSET_TABLE_",
                                      "_DYNAMIC", "completed.0", "completed.1", "dtor_idx.0",
                                      "__bss_start", "_edata", "_end"};
  for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
    if (strcmp(name, names[i]) == 0)
      return true;
  return strncmp(name, "__asan", 6) == 0 || strncmp(name, "___asan", 7) == 0 ||
         strncmp(name, "__ubsan", 7) == 0 || strncmp(name, "__sancov", 8) == 0 ||
         strncmp(name, "__odr_asan", 10) == 0;
}

/* What we know of each section: its name and whether it holds state or read-only data. */
enum sec_kind { SEC_OTHER, SEC_STATE, SEC_TLS, SEC_RO };

struct secinfo {
  const char *name;
  enum sec_kind kind;
  bool nobits;
  uint64_t addr, size;
};

struct statectx {
  struct elf_ctx *c;
  struct secinfo *secs; /* by section index, malloc'd */
  uint64_t relro_lo, relro_hi;
};

static enum sec_kind classify(const struct statectx *s, const GElf_Shdr *sh, const char *name) {
  if (!(sh->sh_flags & SHF_ALLOC) || sh->sh_size == 0)
    return SEC_OTHER;
  if (sh->sh_flags & SHF_EXECINSTR)
    return SEC_OTHER;
  if (!(sh->sh_flags & SHF_WRITE))
    return sh->sh_type == SHT_PROGBITS ? SEC_RO : SEC_OTHER;
  if (sh->sh_flags & SHF_TLS)
    return SEC_TLS;
  if (sh->sh_type != SHT_PROGBITS && sh->sh_type != SHT_NOBITS)
    return SEC_OTHER;
  for (size_t i = 0; i < sizeof(not_state_sections) / sizeof(not_state_sections[0]); i++)
    if (strcmp(name, not_state_sections[i]) == 0)
      return SEC_OTHER;
  /* RELRO (.data.rel.ro and the like) is read-only once relocated. */
  if (sh->sh_addr >= s->relro_lo && sh->sh_addr + sh->sh_size <= s->relro_hi)
    return SEC_OTHER;
  return SEC_STATE;
}

static int read_sections(struct statectx *s) {
  struct elf_ctx *c = s->c;
  for (size_t i = 0; i < c->phnum; i++) {
    GElf_Phdr ph;
    if (gelf_getphdr(c->elf, (int)i, &ph) != NULL && ph.p_type == PT_GNU_RELRO) {
      s->relro_lo = ph.p_vaddr;
      s->relro_hi = ph.p_vaddr + ph.p_memsz;
    }
  }
  s->secs = calloc(c->shnum + 1, sizeof(*s->secs));
  if (s->secs == NULL)
    return elf_fail(c, -ENOMEM, "out of memory");
  size_t n_ro = 0;
  for (size_t i = 1; i < c->shnum; i++) {
    GElf_Shdr sh;
    Elf_Scn *scn = elf_getscn(c->elf, i);
    if (scn == NULL || gelf_getshdr(scn, &sh) == NULL)
      continue;
    const char *name = elf_sec_name(c, i); /* points into the input, freed after the parse */
    s->secs[i].kind = classify(s, &sh, name);
    s->secs[i].name = s->secs[i].kind == SEC_STATE || s->secs[i].kind == SEC_TLS
                          ? elf_strndup(c, name, strlen(name))
                          : NULL;
    if (s->secs[i].kind != SEC_OTHER && s->secs[i].kind != SEC_RO && s->secs[i].name == NULL)
      return elf_fail(c, -ENOMEM, "out of memory");
    s->secs[i].nobits = sh.sh_type == SHT_NOBITS;
    s->secs[i].addr = sh.sh_addr;
    s->secs[i].size = sh.sh_size;
    n_ro += s->secs[i].kind == SEC_RO;
  }
  c->info->ro = elf_alloc(c, (n_ro + 1) * sizeof(*c->info->ro));
  if (c->info->ro == NULL)
    return elf_fail(c, -ENOMEM, "out of memory");
  for (size_t i = 1; i < c->shnum; i++)
    if (s->secs[i].kind == SEC_RO)
      c->info->ro[c->info->n_ro++] =
          (struct elf_range){s->secs[i].addr, s->secs[i].addr + s->secs[i].size};
  return 0;
}

/* ---- what a program can point into (retirement's scan) ---------------------------------
 * Code, read-only data and data: the allocated PROGBITS and NOBITS sections, but the
 * runtime's own tables, which only ld.so, the unwinders and the crt point into (link_map,
 * _dl_find_object, libgcc's frame cache): .eh_frame(_hdr), .gcc_except_table, .got(.plt),
 * .interp, .tm_clone_table, TLS images. Other kinds (.dynamic, .dynsym, .dynstr, hash and
 * version tables, relocations, init/fini arrays, notes) are not PROGBITS. Sections closer
 * than TARGET_GAP bytes merge into one range; a segment boundary (page-aligned) never does. */
#define TARGET_GAP 64
static const char *const runtime_sections[] = {
    ".eh_frame", ".eh_frame_hdr", ".gcc_except_table", ".got", ".got.plt", ".interp",
    ".tm_clone_table",
};

static bool is_target(const GElf_Shdr *sh, const char *name) {
  if (!(sh->sh_flags & SHF_ALLOC) || (sh->sh_flags & SHF_TLS) || sh->sh_size == 0 ||
      (sh->sh_type != SHT_PROGBITS && sh->sh_type != SHT_NOBITS))
    return false;
  for (size_t i = 0; i < sizeof(runtime_sections) / sizeof(runtime_sections[0]); i++)
    if (strcmp(name, runtime_sections[i]) == 0)
      return false;
  return true;
}

static int read_targets(struct elf_ctx *c) {
  struct elf_range *r = elf_alloc(c, (c->shnum + 1) * sizeof(*r));
  bool *code = elf_alloc(c, (c->shnum + 1) * sizeof(*code));
  if (r == NULL || code == NULL)
    return elf_fail(c, -ENOMEM, "out of memory");
  size_t n = 0;
  for (size_t i = 1; i < c->shnum; i++) {
    GElf_Shdr sh;
    Elf_Scn *scn = elf_getscn(c->elf, i);
    if (scn != NULL && gelf_getshdr(scn, &sh) != NULL && is_target(&sh, elf_sec_name(c, i))) {
      r[n++] = (struct elf_range){sh.sh_addr, sh.sh_addr + sh.sh_size};
      code[n - 1] = (sh.sh_flags & SHF_EXECINSTR) != 0;
    }
  }
  /* Sort both by start (an insertion sort: a file has few sections, mostly in order). */
  for (size_t i = 1; i < n; i++)
    for (size_t j = i; j > 0 && r[j].start < r[j - 1].start; j--) {
      struct elf_range t = r[j];
      r[j] = r[j - 1];
      r[j - 1] = t;
      bool b = code[j];
      code[j] = code[j - 1];
      code[j - 1] = b;
    }
  /* Neighbours in one page merge, code with code and data with data only: where .rodata
   * shares the text segment (no -z separate-code, the aarch64 default) it stays data. */
  size_t m = 0;
  for (size_t i = 0; i < n; i++) {
    bool near = m > 0 && code[i] == code[m - 1] && r[i].start <= r[m - 1].end + TARGET_GAP &&
                (r[i].start & ~(uint64_t)4095) == (r[m - 1].end & ~(uint64_t)4095);
    if (near && r[i].end > r[m - 1].end)
      r[m - 1].end = r[i].end;
    else if (!near) {
      code[m] = code[i];
      r[m++] = r[i];
    }
  }
  c->info->targets = r;
  c->info->target_code = code;
  c->info->n_targets = m;
  return 0;
}

/* ---- symbols ------------------------------------------------------------------------ */

static int cmp_str(const char *a, const char *b) {
  if (a == NULL || b == NULL)
    return (a != NULL) - (b != NULL);
  return strcmp(a, b);
}

static int cmp_state(const void *x, const void *y) {
  const struct elf_state_obj *a = x, *b = y;
  int r = strcmp(a->name, b->name);
  return r != 0 ? r : cmp_str(a->file, b->file);
}

static int cmp_addr(const void *x, const void *y) {
  const struct elf_addr_sym *a = x, *b = y;
  if (a->value != b->value)
    return a->value < b->value ? -1 : 1;
  if (a->size != b->size)
    return a->size > b->size ? -1 : 1; /* the widest first at one address */
  return strcmp(a->name, b->name);
}

static int cmp_by_name(const void *x, const void *y) {
  const struct elf_addr_sym *a = *(const struct elf_addr_sym *const *)x;
  const struct elf_addr_sym *b = *(const struct elf_addr_sym *const *)y;
  int r = strcmp(a->name, b->name);
  if (r == 0)
    r = cmp_str(a->file, b->file);
  return r != 0 ? r : (int)a->func - (int)b->func;
}

struct symtab {
  Elf_Data *d;
  const char *str;
  size_t strsz, n;
  bool dynamic;
};

static int open_symtab(struct statectx *s, struct symtab *t) {
  struct elf_ctx *c = s->c;
  size_t sec = 0;
  for (int pass = 0; pass < 2 && sec == 0; pass++)
    for (size_t i = 1; i < c->shnum && sec == 0; i++) {
      GElf_Shdr sh;
      Elf_Scn *scn = elf_getscn(c->elf, i);
      if (scn != NULL && gelf_getshdr(scn, &sh) != NULL &&
          sh.sh_type == (pass == 0 ? SHT_SYMTAB : SHT_DYNSYM))
        sec = i, t->dynamic = pass == 1;
    }
  if (sec == 0)
    return 0;
  GElf_Shdr sh;
  size_t ent = gelf_fsize(c->elf, ELF_T_SYM, 1, EV_CURRENT);
  int rc = elf_sec_hdr(c, sec, &sh);
  if (rc == 0 && sh.sh_entsize != ent)
    return elf_fail(c, HOTSWAP_EBADELF, "'%s' has entries of %ju bytes, expected %zu",
                    elf_sec_name(c, sec), (uintmax_t)sh.sh_entsize, ent);
  if (rc == 0)
    rc = elf_sec_data(c, sec, &sh, &t->d);
  if (rc == 0)
    rc = elf_strtab(c, sh.sh_link, elf_sec_name(c, sec), &t->str, &t->strsz);
  if (rc == 0) {
    t->n = t->d->d_size / ent;
    c->info->state_symtab = t->dynamic ? ".dynsym" : ".symtab";
  }
  return rc;
}

/* Record one symbol: a state object and/or an address-map entry. */
static int add_symbol(struct statectx *s, const GElf_Sym *sym, const char *name,
                      const char *file, size_t *ns, size_t *na) {
  struct elf_info *info = s->c->info;
  unsigned type = GELF_ST_TYPE(sym->st_info), bind = GELF_ST_BIND(sym->st_info);
  if (sym->st_shndx == SHN_UNDEF || sym->st_shndx >= s->c->shnum || name[0] == '\0')
    return 0;
  const char *f = bind == STB_LOCAL ? file : NULL;
  if ((type == STT_FUNC || type == STT_OBJECT) && sym->st_size > 0)
    info->addr_syms[(*na)++] = (struct elf_addr_sym){
        .name = name, .file = f, .value = sym->st_value, .size = sym->st_size,
        .func = type == STT_FUNC};
  const struct secinfo *sec = &s->secs[sym->st_shndx];
  bool tls = type == STT_TLS && sec->kind == SEC_TLS;
  if (!tls && (type != STT_OBJECT || sec->kind != SEC_STATE))
    return 0;
  if (sym->st_size == 0 || bookkeeping_name(name))
    return 0;
  unsigned vis = GELF_ST_VISIBILITY(sym->st_other);
  info->state[(*ns)++] = (struct elf_state_obj){
      .name = name, .file = f, .section = sec->name, .value = sym->st_value,
      .size = sym->st_size, .bind = (unsigned char)bind, .tls = tls, .nobits = sec->nobits,
      .exported = bind != STB_LOCAL && (vis == STV_DEFAULT || vis == STV_PROTECTED)};
  return 0;
}

static int read_state_symbols(struct statectx *s, const struct symtab *t) {
  struct elf_ctx *c = s->c;
  struct elf_info *info = c->info;
  info->state = elf_alloc(c, (t->n + 1) * sizeof(*info->state));
  info->addr_syms = elf_alloc(c, (t->n + 1) * sizeof(*info->addr_syms));
  if (info->state == NULL || info->addr_syms == NULL)
    return elf_fail(c, -ENOMEM, "out of memory");
  const char *file = NULL;
  size_t ns = 0, na = 0;
  for (size_t i = 1; i < t->n; i++) {
    GElf_Sym sym;
    if (gelf_getsym(t->d, (int)i, &sym) == NULL)
      return elf_fail(c, HOTSWAP_EBADELF, "cannot read symbol %zu: %s", i, elf_errmsg(-1));
    if (sym.st_name >= t->strsz)
      return elf_fail(c, HOTSWAP_EBADELF,
                      "symbol %zu has a name offset %u past the end of its string table",
                      i, (unsigned)sym.st_name);
    const char *name = t->str + sym.st_name;
    if (GELF_ST_TYPE(sym.st_info) == STT_FILE) {
      file = name[0] != '\0' ? name : NULL;
      continue;
    }
    int rc = add_symbol(s, &sym, name, file, &ns, &na);
    if (rc != 0)
      return rc;
  }
  info->n_state = ns;
  info->n_addr_syms = na;
  qsort(info->state, ns, sizeof(*info->state), cmp_state);
  qsort(info->addr_syms, na, sizeof(*info->addr_syms), cmp_addr);
  info->syms_by_name = elf_alloc(c, (na + 1) * sizeof(*info->syms_by_name));
  if (info->syms_by_name == NULL)
    return elf_fail(c, -ENOMEM, "out of memory");
  for (size_t i = 0; i < na; i++)
    info->syms_by_name[i] = &info->addr_syms[i];
  qsort(info->syms_by_name, na, sizeof(*info->syms_by_name), cmp_by_name);
  return 0;
}

/* ---- copy relocations --------------------------------------------------------------- */

static unsigned copy_type(int machine) {
  switch (machine) {
  case EM_X86_64: return R_X86_64_COPY;
  case EM_AARCH64: return R_AARCH64_COPY;
  case EM_386: return R_386_COPY;
  default: return 0;
  }
}

static int cmp_copy(const void *x, const void *y) {
  return strcmp(((const struct elf_copy_reloc *)x)->name,
                ((const struct elf_copy_reloc *)y)->name);
}

/* Copy relocations of one SHT_RELA/SHT_REL section linked to the dynamic symbol table. */
static int read_copies_in(struct elf_ctx *c, size_t sec, const GElf_Shdr *sh, unsigned want) {
  Elf_Data *d, *symd;
  GElf_Shdr symsh, h = *sh;
  const char *str;
  size_t strsz;
  int rc = elf_sec_data(c, sec, &h, &d);
  if (rc == 0 && (sh->sh_link == 0 || sh->sh_link >= c->shnum))
    return 0;
  if (rc == 0)
    rc = elf_sec_hdr(c, sh->sh_link, &symsh);
  if (rc != 0 || symsh.sh_type != SHT_DYNSYM)
    return rc;
  rc = elf_sec_data(c, sh->sh_link, &symsh, &symd);
  if (rc == 0)
    rc = elf_strtab(c, symsh.sh_link, elf_sec_name(c, sh->sh_link), &str, &strsz);
  if (rc != 0)
    return rc;
  bool rela = sh->sh_type == SHT_RELA;
  size_t ent = gelf_fsize(c->elf, rela ? ELF_T_RELA : ELF_T_REL, 1, EV_CURRENT);
  size_t n = ent != 0 ? d->d_size / ent : 0;
  struct elf_info *info = c->info;
  for (size_t i = 0; i < n; i++) {
    GElf_Rela r;
    GElf_Rel rl;
    if (rela ? gelf_getrela(d, (int)i, &r) == NULL : gelf_getrel(d, (int)i, &rl) == NULL)
      break;
    if (!rela)
      r.r_offset = rl.r_offset, r.r_info = rl.r_info;
    GElf_Sym sym;
    if (GELF_R_TYPE(r.r_info) != want ||
        gelf_getsym(symd, (int)GELF_R_SYM(r.r_info), &sym) == NULL || sym.st_name >= strsz)
      continue;
    struct elf_copy_reloc *grown =
        elf_alloc(c, (info->n_copies + 1) * sizeof(*info->copies));
    if (grown == NULL)
      return elf_fail(c, -ENOMEM, "out of memory");
    if (info->n_copies > 0)
      memcpy(grown, info->copies, info->n_copies * sizeof(*grown));
    grown[info->n_copies++] = (struct elf_copy_reloc){
        .name = str + sym.st_name, .value = r.r_offset, .size = sym.st_size};
    info->copies = grown;
  }
  return 0;
}

static int read_copies(struct elf_ctx *c) {
  unsigned want = copy_type(c->info->machine);
  if (want == 0 || c->info->type == ET_REL)
    return 0;
  for (size_t i = 1; i < c->shnum; i++) {
    GElf_Shdr sh;
    Elf_Scn *scn = elf_getscn(c->elf, i);
    if (scn == NULL || gelf_getshdr(scn, &sh) == NULL ||
        (sh.sh_type != SHT_RELA && sh.sh_type != SHT_REL) || !(sh.sh_flags & SHF_ALLOC))
      continue;
    int rc = elf_sec_hdr(c, i, &sh);
    if (rc == 0)
      rc = read_copies_in(c, i, &sh, want);
    if (rc != 0)
      return rc;
  }
  if (c->info->n_copies > 1)
    qsort(c->info->copies, c->info->n_copies, sizeof(*c->info->copies), cmp_copy);
  return 0;
}

int elf_parse_state(struct elf_ctx *c) {
  if (c->shnum == 0)
    return 0;
  struct statectx s = {.c = c};
  struct symtab t = {0};
  int rc = read_sections(&s);
  if (rc == 0)
    rc = read_targets(c);
  if (rc == 0)
    rc = open_symtab(&s, &t);
  if (rc == 0 && t.n > 0)
    rc = read_state_symbols(&s, &t);
  if (rc == 0)
    rc = read_copies(c);
  free(s.secs);
  return rc;
}

/* ---- lookups ------------------------------------------------------------------------- */

const struct elf_state_obj *elf_find_state(const struct elf_info *info, const char *name,
                                           const char *file) {
  if (info == NULL || name == NULL)
    return NULL;
  struct elf_state_obj key = {.name = name, .file = file};
  return bsearch(&key, info->state, info->n_state, sizeof(key), cmp_state);
}

const struct elf_addr_sym *elf_sym_at(const struct elf_info *info, uint64_t vaddr) {
  if (info == NULL)
    return NULL;
  /* Last symbol starting at or below vaddr, then back over overlapping ones. */
  size_t lo = 0, hi = info->n_addr_syms;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (info->addr_syms[mid].value <= vaddr)
      lo = mid + 1;
    else
      hi = mid;
  }
  for (size_t k = lo; k-- > 0 && lo - k <= 8;) {
    const struct elf_addr_sym *a = &info->addr_syms[k];
    if (vaddr < a->value + a->size)
      return a;
  }
  return NULL;
}

const struct elf_addr_sym *elf_find_sym(const struct elf_info *info, const char *name,
                                        const char *file, bool func) {
  if (info == NULL || name == NULL)
    return NULL;
  struct elf_addr_sym k = {.name = name, .file = file, .func = func};
  const struct elf_addr_sym *key = &k;
  const struct elf_addr_sym **hit =
      bsearch(&key, info->syms_by_name, info->n_addr_syms, sizeof(key), cmp_by_name);
  return hit != NULL ? *hit : NULL;
}

const struct elf_copy_reloc *elf_find_copy(const struct elf_info *info, const char *name) {
  if (info == NULL || name == NULL || info->n_copies == 0)
    return NULL;
  struct elf_copy_reloc key = {.name = name};
  return bsearch(&key, info->copies, info->n_copies, sizeof(key), cmp_copy);
}
