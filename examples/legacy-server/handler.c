/* handler.c - libhandler.so. Built three times by the Makefile: -DHANDLER_VERSION=1 and 2
 * (two good builds), and 3 with -DHANDLER_BROKEN, which drops handle_stats: the shim must
 * refuse it and keep the running version serving. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "handler.h"

#ifndef HANDLER_VERSION
#define HANDLER_VERSION 1
#endif
#define STR_(x) #x
#define STR(x) STR_(x)
#define VERSION "v" STR(HANDLER_VERSION)

static long served; /* per version: a new version starts counting from zero */

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
  return a + b;
}

double handle_avg(const double *v, size_t n) {
  double sum = 0;
  for (size_t i = 0; i < n; i++)
    sum += v[i];
  return n ? sum / (double)n : 0.0;
}

struct handler_pair handle_div(long a, long b) {
  struct handler_pair p = {0, 0};
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

#ifdef HANDLER_ONLOAD_FAIL
/* Build 5 only: a plugin whose start-up fails. The shim must keep the old version. */
int hotswap_on_load(void *data);
int hotswap_on_load(void *data) {
  (void)data;
  return -5;
}
#endif
