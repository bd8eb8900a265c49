/* SPDX-License-Identifier: BSD-3-Clause */
/* host.c - the host of the extension demo: it registers a constructor for its extension
 * object (struct cat_extension) with hotswap_vault_set_extension_newer; the cat plugin
 * sets extension.meow in hotswap_on_init; every heartbeat the host calls the CURRENT
 * extension's meow, so after `reload.sh` its calls reach the new build. The API is
 * declared weak: without the shim the host says how to start it.
 *
 *   host [PERIOD_MS [COUNT]]   (default 1000 ms, forever)
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "extension.h"
#include "hotswap.h"

#pragma weak hotswap_vault_set_extension_newer
#pragma weak hotswap_vault_extension

/* The constructor: a fresh, empty extension for each reload (a single plugin sets it all,
 * so nothing is copied from prev). Freed by the destructor when a reload fails, and once no
 * generation that `hotswap revert` can reach records it (a revert makes the previous
 * generation's extension current again). */
static void *new_extension(const void *prev) {
  (void)prev;
  return calloc(1, sizeof(struct cat_extension));
}

int main(int argc, char **argv) {
  long period_ms = argc > 1 ? atol(argv[1]) : 1000;
  long count = argc > 2 ? atol(argv[2]) : -1;
  char err[256];
  if (hotswap_vault_set_extension_newer == NULL) {
    fprintf(stderr, "host: hotswap is not loaded; start me with examples/extension/run.sh\n");
    return 2;
  }
  if (hotswap_vault_set_extension_newer(new_extension, free, err, sizeof err) != 0) {
    fprintf(stderr, "host: cannot register the extension: %s\n", err);
    return 1;
  }
  struct timespec ts = {period_ms / 1000, (period_ms % 1000) * 1000000L};
  int last_build = 0;
  for (long i = 1; count < 0 || i <= count; i++) {
    /* Read the current extension for each use: an old one may point into unloaded code,
     * or be freed. */
    const struct cat_extension *ext = hotswap_vault_extension();
    if (ext != NULL && ext->build != last_build) {
      printf("host: extension now from cat build %d (was %d)\n", ext->build, last_build);
      last_build = ext->build;
    }
    printf("host: heartbeat %ld\n", i);
    fflush(stdout);
    if (ext != NULL && ext->meow != NULL)
      ext->meow((int)(i % 3) + 1);
    else
      printf("host: no meow in the extension\n");
    fflush(stdout);
    nanosleep(&ts, NULL);
  }
  return 0;
}
