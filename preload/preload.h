/* SPDX-License-Identifier: BSD-3-Clause */
/* preload.h - internals of libhotswap_preload.so (prefix pre_).
 *
 * The shim runs inside someone else's daemon: nothing here exits, aborts or writes to
 * stdout; a fatal problem disables reloads, logs one line and lets the daemon serve on.
 */
#ifndef HOTSWAP_PRELOAD_H
#define HOTSWAP_PRELOAD_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <link.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

#include "loader/loader.h"

#define PRE_API __attribute__((visibility("default")))

/* ---- log.c ------------------------------------------------------------------------- */

/* Open the log named by HOTSWAP_LOG: NULL or "stderr", "syslog", or a file path (opened
 * O_APPEND|O_CLOEXEC). Returns 0, or -errno with the log left on stderr. */
int pre_log_open(const char *target);
/* One line "hotswap[PID]: <text>\n", written with a single write(2) so lines from several
 * processes do not interleave. Not async-signal-safe (formats with vsnprintf). */
void pre_log(const char *fmt, ...) __attribute__((format(__printf__, 1, 2)));
/* For the crash path (async-signal-safe writes): the log's descriptor (stderr when the
 * log is syslog), and whether the log is syslog. */
int pre_log_fd(void);
bool pre_log_is_syslog(void);
void pre_vlog(const char *fmt, va_list ap);

/* ---- signal.c ---------------------------------------------------------------------- */

/* Take over `signo` as the reload signal: install the shim's handler, which writes to
 * `wake_fd` (an eventfd) and then runs the daemon's own disposition for the signal.
 * The disposition found at start-up (SIG_IGN under nohup, or a handler installed earlier)
 * becomes the daemon's, so it keeps working and SIG_IGN no longer disables reloads.
 * Returns 0 or -errno. */
int pre_signal_install(int signo, int wake_fd);
/* Point the handler at a new eventfd (after fork). async-signal-safe to race with. */
void pre_signal_set_wake_fd(int wake_fd);
/* Signal number from "HUP", "SIGHUP", "usr2" or "1"; -1 when unknown. */
int pre_signal_parse(const char *name);
/* Mark the calling thread as the shim's (pre_thread_start does it): when the daemon waits
 * for the reload signal with sigwait() and friends, such a thread passes it on instead of
 * keeping it. */
void pre_signal_mark_shim_thread(void);

/* ---- fds.c ------------------------------------------------------------------------- */

/* Guard a descriptor the shim keeps (eventfd, log file, control socket, a version's memfd)
 * against the daemon's close-all loops: close(), close_range() and closefrom() from the
 * daemon leave it open. Call pre_fd_unguard before the shim closes it. Thread-safe. */
void pre_fd_guard(int fd);
void pre_fd_unguard(int fd);
/* Is fd guarded? Lock-free, async-signal-safe. */
bool pre_fd_guarded(int fd);

/* ---- config.c ---------------------------------------------------------------------- */

struct pre_config {
  char *plugins;      /* HOTSWAP_PLUGINS as given: ':'-separated files or folders */
  int signo;          /* HOTSWAP_SIGNAL, default SIGHUP */
  char *log_target;   /* HOTSWAP_LOG, NULL for stderr */
  char *control_path; /* HOTSWAP_CONTROL or the default per DESIGN.md */
  bool sd_notify;     /* HOTSWAP_SD_NOTIFY=1 and NOTIFY_SOCKET set */
  char *notify_socket;
  bool insecure_ok;   /* HOTSWAP_INSECURE=1 */
  unsigned grace_ms;     /* HOTSWAP_GRACE_MS, default 1000 */
  unsigned max_versions; /* HOTSWAP_MAX_VERSIONS, default 8, 0: no cap */
  bool retire;           /* HOTSWAP_RETIRE, default 1; 0: old versions stay loaded */
  bool retire_scan;      /* HOTSWAP_RETIRE=scan or 1 (the default), not stacks */
  int state_policy;      /* HOTSWAP_STATE: enum ldr_state_policy (carry, strict, fresh) */
  bool crash_report;     /* HOTSWAP_CRASH, default 1: take fatal signals to name the build */
  unsigned probation_ms; /* HOTSWAP_PROBATION_MS, default 60000; 0: no last-known-good */
  unsigned load_timeout_ms; /* HOTSWAP_LOAD_TIMEOUT_MS, default 3000; 0: no trial load */
};

/* Read the HOTSWAP_* variables. Returns 0; -ENOENT when HOTSWAP_PLUGINS is unset or empty
 * (the shim stays inert); -EINVAL with a reason in err (n bytes) for a bad value. */
int pre_config_load(struct pre_config *cfg, char *err, size_t n);
void pre_config_free(struct pre_config *cfg);
/* Control socket name of process `pid`: HOTSWAP_CONTROL for the daemon itself (and
 * HOTSWAP_CONTROL.<pid> for its forked children), else "@hotswap/<pid>" (abstract
 * namespace, see common/unix_addr.h). malloc'd; NULL on ENOMEM. */
char *pre_control_path_for(pid_t pid, bool forked);

/* The plugin files named by `spec` now: each file as given, each folder's *.so sorted by
 * name. Returns 0 and a NULL-terminated array (free with pre_paths_free), or -errno with a
 * reason naming the path in err. */
int pre_plugin_paths(const char *spec, char ***out, size_t *count, char *err, size_t n);
void pre_paths_free(char **paths);


/* ---- notify.c ---------------------------------------------------------------------- */

/* sd_notify datagrams to NOTIFY_SOCKET `sock`. Each returns 0 or -errno. */
int pre_notify_send(const char *sock, const char *msg);
int pre_notify_reloading(const char *sock); /* RELOADING=1 + MONOTONIC_USEC=, one message */
int pre_notify_ready(const char *sock, const char *status); /* READY=1 + STATUS=<line> */

/* ---- control.c --------------------------------------------------------------------- */

/* Answers one request line ("status", "reload") with one malloc'd line of JSON in *reply.
 * Runs on the control thread, with no shim lock held. */
typedef void (*pre_control_fn)(const char *request, char **reply);

/* Listen at `path` ("@name": abstract namespace; else a file, its folder made 0700 if
 * missing, the socket 0600) and serve requests on a thread of its own. A socket file nobody
 * answers on (its process was killed) is replaced; a name a live process answers on is left
 * to it: -EADDRINUSE. Returns 0 or -errno with a reason in err. */
int pre_control_start(const char *path, pre_control_fn fn, char *err, size_t n);
/* Requests answered later (a reload): ask returns 0 and a ticket when it takes the request
 * (non-zero: the request goes to the pre_control_fn); answer(ticket, expired, &reply) gives
 * the reply when it is ready (true), or, once the client waited too long (expired), what
 * to tell it then. pre_reload_done_fd() wakes the control thread to ask again. */
typedef int (*pre_defer_fn)(const char *request, uint64_t *ticket);
typedef bool (*pre_answer_fn)(uint64_t ticket, bool expired, char **reply);
void pre_control_defer(pre_defer_fn ask, pre_answer_fn answer);
/* Close the socket; the process that bound it also removes the file. */
void pre_control_stop(void);
/* Path being served, NULL when none. */
const char *pre_control_path(void);

/* ---- preload.c --------------------------------------------------------------------- */

/* Start a detached thread with every signal blocked except the reload signal, so that the
 * shim's threads never run the daemon's other signal handlers. Returns 0 or -errno. */
int pre_thread_start(pthread_t *t, void *(*fn)(void *), void *arg);

/* ---- reloader.c, report.c ---------------------------------------------------------- */

/* Remember the root folder the process starts with (the constructor calls it). */
void pre_root_note(void);

/* The outcome of one reload, as the log, the control socket and systemd report it. */
struct pre_outcome {
  int rc;              /* 0, or the loader's error code */
  bool start;          /* the load at start-up ("start ok", "start rejected") */
  unsigned number;     /* reload number: 1 for the first reload after start-up; 0 at start */
  bool committed;      /* a new generation was published */
  uint64_t generation; /* current generation after the reload */
  struct ldr_state_stats state; /* carry-over, summed over the plugins */
  char message[1536];  /* "reload 3 ok in 0.41 ms: libhandler.so 3f2a1c9 -> 9b8e7d1 (12
                        * symbols)" or "reload 4 rejected: <reason>; still serving <v>" */
};

/* Set what the reloader works from: the configuration and the eventfd that wakes it. */
void pre_reloader_init(const struct pre_config *cfg, int fd);
/* Start the reloader thread. Returns 0 or -errno. */
int pre_reloader_start(void);
/* The first load, on the calling thread, before the reloader thread starts ("start"). */
void pre_start_now(struct pre_outcome *out);
/* Ask the reloader thread for a reload; *ticket identifies the request. Returns 0 or
 * -errno. The control thread waits for the answer without blocking (see below). */
int pre_reload_ask(uint64_t *ticket);
/* Has a reload that started after request `ticket` finished? Then true, *out its outcome. */
bool pre_reload_answer(uint64_t ticket, struct pre_outcome *out);
/* An eventfd the reloader writes after each reload that served requests (-1: none). */
int pre_reload_done_fd(void);
/* What `status` shows: the start-up load, the last reload (number 0 before any) and the
 * reloads attempted and refused since start-up (start-up itself not counted). */
struct pre_summary {
  struct pre_outcome start, last;
  unsigned reloads, failures;
  bool running;               /* a load runs now: reload running_number (0: start-up) */
  unsigned running_number;
  uint64_t running_since_ns;  /* CLOCK_MONOTONIC */
};
void pre_reload_summary(struct pre_summary *s);
/* CLOCK_MONOTONIC in ns. */
uint64_t pre_now_ns(void);
/* "reload 3 running for 12.0 s, in libx.so hotswap_on_init for 11.9 s" into buf when a load
 * or a retirement runs plugin code now (true), for an answer that cannot wait for it. */
bool pre_running_text(const struct pre_summary *s, char *buf, size_t n);
/* {"ok":false,"error":"<code>","message":"<message>"}, malloc'd (NULL: no memory). */
char *pre_json_error(const char *code, const char *message);
/* In a forked child: new state, new thread, woken by `fd`. */
void pre_reloader_after_fork(int fd);

/* Turn a loader report into an outcome (message included). */
void pre_outcome_from_report(const struct ldr_report *rep, struct pre_outcome *out);
/* Complete an outcome refused before the loader ran: out->rc and out->message (the
 * reason) are set; the message becomes "reload N rejected: <reason>; still serving ...". */
void pre_outcome_refused(struct pre_outcome *out);
/* The file name part of a path ("libhandler.so"). */
const char *pre_basename(const char *path);
/* "start" or "reload N": how the log and messages name an attempt. */
void pre_outcome_label(const struct pre_outcome *o, char *buf, size_t n);
/* The status document: one line of JSON, malloc'd; NULL on ENOMEM. */
char *pre_status_json(const struct pre_summary *s);
/* One line of JSON for a reload outcome, malloc'd. */
char *pre_outcome_json(const struct pre_outcome *o);

/* ---- stacks.c ---------------------------------------------------------------------- */

/* Pick the real-time signal the stack check uses (the highest one from SIGRTMAX-1 down
 * whose disposition is still SIG_DFL), install its handler and open libunwind (dlopen'ed
 * RTLD_LOCAL: its _Unwind_* symbols must not interpose the daemon's C++ runtime). Returns 0
 * or -errno with a reason in err. Call once, before any thread the shim starts. */
int pre_stacks_init(char *err, size_t n);
/* The calling thread's frames' instruction addresses, innermost first (in a signal
 * handler: its own frames, the signal frame, then the interrupted code and its callers).
 * Returns how many were stored; 0 before pre_stacks_init or when libunwind is missing.
 * async-signal-safe. */
size_t pre_stacks_backtrace(uintptr_t *ips, size_t max);
/* The signal pre_stacks_init chose, 0 before. Threads of the shim leave it unblocked. */
int pre_stacks_signo(void);
/* ldr_busy_fn: look at every other thread of the process (/proc/self/task). A thread
 * blocked in a system call is read from outside, without a signal (so it never sees EINTR):
 * its PC and every stack word from SP up, checked against r[0..n), with /proc's syscall and
 * schedstat lines equal before and after (it did not run meanwhile). Any other thread gets
 * the real-time signal (tgkill) and unwinds its own stack with libunwind in the handler.
 * Waits for signalled threads while they keep answering (250 ms of silence ends the wait).
 * Returns 0 (no thread), 1 ("thread TID" in why), or -ETIMEDOUT ("thread TID did not
 * answer (it may block signal N)") / -errno. Not reentrant: one caller at a time (the
 * reloader thread). */
int pre_stacks_busy(const struct ldr_text_range *r, size_t n, char *why);
/* Does the process run under a user-mode emulator (qemu-user; known once pre_stacks_init
 * has run)? */
bool pre_emulated(void);
/* Generation that was current when the last quiet round of pre_stacks_busy began (every
 * thread answered, none was interrupted inside the trampoline pool), 0 before any: no thread
 * can still use a generation numbered below it (ldr_retire_reclaim_gens). Lock-free. */
uint64_t pre_stacks_quiet_mark(void);

/* What a words round (pre_stacks_words) found: which ranges some thread's registers or live
 * stack point into (bit i of hits), the first such thread per range, and the stack part each
 * thread covered, [sp, stop) (the memory scan skips its mapping up to stop). */
#define PRE_STACK_RANGES 256
#define PRE_COVER_MAX 4096
struct pre_cover {
  uintptr_t sp, stop;
};
struct pre_stack_words {
  uint64_t hits[PRE_STACK_RANGES / 64];
  pid_t tid[PRE_STACK_RANGES];
  struct pre_cover cover[PRE_COVER_MAX];
  size_t n_cover;
};
/* Like pre_stacks_busy, but every word counts, not only frames: each signalled thread checks
 * its general registers and every word from its SP (less the red zone) to the end of its
 * stack's mapping; a thread blocked in a system call is read through /proc as before: its PC
 * and six argument registers against every range, its stack words against code ranges only
 * (code[i]): an idle thread's live frames keep stale bytes of earlier, deeper calls in their
 * padding, and a pool of idle threads would hold every version forever. Every thread answers (no stop at the first
 * hit). Returns 0 (out says), or -errno when a thread could not be checked (why says). The
 * quiet mark advances as with pre_stacks_busy. n <= PRE_STACK_RANGES. Not reentrant. */
/* The heap block the stack check keeps its copy of the memory map in (mapping bounds look
 * like pointers into plugins): the memory scan skips it. */
void pre_stacks_own(uintptr_t *lo, uintptr_t *hi);
int pre_stacks_words(const struct ldr_text_range *r, const bool *code, size_t n,
                     struct pre_stack_words *out, char *why);

/* ---- peek.c: reading this process's own memory without a fault ----------------------- */

/* Read up to n bytes at addr of this very process into out, with process_vm_readv: a
 * mapping unmapped meanwhile gives -1 (errno) or a short count, never a fault. Where the
 * system call does not exist (ENOSYS: qemu-user does not emulate it), the same through
 * pread() of /proc/self/mem, opened by pre_peek_init. Returns what the call does.
 * async-signal-safe. */
ssize_t pre_read_self(void *out, uintptr_t addr, size_t n);
/* Open /proc/self/mem for pre_read_self when process_vm_readv is missing; again in a forked
 * child (the descriptor reads the memory of the process that opened it). */
void pre_peek_init(void);

/* ---- scan.c: retirement's memory scan ------------------------------------------------ */

/* ldr_scan_fn (see loader.h): a words round of the stack check, then every other readable
 * word of the process: writable mappings (heap, anonymous, other objects' data, the
 * executable's copy-relocated data) and the RELRO of loaded objects; not the shim's own
 * objects (itself, libunwind), ld.so's data, libgcc_s's frame cache, the calling thread's
 * stack, the part of each thread's stack the round covered, nor device mappings. Read with
 * process_vm_readv: a mapping unmapped meanwhile gives an error, never a fault. */
int pre_scan(const struct ldr_scan_group *g, size_t n, const struct ldr_text_range *skip,
             size_t n_skip, struct ldr_scan_result *res, unsigned char *by, char *why);
/* The last completed scan: how many so far, the bytes its memory pass read, and its time
 * (total_ns: the threads' round and the pass; pass_ns: the pass alone). Zeros before any. */
struct pre_scan_stats {
  uint64_t scans, bytes, total_ns, pass_ns;
  uint64_t freed; /* words pointing into a version found in blocks malloc had freed */
};
void pre_scan_last(struct pre_scan_stats *out);

/* ---- freeblk.c: blocks glibc's malloc has freed ---------------------------------------- */

/* A walk of one malloc heap, kept across the words one scan asks about in address order. */
struct pre_freeblk {
  uintptr_t base, end; /* the heap (0: none yet, or given up on) */
  uintptr_t at;        /* a chunk start at or below the last word asked about */
};
/* Start a scan's walks (probes malloc the first time: call from the scanning thread). */
void pre_freeblk_reset(struct pre_freeblk *c);
/* Is the word at `a`, in the writable mapping [lo, hi) (the brk heap when brk_heap, else an
 * anonymous mapping), inside a block glibc's malloc has freed (or never handed out)? False
 * when unsure, when malloc is not glibc's, or when the mapping is not a malloc heap. */
bool pre_freeblk_has(struct pre_freeblk *c, uintptr_t a, uintptr_t lo, uintptr_t hi,
                     bool brk_heap);

/* ---- reloader.c: revert ------------------------------------------------------------ */

/* The control socket's "revert" request: ldr_revert, logged ("revert ok: ..." or "revert
 * refused: <reason>"), answered as one JSON line {"ok","rc","error","generation",
 * "message":"revert ok: generation 7 (as generation 5): ..."}. Caller frees; NULL when out
 * of memory. Thread-safe (waits for a running reload). */
char *pre_revert_json(void);

/* ---- crash.c ----------------------------------------------------------------------- */

typedef int (*pre_sigaction_fn)(int, const struct sigaction *, struct sigaction *);
/* Called from the fatal signal handler when plugin code is blamed for the crash (the fault
 * is in it, or in a system library it called): where, and the line that was logged.
 * Must be async-signal-safe. */
typedef void (*pre_crash_fn)(int signo, const struct ldr_crash_where *where, const char *line);
/* Take SIGSEGV, SIGBUS, SIGFPE, SIGILL and SIGABRT: log one line naming the plugin build
 * a crash is in, then run what the daemon chose (its handler, or the default action).
 * `real` is libc's sigaction. Returns 0 or -errno. */
int pre_crash_install(pre_sigaction_fn real, pre_crash_fn blame);
/* libc's sigaction (signal.c), NULL when it cannot be found. */
pre_sigaction_fn pre_real_sigaction(void);
/* True for a fatal signal the shim has taken: the interposed sigaction() keeps the
 * daemon's disposition with pre_crash_set instead of installing it. */
bool pre_crash_owns(int signo);
int pre_crash_set(int signo, const struct sigaction *act, struct sigaction *oldact);

/* ---- probation.c -------------------------------------------------------------------- */

/* Probation of HOTSWAP_PROBATION_MS (0: off) in the state folder (HOTSWAP_STATE_DIR, else
 * /var/lib/hotswap/<program> for root, $XDG_STATE_HOME/hotswap/<program> otherwise).
 * Logs and stays off when the folder cannot be made. Call once, at start-up. */
void pre_probation_init(unsigned ms);
/* pre_crash_fn: record that the build `where` names crashed the daemon. async-signal-safe */
void pre_probation_crashed(int signo, const struct ldr_crash_where *where, const char *line);
/* For the plugin files about to be loaded: when one is the build that crashed, *alt gets a
 * copy of paths with the last-known-good copy in its place (free with pre_paths_free), and
 * *adopt_first is set when ld.so itself loaded that crashed file (the program links it:
 * adopt it first, then load *alt). Logs what it does. Returns how many were replaced. */
int pre_probation_substitute(char *const *paths, size_t n, char ***alt, bool *adopt_first);
/* After a reload of `paths`: the versions it committed start their probation. */
void pre_probation_committed(const struct ldr_report *rep, char *const *paths, size_t n);
/* Milliseconds until the next probation ends, -1 when none is running. */
long pre_probation_next_ms(void);
/* Promote every version whose probation ended to last-known-good. Reloader thread. */
void pre_probation_tick(void);
/* A descriptor that becomes readable when a crash record may have been written by another
 * process (inotify on the state folder), -1 when none. */
int pre_probation_notify_fd(void);
/* After it became readable: true, with a reason in why, when the record names a build this
 * process runs and a last-known-good build to switch to exists (then reload: the
 * substitution does the rest). */
bool pre_probation_crash_here(char *why, size_t n);
/* In a forked child: fresh lock, own inotify instance. */
void pre_probation_after_fork(void);

#define PRE_PROBATION_SHOWN 16
struct pre_probation_watch {
  char file[256];
  char version[LDR_VERSION_MAX];
  uint64_t remaining_ms;
};
struct pre_probation_lkg {
  char file[256];
  char version[LDR_VERSION_MAX];
};
struct pre_probation_info {
  bool enabled;
  char dir[4096];
  size_t n_watch, n_lkg;
  struct pre_probation_watch watch[PRE_PROBATION_SHOWN]; /* versions on probation */
  struct pre_probation_lkg lkg[PRE_PROBATION_SHOWN];     /* last-known-good builds kept */
  char fallback[2048]; /* "serving last-known-good ..." when a crashed build was replaced */
  bool crashed;        /* a crash record is there */
  char crash_file[256], crash_version[LDR_VERSION_MAX], crash_line[1024];
};
void pre_probation_status(struct pre_probation_info *out);

/* ---- retrofit.c, dl.c -------------------------------------------------------------- */

/* Record that the object `map`, loaded by ld.so, is generation 0 of a plugin: GOT entries
 * of other objects that bind to it get rewritten to trampolines. Returns 0, -ENOENT,
 * -ENOSPC. */
int pre_retrofit_adopt(const struct link_map *map);
/* Rewrite, in every loaded object but the plugins and the shim, the GOT entries bound to
 * an adopted plugin's routed functions to their trampolines. Idempotent; cheap when
 * nothing is adopted. Returns 0 or the first error with a reason in err; *patched gets
 * the number of entries rewritten (may be NULL). Thread-safe. */
int pre_retrofit_all(size_t *patched, char *err, size_t n);
/* True when addr lies in an adopted plugin object. */
bool pre_retrofit_in_plugin(const void *addr);
/* Turn on the dlopen/dlsym interposition (after the first load). */
void pre_dl_enable(void);
/* libc's dlsym, bypassing the shim's. */
void *pre_real_dlsym(void *handle, const char *name);

#endif /* HOTSWAP_PRELOAD_H */
