/* SPDX-License-Identifier: BSD-3-Clause */
/* live_dump.c - test helper for `hotswap build`: dlopens a built plugin and prints the live
 * table the build linked into it, one line per entry, then calls live_add(2, 3) through the
 * table when it is there and reads live variables of int size:
 *
 *   func NAME | var NAME SIZE [= VALUE] | type NAME SIZE ALIGN FINGERPRINT | prefix P
 * Exit status: 0 printed, 1 no table or cannot load.
 */
#include <dlfcn.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "hotswap.h"

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: live_dump PLUGIN.so\n");
    return 2;
  }
  void *h = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
  if (h == NULL) {
    printf("dlopen: %s\n", dlerror());
    return 1;
  }
  const struct hotswap_live_table *t = dlsym(h, HOTSWAP_LIVE_TABLE_SYMBOL);
  if (t == NULL || t->version != HOTSWAP_LIVE_TABLE_VERSION) {
    printf("no live table\n");
    return 1;
  }
  for (uint32_t i = 0; i < t->n_funcs; i++) {
    printf("func %s\n", t->funcs[i].name);
    if (strcmp(t->funcs[i].name, "live_add") == 0)
      printf("call live_add(2, 3) = %d\n", ((int (*)(int, int))t->funcs[i].fn)(2, 3));
  }
  for (uint32_t i = 0; i < t->n_vars; i++) {
    printf("var %s %" PRIu64, t->vars[i].name, t->vars[i].size);
    if (t->vars[i].size == sizeof(int))
      printf(" = %d", *(const int *)t->vars[i].addr);
    printf("\n");
  }
  for (uint32_t i = 0; i < t->n_types; i++)
    printf("type %s %" PRIu32 " %" PRIu32 " %016" PRIx64 "\n", t->types[i].name,
           t->types[i].size, t->types[i].align, t->types[i].fingerprint);
  printf("prefix %s\n", t->prefix);
  dlclose(h);
  return 0;
}
