/* SPDX-License-Identifier: BSD-3-Clause */
/* signal.c - the reload signal: the shim's one signal handler, and the interposed
 * sigaction(), signal(), bsd_signal() and sigset() that keep the daemon's own handler for
 * that signal working.
 *
 * The handler only wakes the reloader thread (a write to an eventfd) and then runs what
 * the daemon asked for. The daemon's disposition lives in one of two slots, switched with
 * an atomic index, so the handler never reads a half-written struct sigaction.
 *
 * A daemon that blocks the reload signal and takes it with sigwait(), sigwaitinfo() or
 * sigtimedwait() gets every one too: once it waits so, a shim thread that catches the
 * signal blocks it for itself and queues it again for the daemon, and the interposed wait
 * wakes the reloader when it returns the signal. signalfd() cannot be seen through (the
 * daemon reads the fd), so the shim keeps the signal out of the fd and says so once.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#include "preload/preload.h"

typedef int (*sigaction_fn)(int, const struct sigaction *, struct sigaction *);

static sigaction_fn real_sigaction;
static int reload_signo;          /* 0 while the shim does not own a signal */
static volatile int wake_fd = -1; /* eventfd written by the handler */
static struct sigaction app_slots[2];
static int app_slot; /* index of the daemon's current disposition, atomic */
static int sync_waiter; /* the daemon sigwait()s for the reload signal: atomic, never reset */
static int fd_reader;   /* the daemon asked for it through signalfd(): atomic, logged once */
/* Set in every thread the shim starts: only those hand the signal on to a waiting daemon. */
static __thread int shim_thread __attribute__((tls_model("initial-exec")));

static sigaction_fn get_real_sigaction(void) {
  if (real_sigaction == NULL)
    real_sigaction = (sigaction_fn)dlsym(RTLD_NEXT, "sigaction");
  return real_sigaction;
}

/* Ask the reloader thread for a reload. async-signal-safe */
static void wake_reloader(void) {
  uint64_t one = 1;
  int fd = wake_fd;
  if (fd >= 0 && write(fd, &one, sizeof(one)) < 0) {
    /* EAGAIN: the counter is full, a reload is pending anyway. */
  }
}

/* The daemon takes the signal with sigwait(): leave this shim thread's mask blocking it
 * once the handler returns, and queue it again for the process, where only the daemon's
 * wait can take it now (its interposed wait then wakes the reloader). The sender's pid and
 * uid are kept; si_code becomes SI_QUEUE, the only code a process may queue to itself from
 * any thread. async-signal-safe */
static void hand_to_waiter(int signo, const siginfo_t *info, ucontext_t *uc) {
  siginfo_t si = *info;
  sigaddset(&uc->uc_sigmask, signo);
  si.si_code = SI_QUEUE;
  if (syscall(SYS_rt_sigqueueinfo, getpid(), signo, &si) != 0)
    wake_reloader(); /* cannot pass it on: at least the reload happens */
}

/* async-signal-safe */
static void on_reload_signal(int signo, siginfo_t *info, void *uctx) {
  int saved = errno;
  if (shim_thread && __atomic_load_n(&sync_waiter, __ATOMIC_ACQUIRE)) {
    hand_to_waiter(signo, info, uctx);
    errno = saved;
    return;
  }
  wake_reloader();
  const struct sigaction *app = &app_slots[__atomic_load_n(&app_slot, __ATOMIC_ACQUIRE)];
  if (app->sa_flags & SA_SIGINFO) {
    if (app->sa_sigaction != NULL)
      app->sa_sigaction(signo, info, uctx);
  } else if (app->sa_handler != SIG_DFL && app->sa_handler != SIG_IGN) {
    /* SIG_DFL of SIGHUP would terminate the daemon: the shim owns the signal now, and a
     * reload is what the operator asked for. */
    app->sa_handler(signo);
  }
  errno = saved;
}

/* Install the shim's handler with the daemon's flags and mask, so that SA_RESTART and the
 * set of signals blocked during its handler stay what the daemon chose. */
static int install_handler(const struct sigaction *app) {
  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sa.sa_sigaction = on_reload_signal;
  sa.sa_mask = app->sa_mask;
  sa.sa_flags = SA_SIGINFO | (app->sa_flags & (SA_RESTART | SA_ONSTACK | SA_NODEFER));
  if (app->sa_handler == SIG_DFL || app->sa_handler == SIG_IGN)
    sa.sa_flags |= SA_RESTART;
  return get_real_sigaction()(reload_signo, &sa, NULL) == 0 ? 0 : -errno;
}

static void set_app_action(const struct sigaction *act) {
  int next = !__atomic_load_n(&app_slot, __ATOMIC_ACQUIRE);
  app_slots[next] = *act;
  app_slots[next].sa_flags &= ~SA_RESETHAND; /* the shim's handler must stay installed */
  __atomic_store_n(&app_slot, next, __ATOMIC_RELEASE);
}

int pre_signal_install(int signo, int fd) {
  struct sigaction old;
  if (get_real_sigaction() == NULL)
    return -ENOSYS;
  if (real_sigaction(signo, NULL, &old) != 0)
    return -errno;
  wake_fd = fd;
  reload_signo = signo;
  set_app_action(&old);
  int rc = install_handler(&old);
  if (rc != 0) {
    reload_signo = 0;
    return rc;
  }
  /* A reload signal blocked by the thread that loads the shim stays deliverable to the
   * reloader thread, which unblocks it for itself. */
  return 0;
}

void pre_signal_set_wake_fd(int fd) { wake_fd = fd; }

pre_sigaction_fn pre_real_sigaction(void) { return get_real_sigaction(); }

PRE_API int sigaction(int signo, const struct sigaction *act, struct sigaction *oldact) {
  if (get_real_sigaction() == NULL) {
    errno = ENOSYS;
    return -1;
  }
  if (pre_crash_owns(signo)) {
    int rc = pre_crash_set(signo, act, oldact);
    if (rc != 0) {
      errno = -rc;
      return -1;
    }
    return 0;
  }
  if (signo != reload_signo || reload_signo == 0)
    return real_sigaction(signo, act, oldact);
  struct sigaction prev = app_slots[__atomic_load_n(&app_slot, __ATOMIC_ACQUIRE)];
  if (act != NULL) {
    int rc = install_handler(act);
    if (rc != 0) {
      errno = -rc;
      return -1;
    }
    set_app_action(act);
  }
  if (oldact != NULL)
    *oldact = prev;
  return 0;
}

/* BSD semantics, as glibc's signal(): the handler stays installed, the signal is blocked
 * while it runs, interrupted system calls restart. */
PRE_API sighandler_t signal(int signo, sighandler_t handler) {
  struct sigaction sa, old;
  if (handler == SIG_ERR) {
    errno = EINVAL;
    return SIG_ERR;
  }
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = handler;
  sa.sa_flags = SA_RESTART;
  sigemptyset(&sa.sa_mask);
  sigaddset(&sa.sa_mask, signo);
  if (sigaction(signo, &sa, &old) != 0)
    return SIG_ERR;
  return old.sa_handler;
}

/* glibc declares it only for old X/Open programs; it is glibc's signal() under another name. */
PRE_API sighandler_t bsd_signal(int signo, sighandler_t handler);
PRE_API sighandler_t bsd_signal(int signo, sighandler_t handler) { return signal(signo, handler); }

typedef sighandler_t (*sigset_fn)(int, sighandler_t);

/* System V semantics, as glibc's sigset(): SIG_HOLD adds the signal to the calling thread's
 * mask and leaves the disposition alone; anything else installs the disposition (no
 * SA_RESTART, empty sa_mask) and takes the signal out of the mask. Returns SIG_HOLD when
 * the signal was held, else the previous disposition. For the reload signal the
 * disposition becomes the daemon's (chained); every other signal goes to libc's sigset. */
PRE_API sighandler_t sigset(int signo, sighandler_t disp) {
  static sigset_fn real_sigset;
  if ((signo != reload_signo || reload_signo == 0) && !pre_crash_owns(signo)) {
    sigset_fn real = __atomic_load_n(&real_sigset, __ATOMIC_RELAXED);
    if (real == NULL) {
      real = (sigset_fn)dlsym(RTLD_NEXT, "sigset");
      __atomic_store_n(&real_sigset, real, __ATOMIC_RELAXED);
    }
    if (real == NULL) {
      errno = ENOSYS;
      return SIG_ERR;
    }
    return real(signo, disp);
  }
  struct sigaction sa, old;
  sigset_t one, was;
  sigemptyset(&one);
  sigaddset(&one, signo);
  if (disp == SIG_HOLD) {
    if (sigprocmask(SIG_BLOCK, &one, &was) != 0)
      return SIG_ERR;
    if (sigismember(&was, signo))
      return SIG_HOLD;
    return sigaction(signo, NULL, &old) == 0 ? old.sa_handler : SIG_ERR;
  }
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = disp;
  sigemptyset(&sa.sa_mask);
  if (sigaction(signo, &sa, &old) != 0 || sigprocmask(SIG_UNBLOCK, &one, &was) != 0)
    return SIG_ERR;
  return sigismember(&was, signo) ? SIG_HOLD : old.sa_handler;
}

void pre_signal_mark_shim_thread(void) { shim_thread = 1; }

/* ---- daemons that wait for the signal ------------------------------------------------ */

typedef int (*sigtimedwait_fn)(const sigset_t *, siginfo_t *, const struct timespec *);
typedef int (*signalfd_fn)(int, const sigset_t *, int);

static void *real_fn(void **cache, const char *name) {
  void *f = __atomic_load_n(cache, __ATOMIC_RELAXED);
  if (f == NULL) {
    f = dlsym(RTLD_NEXT, name);
    __atomic_store_n(cache, f, __ATOMIC_RELAXED);
  }
  return f;
}

/* The daemon is about to wait for `set`: when that holds the reload signal, shim threads
 * hand it on from now on (the first time says so in the log). */
static void note_waiter(const sigset_t *set) {
  if (reload_signo == 0 || set == NULL || sigismember(set, reload_signo) != 1 ||
      __atomic_load_n(&sync_waiter, __ATOMIC_ACQUIRE))
    return;
  if (!__atomic_exchange_n(&sync_waiter, 1, __ATOMIC_ACQ_REL))
    pre_log("the daemon waits for SIG%s with sigwait(): it gets every one, and each still "
            "reloads", sigabbrev_np(reload_signo));
}

/* What the daemon's wait returned: the reload signal also asks for a reload. */
static int took(int signo) {
  if (signo > 0 && signo == reload_signo)
    wake_reloader();
  return signo;
}

PRE_API int sigtimedwait(const sigset_t *set, siginfo_t *info, const struct timespec *timeout) {
  static void *real;
  sigtimedwait_fn f = (sigtimedwait_fn)real_fn(&real, "sigtimedwait");
  if (f == NULL) {
    errno = ENOSYS;
    return -1;
  }
  note_waiter(set);
  return took(f(set, info, timeout));
}

PRE_API int sigwaitinfo(const sigset_t *set, siginfo_t *info) {
  return sigtimedwait(set, info, NULL);
}

/* POSIX: the signal in *sig, 0 or an error number (not errno); EINTR never happens. */
PRE_API int sigwait(const sigset_t *set, int *sig) {
  int signo;
  do
    signo = sigtimedwait(set, NULL, NULL);
  while (signo < 0 && errno == EINTR);
  if (signo < 0)
    return errno;
  *sig = signo;
  return 0;
}

/* The daemon reads its signals from a file descriptor the shim cannot watch. Left in the
 * fd's mask, each reload signal would go to whichever of the fd's reader and the shim's
 * thread dequeues it first; so the shim takes it out of the mask (reloads keep working,
 * every time) and the log says how to give the daemon its signal back. */
PRE_API int signalfd(int fd, const sigset_t *mask, int flags) {
  static void *real;
  signalfd_fn f = (signalfd_fn)real_fn(&real, "signalfd");
  if (f == NULL) {
    errno = ENOSYS;
    return -1;
  }
  if (reload_signo == 0 || sigismember(mask, reload_signo) != 1)
    return f(fd, mask, flags);
  if (!__atomic_exchange_n(&fd_reader, 1, __ATOMIC_ACQ_REL))
    pre_log("the daemon asks for SIG%s through signalfd(), which the shim cannot share: the "
            "shim keeps it for reloads and leaves it out of the daemon's signalfd; set "
            "HOTSWAP_SIGNAL to a signal the daemon does not use", sigabbrev_np(reload_signo));
  sigset_t without = *mask;
  sigdelset(&without, reload_signo);
  return f(fd, &without, flags);
}

int pre_signal_parse(const char *name) {
  if (name == NULL || *name == '\0')
    return -1;
  char *end;
  long n = strtol(name, &end, 10);
  if (*end == '\0')
    return (n > 0 && n < NSIG) ? (int)n : -1;
  if (strncasecmp(name, "SIG", 3) == 0)
    name += 3;
  for (int s = 1; s < NSIG; s++) {
    const char *abbrev = sigabbrev_np(s);
    if (abbrev != NULL && strcasecmp(abbrev, name) == 0)
      return s;
  }
  if (strncasecmp(name, "RTMIN+", 6) == 0 || strncasecmp(name, "RTMAX-", 6) == 0) {
    long k = strtol(name + 6, &end, 10);
    int s = (name[5] == '+') ? SIGRTMIN + (int)k : SIGRTMAX - (int)k;
    if (*end == '\0' && k >= 0 && s >= SIGRTMIN && s <= SIGRTMAX)
      return s;
  }
  return -1;
}
