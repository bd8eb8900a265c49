/* SPDX-License-Identifier: BSD-3-Clause */
/* bench_util.h - what the reload benchmark drivers share (bench_reload.c, bench_threads.c):
 * a monotonic clock in ms, installing a plugin build with an atomic rename, and one
 * "reload" request on the control socket. Header-only (static functions). */
#ifndef HOTSWAP_BENCH_UTIL_H
#define HOTSWAP_BENCH_UTIL_H

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

/* CLOCK_MONOTONIC in milliseconds. */
static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Copy `from` next to `to` and rename it over `to`. Returns 0 or -1. */
static int install(const char *from, const char *to) {
  char tmp[4096];
  snprintf(tmp, sizeof(tmp), "%s.tmp", to);
  int in = open(from, O_RDONLY), out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  struct stat st;
  int rc = (in < 0 || out < 0 || fstat(in, &st) != 0 ||
            sendfile(out, in, NULL, (size_t)st.st_size) != st.st_size) ? -1 : 0;
  if (in >= 0) close(in);
  if (out >= 0) close(out);
  return rc == 0 ? rename(tmp, to) : -1;
}

/* One "reload" request on the control socket; the reply goes to reply[n]. Returns 0 when
 * the reply says ok, -1 otherwise. */
static int reload(const char *sock, char *reply, size_t n) {
  struct sockaddr_un a = {.sun_family = AF_UNIX};
  snprintf(a.sun_path, sizeof(a.sun_path), "%s", sock);
  int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  reply[0] = '\0';
  if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
      write(fd, "reload\n", 7) != 7) {
    if (fd >= 0) close(fd);
    return -1;
  }
  size_t got = 0;
  ssize_t r;
  while (got < n - 1 && (r = read(fd, reply + got, n - 1 - got)) > 0)
    got += (size_t)r;
  reply[got] = '\0';
  close(fd);
  return strstr(reply, "\"ok\":true") != NULL ? 0 : -1;
}

#endif
