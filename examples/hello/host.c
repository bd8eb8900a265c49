/* SPDX-License-Identifier: BSD-3-Clause */
/* host.c - the host of the hello demo: it does not link its plugin; the shim loads it at
 * start-up (HOTSWAP_PLUGINS) and the host calls hotswap_invoke_each("greet") once a period,
 * so that after `reload.sh` the greeting comes from the new build. The API is declared
 * weak: without the shim the host says how to start it.
 *
 *   host [PERIOD_MS [COUNT]]   (default 1000 ms, forever)
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "hotswap.h"

#pragma weak hotswap_invoke_each

int main(int argc, char **argv) {
  long period_ms = argc > 1 ? atol(argv[1]) : 1000;
  long count = argc > 2 ? atol(argv[2]) : -1;
  if (hotswap_invoke_each == NULL) {
    fprintf(stderr, "host: hotswap is not loaded; start me with examples/hello/run.sh\n");
    return 2;
  }
  struct timespec ts = {period_ms / 1000, (period_ms % 1000) * 1000000L};
  for (long i = 1; count < 0 || i <= count; i++) {
    struct hotswap_invoke_errors errors;
    printf("host: tick %ld\n", i);
    fflush(stdout);
    if (hotswap_invoke_each("greet", "world", &errors) != 0) {
      printf("host: invoke_each: %s\n", errors.message);
      fflush(stdout);
    }
    nanosleep(&ts, NULL);
  }
  return 0;
}
