/* SPDX-License-Identifier: BSD-3-Clause */
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
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
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

/* What differs between the architectures: the interrupted context's registers, the red zone
 * below SP a leaf function may use, libunwind's symbol prefix, and whether a thread blocked
 * in a system call can be checked through /proc (below: x86-64 keeps every return address
 * on the stack; AArch64 keeps the innermost one in x30, which /proc/TID/syscall does not
 * show, so there every thread is asked by signal). */
#if defined(__x86_64__)
#define UC_PC(uc) ((uintptr_t)(uc)->uc_mcontext.gregs[REG_RIP])
#define UC_SP(uc) ((uintptr_t)(uc)->uc_mcontext.gregs[REG_RSP])
#define UC_NREGS NGREG
#define UC_REG(uc, g) ((uintptr_t)(uc)->uc_mcontext.gregs[g])
#define RED_ZONE 128
#define UW_SYM(name) "_ULx86_64_" name
#define PROC_LOOK 1
#define UC_SYSNO(uc) ((long)(uc)->uc_mcontext.gregs[REG_RAX]) /* unused: the /proc path */
#define UC_KEPT 0                                                 /* unused: the /proc path */
#elif defined(__aarch64__)
#define UC_PC(uc) ((uintptr_t)(uc)->uc_mcontext.pc)
#define UC_SP(uc) ((uintptr_t)(uc)->uc_mcontext.sp)
#define UC_NREGS 31 /* x0-x30 (x30: the link register) */
#define UC_REG(uc, g) ((uintptr_t)(uc)->uc_mcontext.regs[g])
#define RED_ZONE 0
#define UW_SYM(name) "_ULaarch64_" name
#define PROC_LOOK 0
#define UC_SYSNO(uc) ((long)(uc)->uc_mcontext.regs[8]) /* x8; arguments in x0-x5 */
#define UC_KEPT 19 /* x19-x28, x29 (frame), x30 (link) survive a call; x0-x18 do not */
#else
#error "preload/stacks.c: add this architecture's registers"
#endif

/* libunwind, opened RTLD_LOCAL (see preload.h). Its getcontext: a function on x86-64, inline
 * code on AArch64 (libunwind-aarch64.h), which must run in the frame to be walked. */
#if defined(__aarch64__)
#define UW_GETCONTEXT(ctx) unw_getcontext(ctx)
#else
#define UW_GETCONTEXT(ctx) uw_getcontext(ctx)
static int (*uw_getcontext)(unw_context_t *);
#endif
static int (*uw_init_local)(unw_cursor_t *, unw_context_t *);
static int (*uw_step)(unw_cursor_t *);
static int (*uw_get_reg)(unw_cursor_t *, unw_regnum_t, unw_word_t *);

static int stack_signo;

/* Under a user-mode emulator (qemu-user runs an aarch64 daemon on an x86-64 host), the
 * process has threads of the emulator's own (qemu's RCU thread) that never run the daemon's
 * code and never take its signals. They are the threads that already exist when the shim
 * starts while /proc/self/task/TID/exe names another program than /proc/self/exe (the
 * emulator fakes only the latter). The stack check leaves them out (silently: a start-up
 * line would be noise in every process, and this happens only under an emulator). */
#define MAX_EMU_THREADS 8
static pid_t emu_tid[MAX_EMU_THREADS];
static int n_emu;
static bool under_emulator;

bool pre_emulated(void) { return under_emulator; }

/* One question: its round number and the asked thread's slot (both carried in si_value),
 * the ranges, one slot per thread. A slot's answer is round << 2 | result, so a late answer
 * to an old round is ignored. */
enum { ANS_CLEAR = 1, ANS_HIT = 2, ANS_FAILED = 3 };
static _Atomic int round_no;
static _Atomic uintptr_t range_lo[MAX_RANGES], range_hi[MAX_RANGES];
static _Atomic size_t n_ranges;
/* The span of every range, [span_lo, span_lo + span_len]: most words of a stack (data,
 * pointers to the heap and to stacks) fall outside it and cost one compare. */
static _Atomic uintptr_t span_lo, span_len;
/* Words rounds: which ranges are code (a thread blocked in a system call counts only words
 * into code on its stack: see pre_stacks_words). */
static _Atomic bool range_code[MAX_RANGES];
struct slot {
  _Atomic pid_t tid;
  _Atomic int answer;
  _Atomic int pool; /* round number when that thread was in the pool */
  /* Words rounds (pre_stacks_words): the ranges its registers and stack point into, and the
   * part of its stack it scanned, [sp, stop). */
  _Atomic uint64_t hits[MAX_RANGES / 64];
  _Atomic uintptr_t sp, stop;
  bool gone;        /* exited before it was asked (read by the asking thread only) */
  bool checked;     /* found clear through /proc, not asked (asking thread only) */
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
/* A words round: every word of each thread's registers and live stack is checked, not only
 * its frames, and a thread's answer lists every range it holds rather than the first. */
static _Atomic bool words_round;
static int last_nt; /* threads listed by the last round (asking thread only) */
/* Generation current when the last quiet round began (every thread answered, none inside
 * the trampoline pool): generations numbered below it are no longer used by any thread. */
static _Atomic uint64_t quiet_mark;

int pre_stacks_signo(void) { return stack_signo; }

/* The index of the range holding w, or -1. */
static int range_of(uintptr_t w) {
  size_t n = atomic_load_explicit(&n_ranges, memory_order_acquire);
  if (w - atomic_load_explicit(&span_lo, memory_order_relaxed) >
      atomic_load_explicit(&span_len, memory_order_relaxed))
    return -1;
  for (size_t i = 0; i < n && i < MAX_RANGES; i++) {
    /* <= end: a return address just past a call that ends the segment */
    if (w >= atomic_load_explicit(&range_lo[i], memory_order_relaxed) &&
        w <= atomic_load_explicit(&range_hi[i], memory_order_relaxed))
      return (int)i;
  }
  return -1;
}

static bool in_ranges(uintptr_t w) { return range_of(w) >= 0; }

/* Words rounds: record in s that w points into a range. Returns true when it does. */
static bool mark_word(struct slot *s, uintptr_t w) {
  int i = range_of(w);
  if (i < 0)
    return false;
  atomic_fetch_or_explicit(&s->hits[i / 64], (uint64_t)1 << (i % 64), memory_order_relaxed);
  return true;
}

/* Walk this thread's own stack (the handler's frame, the signal frame, then the
 * interrupted code and its callers; nested signal frames too). *pool is set when a frame's
 * IP is inside the trampoline pool (a thread between the generation load and the jump).
 * async-signal-safe: libunwind's local unwinder. */
static int walk_own_stack(bool *pool, struct slot *sl, bool words) {
  unw_context_t ctx;
  unw_cursor_t cur;
  if (UW_GETCONTEXT(&ctx) != 0 || uw_init_local(&cur, &ctx) != 0)
    return ANS_FAILED;
  bool hit = false;
  for (int i = 0; i < MAX_FRAMES; i++) {
    unw_word_t ip = 0;
    if (uw_get_reg(&cur, UNW_REG_IP, &ip) == 0 && ldr_tramp_contains((const void *)ip))
      *pool = true;
    if (ip != 0 && (words ? mark_word(sl, ip) : in_ranges(ip))) {
      if (!words)
        return ANS_HIT;
      hit = true;
    }
    int s = uw_step(&cur);
    if (s == 0)
      return hit ? ANS_HIT : ANS_CLEAR;
    if (s < 0)
      return ANS_FAILED;
  }
  return ANS_FAILED; /* deeper than MAX_FRAMES: cannot say */
}

/* Most bytes of its own stack a handler scans (the asker's memory scan goes on from where
 * it stopped), and the words it reads per system call. */
#define OWN_SCAN_MAX ((uintptr_t)256 << 10)
#define OWN_SCAN_WORDS 128

static uintptr_t maps_end_of(uintptr_t addr);
static bool restorer_word(uintptr_t w);

/* Does w point into a range of code (words rounds)? */
static bool code_word(uintptr_t w) {
  int ri = range_of(w);
  return ri >= 0 && atomic_load_explicit(&range_code[ri], memory_order_relaxed);
}

/* Where threads blocked in a system call are not looked at through /proc (!PROC_LOOK), the
 * handler applies that path's rule itself to a thread it interrupted in one: PC and the
 * system call's argument registers (those it reads) against every range; the registers a
 * call preserves (UC_KEPT on) and the stack words against code ranges only (see
 * pre_stacks_words); the other registers not at all: the program called the system call's
 * wrapper, so what they held for it is dead (seen: a function pointer left in x9 held a
 * version for as long as its thread slept in read). In a system call: the instruction
 * before PC is the system call (interrupted, or returned with EINTR), or the one at PC (the
 * kernel rewound PC to restart it). async-signal-safe. */
static bool in_syscall(const ucontext_t *uc) {
#if defined(__aarch64__)
  uint32_t insn[2];
  const uint32_t svc0 = 0xd4000001;
  return pre_read_self(insn, UC_PC(uc) - 4, sizeof(insn)) == (ssize_t)sizeof(insn) &&
         (insn[0] == svc0 || insn[1] == svc0);
#else
  (void)uc;
  return false;
#endif
}

/* How many argument registers system call nr reads: what a blocked thread's other argument
 * registers hold is left over from earlier code (stale pointers, like its stack's padding).
 * The calls threads block in; 6 (all) for any other. */
static int syscall_args(long nr) {
  switch (nr) {
  case SYS_nanosleep:
  case SYS_rt_sigsuspend:
  case SYS_flock:
    return 2;
  case SYS_read:
  case SYS_write:
  case SYS_readv:
  case SYS_writev:
  case SYS_accept:
  case SYS_connect:
  case SYS_recvmsg:
  case SYS_sendmsg:
  case SYS_fcntl:
    return 3;
  case SYS_pread64:
  case SYS_pwrite64:
  case SYS_accept4:
  case SYS_clock_nanosleep:
  case SYS_wait4:
  case SYS_rt_sigtimedwait:
  case SYS_openat:
  case SYS_semtimedop:
    return 4;
  case SYS_ppoll:
  case SYS_waitid:
  case SYS_msgrcv:
  case SYS_io_getevents:
    return 5;
  default:
    return 6;
  }
}

/* The words of this thread's stack from sp (less the red zone) up to the end of its mapping
 * or OWN_SCAN_MAX, into sl's hits (*hit set when one points into a range; idle: only
 * words into code). Returns where it stopped, or 0 when idle and a word is a signal
 * restorer (a signal frame below: its saved registers are not stale bytes). */
static uintptr_t stack_words(struct slot *sl, uintptr_t sp, bool idle, bool *hit) {
  uintptr_t a = (sp - RED_ZONE) & ~(uintptr_t)7, end = a + OWN_SCAN_MAX;
  /* Not past the end of the mapping that holds SP (the asker's copy of the memory map,
   * read after the threads were listed): the next mapping may be another thread's stack,
   * the asker's among them. */
  uintptr_t map_end = maps_end_of(sp);
  if (map_end != 0 && map_end < end)
    end = map_end;
  uintptr_t buf[OWN_SCAN_WORDS];
  while (a < end) {
    ssize_t got = pre_read_self(buf, a, sizeof(buf));
    if (got <= 0)
      break;
    for (size_t k = 0; k < (size_t)got / sizeof(buf[0]); k++) {
      if (idle && restorer_word(buf[k]))
        return 0;
      if (idle ? code_word(buf[k]) : in_ranges(buf[k]))
        *hit |= mark_word(sl, buf[k]);
    }
    a += (uintptr_t)got & ~(uintptr_t)7;
    if ((size_t)got < sizeof(buf))
      break;
  }
  return a;
}

/* Words rounds: every general register of the interrupted context, then every word from its
 * SP (less x86-64's 128-byte red zone a leaf function may use) up to where the stack's mapping
 * ends (a read stops at the first unreadable page) or OWN_SCAN_MAX; only its words into code
 * when interrupted in a system call on an architecture without the /proc path (in_syscall).
 * Read with process_vm_readv, so nothing faults. Returns true when a word points into a
 * range; sp and stop record what it covered. async-signal-safe. */
static bool scan_own_words(const ucontext_t *uc, struct slot *sl) {
  bool idle = !PROC_LOOK && in_syscall(uc);
  bool hit = mark_word(sl, UC_PC(uc));
  int args = idle ? syscall_args(UC_SYSNO(uc)) : 0;
  for (int g = 0; g < UC_NREGS; g++)
    if (!idle || g < args || (g >= UC_KEPT && code_word(UC_REG(uc, g))))
      hit |= mark_word(sl, UC_REG(uc, g));
  uintptr_t sp = UC_SP(uc), a = stack_words(sl, sp, idle, &hit);
  if (a == 0) /* idle, but a signal frame lies on the stack: every word counts */
    a = stack_words(sl, sp, false, &hit);
  atomic_store_explicit(&sl->sp, sp, memory_order_relaxed);
  atomic_store_explicit(&sl->stop, a, memory_order_relaxed);
  return hit;
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

/* Queue signal signo to thread tid of this process with value q (a question). Returns 0, or
 * -errno (ESRCH: it has exited). */
static int send_question(int signo, pid_t tid, void *q) {
  siginfo_t si;
  memset(&si, 0, sizeof(si));
  si.si_signo = signo;
  si.si_code = SI_QUEUE;
  si.si_pid = getpid();
  si.si_uid = getuid();
  si.si_value.sival_ptr = q;
  return syscall(SYS_rt_tgsigqueueinfo, getpid(), tid, signo, &si) == 0 ? 0 : -errno;
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
    struct slot *sl = &t->s[i];
    bool pool = ldr_tramp_contains((const void *)UC_PC(uc));
    bool words = atomic_load_explicit(&words_round, memory_order_relaxed);
    int a = walk_own_stack(&pool, sl, words);
    if (words && scan_own_words(uc, sl) && a == ANS_CLEAR)
      a = ANS_HIT;
    atomic_store_explicit(&t->s[i].pool, pool ? r : 0, memory_order_relaxed);
    store_answer(&t->s[i], r, a);
    atomic_fetch_add_explicit(&n_answered, 1, memory_order_release);
  }
  errno = saved;
}

size_t pre_stacks_backtrace(uintptr_t *ips, size_t max) {
  unw_context_t ctx;
  unw_cursor_t cur;
  if (uw_init_local == NULL || UW_GETCONTEXT(&ctx) != 0 || uw_init_local(&cur, &ctx) != 0)
    return 0;
  size_t n = 0;
  while (n < max) {
    unw_word_t ip = 0;
    if (uw_get_reg(&cur, UNW_REG_IP, &ip) != 0)
      break;
    ips[n++] = (uintptr_t)ip;
    if (uw_step(&cur) <= 0)
      break;
  }
  return n;
}

static int open_libunwind(char *err, size_t n) {
  void *h = dlopen("libunwind.so.8", RTLD_NOW | RTLD_LOCAL);
  if (h == NULL) {
    snprintf(err, n, "cannot open libunwind.so.8 (%s)", dlerror());
    return -ENOENT;
  }
#if defined(__x86_64__)
  *(void **)&uw_getcontext = pre_real_dlsym(h, "_Ux86_64_getcontext");
  if (uw_getcontext == NULL) {
    snprintf(err, n, "libunwind.so.8 lacks this architecture's local unwinder");
    return -ENOENT;
  }
#endif
  *(void **)&uw_init_local = pre_real_dlsym(h, UW_SYM("init_local"));
  *(void **)&uw_step = pre_real_dlsym(h, UW_SYM("step"));
  *(void **)&uw_get_reg = pre_real_dlsym(h, UW_SYM("get_reg"));
  int (*set_caching)(unw_addr_space_t, unw_caching_policy_t);
  *(void **)&set_caching = pre_real_dlsym(h, UW_SYM("set_caching_policy"));
  unw_addr_space_t *space = pre_real_dlsym(h, UW_SYM("local_addr_space"));
  if (!uw_init_local || !uw_step || !uw_get_reg || !set_caching || !space) {
    snprintf(err, n, "libunwind.so.8 lacks this architecture's local unwinder");
    return -ENOENT;
  }
  /* Retired code is unmapped and new code mapped at the same addresses: a cache keyed by
   * address would unwind new code with the old code's rules. */
  set_caching(*space, UNW_CACHE_NONE);
  return 0;
}

/* libunwind checks addresses by write()ing them into a pipe it opens when it is loaded or
 * first used, and keeps (libunwind 1.6, x86_64/Ginit.c: write_validate). A daemon that
 * closes every descriptor closes that pipe too; the handler then reads and writes whatever
 * reuses its numbers (seen: a control connection, the handler blocked in read() with every
 * signal blocked). So note the descriptors open before libunwind is loaded, make it open
 * its pipe with one unwind, and guard the pipes that appeared. */
enum { FD_SCAN = 1024 };

static void note_fds(unsigned char had[FD_SCAN]) {
  for (int fd = 0; fd < FD_SCAN; fd++)
    had[fd] = fcntl(fd, F_GETFD) != -1;
}

static void guard_unwinder_fds(const unsigned char had[FD_SCAN]) {
  unw_context_t ctx;
  unw_cursor_t cur;
  if (UW_GETCONTEXT(&ctx) == 0 && uw_init_local(&cur, &ctx) == 0)
    uw_step(&cur);
  for (int fd = 0; fd < FD_SCAN; fd++) {
    struct stat st;
    if (!had[fd] && fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode))
      pre_fd_guard(fd);
  }
}

static bool emulated(pid_t self) {
  char path[64], exe[PATH_MAX], task_exe[PATH_MAX];
  snprintf(path, sizeof(path), "/proc/self/task/%d/exe", (int)self);
  ssize_t a = readlink("/proc/self/exe", exe, sizeof(exe));
  ssize_t b = readlink(path, task_exe, sizeof(task_exe));
  return a > 0 && b > 0 && (a != b || memcmp(exe, task_exe, (size_t)a) != 0);
}

static void note_emulator_threads(void) {
  pid_t self = (pid_t)syscall(SYS_gettid);
  if (self != getpid() || !emulated(self))
    return;
  under_emulator = true;
  DIR *d = opendir("/proc/self/task");
  if (d == NULL)
    return;
  struct dirent *e;
  while ((e = readdir(d)) != NULL && n_emu < MAX_EMU_THREADS) {
    pid_t tid = (pid_t)atoi(e->d_name);
    if (tid > 0 && tid != self)
      emu_tid[n_emu++] = tid;
  }
  closedir(d);
}

static bool emulator_thread(pid_t tid) {
  for (int i = 0; i < n_emu; i++)
    if (emu_tid[i] == tid)
      return true;
  return false;
}

int pre_stacks_init(char *err, size_t n) {
  unsigned char had[FD_SCAN];
  note_emulator_threads();
  note_fds(had);
  int rc = open_libunwind(err, n);
  if (rc != 0)
    return rc;
  guard_unwinder_fds(had);
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
    /* It must also be sendable: qemu-user, for one, accepts a handler for a real-time
     * signal it cannot deliver, and refuses to queue it (EINVAL). A probe to this thread,
     * which the handler ignores (no round asks anything yet). */
    if (send_question(s, (pid_t)syscall(SYS_gettid), question(0, 0)) != 0) {
      sigaction(s, &old, NULL);
      continue;
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
    if (tid <= 0 || tid == self || emulator_thread(tid))
      continue;
    if ((t == NULL || n == t->cap) && (t = grow_table(t, n)) == NULL)
      break;
    struct slot *sl = &t->s[n++];
    atomic_store_explicit(&sl->answer, 0, memory_order_relaxed);
    for (size_t k = 0; k < MAX_RANGES / 64; k++)
      atomic_store_explicit(&sl->hits[k], 0, memory_order_relaxed);
    atomic_store_explicit(&sl->sp, 0, memory_order_relaxed);
    atomic_store_explicit(&sl->stop, 0, memory_order_relaxed);
    atomic_store_explicit(&sl->tid, tid, memory_order_relaxed);
  }
  closedir(d);
  return e != NULL ? -ENOMEM : (int)n;
}

/* ---- Threads blocked in a system call: checked through /proc, without a signal ---------
 *
 * A signal makes a thread blocked in poll, epoll_wait, nanosleep, select... return EINTR
 * (even with SA_RESTART), and many daemons treat that as fatal. So a thread that
 * /proc/self/task/TID/syscall shows blocked in a system call ("NR a1..a6 SP PC") is looked
 * at from here: its PC, and every 8-byte word of its stack from SP to the end of the mapping
 * that holds SP, conservatively (any word inside a range makes the version busy: a false
 * positive only delays retirement). x86-64 keeps every return address on the stack (no link
 * register), so the frames the thread will return into are all there, as are the kernel
 * signal frames (saved RIP) of handlers running on that stack.
 *
 * Why the thread cannot have changed its stack while we read it: we read schedstat, then
 * syscall, scan, then syscall and schedstat again, and require both lines unchanged.
 *  - Reading syscall of another task waits until that task is off its CPU
 *    (task_current_syscall: wait_task_inactive before and after collecting, with the same
 *    switch count); a runnable task reads "running". So at both reads the thread was off CPU,
 *    in a system call, at that SP and PC.
 *  - Any run of the thread between the two reads ends before the second one (the thread is
 *    off CPU then), and ending a run adds its time to sum_exec_runtime (the first field of
 *    schedstat); being switched in adds one to pcount (the third). So an unchanged schedstat
 *    line means it did not run in between: no user code of it moved a return address.
 *    (A thread that woke and blocked again at the same call site has the same syscall line:
 *    that is why schedstat is needed.) "0 0 0" (no scheduler statistics) proves nothing.
 * The version being retired is no longer routed by the current generation, and a thread
 * blocked in a system call is not between a trampoline's generation load and its jump
 * (its PC is not in the pool; a signal frame whose saved RIP is in the pool sends it to the
 * signal path), so it will not enter that version afresh either (the quiet-mark argument
 * of the signal path holds: it resumes after the mark was read).
 *
 * Everything else keeps the signal path: threads "running" (in user space a signal causes no
 * EINTR), an inconsistent or unreadable state (after one retry), a PC inside the pool, a
 * stack over SCAN_MAX bytes (scan_stack says where a stack ends), and a kernel signal frame
 * whose interrupted SP is not on the scanned stack (a handler running on a sigaltstack: the
 * interrupted frames are on another stack). Signal frames are recognized by their first
 * word, the restorer of a handler installed now (rt_sigaction); what remains unseen: a
 * handler on a sigaltstack whose restorer is no longer installed for any signal, and stacks
 * a daemon switches itself (makecontext/swapcontext coroutines), which libunwind's walk does
 * not follow either. The stack is read with process_vm_readv, so a thread that exits and
 * unmaps its stack meanwhile gives an error, never a fault.
 */

#define SCAN_MAX ((size_t)16 << 20) /* stack bytes scanned per thread, at most */
#define SCAN_WORDS 4096              /* words read per process_vm_readv */
#define MAX_RESTORERS 16
#ifndef SA_RESTORER
#define SA_RESTORER 0x04000000 /* the kernel's flag (x86-64 ABI); glibc does not export it */
#endif

enum { PROC_UNKNOWN, PROC_CLEAR, PROC_HIT, PROC_RETRY };

struct vma {
  uintptr_t lo, hi;
  bool readable;
  bool more_stack; /* anonymous or [stack]: a stack below may go on into it */
};
/* What one check reads once: /proc/self/task, the mappings, the signal restorers. One of
 * them, reused by every check (pre_stacks_busy has one caller at a time), with buffers that
 * only grow, rather than a malloc/free of each per check. */
struct proc_ctx {
  int task_fd;
  struct vma *maps;
  size_t n_maps, cap_maps;
  char text[8192]; /* a window on /proc/self/maps (lines are at most ~4 KiB: PATH_MAX) */
  uintptr_t restorer[MAX_RESTORERS];
  size_t n_restorers;
  /* scan_words' one-compare filters: the restorers' span [rs_lo, rs_lo + rs_len], the
   * trampoline pool [pool_lo, pool_hi). */
  uintptr_t rs_lo, rs_len, pool_lo, pool_hi;
  /* Words rounds: the thread looked at, whether a word hit, and where its scan stopped. */
  bool words, hit;
  struct slot *cur;
  uintptr_t stop;
  uintptr_t buf[SCAN_WORDS];
};
static struct proc_ctx the_ctx;
/* the_ctx.maps holds this round's memory map (words rounds' handlers read it). */
static _Atomic bool maps_valid;
/* Set when process_vm_readv is refused (seccomp): the signal path from then on. */
static bool proc_refused;

/* The number in base `base` (10 or 16) at *p; *p moves past it. */
static unsigned long take_num(const char **p, unsigned base) {
  unsigned long v = 0;
  for (;; (*p)++) {
    char ch = **p;
    unsigned d = ch >= '0' && ch <= '9'   ? (unsigned)(ch - '0')
                 : ch >= 'a' && ch <= 'f' ? (unsigned)(ch - 'a' + 10)
                                          : 99;
    if (d >= base)
      return v;
    v = v * base + d;
  }
}

/* One line of /proc/self/maps, "lo-hi perms offset major:minor inode   path", into *m
 * (counted in *n when it parses). By hand: cheaper than an sscanf per line. */
static void parse_map_line(const char *l, struct vma *m, size_t *n) {
  const char *p = l;
  unsigned long lo = take_num(&p, 16);
  if (*p++ != '-')
    return;
  unsigned long hi = take_num(&p, 16);
  if (*p++ != ' ' || strlen(p) < 5)
    return;
  bool readable = p[0] == 'r';
  p += 5;             /* "rwxp " */
  take_num(&p, 16);   /* offset */
  p++;
  take_num(&p, 16);   /* major */
  p++;
  take_num(&p, 16);   /* minor */
  p++;
  unsigned long ino = take_num(&p, 10);
  while (*p == ' ')
    p++;
  *m = (struct vma){lo, hi, readable, ino == 0 && (*p == '\0' || strcmp(p, "[stack]") == 0)};
  (*n)++;
}

/* Room for one more mapping in c->maps. Returns 0 or -1. */
static int maps_room(struct proc_ctx *c) {
  if (c->n_maps < c->cap_maps)
    return 0;
  size_t cap = c->cap_maps != 0 ? c->cap_maps * 2 : 256;
  /* Not realloc: mapping bounds are what retirement's scan looks for, so the old array is
   * cleared before it is freed (and the live one is skipped: pre_stacks_own). */
  struct vma *g = malloc(cap * sizeof(c->maps[0]));
  if (g == NULL)
    return -1;
  if (c->maps != NULL) {
    memcpy(g, c->maps, c->cap_maps * sizeof(c->maps[0]));
    explicit_bzero(c->maps, c->cap_maps * sizeof(c->maps[0]));
    free(c->maps);
  }
  c->maps = g;
  c->cap_maps = cap;
  return 0;
}

/* Parse /proc/self/maps into c->maps (ascending), a line at a time through a fixed buffer:
 * during a burst of reloads hundreds of versions wait out their grace period, the file
 * grows to hundreds of KiB, and a buffer holding all of it would stay that big. Returns 0
 * or -1. */
static int read_maps(struct proc_ctx *c) {
  c->n_maps = 0;
  int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return -1;
  size_t have = 0;
  int rc = -1;
  for (;;) {
    ssize_t r = read(fd, c->text + have, sizeof(c->text) - 1 - have);
    if (r < 0 && errno == EINTR)
      continue;
    if (r < 0)
      break;
    have += (size_t)r;
    c->text[have] = '\0';
    char *l = c->text, *eol;
    while ((eol = strchr(l, '\n')) != NULL) {
      *eol = '\0';
      if (maps_room(c) != 0)
        goto out;
      parse_map_line(l, &c->maps[c->n_maps], &c->n_maps);
      l = eol + 1;
    }
    have -= (size_t)(l - c->text);
    memmove(c->text, l, have);
    if (r == 0 || have == sizeof(c->text) - 1) { /* the end, or a line longer than the buffer */
      rc = r == 0 && have == 0 ? 0 : -1;
      break;
    }
  }
out:
  close(fd);
  return rc;
}

/* Index of the readable mapping holding addr, or -1. */
static long map_index(const struct proc_ctx *c, uintptr_t addr) {
  size_t lo = 0, hi = c->n_maps;
  while (lo < hi) { /* first mapping whose end is above addr */
    size_t mid = lo + (hi - lo) / 2;
    if (c->maps[mid].hi <= addr)
      lo = mid + 1;
    else
      hi = mid;
  }
  if (lo == c->n_maps || c->maps[lo].lo > addr || !c->maps[lo].readable)
    return -1;
  return (long)lo;
}

/* The end of the mapping holding addr in the copy of the memory map the current round read,
 * 0 when none. Called by signal handlers during the round (read_maps does not run then). */
static uintptr_t maps_end_of(uintptr_t addr) {
  long m = maps_valid ? map_index(&the_ctx, addr) : -1;
  return m >= 0 ? the_ctx.maps[m].hi : 0;
}

/* The restorers (sa_restorer) of every handler installed now: the first word of a kernel
 * signal frame. Read with the raw system call, past any interposed sigaction. */
static void read_restorers(struct proc_ctx *c) {
  struct {
    uintptr_t handler;
    unsigned long flags;
    uintptr_t restorer;
    uint64_t mask;
  } k;
  c->n_restorers = 0;
  for (int s = 1; s < 65; s++) {
    if (syscall(SYS_rt_sigaction, s, NULL, &k, sizeof(k.mask)) != 0 || k.handler <= 1 ||
        !(k.flags & SA_RESTORER))
      continue;
    bool known = false;
    for (size_t i = 0; i < c->n_restorers; i++)
      known = known || c->restorer[i] == k.restorer;
    if (!known && c->n_restorers < MAX_RESTORERS)
      c->restorer[c->n_restorers++] = k.restorer;
  }
  uintptr_t lo = UINTPTR_MAX, hi = 0;
  for (size_t i = 0; i < c->n_restorers; i++) {
    lo = c->restorer[i] < lo ? c->restorer[i] : lo;
    hi = c->restorer[i] > hi ? c->restorer[i] : hi;
  }
  c->rs_lo = c->n_restorers > 0 ? lo : UINTPTR_MAX;
  c->rs_len = c->n_restorers > 0 ? hi - lo : 0;
  ldr_tramp_bounds(&c->pool_lo, &c->pool_hi);
}

static bool is_restorer(const struct proc_ctx *c, uintptr_t w) {
  for (size_t i = 0; i < c->n_restorers; i++)
    if (w == c->restorer[i])
      return true;
  return false;
}

/* For a handler: is w a signal restorer (true when the asker has no memory map this round:
 * then nothing can be ruled out)? */
static bool restorer_word(uintptr_t w) {
  return !atomic_load_explicit(&maps_valid, memory_order_acquire) || is_restorer(&the_ctx, w);
}

/* Read n bytes at addr of this process into out. Returns 0, or -1 (unmapped, refused). */
static int peek(void *out, uintptr_t addr, size_t n) {
  ssize_t r = pre_read_self(out, addr, n);
  if (r < 0 && (errno == EPERM || errno == ENOSYS))
    proc_refused = true;
  return r == (ssize_t)n ? 0 : -1;
}

/* A restorer word at `at` in [lo, hi): the kernel signal frame starts there (the handler's
 * return address, then its ucontext). Its interrupted SP must lie in [lo, hi) (the
 * interrupted frames are on the scanned stack, not on another one) and its RIP outside the
 * trampoline pool. Returns PROC_CLEAR (go on scanning), PROC_HIT or PROC_UNKNOWN. */
static int check_frame(struct proc_ctx *c, uintptr_t at, uintptr_t lo, uintptr_t hi) {
#if !PROC_LOOK
  (void)c, (void)at, (void)lo, (void)hi;
  return PROC_UNKNOWN;
#else
  uintptr_t sp_ip[2]; /* REG_RSP, REG_RIP: adjacent in gregs */
  uintptr_t where = at + sizeof(uintptr_t) + offsetof(ucontext_t, uc_mcontext.gregs[REG_RSP]);
  _Static_assert(REG_RIP == REG_RSP + 1, "gregs order");
  if (peek(sp_ip, where, sizeof(sp_ip)) != 0 || sp_ip[0] < lo || sp_ip[0] >= hi ||
      ldr_tramp_contains((const void *)sp_ip[1]))
    return PROC_UNKNOWN;
  if (c->words) {
    c->hit |= mark_word(c->cur, sp_ip[1]);
    return PROC_CLEAR;
  }
  return in_ranges(sp_ip[1]) ? PROC_HIT : PROC_CLEAR;
#endif
}

/* Scan the words of [a, hi) of the stack whose top frame is at sp (a, hi 8-byte aligned),
 * reading SCAN_WORDS-aligned blocks (so that a 64-byte aligned TCB never straddles two).
 * *tcb is set when a glibc thread control block lies there (tcbhead_t: its `tcb` and `self`
 * words point to itself): glibc puts it at the top of every thread's stack, above its
 * frames. Returns PROC_HIT, PROC_CLEAR, or PROC_UNKNOWN (unreadable, a signal frame of
 * another stack). */
static int scan_words(struct proc_ctx *c, uintptr_t a, uintptr_t hi, uintptr_t sp, bool *tcb) {
  const uintptr_t block = SCAN_WORDS * sizeof(uintptr_t);
  /* Set by this (the asking) thread before the round: read once. */
  const uintptr_t r_lo = atomic_load_explicit(&span_lo, memory_order_relaxed);
  const uintptr_t r_len = atomic_load_explicit(&span_len, memory_order_relaxed);
  while (a < hi) {
    uintptr_t b = (a | (block - 1)) + 1;
    size_t n = ((b < hi ? b : hi) - a) / sizeof(uintptr_t);
    if (peek(c->buf, a, n * sizeof(uintptr_t)) != 0)
      return PROC_UNKNOWN;
    for (size_t i = 0; i < n; i++) {
      uintptr_t at = a + i * sizeof(uintptr_t), w = c->buf[i];
      /* Most words: not in a range (range_of's span), not in the pool, no restorer, not
       * a TCB's self pointer. */
      if (w - r_lo > r_len && w - c->pool_lo >= c->pool_hi - c->pool_lo && w - c->rs_lo > c->rs_len && w != at)
        continue;
      if (c->words && code_word(w))
        c->hit |= mark_word(c->cur, w);
      else if (!c->words && in_ranges(w))
        return PROC_HIT;
      /* Inside a trampoline but not at its start: only the saved PC of a thread interrupted
       * there (between its generation load and its jump), whatever restorer its signal
       * frame has: the signal path decides about the generations. */
      if (ldr_tramp_contains((const void *)w) && ldr_tramp_index((const void *)w) < 0)
        return PROC_UNKNOWN;
      if (w == at && (at & 63) == 0 && i + 2 < n && c->buf[i + 2] == at)
        *tcb = true;
      int f = is_restorer(c, w) ? check_frame(c, at, sp, hi) : PROC_CLEAR;
      if (f != PROC_CLEAR)
        return f;
    }
    a += n * sizeof(uintptr_t);
  }
  return PROC_CLEAR;
}

/* Scan the stack of a thread whose SP is sp: to the end of the mapping holding sp, and on
 * into the next one while it is contiguous, anonymous (or [stack]) and no thread control
 * block bounded the stack (a stack split by mlock or mprotect; a stack without a TCB).
 * Returns PROC_HIT, PROC_CLEAR or PROC_UNKNOWN (no mapping, over SCAN_MAX, unreadable). */
static int scan_stack(struct proc_ctx *c, uintptr_t sp) {
  long m = map_index(c, sp);
  if (m < 0 || (sp & 7) != 0)
    return PROC_UNKNOWN;
  for (uintptr_t lo = sp;; m++) {
    uintptr_t hi = c->maps[m].hi;
    bool tcb = false;
    if (hi - sp > SCAN_MAX)
      return PROC_UNKNOWN;
    int r = scan_words(c, lo, hi, sp, &tcb);
    c->stop = hi;
    if (r != PROC_CLEAR || tcb)
      return r;
    const struct vma *next = (size_t)m + 1 < c->n_maps ? &c->maps[m + 1] : NULL;
    if (next == NULL || next->lo != hi || !next->readable || !next->more_stack)
      return PROC_CLEAR;
    lo = hi;
  }
}

/* A thread's state: its syscall line and its schedstat line. */
struct tstate {
  char sys[320], sched[96];
};

/* Read fd from offset 0 (a seq_file regenerates its text) into buf. Returns 0 or -1. */
static int read_at0(int fd, char *buf, size_t n) {
  ssize_t r = pread(fd, buf, n - 1, 0);
  if (r <= 0 || (size_t)r == n - 1)
    return -1;
  buf[r] = '\0';
  buf[strcspn(buf, "\n")] = '\0';
  return 0;
}

static int read_state(int sys_fd, int sched_fd, struct tstate *s) {
  return read_at0(sched_fd, s->sched, sizeof(s->sched)) == 0 &&
                 read_at0(sys_fd, s->sys, sizeof(s->sys)) == 0
             ? 0
             : -1;
}

/* One look at a thread through its open syscall and schedstat files. Returns PROC_HIT,
 * PROC_CLEAR, PROC_UNKNOWN, or PROC_RETRY (running, or it ran while we looked). */
static int look_once(struct proc_ctx *c, int sys_fd, int sched_fd) {
  struct tstate before, after;
  if (read_state(sys_fd, sched_fd, &before) != 0)
    return PROC_UNKNOWN;
  if (strncmp(before.sys, "running", 7) == 0)
    return PROC_RETRY;
  long nr;
  unsigned long a[6], sp, pc;
  if (sscanf(before.sys, "%ld %lx %lx %lx %lx %lx %lx %lx %lx", &nr, &a[0], &a[1], &a[2],
             &a[3], &a[4], &a[5], &sp, &pc) != 9 || nr < 0 ||
      strncmp(before.sched, "0 0 0", 5) == 0)
    return PROC_UNKNOWN; /* "-1 SP PC": blocked, but not in a system call */
  if (c->words) { /* its PC and the system call's arguments: registers we can see */
    c->hit |= mark_word(c->cur, pc);
    for (int k = 0; k < 6; k++)
      c->hit |= mark_word(c->cur, a[k]);
  } else if (in_ranges(pc)) {
    return PROC_HIT;
  }
  if (ldr_tramp_contains((const void *)pc))
    return PROC_UNKNOWN;
  c->stop = sp;
  int r = scan_stack(c, sp);
  if (r == PROC_HIT) /* busy whatever happened meanwhile: a false positive only delays */
    return r;
  if (read_state(sys_fd, sched_fd, &after) != 0)
    return PROC_UNKNOWN;
  if (strcmp(before.sys, after.sys) != 0 || strcmp(before.sched, after.sched) != 0)
    return PROC_RETRY;
  if (c->words && r == PROC_CLEAR) {
    atomic_store_explicit(&c->cur->sp, sp, memory_order_relaxed);
    atomic_store_explicit(&c->cur->stop, c->stop, memory_order_relaxed);
  }
  return r == PROC_CLEAR && c->hit ? PROC_HIT : r;
}

/* Check thread tid through /proc: PROC_HIT, PROC_CLEAR, or PROC_UNKNOWN (ask it by signal). */
static int look_at(struct proc_ctx *c, pid_t tid) {
  char path[64];
  snprintf(path, sizeof(path), "%d/syscall", (int)tid);
  int sys_fd = openat(c->task_fd, path, O_RDONLY | O_CLOEXEC);
  snprintf(path, sizeof(path), "%d/schedstat", (int)tid);
  int sched_fd = sys_fd >= 0 ? openat(c->task_fd, path, O_RDONLY | O_CLOEXEC) : -1;
  int r = PROC_UNKNOWN;
  for (int attempt = 0; sched_fd >= 0 && attempt < 2; attempt++) {
    c->hit = false;
    r = look_once(c, sys_fd, sched_fd);
    if (r != PROC_RETRY)
      break;
  }
  if (sched_fd >= 0)
    close(sched_fd);
  if (sys_fd >= 0)
    close(sys_fd);
  return r == PROC_RETRY ? PROC_UNKNOWN : r;
}

/* Look at each of the nt listed threads of t through /proc (ranges already published):
 * marks those found clear (s[i].checked). Returns 1 ("thread TID" in why) when one holds a
 * range, else 0; when /proc cannot be used, marks none. */
static int proc_pass(struct slot_table *t, int nt, char *why) {
  for (int i = 0; i < nt; i++)
    t->s[i].checked = false;
  struct proc_ctx *c = &the_ctx;
  if (proc_refused) {
    atomic_store_explicit(&maps_valid, false, memory_order_release);
    return 0;
  }
  c->task_fd = open("/proc/self/task", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  int rc = 0;
  atomic_store_explicit(&maps_valid, false, memory_order_release);
  if (c->task_fd >= 0 && read_maps(c) == 0) {
    atomic_store_explicit(&maps_valid, true, memory_order_release);
    read_restorers(c);
    c->words = atomic_load_explicit(&words_round, memory_order_relaxed);
    for (int i = 0; PROC_LOOK && i < nt && !proc_refused; i++) {
      pid_t tid = atomic_load_explicit(&t->s[i].tid, memory_order_relaxed);
      c->cur = &t->s[i];
      int r = look_at(c, tid);
      /* A words round looks at every thread, and one found holding a range is done too. */
      t->s[i].checked = r == PROC_CLEAR || (c->words && r == PROC_HIT);
      if (r == PROC_HIT && rc == 0) {
        snprintf(why, LDR_ERR_MAX, "thread %d", (int)tid);
        rc = 1;
      }
      if (r == PROC_HIT && !c->words)
        break;
    }
  }
  if (c->task_fd >= 0)
    close(c->task_fd);
  return rc;
}

/* Signal thread tid, in slot `slot`, with round r. Returns 0, or -errno (ESRCH: it has
 * exited). */
static int ask(pid_t tid, size_t slot, int r) {
  return send_question(stack_signo, tid, question(r, slot));
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
  bool words = atomic_load_explicit(&words_round, memory_order_relaxed);
  int found = 0;
  while (i < n) {
    int a = atomic_load_explicit(&t->s[i].answer, memory_order_acquire);
    pid_t tid = atomic_load_explicit(&t->s[i].tid, memory_order_relaxed);
    size_t now_answered = atomic_load_explicit(&n_answered, memory_order_relaxed);
    if (now_answered != answered) { /* progress: wait ANSWER_MS from now */
      answered = now_answered;
      until = ms_now() + ANSWER_MS;
    }
    if (t->s[i].gone || t->s[i].checked || (a >> 2 == r && (a & 3) == ANS_CLEAR)) {
      i++;
    } else if (a >> 2 == r && (a & 3) == ANS_HIT) {
      if (found == 0)
        snprintf(why, LDR_ERR_MAX, "thread %d", (int)tid);
      found = 1;
      if (!words) /* a words round waits for every answer: each says what it holds */
        return 1;
      i++;
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
  return found;
}

/* After a round that returned 0: did no thread answer from inside the trampoline pool? */
static bool round_quiet(struct slot_table *t, size_t n, int r) {
  for (size_t i = 0; i < n; i++) {
    if (!t->s[i].gone && !t->s[i].checked &&
        atomic_load_explicit(&t->s[i].pool, memory_order_relaxed) == r)
      return false;
  }
  return true;
}

void pre_stacks_own(uintptr_t *lo, uintptr_t *hi) {
  *lo = (uintptr_t)the_ctx.maps;
  *hi = (uintptr_t)(the_ctx.maps + the_ctx.cap_maps);
}

uint64_t pre_stacks_quiet_mark(void) {
  return atomic_load_explicit(&quiet_mark, memory_order_acquire);
}

/* Ask the nt listed threads of t with round rn, but those /proc found clear. Returns 0 or
 * -errno (why says). */
static int ask_all(struct slot_table *t, int nt, int rn, char *why) {
  atomic_store_explicit(&n_answered, 0, memory_order_relaxed);
  atomic_store_explicit(&n_slots, (size_t)nt, memory_order_release);
  for (int i = 0; i < nt; i++) {
    t->s[i].gone = false;
    if (t->s[i].checked)
      continue;
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

/* One round of questions about the ranges r[0..n), frames only or (words) every word. */
static int stack_round(const struct ldr_text_range *r, size_t n, bool words, char *why) {
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
  uintptr_t lo = UINTPTR_MAX, hi = 0;
  for (size_t i = 0; i < n; i++) {
    atomic_store_explicit(&range_lo[i], r[i].start, memory_order_relaxed);
    atomic_store_explicit(&range_hi[i], r[i].end, memory_order_relaxed);
    lo = r[i].start < lo ? r[i].start : lo;
    hi = r[i].end > hi ? r[i].end : hi;
  }
  /* No range: an empty span (lo - 1 wraps; no word is 1 past UINTPTR_MAX). */
  atomic_store_explicit(&span_lo, n > 0 ? lo : UINTPTR_MAX, memory_order_relaxed);
  atomic_store_explicit(&span_len, n > 0 ? hi - lo : 0, memory_order_relaxed);
  atomic_store_explicit(&n_ranges, n, memory_order_release);
  atomic_store_explicit(&words_round, words, memory_order_release);
  int nt = list_threads((pid_t)syscall(SYS_gettid));
  if (nt < 0) {
    snprintf(why, LDR_ERR_MAX, "cannot list the threads: %s", strerror(-nt));
    return nt;
  }
  struct slot_table *t = atomic_load_explicit(&table, memory_order_relaxed);
  last_nt = nt;
  /* Threads blocked in a system call first, through /proc: no signal, so no EINTR. */
  char first[LDR_ERR_MAX] = "";
  int rc = nt > 0 ? proc_pass(t, nt, first) : 0;
  if (rc != 0 && !words) {
    snprintf(why, LDR_ERR_MAX, "%s", first);
    return rc;
  }
  rc = nt > 0 ? ask_all(t, nt, rn, why) : 0;
  if (rc == 0 && nt > 0)
    rc = collect(t, (size_t)nt, rn, why);
  if (rc >= 0 && first[0] != '\0') { /* words: a blocked thread held one too */
    snprintf(why, LDR_ERR_MAX, "%s", first);
    rc = 1;
  }
  if (rc == 0 && (nt == 0 || round_quiet(t, (size_t)nt, rn)) && mark > pre_stacks_quiet_mark())
    atomic_store_explicit(&quiet_mark, mark, memory_order_release);
  return rc;
}

int pre_stacks_busy(const struct ldr_text_range *r, size_t n, char *why) {
  return stack_round(r, n, false, why);
}

int pre_stacks_words(const struct ldr_text_range *r, const bool *code, size_t n,
                     struct pre_stack_words *out, char *why) {
  for (size_t i = 0; i < n && i < MAX_RANGES; i++)
    atomic_store_explicit(&range_code[i], code[i], memory_order_relaxed);
  memset(out->hits, 0, sizeof(out->hits));
  memset(out->tid, 0, sizeof(out->tid));
  out->n_cover = 0;
  int rc = stack_round(r, n, true, why);
  if (rc < 0)
    return rc;
  struct slot_table *t = atomic_load_explicit(&table, memory_order_relaxed);
  for (int i = 0; t != NULL && i < last_nt; i++) {
    struct slot *sl = &t->s[i];
    pid_t tid = atomic_load_explicit(&sl->tid, memory_order_relaxed);
    for (size_t k = 0; k < n; k++) {
      if (atomic_load_explicit(&sl->hits[k / 64], memory_order_relaxed) >> (k % 64) & 1) {
        out->hits[k / 64] |= (uint64_t)1 << (k % 64);
        if (out->tid[k] == 0)
          out->tid[k] = tid;
      }
    }
    uintptr_t sp = atomic_load_explicit(&sl->sp, memory_order_relaxed);
    uintptr_t stop = atomic_load_explicit(&sl->stop, memory_order_relaxed);
    if (sp != 0 && stop > sp && out->n_cover < PRE_COVER_MAX)
      out->cover[out->n_cover++] = (struct pre_cover){sp, stop};
  }
  return 0;
}
