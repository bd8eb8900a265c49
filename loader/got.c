/* SPDX-License-Identifier: BSD-3-Clause */
/* got.c - walk the JUMP_SLOT/GLOB_DAT entries (and absolute pointers: dispatch tables) of a
 * loaded object through its in-memory dynamic section, write them (opening RELRO pages only
 * for the store), and bind a freshly loaded version's calls to its own functions. The shim
 * reuses the walker to retrofit the host's GOT entries and tables onto trampolines.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <link.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "loader/loader.h"

/* The relocation types we walk, per architecture (the only arch-specific part). GOT_R_ABS is
 * the word-sized absolute relocation "symbol + addend" that a pointer in data gets (e.g. a
 * PIE's static table of function pointers into a library). It is reported only from RELA
 * tables with addend 0: in a REL table (i386) the addend sits in the word itself and is
 * gone once ld.so has applied the relocation. */
#if defined(__x86_64__)
#define GOT_R_GLOB_DAT R_X86_64_GLOB_DAT
#define GOT_R_JUMP_SLOT R_X86_64_JUMP_SLOT
#define GOT_R_ABS R_X86_64_64
#define GOT_R_COPY R_X86_64_COPY
#elif defined(__aarch64__)
#define GOT_R_GLOB_DAT R_AARCH64_GLOB_DAT
#define GOT_R_JUMP_SLOT R_AARCH64_JUMP_SLOT
#define GOT_R_ABS R_AARCH64_ABS64
#define GOT_R_COPY R_AARCH64_COPY
#elif defined(__i386__)
#define GOT_R_GLOB_DAT R_386_GLOB_DAT
#define GOT_R_JUMP_SLOT R_386_JMP_SLOT
#define GOT_R_ABS R_386_32
#define GOT_R_COPY R_386_COPY
#else
#error "loader/got.c: add this architecture's GLOB_DAT, JUMP_SLOT and ABS relocation types"
#endif

#if __ELF_NATIVE_CLASS == 64
#define GOT_R_SYM ELF64_R_SYM
#define GOT_R_TYPE ELF64_R_TYPE
#define GOT_ST_TYPE ELF64_ST_TYPE
#define GOT_ST_BIND ELF64_ST_BIND
#else
#define GOT_R_SYM ELF32_R_SYM
#define GOT_R_TYPE ELF32_R_TYPE
#define GOT_ST_TYPE ELF32_ST_TYPE
#define GOT_ST_BIND ELF32_ST_BIND
#endif

/* The tables of one object, addresses already relocated. */
struct dyn_tables {
  uintptr_t base;
  const ElfW(Sym) *symtab;
  const char *strtab;
  size_t strsz;
  const void *jmprel; /* DT_JMPREL: Rela or Rel according to pltrel */
  size_t pltrelsz;
  ElfW(Sxword) pltrel;
  const ElfW(Rela) *rela;
  size_t relasz;
  const ElfW(Rel) *rel;
  size_t relsz;
  const ElfW(Half) *versym;
  const ElfW(Verneed) *verneed;
  size_t verneednum;
  const ElfW(Verdef) *verdef;
  size_t verdefnum;
};

static pthread_mutex_t got_write_lock = PTHREAD_MUTEX_INITIALIZER;

/* glibc relocates most d_ptr values of a writable dynamic section in place at load time but
 * leaves a read-only one (and the vDSO's) as file offsets: accept both forms. */
static uintptr_t dyn_addr(uintptr_t base, ElfW(Addr) ptr) {
  return ptr < base ? base + ptr : ptr;
}

static void dyn_read(uintptr_t base, const ElfW(Dyn) *dyn, struct dyn_tables *t) {
  memset(t, 0, sizeof(*t));
  t->base = base;
  for (; dyn->d_tag != DT_NULL; dyn++) {
    ElfW(Addr) p = dyn->d_un.d_ptr;
    switch (dyn->d_tag) {
    case DT_SYMTAB: t->symtab = (const void *)dyn_addr(base, p); break;
    case DT_STRTAB: t->strtab = (const void *)dyn_addr(base, p); break;
    case DT_STRSZ: t->strsz = dyn->d_un.d_val; break;
    case DT_JMPREL: t->jmprel = (const void *)dyn_addr(base, p); break;
    case DT_PLTRELSZ: t->pltrelsz = dyn->d_un.d_val; break;
    case DT_PLTREL: t->pltrel = (ElfW(Sxword))dyn->d_un.d_val; break;
    case DT_RELA: t->rela = (const void *)dyn_addr(base, p); break;
    case DT_RELASZ: t->relasz = dyn->d_un.d_val; break;
    case DT_REL: t->rel = (const void *)dyn_addr(base, p); break;
    case DT_RELSZ: t->relsz = dyn->d_un.d_val; break;
    case DT_VERSYM: t->versym = (const void *)dyn_addr(base, p); break;
    case DT_VERNEED: t->verneed = (const void *)dyn_addr(base, p); break;
    case DT_VERNEEDNUM: t->verneednum = dyn->d_un.d_val; break;
    case DT_VERDEF: t->verdef = (const void *)dyn_addr(base, p); break;
    case DT_VERDEFNUM: t->verdefnum = dyn->d_un.d_val; break;
    default: break;
    }
  }
}

static const char *dyn_str(const struct dyn_tables *t, size_t off) {
  if (t->strsz != 0 && off >= t->strsz)
    return NULL;
  return t->strtab + off;
}

/* Version name of symbol index `idx`, NULL when it has none (or only the base version). */
static const char *sym_version(const struct dyn_tables *t, size_t idx, bool defined) {
  if (t->versym == NULL)
    return NULL;
  ElfW(Half) v = t->versym[idx] & 0x7fff;
  if (v <= 1)
    return NULL;
  if (!defined && t->verneed != NULL) {
    const ElfW(Verneed) *vn = t->verneed;
    for (size_t i = 0; i < t->verneednum; i++) {
      const ElfW(Vernaux) *a = (const void *)((const char *)vn + vn->vn_aux);
      for (unsigned j = 0; j < vn->vn_cnt; j++) {
        if ((a->vna_other & 0x7fff) == v)
          return dyn_str(t, a->vna_name);
        a = (const void *)((const char *)a + a->vna_next);
      }
      vn = (const void *)((const char *)vn + vn->vn_next);
    }
  }
  if (defined && t->verdef != NULL) {
    const ElfW(Verdef) *vd = t->verdef;
    for (size_t i = 0; i < t->verdefnum; i++) {
      if ((vd->vd_ndx & 0x7fff) == v && vd->vd_cnt > 0) {
        const ElfW(Verdaux) *a = (const void *)((const char *)vd + vd->vd_aux);
        return dyn_str(t, a->vda_name);
      }
      vd = (const void *)((const char *)vd + vd->vd_next);
    }
  }
  return NULL;
}

/* Kind of a relocation we report, or -1. rela: it comes from a RELA table, with addend. */
static int reloc_kind(unsigned type, bool rela, ElfW(Sxword) addend, uintptr_t where) {
  if (type == GOT_R_JUMP_SLOT)
    return LDR_GOT_JUMP_SLOT;
  if (type == GOT_R_GLOB_DAT)
    return LDR_GOT_GLOB_DAT;
  /* An unaligned pointer cannot be replaced with one atomic store. */
  if (type == GOT_R_ABS && rela && addend == 0 && where % sizeof(void *) == 0)
    return LDR_GOT_ABS;
  return -1;
}

/* Report one relocation to the callback if it is a GOT entry or absolute pointer with a
 * symbol. */
static int visit(const struct dyn_tables *t, ElfW(Addr) offset, ElfW(Xword) info, bool rela,
                 ElfW(Sxword) addend, ldr_got_fn fn, void *arg) {
  size_t idx = (size_t)GOT_R_SYM(info);
  int kind = reloc_kind((unsigned)GOT_R_TYPE(info), rela, addend, t->base + offset);
  if (kind < 0 || idx == 0)
    return 0;
  const ElfW(Sym) *s = &t->symtab[idx];
  const char *name = dyn_str(t, s->st_name);
  if (name == NULL)
    return 0;
  bool defined = s->st_shndx != SHN_UNDEF;
  struct ldr_got_entry e = {
      .name = name,
      .version = sym_version(t, idx, defined),
      .slot = (void **)(t->base + offset),
      .kind = (enum ldr_got_kind)kind,
      .sym_type = (unsigned char)GOT_ST_TYPE(s->st_info),
      .sym_bind = (unsigned char)GOT_ST_BIND(s->st_info),
  };
  if (defined && e.sym_type != STT_GNU_IFUNC && e.sym_type != STT_TLS)
    e.self_def = (void *)(t->base + s->st_value);
  return fn(&e, arg);
}

static int walk_rela(const struct dyn_tables *t, const ElfW(Rela) *r, size_t size,
                     ldr_got_fn fn, void *arg) {
  for (size_t i = 0; r != NULL && i < size / sizeof(*r); i++) {
    int rc = visit(t, r[i].r_offset, r[i].r_info, true, r[i].r_addend, fn, arg);
    if (rc != 0)
      return rc;
  }
  return 0;
}

static int walk_rel(const struct dyn_tables *t, const ElfW(Rel) *r, size_t size, ldr_got_fn fn,
                    void *arg) {
  for (size_t i = 0; r != NULL && i < size / sizeof(*r); i++) {
    int rc = visit(t, r[i].r_offset, r[i].r_info, false, 0, fn, arg);
    if (rc != 0)
      return rc;
  }
  return 0;
}

/* Walk the object whose load bias is `base` and whose dynamic section is `dyn`. */
static int got_walk(uintptr_t base, const ElfW(Dyn) *dyn, const char *name, ldr_got_fn fn,
                    void *arg, char *err) {
  struct dyn_tables t;
  if (dyn == NULL) {
    if (err != NULL)
      snprintf(err, LDR_ERR_MAX, "%s: has no dynamic section", name);
    return HOTSWAP_EBADELF;
  }
  dyn_read(base, dyn, &t);
  if (t.symtab == NULL || t.strtab == NULL) {
    if (t.jmprel == NULL && t.rela == NULL && t.rel == NULL)
      return 0; /* nothing to walk (e.g. the vDSO) */
    if (err != NULL)
      snprintf(err, LDR_ERR_MAX, "%s: dynamic section has relocations but no symbol table",
               name);
    return HOTSWAP_EBADELF;
  }
  int rc;
  if (t.pltrel == DT_REL)
    rc = walk_rel(&t, t.jmprel, t.pltrelsz, fn, arg);
  else
    rc = walk_rela(&t, t.jmprel, t.pltrelsz, fn, arg);
  if (rc == 0)
    rc = walk_rela(&t, t.rela, t.relasz, fn, arg);
  if (rc == 0)
    rc = walk_rel(&t, t.rel, t.relsz, fn, arg);
  return rc;
}

int ldr_got_foreach(const struct link_map *map, ldr_got_fn fn, void *arg, char *err) {
  const char *name = map->l_name != NULL && map->l_name[0] != '\0' ? map->l_name : "(main)";
  return got_walk((uintptr_t)map->l_addr, map->l_ld, name, fn, arg, err);
}

int ldr_got_foreach_phdr(const struct dl_phdr_info *info, ldr_got_fn fn, void *arg,
                         char *err) {
  const ElfW(Dyn) *dyn = NULL;
  for (ElfW(Half) i = 0; i < info->dlpi_phnum; i++) {
    if (info->dlpi_phdr[i].p_type == PT_DYNAMIC)
      dyn = (const void *)(info->dlpi_addr + info->dlpi_phdr[i].p_vaddr);
  }
  const char *name = info->dlpi_name != NULL && info->dlpi_name[0] != '\0' ? info->dlpi_name
                                                                           : "(main)";
  return got_walk((uintptr_t)info->dlpi_addr, dyn, name, fn, arg, err);
}

/* ---- the program's copy relocations ------------------------------------------------- */

static int first_object_cb(struct dl_phdr_info *info, size_t size, void *arg) {
  (void)size;
  *(struct dl_phdr_info *)arg = *info;
  return 1; /* the program comes first */
}

/* The variable a GOT entry of the program's points at, and its size: 0 unless the address is
 * exactly a sized object's of a loaded library. */
static size_t bound_object(void *addr) {
  Dl_info info;
  const ElfW(Sym) *sym = NULL;
  if (addr == NULL || dladdr1(addr, &info, (void **)&sym, RTLD_DL_SYMENT) == 0 ||
      sym == NULL || info.dli_saddr != addr || GOT_ST_TYPE(sym->st_info) != STT_OBJECT)
    return 0;
  return sym->st_size;
}

/* Report the R_*_COPY relocations among r (RELA or REL entries, `size` bytes), and the
 * GLOB_DAT entries of variables the program does not define: an AArch64 PIE reaches a
 * library's variable through its GOT rather than a copy (x86-64 PIEs copy), and every later
 * version of that library binds to the same first definition, so that definition is the
 * program's copy in all but name. */
static int copy_walk(const struct dyn_tables *t, const void *r, size_t size, bool rela,
                     ldr_copy_fn fn, void *arg) {
  size_t ent = rela ? sizeof(ElfW(Rela)) : sizeof(ElfW(Rel));
  for (size_t i = 0; r != NULL && i < size / ent; i++) {
    const ElfW(Rel) *e = (const void *)((const char *)r + i * ent); /* Rela starts like Rel */
    unsigned type = (unsigned)GOT_R_TYPE(e->r_info);
    if ((type != GOT_R_COPY && type != GOT_R_GLOB_DAT) || GOT_R_SYM(e->r_info) == 0)
      continue;
    const ElfW(Sym) *s = &t->symtab[GOT_R_SYM(e->r_info)];
    const char *name = dyn_str(t, s->st_name);
    void *addr = (void *)(t->base + e->r_offset);
    size_t n = s->st_size;
    if (type == GOT_R_GLOB_DAT) {
      if (s->st_shndx != SHN_UNDEF || GOT_ST_TYPE(s->st_info) == STT_FUNC)
        continue;
      addr = __atomic_load_n((void **)addr, __ATOMIC_RELAXED);
      if ((n = bound_object(addr)) == 0)
        continue;
    }
    int rc = name != NULL ? fn(name, addr, n, arg) : 0;
    if (rc != 0)
      return rc;
  }
  return 0;
}

int ldr_copy_foreach(ldr_copy_fn fn, void *arg) {
  struct dl_phdr_info info;
  memset(&info, 0, sizeof(info));
  dl_iterate_phdr(first_object_cb, &info);
  const ElfW(Dyn) *dyn = NULL;
  for (ElfW(Half) i = 0; i < info.dlpi_phnum; i++)
    if (info.dlpi_phdr[i].p_type == PT_DYNAMIC)
      dyn = (const void *)(info.dlpi_addr + info.dlpi_phdr[i].p_vaddr);
  if (dyn == NULL)
    return 0; /* a static program: nothing was copied */
  struct dyn_tables t;
  dyn_read((uintptr_t)info.dlpi_addr, dyn, &t);
  if (t.symtab == NULL || t.strtab == NULL)
    return 0;
  int rc = copy_walk(&t, t.rela, t.relasz, true, fn, arg);
  if (rc == 0)
    rc = copy_walk(&t, t.rel, t.relsz, false, fn, arg);
  return rc;
}

/* Where a GOT entry lives: is its page read-only now, and what to restore afterwards. */
struct slot_find {
  uintptr_t addr;
  bool found;
  bool readonly; /* page must be opened for the store */
  int restore;   /* protection to put back */
};

static int find_slot_cb(struct dl_phdr_info *info, size_t size, void *arg) {
  (void)size;
  struct slot_find *f = arg;
  uintptr_t page = (uintptr_t)getpagesize();
  bool inside = false;
  int load_prot = PROT_READ;
  for (ElfW(Half) i = 0; i < info->dlpi_phnum; i++) {
    const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
    uintptr_t lo = info->dlpi_addr + ph->p_vaddr, hi = lo + ph->p_memsz;
    if (ph->p_type == PT_LOAD && f->addr >= lo && f->addr < hi) {
      inside = true;
      load_prot = (ph->p_flags & PF_R ? PROT_READ : 0) | (ph->p_flags & PF_W ? PROT_WRITE : 0) |
                  (ph->p_flags & PF_X ? PROT_EXEC : 0);
    }
  }
  if (!inside)
    return 0;
  f->found = true;
  f->readonly = !(load_prot & PROT_WRITE);
  f->restore = load_prot;
  for (ElfW(Half) i = 0; i < info->dlpi_phnum; i++) {
    const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
    if (ph->p_type != PT_GNU_RELRO)
      continue;
    /* ld.so protects only whole pages: [down(start), down(end)). */
    uintptr_t lo = (info->dlpi_addr + ph->p_vaddr) & ~(page - 1);
    uintptr_t hi = (info->dlpi_addr + ph->p_vaddr + ph->p_memsz) & ~(page - 1);
    if (f->addr >= lo && f->addr < hi) {
      f->readonly = true;
      f->restore = PROT_READ;
    }
  }
  return 1;
}

int ldr_got_write(void **slot, void *value) {
  struct slot_find f = {.addr = (uintptr_t)slot};
  dl_iterate_phdr(find_slot_cb, &f);
  if (!f.found)
    return -EFAULT;
  int rc = 0;
  pthread_mutex_lock(&got_write_lock);
  void *page = (void *)((uintptr_t)slot & ~((uintptr_t)getpagesize() - 1));
  if (f.readonly && mprotect(page, (size_t)getpagesize(), PROT_READ | PROT_WRITE) != 0) {
    rc = -errno;
  } else {
    __atomic_store_n(slot, value, __ATOMIC_RELEASE);
    if (f.readonly && mprotect(page, (size_t)getpagesize(), f.restore) != 0)
      rc = -errno;
  }
  pthread_mutex_unlock(&got_write_lock);
  return rc;
}

struct bind_ctx {
  size_t bound;
  int rc;
  char *err;
};

static int bind_cb(const struct ldr_got_entry *e, void *arg) {
  struct bind_ctx *c = arg;
  if (e->self_def == NULL || e->sym_type != STT_FUNC || e->sym_bind == STB_GNU_UNIQUE)
    return 0;
  if (__atomic_load_n(e->slot, __ATOMIC_ACQUIRE) == e->self_def)
    return 0;
  int rc = ldr_got_write(e->slot, e->self_def);
  if (rc != 0) {
    if (c->err != NULL)
      snprintf(c->err, LDR_ERR_MAX, "cannot write the GOT entry of '%s': %s", e->name,
               hotswap_strerror(rc));
    return rc;
  }
  c->bound++;
  return 0;
}

int ldr_got_bind_self(const struct link_map *map, size_t *bound, char *err) {
  struct bind_ctx c = {.err = err};
  int rc = ldr_got_foreach(map, bind_cb, &c, err);
  if (bound != NULL)
    *bound = c.bound;
  return rc;
}
