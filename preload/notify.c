/* SPDX-License-Identifier: BSD-3-Clause */
/* notify.c - systemd's notify protocol, spoken on behalf of an unmodified daemon:
 * RELOADING=1 with MONOTONIC_USEC in one datagram when a reload starts, READY=1 with a
 * STATUS= line when it ends (Type=notify-reload, systemd >= 253). */
#define _GNU_SOURCE
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "preload/preload.h"

/* Send one datagram to `sock` (a path, or "@name" for the abstract namespace).
 * Returns 0 or -errno. */
int pre_notify_send(const char *sock, const char *msg) {
  struct sockaddr_un addr;
  size_t len = strlen(sock);
  if (len == 0 || len >= sizeof(addr.sun_path))
    return -EINVAL;
  memset(&addr, 0, sizeof(addr));
  addr.sun_family = AF_UNIX;
  memcpy(addr.sun_path, sock, len);
  if (sock[0] == '@')
    addr.sun_path[0] = '\0';
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return -errno;
  ssize_t n = sendto(fd, msg, strlen(msg), MSG_NOSIGNAL, (struct sockaddr *)&addr,
                     (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len));
  int rc = n < 0 ? -errno : 0;
  close(fd);
  return rc;
}

int pre_notify_reloading(const char *sock) {
  struct timespec ts;
  char msg[96];
  clock_gettime(CLOCK_MONOTONIC, &ts);
  snprintf(msg, sizeof(msg), "RELOADING=1\nMONOTONIC_USEC=%llu\n",
           (unsigned long long)ts.tv_sec * 1000000ull + (unsigned long long)ts.tv_nsec / 1000);
  return pre_notify_send(sock, msg);
}

int pre_notify_ready(const char *sock, const char *status) {
  char msg[1024];
  /* STATUS= is one line: cut at the first newline. */
  int n = snprintf(msg, sizeof(msg), "READY=1\nSTATUS=%.*s\n", (int)strcspn(status, "\n"),
                   status);
  if (n < 0 || (size_t)n >= sizeof(msg))
    msg[sizeof(msg) - 2] = '\n', msg[sizeof(msg) - 1] = '\0';
  return pre_notify_send(sock, msg);
}
