/* SPDX-License-Identifier: BSD-3-Clause */
/* test_stress.c - the trampoline table under load: caller threads call routed functions of
 * two real shared libraries (v1, v2) without pause while a writer commits 10,000
 * generations that alternate between them. Every call must answer v1 or v2, never
 * anything else, and both must be seen. Also runs under ThreadSanitizer (`make unit
 * SANITIZE=thread`), which checks the C side of the publication. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "hotswap.h"
#include "loader/tramp.h"
#include "tests/fixtures/tramp_lib.h"

#ifndef TRAMP_FIXTURE_DIR
#define TRAMP_FIXTURE_DIR "build/tramp-fixtures"
#endif

#define CALLERS 3
#define COMMITS 10000

static void *lib[3];

struct caller {
  pthread_t th;
  int (*version)(void);                          /* through a trampoline */
  long (*ints)(long, long, long, long, long, long, long, long);
  struct tl_big (*big)(long);
  long calls; /* written by its caller with __atomic, read by the writer */
  long seen[3], garbage;
};

static int stop; /* __atomic */

static void *caller_main(void *arg) {
  struct caller *c = arg;
  while (!__atomic_load_n(&stop, __ATOMIC_ACQUIRE)) {
    int v = c->version();
    long s = c->ints(1, 1, 1, 1, 1, 1, 1, 1);   /* 36 + v * 1e8 */
    struct tl_big b = c->big(10);               /* v[i] = 10 * v + i */
    bool ok_v = v == 1 || v == 2;
    bool ok_s = s == 100000036L || s == 200000036L;
    bool ok_b = (b.v[0] == 10 || b.v[0] == 20) && b.v[7] == b.v[0] + 7;
    if (ok_v && ok_s && ok_b)
      c->seen[v]++;
    else
      c->garbage++;
    __atomic_store_n(&c->calls, c->calls + 1, __ATOMIC_RELAXED);
  }
  return NULL;
}

/* Waits until every caller has completed two more calls, so that at least one whole call
 * started after the last commit. Keeps the test meaningful on a loaded machine where the
 * writer could otherwise finish all its commits before a caller runs. */
static void wait_for_callers(struct caller *c) {
  long want[CALLERS];
  for (int i = 0; i < CALLERS; i++)
    want[i] = __atomic_load_n(&c[i].calls, __ATOMIC_RELAXED) + 2;
  for (int i = 0; i < CALLERS; i++)
    while (__atomic_load_n(&c[i].calls, __ATOMIC_RELAXED) < want[i])
      sched_yield();
}

/* Commits a generation where the three stress names reach the v build. */
static void commit_version(int v) {
  static const char *const names[] = {"tl_version", "tl_ints", "tl_big"};
  struct ldr_gen_builder *b = NULL;
  assert_int_equal(ldr_gen_begin(&b), 0);
  for (size_t i = 0; i < 3; i++)
    assert_int_equal(ldr_gen_set(b, names[i], dlsym(lib[v], names[i])), 0);
  ldr_gen_commit(b, NULL);
}

static void *route(const char *name) {
  void *t = NULL;
  assert_int_equal(ldr_route(name, &t), 0);
  return t;
}

static void stress__10000_commits_under_calls__every_call_answers_v1_or_v2(void **state) {
  (void)state;
  for (int v = 1; v <= 2; v++) {
    char path[512];
    snprintf(path, sizeof(path), "%s/libtramp_v%d.so", TRAMP_FIXTURE_DIR, v);
    lib[v] = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    assert_non_null(lib[v]);
  }
  commit_version(1);
  uint64_t first = ldr_gen_current()->number;
  struct caller c[CALLERS];
  memset(c, 0, sizeof(c));
  for (int i = 0; i < CALLERS; i++) {
    c[i].version = (int (*)(void))route("tl_version");
    c[i].ints = (long (*)(long, long, long, long, long, long, long, long))route("tl_ints");
    c[i].big = (struct tl_big(*)(long))route("tl_big");
    assert_int_equal(pthread_create(&c[i].th, NULL, caller_main, &c[i]), 0);
  }
  wait_for_callers(c); /* v1 seen */
  for (int k = 1; k <= COMMITS; k++) {
    commit_version(k % 2 == 0 ? 1 : 2);
    if (k % 1000 == 1)
      wait_for_callers(c); /* v2 seen, and calls overlap the whole run */
  }
  __atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
  long calls = 0, seen1 = 0, seen2 = 0, garbage = 0;
  for (int i = 0; i < CALLERS; i++) {
    assert_int_equal(pthread_join(c[i].th, NULL), 0);
    calls += c[i].calls;
    seen1 += c[i].seen[1];
    seen2 += c[i].seen[2];
    garbage += c[i].garbage;
  }
  printf("stress: %d commits, %ld calls (v1 %ld, v2 %ld, garbage %ld)\n", COMMITS, calls,
         seen1, seen2, garbage);
  assert_int_equal(ldr_gen_current()->number, first + COMMITS);
  assert_int_equal(garbage, 0);
  assert_true(seen1 > 0);
  assert_true(seen2 > 0);
  assert_int_equal(seen1 + seen2, calls);
  /* the last commit (k = COMMITS, even) chose v1 */
  assert_int_equal(((int (*)(void))route("tl_version"))(), 1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(stress__10000_commits_under_calls__every_call_answers_v1_or_v2),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
