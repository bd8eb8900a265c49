/* SPDX-License-Identifier: BSD-3-Clause */
/* host.c - the host of the trine demo: three plugins, gamma imports beta imports alpha; the
 * host calls hotswap_invoke("gamma", "pulse", &vector) every heartbeat, which runs through
 * beta down to alpha, and prints the vector the three filled. After `reload.sh` (all three
 * rebuilt with one new stamp) every line comes from the new build. The API is declared
 * weak: without the shim the host says how to start it.
 *
 *   host [PERIOD_MS [COUNT]]   (default 1000 ms, forever)
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "hotswap.h"
#include "trine.h"

#pragma weak hotswap_invoke
#pragma weak hotswap_strerror

int main(int argc, char **argv) {
  long period_ms = argc > 1 ? atol(argv[1]) : 1000;
  long count = argc > 2 ? atol(argv[2]) : -1;
  if (hotswap_invoke == NULL) {
    fprintf(stderr, "host: hotswap is not loaded; start me with examples/trine/run.sh\n");
    return 2;
  }
  struct timespec ts = {period_ms / 1000, (period_ms % 1000) * 1000000L};
  for (long i = 1; count < 0 || i <= count; i++) {
    struct trine_vector v = {0, 0, 0};
    printf("host: heartbeat %ld\n", i);
    fflush(stdout);
    int rc = hotswap_invoke("gamma", "pulse", &v, NULL);
    if (rc != 0)
      printf("host: gamma pulse failed: %s\n", hotswap_strerror(rc));
    else
      printf("host: pulse -> (%d, %d, %d)\n", v.x, v.y, v.z);
    fflush(stdout);
    nanosleep(&ts, NULL);
  }
  return 0;
}
