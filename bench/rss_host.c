/* SPDX-License-Identifier: BSD-3-Clause */
/* rss_host.c - the daemon of bench_rss.sh: it only sleeps while the shim reloads its plugin
 * over the control socket. With --extension it first registers a trivial extension
 * constructor and destructor (hotswap_vault_set_extension_newer), so that every reload
 * builds, hands out and later destroys one extension and one vault.
 *
 *   rss_host [--extension] SECONDS
 * Exit status: 0 after SECONDS, 1 when the extension cannot be registered, 2 on a usage
 * error or when the shim is not loaded but --extension asks for it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hotswap.h"

#pragma weak hotswap_vault_set_extension_newer

/* The constructor: one small object per reload, nothing copied from prev. */
static void *new_extension(const void *prev) {
  (void)prev;
  return calloc(1, 64);
}

int main(int argc, char **argv) {
  int i = 1;
  int extension = argc > 1 && strcmp(argv[1], "--extension") == 0;
  i += extension;
  if (argc != i + 1) {
    fprintf(stderr, "usage: rss_host [--extension] SECONDS\n");
    return 2;
  }
  if (extension) {
    char err[256];
    if (hotswap_vault_set_extension_newer == NULL) {
      fprintf(stderr, "rss_host: --extension needs the hotswap shim (LD_PRELOAD)\n");
      return 2;
    }
    if (hotswap_vault_set_extension_newer(new_extension, free, err, sizeof err) != 0) {
      fprintf(stderr, "rss_host: cannot register the extension: %s\n", err);
      return 1;
    }
  }
  /* Sleep against a deadline: retirement's stack check interrupts sleeps with a signal. */
  struct timespec end;
  clock_gettime(CLOCK_MONOTONIC, &end);
  end.tv_sec += atol(argv[i]);
  while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &end, NULL) != 0)
    ;
  return 0;
}
