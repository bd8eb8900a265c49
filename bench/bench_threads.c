/* SPDX-License-Identifier: BSD-3-Clause */
/* bench_threads.c - reload and retirement latency of one running daemon, driven over its
 * control socket: N reloads alternating two builds (installed by rename, as an operator
 * would), each one only after the version it replaced has been retired, so that a reload
 * never queues behind the previous version's stack check.
 *
 *   bench_threads SOCKET INSTALLED_PATH BUILD_A BUILD_B LOG N SUFFIX
 * reload_ms: request sent to committed reply. retire_ms: committed reply to the log line
 * "retired <plugin> <version> after ..." for the version it replaced (HOTSWAP_GRACE_MS=0 is
 * the caller's job). Prints "@reload_ms_p50_SUFFIX", "@reload_ms_p99_SUFFIX",
 * "@retire_ms_p50_SUFFIX", "@retire_ms_p99_SUFFIX". Exit 1 when a reload fails or a
 * replaced version is not retired within 30 s (the line says which).
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

/* How long one replaced version may take to retire before the run is called a failure. */
#define RETIRE_CEILING_MS 30000.0

/* Whether the log (read from *off on, which advances over whole lines) has gained a line
 * that says "retired" and names `version` (" <version> ") since the last call. */
static int log_gained(int fd, off_t *off, const char *version) {
  char buf[65536], word[80];
  ssize_t r = pread(fd, buf, sizeof(buf) - 1, *off);
  if (r <= 0)
    return 0;
  buf[r] = '\0';
  char *end = strrchr(buf, '\n');
  if (end == NULL)
    return 0;
  end[1] = '\0';
  *off += end + 1 - buf;
  snprintf(word, sizeof(word), " %s ", version);
  for (char *save = NULL, *l = strtok_r(buf, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
    if (strstr(l, "retired ") != NULL && strstr(l, word) != NULL)
      return 1;
  }
  return 0;
}

/* Wait for the log line that retires `version`. Returns ms waited, or -1 past the
 * ceiling. Polls every 100 us: the figure is a few ms at most. */
static double wait_retired(int fd, off_t *off, const char *version) {
  double t0 = now_ms();
  while (!log_gained(fd, off, version)) {
    if (now_ms() - t0 > RETIRE_CEILING_MS)
      return -1;
    struct timespec ts = {0, 100000};
    nanosleep(&ts, NULL);
  }
  return now_ms() - t0;
}

/* The version the reply says was replaced: the word before " -> " in its message.
 * Copied to out[n]; empty when not found. */
static void replaced_version(const char *reply, char *out, size_t n) {
  const char *arrow = strstr(reply, " -> ");
  out[0] = '\0';
  if (arrow == NULL)
    return;
  const char *p = arrow;
  while (p > reply && p[-1] != ' ')
    p--;
  snprintf(out, n, "%.*s", (int)(arrow - p), p);
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Print the p50 and p99 of v[0..n) as "@<what>_p50_<suffix>" and "..._p99_...". */
static void report(const char *what, double *v, int n, const char *suffix) {
  qsort(v, (size_t)n, sizeof(*v), cmp);
  printf("@%s_p50_%s %.3f\n@%s_p99_%s %.3f\n", what, suffix, v[n / 2], what, suffix,
         v[(n * 99) / 100]);
}

/* Reload i (installing build A or B), time it, then wait for the replaced version to be
 * retired. Returns 0, or 1 after saying what failed. */
static int one_reload(char **argv, int i, int logfd, off_t *off, double *rel, double *ret) {
  char reply[8192], old[64];
  if (install(i % 2 ? argv[3] : argv[4], argv[2]) != 0) {
    perror("bench_threads: install");
    return 1;
  }
  double t0 = now_ms();
  if (reload(argv[1], reply, sizeof(reply)) != 0) {
    fprintf(stderr, "bench_threads: reload %d failed: %s\n", i, reply);
    return 1;
  }
  *rel = now_ms() - t0;
  replaced_version(reply, old, sizeof(old));
  if (old[0] == '\0' || (*ret = wait_retired(logfd, off, old)) < 0) {
    fprintf(stderr, "bench_threads: reload %d: version '%s' not retired within %.0f s; "
                    "reply: %s\n", i, old, RETIRE_CEILING_MS / 1000, reply);
    return 1;
  }
  return 0;
}

int main(int argc, char **argv) {
  if (argc != 8 || atoi(argv[6]) <= 0) {
    fprintf(stderr, "usage: bench_threads SOCKET INSTALLED_PATH BUILD_A BUILD_B LOG N "
                    "SUFFIX\n");
    return 2;
  }
  int n = atoi(argv[6]), logfd = open(argv[5], O_RDONLY);
  double *rel = calloc((size_t)n + 1, sizeof(*rel)), *ret = calloc((size_t)n + 1, sizeof(*ret));
  struct stat st;
  if (logfd < 0 || fstat(logfd, &st) != 0 || rel == NULL || ret == NULL) {
    perror("bench_threads: log");
    return 1;
  }
  off_t off = st.st_size;
  /* Reload 0 replaces the copy ld.so loaded (adopted: retired with no stack check), so
   * it is not counted. */
  for (int i = 0; i <= n; i++) {
    if (one_reload(argv, i, logfd, &off, &rel[i], &ret[i]) != 0)
      return 1;
  }
  printf("%s: %d reloads, each after the previous version retired\n", argv[7], n);
  report("reload_ms", rel + 1, n, argv[7]);
  report("retire_ms", ret + 1, n, argv[7]);
  return 0;
}
