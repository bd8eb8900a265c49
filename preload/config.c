/* SPDX-License-Identifier: BSD-3-Clause */
/* config.c - the shim's configuration: HOTSWAP_* variables, the plugin list, and the
 * check that a plugin file cannot be replaced by another user. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/unix_addr.h"
#include "hotswap.h"
#include "preload/preload.h"

static char *dup_env(const char *name) {
  const char *v = getenv(name);
  return (v != NULL && *v != '\0') ? strdup(v) : NULL;
}

char *pre_control_path_for(pid_t pid, bool forked) {
  char buf[PATH_MAX];
  const char *given = getenv("HOTSWAP_CONTROL");
  if (given != NULL && *given != '\0') {
    if (!forked)
      return strdup(given);
    /* A forked child cannot share its parent's socket: HOTSWAP_CONTROL.<pid> */
    snprintf(buf, sizeof(buf), "%s.%ld", given, (long)pid);
  } else {
    unix_addr_default(buf, sizeof(buf), (long)pid);
  }
  return strdup(buf);
}

/* A whole number variable in [0, max]: 0 when unset (value left as it is), -EINVAL with
 * "HOTSWAP_GRACE_MS='abc' is not a whole number from 0 to 3600000" otherwise. */
static int env_uint(const char *name, unsigned max, unsigned *out, char *err, size_t n) {
  const char *v = getenv(name);
  if (v == NULL || *v == '\0')
    return 0;
  char *end;
  errno = 0;
  unsigned long x = strtoul(v, &end, 10);
  if (*v == '-' || *end != '\0' || errno != 0 || x > max) {
    snprintf(err, n, "%s='%s' is not a whole number from 0 to %u", name, v, max);
    return -EINVAL;
  }
  *out = (unsigned)x;
  return 0;
}

/* Defined when AddressSanitizer's runtime is in the process (weak: NULL otherwise). */
extern void __asan_init(void) __attribute__((weak));

/* Retirement knobs: HOTSWAP_GRACE_MS (1000), HOTSWAP_MAX_VERSIONS (8; 0 = no cap) and
 * HOTSWAP_RETIRE: "scan" or 1 (the default, but under AddressSanitizer: threads and memory
 * are scanned for pointers into a version before it is unloaded), "stacks" (threads' frames
 * only, unsafe for a program that keeps pointers into a plugin), 0 (every old version stays
 * loaded). */
static int retire_config(struct pre_config *cfg, char *err, size_t n) {
  cfg->grace_ms = 1000;
  cfg->max_versions = 8;
  int rc = env_uint("HOTSWAP_GRACE_MS", 3600000, &cfg->grace_ms, err, n);
  if (rc == 0)
    rc = env_uint("HOTSWAP_MAX_VERSIONS", 1000000, &cfg->max_versions, err, n);
  const char *v = getenv("HOTSWAP_RETIRE");
  cfg->retire = true;
  /* Under AddressSanitizer the runtime's registry of globals and its stack depot (the PCs of
   * every allocation) point into each instrumented version for good: a scan would keep them
   * all, so the default there is the stack check. */
  cfg->retire_scan = __asan_init == NULL || (v != NULL && *v != '\0');
  if (rc != 0 || v == NULL || *v == '\0' || strcmp(v, "1") == 0 || strcmp(v, "scan") == 0)
    return rc;
  if (strcmp(v, "0") == 0) {
    cfg->retire = false;
  } else if (strcmp(v, "stacks") == 0) {
    cfg->retire_scan = false;
  } else {
    snprintf(err, n, "HOTSWAP_RETIRE='%s' is not one of scan (or 1), stacks, 0", v);
    return -EINVAL;
  }
  return 0;
}

/* Signals the kernel raises for a fault (or abort() for a failed assertion): catching one
 * for reloads would turn a crash into an endless loop of reloads. */
static bool is_fault_signal(int signo) {
  return signo == SIGSEGV || signo == SIGBUS || signo == SIGFPE || signo == SIGILL ||
         signo == SIGABRT || signo == SIGTRAP || signo == SIGSYS;
}

int pre_config_load(struct pre_config *cfg, char *err, size_t n) {
  memset(cfg, 0, sizeof(*cfg));
  cfg->signo = SIGHUP;
  cfg->plugins = dup_env("HOTSWAP_PLUGINS");
  if (cfg->plugins == NULL)
    return -ENOENT;
  cfg->log_target = dup_env("HOTSWAP_LOG");
  cfg->control_path = pre_control_path_for(getpid(), false);
  const char *v = getenv("HOTSWAP_SD_NOTIFY");
  cfg->notify_socket = dup_env("NOTIFY_SOCKET");
  cfg->sd_notify = v != NULL && strcmp(v, "1") == 0 && cfg->notify_socket != NULL;
  v = getenv("HOTSWAP_INSECURE");
  cfg->insecure_ok = v != NULL && strcmp(v, "1") == 0;
  v = getenv("HOTSWAP_SIGNAL");
  if (v != NULL && *v != '\0') {
    cfg->signo = pre_signal_parse(v);
    if (cfg->signo < 0 || cfg->signo == SIGKILL || cfg->signo == SIGSTOP) {
      snprintf(err, n, "HOTSWAP_SIGNAL='%s' is not a signal that can be caught "
               "(try HUP, USR1, USR2)", v);
      return -EINVAL;
    }
    if (is_fault_signal(cfg->signo)) {
      snprintf(err, n, "HOTSWAP_SIGNAL='%s' is a signal the kernel sends for a crash: a real "
               "fault would be taken for a reload request, over and over; use HUP, USR1 or "
               "USR2", v);
      return -EINVAL;
    }
  }
  cfg->probation_ms = 60000;
  cfg->load_timeout_ms = 3000;
  int prc = env_uint("HOTSWAP_PROBATION_MS", 86400000, &cfg->probation_ms, err, n);
  if (prc == 0)
    prc = env_uint("HOTSWAP_LOAD_TIMEOUT_MS", 600000, &cfg->load_timeout_ms, err, n);
  if (prc != 0)
    return prc;
  v = getenv("HOTSWAP_CRASH");
  cfg->crash_report = true;
  if (v != NULL && *v != '\0' && strcmp(v, "1") != 0) {
    if (strcmp(v, "0") != 0) {
      snprintf(err, n, "HOTSWAP_CRASH='%s' is not 1 (name the plugin a crash is in, the "
               "default) or 0", v);
      return -EINVAL;
    }
    cfg->crash_report = false;
  }
  v = getenv("HOTSWAP_STATE");
  if (v == NULL || *v == '\0' || strcmp(v, "carry") == 0) {
    cfg->state_policy = LDR_STATE_CARRY;
  } else if (strcmp(v, "strict") == 0) {
    cfg->state_policy = LDR_STATE_STRICT;
  } else if (strcmp(v, "fresh") == 0) {
    cfg->state_policy = LDR_STATE_FRESH;
  } else {
    snprintf(err, n, "HOTSWAP_STATE='%s' is not one of carry, strict, fresh", v);
    return -EINVAL;
  }
  if (cfg->control_path == NULL)
    return -ENOMEM;
  return retire_config(cfg, err, n);
}

void pre_config_free(struct pre_config *cfg) {
  free(cfg->plugins);
  free(cfg->log_target);
  free(cfg->control_path);
  free(cfg->notify_socket);
  memset(cfg, 0, sizeof(*cfg));
}

struct path_list {
  char **v;
  size_t n, cap;
};

static int push_path(struct path_list *l, char *p) {
  if (p == NULL)
    return -ENOMEM;
  if (l->n + 2 > l->cap) {
    size_t cap = l->cap ? l->cap * 2 : 8;
    char **v = realloc(l->v, cap * sizeof(*v));
    if (v == NULL) {
      free(p);
      return -ENOMEM;
    }
    l->v = v;
    l->cap = cap;
  }
  l->v[l->n++] = p;
  l->v[l->n] = NULL;
  return 0;
}

static int so_filter(const struct dirent *d) {
  size_t len = strlen(d->d_name);
  return d->d_name[0] != '.' && len > 3 && strcmp(d->d_name + len - 3, ".so") == 0;
}

/* Append the *.so files of folder `dir`, sorted by name. */
static int push_folder(struct path_list *l, const char *dir, char *err, size_t n) {
  struct dirent **ents;
  int k = scandir(dir, &ents, so_filter, alphasort);
  if (k < 0) {
    int e = errno;
    snprintf(err, n, "%s: open: cannot list folder: %s%s", dir, strerror(e),
             e == EACCES ? " (the daemon's user needs read and search permission on it)"
                         : "");
    return -e;
  }
  int rc = 0;
  for (int i = 0; i < k; i++) {
    char *p = NULL;
    if (rc == 0 && asprintf(&p, "%s/%s", dir, ents[i]->d_name) < 0)
      p = NULL;
    if (rc == 0)
      rc = push_path(l, p);
    free(ents[i]);
  }
  free(ents);
  if (rc == 0 && k == 0) {
    snprintf(err, n, "%s: open: folder holds no *.so plugin (HOTSWAP_PLUGINS names it)", dir);
    rc = -ENOENT;
  }
  return rc;
}

int pre_plugin_paths(const char *spec, char ***out, size_t *count, char *err, size_t n) {
  struct path_list l = {0};
  char *copy = strdup(spec), *save = NULL;
  int rc = copy ? 0 : -ENOMEM;
  for (char *p = copy ? strtok_r(copy, ":", &save) : NULL; p && rc == 0;
       p = strtok_r(NULL, ":", &save)) {
    struct stat st;
    if (stat(p, &st) != 0) {
      rc = -errno;
      snprintf(err, n, "%s: open: %s (HOTSWAP_PLUGINS names it: %s)", p, strerror(-rc),
               rc == -ENOENT ? "install the plugin there, or correct the variable"
                               : "the daemon's user needs search permission on its folders");
    } else if (S_ISDIR(st.st_mode)) {
      rc = push_folder(&l, p, err, n);
    } else {
      rc = push_path(&l, strdup(p));
    }
  }
  free(copy);
  if (rc == 0 && l.n == 0) {
    snprintf(err, n, "config: HOTSWAP_PLUGINS names no plugin (plugin files or folders, "
             "separated by ':')");
    rc = -ENOENT;
  }
  if (rc != 0) {
    pre_paths_free(l.v);
    return rc;
  }
  *out = l.v;
  *count = l.n;
  return 0;
}

void pre_paths_free(char **paths) {
  for (size_t i = 0; paths != NULL && paths[i] != NULL; i++)
    free(paths[i]);
  free(paths);
}
