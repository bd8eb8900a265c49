/* SPDX-License-Identifier: BSD-3-Clause */
/* hello.c - the plugin of the hello demo: every lifecycle hook says when it runs, and its
 * hotswap_invoke_func answers "greet". HELLO_BUILD (set by run.sh and reload.sh through
 * `hotswap build ... -- -DHELLO_BUILD=N`) tells the builds apart in the output. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "hotswap.h"

#ifndef HELLO_BUILD
#define HELLO_BUILD 1
#endif

static void say(const char *what) {
  printf("[hello build %d] %s\n", HELLO_BUILD, what);
  fflush(stdout);
}

bool hotswap_reloadable(void) {
  say("hotswap_reloadable");
  return true;
}

int hotswap_on_load(void *data) {
  (void)data;
  say("hotswap_on_load");
  return 0;
}

int hotswap_on_init(struct hotswap_vault *vault) {
  (void)vault;
  say("hotswap_on_init");
  return 0;
}

void hotswap_on_free(void) { say("hotswap_on_free"); }

int hotswap_invoke_func(const char *fn, void *arg, void **ret) {
  (void)ret;
  if (strcmp(fn, "greet") != 0)
    return -ENOSYS;
  printf("[hello build %d] Hello, %s!\n", HELLO_BUILD, arg != NULL ? (const char *)arg : "world");
  fflush(stdout);
  return 0;
}
