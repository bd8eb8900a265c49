/* SPDX-License-Identifier: BSD-3-Clause */
/* optin_host.c - a host written for hotswap (opt-in API): it does not link the plugin and
 * reaches it only through hotswap_fn(), declared weak so the host also runs without the
 * shim. For each line on stdin it prints "<trampoline address> <handler_version()>". */
#include <stdio.h>

#include "hotswap.h"

#pragma weak hotswap_fn

int main(void) {
  char line[64];
  if (hotswap_fn == NULL) {
    printf("no shim\n");
    return 0;
  }
  printf("missing=%p\n", hotswap_fn("no_such_function"));
  fflush(stdout);
  while (fgets(line, sizeof(line), stdin) != NULL) {
    const char *(*version)(void);
    *(void **)&version = hotswap_fn("handler_version");
    printf("%p %s\n", (void *)version, version ? version() : "(none)");
    fflush(stdout);
  }
  return 0;
}
