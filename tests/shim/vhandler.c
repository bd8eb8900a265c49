/* SPDX-License-Identifier: BSD-3-Clause */
/* vhandler.c - libhandler.so with symbol versions, for the dlvsym tests: every function of
 * the legacy handler at version HANDLER_2 (the default, handler_version@@HANDLER_2), plus an
 * older handler_version@HANDLER_1 kept for old callers, which answers "compat". A dlvsym of
 * HANDLER_2 must follow reloads; one of HANDLER_1 is another function and must not. */
#include "examples/legacy-server/handler.c"

const char *handler_version_compat(void);
const char *handler_version_compat(void) { return "compat"; }
__asm__(".symver handler_version_compat, handler_version@HANDLER_1");
