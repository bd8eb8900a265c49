/* SPDX-License-Identifier: BSD-3-Clause */
/* preload.c - the constructor of libhotswap_preload.so: reads the configuration, takes
 * over the reload signal, loads the plugins, starts the reloader and control threads, and
 * keeps them working across fork(). Inert when HOTSWAP_PLUGINS is unset, in setuid
 * (AT_SECURE) processes and in processes the daemon exec()s. */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "common/unix_addr.h"
#include "loader/tramp.h"
#include "preload/preload.h"

/* Marks the environment of the daemon: a process that finds a pid other than its own here
 * was exec()ed by the daemon (or one of its forks) and stays inert. */
#define OWNER_ENV "HOTSWAP_OWNER_PID"

static struct pre_config config;
static bool active; /* reloads enabled in this process */

struct thread_start {
  void *(*fn)(void *);
  void *arg;
};

static void *shim_thread_main(void *p) {
  struct thread_start s = *(struct thread_start *)p;
  free(p);
  pre_signal_mark_shim_thread();
  /* A root folder and working folder of its own: when the daemon chroot()s or chdir()s
   * later, the shim's threads still resolve plugin files, their folders and /proc/self/fd
   * (dlopen of a snapshot) where they were at start-up. Needs no privilege; under a seccomp
   * filter that forbids it, the thread shares the daemon's and a reload after chroot says so. */
  unshare(CLONE_FS);
  return s.fn(s.arg);
}

int pre_thread_start(pthread_t *t, void *(*fn)(void *), void *arg) {
  sigset_t all, old;
  pthread_attr_t attr;
  struct thread_start *s = malloc(sizeof(*s));
  if (s == NULL)
    return -ENOMEM;
  *s = (struct thread_start){fn, arg};
  sigfillset(&all);
  if (config.signo > 0)
    sigdelset(&all, config.signo); /* the reload signal always has a thread to land on */
  if (pre_stacks_signo() > 0)
    sigdelset(&all, pre_stacks_signo()); /* retirement asks every thread for its stack */
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  int rc = pthread_create(t, &attr, shim_thread_main, s);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  pthread_attr_destroy(&attr);
  if (rc != 0)
    free(s);
  return -rc;
}

static void on_control(const char *request, char **reply) {
  if (strcmp(request, "status") == 0) {
    struct pre_summary s;
    pre_reload_summary(&s);
    *reply = pre_status_json(&s);
  } else if (strcmp(request, "revert") == 0) {
    *reply = pre_revert_json();
  } else {
    *reply = strdup("{\"ok\":false,\"error\":\"EINVAL\",\"message\":\"unknown request; "
                    "expected status, reload or revert\"}");
  }
}

static int ask_reload(const char *request, uint64_t *ticket) {
  return strcmp(request, "reload") == 0 ? pre_reload_ask(ticket) : -ENOENT;
}

static bool answer_reload(uint64_t ticket, bool expired, char **reply) {
  struct pre_outcome o;
  if (pre_reload_answer(ticket, &o)) {
    *reply = pre_outcome_json(&o);
    return true;
  }
  if (!expired)
    return false;
  char running[384] = "", msg[512];
  struct pre_summary s;
  pre_reload_summary(&s);
  bool busy = pre_running_text(&s, running, sizeof(running));
  snprintf(msg, sizeof(msg), "reload did not finish within 120 s%s%s", busy ? ": " : "",
           running);
  *reply = pre_json_error("ETIMEDOUT", msg);
  return true;
}

static bool exec_child(void) {
  const char *owner = getenv(OWNER_ENV);
  if (owner != NULL && atol(owner) != (long)getpid())
    return true;
  char pid[24];
  snprintf(pid, sizeof(pid), "%ld", (long)getpid());
  setenv(OWNER_ENV, pid, 1);
  return false;
}

static void at_exit(void) { pre_control_stop(); }

static void start_control(void) {
  char err[512];
  pre_control_defer(ask_reload, answer_reload);
  if (pre_control_start(config.control_path, on_control, err, sizeof(err)) != 0)
    pre_log("%s; `hotswap reload` and `hotswap status` cannot reach this process "
            "(kill -%s still reloads)", err, sigabbrev_np(config.signo));
}

static void *child_control_main(void *arg) {
  (void)arg;
  struct timespec delay = {0, 100 * 1000 * 1000};
  /* A socket file is bound a little later, so that a child that fork()s only to exec()
   * leaves none behind; an abstract name leaves nothing and is bound at once. */
  while (!unix_addr_abstract(config.control_path) && nanosleep(&delay, &delay) != 0)
    ;
  start_control();
  return NULL;
}

static void after_fork_child(void) {
  if (!active || ldr_trial_child())
    return; /* a trial copy (loader/trial.c) runs no thread of the shim, and ends soon */
  /* OWNER_ENV keeps the pid of the process that ran the constructor: a forked child that
   * exec()s then finds a pid other than its own and stays inert. */
  char pid[24];
  snprintf(pid, sizeof(pid), "%ld", (long)getpid());
  pre_peek_init();
  int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (fd < 0) {
    pre_log("fork: eventfd: %s; reloads disabled in pid %s", strerror(errno), pid);
    active = false;
    return;
  }
  pre_fd_guard(fd);
  pre_signal_set_wake_fd(fd);
  pre_reloader_after_fork(fd);
  /* The parent's socket stays the parent's; the child serves its own. */
  pre_control_stop();
  free(config.control_path);
  config.control_path = pre_control_path_for(getpid(), true);
  pthread_t t;
  if (config.control_path != NULL && pre_thread_start(&t, child_control_main, NULL) != 0)
    pre_log("fork: cannot start the control socket thread in pid %s", pid);
}

/* A setuid/setgid (AT_SECURE) process never loads code named by its environment, nor opens
 * a log file named there: when HOTSWAP_PLUGINS asks for plugins it says why on stderr, which
 * glibc has made sure is open, once; silent in a program a daemon running the shim exec()s. */
static void secure_notice(void) {
  const char *plugins = getenv("HOTSWAP_PLUGINS");
  if (plugins == NULL || *plugins == '\0' || getenv(OWNER_ENV) != NULL)
    return;
  pre_log("setuid/setgid process (AT_SECURE): HOTSWAP_PLUGINS ignored, no plugin loaded, "
          "reloads disabled");
}

__attribute__((constructor)) static void pre_init(void) {
  char err[512];
  if (getauxval(AT_SECURE) != 0) {
    secure_notice();
    return;
  }
  int rc = pre_config_load(&config, err, sizeof(err));
  if (rc == -ENOENT)
    return; /* HOTSWAP_PLUGINS unset: inert */
  pre_root_note();
  if (exec_child())
    return;
  if (pre_log_open(config.log_target) != 0)
    pre_log("HOTSWAP_LOG=%s: %s; logging to stderr", config.log_target, strerror(errno));
  if (rc != 0) {
    pre_log("start refused: config: %s; no plugin loaded, reloads disabled (fix the variable "
            "and restart)", err);
    return;
  }
  int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  pre_fd_guard(fd);
  ldr_set_fd_hooks(pre_fd_guard, pre_fd_unguard); /* snapshot memfds */
  ldr_set_backtrace(pre_stacks_backtrace);        /* a trial copy names abort()'s caller */
  if (fd < 0 || (rc = pre_signal_install(config.signo, fd)) != 0) {
    pre_log("cannot take over SIG%s: %s; reloads disabled", sigabbrev_np(config.signo),
            strerror(fd < 0 ? errno : -rc));
    return;
  }
  struct pre_outcome first;
  pre_peek_init();
  pre_reloader_init(&config, fd);
  pre_probation_init(config.crash_report ? config.probation_ms : 0);
  if (config.crash_report &&
      (rc = pre_crash_install(pre_real_sigaction(), pre_probation_crashed)) != 0)
    pre_log("cannot take the fatal signals: %s; a crash will not name the plugin it is in",
            strerror(-rc));
  pre_start_now(&first); /* the first load: plugins are there before main() runs */
  if ((rc = pre_reloader_start()) != 0) {
    pre_log("cannot start the reloader thread: %s; reloads disabled", strerror(-rc));
    return;
  }
  active = true;
  start_control();
  pthread_atfork(NULL, NULL, after_fork_child);
  atexit(at_exit);
}

__attribute__((destructor)) static void pre_fini(void) { pre_control_stop(); }

/* ---- the API exported to hosts (hotswap.h) ------------------------------------------ */

PRE_API void *hotswap_fn(const char *name) {
  void *tramp = NULL;
  if (name == NULL || ldr_route(name, &tramp) != 0)
    return NULL;
  return tramp;
}
