/* SPDX-License-Identifier: BSD-3-Clause */
/* a.c - fixture: the live type 'live_item' with an int id; b.c declares it with a long one. */
#include "hotswap.h"
typedef struct {
  int id;
} live_item;
HOTSWAP_LIVE_TYPE(live_item, id);
