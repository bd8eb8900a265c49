/* SPDX-License-Identifier: BSD-3-Clause */
/* bench_state.c - what carrying state costs a reload, measured in one process through the
 * loader (no socket, no shim): reloads alternating two builds of a plugin whose static
 * array the "program" changes before each reload, for no state, 1 MiB and 16 MiB.
 *
 *   bench_state DIR   (DIR holds state{0,1024,16384}-{a,b}.so)
 * Prints @reload_ms_p50_state_none, @reload_ms_p50_state_1mib, @state_reload_ratio_1mib
 * (the two side by side), @state_carry_ms_per_mib (the copy step over 16 MiB, per MiB), and
 * beside it @copy_fresh_ms_per_mib, a plain memcpy into fresh memory on this machine, and
 * @state_carry_ratio_vs_copy.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "loader/lifecycle_int.h"

#define ROUNDS 101

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Reload `ROUNDS` times between the two builds of size kib (touching the state first when
 * touch); medians of the reload time and of the carry step, in ms. */
static int run(const char *dir, int kib, int touch, double *reload_ms, double *carry_ms) {
  char a[4096], b[4096], path[4096];
  snprintf(a, sizeof(a), "%s/state%d-a.so", dir, kib);
  snprintf(b, sizeof(b), "%s/state%d-b.so", dir, kib);
  snprintf(path, sizeof(path), "%s/run%d/libstate%d.so", dir, kib, kib);
  char sub[4096];
  snprintf(sub, sizeof(sub), "%s/run%d", dir, kib);
  mkdir(sub, 0755);
  double r[ROUNDS], c[ROUNDS];
  char name[64], fn[64];
  snprintf(name, sizeof(name), "state%d", kib);
  snprintf(fn, sizeof(fn), "bench_touch_%d", kib);
  for (int i = 0; i <= ROUNDS; i++) {
    char cmd[4 * 4096 + 64];
    snprintf(cmd, sizeof(cmd), "cp '%s' '%s.tmp' && mv -f '%s.tmp' '%s'", i % 2 ? b : a, path,
             path, path);
    if (system(cmd) != 0)
      return -1;
    if (touch && i > 0) {
      void (*t)(long) = (void (*)(long))dlsym(ldr_registry_find(name)->current->handle,
                                             fn);
      t(i);
    }
    const char *p = path;
    struct ldr_report rep;
    int rc = ldr_reload(&p, 1, NULL, &rep);
    if (rc != 0) {
      fprintf(stderr, "bench_state: reload failed: %s\n", rep.error);
      return -1;
    }
    if (i > 0) {
      r[i - 1] = rep.elapsed_ns / 1e6;
      c[i - 1] = rep.n_plugins ? rep.plugins[0].state.carry_ns / 1e6 : 0;
      if (touch && rep.plugins[0].state.carried_bytes < (size_t)kib * 1024) {
        fprintf(stderr, "bench_state: only %zu bytes carried\n",
                rep.plugins[0].state.carried_bytes);
        return -1;
      }
    }
    ldr_report_free(&rep);
  }
  qsort(r, ROUNDS, sizeof(r[0]), cmp);
  qsort(c, ROUNDS, sizeof(c[0]), cmp);
  *reload_ms = r[ROUNDS / 2];
  *carry_ms = c[ROUNDS / 2];
  return 0;
}

/* The floor on this machine, for comparison: ms per MiB to copy 16 MiB into fresh memory
 * (mmap, fault in, memcpy), the least a carry into a new version's .bss must do. */
static double copy_floor_ms_per_mib(void) {
  size_t n = (size_t)16 << 20;
  unsigned char *src = malloc(n);
  if (src == NULL)
    return 0;
  memset(src, 7, n);
  double best = 1e9;
  for (int i = 0; i < 5; i++) {
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    unsigned char *dst = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                              -1, 0);
    if (dst == MAP_FAILED)
      break;
    memcpy(dst, src, n);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    munmap(dst, n);
    double ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
    if (ms < best)
      best = ms;
  }
  free(src);
  return best / 16;
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: bench_state DIR\n");
    return 2;
  }
  ldr_retire_configure(&(struct ldr_retire_opts){.enabled = false});
  double none, none_c, one, one_c, big, big_c;
  if (run(argv[1], 0, 0, &none, &none_c) != 0 || run(argv[1], 1024, 1, &one, &one_c) != 0 ||
      run(argv[1], 16384, 1, &big, &big_c) != 0)
    return 1;
  printf("%d reloads each through the loader; the program changed all of the state\n", ROUNDS);
  printf("@reload_ms_p50_state_none %.3f\n@reload_ms_p50_state_1mib %.3f\n", none, one);
  printf("@state_reload_ratio_1mib %.2f\n", one / none);
  printf("@state_carry_ms_per_mib %.3f\n", big_c / 16);
  double floor_ms = copy_floor_ms_per_mib();
  printf("@copy_fresh_ms_per_mib %.3f\n@state_carry_ratio_vs_copy %.2f\n", floor_ms,
         floor_ms > 0 ? big_c / 16 / floor_ms : 0);
  return 0;
}
