/* SPDX-License-Identifier: BSD-3-Clause */
/* retrofit.c - points the GOT entries of the daemon's objects at trampolines: every
 * JUMP_SLOT, GLOB_DAT (and absolute pointer) that binds to a function of a plugin the
 * dynamic linker loaded itself (generation 0 of a retrofitted library) is rewritten, once,
 * to that function's stable trampoline. Calls and function pointers of an unmodified server
 * then follow every reload.
 *
 * Objects that are plugin versions themselves are left alone: their calls stay inside the
 * version (see the loader's self-binding).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <link.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loader/tramp.h"
#include "preload/preload.h"

#define MAX_ADOPTED 64

struct range {
  uintptr_t lo, hi;
};

/* Address ranges of the plugin objects ld.so loaded (generation 0 of retrofitted plugins). */
static struct range adopted[MAX_ADOPTED];
static size_t n_adopted;
static pthread_mutex_t retrofit_lock = PTHREAD_MUTEX_INITIALIZER;

static struct range object_range(const struct dl_phdr_info *info) {
  struct range r = {UINTPTR_MAX, 0};
  for (ElfW(Half) i = 0; i < info->dlpi_phnum; i++) {
    const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
    if (ph->p_type != PT_LOAD)
      continue;
    uintptr_t lo = info->dlpi_addr + ph->p_vaddr, hi = lo + ph->p_memsz;
    if (lo < r.lo)
      r.lo = lo;
    if (hi > r.hi)
      r.hi = hi;
  }
  return r;
}

static bool in_adopted(const void *p) {
  for (size_t i = 0; i < n_adopted; i++)
    if ((uintptr_t)p >= adopted[i].lo && (uintptr_t)p < adopted[i].hi)
      return true;
  return false;
}

struct adopt_find {
  const struct link_map *map;
  struct range r;
};

static int find_map_cb(struct dl_phdr_info *info, size_t size, void *arg) {
  (void)size;
  struct adopt_find *f = arg;
  if (info->dlpi_addr != f->map->l_addr)
    return 0;
  f->r = object_range(info);
  return f->r.lo <= (uintptr_t)f->map->l_ld && (uintptr_t)f->map->l_ld < f->r.hi;
}

int pre_retrofit_adopt(const struct link_map *map) {
  struct adopt_find f = {.map = map};
  if (dl_iterate_phdr(find_map_cb, &f) == 0)
    return -ENOENT;
  pthread_mutex_lock(&retrofit_lock);
  int rc = n_adopted < MAX_ADOPTED ? 0 : -ENOSPC;
  for (size_t i = 0; i < n_adopted && rc == 0; i++)
    if (adopted[i].lo == f.r.lo)
      rc = 1; /* already known */
  if (rc == 0)
    adopted[n_adopted++] = f.r;
  rc = rc > 0 ? 0 : rc;
  pthread_mutex_unlock(&retrofit_lock);
  return rc;
}

struct walk {
  struct range self;  /* the object being walked */
  size_t patched;
  int rc;
  char err[LDR_ERR_MAX];
  const char *obj;
};

/* The function a lazily bound, not yet resolved entry would reach. */
static void *lazy_target(const char *name) { return pre_real_dlsym(RTLD_DEFAULT, name); }

static int patch_cb(const struct ldr_got_entry *e, void *arg) {
  struct walk *w = arg;
  if (e->kind == LDR_GOT_ABS && e->sym_type != STT_FUNC && e->sym_type != STT_GNU_IFUNC)
    return 0; /* a pointer to a variable: data stays where ld.so put it */
  void *cur = __atomic_load_n(e->slot, __ATOMIC_ACQUIRE);
  bool unresolved = (uintptr_t)cur >= w->self.lo && (uintptr_t)cur < w->self.hi &&
                    e->self_def == NULL;
  if (!in_adopted(cur) && !(unresolved && in_adopted(lazy_target(e->name))))
    return 0;
  void *tramp;
  if (ldr_route(e->name, &tramp) != 0 || cur == tramp)
    return 0; /* not a routed function (a variable, or not exported as a function) */
  int rc = ldr_got_write(e->slot, tramp);
  if (rc != 0 && w->rc == 0) {
    w->rc = rc;
    snprintf(w->err, sizeof(w->err), "%s: cannot write the GOT entry of '%s': %s", w->obj,
             e->name, hotswap_strerror(rc));
  }
  if (rc == 0)
    w->patched++;
  return 0;
}

struct all {
  const void *shim; /* an address inside the shim */
  size_t patched, objects;
  int rc;
  char err[LDR_ERR_MAX];
};

static int object_cb(struct dl_phdr_info *info, size_t size, void *arg) {
  (void)size;
  struct all *a = arg;
  struct walk w = {.self = object_range(info), .obj = info->dlpi_name};
  if (w.self.lo >= w.self.hi || in_adopted((void *)w.self.lo))
    return 0;
  if ((uintptr_t)a->shim >= w.self.lo && (uintptr_t)a->shim < w.self.hi)
    return 0;
  if (strncmp(info->dlpi_name, "/proc/self/fd/", 14) == 0)
    return 0; /* a plugin version loaded by the loader: bound to itself */
  if (w.obj == NULL || w.obj[0] == '\0')
    w.obj = "(main program)";
  char err[LDR_ERR_MAX] = "";
  int rc = ldr_got_foreach_phdr(info, patch_cb, &w, err);
  a->objects++;
  a->patched += w.patched;
  if (a->rc == 0 && (rc != 0 || w.rc != 0)) {
    a->rc = rc != 0 ? rc : w.rc;
    snprintf(a->err, sizeof(a->err), "%s", rc != 0 ? err : w.err);
  }
  return 0;
}

int pre_retrofit_all(size_t *patched, char *err, size_t n) {
  struct all a = {.shim = (const void *)pre_retrofit_all};
  pthread_mutex_lock(&retrofit_lock);
  if (n_adopted > 0)
    dl_iterate_phdr(object_cb, &a);
  pthread_mutex_unlock(&retrofit_lock);
  if (patched != NULL)
    *patched = a.patched;
  if (a.rc != 0)
    snprintf(err, n, "%s", a.err);
  return a.rc;
}

bool pre_retrofit_in_plugin(const void *addr) {
  pthread_mutex_lock(&retrofit_lock);
  bool in = in_adopted(addr);
  pthread_mutex_unlock(&retrofit_lock);
  return in;
}
