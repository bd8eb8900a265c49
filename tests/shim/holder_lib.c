/* SPDX-License-Identifier: BSD-3-Clause */
/* holder_lib.c - the plugin of test_holders.sh, built twice (HOLDER_V 1 and 2) as
 * libholder.so. Each call hands out a pointer into the build that ran it: a string literal
 * (.rodata), a static function (.text), a static variable (.data). */
#include "tests/shim/holder.h"

#ifndef HOLDER_V
#define HOLDER_V 1
#endif
#define STR_(x) #x
#define STR(x) STR_(x)

static int counter = 40 + HOLDER_V; /* .data */

static int twice(int x) { return 2 * x; }

const char *holder_name(void) { return "holder v" STR(HOLDER_V); }
int (*holder_callback(void))(int) { return twice; }
int *holder_counter(void) { return &counter; }
