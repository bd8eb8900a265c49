/* SPDX-License-Identifier: BSD-3-Clause */
/* fds.c - keep the daemon's "close every descriptor" loops off the shim's own descriptors.
 *
 * Old daemons close every descriptor from 3 up when they start (a loop of close(), or
 * close_range(), closefrom()), after the shim's constructor has opened its eventfd, log
 * file, control socket and the memfds of loaded plugin versions. Closed, reloads would stop;
 * worse, a number the daemon reuses would get the signal handler's 8-byte wake-ups or a
 * loaded version's name in /proc/self/fd. So the descriptors the shim keeps are guarded: a
 * close() of one from outside the shim reports success and leaves it open (it is
 * close-on-exec, so exec still drops it), and close_range()/closefrom() skip them. A daemon
 * that dup2()s onto one of them takes it: that is not interposed.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "preload/preload.h"

#define GUARD_MAX 192 /* the shim's own, control connections (<= 48), a memfd per version */

/* fd + 1 of each guarded descriptor, 0 for a free cell; read lock-free by close(). */
static int guard[GUARD_MAX];
static int guard_hi; /* cells in use are below this index; only grows */
static pthread_mutex_t guard_lock = PTHREAD_MUTEX_INITIALIZER;

typedef int (*close_fn)(int);
typedef int (*close_range_fn)(unsigned, unsigned, int);
typedef void (*closefrom_fn)(int);
static close_fn real_close;
static close_range_fn real_close_range;
static closefrom_fn real_closefrom;

/* Look libc's functions up once (the constructor does; close() may run before it). */
static void resolve(void) {
  if (__atomic_load_n(&real_close, __ATOMIC_ACQUIRE) != NULL)
    return;
  __atomic_store_n(&real_close_range, (close_range_fn)dlsym(RTLD_NEXT, "close_range"),
                   __ATOMIC_RELAXED);
  __atomic_store_n(&real_closefrom, (closefrom_fn)dlsym(RTLD_NEXT, "closefrom"),
                   __ATOMIC_RELAXED);
  __atomic_store_n(&real_close, (close_fn)dlsym(RTLD_NEXT, "close"), __ATOMIC_RELEASE);
}

void pre_fd_guard(int fd) {
  if (fd < 0)
    return;
  pthread_mutex_lock(&guard_lock);
  int i = 0;
  while (i < GUARD_MAX && __atomic_load_n(&guard[i], __ATOMIC_RELAXED) != 0)
    i++;
  if (i < GUARD_MAX) {
    __atomic_store_n(&guard[i], fd + 1, __ATOMIC_RELEASE);
    if (i >= guard_hi)
      __atomic_store_n(&guard_hi, i + 1, __ATOMIC_RELEASE);
  }
  pthread_mutex_unlock(&guard_lock);
  if (i == GUARD_MAX)
    pre_log("more than %d descriptors to keep: descriptor %d is not guarded against the "
            "daemon's close()", GUARD_MAX, fd);
}

void pre_fd_unguard(int fd) {
  if (fd < 0)
    return;
  pthread_mutex_lock(&guard_lock);
  for (int i = 0; i < guard_hi; i++)
    if (__atomic_load_n(&guard[i], __ATOMIC_RELAXED) == fd + 1)
      __atomic_store_n(&guard[i], 0, __ATOMIC_RELEASE);
  pthread_mutex_unlock(&guard_lock);
}

/* async-signal-safe (close() is) */
bool pre_fd_guarded(int fd) {
  int hi = __atomic_load_n(&guard_hi, __ATOMIC_ACQUIRE);
  for (int i = 0; i < hi; i++)
    if (__atomic_load_n(&guard[i], __ATOMIC_ACQUIRE) == fd + 1)
      return true;
  return false;
}

/* The lowest guarded descriptor in [lo, hi], or -1. */
static long next_guarded(unsigned lo, unsigned hi) {
  long best = -1;
  int n = __atomic_load_n(&guard_hi, __ATOMIC_ACQUIRE);
  for (int i = 0; i < n; i++) {
    long fd = (long)__atomic_load_n(&guard[i], __ATOMIC_ACQUIRE) - 1;
    if (fd >= (long)lo && fd <= (long)hi && (best < 0 || fd < best))
      best = fd;
  }
  return best;
}

/* async-signal-safe */
PRE_API int close(int fd) {
  if (pre_fd_guarded(fd))
    return 0; /* the shim's: the daemon no longer sees it, the shim keeps using it */
  close_fn f = __atomic_load_n(&real_close, __ATOMIC_ACQUIRE);
  return f != NULL ? f(fd) : (int)syscall(SYS_close, fd);
}

/* Close [lo, hi] with libc's close_range (or one close() each where the kernel has none). */
static int close_plain(unsigned lo, unsigned hi, int flags) {
  close_range_fn f = __atomic_load_n(&real_close_range, __ATOMIC_ACQUIRE);
  int rc = f != NULL ? f(lo, hi, flags) : (errno = ENOSYS, -1);
  if (rc != 0 && errno == ENOSYS && flags == 0) { /* a kernel before 5.9 */
    struct rlimit rl;
    unsigned top = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < INT_MAX
                       ? (unsigned)rl.rlim_cur : INT_MAX;
    for (unsigned fd = lo; fd <= hi && fd < top; fd++)
      close((int)fd);
    return 0;
  }
  return rc;
}

/* close_range(2) minus the guarded descriptors. CLOSE_RANGE_CLOEXEC only marks them
 * close-on-exec, which the shim's already are: passed through whole. */
PRE_API int close_range(unsigned first, unsigned last, int flags) {
  resolve();
  if (first > last || (flags & CLOSE_RANGE_CLOEXEC) != 0)
    return close_plain(first, last, flags);
  unsigned lo = first;
  for (long g; lo <= last && (g = next_guarded(lo, last)) >= 0; lo = (unsigned)g + 1) {
    if ((unsigned)g > lo && close_plain(lo, (unsigned)g - 1, flags) != 0)
      return -1;
    if ((unsigned)g == last)
      return 0;
  }
  return lo <= last ? close_plain(lo, last, flags) : 0;
}

/* closefrom(3): every descriptor from lowfd up but the guarded ones. */
PRE_API void closefrom(int lowfd) {
  resolve();
  unsigned lo = lowfd < 0 ? 0 : (unsigned)lowfd;
  long g = next_guarded(lo, UINT_MAX);
  while (g >= 0) {
    if ((unsigned)g > lo)
      close_range(lo, (unsigned)g - 1, 0);
    lo = (unsigned)g + 1;
    g = next_guarded(lo, UINT_MAX);
  }
  closefrom_fn f = __atomic_load_n(&real_closefrom, __ATOMIC_ACQUIRE);
  if (f != NULL)
    f((int)lo);
  else
    close_range(lo, UINT_MAX, 0);
}

__attribute__((constructor(101))) static void fds_init(void) { resolve(); }
