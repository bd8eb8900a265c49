/* stacks.c - the stack check retirement asks for (ldr_busy_fn): every other thread of the
 * process gets a real-time signal whose handler unwinds its own stack with libunwind and
 * says whether any frame's instruction pointer lies in the text of the version to retire,
 * and whether it was interrupted inside the trampoline pool (which decides when superseded
 * generations may be freed: see loader/tramp.h).
 * The only file besides signal.c that installs a signal handler; this one is the shim's own.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#define UNW_LOCAL_ONLY
#include <libunwind.h>

#include "loader/tramp.h"
#include "preload/preload.h"

/* Most threads one check can ask, text ranges of one version, frames walked per stack. */
#define MAX_THREADS 4096
#define MAX_RANGES 256
#define MAX_FRAMES 512
/* How long a check waits for every thread to answer (a loaded 2-CPU machine can take a
 * thread's turn away for tens of ms). */
#define ANSWER_MS 250

/* libunwind, opened RTLD_LOCAL (see preload.h). */
static int (*uw_getcontext)(unw_context_t *);
static int (*uw_init_local)(unw_cursor_t *, unw_context_t *);
static int (*uw_step)(unw_cursor_t *);
static int (*uw_get_reg)(unw_cursor_t *, unw_regnum_t, unw_word_t *);

static int stack_signo;

/* One question: its round number (carried in si_value), the ranges, one slot per thread.
 * A slot's answer is round << 2 | result, so a late answer to an old round is ignored. */
enum { ANS_CLEAR = 1, ANS_HIT = 2, ANS_FAILED = 3 };
static _Atomic int round_no;
static _Atomic uintptr_t range_lo[MAX_RANGES], range_hi[MAX_RANGES];
static _Atomic size_t n_ranges;
static _Atomic pid_t slot_tid[MAX_THREADS];
static _Atomic int slot_answer[MAX_THREADS];
static _Atomic int slot_pool[MAX_THREADS]; /* round number when that thread was in the pool */
static _Atomic size_t n_slots;
/* Generation current when the last quiet round began (every thread answered, none inside
 * the trampoline pool): generations numbered below it are no longer used by any thread. */
static _Atomic uint64_t quiet_mark;

int pre_stacks_signo(void) { return stack_signo; }

static bool in_ranges(unw_word_t ip) {
  size_t n = atomic_load_explicit(&n_ranges, memory_order_acquire);
  for (size_t i = 0; i < n && i < MAX_RANGES; i++) {
    /* <= end: a return address just past a call that ends the segment */
    if (ip >= atomic_load_explicit(&range_lo[i], memory_order_relaxed) &&
        ip <= atomic_load_explicit(&range_hi[i], memory_order_relaxed))
      return true;
  }
  return false;
}

/* Walk this thread's own stack (the handler's frame, the signal frame, then the
 * interrupted code and its callers; nested signal frames too). *pool is set when a frame's
 * IP is inside the trampoline pool (a thread between the generation load and the jump).
 * async-signal-safe: libunwind's local unwinder. */
static int walk_own_stack(bool *pool) {
  unw_context_t ctx;
  unw_cursor_t cur;
  if (uw_getcontext(&ctx) != 0 || uw_init_local(&cur, &ctx) != 0)
    return ANS_FAILED;
  for (int i = 0; i < MAX_FRAMES; i++) {
    unw_word_t ip = 0;
    if (uw_get_reg(&cur, UNW_REG_IP, &ip) == 0 && ldr_tramp_contains((const void *)ip))
      *pool = true;
    if (ip != 0 && in_ranges(ip))
      return ANS_HIT;
    int s = uw_step(&cur);
    if (s == 0)
      return ANS_CLEAR;
    if (s < 0)
      return ANS_FAILED;
  }
  return ANS_FAILED; /* deeper than MAX_FRAMES: cannot say */
}

/* async-signal-safe: atomics, gettid and libunwind's local unwinder only. */
static void on_stack_signal(int signo, siginfo_t *info, void *uctx) {
  (void)signo;
  int saved = errno;
  int r = info->si_value.sival_int;
  if (info->si_code == SI_QUEUE && info->si_pid == getpid() &&
      r == atomic_load_explicit(&round_no, memory_order_acquire)) {
    pid_t me = (pid_t)syscall(SYS_gettid);
    size_t n = atomic_load_explicit(&n_slots, memory_order_acquire);
    for (size_t i = 0; i < n && i < MAX_THREADS; i++) {
      if (atomic_load_explicit(&slot_tid[i], memory_order_relaxed) == me) {
        const ucontext_t *uc = uctx;
        bool pool = ldr_tramp_contains((const void *)uc->uc_mcontext.gregs[REG_RIP]);
        int a = walk_own_stack(&pool);
        atomic_store_explicit(&slot_pool[i], pool ? r : 0, memory_order_relaxed);
        atomic_store_explicit(&slot_answer[i], r << 2 | a, memory_order_release);
        break;
      }
    }
  }
  errno = saved;
}

static int open_libunwind(char *err, size_t n) {
  void *h = dlopen("libunwind.so.8", RTLD_NOW | RTLD_LOCAL);
  if (h == NULL) {
    snprintf(err, n, "cannot open libunwind.so.8 (%s)", dlerror());
    return -ENOENT;
  }
  *(void **)&uw_getcontext = pre_real_dlsym(h, "_Ux86_64_getcontext");
  *(void **)&uw_init_local = pre_real_dlsym(h, "_ULx86_64_init_local");
  *(void **)&uw_step = pre_real_dlsym(h, "_ULx86_64_step");
  *(void **)&uw_get_reg = pre_real_dlsym(h, "_ULx86_64_get_reg");
  int (*set_caching)(unw_addr_space_t, unw_caching_policy_t);
  *(void **)&set_caching = pre_real_dlsym(h, "_ULx86_64_set_caching_policy");
  unw_addr_space_t *space = pre_real_dlsym(h, "_ULx86_64_local_addr_space");
  if (!uw_getcontext || !uw_init_local || !uw_step || !uw_get_reg || !set_caching || !space) {
    snprintf(err, n, "libunwind.so.8 lacks the x86-64 local unwinder");
    return -ENOENT;
  }
  /* Retired code is unmapped and new code mapped at the same addresses: a cache keyed by
   * address would unwind new code with the old code's rules. */
  set_caching(*space, UNW_CACHE_NONE);
  return 0;
}

int pre_stacks_init(char *err, size_t n) {
  int rc = open_libunwind(err, n);
  if (rc != 0)
    return rc;
  for (int s = SIGRTMAX - 1; s >= SIGRTMIN + 2; s--) {
    struct sigaction old;
    if (sigaction(s, NULL, &old) != 0 || old.sa_handler != SIG_DFL ||
        (old.sa_flags & SA_SIGINFO))
      continue;
    struct sigaction sa = {.sa_sigaction = on_stack_signal,
                           .sa_flags = SA_SIGINFO | SA_RESTART};
    sigfillset(&sa.sa_mask);
    if (sigaction(s, &sa, NULL) != 0) {
      snprintf(err, n, "cannot install the stack check's signal handler: %s", strerror(errno));
      return -errno;
    }
    stack_signo = s;
    return 0;
  }
  snprintf(err, n, "every real-time signal is taken: no stack check");
  return -EBUSY;
}

/* List the other threads of the process into the slots. Returns how many, or -errno. */
static int list_threads(pid_t self) {
  DIR *d = opendir("/proc/self/task");
  if (d == NULL)
    return -errno;
  size_t n = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL && n < MAX_THREADS) {
    pid_t tid = (pid_t)atoi(e->d_name);
    if (tid <= 0 || tid == self)
      continue;
    atomic_store_explicit(&slot_answer[n], 0, memory_order_relaxed);
    atomic_store_explicit(&slot_tid[n++], tid, memory_order_relaxed);
  }
  bool more = e != NULL;
  closedir(d);
  return more ? -E2BIG : (int)n;
}

/* Signal thread tid with the current round. Returns 0, or -errno (ESRCH: it has exited). */
static int ask(pid_t tid, int r) {
  siginfo_t si;
  memset(&si, 0, sizeof(si));
  si.si_signo = stack_signo;
  si.si_code = SI_QUEUE;
  si.si_pid = getpid();
  si.si_uid = getuid();
  si.si_value.sival_int = r;
  return syscall(SYS_rt_tgsigqueueinfo, getpid(), tid, stack_signo, &si) == 0 ? 0 : -errno;
}

static uint64_t ms_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Wait for the answers of the n slots (gone[i]: exited before it was asked). */
static int collect(size_t n, int r, const bool *gone, char *why) {
  uint64_t until = ms_now() + ANSWER_MS;
  size_t i = 0;
  while (i < n) {
    int a = atomic_load_explicit(&slot_answer[i], memory_order_acquire);
    pid_t tid = atomic_load_explicit(&slot_tid[i], memory_order_relaxed);
    if (gone[i] || (a >> 2 == r && (a & 3) == ANS_CLEAR)) {
      i++;
    } else if (a >> 2 == r && (a & 3) == ANS_HIT) {
      snprintf(why, LDR_ERR_MAX, "thread %d", (int)tid);
      return 1;
    } else if (a >> 2 == r) {
      snprintf(why, LDR_ERR_MAX, "thread %d: its stack cannot be unwound", (int)tid);
      return -EIO;
    } else if (ms_now() >= until) {
      snprintf(why, LDR_ERR_MAX, "thread %d did not answer (it may block signal %d)",
               (int)tid, stack_signo);
      return -ETIMEDOUT;
    } else {
      struct timespec ts = {0, 100000};
      nanosleep(&ts, NULL);
    }
  }
  return 0;
}

/* After a round that returned 0: did no thread answer from inside the trampoline pool? */
static bool round_quiet(size_t n, int r, const bool *gone) {
  for (size_t i = 0; i < n; i++) {
    if (!gone[i] && atomic_load_explicit(&slot_pool[i], memory_order_relaxed) == r)
      return false;
  }
  return true;
}

uint64_t pre_stacks_quiet_mark(void) {
  return atomic_load_explicit(&quiet_mark, memory_order_acquire);
}

int pre_stacks_busy(const struct ldr_text_range *r, size_t n, char *why) {
  static bool gone[MAX_THREADS];
  /* Read before any thread is asked: a thread that answers loads this generation or a newer
   * one in every trampoline it enters afterwards. */
  uint64_t mark = ldr_gen_mark();
  if (stack_signo == 0) {
    snprintf(why, LDR_ERR_MAX, "no stack check (not initialized)");
    return -ENOSYS;
  }
  if (n > MAX_RANGES) {
    snprintf(why, LDR_ERR_MAX, "%zu text segments: more than the stack check handles", n);
    return -E2BIG;
  }
  int rn = atomic_fetch_add(&round_no, 1) + 1;
  if (rn >= (1 << 28)) /* keep rn << 2 positive */
    atomic_store(&round_no, rn = 1);
  atomic_store_explicit(&n_slots, 0, memory_order_release);
  for (size_t i = 0; i < n; i++) {
    atomic_store_explicit(&range_lo[i], r[i].start, memory_order_relaxed);
    atomic_store_explicit(&range_hi[i], r[i].end, memory_order_relaxed);
  }
  atomic_store_explicit(&n_ranges, n, memory_order_release);
  int nt = list_threads((pid_t)syscall(SYS_gettid));
  if (nt < 0) {
    snprintf(why, LDR_ERR_MAX, "cannot list the threads: %s", strerror(-nt));
    return nt;
  }
  atomic_store_explicit(&n_slots, (size_t)nt, memory_order_release);
  for (int i = 0; i < nt; i++) {
    int rc = ask(atomic_load_explicit(&slot_tid[i], memory_order_relaxed), rn);
    gone[i] = rc == -ESRCH;
    if (rc != 0 && rc != -ESRCH) {
      snprintf(why, LDR_ERR_MAX, "cannot signal thread %d: %s",
               (int)atomic_load(&slot_tid[i]), strerror(-rc));
      return rc;
    }
  }
  int rc = collect((size_t)nt, rn, gone, why);
  if (rc == 0 && round_quiet((size_t)nt, rn, gone) && mark > pre_stacks_quiet_mark())
    atomic_store_explicit(&quiet_mark, mark, memory_order_release);
  return rc;
}
