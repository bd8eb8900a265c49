/* SPDX-License-Identifier: BSD-3-Clause */
/* handler.h - the interface of libhandler.so, the request handlers of the legacy server.
 * Nothing here knows about hotswap: this is what an existing server looks like. */
#ifndef LEGACY_HANDLER_H
#define LEGACY_HANDLER_H

#include <stddef.h>

struct handler_pair { /* returned in registers (RAX:RDX) */
  long quotient;
  long remainder;
};

struct handler_stats { /* returned through the hidden pointer */
  char version[16];
  long requests;
  double load[4];
};

const char *handler_version(void);
int handle_hello(char *out, size_t n, const char *name);
long handle_add(long a, long b);
double handle_avg(const double *v, size_t n);
struct handler_pair handle_div(long a, long b);
struct handler_stats handle_stats(void);
int handler_format(char *out, size_t n, const char *fmt, ...) /* variadic */
    __attribute__((format(printf, 3, 4)));
/* Open the FIFO `fifo` and read it to its end (blocks until a writer comes and goes): a
 * thread parked inside this library, for the retirement tests. Writes "unblocked (vN)". */
int handle_block(char *out, size_t n, const char *fifo);

#endif
