/* SPDX-License-Identifier: BSD-3-Clause */
/* crash.c - when code crashes the daemon: one log line that names the plugin build, then
 * exactly what would have happened without the shim.
 *
 * The shim takes SIGSEGV, SIGBUS, SIGFPE, SIGILL and SIGABRT at start-up. The daemon's own
 * dispositions for them (set before or after, through the interposed sigaction() and
 * friends, see signal.c) are kept in two slots switched atomically, as for the reload
 * signal. On a fatal signal the handler writes one line:
 *
 *   crash: SIGSEGV (address 0x0) at libhandler.so 9b8e7d1 handle_crash+0x12, committed
 *   14.2 s ago (generation 3)
 *   crash: SIGABRT in libc.so.6+0x3c8ec, called from libhandler.so 9b8e7d1 handle_x+0x2f, ...
 *   crash: SIGSEGV (address 0x10) in server+0x1234: not in plugin code
 *
 * then chains to the daemon's handler, or restores the default action and lets the fault
 * happen again (a synchronous fault re-executes the instruction; a signal sent with
 * kill/raise/abort is raised again): core dumps and exit statuses stay the daemon's.
 * Everything here is async-signal-safe: no lock, no allocation, no stdio.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include "loader/loader.h"
#include "preload/preload.h"

static const int fatal_signals[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};
#define N_FATAL (sizeof(fatal_signals) / sizeof(fatal_signals[0]))

struct owned {
  struct sigaction slots[2]; /* the daemon's disposition */
  _Atomic int slot;
  bool taken; /* the shim's handler is installed */
};
static struct owned owned[N_FATAL];
static pre_sigaction_fn real_sigaction;
static _Atomic int reported; /* one line per process: a handler that returns loops */
static pre_crash_fn on_blame;

static int index_of(int signo) {
  for (size_t i = 0; i < N_FATAL; i++)
    if (fatal_signals[i] == signo)
      return (int)i;
  return -1;
}

bool pre_crash_owns(int signo) {
  int i = index_of(signo);
  return i >= 0 && owned[i].taken;
}

/* ---- formatting without stdio -------------------------------------------------------- */

struct line {
  char s[1024];
  size_t n;
};

static void put(struct line *l, const char *s) {
  while (*s != '\0' && l->n + 1 < sizeof(l->s))
    l->s[l->n++] = *s++;
  l->s[l->n] = '\0';
}

static void put_uint(struct line *l, uint64_t v, unsigned base) {
  char tmp[24];
  size_t k = 0;
  do {
    tmp[k++] = "0123456789abcdef"[v % base];
    v /= base;
  } while (v != 0);
  char out[26];
  size_t m = 0;
  if (base == 16)
    out[m++] = '0', out[m++] = 'x';
  while (k > 0)
    out[m++] = tmp[--k];
  out[m] = '\0';
  put(l, out);
}

static void put_sym(struct line *l, const char *sym, uintptr_t off) {
  put(l, sym);
  put(l, "+");
  put_uint(l, off, 16);
}

static void put_since(struct line *l, const struct ldr_crash_where *w) {
  if (w->committed_ns == 0) {
    put(l, " (being loaded by a reload, not committed)");
    return;
  }
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  uint64_t ns = (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec;
  uint64_t ds = ns > w->committed_ns ? (ns - w->committed_ns) / 100000000u : 0;
  put(l, ", committed ");
  put_uint(l, ds / 10, 10);
  put(l, ".");
  put_uint(l, ds % 10, 10);
  put(l, " s ago (generation ");
  put_uint(l, w->generation, 10);
  put(l, ")");
}

static void put_plugin(struct line *l, const struct ldr_crash_where *w) {
  put(l, w->file);
  put(l, " ");
  put(l, w->version);
  put(l, " ");
  if (w->sym[0] != '\0')
    put_sym(l, w->sym, w->sym_offset);
  else
    put_sym(l, w->file, w->offset);
}

/* A system library: the C library and its kind, which plugin code calls (abort, strlen);
 * a crash there is the caller's. The daemon's own executable and libraries are not. */
static bool system_object(uintptr_t addr) {
  char name[128];
  uintptr_t off;
  if (!ldr_maps_object(addr, name, sizeof(name), &off))
    return false;
  static const char *const sys[] = {"libc.so", "libm.so", "libstdc++.so", "libgcc_s.so",
                                    "ld-linux", "libpthread.so", "libdl.so", "libcrypto.so",
                                    "libssl.so", "libz.so"};
  for (size_t i = 0; i < sizeof(sys) / sizeof(sys[0]); i++)
    if (strncmp(name, sys[i], strlen(sys[i])) == 0)
      return true;
  return false;
}

/* The line, and who is blamed: true when the fault is in plugin code, or in a system
 * library called (first, walking outward) from plugin code. */
static bool describe(struct line *l, int signo, const siginfo_t *info, const void *uctx,
                     struct ldr_crash_where *w) {
  bool sent = info->si_code <= 0 && info->si_pid != getpid();
  put(l, "crash: ");
  put(l, ldr_fault_name(signo));
  if (sent) {
    put(l, " sent by pid ");
    put_uint(l, (uint64_t)info->si_pid, 10);
    put(l, " (uid ");
    put_uint(l, (uint64_t)info->si_uid, 10);
    put(l, "): not a fault, no plugin blamed");
    return false;
  }
  if (signo == SIGSEGV || signo == SIGBUS) {
    put(l, " (address ");
    put_uint(l, (uintptr_t)info->si_addr, 16);
    put(l, ")");
  }
  uintptr_t pc = ldr_fault_pc(uctx);
  if (pc != 0 && ldr_crashmap_find(pc, w)) {
    put(l, " at ");
    put_plugin(l, w);
    put_since(l, w);
    return true;
  }
  char obj[128];
  uintptr_t off;
  put(l, " in ");
  if (pc != 0 && ldr_maps_object(pc, obj, sizeof(obj), &off))
    put_sym(l, obj, off);
  else
    put_uint(l, pc, 16);
  /* Who called it: the frames outside the signal handler, outward from the fault. */
  uintptr_t ips[48];
  size_t n = pre_stacks_backtrace(ips, 48);
  size_t k = 0;
  while (k < n && ips[k] != pc)
    k++; /* the handler's own frames and the signal frame */
  bool system = pc != 0 && system_object(pc);
  for (k++; system && k < n; k++) {
    uintptr_t ret = ips[k] - 1; /* a return address: the call is just before it */
    if (ldr_crashmap_find(ret, w)) {
      put(l, ", called from ");
      put_plugin(l, w);
      put_since(l, w);
      return true;
    }
    system = system_object(ret);
  }
  put(l, ": not in plugin code");
  return false;
}

/* Write the line to the log (stderr for syslog, and syslog by hand). */
static void emit(const struct line *l) {
  struct line out = {.n = 0};
  put(&out, "hotswap[");
  put_uint(&out, (uint64_t)getpid(), 10);
  put(&out, "]: ");
  put(&out, l->s);
  put(&out, "\n");
  int fd = pre_log_fd();
  for (size_t done = 0; done < out.n;) {
    ssize_t w = write(fd, out.s + done, out.n - done);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0)
      break;
    done += (size_t)w;
  }
  if (!pre_log_is_syslog())
    return;
  struct line msg = {.n = 0};
  put(&msg, "<26>hotswap["); /* LOG_DAEMON | LOG_CRIT */
  put_uint(&msg, (uint64_t)getpid(), 10);
  put(&msg, "]: ");
  put(&msg, l->s);
  int s = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  struct sockaddr_un a = {.sun_family = AF_UNIX, .sun_path = "/dev/log"};
  if (s >= 0) {
    sendto(s, msg.s, msg.n, MSG_NOSIGNAL, (struct sockaddr *)&a, sizeof(a));
    close(s);
  }
}

static void on_fatal(int signo, siginfo_t *info, void *uctx) {
  int saved = errno;
  int i = index_of(signo);
  struct owned *o = &owned[i];
  struct sigaction app = o->slots[atomic_load_explicit(&o->slot, memory_order_acquire)];
  bool sent = info->si_code <= 0; /* kill, sigqueue, raise, abort: not re-executed */
  bool ignored = !(app.sa_flags & SA_SIGINFO) && app.sa_handler == SIG_IGN;
  /* A trial copy of the process (loader/trial.c) reports its own faults: no line in the
   * daemon's log, no crash record. */
  if (!ldr_trial_child() && !(sent && ignored) && atomic_exchange(&reported, 1) == 0) {
    struct line l = {.n = 0};
    struct ldr_crash_where w;
    bool blamed = describe(&l, signo, info, uctx, &w);
    emit(&l);
    if (blamed && on_blame != NULL)
      on_blame(signo, &w, l.s);
  }
  if (app.sa_flags & SA_SIGINFO) {
    if (app.sa_flags & SA_RESETHAND)
      pre_crash_set(signo, &(struct sigaction){.sa_handler = SIG_DFL}, NULL);
    app.sa_sigaction(signo, info, uctx);
  } else if (app.sa_handler != SIG_DFL && app.sa_handler != SIG_IGN) {
    if (app.sa_flags & SA_RESETHAND)
      pre_crash_set(signo, &(struct sigaction){.sa_handler = SIG_DFL}, NULL);
    app.sa_handler(signo);
  } else if (!(sent && ignored)) {
    /* The default action, as without the shim: a fault re-executes and is fatal; a sent
     * signal is raised again and delivered when this handler returns. */
    struct sigaction dfl = {.sa_handler = SIG_DFL};
    sigemptyset(&dfl.sa_mask);
    real_sigaction(signo, &dfl, NULL);
    o->taken = false;
    if (sent)
      syscall(SYS_tgkill, getpid(), gettid(), signo);
  }
  errno = saved;
}

/* Install the shim's handler with the daemon's mask and flags (SA_ONSTACK always: a stack
 * overflow needs the daemon's alternate stack when it has one). */
static int install(int signo, const struct sigaction *app) {
  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sa.sa_sigaction = on_fatal;
  sa.sa_mask = app->sa_mask;
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK | (app->sa_flags & (SA_RESTART | SA_NODEFER));
  return real_sigaction(signo, &sa, NULL) == 0 ? 0 : -errno;
}

int pre_crash_set(int signo, const struct sigaction *act, struct sigaction *oldact) {
  int i = index_of(signo);
  struct owned *o = &owned[i];
  struct sigaction prev = o->slots[atomic_load_explicit(&o->slot, memory_order_acquire)];
  if (act != NULL) {
    /* Taken: the shim's handler with the daemon's new mask and flags. Given back at a
     * crash: the daemon's own now, as without the shim. */
    int rc = o->taken ? install(signo, act) : real_sigaction(signo, act, NULL) == 0 ? 0 : -errno;
    if (rc != 0)
      return rc;
    int next = !atomic_load_explicit(&o->slot, memory_order_acquire);
    o->slots[next] = *act; /* SA_RESETHAND stays in it: on_fatal emulates it */
    atomic_store_explicit(&o->slot, next, memory_order_release);
  }
  if (oldact != NULL)
    *oldact = prev;
  return 0;
}

int pre_crash_install(pre_sigaction_fn real, pre_crash_fn blame) {
  if (real == NULL)
    return -ENOSYS;
  real_sigaction = real;
  on_blame = blame;
  for (size_t i = 0; i < N_FATAL; i++) {
    struct sigaction old;
    if (real(fatal_signals[i], NULL, &old) != 0)
      return -errno;
    owned[i].slots[0] = old;
    atomic_store(&owned[i].slot, 0);
    if (install(fatal_signals[i], &old) != 0)
      return -errno;
    owned[i].taken = true;
  }
  return 0;
}
