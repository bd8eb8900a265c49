/* SPDX-License-Identifier: BSD-3-Clause */
/* alpha.c - fixture static plugin: imports beta's export; prints each hook. */
#include <stdio.h>
#include <string.h>

#include "hotswap.h"

static void *from_beta;
static char reply[64];
static const struct hotswap_import imports[] = {{"beta", &from_beta}, {NULL, NULL}};

void *hotswap_export(void) {
  printf("alpha: export\n");
  return NULL;
}
const struct hotswap_import *hotswap_import(void) {
  printf("alpha: import\n");
  return imports;
}
int hotswap_on_load(void *data) {
  printf("alpha: on_load %s, beta gave '%s'\n", (const char *)data,
         from_beta ? (const char *)from_beta : "nothing");
  return 0;
}
int hotswap_on_init(struct hotswap_vault *vault) {
  (void)vault;
  printf("alpha: on_init\n");
  return 0;
}
void hotswap_on_free(void) { printf("alpha: on_free\n"); }
int hotswap_invoke_func(const char *fn, void *arg, void **ret) {
  printf("alpha: invoke %s\n", fn);
  if (strcmp(fn, "greet") == 0 && ret != NULL) {
    snprintf(reply, sizeof(reply), "hello, %s", (const char *)arg);
    *ret = reply;
  }
  return 0;
}
