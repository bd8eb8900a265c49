/* SPDX-License-Identifier: BSD-3-Clause */
/* probation.c - the last-known-good build of each plugin, and coming back to it after a
 * crash.
 *
 * A committed version is on probation for HOTSWAP_PROBATION_MS. One that serves that long
 * without crashing the daemon becomes its plugin's last-known-good build: the reloader
 * copies its sealed snapshot to <state>/lkg/<file> (temporary file, fsync, rename). When a
 * crash is blamed on plugin code (crash.c), the fatal signal handler writes one record to
 * <state>/crashed through a descriptor opened at start-up (so it works after a privilege
 * drop or chroot): the file's name, its content hash, its version and the crash line.
 *
 * Whenever the plugins are loaded (start-up, or a reload) and the file on disk is the build
 * that crashed (same content hash), the last-known-good copy is loaded instead and the log
 * says why; a different build on disk clears the record. A plugin ld.so itself loaded from
 * the crashed file (a linked library, adopted as generation 0) is adopted first and then
 * replaced by the last-known-good copy, before main() runs.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <link.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "preload/preload.h"

#define MAX_WATCH 64

struct watch {
  char name[LDR_NAME_MAX]; /* plugin name (the loader's) */
  char file[256];          /* base name of its file */
  char version[LDR_VERSION_MAX];
  uint64_t deadline_ns; /* CLOCK_MONOTONIC */
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static bool enabled;
static unsigned probation_ms;
static char dir[PATH_MAX];
static int crashed_fd = -1;
static struct watch watches[MAX_WATCH];
static size_t n_watches;
static char fallback[2048]; /* what the last substitution did, for status */
static int notify_fd = -1;  /* inotify on the state folder: another process's crash record */

/* mkdir -p with mode 0700 for the folders it creates. */
static int make_dirs(const char *path) {
  char buf[PATH_MAX + 16];
  snprintf(buf, sizeof(buf), "%s", path);
  for (char *p = buf + 1;; p++) {
    if (*p == '/' || *p == '\0') {
      char c = *p;
      *p = '\0';
      if (mkdir(buf, 0700) != 0 && errno != EEXIST)
        return -errno;
      *p = c;
      if (c == '\0')
        return 0;
    }
  }
}

/* The state folder: HOTSWAP_STATE_DIR, else /var/lib/hotswap/<program> for root,
 * $XDG_STATE_HOME/hotswap/<program> (or ~/.local/state/...) for other users. */
static void state_dir(char *out, size_t n) {
  const char *set = getenv("HOTSWAP_STATE_DIR");
  const char *prog = program_invocation_short_name;
  if (set != NULL && *set != '\0') {
    snprintf(out, n, "%s", set);
  } else if (geteuid() == 0) {
    snprintf(out, n, "/var/lib/hotswap/%s", prog);
  } else if (getenv("XDG_STATE_HOME") != NULL && *getenv("XDG_STATE_HOME") == '/') {
    snprintf(out, n, "%s/hotswap/%s", getenv("XDG_STATE_HOME"), prog);
  } else if (getenv("HOME") != NULL && *getenv("HOME") == '/') {
    snprintf(out, n, "%s/.local/state/hotswap/%s", getenv("HOME"), prog);
  } else {
    out[0] = '\0';
  }
}

/* Watch the state folder for crash records written by other processes (a pre-fork
 * server's workers): an inotify instance per process, since the events of a shared one
 * would go to whichever process reads first. */
static void open_notify(void) {
  notify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (notify_fd < 0)
    return;
  if (inotify_add_watch(notify_fd, dir, IN_CLOSE_WRITE | IN_MODIFY) < 0) {
    close(notify_fd);
    notify_fd = -1;
    return;
  }
  pre_fd_guard(notify_fd);
}

void pre_probation_init(unsigned ms) {
  probation_ms = ms;
  if (ms == 0)
    return;
  state_dir(dir, sizeof(dir));
  char lkg[PATH_MAX + 8], rec[PATH_MAX + 16];
  snprintf(lkg, sizeof(lkg), "%s/lkg", dir);
  snprintf(rec, sizeof(rec), "%s/crashed", dir);
  int rc = dir[0] == '\0' ? -ENOENT : make_dirs(lkg);
  if (rc == 0) {
    crashed_fd = open(rec, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    rc = crashed_fd < 0 ? -errno : 0;
  }
  if (rc != 0) {
    pre_log("probation: cannot use the state folder '%s': %s; no last-known-good build is "
            "kept (set HOTSWAP_STATE_DIR, or HOTSWAP_PROBATION_MS=0)",
            dir[0] ? dir : "(no HOME)", strerror(-rc));
    return;
  }
  pre_fd_guard(crashed_fd);
  enabled = true;
  open_notify();
}

/* ---- the crash record ------------------------------------------------------------------ */

struct record {
  bool set;
  char file[256];
  uint64_t hash;
  char version[LDR_VERSION_MAX];
  char line[1024];
};

static void read_record(struct record *r) {
  char buf[1600];
  memset(r, 0, sizeof(*r));
  ssize_t n = crashed_fd >= 0 ? pread(crashed_fd, buf, sizeof(buf) - 1, 0) : -1;
  if (n <= 0)
    return;
  buf[n] = '\0';
  char *nl = strchr(buf, '\n');
  if (nl != NULL)
    *nl = '\0';
  /* "<file> <hash hex> <version> <line>" */
  unsigned long long h;
  int used = 0;
  if (sscanf(buf, "%255s %llx %31s %n", r->file, &h, r->version, &used) < 3 || used == 0)
    return;
  r->hash = h;
  snprintf(r->line, sizeof(r->line), "%s", buf + used);
  r->set = true;
}

static void clear_record(void) {
  if (crashed_fd >= 0 && ftruncate(crashed_fd, 0) != 0)
    pre_log("probation: cannot clear the crash record: %s", strerror(errno));
}

/* async-signal-safe */
static void put(char *buf, size_t n, size_t *len, const char *s) {
  while (*s != '\0' && *len + 1 < n)
    buf[(*len)++] = *s++;
  buf[*len] = '\0';
}

void pre_probation_crashed(int signo, const struct ldr_crash_where *w, const char *line) {
  (void)signo;
  if (!enabled || crashed_fd < 0 || w->content_hash == 0)
    return;
  char buf[1600], hex[17];
  size_t len = 0;
  for (int i = 0; i < 16; i++)
    hex[i] = "0123456789abcdef"[(w->content_hash >> (60 - 4 * i)) & 15];
  hex[16] = '\0';
  put(buf, sizeof(buf), &len, w->file);
  put(buf, sizeof(buf), &len, " ");
  put(buf, sizeof(buf), &len, hex);
  put(buf, sizeof(buf), &len, " ");
  put(buf, sizeof(buf), &len, w->version[0] ? w->version : "-");
  put(buf, sizeof(buf), &len, " ");
  put(buf, sizeof(buf), &len, strncmp(line, "crash: ", 7) == 0 ? line + 7 : line);
  put(buf, sizeof(buf), &len, "\n");
  if (pwrite(crashed_fd, buf, len, 0) == (ssize_t)len && ftruncate(crashed_fd, (off_t)len) == 0)
    fdatasync(crashed_fd);
}

/* ---- substitution ---------------------------------------------------------------------- */

/* Content hash of a file on disk; 0 when it cannot be read. */
static uint64_t file_hash(const char *path) {
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0)
    return 0;
  struct stat st;
  uint64_t h = 0;
  if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
    void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p != MAP_FAILED) {
      h = elf_content_hash(p, (size_t)st.st_size);
      munmap(p, (size_t)st.st_size);
    }
  }
  close(fd);
  return h;
}

struct loaded_find {
  dev_t dev;
  ino_t ino;
};

static int loaded_cb(struct dl_phdr_info *info, size_t size, void *arg) {
  (void)size;
  const struct loaded_find *f = arg;
  struct stat st;
  return info->dlpi_name != NULL && info->dlpi_name[0] == '/' &&
         stat(info->dlpi_name, &st) == 0 && st.st_dev == f->dev && st.st_ino == f->ino;
}

/* Did ld.so load this very file for the program? */
static bool loaded_by_ldso(const char *path) {
  struct stat st;
  if (stat(path, &st) != 0)
    return false;
  struct loaded_find f = {st.st_dev, st.st_ino};
  return dl_iterate_phdr(loaded_cb, &f) != 0;
}

static void lkg_path(char *out, size_t n, const char *file) {
  snprintf(out, n, "%s/lkg/%s", dir, file);
}

static void lkg_version(const char *file, char *out, size_t n) {
  char p[PATH_MAX + 300];
  snprintf(p, sizeof(p), "%s/lkg/%s.version", dir, file);
  FILE *f = fopen(p, "re");
  out[0] = '\0';
  if (f != NULL) {
    if (fgets(out, (int)n, f) != NULL)
      out[strcspn(out, "\n")] = '\0';
    fclose(f);
  }
}

int pre_probation_substitute(char *const *paths, size_t n, char ***alt, bool *adopt_first) {
  *adopt_first = false;
  *alt = NULL;
  if (!enabled)
    return 0;
  struct record r;
  read_record(&r);
  if (!r.set)
    return 0;
  char **out = calloc(n + 1, sizeof(*out));
  if (out == NULL)
    return 0;
  for (size_t i = 0; i < n; i++)
    if ((out[i] = strdup(paths[i])) == NULL) {
      pre_paths_free(out);
      return 0;
    }
  int done = 0;
  for (size_t i = 0; i < n; i++) {
    if (strcmp(pre_basename(paths[i]), r.file) != 0)
      continue;
    uint64_t h = file_hash(paths[i]);
    if (h != r.hash) {
      pre_log("probation: a new build of %s is on disk: the record of build %s's crash is "
              "cleared", r.file, r.version);
      clear_record();
      pthread_mutex_lock(&lock);
      fallback[0] = '\0';
      pthread_mutex_unlock(&lock);
      continue;
    }
    char lkg[PATH_MAX + 300], v[LDR_VERSION_MAX];
    lkg_path(lkg, sizeof(lkg), r.file);
    uint64_t lh = file_hash(lkg);
    if (lh == 0 || lh == r.hash) {
      pre_log("probation: %s %s crashed the daemon (%s), and there is no other last-known-good "
              "build to fall back to: loading it anyway", r.file, r.version, r.line);
      continue;
    }
    lkg_version(r.file, v, sizeof(v));
    char *copy = strdup(lkg);
    if (copy == NULL)
      continue;
    if (loaded_by_ldso(paths[i]))
      *adopt_first = true;
    free(out[i]);
    out[i] = copy;
    done++;
    pthread_mutex_lock(&lock);
    snprintf(fallback, sizeof(fallback), "serving last-known-good %s %s; %s %s crashed (%.600s)",
             r.file, v[0] ? v : "?", r.file, r.version, r.line);
    pthread_mutex_unlock(&lock);
    pre_log("probation: %s on disk is build %s, which crashed the daemon (%s): loading the "
            "last-known-good build %s from %s instead (install a new build to clear this)",
            r.file, r.version, r.line, v[0] ? v : "?", lkg);
  }
  if (done == 0)
    pre_paths_free(out);
  else
    *alt = out;
  return done;
}

/* ---- a crash in another process (a worker of a pre-fork server) ------------------------ */

int pre_probation_notify_fd(void) { return notify_fd; }

bool pre_probation_crash_here(char *why, size_t n) {
  char buf[4096];
  while (notify_fd >= 0 && read(notify_fd, buf, sizeof(buf)) > 0)
    ; /* drain: the record itself says what happened */
  struct record r;
  read_record(&r);
  if (!r.set)
    return false;
  struct ldr_status st;
  if (ldr_status_get(&st) != 0)
    return false;
  bool here = false;
  for (size_t i = 0; i < st.n_plugins && !here; i++) {
    char version[LDR_VERSION_MAX];
    uint64_t hash = 0;
    int fd = ldr_current_snapshot_fd(st.plugins[i].name, version, sizeof(version), &hash);
    if (fd >= 0)
      close(fd);
    here = fd >= 0 && hash == r.hash;
  }
  ldr_status_free(&st);
  if (!here)
    return false;
  char lkg[PATH_MAX + 300];
  lkg_path(lkg, sizeof(lkg), r.file);
  uint64_t lh = file_hash(lkg);
  if (lh == 0 || lh == r.hash)
    return false; /* nothing to switch to */
  snprintf(why, n, "%s %s, which this process runs, crashed another process (%.600s)", r.file,
           r.version, r.line);
  return true;
}

void pre_probation_after_fork(void) {
  pthread_mutex_init(&lock, NULL);
  if (notify_fd >= 0) {
    pre_fd_unguard(notify_fd);
    close(notify_fd);
    notify_fd = -1;
  }
  if (enabled)
    open_notify();
}

/* ---- probation ------------------------------------------------------------------------- */

void pre_probation_committed(const struct ldr_report *rep, char *const *paths, size_t n) {
  if (!enabled || !rep->committed)
    return;
  pthread_mutex_lock(&lock);
  for (size_t i = 0; i < rep->n_plugins; i++) {
    const struct ldr_plugin_result *p = &rep->plugins[i];
    if (p->action != LDR_LOADED && p->action != LDR_ADOPTED && p->action != LDR_RELOADED &&
        p->action != LDR_FOLLOWED)
      continue;
    /* Drop an older watch of the same plugin: only the newest version can become good. */
    for (size_t k = 0; k < n_watches; k++)
      if (strcmp(watches[k].name, p->name) == 0)
        watches[k--] = watches[--n_watches];
    bool from_lkg = false; /* loaded from the last-known-good copy: it is good already */
    for (size_t k = 0; k < n; k++)
      if (strcmp(paths[k], p->path) == 0 && strncmp(paths[k], dir, strlen(dir)) == 0 &&
          paths[k][strlen(dir)] == '/')
        from_lkg = true;
    if (from_lkg || n_watches == MAX_WATCH)
      continue;
    struct watch *w = &watches[n_watches++];
    snprintf(w->name, sizeof(w->name), "%s", p->name);
    snprintf(w->file, sizeof(w->file), "%.255s", pre_basename(p->path));
    snprintf(w->version, sizeof(w->version), "%s", p->new_version);
    w->deadline_ns = pre_now_ns() + (uint64_t)probation_ms * 1000000u;
  }
  pthread_mutex_unlock(&lock);
}

long pre_probation_next_ms(void) {
  long ms = -1;
  uint64_t now = pre_now_ns();
  pthread_mutex_lock(&lock);
  for (size_t k = 0; k < n_watches; k++) {
    long left = watches[k].deadline_ns > now
                    ? (long)((watches[k].deadline_ns - now + 999999u) / 1000000u)
                    : 0;
    if (ms < 0 || left < ms)
      ms = left;
  }
  pthread_mutex_unlock(&lock);
  return ms;
}

static int copy_fd_to(int fd, const char *path) {
  char tmp[PATH_MAX + 360];
  snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", path, (long)getpid()); /* workers promote too */
  int out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (out < 0)
    return -errno;
  char buf[65536];
  off_t off = 0;
  int rc = 0;
  for (;;) {
    ssize_t r = pread(fd, buf, sizeof(buf), off);
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0) {
      rc = r < 0 ? -errno : 0;
      break;
    }
    for (ssize_t w = 0; w < r && rc == 0;) {
      ssize_t k = write(out, buf + w, (size_t)(r - w));
      if (k < 0 && errno != EINTR)
        rc = -errno;
      w += k > 0 ? k : 0;
    }
    if (rc != 0)
      break;
    off += r;
  }
  if (rc == 0 && fsync(out) != 0)
    rc = -errno;
  if (close(out) != 0 && rc == 0)
    rc = -errno;
  if (rc == 0 && rename(tmp, path) != 0)
    rc = -errno;
  if (rc != 0)
    unlink(tmp);
  return rc;
}

/* A watched version served its probation: keep its snapshot as last-known-good. */
static void promote(const struct watch *w) {
  char version[LDR_VERSION_MAX];
  uint64_t hash = 0;
  int fd = ldr_current_snapshot_fd(w->name, version, sizeof(version), &hash);
  if (fd < 0 || strcmp(version, w->version) != 0) {
    if (fd >= 0)
      close(fd);
    return; /* replaced or reverted meanwhile: that one has its own watch, or none */
  }
  struct record r;
  read_record(&r);
  if (r.set && r.hash == hash && hash != 0) {
    close(fd);
    return; /* it crashed (in a worker, say): never good */
  }
  char path[PATH_MAX + 300], vpath[PATH_MAX + 320];
  lkg_path(path, sizeof(path), w->file);
  int rc = copy_fd_to(fd, path);
  close(fd);
  if (rc == 0) {
    snprintf(vpath, sizeof(vpath), "%s.version", path);
    FILE *f = fopen(vpath, "we");
    if (f != NULL) {
      fprintf(f, "%s\n", version);
      fclose(f);
    }
    pre_log("probation: %s %s served %u ms without a crash: it is the last-known-good build "
            "(%s)", w->file, version, probation_ms, path);
  } else {
    pre_log("probation: cannot keep %s %s as the last-known-good build in %s: %s", w->file,
            version, path, strerror(-rc));
  }
}

void pre_probation_tick(void) {
  struct watch due[MAX_WATCH];
  size_t n_due = 0;
  uint64_t now = pre_now_ns();
  pthread_mutex_lock(&lock);
  for (size_t k = 0; k < n_watches; k++)
    if (watches[k].deadline_ns <= now) {
      due[n_due++] = watches[k];
      watches[k--] = watches[--n_watches];
    }
  pthread_mutex_unlock(&lock);
  for (size_t k = 0; k < n_due; k++)
    promote(&due[k]);
}

/* ---- status ---------------------------------------------------------------------------- */

void pre_probation_status(struct pre_probation_info *out) {
  memset(out, 0, sizeof(*out));
  out->enabled = enabled;
  if (!enabled)
    return;
  uint64_t now = pre_now_ns();
  pthread_mutex_lock(&lock);
  for (size_t k = 0; k < n_watches && out->n_watch < PRE_PROBATION_SHOWN; k++) {
    struct pre_probation_watch *w = &out->watch[out->n_watch++];
    snprintf(w->file, sizeof(w->file), "%s", watches[k].file);
    snprintf(w->version, sizeof(w->version), "%s", watches[k].version);
    w->remaining_ms = watches[k].deadline_ns > now
                          ? (watches[k].deadline_ns - now) / 1000000u
                          : 0;
  }
  snprintf(out->fallback, sizeof(out->fallback), "%s", fallback);
  pthread_mutex_unlock(&lock);
  snprintf(out->dir, sizeof(out->dir), "%s", dir);
  char lkg[PATH_MAX + 8];
  snprintf(lkg, sizeof(lkg), "%s/lkg", dir);
  DIR *d = opendir(lkg);
  for (struct dirent *e; d != NULL && (e = readdir(d)) != NULL &&
                         out->n_lkg < PRE_PROBATION_SHOWN;) {
    size_t len = strlen(e->d_name);
    if (len <= 8 || strcmp(e->d_name + len - 8, ".version") != 0 || e->d_name[0] == '.')
      continue;
    struct pre_probation_lkg *g = &out->lkg[out->n_lkg++];
    snprintf(g->file, sizeof(g->file), "%.*s", (int)(len - 8), e->d_name);
    lkg_version(g->file, g->version, sizeof(g->version));
  }
  if (d != NULL)
    closedir(d);
  struct record r;
  read_record(&r);
  if (r.set) {
    out->crashed = true;
    snprintf(out->crash_file, sizeof(out->crash_file), "%s", r.file);
    snprintf(out->crash_version, sizeof(out->crash_version), "%s", r.version);
    snprintf(out->crash_line, sizeof(out->crash_line), "%s", r.line);
  }
}
