/* SPDX-License-Identifier: BSD-3-Clause */
/* nextlib.c - libnexta.so and libnextb.so (-DNEXT_NAME="a" / "b"), linked into tiny_host in
 * that order: both define next_which@@NEXT_1. libnexta's next_probe() looks next_which up
 * with dlvsym(RTLD_NEXT) and dlsym(RTLD_NEXT): relative to libnexta, the caller, both must
 * find libnextb's ("b"), whatever the shim in front of them does. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>

typedef const char *(*which_fn)(void);

const char *next_which(void);
const char *next_which(void) { return NEXT_NAME; }

#ifdef NEXT_PROBE
const char *next_probe(void);
const char *next_probe(void) {
  static char out[64];
  which_fn v, s;
  *(void **)&v = dlvsym(RTLD_NEXT, "next_which", "NEXT_1");
  *(void **)&s = dlsym(RTLD_NEXT, "next_which");
  snprintf(out, sizeof(out), "dlvsym=%s dlsym=%s", v ? v() : "NULL", s ? s() : "NULL");
  return out;
}
#endif
