/* SPDX-License-Identifier: BSD-3-Clause */
/* beta.c - the middle plugin of the trine demo: imports alpha and exports two(), which
 * gamma calls and which calls alpha's one(). */
#include <stddef.h>
#include <stdio.h>

#include "hotswap.h"
#include "trine.h"

static const struct alpha_export *alpha; /* filled by the loader before on_load */

static void two(struct trine_vector *v) {
  alpha->one(v);
  v->y = v->x + 1;
  printf("[beta  %s] two: y = %d\n", TRINE_STAMP, v->y);
}

static const struct beta_export export = {two};

void *hotswap_export(void) { return (void *)&export; }

const struct hotswap_import *hotswap_import(void) {
  static const struct hotswap_import imports[] = {{"alpha", (void **)&alpha}, {NULL, NULL}};
  return imports;
}

/* Refuse to load without alpha, instead of crashing on the first pulse. */
int hotswap_on_load(void *data) {
  (void)data;
  return alpha != NULL ? 0 : -1;
}
