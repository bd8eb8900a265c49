/* SPDX-License-Identifier: BSD-3-Clause */
/* bench_state_plugin.c - a plugin with STATE_KIB KiB of writable state in one static array,
 * for bench_state: bench_touch_<KIB>() changes it, so a reload carries all of it. Two builds per
 * size differ only in BENCH_BUILD (another build-id). */
#include <string.h>

#ifndef STATE_KIB
#define STATE_KIB 1
#endif
#ifndef BENCH_BUILD
#define BENCH_BUILD 1
#endif

static unsigned char state[STATE_KIB * 1024];
const int bench_build = BENCH_BUILD; /* the two builds differ in this */
#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)
#define TOUCH CAT(bench_touch_, STATE_KIB) /* one name per plugin: they share a process */

void TOUCH(long x);
void TOUCH(long x) {
  for (size_t i = 0; i < sizeof(state); i += 64)
    state[i] = (unsigned char)(x + (long)i);
}

#define PEEK CAT(bench_peek_, STATE_KIB)
long PEEK(void);
long PEEK(void) { return state[0]; } /* a reader, so that the compiler keeps the array */
