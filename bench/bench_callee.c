/* SPDX-License-Identifier: BSD-3-Clause */
/* bench_callee.c - the shared library that bench_call.c calls through the PLT and through
 * a trampoline: one small function that does a little arithmetic so no call is elided. */
int bench_callee(unsigned x);

__attribute__((visibility("default"))) int bench_callee(unsigned x) {
  return (int)(x * 2654435761u >> 7) + 1;
}
