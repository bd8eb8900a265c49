/* SPDX-License-Identifier: BSD-3-Clause */
/* bench_reload.c - reload latency of the shim: request on the control socket to the reply
 * that the new generation is committed, for N reloads alternating two builds of a
 * 10-symbol plugin (installed by rename before each request, as an operator would).
 *
 *   bench_reload SOCKET INSTALLED_PATH BUILD_A BUILD_B N [INTERVAL_MS]
 * Prints "@reload_ms_p50 X" and "@reload_ms_p99 Y". Exit 1 when any reload fails.
 * With INTERVAL_MS, it is the reload driver of the load benchmark instead: N reloads, one
 * every INTERVAL_MS, and only a count is printed (no process is spawned per reload, so the
 * driver itself costs the machine next to nothing).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "bench/bench_util.h"

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

int main(int argc, char **argv) {
  if (argc != 6 && argc != 7) {
    fprintf(stderr, "usage: bench_reload SOCKET INSTALLED_PATH BUILD_A BUILD_B N "
                    "[INTERVAL_MS]\n");
    return 2;
  }
  int n = atoi(argv[5]);
  double interval = argc == 7 ? atof(argv[6]) : 0;
  double *ms = calloc((size_t)n, sizeof(*ms));
  char reply[4096];
  for (int i = 0; i < n; i++) {
    if (install(i % 2 ? argv[3] : argv[4], argv[2]) != 0) {
      perror("bench_reload: install");
      return 1;
    }
    double t0 = now_ms();
    if (reload(argv[1], reply, sizeof(reply)) != 0) {
      fprintf(stderr, "bench_reload: reload %d failed: %s\n", i, reply);
      return 1;
    }
    ms[i] = now_ms() - t0;
    if (interval > 0 && ms[i] < interval)
      usleep((useconds_t)((interval - ms[i]) * 1000));
  }
  if (interval > 0) {
    printf("%d reloads, one every %.0f ms\n", n, interval);
    return 0;
  }
  qsort(ms, (size_t)n, sizeof(*ms), cmp);
  printf("%d reloads of a 10-symbol plugin, request to committed reply\n", n);
  printf("@reload_ms_p50 %.3f\n@reload_ms_p99 %.3f\n", ms[n / 2], ms[(n * 99) / 100]);
  return 0;
}
