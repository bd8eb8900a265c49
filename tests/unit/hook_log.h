/* SPDX-License-Identifier: BSD-3-Clause */
/* hook_log.h - the hook log the fixture plugins write through fx_log (tests/plugins), for
 * the loader tests that load them (test_adopt.c, test_lifecycle.c, test_vault.c). It
 * defines fx_log, which the fixtures call: include it in exactly one file per program. */
#ifndef HOTSWAP_TESTS_HOOK_LOG_H
#define HOTSWAP_TESTS_HOOK_LOG_H

#include <stdio.h>
#include <string.h>

/* "plugin@version:event " for every hook call, in order; tests empty it with hook_log[0] = 0. */
static char hook_log[16384];

void fx_log(const char *plugin, int version, const char *event);
void fx_log(const char *plugin, int version, const char *event) {
  size_t len = strlen(hook_log);
  snprintf(hook_log + len, sizeof(hook_log) - len, "%s@%d:%s ", plugin, version, event);
}

/* How many times `what` occurs in the hook log. */
static inline int count_in_log(const char *what) {
  int n = 0;
  for (const char *p = hook_log; (p = strstr(p, what)) != NULL; p += strlen(what))
    n++;
  return n;
}

#endif /* HOTSWAP_TESTS_HOOK_LOG_H */
