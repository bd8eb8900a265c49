/* SPDX-License-Identifier: BSD-3-Clause */
/* b.c - fixture: see a.c. */
#include "hotswap.h"
typedef struct {
  long id;
} live_item;
HOTSWAP_LIVE_TYPE(live_item, id);
