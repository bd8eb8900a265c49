/* test_adopt.c - a program linked against a plugin library (libadopt.so, loaded by ld.so
 * before main, like a legacy server's libhandler.so), as the shim sees it at start-up: the
 * GOT walker lists the absolute pointers of the program's own dispatch table into that
 * library (LDR_GOT_ABS).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <link.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "loader/loader.h"

#if !defined(LIFE_FIXTURE_DIR) || !defined(ADOPT_LINK_SO)
#error "LIFE_FIXTURE_DIR and ADOPT_LINK_SO must name the fixtures"
#endif

/* ---- what the fixtures call back ----------------------------------------------------- */

static char hook_log[4096];

void fx_log(const char *plugin, int version, const char *event);
void fx_log(const char *plugin, int version, const char *event) {
  size_t len = strlen(hook_log);
  snprintf(hook_log + len, sizeof(hook_log) - len, "%s@%d:%s ", plugin, version, event);
}

/* ---- the program's own dispatch table into the linked library ------------------------ */

/* Defined by libadopt.so (fx_plugin.c with FX_NAME=adopt). */
int adopt_answer(void);
int adopt_total(void);

struct route {
  const char *name;
  int (*fn)(void);
};

/* In a PIE each fn is an R_X86_64_64 relocation "adopt_answer + 0" in .data.rel.ro, not a
 * GOT entry: the case a legacy server's routing table presents. */
static const struct route routes[] = {{"answer", adopt_answer}, {"total", adopt_total}};
static const struct route *volatile routes_p = routes; /* keep the table in memory */

/* ---- GOT walker ---------------------------------------------------------------------- */

struct main_abs {
  void **answer, **total;
  bool answer_undefined;
};

static int main_abs_cb(const struct ldr_got_entry *e, void *arg) {
  struct main_abs *m = arg;
  if (e->kind != LDR_GOT_ABS)
    return 0;
  if (strcmp(e->name, "adopt_answer") == 0) {
    m->answer = e->slot;
    m->answer_undefined = e->self_def == NULL;
  } else if (strcmp(e->name, "adopt_total") == 0) {
    m->total = e->slot;
  }
  return 0;
}

static void got__program_dispatch_table__is_listed_as_abs_entries(void **state) {
  (void)state;
  void *self = dlopen(NULL, RTLD_NOW);
  assert_non_null(self);
  struct link_map *map = NULL;
  assert_int_equal(dlinfo(self, RTLD_DI_LINKMAP, &map), 0);
  struct main_abs m = {0};
  char err[LDR_ERR_MAX];
  assert_int_equal(ldr_got_foreach(map, main_abs_cb, &m, err), 0);
  assert_ptr_equal(m.answer, (void **)&routes_p[0].fn);
  assert_ptr_equal(m.total, (void **)&routes_p[1].fn);
  assert_true(m.answer_undefined); /* the program only refers to it */
  assert_ptr_equal(*m.answer, dlsym(RTLD_DEFAULT, "adopt_answer"));
  assert_int_equal(routes_p[0].fn(), 1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(got__program_dispatch_table__is_listed_as_abs_entries),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
