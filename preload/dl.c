/* SPDX-License-Identifier: BSD-3-Clause */
/* dl.c - the interposed dlopen(), dlsym() and dlvsym(): objects the daemon dlopen()s later
 * get their GOT entries retrofitted too, and dlsym()/dlvsym() of a routed plugin function
 * return its trampoline, so a function pointer looked up by name follows reloads.
 *
 * The dlsym and dlvsym entries are in dlsym_<arch>.S: when the name is not routed they
 * tail-jump to libc's, so glibc still sees the daemon's return address (RTLD_NEXT and
 * RTLD_DEFAULT depend on it). libc's own functions are found in libc's dynamic symbol table,
 * since a lookup by name through the dynamic linker would find the shim's first.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdbool.h>
#include <link.h>
#include <stdint.h>
#include <stdio.h>

#include "loader/tramp.h"
#include "preload/preload.h"

typedef void *(*dlopen_fn)(const char *, int);
typedef void *(*dlsym_fn)(void *, const char *);
typedef void *(*dlvsym_fn)(void *, const char *, const char *);

static dlopen_fn real_dlopen;
/* Read by dlsym_x86_64.S. */
__attribute__((visibility("hidden"))) dlsym_fn pre_real_dlsym_ptr;
__attribute__((visibility("hidden"))) dlvsym_fn pre_real_dlvsym_ptr;
static bool enabled;

static uintptr_t dyn_addr(uintptr_t base, ElfW(Addr) ptr) {
  /* ld.so relocates the d_ptr values of a writable dynamic section, not of a read-only one */
  return ptr < base ? base + ptr : ptr;
}

/* strcmp(a, b) == 0 without libc: a sanitizer runtime that looks libc up through this
 * file's dlsym while it starts has not yet found its own strcmp, and its interceptor, first
 * in the lookup order, would call through a null pointer. */
static bool same_name(const char *a, const char *b) {
  while (*a != '\0' && *a == *b) {
    a++;
    b++;
  }
  return *a == *b;
}

static uint32_t gnu_hash(const char *name) {
  uint32_t h = 5381;
  for (const unsigned char *c = (const unsigned char *)name; *c != '\0'; c++)
    h = h * 33 + *c;
  return h;
}

/* The default version (name@@VERSION, or the unversioned definition) of function `name` in
 * the loaded object `map`, looked up through its DT_GNU_HASH table; NULL when absent. */
static void *object_function(const struct link_map *map, const char *name) {
  const ElfW(Sym) *symtab = NULL;
  const char *strtab = NULL;
  const uint32_t *gh = NULL;
  const ElfW(Half) *versym = NULL;
  uintptr_t base = (uintptr_t)map->l_addr;
  for (const ElfW(Dyn) *d = map->l_ld; d->d_tag != DT_NULL; d++) {
    if (d->d_tag == DT_SYMTAB)
      symtab = (const void *)dyn_addr(base, d->d_un.d_ptr);
    else if (d->d_tag == DT_STRTAB)
      strtab = (const void *)dyn_addr(base, d->d_un.d_ptr);
    else if (d->d_tag == DT_GNU_HASH)
      gh = (const void *)dyn_addr(base, d->d_un.d_ptr);
    else if (d->d_tag == DT_VERSYM)
      versym = (const void *)dyn_addr(base, d->d_un.d_ptr);
  }
  if (symtab == NULL || strtab == NULL || gh == NULL || gh[0] == 0)
    return NULL;
  uint32_t nbuckets = gh[0], symoffset = gh[1], bloom_words = gh[2];
  const uint32_t *buckets = (const uint32_t *)((const ElfW(Addr) *)(gh + 4) + bloom_words);
  const uint32_t *chain = buckets + nbuckets;
  uint32_t h = gnu_hash(name);
  uint32_t i = buckets[h % nbuckets];
  if (i == 0 || i < symoffset)
    return NULL; /* empty bucket */
  for (;; i++) {
    uint32_t ch = chain[i - symoffset];
    const ElfW(Sym) *s = &symtab[i];
    /* versym bit 15: a hidden (non-default) version such as dlsym@GLIBC_2.2.5 */
    if ((ch | 1) == (h | 1) && s->st_shndx != SHN_UNDEF &&
        (s->st_info & 0xf) == STT_FUNC && (versym == NULL || !(versym[i] & 0x8000)) &&
        same_name(strtab + s->st_name, name))
      return (void *)(base + s->st_value);
    if (ch & 1)
      break;
  }
  return NULL;
}

/* libc's `name` (its default version): in the object that holds the dl* functions, which
 * is the one dlerror(), never interposed, comes from. */
static void *libc_function(const char *name) {
  Dl_info info;
  struct link_map *map = NULL;
  if (dladdr1((const void *)dlerror, &info, (void **)&map, RTLD_DL_LINKMAP) == 0 ||
      map == NULL)
    return NULL;
  return object_function(map, name);
}

static void resolve_real(void) {
  if (real_dlopen == NULL)
    real_dlopen = (dlopen_fn)libc_function("dlopen");
  if (pre_real_dlsym_ptr == NULL)
    pre_real_dlsym_ptr = (dlsym_fn)libc_function("dlsym");
  if (pre_real_dlvsym_ptr == NULL)
    pre_real_dlvsym_ptr = (dlvsym_fn)libc_function("dlvsym");
}

void pre_dl_enable(void) {
  resolve_real();
  enabled = true;
}

static bool in_shim(const void *addr) {
  Dl_info self, other;
  return dladdr((const void *)pre_dl_enable, &self) != 0 && dladdr(addr, &other) != 0 &&
         self.dli_fbase == other.dli_fbase;
}

PRE_API void *dlopen(const char *file, int mode) {
  const void *caller = __builtin_return_address(0);
  resolve_real();
  if (real_dlopen == NULL)
    return NULL;
  void *h = real_dlopen(file, mode);
  if (h != NULL && enabled && !in_shim(caller)) {
    char err[LDR_ERR_MAX];
    size_t patched = 0;
    if (pre_retrofit_all(&patched, err, sizeof(err)) != 0)
      pre_log("after dlopen(\"%s\"): %s; calls from it may keep reaching generation 0",
              file ? file : "NULL", err);
  }
  return h;
}

/* Called by the dlsym entry: the trampoline to return instead of the real answer, or NULL
 * to let the real dlsym answer. */
__attribute__((visibility("hidden"))) void *pre_dlsym_route(void *handle, const char *name);
void *pre_dlsym_route(void *handle, const char *name) {
  void *tramp;
  resolve_real();
  if (!enabled || name == NULL || handle == RTLD_NEXT || pre_real_dlsym_ptr == NULL)
    return NULL;
  if (ldr_current_target(name) == NULL)
    return NULL; /* not a routed name: no second lookup (ldr_route would mark it called) */
  void *real = pre_real_dlsym_ptr(handle, name);
  if (real == NULL || !pre_retrofit_in_plugin(real) || ldr_route(name, &tramp) != 0)
    return NULL;
  return tramp;
}

/* Called by the dlvsym entry, like pre_dlsym_route. The trampoline stands for the plugin's
 * default definition of the name (what a reload rebinds): an older version of it (name@V1
 * beside name@@V2) is another function and is answered by libc. */
__attribute__((visibility("hidden"))) void *pre_dlvsym_route(void *handle, const char *name,
                                                             const char *version);
void *pre_dlvsym_route(void *handle, const char *name, const char *version) {
  void *tramp;
  resolve_real();
  if (!enabled || name == NULL || version == NULL || handle == RTLD_NEXT ||
      pre_real_dlvsym_ptr == NULL || pre_real_dlsym_ptr == NULL)
    return NULL;
  if (ldr_current_target(name) == NULL)
    return NULL;
  void *real = pre_real_dlvsym_ptr(handle, name, version);
  if (real == NULL || !pre_retrofit_in_plugin(real) || pre_real_dlsym_ptr(handle, name) != real ||
      ldr_route(name, &tramp) != 0)
    return NULL;
  return tramp;
}

void *pre_real_dlsym(void *handle, const char *name) {
  resolve_real();
  return pre_real_dlsym_ptr ? pre_real_dlsym_ptr(handle, name) : NULL;
}
