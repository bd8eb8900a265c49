/* SPDX-License-Identifier: BSD-3-Clause */
/* gamma.c - the top plugin of the trine demo: imports beta and answers the host's
 * hotswap_invoke("gamma", "pulse", &vector), which runs through beta down to alpha. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "hotswap.h"
#include "trine.h"

static const struct beta_export *beta; /* filled by the loader before on_load */

const struct hotswap_import *hotswap_import(void) {
  static const struct hotswap_import imports[] = {{"beta", (void **)&beta}, {NULL, NULL}};
  return imports;
}

int hotswap_on_load(void *data) {
  (void)data;
  return beta != NULL ? 0 : -1;
}

int hotswap_invoke_func(const char *fn, void *arg, void **ret) {
  (void)ret;
  if (strcmp(fn, "pulse") != 0 || arg == NULL)
    return -ENOSYS;
  struct trine_vector *v = arg;
  beta->two(v);
  v->z = v->y + 1;
  printf("[gamma %s] pulse: z = %d\n", TRINE_STAMP, v->z);
  fflush(stdout);
  return 0;
}
