/* dl.c - the interposed dlopen() and dlsym(): objects the daemon dlopen()s later get their
 * GOT entries retrofitted too, and dlsym() of a routed plugin function returns its
 * trampoline, so a function pointer looked up by name follows reloads.
 *
 * dlsym's entry is in dlsym_x86_64.S: when the name is not routed it tail-jumps to the real
 * dlsym, so glibc still sees the daemon's return address (RTLD_NEXT depends on it).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdbool.h>
#include <stdio.h>

#include "loader/tramp.h"
#include "preload/preload.h"

typedef void *(*dlopen_fn)(const char *, int);
typedef void *(*dlsym_fn)(void *, const char *);

static dlopen_fn real_dlopen;
/* Read by dlsym_x86_64.S. */
__attribute__((visibility("hidden"))) dlsym_fn pre_real_dlsym_ptr;
static bool enabled;

static void *next_versioned(const char *name) {
  /* dlvsym is not interposed, so this reaches libc's definitions. */
  void *p = dlvsym(RTLD_NEXT, name, "GLIBC_2.34");
  return p != NULL ? p : dlvsym(RTLD_NEXT, name, "GLIBC_2.2.5");
}

static void resolve_real(void) {
  if (real_dlopen == NULL)
    real_dlopen = (dlopen_fn)next_versioned("dlopen");
  if (pre_real_dlsym_ptr == NULL)
    pre_real_dlsym_ptr = (dlsym_fn)next_versioned("dlsym");
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
  if (ldr_route(name, &tramp) != 0)
    return NULL;
  void *real = pre_real_dlsym_ptr(handle, name);
  return (real != NULL && pre_retrofit_in_plugin(real)) ? tramp : NULL;
}

void *pre_real_dlsym(void *handle, const char *name) {
  resolve_real();
  return pre_real_dlsym_ptr ? pre_real_dlsym_ptr(handle, name) : NULL;
}
