/* SPDX-License-Identifier: BSD-3-Clause */
/* dog.c - the plugin of the slink demo: every lifecycle hook says when it runs, and its live
 * function live_Woof is what the host calls every heartbeat. DOG_BUILD (set by run.sh and
 * reload.sh through `hotswap build ... -- -DDOG_BUILD=N`) tells the builds apart; the same
 * source is built as dog.so (dynamic, reloadable) or libdog.a (--static-linking). */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "hotswap.h"

#ifndef DOG_BUILD
#define DOG_BUILD 1
#endif

static void say(const char *what) {
  printf("[dog build %d] %s\n", DOG_BUILD, what);
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

/* The live function the host looks up by name every heartbeat (the Go seed's live_Woof).
 * times: how many woofs, 1..3. Thread-safety: any thread. */
void live_Woof(int times);
void live_Woof(int times) {
  char woofs[32] = "";
  for (int i = 0; i < times && i < 5; i++)
    strcat(woofs, i ? " woof" : "woof");
  printf("[dog build %d] live_Woof x%d: %s\n", DOG_BUILD, times, woofs);
  fflush(stdout);
}
