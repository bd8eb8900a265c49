/* test_util.h - helpers shared by the loader's cmocka tests (test_lifecycle.c,
 * test_adopt.c, tests/api/test_api.c): private folders, installing a fixture the way a
 * deploy does, reading a reload report, calling through a trampoline. Include after
 * <cmocka.h> and loader/loader.h. */
#ifndef HOTSWAP_TESTS_TEST_UTIL_H
#define HOTSWAP_TESTS_TEST_UTIL_H

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "loader/loader.h"
#include "loader/tramp.h"

/* A fresh private folder, e.g. tu_new_dir("/tmp/hotswap-life.XXXXXX"); free with
 * tu_rm_dir. */
static inline char *tu_new_dir(const char *template_) {
  char *d = strdup(template_);
  assert_non_null(d);
  assert_non_null(mkdtemp(d));
  return d;
}

static inline void tu_rm_dir(char *dir) {
  char cmd[4200];
  snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
  assert_int_equal(system(cmd), 0);
  free(dir);
}

/* Copy file src over dst through dst.new and a rename, as a deploy does, so a reload never
 * sees half a file. */
static inline void tu_install(const char *src, const char *dst) {
  char tmp[4300];
  snprintf(tmp, sizeof(tmp), "%s.new", dst);
  int in = open(src, O_RDONLY), out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  assert_true(in >= 0 && out >= 0);
  char buf[65536];
  ssize_t n;
  while ((n = read(in, buf, sizeof(buf))) > 0)
    assert_int_equal(write(out, buf, (size_t)n), n);
  close(in);
  close(out);
  assert_int_equal(rename(tmp, dst), 0);
}

/* What the report says of plugin `name`; fails the test when it says nothing. */
static inline const struct ldr_plugin_result *tu_result_of(const struct ldr_report *rep,
                                                           const char *name) {
  for (size_t i = 0; i < rep->n_plugins; i++) {
    if (strcmp(rep->plugins[i].name, name) == 0)
      return &rep->plugins[i];
  }
  fail_msg("no result for plugin %s", name);
  return NULL;
}

/* The trampoline of `symbol` (which must be routed). */
static inline void *tu_tramp(const char *symbol) {
  void *t = NULL;
  assert_int_equal(ldr_route(symbol, &t), 0);
  return t;
}

/* Call int fn(void) `symbol` through its trampoline. */
static inline int tu_call_int(const char *symbol) { return ((int (*)(void))tu_tramp(symbol))(); }

#endif /* HOTSWAP_TESTS_TEST_UTIL_H */
