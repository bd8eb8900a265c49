/* SPDX-License-Identifier: BSD-3-Clause */
/* alpha.c - the bottom plugin of the trine demo: exports one(), which beta calls.
 * TRINE_STAMP (one value shared by all three plugins of a build, set by run.sh and
 * reload.sh) shows which build answered. */
#include <stdio.h>

#include "hotswap.h"
#include "trine.h"

static void one(struct trine_vector *v) {
  v->x = 1;
  printf("[alpha %s] one: x = %d\n", TRINE_STAMP, v->x);
}

static const struct alpha_export export = {one};

void *hotswap_export(void) { return (void *)&export; }
