/* SPDX-License-Identifier: BSD-3-Clause */
/* holder.h - the API of test_holders.sh's plugin (libholder.so) and of libkeep.so. */
#ifndef HOLDER_H
#define HOLDER_H
#include <stddef.h>

const char *holder_name(void);
int (*holder_callback(void))(int);
int *holder_counter(void);

void keep_set(size_t i, const void *p);
const void *keep_get(size_t i);
#endif
