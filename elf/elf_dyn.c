/* SPDX-License-Identifier: BSD-3-Clause */
/* elf_dyn.c - what the dynamic linker sees of a plugin: the dynamic section (SONAME,
 * DT_NEEDED, TEXTREL, NODELETE) and the dynamic symbol table with its symbol versions,
 * sorted once so that lookups and comparisons stay O(n log n).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "elf/elf_internal.h"

static const char *const hook_names[ELF_HOOK_COUNT] = {
    "hotswap_reloadable", "hotswap_export",  "hotswap_import",      "hotswap_on_load",
    "hotswap_on_init",    "hotswap_on_free", "hotswap_invoke_func",
    "hotswap_on_transfer",
};

const char *elf_hook_name(enum elf_hook h) {
  for (int i = 0; i < ELF_HOOK_COUNT; i++)
    if ((unsigned)h == 1u << i)
      return hook_names[i];
  return "?";
}

/* First section of the given type, 0 when none. */
static size_t find_section(struct elf_ctx *c, GElf_Word type) {
  for (size_t i = 1; i < c->shnum; i++) {
    GElf_Shdr sh;
    Elf_Scn *scn = elf_getscn(c->elf, i);
    if (scn != NULL && gelf_getshdr(scn, &sh) != NULL && sh.sh_type == type)
      return i;
  }
  return 0;
}

/* ---- dynamic section ---------------------------------------------------------------- */

/* The dynamic entries and the string table their names point into. */
struct dynsrc {
  Elf_Data *d;
  const char *str;
  size_t strsz;
};

static int dyn_string(struct elf_ctx *c, const struct dynsrc *src, GElf_Xword off,
                      const char *what, const char **out) {
  if (off >= src->strsz)
    return elf_fail(c, HOTSWAP_EBADELF,
                    "%s string offset %ju is past the end of the dynamic string table (%zu "
                    "bytes)",
                    what, (uintmax_t)off, src->strsz);
  *out = src->str + off;
  return 0;
}

/* File offset of [vaddr, vaddr+size) through the PT_LOAD segments; -1 when not mapped. */
static int vaddr_to_off(struct elf_ctx *c, uint64_t vaddr, uint64_t size, size_t *off) {
  for (size_t i = 0; i < c->phnum; i++) {
    GElf_Phdr ph;
    if (gelf_getphdr(c->elf, (int)i, &ph) == NULL || ph.p_type != PT_LOAD ||
        vaddr < ph.p_vaddr || vaddr - ph.p_vaddr > ph.p_filesz ||
        size > ph.p_filesz - (vaddr - ph.p_vaddr))
      continue;
    uint64_t o = ph.p_offset + (vaddr - ph.p_vaddr);
    if (o < ph.p_offset || o > c->len || size > c->len - o)
      return -1;
    *off = (size_t)o;
    return 0;
  }
  return -1;
}

/* PT_DYNAMIC, what the dynamic linker reads: 1 when found, 0 when the file has none. */
static int dyn_from_segment(struct elf_ctx *c, struct dynsrc *src) {
  GElf_Phdr ph;
  size_t i = 0;
  for (; i < c->phnum; i++)
    if (gelf_getphdr(c->elf, (int)i, &ph) != NULL && ph.p_type == PT_DYNAMIC)
      break;
  if (i == c->phnum)
    return 0;
  if (ph.p_offset > c->len || ph.p_filesz > c->len - ph.p_offset)
    return elf_fail(c, HOTSWAP_EBADELF,
                    "PT_DYNAMIC (offset %ju, size %ju) extends past the end of the file (%zu "
                    "bytes)",
                    (uintmax_t)ph.p_offset, (uintmax_t)ph.p_filesz, c->len);
  src->d = elf_getdata_rawchunk(c->elf, (int64_t)ph.p_offset, ph.p_filesz, ELF_T_DYN);
  if (src->d == NULL)
    return elf_fail(c, HOTSWAP_EBADELF, "cannot read PT_DYNAMIC: %s", elf_errmsg(-1));
  uint64_t strtab = 0, strsz = 0;
  size_t n = src->d->d_size / gelf_fsize(c->elf, ELF_T_DYN, 1, EV_CURRENT), off = 0;
  GElf_Dyn dyn;
  for (size_t k = 0; k < n && gelf_getdyn(src->d, (int)k, &dyn) != NULL; k++) {
    if (dyn.d_tag == DT_NULL)
      break;
    if (dyn.d_tag == DT_STRTAB)
      strtab = dyn.d_un.d_ptr;
    else if (dyn.d_tag == DT_STRSZ)
      strsz = dyn.d_un.d_val;
  }
  if (strsz == 0)
    return 1; /* no names to read; flags still count */
  if (vaddr_to_off(c, strtab, strsz, &off) != 0)
    return elf_fail(c, HOTSWAP_EBADELF,
                    "DT_STRTAB (address 0x%jx, %ju bytes) is not inside a loaded segment",
                    (uintmax_t)strtab, (uintmax_t)strsz);
  if (c->buf[off + strsz - 1] != '\0')
    return elf_fail(c, HOTSWAP_EBADELF, "the dynamic string table does not end with a NUL");
  src->str = elf_strndup(c, (const char *)c->buf + off, strsz);
  src->strsz = strsz;
  return src->str != NULL ? 1 : elf_fail(c, -ENOMEM, "out of memory");
}

/* .dynamic, for files without program headers (never loadable, but still inspected). */
static int dyn_from_section(struct elf_ctx *c, struct dynsrc *src) {
  size_t idx = find_section(c, SHT_DYNAMIC);
  if (idx == 0)
    return 0;
  GElf_Shdr sh;
  int rc = elf_sec_hdr(c, idx, &sh);
  if (rc == 0)
    rc = elf_sec_data(c, idx, &sh, &src->d);
  if (rc == 0)
    rc = elf_strtab(c, sh.sh_link, elf_sec_name(c, idx), &src->str, &src->strsz);
  return rc == 0 ? 1 : rc;
}

static int dyn_entry(struct elf_ctx *c, const struct dynsrc *src, const GElf_Dyn *dyn) {
  struct elf_info *info = c->info;
  switch (dyn->d_tag) {
  case DT_NEEDED:
    return dyn_string(c, src, dyn->d_un.d_val, "DT_NEEDED", &info->needed[info->n_needed++]);
  case DT_SONAME:
    return dyn_string(c, src, dyn->d_un.d_val, "DT_SONAME", &info->soname);
  case DT_TEXTREL:
    info->textrel = true;
    break;
  case DT_FLAGS:
    info->textrel |= (dyn->d_un.d_val & DF_TEXTREL) != 0;
    break;
  case DT_FLAGS_1:
    info->nodelete |= (dyn->d_un.d_val & DF_1_NODELETE) != 0;
    break;
  default:
    break;
  }
  return 0;
}

/* Reads the dynamic entries from PT_DYNAMIC (else .dynamic): SONAME, DT_NEEDED, TEXTREL
 * and NODELETE. */
int elf_parse_dynamic(struct elf_ctx *c) {
  struct dynsrc src = {NULL, "", 0};
  int rc = dyn_from_segment(c, &src);
  if (rc == 0)
    rc = dyn_from_section(c, &src);
  if (rc <= 0)
    return rc;
  size_t n = src.d->d_size / gelf_fsize(c->elf, ELF_T_DYN, 1, EV_CURRENT), n_needed = 0;
  GElf_Dyn dyn;
  for (size_t i = 0; i < n && gelf_getdyn(src.d, (int)i, &dyn) != NULL; i++) {
    if (dyn.d_tag == DT_NULL)
      break;
    n_needed += dyn.d_tag == DT_NEEDED;
  }
  c->info->needed = elf_alloc(c, (n_needed + 1) * sizeof(*c->info->needed));
  if (c->info->needed == NULL)
    return elf_fail(c, -ENOMEM, "out of memory");
  rc = 0;
  for (size_t i = 0; i < n && rc == 0 && gelf_getdyn(src.d, (int)i, &dyn) != NULL; i++) {
    if (dyn.d_tag == DT_NULL)
      break;
    rc = dyn_entry(c, &src, &dyn);
  }
  return rc;
}

/* ---- symbol versions ---------------------------------------------------------------- */

/* Version index -> name, from .gnu.version_d and .gnu.version_r. Temporary (malloc). */
struct vertab {
  const char **names;
  size_t n;
};

static int vt_set(struct elf_ctx *c, struct vertab *vt, size_t ndx, const char *name) {
  ndx &= 0x7fff;
  if (ndx >= vt->n) {
    size_t n = ndx + 16;
    const char **p = realloc(vt->names, n * sizeof(*p));
    if (p == NULL)
      return elf_fail(c, -ENOMEM, "out of memory");
    memset(p + vt->n, 0, (n - vt->n) * sizeof(*p));
    vt->names = p;
    vt->n = n;
  }
  vt->names[ndx] = name;
  return 0;
}

static int ver_name(struct elf_ctx *c, size_t sec, const char *tab, size_t tabsz,
                    GElf_Word off, const char **out) {
  if (off >= tabsz)
    return elf_fail(c, HOTSWAP_EBADELF,
                    "'%s' names a version at string offset %u, past the end of its string "
                    "table (%zu bytes)",
                    elf_sec_name(c, sec), (unsigned)off, tabsz);
  *out = tab + off;
  return 0;
}

static int ver_past_end(struct elf_ctx *c, size_t sec, size_t off) {
  return elf_fail(c, HOTSWAP_EBADELF, "'%s' has an entry at offset %zu past its end",
                  elf_sec_name(c, sec), off);
}

/* Opens a version section: its data and the string table it links to. */
static int ver_open(struct elf_ctx *c, size_t sec, Elf_Data **d, const char **tab,
                    size_t *tabsz) {
  GElf_Shdr sh;
  int rc = elf_sec_hdr(c, sec, &sh);
  if (rc == 0)
    rc = elf_sec_data(c, sec, &sh, d);
  if (rc == 0)
    rc = elf_strtab(c, sh.sh_link, elf_sec_name(c, sec), tab, tabsz);
  return rc;
}

/* Definitions: each Verdef's first Verdaux names the version of index vd_ndx. */
static int walk_verdef(struct elf_ctx *c, size_t sec, struct vertab *vt) {
  Elf_Data *d;
  const char *tab;
  size_t tabsz, off = 0;
  int rc = ver_open(c, sec, &d, &tab, &tabsz);
  for (size_t i = 0; rc == 0 && i <= d->d_size / sizeof(Elf32_Verdef); i++) {
    GElf_Verdef vd;
    GElf_Verdaux aux;
    const char *name = NULL;
    if (off >= d->d_size || gelf_getverdef(d, (int)off, &vd) == NULL)
      return ver_past_end(c, sec, off);
    if (vd.vd_cnt > 0) {
      if (vd.vd_aux >= d->d_size - off || gelf_getverdaux(d, (int)(off + vd.vd_aux), &aux) == NULL)
        return ver_past_end(c, sec, off + vd.vd_aux);
      rc = ver_name(c, sec, tab, tabsz, aux.vda_name, &name);
      /* Index 1 is the file itself (the base version): symbols with it are unversioned. */
      if (rc == 0 && (vd.vd_ndx & 0x7fff) > 1)
        rc = vt_set(c, vt, vd.vd_ndx, name);
    }
    if (vd.vd_next == 0)
      break;
    off += vd.vd_next;
  }
  return rc;
}

/* Requirements: each Vernaux gives the index (vna_other) of a version needed from a file. */
static int walk_verneed(struct elf_ctx *c, size_t sec, struct vertab *vt) {
  Elf_Data *d;
  const char *tab;
  size_t tabsz, off = 0, limit;
  int rc = ver_open(c, sec, &d, &tab, &tabsz);
  limit = rc == 0 ? d->d_size / sizeof(Elf32_Vernaux) : 0;
  for (size_t i = 0; rc == 0 && i <= limit; i++) {
    GElf_Verneed vn;
    if (off >= d->d_size || gelf_getverneed(d, (int)off, &vn) == NULL)
      return ver_past_end(c, sec, off);
    size_t aoff = off;
    if (vn.vn_aux >= d->d_size - off)
      return ver_past_end(c, sec, off + vn.vn_aux);
    aoff += vn.vn_aux;
    for (size_t j = 0; rc == 0 && j < vn.vn_cnt && j <= limit; j++) {
      GElf_Vernaux aux;
      const char *name = NULL;
      if (aoff >= d->d_size || gelf_getvernaux(d, (int)aoff, &aux) == NULL)
        return ver_past_end(c, sec, aoff);
      rc = ver_name(c, sec, tab, tabsz, aux.vna_name, &name);
      if (rc == 0)
        rc = vt_set(c, vt, aux.vna_other, name);
      if (aux.vna_next == 0)
        break;
      aoff += aux.vna_next;
    }
    if (vn.vn_next == 0)
      break;
    off += vn.vn_next;
  }
  return rc;
}

/* ---- dynamic symbols ---------------------------------------------------------------- */

/* Where the symbols come from: .dynsym, its strings and its parallel .gnu.version. */
struct symsrc {
  size_t sec;
  Elf_Data *syms;
  size_t n;
  const char *str;
  size_t strsz;
  Elf_Data *versym; /* NULL when the file has no symbol versions */
  struct vertab vt;
};

static enum elf_sym_type sym_type(unsigned t) {
  switch (t) {
  case STT_FUNC:
    return ELF_SYM_FUNC;
  case STT_GNU_IFUNC:
    return ELF_SYM_IFUNC;
  case STT_OBJECT:
    return ELF_SYM_OBJECT;
  case STT_TLS:
    return ELF_SYM_TLS;
  default:
    return ELF_SYM_OTHER;
  }
}

static int open_symbols(struct elf_ctx *c, struct symsrc *s) {
  GElf_Shdr sh;
  size_t ent = gelf_fsize(c->elf, ELF_T_SYM, 1, EV_CURRENT);
  int rc = elf_sec_hdr(c, s->sec, &sh);
  if (rc == 0 && sh.sh_entsize != ent)
    rc = elf_fail(c, HOTSWAP_EBADELF, "'%s' has entries of %ju bytes, expected %zu",
                  elf_sec_name(c, s->sec), (uintmax_t)sh.sh_entsize, ent);
  if (rc == 0)
    rc = elf_sec_data(c, s->sec, &sh, &s->syms);
  if (rc == 0)
    rc = elf_strtab(c, sh.sh_link, elf_sec_name(c, s->sec), &s->str, &s->strsz);
  if (rc != 0)
    return rc;
  s->n = s->syms->d_size / ent;
  size_t vs = find_section(c, SHT_GNU_versym), vd = find_section(c, SHT_GNU_verdef);
  size_t vn = find_section(c, SHT_GNU_verneed);
  if (vs == 0)
    return 0;
  rc = elf_sec_hdr(c, vs, &sh);
  if (rc == 0)
    rc = elf_sec_data(c, vs, &sh, &s->versym);
  if (rc == 0 && s->versym->d_size / 2 < s->n)
    rc = elf_fail(c, HOTSWAP_EBADELF, "'%s' has %zu entries, '%s' has %zu",
                  elf_sec_name(c, vs), s->versym->d_size / 2, elf_sec_name(c, s->sec), s->n);
  if (rc == 0 && vd != 0)
    rc = walk_verdef(c, vd, &s->vt);
  if (rc == 0 && vn != 0)
    rc = walk_verneed(c, vn, &s->vt);
  return rc;
}

/* Version of symbol i: sets *ver (NULL when unversioned) and *dflt. */
static int sym_version(struct elf_ctx *c, struct symsrc *s, size_t i, const char *name,
                       const char **ver, bool *dflt) {
  GElf_Versym vs;
  *ver = NULL;
  *dflt = true;
  if (s->versym == NULL || gelf_getversym(s->versym, (int)i, &vs) == NULL)
    return 0;
  size_t ndx = vs & 0x7fff;
  *dflt = (vs & 0x8000) == 0;
  if (ndx <= 1)
    return 0;
  if (ndx >= s->vt.n || s->vt.names[ndx] == NULL)
    return elf_fail(c, HOTSWAP_EBADELF,
                    "symbol '%s' has version index %zu, which no version section defines",
                    name, ndx);
  *ver = s->vt.names[ndx];
  return 0;
}

/* Turns dynamic symbol i into *out. Returns 1 for an export, 2 for an undefined symbol,
 * 0 for a symbol to skip, or a negative code. */
static int read_symbol(struct elf_ctx *c, struct symsrc *s, size_t i, struct elf_sym *out) {
  GElf_Sym sym;
  if (gelf_getsym(s->syms, (int)i, &sym) == NULL)
    return elf_fail(c, HOTSWAP_EBADELF, "cannot read symbol %zu: %s", i, elf_errmsg(-1));
  unsigned bind = GELF_ST_BIND(sym.st_info), type = GELF_ST_TYPE(sym.st_info);
  unsigned vis = GELF_ST_VISIBILITY(sym.st_other);
  if (bind == STB_LOCAL || type == STT_SECTION || type == STT_FILE)
    return 0;
  if (sym.st_name >= s->strsz)
    return elf_fail(c, HOTSWAP_EBADELF,
                    "symbol %zu in '%s' has a name offset %u past the end of its string "
                    "table (%zu bytes)",
                    i, elf_sec_name(c, s->sec), (unsigned)sym.st_name, s->strsz);
  const char *name = s->str + sym.st_name;
  bool undef = sym.st_shndx == SHN_UNDEF;
  if (name[0] == '\0' || (!undef && vis != STV_DEFAULT && vis != STV_PROTECTED))
    return 0;
  *out = (struct elf_sym){.name = name, .type = sym_type(type), .bind = (unsigned char)bind,
                          .visibility = (unsigned char)vis, .value = sym.st_value,
                          .size = sym.st_size};
  int rc = sym_version(c, s, i, name, &out->version, &out->default_version);
  if (rc != 0)
    return rc;
  /* Older linkers define each version name as an absolute symbol: not an export. */
  if (sym.st_shndx == SHN_ABS && out->version != NULL && strcmp(out->version, name) == 0)
    return 0;
  if (undef)
    return 2;
  out->live = c->live_prefix_len > 0 && strncasecmp(name, c->live_prefix,
                                                    c->live_prefix_len) == 0;
  return 1;
}

static int cmp_sym(const struct elf_sym *x, const struct elf_sym *y) {
  int r = strcmp(x->name, y->name);
  if (r != 0)
    return r;
  if (x->default_version != y->default_version)
    return x->default_version ? -1 : 1;
  if (x->version == NULL || y->version == NULL)
    return (x->version != NULL) - (y->version != NULL);
  return strcmp(x->version, y->version);
}

/* Sorting 10,000 names with qsort and strcmp costs more than the rest of the parse, so
 * the sort compares the first 8 bytes of each name as one big-endian integer and calls
 * strcmp only on a tie. Bottom-up merge sort: O(n log n) whatever the input. */
struct sortkey {
  uint64_t key;
  const struct elf_sym *sym;
};

static uint64_t name_key(const char *s) {
  uint64_t k = 0;
  int i = 0;
  for (; i < 8 && s[i] != '\0'; i++)
    k = k << 8 | (unsigned char)s[i];
  return i == 0 ? 0 : k << 8 * (8 - i); /* zero padding sorts shorter names first */
}

static bool key_less(const struct sortkey *a, const struct sortkey *b) {
  if (a->key != b->key)
    return a->key < b->key;
  return cmp_sym(a->sym, b->sym) < 0;
}

static void merge_pass(const struct sortkey *src, struct sortkey *dst, size_t n, size_t w) {
  for (size_t lo = 0; lo < n; lo += 2 * w) {
    size_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;
    size_t i = lo, j = mid, k = lo;
    while (i < mid && j < hi)
      dst[k++] = key_less(&src[j], &src[i]) ? src[j++] : src[i++];
    while (i < mid)
      dst[k++] = src[i++];
    while (j < hi)
      dst[k++] = src[j++];
  }
}

/* Moves syms into the order of sorted[] in place, following each permutation cycle; uses
 * sorted[].key as scratch for the source index once the sort no longer needs it. */
static void permute(struct elf_sym *syms, struct sortkey *sorted, size_t n) {
  for (size_t i = 0; i < n; i++)
    sorted[i].key = (uint64_t)(sorted[i].sym - syms);
  for (size_t i = 0; i < n; i++) {
    if (sorted[i].key == i)
      continue;
    struct elf_sym held = syms[i];
    size_t j = i;
    while (sorted[j].key != i) {
      size_t from = (size_t)sorted[j].key;
      syms[j] = syms[from];
      sorted[j].key = j;
      j = from;
    }
    syms[j] = held;
    sorted[j].key = j;
  }
}

static int sort_syms(struct elf_ctx *c, struct elf_sym *syms, size_t n) {
  if (n < 2)
    return 0;
  struct sortkey *a = malloc(2 * n * sizeof(*a));
  if (a == NULL)
    return elf_fail(c, -ENOMEM, "out of memory");
  struct sortkey *src = a, *dst = a + n, *t;
  for (size_t i = 0; i < n; i++)
    src[i] = (struct sortkey){name_key(syms[i].name), &syms[i]};
  for (size_t w = 1; w < n; w *= 2, t = src, src = dst, dst = t)
    merge_pass(src, dst, n, w);
  permute(syms, src, n);
  free(a);
  return 0;
}

/* Hooks, live count and STB_GNU_UNIQUE, from the sorted exports. */
static void summarize(struct elf_info *info) {
  for (size_t i = 0; i < info->n_exports; i++) {
    const struct elf_sym *e = &info->exports[i];
    info->n_live += e->live;
    if (e->bind == STB_GNU_UNIQUE)
      info->has_unique = true;
    if (!e->default_version || (e->type != ELF_SYM_FUNC && e->type != ELF_SYM_IFUNC) ||
        strncmp(e->name, "hotswap_", 8) != 0)
      continue;
    for (int h = 0; h < ELF_HOOK_COUNT; h++)
      if (strcmp(e->name, hook_names[h]) == 0)
        info->hooks |= 1u << h;
  }
}

static int fill_symbols(struct elf_ctx *c, struct symsrc *s) {
  struct elf_info *info = c->info;
  /* One array: exports fill it from the front, undefined symbols from the back. */
  struct elf_sym *all = elf_alloc(c, (s->n + 1) * sizeof(*all));
  if (all == NULL)
    return elf_fail(c, -ENOMEM, "out of memory");
  size_t ne = 0, nu = 0;
  for (size_t i = 1; i < s->n; i++) {
    struct elf_sym sym;
    int rc = read_symbol(c, s, i, &sym);
    if (rc < 0)
      return rc;
    if (rc == 1)
      all[ne++] = sym;
    else if (rc == 2)
      all[s->n - ++nu] = sym;
  }
  info->exports = all;
  info->n_exports = ne;
  info->undefs = all + s->n - nu;
  info->n_undefs = nu;
  int rc = sort_syms(c, info->exports, ne);
  if (rc == 0)
    rc = sort_syms(c, info->undefs, nu);
  if (rc == 0)
    summarize(info);
  return rc;
}

int elf_parse_symbols(struct elf_ctx *c) {
  struct symsrc s = {.sec = find_section(c, SHT_DYNSYM)};
  if (s.sec == 0) {
    if (c->shnum == 0 && c->info->type == ET_DYN && c->phnum > 0)
      return elf_fail(c, HOTSWAP_EBADELF,
                      "has no section headers (stripped with sstrip?); hotswap needs them "
                      "to read the dynamic symbol table");
    return 0;
  }
  int rc = open_symbols(c, &s);
  if (rc == 0)
    rc = fill_symbols(c, &s);
  free(s.vt.names);
  return rc;
}
