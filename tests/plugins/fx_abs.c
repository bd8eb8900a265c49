/* SPDX-License-Identifier: BSD-3-Clause */
/* fx_abs.c - a plugin with a static dispatch table of pointers to its own exported functions:
 * each entry is an absolute relocation "symbol + 0" (R_X86_64_64) in .data.rel.ro, which
 * ld.so binds to the first definition in the global scope. Shows that a new version's table
 * reaches that same version once self-bound.
 *
 *   AB_NAME     symbol prefix (required)   AB_VERSION  tens digit of what the functions return
 */
#include <string.h>

#if !defined(AB_NAME) || !defined(AB_VERSION)
#error "define AB_NAME and AB_VERSION"
#endif
#define AB_CAT_(a, b) a##_##b
#define AB_CAT(a, b) AB_CAT_(a, b)
#define AB_SYM(s) AB_CAT(AB_NAME, s)

int AB_SYM(one)(void);
int AB_SYM(two)(void);
int AB_SYM(dispatch)(const char *name);

/* Exported, so interposable: the table's entries carry the symbol, not a relative address. */
int AB_SYM(one)(void) { return 10 * AB_VERSION + 1; }
int AB_SYM(two)(void) { return 10 * AB_VERSION + 2; }

struct route {
  const char *name;
  int (*fn)(void);
};

static const struct route routes[] = {{"one", AB_SYM(one)}, {"two", AB_SYM(two)}};

/* Calls the table's function for `name`: 21 from v2 when its table reaches v2's one(), 11
 * when it reaches v1's. -1 for an unknown name. */
int AB_SYM(dispatch)(const char *name) {
  const struct route *volatile table = routes; /* keep the table: no constant folding */
  for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
    if (strcmp(table[i].name, name) == 0)
      return table[i].fn();
  }
  return -1;
}
