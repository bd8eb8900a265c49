/* SPDX-License-Identifier: BSD-3-Clause */
/* beta.c - fixture static plugin: exports a string that alpha imports; prints each hook. */
#include <stdio.h>
#include <string.h>

#include "hotswap.h"

static char greeting[] = "beta's export";

bool hotswap_reloadable(void) {
  printf("beta: reloadable\n");
  return true;
}
void *hotswap_export(void) {
  printf("beta: export\n");
  return greeting;
}
const struct hotswap_import *hotswap_import(void) {
  printf("beta: import\n");
  return NULL;
}
int hotswap_on_load(void *data) {
  printf("beta: on_load %s\n", (const char *)data);
  return 0;
}
int hotswap_on_init(struct hotswap_vault *vault) {
  printf("beta: on_init vault=%s\n", vault == NULL ? "null" : "set");
  return 0;
}
void hotswap_on_free(void) { printf("beta: on_free\n"); }
int hotswap_invoke_func(const char *fn, void *arg, void **ret) {
  (void)arg;
  (void)ret;
  printf("beta: invoke %s\n", fn);
  return 0;
}
int LIVE_twice(int x);
int LIVE_twice(int x) { return 2 * x; }
