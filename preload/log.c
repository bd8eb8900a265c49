/* SPDX-License-Identifier: BSD-3-Clause */
/* log.c - the shim's log: stderr, syslog or a file, one line per event, never stdout. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "preload/preload.h"

enum log_sink { SINK_STDERR, SINK_SYSLOG, SINK_FILE };

static enum log_sink log_kind = SINK_STDERR;
static int log_fd = STDERR_FILENO;

int pre_log_open(const char *target) {
  if (target == NULL || *target == '\0' || strcmp(target, "stderr") == 0) {
    log_kind = SINK_STDERR;
    log_fd = STDERR_FILENO;
    return 0;
  }
  if (strcmp(target, "syslog") == 0) {
    openlog("hotswap", LOG_PID | LOG_NDELAY, LOG_DAEMON);
    log_kind = SINK_SYSLOG;
    return 0;
  }
  int fd = open(target, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
  if (fd < 0)
    return -errno;
  log_kind = SINK_FILE;
  log_fd = fd;
  pre_fd_guard(fd);
  return 0;
}

int pre_log_fd(void) { return log_fd; }

bool pre_log_is_syslog(void) { return log_kind == SINK_SYSLOG; }

void pre_vlog(const char *fmt, va_list ap) {
  char line[2048];
  int saved = errno;
  if (log_kind == SINK_SYSLOG) {
    vsnprintf(line, sizeof(line), fmt, ap);
    syslog(LOG_NOTICE, "%s", line);
    errno = saved;
    return;
  }
  int n = snprintf(line, sizeof(line), "hotswap[%ld]: ", (long)getpid());
  int m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
  size_t len = (size_t)n + (m < 0 ? 0 : (size_t)m);
  if (len > sizeof(line) - 2)
    len = sizeof(line) - 2; /* truncated: still end the line */
  line[len++] = '\n';
  ssize_t w;
  do
    w = write(log_fd, line, len);
  while (w < 0 && errno == EINTR);
  errno = saved;
}

void pre_log(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  pre_vlog(fmt, ap);
  va_end(ap);
}
