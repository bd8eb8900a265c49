/* SPDX-License-Identifier: BSD-3-Clause */
/* handler.c - libhandler.so. Built several times by the Makefile: -DHANDLER_VERSION=1 and 2
 * (two good builds), 3 with -DHANDLER_BROKEN, which drops handle_stats: the shim must
 * refuse it and keep the running version serving; 5 whose on_load fails, 7 whose on_load
 * waits for a file (HANDLER_HOLD); 8 (HANDLER_CRASH) passes every check and crashes the
 * daemon on one route: /div/A/0 reads through a bad pointer, /add/666/666 calls abort().
 * HANDLER_FAULT="<where>:<how>" builds break at load (tests/shim/faults.tsv): where is ctor,
 * on_load or on_init; how is segv, abort, exit (exit(3)) or hang.
 * In the shim's trial copy of the daemon (HOTSWAP_TRIAL=1 in its environment) the fixture
 * writes no event and does not hold: as a plugin with side effects should. */
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "handler.h"

#ifndef HANDLER_VERSION
#define HANDLER_VERSION 1
#endif
#define STR_(x) #x
#define STR(x) STR_(x)
#define VERSION "v" STR(HANDLER_VERSION)

static long served; /* a static: the shim carries it into each new version (HOTSWAP_STATE) */

const char *handler_version(void) { return VERSION; }

int handler_format(char *out, size_t n, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int len = vsnprintf(out, n, fmt, ap);
  va_end(ap);
  return len;
}

int handle_hello(char *out, size_t n, const char *name) {
  __atomic_add_fetch(&served, 1, __ATOMIC_RELAXED);
#if HANDLER_VERSION == 1
  return handler_format(out, n, "hello, %s (%s)", name, handler_version());
#else
  return handler_format(out, n, "hi there, %s! (%s)", name, handler_version());
#endif
}

long handle_add(long a, long b) {
  __atomic_add_fetch(&served, 1, __ATOMIC_RELAXED);
#ifdef HANDLER_CRASH
  if (a == 666 && b == 666)
    abort(); /* a failed internal check, as assert() would */
#endif
  return a + b;
}

double handle_avg(const double *v, size_t n) {
  double sum = 0;
  for (size_t i = 0; i < n; i++)
    sum += v[i];
  return n ? sum / (double)n : 0.0;
}

#ifdef HANDLER_CRASH
/* The bug: a lookup that returns NULL for a divisor of zero, used without a check. */
static const long *divisor_entry(long b) {
  static const long table[] = {1, 2, 3};
  return b == 0 ? NULL : &table[0];
}
#endif

struct handler_pair handle_div(long a, long b) {
  struct handler_pair p = {0, 0};
#ifdef HANDLER_CRASH
  if (b == 0)
    p.quotient = *(volatile const long *)divisor_entry(b); /* SIGSEGV, address 0x0 */
#endif
  if (b != 0) {
    p.quotient = a / b;
    p.remainder = a % b;
  }
  return p;
}

#ifndef HANDLER_BROKEN
struct handler_stats handle_stats(void) {
  struct handler_stats s;
  memset(&s, 0, sizeof(s));
  snprintf(s.version, sizeof(s.version), "%s", VERSION);
  s.requests = __atomic_load_n(&served, __ATOMIC_RELAXED);
  for (int i = 0; i < 4; i++)
    s.load[i] = 0.25 * (i + 1) * HANDLER_VERSION;
  return s;
}
#endif

int handle_block(char *out, size_t n, const char *fifo) {
  int fd = open(fifo, O_RDONLY | O_CLOEXEC); /* blocks until the test opens it to write */
  if (fd < 0)
    return snprintf(out, n, "cannot open %s (%s)", fifo, VERSION);
  char buf[256];
  while (read(fd, buf, sizeof(buf)) > 0)
    ;
  close(fd);
  return snprintf(out, n, "unblocked (%s)", VERSION);
}

/* Test fixture: when HANDLER_EVENTS names a file, each copy of this library mapped into
 * the process appends "load <tag>" and its hotswap_on_free "free <tag>", so a test can
 * count on_free calls per loaded copy. */
static char tag[64];

static void event(const char *what) {
  const char *path = getenv("HOTSWAP_TRIAL") == NULL ? getenv("HANDLER_EVENTS") : NULL;
  int fd = path != NULL ? open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600) : -1;
  if (fd < 0)
    return;
  char line[96];
  int len = snprintf(line, sizeof(line), "%s %s\n", what, tag);
  if (write(fd, line, (size_t)len) < 0) { /* a test fixture: nothing to do about it */
  }
  close(fd);
}

__attribute__((constructor)) static void handler_loaded(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  snprintf(tag, sizeof(tag), "%s-%lld.%09ld", VERSION, (long long)ts.tv_sec, ts.tv_nsec);
  event("load");
}

void hotswap_on_free(void);
void hotswap_on_free(void) { event("free"); }

#ifdef HANDLER_HOLD
/* Build 7 only: hotswap_on_load creates "$HANDLER_HOLD.waiting", then waits (at most two
 * minutes) until the file $HANDLER_HOLD exists: a test holds a reload in progress this way,
 * to send signals during it. */
int hotswap_on_load(void *data);
int hotswap_on_load(void *data) {
  (void)data;
  const char *hold = getenv("HANDLER_HOLD");
  if (hold == NULL || getenv("HOTSWAP_TRIAL") != NULL)
    return 0;
  char waiting[4096];
  snprintf(waiting, sizeof(waiting), "%s.waiting", hold);
  int fd = open(waiting, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
  if (fd >= 0)
    close(fd);
  for (int i = 0; i < 12000 && access(hold, F_OK) != 0; i++) {
    struct timespec ts = {0, 10000000};
    nanosleep(&ts, NULL);
  }
  return 0;
}
#endif

#ifdef HANDLER_ONLOAD_FAIL
/* Build 5 only: a plugin whose start-up fails. The shim must keep the old version. */
int hotswap_on_load(void *data);
int hotswap_on_load(void *data) {
  (void)data;
  return -5;
}
#endif

#ifdef HANDLER_FAULT
/* Break here when this build's HANDLER_FAULT names `where`. */
static void fault_at(const char *where) {
  const char *f = HANDLER_FAULT;
  size_t n = strlen(where);
  if (strncmp(f, where, n) != 0 || f[n] != ':')
    return;
  const char *how = f + n + 1;
  if (strcmp(how, "segv") == 0)
    *(volatile int *)(uintptr_t)0 = 1;
  else if (strcmp(how, "abort") == 0)
    abort();
  else if (strcmp(how, "exit") == 0)
    exit(3);
  else if (strcmp(how, "hang") == 0)
    for (;;)
      pause();
}

__attribute__((constructor)) static void fault_ctor(void) { fault_at("ctor"); }

int hotswap_on_load(void *data);
int hotswap_on_load(void *data) {
  (void)data;
  fault_at("on_load");
  return 0;
}

struct hotswap_vault;
int hotswap_on_init(struct hotswap_vault *vault);
int hotswap_on_init(struct hotswap_vault *vault) {
  (void)vault;
  fault_at("on_init");
  return 0;
}
#endif
