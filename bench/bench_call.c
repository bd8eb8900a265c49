/* SPDX-License-Identifier: BSD-3-Clause */
/* bench_call.c - what a trampoline costs on the hot path: ns per call of a direct call,
 * a PLT call into a shared library, and the same library function reached the way a
 * retrofitted host reaches it (a call through its GOT slot that now holds the trampoline,
 * which jumps through the current generation). Also the time to build and commit a
 * generation of 10 and of 1,000 symbols. Prints "@key value" figures for bench/run.sh. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "loader/tramp.h"

#define CALLS 20000000L /* per measurement */
#define ROUNDS 15       /* median over rounds; the three kinds interleave in each round */
#define GEN_ROUNDS 31

int bench_callee(unsigned x); /* libbench_callee.so, reached through the PLT */

/* Same body as bench_callee, in this binary. noipa: the compiler may neither inline it nor
 * use what it knows about its body at the call site. */
__attribute__((noipa)) static int local_callee(unsigned x) {
  return (int)(x * 2654435761u >> 7) + 1;
}

/* Stands for the host's GOT entry that the shim pointed at the trampoline: volatile, so
 * each call loads it from memory as `call *got(%rip)` does. */
static int (*volatile got_slot)(unsigned);

static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* Each loop feeds the result into the next argument, so no call can be hoisted or elided. */
__attribute__((noinline)) static double run_direct(void) {
  unsigned acc = 1;
  double t0 = now_ns();
  for (long i = 0; i < CALLS; i++)
    acc += (unsigned)local_callee(acc);
  double t = now_ns() - t0;
  __asm__ volatile("" : : "r"(acc));
  return t / CALLS;
}

__attribute__((noinline)) static double run_plt(void) {
  unsigned acc = 1;
  double t0 = now_ns();
  for (long i = 0; i < CALLS; i++)
    acc += (unsigned)bench_callee(acc);
  double t = now_ns() - t0;
  __asm__ volatile("" : : "r"(acc));
  return t / CALLS;
}

__attribute__((noinline)) static double run_routed(void) {
  unsigned acc = 1;
  double t0 = now_ns();
  for (long i = 0; i < CALLS; i++)
    acc += (unsigned)got_slot(acc);
  double t = now_ns() - t0;
  __asm__ volatile("" : : "r"(acc));
  return t / CALLS;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double median(double *v, int n) {
  qsort(v, (size_t)n, sizeof(v[0]), cmp_double);
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Microseconds to begin, set `n` names and commit, median over GEN_ROUNDS. Returns -1 on
 * error (printed). */
static double gen_commit_us(char **names, int n) {
  double t[GEN_ROUNDS];
  for (int r = 0; r < GEN_ROUNDS; r++) {
    struct ldr_gen_builder *b = NULL;
    double t0 = now_ns();
    int rc = ldr_gen_begin(&b);
    for (int i = 0; rc == 0 && i < n; i++)
      rc = ldr_gen_set(b, names[i], (void *)(r % 2 ? bench_callee : local_callee));
    if (rc != 0) {
      fprintf(stderr, "bench_call: building a generation: %s\n", hotswap_strerror(rc));
      ldr_gen_abort(b);
      return -1;
    }
    ldr_gen_commit(b, NULL);
    t[r] = (now_ns() - t0) / 1e3;
  }
  return median(t, GEN_ROUNDS);
}

static int bench_calls(void) {
  struct ldr_gen_builder *b = NULL;
  void *tramp = NULL;
  int rc = ldr_gen_begin(&b);
  if (rc == 0 && (rc = ldr_gen_set(b, "bench_callee", (void *)bench_callee)) != 0)
    ldr_gen_abort(b);
  if (rc == 0 && ldr_gen_commit(b, NULL) != NULL)
    rc = ldr_route("bench_callee", &tramp);
  if (rc != 0) {
    fprintf(stderr, "bench_call: routing bench_callee: %s\n", hotswap_strerror(rc));
    return 1;
  }
  got_slot = (int (*)(unsigned))tramp;
  if (got_slot(7) != bench_callee(7) || local_callee(7) != bench_callee(7)) {
    fprintf(stderr, "bench_call: the three paths disagree\n");
    return 1;
  }
  double d[ROUNDS], p[ROUNDS], t[ROUNDS], ratio[ROUNDS];
  run_direct(), run_plt(), run_routed(); /* warm up caches, predictors, lazy binding */
  for (int r = 0; r < ROUNDS; r++) {
    /* rotate the order so no kind always runs first or last */
    for (int k = 0; k < 3; k++) {
      switch ((r + k) % 3) {
      case 0: d[r] = run_direct(); break;
      case 1: p[r] = run_plt(); break;
      default: t[r] = run_routed(); break;
      }
    }
    ratio[r] = t[r] / p[r];
  }
  printf("%ld calls x %d interleaved rounds, medians:\n", CALLS, ROUNDS);
  printf("@call_ns_direct %.3f\n", median(d, ROUNDS));
  printf("@call_ns_plt %.3f\n", median(p, ROUNDS));
  printf("@call_ns_routed %.3f\n", median(t, ROUNDS));
  printf("@call_ratio_routed_vs_plt %.3f\n", median(ratio, ROUNDS));
  return 0;
}

static int bench_gens(void) {
  enum { NAMES = 1000 };
  static char *names[NAMES];
  for (int i = 0; i < NAMES; i++)
    if (asprintf(&names[i], "bench_sym_%d", i) < 0)
      return 1;
  /* after the first round every name has its slot: the median is the cost of a reload */
  printf("begin + set N + commit, median of %d:\n", GEN_ROUNDS);
  double us10 = gen_commit_us(names, 10);
  if (us10 < 0)
    return 1;
  printf("@gen_commit_us_10 %.2f\n", us10);
  double us1000 = gen_commit_us(names, NAMES);
  if (us1000 < 0)
    return 1;
  printf("@gen_commit_us_1000 %.2f\n", us1000);
  return 0;
}

int main(void) {
  int rc = bench_calls();
  return rc != 0 ? rc : bench_gens();
}
