/* SPDX-License-Identifier: BSD-3-Clause */
/* test_tramp.c - cmocka tests of the trampoline table (loader/tramp.c, tramp_x86_64.S):
 * every calling-convention case through a real trampoline, switched between two real
 * shared libraries (v1, v2), route stability, abort, builder serialization, ENOSLOT.
 * Tests share the one per-process table and run in order; the last one fills it. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "hotswap.h"
#include "loader/tramp.h"
#include "tests/fixtures/tramp_lib.h"

#ifndef TRAMP_FIXTURE_DIR
#define TRAMP_FIXTURE_DIR "build/tramp-fixtures"
#endif

static const char *const lib_fns[] = {"tl_version", "tl_ints",  "tl_doubles", "tl_mixed",
                                      "tl_format",  "tl_pair",  "tl_dpair",   "tl_big",
                                      "tl_byval"};
#define N_LIB_FNS (sizeof(lib_fns) / sizeof(lib_fns[0]))
/* cmocka 1.1.5 (Debian 12) has no assert_double_equal. */
#define assert_near(a, b, eps) assert_true(fabs((double)(a) - (double)(b)) <= (eps))

/* cmocka 1.1.5 (Debian 12) has no assert_double_equal. */
#define assert_near(a, b, eps) assert_true(fabs((double)(a) - (double)(b)) <= (eps))

static void *lib[3]; /* lib[1], lib[2]: the v1 and v2 builds */

static int open_libs(void **state) {
  (void)state;
  for (int v = 1; v <= 2; v++) {
    char path[512];
    snprintf(path, sizeof(path), "%s/libtramp_v%d.so", TRAMP_FIXTURE_DIR, v);
    lib[v] = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (lib[v] == NULL) {
      fprintf(stderr, "dlopen %s: %s\n", path, dlerror());
      return -1;
    }
  }
  return 0;
}

static int close_libs(void **state) {
  (void)state;
  /* Kept open: old generations may still point into them (never unmapped by design). */
  return 0;
}

/* Commits a generation where every tl_* name reaches the v build of the library. */
static const struct ldr_gen *use_version(int v) {
  struct ldr_gen_builder *b = NULL;
  assert_int_equal(ldr_gen_begin(&b), 0);
  for (size_t i = 0; i < N_LIB_FNS; i++) {
    void *fn = dlsym(lib[v], lib_fns[i]);
    assert_non_null(fn);
    assert_int_equal(ldr_gen_set(b, lib_fns[i], fn), 0);
  }
  return ldr_gen_commit(b, NULL);
}

static void *route(const char *name) {
  void *t = NULL;
  assert_int_equal(ldr_route(name, &t), 0);
  assert_non_null(t);
  return t;
}

/* ---- every signature kind, v1 then v2 through the same trampoline ------------------- */

static void ints__eight_args_two_on_stack__reach_v1_then_v2(void **state) {
  (void)state;
  use_version(1);
  long (*f)(long, long, long, long, long, long, long, long) = route("tl_ints");
  /* 1*1 + 2*2 + ... + 8*8 = 204 */
  assert_int_equal(f(1, 2, 3, 4, 5, 6, 7, 8), 100000000L + 204);
  use_version(2);
  assert_int_equal(f(1, 2, 3, 4, 5, 6, 7, 8), 200000000L + 204);
  assert_int_equal(f(-1, 0, 0, 0, 0, 0, 0, 1), 200000000L - 1 + 8);
}

static double doubles_expected(int v, const double *a) {
  double s = v * 1000.0;
  for (int i = 0; i < 10; i++)
    s += (i + 1) * a[i];
  return s;
}

static void doubles__ten_args_two_on_stack__reach_v1_then_v2(void **state) {
  (void)state;
  const double a[10] = {0.5, 1.25, -2.0, 3.5, 4.0, 5.75, 6.0, 7.5, 8.25, 9.0};
  double (*f)(double, double, double, double, double, double, double, double, double,
              double);
  use_version(1);
  f = route("tl_doubles");
  assert_near(f(a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9]),
                      doubles_expected(1, a), 1e-9);
  use_version(2);
  assert_near(f(a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9]),
                      doubles_expected(2, a), 1e-9);
}

static void mixed__ints_floats_pointer__reach_v1_then_v2(void **state) {
  (void)state;
  double (*f)(int, double, long, float, char, double, const int *, long, double, long);
  const int seven = 7;
  /* 1 + 2*2 + 3*3 + 4*4 + 5*5 + 6*6 + 7*7 + 8*8 + 9*9 + 10*10 = 385 */
  use_version(1);
  f = route("tl_mixed");
  assert_near(f(1, 2.0, 3, 4.0f, 5, 6.0, &seven, 8, 9.0, 10), 1000.0 + 385, 1e-9);
  use_version(2);
  assert_near(f(1, 2.0, 3, 4.0f, 5, 6.0, &seven, 8, 9.0, 10), 2000.0 + 385, 1e-9);
}

static void variadic__floats_need_al__survive_the_trampoline(void **state) {
  (void)state;
  int (*f)(char *, size_t, const char *, ...);
  char buf[256];
  const char *fmt = "%d %.2f %s %.1f %.1f %.1f %.1f %.1f %.1f %.1f %.1f %ld";
  const char *want = "1.50 x 2.0 3.0 4.0 5.0 6.0 7.0 8.0 9.0 -42";
  char expect[256];
  for (int v = 1; v <= 2; v++) {
    use_version(v);
    f = route("tl_format");
    /* nine doubles: eight in XMM0-7 (counted in %al), one on the stack */
    int n = f(buf, sizeof(buf), fmt, 42, 1.5, "x", 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0,
              -42L);
    snprintf(expect, sizeof(expect), "v%d:42 %s", v, want);
    assert_string_equal(buf, expect);
    assert_int_equal(n, (int)strlen(expect));
  }
}

static void struct_in_rax_rdx__returned__from_v1_then_v2(void **state) {
  (void)state;
  struct tl_pair (*f)(long) = NULL;
  use_version(1);
  f = route("tl_pair");
  struct tl_pair p = f(21);
  assert_int_equal(p.a, 21);
  assert_int_equal(p.b, 22);
  use_version(2);
  p = f(21);
  assert_int_equal(p.a, 42);
  assert_int_equal(p.b, 23);
}

static void struct_in_xmm0_xmm1__returned__from_v1_then_v2(void **state) {
  (void)state;
  struct tl_dpair (*f)(double) = NULL;
  use_version(1);
  f = route("tl_dpair");
  struct tl_dpair p = f(2.5);
  assert_near(p.x, 2.5, 0);
  assert_near(p.y, 3.5, 0);
  use_version(2);
  p = f(2.5);
  assert_near(p.x, 5.0, 0);
  assert_near(p.y, 4.5, 0);
}

static void large_struct__returned_via_hidden_pointer__from_v1_then_v2(void **state) {
  (void)state;
  struct tl_big (*f)(long) = NULL;
  for (int v = 1; v <= 2; v++) {
    use_version(v);
    f = route("tl_big");
    struct tl_big r = f(1000);
    for (int i = 0; i < 8; i++)
      assert_int_equal(r.v[i], 1000L * v + i);
  }
}

static void large_struct__passed_by_value_on_stack__reaches_v1_then_v2(void **state) {
  (void)state;
  long (*f)(struct tl_big, int) = NULL;
  struct tl_big b;
  long weighted = 0;
  for (int i = 0; i < 8; i++) {
    b.v[i] = 10 + i;
    weighted += (10 + i) * (i + 1);
  }
  for (int v = 1; v <= 2; v++) {
    use_version(v);
    f = route("tl_byval");
    assert_int_equal(f(b, 3), weighted * v + 3);
  }
}

/* ---- routing, generations, builders --------------------------------------------------- */

__attribute__((noinline)) static int local_v1(int x) { return x + 1; }
__attribute__((noinline)) static int local_v2(int x) { return x + 2; }

static void route__stays_the_same_address_across_commits(void **state) {
  (void)state;
  const struct ldr_gen *g1 = use_version(1);
  void *t = route("tl_version");
  int (*f)(void) = t;
  assert_int_equal(f(), 1);
  for (int i = 0; i < 20; i++) {
    const struct ldr_gen *g = use_version(2 - i % 2);
    assert_ptr_equal(ldr_gen_current(), g);
    assert_int_equal(g->number, g1->number + 1 + (uint64_t)i);
    assert_ptr_equal(route("tl_version"), t);
    assert_int_equal(f(), 2 - i % 2);
    assert_ptr_equal(ldr_current_target("tl_version"), dlsym(lib[2 - i % 2], "tl_version"));
  }
  /* functions of this binary route the same way, and `user` is kept */
  int tag = 0;
  struct ldr_gen_builder *b = NULL;
  assert_int_equal(ldr_gen_begin(&b), 0);
  assert_int_equal(ldr_gen_set(b, "local", (void *)local_v1), 0);
  assert_ptr_equal(ldr_gen_commit(b, &tag)->user, &tag);
  int (*l)(int) = route("local");
  assert_int_equal(l(40), 41);
  assert_int_equal(ldr_gen_begin(&b), 0);
  assert_int_equal(ldr_gen_set(b, "local", (void *)local_v2), 0);
  ldr_gen_commit(b, NULL);
  assert_ptr_equal(route("local"), (void *)l);
  assert_int_equal(l(40), 42);
  assert_int_equal(f(), 1); /* untouched by a generation that did not set it */
}

static void route__unknown_name__is_enotfound(void **state) {
  (void)state;
  void *t = (void *)&t;
  assert_int_equal(ldr_route("no_such_function", &t), HOTSWAP_ENOTFOUND);
  assert_ptr_equal(t, (void *)&t); /* untouched */
  assert_string_equal(hotswap_strerror(HOTSWAP_ENOTFOUND), "no such symbol");
  assert_null(ldr_current_target("no_such_function"));
  assert_int_equal(ldr_route(NULL, &t), -EINVAL);
  assert_int_equal(ldr_route("tl_ints", NULL), -EINVAL);
}

static void tramp_index__of_routes_and_other_addresses(void **state) {
  (void)state;
  use_version(1);
  char *t = route("tl_ints");
  long i = ldr_tramp_index(t);
  assert_true(i >= 0 && i < LDR_TRAMP_MAX);
  assert_int_not_equal(ldr_tramp_index(route("tl_doubles")), i);
  assert_int_equal(ldr_tramp_index(t + 1), -1);
  assert_int_equal(ldr_tramp_index(t - LDR_TRAMP_SIZE * i), 0);
  assert_int_equal(ldr_tramp_index(t - LDR_TRAMP_SIZE * (i + 1)), -1);
  assert_int_equal(ldr_tramp_index(t + LDR_TRAMP_SIZE * (LDR_TRAMP_MAX - i)), -1);
  assert_int_equal(ldr_tramp_index(t + LDR_TRAMP_SIZE * (LDR_TRAMP_MAX - 1 - i)),
                   LDR_TRAMP_MAX - 1);
  assert_int_equal(ldr_tramp_index(dlsym(lib[1], "tl_ints")), -1);
  assert_int_equal(ldr_tramp_index(NULL), -1);
  assert_int_equal(ldr_tramp_index(&i), -1);
}

static void abort__leaves_current_generation_untouched(void **state) {
  (void)state;
  const struct ldr_gen *before = use_version(1);
  size_t count = ldr_route_count();
  struct ldr_gen_builder *b = NULL;
  assert_int_equal(ldr_gen_begin(&b), 0);
  assert_ptr_equal(ldr_gen_staged_target(b, "tl_ints"), dlsym(lib[1], "tl_ints"));
  assert_int_equal(ldr_gen_set(b, "tl_ints", dlsym(lib[2], "tl_ints")), 0);
  assert_int_equal(ldr_gen_set(b, "aborted_new", (void *)local_v1), 0);
  assert_ptr_equal(ldr_gen_staged_target(b, "tl_ints"), dlsym(lib[2], "tl_ints"));
  assert_ptr_equal(ldr_gen_staged_target(b, "aborted_new"), (void *)local_v1);
  assert_null(ldr_gen_staged_target(b, "never_set"));
  ldr_gen_abort(b);

  assert_ptr_equal(ldr_gen_current(), before);
  assert_ptr_equal(ldr_current_target("tl_ints"), dlsym(lib[1], "tl_ints"));
  long (*f)(long, long, long, long, long, long, long, long) = route("tl_ints");
  assert_int_equal(f(0, 0, 0, 0, 0, 0, 0, 0), 100000000L);
  void *t = NULL;
  assert_int_equal(ldr_route("aborted_new", &t), HOTSWAP_ENOTFOUND);
  assert_int_equal(ldr_route_count(), count);

  /* the name kept its reserved slot: a later builder defines it there */
  assert_int_equal(ldr_gen_begin(&b), 0);
  assert_null(ldr_gen_staged_target(b, "aborted_new"));
  assert_int_equal(ldr_gen_set(b, "aborted_new", (void *)local_v2), 0);
  ldr_gen_commit(b, NULL);
  int (*g)(int) = route("aborted_new");
  assert_int_equal(g(1), 3);
  assert_int_equal(ldr_route_count(), count + 1);
}

static void builder__bad_arguments__are_einval(void **state) {
  (void)state;
  struct ldr_gen_builder *b = NULL;
  assert_int_equal(ldr_gen_begin(NULL), -EINVAL);
  assert_int_equal(ldr_gen_begin(&b), 0);
  assert_int_equal(ldr_gen_set(b, NULL, (void *)local_v1), -EINVAL);
  assert_int_equal(ldr_gen_set(b, "", (void *)local_v1), -EINVAL);
  assert_int_equal(ldr_gen_set(b, "x", NULL), -EINVAL);
  assert_int_equal(ldr_gen_set(NULL, "x", (void *)local_v1), -EINVAL);
  /* a second builder in the same thread would wait for itself forever */
  struct ldr_gen_builder *b2 = NULL;
  assert_int_equal(ldr_gen_begin(&b2), -EDEADLK);
  assert_null(b2);
  ldr_gen_abort(b);
  ldr_gen_abort(NULL);
}

struct second_builder {
  pthread_t th;
  int done; /* __atomic */
  const struct ldr_gen *gen;
};

static void *second_builder_main(void *arg) {
  struct second_builder *s = arg;
  struct ldr_gen_builder *b = NULL;
  if (ldr_gen_begin(&b) != 0 || ldr_gen_set(b, "from_b", (void *)local_v2) != 0)
    return NULL;
  s->gen = ldr_gen_commit(b, NULL);
  __atomic_store_n(&s->done, 1, __ATOMIC_RELEASE);
  return NULL;
}

static void builder__second_thread__waits_and_loses_no_update(void **state) {
  (void)state;
  struct ldr_gen_builder *a = NULL;
  assert_int_equal(ldr_gen_begin(&a), 0);
  assert_int_equal(ldr_gen_set(a, "from_a", (void *)local_v1), 0);
  struct second_builder s = {0};
  assert_int_equal(pthread_create(&s.th, NULL, second_builder_main, &s), 0);
  nanosleep(&(struct timespec){0, 50 * 1000 * 1000}, NULL);
  assert_int_equal(__atomic_load_n(&s.done, __ATOMIC_ACQUIRE), 0);
  const struct ldr_gen *ga = ldr_gen_commit(a, NULL);
  assert_int_equal(pthread_join(s.th, NULL), 0);
  assert_non_null(s.gen);
  assert_int_equal(s.gen->number, ga->number + 1);
  assert_ptr_equal(ldr_current_target("from_a"), (void *)local_v1);
  assert_ptr_equal(ldr_current_target("from_b"), (void *)local_v2);
}

/* ---- the end of the table: runs last, fills every slot -------------------------------- */

__attribute__((noinline)) static long slot_fn0(long x) { return 3 * x; }
__attribute__((noinline)) static long slot_fn1(long x) { return 3 * x + 1; }
__attribute__((noinline)) static long slot_fn2(long x) { return 3 * x + 2; }

static void fill__past_ldr_tramp_max__is_enoslot_and_every_trampoline_works(void **state) {
  (void)state;
  long (*const fns[3])(long) = {slot_fn0, slot_fn1, slot_fn2};
  struct ldr_gen_builder *b = NULL;
  char name[32];
  int rc = 0, filled = 0;
  size_t count = ldr_route_count();
  assert_int_equal(ldr_gen_begin(&b), 0);
  while (rc == 0 && filled <= LDR_TRAMP_MAX) {
    snprintf(name, sizeof(name), "fill_%d", filled);
    rc = ldr_gen_set(b, name, (void *)fns[filled % 3]);
    filled += rc == 0;
  }
  assert_int_equal(rc, HOTSWAP_ENOSLOT);
  assert_string_equal(hotswap_strerror(rc), "no free trampoline left");
  assert_true(filled > LDR_TRAMP_MAX - 100);
  /* a known name still gets a new target when the table is full */
  assert_int_equal(ldr_gen_set(b, "tl_ints", dlsym(lib[2], "tl_ints")), 0);
  const struct ldr_gen *g = ldr_gen_commit(b, NULL);
  assert_int_equal(g->n, LDR_TRAMP_MAX);
  assert_int_equal(ldr_route_count(), count + (size_t)filled);

  snprintf(name, sizeof(name), "fill_%d", filled - 1);
  assert_int_equal(ldr_tramp_index(route(name)), LDR_TRAMP_MAX - 1);
  /* every trampoline jumps through its own slot: call each, check which target answered */
  for (int i = 0; i < filled; i++) {
    snprintf(name, sizeof(name), "fill_%d", i);
    long (*f)(long) = route(name);
    assert_int_equal(f(i), 3L * i + i % 3);
  }
  void *t = NULL;
  assert_int_equal(ldr_route(name, &t), 0);
  assert_int_equal(ldr_gen_begin(&b), 0);
  assert_int_equal(ldr_gen_set(b, "one_too_many", (void *)slot_fn0), HOTSWAP_ENOSLOT);
  ldr_gen_abort(b);
  assert_int_equal(ldr_route("one_too_many", &t), HOTSWAP_ENOTFOUND);
}

/* ---- reclaiming superseded generations (the shim's quiet stack-check round) ---------- */

struct released {
  size_t n;
  uint64_t numbers[64];
  int *tags[64];
};

static void record_release(void *user, uint64_t number, void *arg) {
  struct released *r = arg;
  if (r->n < 64) {
    r->numbers[r->n] = number;
    r->tags[r->n] = user;
  }
  r->n++;
}

static const struct ldr_gen *commit_tagged(int v, int *tag) {
  struct ldr_gen_builder *b = NULL;
  assert_int_equal(ldr_gen_begin(&b), 0);
  assert_int_equal(ldr_gen_set(b, "tl_version", dlsym(lib[v], "tl_version")), 0);
  return ldr_gen_commit(b, tag);
}

static void reclaim__after_a_quiet_round__frees_older_generations_keeps_two(void **state) {
  (void)state;
  int tags[12];
  int (*f)(void) = NULL;
  for (int i = 0; i < 4; i++)
    commit_tagged(1 + i % 2, &tags[i]);
  f = route("tl_version");
  /* A simulated round begins now: it proves nothing about generations committed later. */
  uint64_t mark = ldr_gen_mark();
  assert_int_equal(mark, ldr_gen_current()->number);
  for (int i = 4; i < 8; i++)
    commit_tagged(1 + i % 2, &tags[i]);
  const struct ldr_gen *cur = ldr_gen_current();
  assert_int_equal(cur->number, mark + 4);
  size_t before = ldr_gen_retained();
  assert_true(before >= 8);
  assert_int_equal(ldr_gen_reclaimable(0), 0);
  size_t want = ldr_gen_reclaimable(mark);
  assert_int_equal(want, before - 5); /* mark and the four after it stay */
  struct released r = {0};
  assert_int_equal(ldr_gen_reclaim(mark, record_release, &r), want);
  assert_int_equal(r.n, want);
  for (size_t i = 0; i < r.n && i < 64; i++)
    assert_true(r.numbers[i] < mark);
  assert_ptr_equal(r.tags[0], &tags[2]); /* newest first: mark - 1 was tags[2] */
  assert_int_equal(ldr_gen_retained(), 5);
  assert_int_equal(ldr_gen_reclaim(mark, record_release, &r), 0); /* nothing left below */
  /* A later quiet round: everything but the current and the previous one goes. */
  assert_int_equal(ldr_gen_reclaim(ldr_gen_mark(), NULL, NULL), 3);
  assert_int_equal(ldr_gen_retained(), 2);
  assert_int_equal(ldr_gen_reclaim(UINT64_MAX, NULL, NULL), 0);
  assert_ptr_equal(ldr_gen_current(), cur);
  assert_ptr_equal(cur->user, &tags[7]);
  assert_int_equal(f(), 2); /* tags[7] was version 2; the trampoline still works */
  commit_tagged(1, &tags[8]);
  assert_int_equal(f(), 1);
  assert_int_equal(ldr_gen_reclaim(ldr_gen_mark(), NULL, NULL), 1);
  assert_int_equal(ldr_gen_retained(), 2);
}

static void tramp_contains__the_whole_pool_and_nothing_else(void **state) {
  (void)state;
  const char *t = route("tl_version");
  assert_true(ldr_tramp_contains(t));
  assert_true(ldr_tramp_contains(t + LDR_TRAMP_SIZE - 1));
  assert_false(ldr_tramp_contains((const void *)local_v1));
  assert_false(ldr_tramp_contains(dlsym(lib[1], "tl_version")));
  assert_false(ldr_tramp_contains(NULL));
}

/* Every trampoline starts with the landing pad of its architecture's indirect-branch
 * checks (x86-64 CET/IBT: endbr64; aarch64 BTI: bti c), and a routed address is one. */
static void landing_pad__starts_every_trampoline(void **state) {
  (void)state;
  const unsigned char *t = route("tl_version");
  long i = ldr_tramp_index(t);
  assert_true(i >= 0);
  const unsigned char *base = t - (size_t)i * LDR_TRAMP_SIZE;
#if defined(__x86_64__)
  static const unsigned char pad[] = {0xf3, 0x0f, 0x1e, 0xfa}; /* endbr64 */
#elif defined(__aarch64__)
  static const unsigned char pad[] = {0x5f, 0x24, 0x03, 0xd5}; /* bti c (hint #34) */
#endif
  for (long k = 0; k < LDR_TRAMP_MAX; k += 1) {
    if (memcmp(base + (size_t)k * LDR_TRAMP_SIZE, pad, sizeof(pad)) != 0)
      fail_msg("trampoline %ld does not start with the landing pad", k);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(ints__eight_args_two_on_stack__reach_v1_then_v2),
      cmocka_unit_test(doubles__ten_args_two_on_stack__reach_v1_then_v2),
      cmocka_unit_test(mixed__ints_floats_pointer__reach_v1_then_v2),
      cmocka_unit_test(variadic__floats_need_al__survive_the_trampoline),
      cmocka_unit_test(struct_in_rax_rdx__returned__from_v1_then_v2),
      cmocka_unit_test(struct_in_xmm0_xmm1__returned__from_v1_then_v2),
      cmocka_unit_test(large_struct__returned_via_hidden_pointer__from_v1_then_v2),
      cmocka_unit_test(large_struct__passed_by_value_on_stack__reaches_v1_then_v2),
      cmocka_unit_test(route__stays_the_same_address_across_commits),
      cmocka_unit_test(route__unknown_name__is_enotfound),
      cmocka_unit_test(tramp_index__of_routes_and_other_addresses),
      cmocka_unit_test(abort__leaves_current_generation_untouched),
      cmocka_unit_test(builder__bad_arguments__are_einval),
      cmocka_unit_test(builder__second_thread__waits_and_loses_no_update),
      cmocka_unit_test(fill__past_ldr_tramp_max__is_enoslot_and_every_trampoline_works),
      cmocka_unit_test(reclaim__after_a_quiet_round__frees_older_generations_keeps_two),
      cmocka_unit_test(tramp_contains__the_whole_pool_and_nothing_else),
      cmocka_unit_test(landing_pad__starts_every_trampoline),
  };
  return cmocka_run_group_tests(tests, open_libs, close_libs);
}
