/* SPDX-License-Identifier: BSD-3-Clause */
/* test_util.h - helpers shared by the loader's cmocka tests (test_lifecycle.c,
 * test_vault.c, test_adopt.c, tests/api/test_api.c): private folders, installing a fixture
 * the way a deploy does, reading a reload report, calling through a trampoline. Include
 * after <cmocka.h> and loader/loader.h. */
#ifndef HOTSWAP_TESTS_TEST_UTIL_H
#define HOTSWAP_TESTS_TEST_UTIL_H

#include <fcntl.h>
#include <stdint.h>
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

/* Install fixture `fixture` of folder fixdir (e.g. "alpha-v2" for <fixdir>/alpha-v2.so) as
 * <dir>/lib<name>.so, replacing the file by a rename the way a deploy does; the path goes to
 * out (4096 bytes), which is returned. */
static inline const char *tu_install_fixture(const char *fixdir, const char *dir,
                                             const char *fixture, const char *name,
                                             char *out) {
  char src[4096];
  snprintf(src, sizeof(src), "%s/%s.so", fixdir, fixture);
  snprintf(out, 4096, "%s/lib%s.so", dir, name);
  tu_install(src, out);
  return out;
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

/* Call void *fn(void) `symbol` through its trampoline. */
static inline void *tu_call_ptr(const char *symbol) {
  return ((void *(*)(void))tu_tramp(symbol))();
}

/* Number of the current generation, UINT64_MAX before the first commit. */
static inline uint64_t tu_generation(void) {
  const struct ldr_gen *g = ldr_gen_current();
  return g != NULL ? g->number : UINT64_MAX;
}

#endif /* HOTSWAP_TESTS_TEST_UTIL_H */
