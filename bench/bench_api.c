/* SPDX-License-Identifier: BSD-3-Clause */
/* bench_api.c - what the host API's per-call paths cost: ns per hotswap_live_fn,
 * hotswap_invoke and hotswap_invoke_each (3 plugins) through the loader (loader/api.h),
 * with the per-thread lookup cache the shim turns on, and without it (every call copies
 * the registry under its mutex and resolves with dlsym: the path before the cache), side
 * by side in one run. The plugins are the real tests/api fixtures, loaded by a real reload.
 * Prints "@key value" figures for bench/run.sh. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "loader/api.h"
#include "loader/loader.h"

#define ROUNDS 7 /* median over rounds; cached and uncached interleave in each round */

typedef int (*job_fn)(int);

static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static uint64_t no_reclaim(void) { return 0; }

/* Copy fixture `fx` ("ap_beta-v1") to dir/lib<name>.so; returns the path (static slot). */
static const char *install(const char *dir, const char *fx, int slot) {
  static char paths[3][4200];
  char src[4200], name[64], cmd[9000];
  snprintf(src, sizeof(src), "%s/%s.so", API_FIXTURE_DIR, fx);
  snprintf(name, sizeof(name), "%s", fx);
  *strchr(name, '-') = '\0';
  snprintf(paths[slot], sizeof(paths[slot]), "%s/lib%s.so", dir, name);
  snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", src, paths[slot]);
  if (system(cmd) != 0) {
    fprintf(stderr, "bench_api: cannot copy %s\n", src);
    exit(1);
  }
  return paths[slot];
}

/* One measurement: ns per call of `kind` over n calls. The results feed a checksum so
 * that no call can be dropped. */
__attribute__((noinline)) static double run(int kind, long n, unsigned *sum) {
  double t0 = now_ns();
  for (long i = 0; i < n; i++) {
    if (kind == 0) {
      *sum += (unsigned)(uintptr_t)ldr_live_fn("live_job_run");
    } else if (kind == 1) {
      void *ret = NULL;
      *sum += (unsigned)ldr_invoke("ap_beta", "greet", NULL, &ret);
    } else {
      *sum += (unsigned)ldr_invoke_each("greet", NULL, false, NULL);
    }
  }
  return (now_ns() - t0) / (double)n;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static double median(double *v, int n) {
  qsort(v, (size_t)n, sizeof(*v), cmp_double);
  return v[n / 2];
}

int main(void) {
  char dir[] = "/tmp/hotswap-bench-api.XXXXXX";
  if (mkdtemp(dir) == NULL)
    return 1;
  const char *list[3] = {install(dir, "ap_beta-v1", 0), install(dir, "ap_live-v1", 1),
                         install(dir, "ap_zulu-v1", 2)};
  struct hotswap_vault *vault = ldr_vault_stage(); /* the fixtures' on_init wants one */
  struct ldr_reload_opts opts = {.vault = vault};
  struct ldr_report rep;
  int rc = ldr_reload(list, 3, &opts, &rep);
  ldr_vault_finish(vault, rep.committed);
  if (rc != 0) {
    fprintf(stderr, "bench_api: load failed: %s\n", rep.error);
    return 1;
  }
  ldr_report_free(&rep);
  job_fn f = (job_fn)ldr_live_fn("live_job_run");
  if (f == NULL || f(7) != 107) {
    fprintf(stderr, "bench_api: live_job_run missing\n");
    return 1;
  }
  static const char *names[3] = {"live_fn", "invoke", "invoke_each"};
  double cached[3][ROUNDS], uncached[3][ROUNDS];
  unsigned sum = 0;
  for (int r = 0; r < ROUNDS; r++) {
    for (int k = 0; k < 3; k++) {
      ldr_api_cache_enable(NULL);
      uncached[k][r] = run(k, 100000, &sum);
      ldr_api_cache_enable(no_reclaim);
      cached[k][r] = run(k, 2000000, &sum);
    }
  }
  printf("host API per call (median of %d rounds), checksum %u:\n", ROUNDS, sum);
  for (int k = 0; k < 3; k++) {
    double c = median(cached[k], ROUNDS), u = median(uncached[k], ROUNDS);
    printf("  %-12s %8.1f ns cached, %8.1f ns uncached (x%.0f)\n", names[k], c, u, u / c);
    printf("@%s_ns %.1f\n@%s_uncached_ns %.1f\n", names[k], c, names[k], u);
  }
  char cmd[128];
  snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
  return system(cmd) == 0 ? 0 : 1;
}
