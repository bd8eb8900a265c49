/* SPDX-License-Identifier: BSD-3-Clause */
/* snapshot.c - copy a plugin file into a sealed memfd so that the bytes elf/ validates are
 * exactly the bytes dlopen maps (a build replaced on disk mid-reload cannot slip in), and
 * derive the plugin's name.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "loader/lifecycle_int.h"

#define SNAP_SEALS (F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL)

const char *ldr_basename(const char *path) {
  const char *s = strrchr(path, '/');
  return s != NULL ? s + 1 : path;
}

/* What every refusal of check_owner_writes says after naming the path and its owner or mode. */
#define INSECURE_ADVICE                                                                    \
  "another user could replace the plugin; fix with chown root or chmod go-w, or set "        \
  "HOTSWAP_INSECURE=1"

/* Trust like sudo and OpenSSH (safe_path): the plugin file, every folder above it, and the
 * same for the path its symlinks lead to, must belong to root or to the daemon's effective
 * uid and must not be writable by group or others. A sticky folder writable by others (like
 * /tmp) is accepted only on the way to an entry that is ours or root's: others cannot rename
 * that entry away, but a file another user put there is theirs. */
static bool trusted_uid(uid_t u) { return u == 0 || u == geteuid(); }

/* The refusal: "<reason>: <advice>". */
#define REFUSE(err, ...)                                                                   \
  do {                                                                                     \
    char reason_[LDR_ERR_MAX];                                                             \
    snprintf(reason_, sizeof(reason_), __VA_ARGS__);                                       \
    snprintf(err, LDR_ERR_MAX, "%.380s: " INSECURE_ADVICE, reason_);                       \
    return HOTSWAP_EINSECURE;                                                              \
  } while (0)

/* Check the folders above absolute path `p` (not p itself). */
static int check_folders(const char *p, char *err) {
  char dir[4096], child[4096];
  snprintf(child, sizeof(child), "%s", p);
  for (;;) {
    snprintf(dir, sizeof(dir), "%s", child);
    char *slash = strrchr(dir, '/');
    if (slash == NULL)
      return 0;
    if (slash == dir)
      slash[1] = '\0'; /* "/" */
    else
      *slash = '\0';
    struct stat ds, cs;
    if (stat(dir, &ds) != 0)
      return 0; /* open() will say what is missing */
    if (!trusted_uid(ds.st_uid))
      REFUSE(err, "folder '%.300s' belongs to uid %lu, not to root or to the daemon's uid %lu",
             dir, (unsigned long)ds.st_uid, (unsigned long)geteuid());
    if (ds.st_mode & (S_IWGRP | S_IWOTH)) {
      bool sticky_ok = (ds.st_mode & S_ISVTX) && lstat(child, &cs) == 0 &&
                       trusted_uid(cs.st_uid);
      if (!sticky_ok)
        REFUSE(err, "folder '%.300s' is writable by %s (mode %04lo)", dir,
               (ds.st_mode & S_IWOTH) ? "every user" : "its group",
               (unsigned long)(ds.st_mode & 07777));
    }
    if (strcmp(dir, "/") == 0)
      return 0;
    snprintf(child, sizeof(child), "%s", dir);
  }
}

static int check_owner_writes(const char *path, const struct stat *st, char *err) {
  if (!trusted_uid(st->st_uid))
    REFUSE(err, "'%.300s' belongs to uid %lu, not to root or to the daemon's uid %lu", path,
           (unsigned long)st->st_uid, (unsigned long)geteuid());
  if (st->st_mode & (S_IWGRP | S_IWOTH))
    REFUSE(err, "'%.300s' is writable by %s (mode %04lo)", path,
           (st->st_mode & S_IWOTH) ? "every user" : "its group",
           (unsigned long)(st->st_mode & 07777));
  char abs[4096], real[PATH_MAX], cwd[PATH_MAX];
  if (path[0] == '/')
    snprintf(abs, sizeof(abs), "%s", path);
  else if (getcwd(cwd, sizeof(cwd)) != NULL)
    snprintf(abs, sizeof(abs), "%.2000s/%.2000s", cwd, path);
  else
    return 0;
  int rc = check_folders(abs, err);
  if (rc == 0 && realpath(abs, real) != NULL && strcmp(real, abs) != 0)
    rc = check_folders(real, err); /* where its symlinks lead */
  return rc;
}

/* "a FIFO", "a folder", ... for a refusal. */
static const char *file_kind(mode_t m) {
  return S_ISFIFO(m)  ? "a FIFO"
         : S_ISDIR(m) ? "a folder"
         : S_ISCHR(m) ? "a character device"
         : S_ISBLK(m) ? "a block device"
         : S_ISSOCK(m) ? "a socket"
                       : "of an unknown kind";
}

/* Copy all of `in` into `out`; returns bytes copied or -errno. */
static long long copy_all(int in, int out) {
  char buf[65536];
  long long total = 0;
  for (;;) {
    ssize_t r = read(in, buf, sizeof(buf));
    if (r < 0 && errno == EINTR)
      continue;
    if (r < 0)
      return -errno;
    if (r == 0)
      return total;
    for (ssize_t off = 0; off < r;) {
      ssize_t w = write(out, buf + off, (size_t)(r - off));
      if (w < 0 && errno == EINTR)
        continue;
      if (w < 0)
        return -errno;
      off += w;
    }
    total += r;
  }
}

/* Open `path` and copy it into a new sealed memfd; returns the memfd or a negative code, and
 * the opened file's stat in *stp. allow_insecure skips check_owner_writes. */
static int copy_to_memfd(const char *path, bool allow_insecure, struct stat *stp, char *err) {
  /* O_NONBLOCK: a FIFO (or a device) put at the plugin path must not block the reloader in
   * open(); it is refused below. It changes nothing for a regular file. */
  int in = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (in < 0) {
    int e = errno;
    snprintf(err, LDR_ERR_MAX, "cannot open '%s': %s", path, strerror(e));
    return -e;
  }
  struct stat st = {0};
  int rc = fstat(in, &st) == 0 ? 0 : -errno;
  *stp = st;
  if (rc == 0 && !S_ISREG(st.st_mode)) {
    snprintf(err, LDR_ERR_MAX, "'%s' is %s, not a regular file", path, file_kind(st.st_mode));
    rc = -EINVAL;
  } else if (rc == 0 && !allow_insecure) {
    rc = check_owner_writes(path, &st, err);
  } else if (rc != 0) {
    snprintf(err, LDR_ERR_MAX, "cannot stat '%s': %s", path, strerror(-rc));
  }
  char mname[64];
  snprintf(mname, sizeof(mname), "hotswap:%.40s", ldr_basename(path));
  int fd = rc == 0 ? memfd_create(mname, MFD_CLOEXEC | MFD_ALLOW_SEALING) : -1;
  if (rc == 0 && fd < 0) {
    rc = -errno;
    snprintf(err, LDR_ERR_MAX, "memfd_create: %s", strerror(-rc));
  }
  if (rc == 0) {
    long long n = copy_all(in, fd);
    if (n < 0) {
      rc = (int)n;
      snprintf(err, LDR_ERR_MAX, "cannot read '%s': %s", path, strerror(-rc));
    } else if (n != (long long)st.st_size) {
      rc = -EAGAIN;
      snprintf(err, LDR_ERR_MAX, "'%s' changed size while being copied; try again", path);
    } else if (fcntl(fd, F_ADD_SEALS, SNAP_SEALS) != 0) {
      rc = -errno;
      snprintf(err, LDR_ERR_MAX, "cannot seal the copy of '%s': %s", path, strerror(-rc));
    }
  }
  close(in);
  if (rc != 0) {
    if (fd >= 0)
      close(fd);
    return rc;
  }
  return fd;
}

static void (*fd_keep)(int fd);
static void (*fd_drop)(int fd);

void ldr_set_fd_hooks(void (*keep)(int fd), void (*drop)(int fd)) {
  fd_keep = keep;
  fd_drop = drop;
}

int ldr_snapshot_take(const char *path, const struct elf_opts *eo, bool allow_insecure,
                      struct ldr_snapshot *out, char *err) {
  memset(out, 0, sizeof(*out));
  out->fd = -1;
  struct stat st = {0};
  int fd = copy_to_memfd(path, allow_insecure, &st, err);
  if (fd < 0)
    return fd;
  out->dev = st.st_dev;
  out->ino = st.st_ino;
  char why[ELF_ERR_MAX] = "";
  int rc = elf_inspect_fd(fd, eo, &out->info, why);
  if (rc != 0) {
    snprintf(err, LDR_ERR_MAX, "%s", why[0] != '\0' ? why : hotswap_strerror(rc));
    close(fd);
    out->info = NULL;
    return rc;
  }
  out->fd = fd;
  if (fd_keep != NULL)
    fd_keep(fd);
  snprintf(out->fdpath, sizeof(out->fdpath), "/proc/self/fd/%d", fd);
  return 0;
}

void ldr_snapshot_release(struct ldr_snapshot *s) {
  if (s->info != NULL)
    elf_info_free(s->info);
  s->info = NULL;
  if (s->fd >= 0 && fd_drop != NULL)
    fd_drop(s->fd);
  if (s->fd >= 0)
    close(s->fd);
  s->fd = -1;
}

bool ldr_snapshot_same(const struct elf_info *a, const struct elf_info *b) {
  return a->build_id_len == b->build_id_len &&
         memcmp(a->build_id, b->build_id, a->build_id_len) == 0 &&
         a->file_size == b->file_size && a->content_hash == b->content_hash;
}

int ldr_plugin_name(const struct elf_info *info, const char *path, char *buf) {
  const char *src = NULL;
  size_t len = 0;
  if (info != NULL && info->note.present && info->note.name != NULL &&
      info->note.name[0] != '\0') {
    src = info->note.name;
    len = strlen(src);
  } else {
    src = ldr_basename(path);
    if (strncmp(src, "lib", 3) == 0 && src[3] != '\0')
      src += 3;
    len = strlen(src);
    /* Cut at ".so" that ends the name or starts a version suffix (".so.1.2"). */
    for (const char *p = src; (p = strstr(p, ".so")) != NULL; p += 3) {
      if ((p[3] == '\0' || p[3] == '.') && p > src) {
        len = (size_t)(p - src);
        break;
      }
    }
  }
  if (len >= LDR_NAME_MAX)
    return -ENAMETOOLONG;
  memcpy(buf, src, len);
  buf[len] = '\0';
  return 0;
}
