/* SPDX-License-Identifier: BSD-3-Clause */
/* shim_rules.h - forced on every C file of loader/ and preload/ (-include, see their
 * module.mk): the shim runs inside someone else's daemon, so nothing there may end the
 * process or write to its stdout. After this header, any use of these names is a compile
 * error, as libpulp does with `#pragma GCC poison`. A fatal problem disables reloads, logs
 * once through preload/log.c, and the daemon keeps serving. */
#ifndef HOTSWAP_COMMON_SHIM_RULES_H
#define HOTSWAP_COMMON_SHIM_RULES_H

/* Declare everything these names live in first, so the system headers themselves still
 * compile when a source includes them after this file (their include guards skip them).
 * Every shim source wants the GNU feature set; it must be chosen before the first header. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#undef stdout
#pragma GCC poison exit _exit _Exit abort quick_exit assert
#pragma GCC poison stdout printf vprintf puts putchar

#endif
