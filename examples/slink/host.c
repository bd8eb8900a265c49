/* SPDX-License-Identifier: BSD-3-Clause */
/* host.c - the host of the slink demo, compiled two ways. By default (dynamic) it runs under
 * the shim and calls the CURRENT dog plugin's live function live_Woof every heartbeat, so
 * after `reload.sh` its calls reach the new build. With -DSLINK_STATIC it is linked with
 * libdog.a and libhotswap_static.a for debugging (gdb, valgrind, sanitizers): the same
 * lifecycle runs through hotswap_static_start, and a reload request (SIGHUP) is refused.
 *
 *   host [PERIOD_MS [COUNT]]   (default 1000 ms, forever)
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "hotswap.h"
#ifdef SLINK_STATIC
#include "hotswap_static.h"

HOTSWAP_STATIC_REQUIRE(dog);

/* Set by the SIGHUP handler: no shim is loaded in static mode, so the signal is the host's. */
static volatile sig_atomic_t reload_requested;

static void on_hup(int sig) {
  (void)sig;
  reload_requested = 1;
}

/* Start the linked plugins and take SIGHUP. Returns 0, or 1 after printing why not. */
static int slink_start(void) {
  char err[HOTSWAP_STATIC_ERR_MAX];
  int rc = hotswap_static_start(NULL, NULL, err);
  if (rc != 0) {
    fprintf(stderr, "slink: cannot start the static plugins: %s (%s)\n", err, hotswap_err_name(rc));
    return 1;
  }
  struct sigaction sa = {.sa_handler = on_hup};
  sigemptyset(&sa.sa_mask);
  sigaction(SIGHUP, &sa, NULL);
  printf("slink: dog linked statically for debugging (commit %.7s); reloads are disabled\n",
         hotswap_static_find("dog")->commit);
  return 0;
}

/* The dog's live_Woof; refuses a pending reload request first, with the reason. */
static void (*slink_woof(void))(int) {
  if (reload_requested) {
    reload_requested = 0;
    printf("slink: linked statically for debugging: reloads are disabled "
           "(run.sh --dynamic to reload)\n");
  }
  return (void (*)(int))hotswap_static_live_func("dog", "live_Woof");
}
#else
#pragma weak hotswap_live_fn

static int slink_start(void) {
  if (hotswap_live_fn == NULL) {
    fprintf(stderr, "host: hotswap is not loaded; start me with examples/slink/run.sh\n");
    return 2;
  }
  printf("slink: dog linked dynamically; reload.sh reloads it\n");
  return 0;
}

/* The CURRENT version's live_Woof: looked up for each call, since reloads replace it. */
static void (*slink_woof(void))(int) { return (void (*)(int))hotswap_live_fn("live_Woof"); }
#endif

int main(int argc, char **argv) {
  long period_ms = argc > 1 ? atol(argv[1]) : 1000;
  long count = argc > 2 ? atol(argv[2]) : -1;
  int rc = slink_start();
  if (rc != 0)
    return rc;
  struct timespec ts = {period_ms / 1000, (period_ms % 1000) * 1000000L};
  for (long i = 1; count < 0 || i <= count; i++) {
    printf("host: heartbeat %ld\n", i);
    fflush(stdout);
    void (*woof)(int) = slink_woof();
    if (woof != NULL)
      woof((int)(i % 3) + 1);
    else
      printf("host: the dog plugin has no live function live_Woof\n");
    fflush(stdout);
    nanosleep(&ts, NULL);
  }
#ifdef SLINK_STATIC
  hotswap_static_stop();
#endif
  return 0;
}
