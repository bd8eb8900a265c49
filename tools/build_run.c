/* SPDX-License-Identifier: BSD-3-Clause */
/* build_run.c - running the compiler for `hotswap build`: argument vectors, posix_spawnp
 * without a shell, and the few file-system helpers the build needs (rm -r, mkdir -p, fsync).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tools/build.h"

extern char **environ;

int bld_argv_push(struct bld_argv *a, const char *s) {
  if (a->n + 2 > a->cap) {
    size_t cap = a->cap ? a->cap * 2 : 16;
    char **v = realloc(a->v, cap * sizeof(*v));
    if (v == NULL)
      return -ENOMEM;
    a->v = v;
    a->cap = cap;
  }
  char *copy = strdup(s);
  if (copy == NULL)
    return -ENOMEM;
  a->v[a->n++] = copy;
  a->v[a->n] = NULL;
  return 0;
}

int bld_argv_pushf(struct bld_argv *a, const char *fmt, ...) {
  va_list ap;
  char *s = NULL;
  va_start(ap, fmt);
  int n = vasprintf(&s, fmt, ap);
  va_end(ap);
  if (n < 0)
    return -ENOMEM;
  int rc = bld_argv_push(a, s);
  free(s);
  return rc;
}

int bld_argv_split(struct bld_argv *a, const char *s) {
  const char *sep = " \t\n";
  while (*s != '\0') {
    s += strspn(s, sep);
    size_t len = strcspn(s, sep);
    if (len == 0)
      break;
    char *word = strndup(s, len);
    if (word == NULL)
      return -ENOMEM;
    int rc = bld_argv_push(a, word);
    free(word);
    if (rc < 0)
      return rc;
    s += len;
  }
  return 0;
}

int bld_argv_extend(struct bld_argv *a, const struct bld_argv *b) {
  for (size_t i = 0; i < b->n; i++) {
    int rc = bld_argv_push(a, b->v[i]);
    if (rc < 0)
      return rc;
  }
  return 0;
}

void bld_argv_free(struct bld_argv *a) {
  for (size_t i = 0; i < a->n; i++)
    free(a->v[i]);
  free(a->v);
  a->v = NULL;
  a->n = a->cap = 0;
}

/* True when s can be printed to a POSIX shell without quotes. */
static bool shell_safe(const char *s) {
  if (*s == '\0')
    return false;
  return s[strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
                     "-_./=+,:@%")] == '\0';
}

void bld_argv_print(FILE *f, const struct bld_argv *a) {
  for (size_t i = 0; i < a->n; i++) {
    if (i > 0)
      fputc(' ', f);
    if (shell_safe(a->v[i])) {
      fputs(a->v[i], f);
      continue;
    }
    fputc('\'', f);
    for (const char *p = a->v[i]; *p != '\0'; p++) {
      if (*p == '\'')
        fputs("'\\''", f);
      else
        fputc(*p, f);
    }
    fputc('\'', f);
  }
  fputc('\n', f);
}

int bld_run(const struct bld_argv *cmd, bool verbose, char *err) {
  if (cmd->n == 0) {
    snprintf(err, BLD_ERR_MAX, "empty command");
    return -EINVAL;
  }
  if (verbose) {
    bld_argv_print(stderr, cmd);
    fflush(stderr);
  }
  fflush(stdout);
  pid_t pid;
  int rc = posix_spawnp(&pid, cmd->v[0], NULL, NULL, cmd->v, environ);
  if (rc != 0) {
    snprintf(err, BLD_ERR_MAX, "cannot run '%s': %s", cmd->v[0], strerror(rc));
    return -rc;
  }
  int status;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) {
      rc = errno;
      snprintf(err, BLD_ERR_MAX, "waiting for '%s': %s", cmd->v[0], strerror(rc));
      return -rc;
    }
  }
  if (WIFEXITED(status))
    return WEXITSTATUS(status);
  snprintf(err, BLD_ERR_MAX, "'%s' was killed by signal %d", cmd->v[0], WTERMSIG(status));
  return 128 + WTERMSIG(status);
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
  (void)sb;
  (void)ftw;
  int rc = flag == FTW_DP ? rmdir(path) : unlink(path);
  return rc < 0 && errno != ENOENT ? -1 : 0;
}

int bld_rmtree(const char *path) {
  if (nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS) < 0)
    return errno == ENOENT ? 0 : -errno;
  return 0;
}

int bld_mkdirs(const char *path) {
  char *p = strdup(path);
  if (p == NULL)
    return -ENOMEM;
  int rc = 0;
  for (char *s = p + 1;; s++) {
    if (*s != '/' && *s != '\0')
      continue;
    char c = *s;
    *s = '\0';
    if (mkdir(p, 0777) < 0 && errno != EEXIST) {
      rc = -errno;
      break;
    }
    *s = c;
    if (c == '\0')
      break;
  }
  free(p);
  return rc;
}

int bld_fsync_path(const char *path) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return -errno;
  int rc = fsync(fd) < 0 ? -errno : 0;
  close(fd);
  return rc;
}
