/* SPDX-License-Identifier: BSD-3-Clause */
/* cat.c - the plugin of the extension demo: its hotswap_on_init points the host's extension
 * object (struct cat_extension, built by the host's constructor for every reload) at this
 * build's meow(). CAT_BUILD (set by run.sh / reload.sh through `hotswap build -- -D...`)
 * tells the builds apart in the output. */
#include <stdio.h>

#include "extension.h"
#include "hotswap.h"

#ifndef CAT_BUILD
#define CAT_BUILD 1
#endif

/* What the host calls every heartbeat, through the extension. */
static void meow(int times) {
  printf("[cat build %d] meow x%d:", CAT_BUILD, times);
  for (int i = 0; i < times; i++)
    printf(" meow");
  printf("\n");
  fflush(stdout);
}

/* Fill this reload's extension. Runs twice at start-up (once before the host registered
 * its constructor, with no extension), so a NULL extension is not an error. */
int hotswap_on_init(struct hotswap_vault *vault) {
  struct cat_extension *ext = vault->extension;
  printf("[cat build %d] hotswap_on_init: %s\n", CAT_BUILD,
         ext != NULL ? "extension.meow set" : "no extension yet");
  fflush(stdout);
  if (ext != NULL) {
    ext->meow = meow;
    ext->build = CAT_BUILD;
  }
  return 0;
}
