/* SPDX-License-Identifier: BSD-3-Clause */
/* bench_inspect.c - how long elf_inspect_fd takes on a plugin with 10,000 exported
 * functions (bench/module.mk generates and builds it). Prints the median of RUNS runs as
 * "@inspect_ms_10k_exports <ms>" for bench/run.sh; the target is under 5 ms.
 *
 *   bench_inspect [PLUGIN.so [RUNS]]    (default: BENCH_MANY10K, 50 runs)
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "elf/elf.h"

#ifndef BENCH_MANY10K
#define BENCH_MANY10K "build/bench/many10k.so"
#endif
#define MIN_EXPORTS 10000

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Inspects fd once; returns the time in ms, or a negative value after printing why. */
static double one_run(int fd, const char *path, size_t *n_exports) {
  char err[ELF_ERR_MAX] = "";
  struct elf_info *info;
  double t0 = now_ms();
  int rc = elf_inspect_fd(fd, NULL, &info, err);
  double t1 = now_ms();
  if (rc != 0) {
    fprintf(stderr, "bench_inspect: %s: %s (%s)\n", path, hotswap_strerror(rc), err);
    return -1;
  }
  *n_exports = info->n_exports;
  elf_info_free(info);
  return t1 - t0;
}

int main(int argc, char **argv) {
  const char *path = argc > 1 ? argv[1] : BENCH_MANY10K;
  int runs = argc > 2 ? atoi(argv[2]) : 50;
  if (runs < 1 || runs > 100000) {
    fprintf(stderr, "usage: bench_inspect [PLUGIN.so [RUNS]]\n");
    return 2;
  }
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    perror(path);
    return 1;
  }
  double *ms = calloc((size_t)runs, sizeof(*ms));
  size_t n_exports = 0;
  int rc = 0;
  if (ms == NULL || one_run(fd, path, &n_exports) < 0) /* warm-up: page cache, libelf */
    rc = 1;
  for (int i = 0; rc == 0 && i < runs; i++)
    if ((ms[i] = one_run(fd, path, &n_exports)) < 0)
      rc = 1;
  if (rc == 0 && n_exports < MIN_EXPORTS) {
    fprintf(stderr, "bench_inspect: %s: %zu exports, expected at least %d\n", path,
            n_exports, MIN_EXPORTS);
    rc = 1;
  }
  if (rc == 0) {
    qsort(ms, (size_t)runs, sizeof(*ms), cmp_double);
    double median = runs % 2 ? ms[runs / 2] : (ms[runs / 2 - 1] + ms[runs / 2]) / 2;
    printf("elf_inspect_fd on %s (%zu exports): median %.3f ms, min %.3f, max %.3f over "
           "%d runs (target < 5 ms)\n",
           path, n_exports, median, ms[0], ms[runs - 1], runs);
    printf("@inspect_ms_10k_exports %.3f\n", median);
  }
  free(ms);
  close(fd);
  return rc;
}
