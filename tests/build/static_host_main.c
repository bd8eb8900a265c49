/* SPDX-License-Identifier: BSD-3-Clause */
/* static_host_main.c - test host for `hotswap build --static-linking`: links the alpha and
 * beta fixture plugins (or alpha alone with -DONLY_ALPHA) and runs their lifecycle. */
#include <stdio.h>

#include "hotswap_static.h"

HOTSWAP_STATIC_REQUIRE(alpha);
#ifndef ONLY_ALPHA
HOTSWAP_STATIC_REQUIRE(beta);
#endif

int main(void) {
  char err[HOTSWAP_STATIC_ERR_MAX];
  setvbuf(stdout, NULL, _IONBF, 0);
  int rc = hotswap_static_start("data-from-host", NULL, err);
  if (rc != 0) {
    printf("start failed: %s (%s)\n", err, hotswap_err_name(rc));
    return 1;
  }
  printf("order:");
  for (size_t i = 0; i < hotswap_static_count(); i++)
    printf(" %s", hotswap_static_at(i)->name);
  printf("\n");
  void *ret = NULL;
  rc = hotswap_static_invoke("alpha", "greet", "world", &ret);
  printf("invoke: %d %s\n", rc, ret ? (const char *)ret : "null");
  printf("invoke_each: %d\n", hotswap_static_invoke_each("ping", NULL));
  printf("invoke missing: %s\n", hotswap_err_name(hotswap_static_invoke("nope", "x", 0, 0)));
  int (*twice)(int) = (int (*)(int))hotswap_static_live_func("beta", "live_TWICE");
  printf("live: %d\n", twice ? twice(21) : -1);
  hotswap_static_stop();
  return 0;
}
