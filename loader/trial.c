/* SPDX-License-Identifier: BSD-3-Clause */
/* trial.c - step "trial": a new build's load-time code (IFUNC resolvers and constructors
 * run by dlopen, hotswap_reloadable, _export, _import, _on_load, _on_init) runs first in a
 * disposable copy of the process, forked from the reloading thread, with a deadline. A
 * crash, an exit or a hang there refuses the reload before that code ever runs in the
 * daemon. The child reports over a pipe: the plugin code it is in (each activity), then one
 * verdict (the steps returned, a fatal signal and where, or exit(N)), and ends itself with
 * exit_group, never running the daemon's atexit handlers nor flushing its stdio buffers.
 *
 * Also here: which plugin code the reloading thread runs now (the activity), for a status
 * that must answer while a hook hangs in the daemon itself.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "loader/lifecycle_int.h"
#include "loader/loader.h"

/* ---- the activity ------------------------------------------------------------------------ */

static pthread_mutex_t activity_lock = PTHREAD_MUTEX_INITIALIZER;
static struct ldr_activity activity; /* under activity_lock; the child reads it unlocked */

enum { MSG_PHASE = 1, MSG_RETURNED, MSG_FAULT, MSG_EXIT };

/* One record on the pipe: less than PIPE_BUF, so each write is whole. */
struct trial_msg {
  int kind;
  int rc;           /* RETURNED: the steps' result; FAULT: the signal; EXIT: the status */
  char file[64];    /* the plugin file whose code runs */
  char what[32];    /* "constructor", "hotswap_on_load", ... */
  char text[LDR_ERR_MAX]; /* RETURNED: the steps' error; FAULT: where */
};

static bool in_child;  /* this process is a trial copy */
/* Set around fork() so that fork handlers, which run before fork returns, know too. */
static _Atomic bool forking;
static pid_t forking_parent;
static int out_fd = -1; /* its end of the pipe */
/* The ELF details of a plugin file being tried, to name a function its mapping holds
 * before the crash table knows it (a constructor). */
static const struct elf_info *(*info_of)(void *arg, const char *file);
static void *info_arg;

static void put_msg(const struct trial_msg *m) {
  while (write(out_fd, m, sizeof(*m)) < 0 && errno == EINTR)
    ;
}

void ldr_activity_enter(const char *file, const char *what) {
  pthread_mutex_lock(&activity_lock);
  activity.running = true;
  snprintf(activity.file, sizeof(activity.file), "%s", file);
  snprintf(activity.what, sizeof(activity.what), "%s", what);
  activity.since_ns = ldr_now_ns();
  pthread_mutex_unlock(&activity_lock);
  if (in_child) {
    struct trial_msg m = {.kind = MSG_PHASE};
    memcpy(m.file, activity.file, sizeof(m.file));
    memcpy(m.what, activity.what, sizeof(m.what));
    put_msg(&m);
  }
}

void ldr_activity_leave(void) {
  pthread_mutex_lock(&activity_lock);
  activity.running = false;
  pthread_mutex_unlock(&activity_lock);
}

bool ldr_activity_get(struct ldr_activity *out) {
  pthread_mutex_lock(&activity_lock);
  *out = activity;
  pthread_mutex_unlock(&activity_lock);
  return out->running;
}

bool ldr_trial_child(void) {
  return in_child || (atomic_load(&forking) && getpid() != forking_parent);
}

/* ---- the child's verdicts ----------------------------------------------------------------- */

static size_t (*backtrace_fn)(uintptr_t *ips, size_t max);

void ldr_set_backtrace(size_t (*fn)(uintptr_t *ips, size_t max)) { backtrace_fn = fn; }

/* The disposable copy ends here; the only place in the shim that ends a process. */
static void child_end(int status) {
  syscall(SYS_exit_group, status);
  for (;;)
    pause();
}

static const int fault_signals[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGTRAP, SIGSYS};

/* Append "<file>+0x<off>" or "<file> <sym>+0x<off>" for addr to buf when it is plugin code
 * (a version in the crash table, or a plugin copy being mapped: "memfd:hotswap:<file>").
 * Returns true when it is. */
static bool name_plugin_code(uintptr_t addr, char *buf, size_t n) {
  struct ldr_crash_where w;
  if (ldr_crashmap_find(addr, &w)) {
    if (w.sym[0] != '\0')
      snprintf(buf, n, "%s %s+0x%lx", w.file, w.sym, (unsigned long)w.sym_offset);
    else
      snprintf(buf, n, "%s+0x%lx", w.file, (unsigned long)w.offset);
    return true;
  }
  char obj[128];
  uintptr_t off;
  if (ldr_maps_object(addr, obj, sizeof(obj), &off) && strncmp(obj, "hotswap:", 8) == 0) {
    /* A file offset; in a shared object's code it is also the address elf/ knows. */
    const struct elf_info *ei = info_of != NULL ? info_of(info_arg, obj + 8) : NULL;
    const struct elf_addr_sym *s = ei != NULL ? elf_sym_at(ei, off) : NULL;
    if (s != NULL && s->func)
      snprintf(buf, n, "%s %s+0x%lx", obj + 8, s->name, (unsigned long)(off - s->value));
    else
      snprintf(buf, n, "%s+0x%lx", obj + 8, (unsigned long)off);
    return true;
  }
  return false;
}

/* The child's handler of a fatal signal: say where, then end. snprintf is not
 * async-signal-safe, but this process is a single-threaded copy that ends right here. */
static void on_fault(int sig, siginfo_t *si, void *uctx) {
  struct trial_msg m = {.kind = MSG_FAULT, .rc = sig};
  memcpy(m.file, activity.file, sizeof(m.file));
  memcpy(m.what, activity.what, sizeof(m.what));
  size_t len = (size_t)snprintf(m.text, sizeof(m.text), "killed by %s", ldr_fault_name(sig));
  if ((sig == SIGSEGV || sig == SIGBUS) && si->si_code > 0)
    len += (size_t)snprintf(m.text + len, sizeof(m.text) - len, " (address 0x%lx)",
                            (unsigned long)(uintptr_t)si->si_addr);
  uintptr_t pc = ldr_fault_pc(uctx);
  char where[256], obj[128];
  uintptr_t off;
  if (pc != 0 && name_plugin_code(pc, where, sizeof(where))) {
    snprintf(m.text + len, sizeof(m.text) - len, " at %s", where);
  } else {
    if (pc != 0 && ldr_maps_object(pc, obj, sizeof(obj), &off))
      len += (size_t)snprintf(m.text + len, sizeof(m.text) - len, " in %s+0x%lx", obj,
                              (unsigned long)off);
    uintptr_t ips[48];
    size_t nf = backtrace_fn != NULL ? backtrace_fn(ips, 48) : 0;
    size_t k = 0;
    while (k < nf && ips[k] != pc)
      k++; /* this handler's frames and the signal frame */
    for (k++; k < nf; k++)
      if (name_plugin_code(ips[k] - 1, where, sizeof(where))) {
        snprintf(m.text + len, sizeof(m.text) - len, ", called from %s", where);
        break;
      }
  }
  put_msg(&m);
  child_end(128 + sig);
}

/* exit() from plugin code: runs first of the atexit handlers (registered last), so the
 * daemon's own never run in the copy. */
static void on_child_exit(int status, void *arg) {
  (void)arg;
  struct trial_msg m = {.kind = MSG_EXIT, .rc = status};
  memcpy(m.file, activity.file, sizeof(m.file));
  memcpy(m.what, activity.what, sizeof(m.what));
  put_msg(&m);
  child_end(status & 0xff);
}

static void child_main(int timeout_ms, int (*body)(void *arg, char *err), void *arg) {
  in_child = true;
  activity.running = false;
  /* Never outlive the reloading thread, nor the deadline by much (the parent kills it). */
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  struct sigaction sa = {.sa_handler = SIG_DFL};
  sigemptyset(&sa.sa_mask);
  sigaction(SIGALRM, &sa, NULL);
  alarm((unsigned)(timeout_ms / 1000 + 2));
  sa.sa_sigaction = on_fault;
  /* SA_RESETHAND: a fault in the handler itself ends the copy by the default action. */
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER | SA_RESETHAND;
  sigset_t faults;
  sigemptyset(&faults);
  for (size_t i = 0; i < sizeof(fault_signals) / sizeof(fault_signals[0]); i++) {
    sigaction(fault_signals[i], &sa, NULL);
    sigaddset(&faults, fault_signals[i]);
  }
  sigaddset(&faults, SIGALRM);
  pthread_sigmask(SIG_UNBLOCK, &faults, NULL);
  on_exit(on_child_exit, NULL);
  /* A build can tell it is being tried (and skip side effects such as writing files). */
  setenv("HOTSWAP_TRIAL", "1", 1);
  struct trial_msg m = {.kind = MSG_RETURNED};
  m.rc = body(arg, m.text);
  memcpy(m.file, activity.file, sizeof(m.file));
  put_msg(&m);
  child_end(0);
}

/* ---- the parent -------------------------------------------------------------------------- */

static long long ms_now(void) { return (long long)(ldr_now_ns() / 1000000u); }

/* Read what the copy wrote: each whole record updates res's file and what (the plugin code it
 * is in); a verdict goes to *v. Returns false at end of file. */
static bool read_msgs(int fd, struct trial_msg *buf, size_t *have, struct ldr_trial_result *res,
                      bool *verdict, struct trial_msg *v) {
  for (;;) {
    ssize_t r = read(fd, (char *)buf + *have, sizeof(*buf) - *have);
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0)
      return r < 0 && errno == EAGAIN;
    *have += (size_t)r;
    if (*have < sizeof(*buf))
      continue;
    *have = 0;
    snprintf(res->file, sizeof(res->file), "%s", buf->file);
    snprintf(res->what, sizeof(res->what), "%s", buf->what);
    if (buf->kind != MSG_PHASE) {
      *v = *buf;
      *verdict = true;
    }
  }
}

static const char *in_what(const struct ldr_trial_result *r) {
  return r->what[0] != '\0' ? r->what : "load";
}

int ldr_trial_run(int timeout_ms, int (*body)(void *arg, char *err),
                  const struct elf_info *(*info)(void *arg, const char *file), void *arg,
                  struct ldr_trial_result *res) {
  memset(res, 0, sizeof(*res));
  info_of = info;
  info_arg = arg;
  uint64_t t0 = ldr_now_ns();
  int p[2];
  if (pipe2(p, O_CLOEXEC) != 0)
    return -errno;
  /* The copy's SIGCHLD: with this thread not blocking it, the kernel hands it to this
   * thread (its parent) or, at the default disposition, drops it at once; blocked here, it
   * would wake another thread of the daemon, one blocked in a system call say. */
  sigset_t chld, old_mask;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  pthread_sigmask(SIG_UNBLOCK, &chld, &old_mask);
  forking_parent = getpid();
  atomic_store(&forking, true);
  pid_t pid = fork();
  if (pid != 0)
    atomic_store(&forking, false);
  if (pid < 0) {
    int e = errno;
    pthread_sigmask(SIG_SETMASK, &old_mask, NULL);
    close(p[0]);
    close(p[1]);
    return -e;
  }
  if (pid == 0) {
    close(p[0]);
    out_fd = p[1];
    child_main(timeout_ms, body, arg);
  }
  close(p[1]);
  fcntl(p[0], F_SETFL, O_NONBLOCK);
  int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
  long long deadline = ms_now() + timeout_ms;
  struct trial_msg buf, v;
  size_t have = 0;
  bool verdict = false, open_pipe = true, exited = false, timed_out = false;
  int status = 0;
  bool have_status = false;
  while (!exited) {
    long long left = deadline - ms_now();
    if (left <= 0) {
      timed_out = true;
      break;
    }
    struct pollfd pf[2] = {{.fd = open_pipe ? p[0] : -1, .events = POLLIN},
                           {.fd = pidfd, .events = POLLIN}};
    int wait = pidfd >= 0 ? (int)left : (int)(left < 20 ? left : 20);
    int r = poll(pf, 2, wait);
    if (r < 0 && errno != EINTR) {
      timed_out = true; /* cannot watch it any more: end it, as at the deadline */
      break;
    }
    if (open_pipe && (pf[0].revents & (POLLIN | POLLHUP)))
      open_pipe = read_msgs(p[0], &buf, &have, res, &verdict, &v);
    if (pidfd >= 0 ? (pf[1].revents & POLLIN) != 0 : !open_pipe || verdict) {
      pid_t w = waitpid(pid, &status, pidfd >= 0 ? 0 : WNOHANG);
      have_status = w == pid;
      exited = w == pid || (w < 0 && errno == ECHILD) || pidfd >= 0;
    }
  }
  if (timed_out) {
    if (pidfd >= 0)
      syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
    else
      kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
  }
  if (open_pipe)
    read_msgs(p[0], &buf, &have, res, &verdict, &v); /* what it wrote before it ended */
  if (pidfd >= 0)
    close(pidfd);
  close(p[0]);
  pthread_sigmask(SIG_SETMASK, &old_mask, NULL); /* its SIGCHLD came with its exit */
  res->ms = (double)(ldr_now_ns() - t0) / 1e6;
  if (verdict && v.kind == MSG_RETURNED) {
    res->returned = true;
    res->rc = v.rc;
    snprintf(res->err, sizeof(res->err), "%s", v.text);
    return 0;
  }
  if (timed_out)
    snprintf(res->reason, sizeof(res->reason), "still running after %d ms in %s", timeout_ms,
             in_what(res));
  else if (verdict && v.kind == MSG_FAULT)
    snprintf(res->reason, sizeof(res->reason), "%s %.400s", in_what(res), v.text);
  else if (verdict && v.kind == MSG_EXIT)
    snprintf(res->reason, sizeof(res->reason), "exit(%d) during load, in %s", v.rc,
             in_what(res));
  else if (have_status && WIFSIGNALED(status))
    snprintf(res->reason, sizeof(res->reason), "%s killed by signal %d (%s)", in_what(res),
             WTERMSIG(status), strsignal(WTERMSIG(status)));
  else if (have_status && WIFEXITED(status))
    snprintf(res->reason, sizeof(res->reason), "_exit(%d) during load, in %s",
             WEXITSTATUS(status), in_what(res));
  else
    snprintf(res->reason, sizeof(res->reason), "ended during load, in %s, without a word "
             "(its exit status went to the daemon's own SIGCHLD handling)", in_what(res));
  return 0;
}
