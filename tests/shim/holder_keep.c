/* SPDX-License-Identifier: BSD-3-Clause */
/* holder_keep.c - libkeep.so for test_holders.sh: another library whose static array the
 * host stores plugin pointers in (a holder "in a static of another library"). */
#include "tests/shim/holder.h"

static const void *slots[3];

void keep_set(size_t i, const void *p) { slots[i] = p; }
const void *keep_get(size_t i) { return slots[i]; }
