/* SPDX-License-Identifier: BSD-3-Clause */
/* trine.h - the interfaces of the trine demo, shared by host.c and its three plugins: what
 * alpha and beta export (the Go seed's demo/trine/plugin/export package) and the vector the
 * host passes to gamma's "pulse", each plugin filling one coordinate. */
#ifndef EXAMPLES_TRINE_H
#define EXAMPLES_TRINE_H

/* The host's value, passed through gamma and beta down to alpha. */
struct trine_vector {
  int x, y, z; /* set by alpha, beta and gamma */
};

/* alpha's export: one() sets v->x. */
struct alpha_export {
  void (*one)(struct trine_vector *v);
};

/* beta's export: two() calls alpha's one(), then sets v->y. */
struct beta_export {
  void (*two)(struct trine_vector *v);
};

#ifndef TRINE_STAMP
#define TRINE_STAMP "dev"
#endif

#endif
