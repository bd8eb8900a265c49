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

/* Text ranges of one version, frames walked per stack; slots the thread table starts with
 * (it grows to any number of threads). */
#define MIN_SLOTS 64
#define MAX_RANGES 256
#define MAX_FRAMES 512
/* How long a check waits for the next thread to answer (a loaded 2-CPU machine can take a
 * thread's turn away for tens of ms); the wait starts again whenever one answers, so a
 * process with thousands of threads is not cut off while they are still answering. */
#define ANSWER_MS 250

/* libunwind, opened RTLD_LOCAL (see preload.h). */
static int (*uw_getcontext)(unw_context_t *);
static int (*uw_init_local)(unw_cursor_t *, unw_context_t *);
static int (*uw_step)(unw_cursor_t *);
static int (*uw_get_reg)(unw_cursor_t *, unw_regnum_t, unw_word_t *);

static int stack_signo;

/* One question: its round number and the asked thread's slot (both carried in si_value),
 * the ranges, one slot per thread. A slot's answer is round << 2 | result, so a late answer
 * to an old round is ignored. */
enum { ANS_CLEAR = 1, ANS_HIT = 2, ANS_FAILED = 3 };
static _Atomic int round_no;
static _Atomic uintptr_t range_lo[MAX_RANGES], range_hi[MAX_RANGES];
static _Atomic size_t n_ranges;
struct slot {
  _Atomic pid_t tid;
  _Atomic int answer;
  _Atomic int pool; /* round number when that thread was in the pool */
  bool gone;        /* exited before it was asked (read by the asking thread only) */
};
/* The slots, grown by the asking thread when the process has more threads than room.
 * An outgrown table is kept (on `older`): a handler answering late may still read it. */
struct slot_table {
  size_t cap;
  struct slot_table *older;
  struct slot s[];
};
static _Atomic(struct slot_table *) table;
static _Atomic size_t n_slots;
static _Atomic size_t n_answered; /* answers to the current round so far */
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

/* Store answer r << 2 | a in slot s unless it holds one of a later round (a handler of an
 * old round that read the next round's table must not overwrite a fresh answer). */
static void store_answer(struct slot *s, int r, int a) {
  int cur = atomic_load_explicit(&s->answer, memory_order_relaxed);
  while ((cur >> 2) <= r && !atomic_compare_exchange_weak_explicit(
                                &s->answer, &cur, r << 2 | a, memory_order_release,
                                memory_order_relaxed)) {
  }
}

/* si_value of a question: round number in the high 32 bits, slot index in the low ones. */
static void *question(int r, size_t slot) {
  return (void *)(uintptr_t)((uint64_t)(unsigned)r << 32 | (uint32_t)slot);
}

/* async-signal-safe: atomics, gettid and libunwind's local unwinder only. */
static void on_stack_signal(int signo, siginfo_t *info, void *uctx) {
  (void)signo;
  int saved = errno;
  uint64_t q = (uintptr_t)info->si_value.sival_ptr;
  int r = (int)(q >> 32);
  size_t i = (uint32_t)q;
  struct slot_table *t = atomic_load_explicit(&table, memory_order_acquire);
  if (info->si_code == SI_QUEUE && info->si_pid == getpid() && t != NULL && i < t->cap &&
      r == atomic_load_explicit(&round_no, memory_order_acquire) &&
      i < atomic_load_explicit(&n_slots, memory_order_acquire) &&
      atomic_load_explicit(&t->s[i].tid, memory_order_relaxed) == (pid_t)syscall(SYS_gettid)) {
    const ucontext_t *uc = uctx;
    bool pool = ldr_tramp_contains((const void *)uc->uc_mcontext.gregs[REG_RIP]);
    int a = walk_own_stack(&pool);
    atomic_store_explicit(&t->s[i].pool, pool ? r : 0, memory_order_relaxed);
    store_answer(&t->s[i], r, a);
    atomic_fetch_add_explicit(&n_answered, 1, memory_order_release);
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

/* Replace the slot table t (holding n listed threads) by one twice as large. Called with
 * n_slots 0: no handler writes to either. Returns the new table, or NULL (t unchanged). */
static struct slot_table *grow_table(struct slot_table *t, size_t n) {
  size_t cap = t != NULL ? t->cap * 2 : MIN_SLOTS;
  struct slot_table *g = calloc(1, sizeof(*g) + cap * sizeof(g->s[0]));
  if (g == NULL)
    return NULL;
  g->cap = cap;
  g->older = t;
  for (size_t i = 0; i < n; i++)
    atomic_init(&g->s[i].tid, atomic_load_explicit(&t->s[i].tid, memory_order_relaxed));
  atomic_store_explicit(&table, g, memory_order_release);
  return g;
}

/* List the other threads of the process into the slots, growing the table as needed.
 * Returns how many, or -errno. */
static int list_threads(pid_t self) {
  DIR *d = opendir("/proc/self/task");
  if (d == NULL)
    return -errno;
  struct slot_table *t = atomic_load_explicit(&table, memory_order_relaxed);
  size_t n = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    pid_t tid = (pid_t)atoi(e->d_name);
    if (tid <= 0 || tid == self)
      continue;
    if ((t == NULL || n == t->cap) && (t = grow_table(t, n)) == NULL)
      break;
    atomic_store_explicit(&t->s[n].answer, 0, memory_order_relaxed);
    atomic_store_explicit(&t->s[n++].tid, tid, memory_order_relaxed);
  }
  closedir(d);
  return e != NULL ? -ENOMEM : (int)n;
}

/* Signal thread tid, in slot `slot`, with round r. Returns 0, or -errno (ESRCH: it has
 * exited). */
static int ask(pid_t tid, size_t slot, int r) {
  siginfo_t si;
  memset(&si, 0, sizeof(si));
  si.si_signo = stack_signo;
  si.si_code = SI_QUEUE;
  si.si_pid = getpid();
  si.si_uid = getuid();
  si.si_value.sival_ptr = question(r, slot);
  return syscall(SYS_rt_tgsigqueueinfo, getpid(), tid, stack_signo, &si) == 0 ? 0 : -errno;
}

static uint64_t ms_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Wait for the answers of the n slots of t (s[i].gone: exited before it was asked). Gives
 * up when no thread at all has answered for ANSWER_MS. */
static int collect(struct slot_table *t, size_t n, int r, char *why) {
  uint64_t until = ms_now() + ANSWER_MS;
  size_t i = 0, answered = 0;
  while (i < n) {
    int a = atomic_load_explicit(&t->s[i].answer, memory_order_acquire);
    pid_t tid = atomic_load_explicit(&t->s[i].tid, memory_order_relaxed);
    size_t now_answered = atomic_load_explicit(&n_answered, memory_order_relaxed);
    if (now_answered != answered) { /* progress: wait ANSWER_MS from now */
      answered = now_answered;
      until = ms_now() + ANSWER_MS;
    }
    if (t->s[i].gone || (a >> 2 == r && (a & 3) == ANS_CLEAR)) {
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
static bool round_quiet(struct slot_table *t, size_t n, int r) {
  for (size_t i = 0; i < n; i++) {
    if (!t->s[i].gone && atomic_load_explicit(&t->s[i].pool, memory_order_relaxed) == r)
      return false;
  }
  return true;
}

uint64_t pre_stacks_quiet_mark(void) {
  return atomic_load_explicit(&quiet_mark, memory_order_acquire);
}

/* Ask the nt listed threads of t with round rn. Returns 0 or -errno (why says). */
static int ask_all(struct slot_table *t, int nt, int rn, char *why) {
  atomic_store_explicit(&n_answered, 0, memory_order_relaxed);
  atomic_store_explicit(&n_slots, (size_t)nt, memory_order_release);
  for (int i = 0; i < nt; i++) {
    pid_t tid = atomic_load_explicit(&t->s[i].tid, memory_order_relaxed);
    int rc = ask(tid, (size_t)i, rn);
    t->s[i].gone = rc == -ESRCH;
    if (rc != 0 && rc != -ESRCH) {
      snprintf(why, LDR_ERR_MAX, "cannot signal thread %d: %s", (int)tid, strerror(-rc));
      return rc;
    }
  }
  return 0;
}

int pre_stacks_busy(const struct ldr_text_range *r, size_t n, char *why) {
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
  struct slot_table *t = atomic_load_explicit(&table, memory_order_relaxed);
  int rc = nt > 0 ? ask_all(t, nt, rn, why) : 0;
  if (rc == 0 && nt > 0)
    rc = collect(t, (size_t)nt, rn, why);
  if (rc == 0 && (nt == 0 || round_quiet(t, (size_t)nt, rn)) && mark > pre_stacks_quiet_mark())
    atomic_store_explicit(&quiet_mark, mark, memory_order_release);
  return rc;
}
