/* SPDX-License-Identifier: BSD-3-Clause */
/* module.c - libmodule.so, a module the legacy server dlopen()s at run time (-m PATH). It
 * calls libhandler.so through its own PLT, so the shim must retrofit objects loaded after
 * start-up too. */
#include <stddef.h>

#include "handler.h"

int module_hello(char *out, size_t n, const char *name);
int module_hello(char *out, size_t n, const char *name) { return handle_hello(out, n, name); }
