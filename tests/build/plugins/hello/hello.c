/* SPDX-License-Identifier: BSD-3-Clause */
/* hello.c - fixture plugin for tests/build: hooks, live functions, a live variable and a live
 * type, spread over several files. */
#include "hotswap.h"

typedef struct {
  int id;
  double amount;
} live_order;
HOTSWAP_LIVE_TYPE(live_order, id, amount);

int live_counter = 3;

int live_add(int a, int b) { return a + b; }

int hotswap_on_load(void *data) {
  (void)data;
  return 0;
}
