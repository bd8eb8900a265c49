/* SPDX-License-Identifier: BSD-3-Clause */
/* holder_host.c - a host for test_holders.sh that knows nothing of hotswap and keeps
 * pointers a plugin handed out, the way legacy servers do: a string it returned, one of its
 * static functions, one of its variables; each in a malloc'd struct, in a global of its own,
 * and in a static of another library (libkeep.so). One command per line of stdin, one
 * answer line on stdout:
 *   keep  take the three pointers from the build serving now; "kept <name>"
 *   use   use every kept pointer; "<name> <name> <name> cb=<n> counter=<n> <n> <n>"
 *   drop  forget them (cleared, then freed); "dropped"
 *   name  holder_name() now
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/shim/holder.h"


struct conn {
  const char *name;
  int (*cb)(int);
  int *counter;
};

static struct conn *heap_conn; /* the struct is on the heap */
struct conn global_conn;       /* a global of the host */

static void keep(void) {
  heap_conn = malloc(sizeof(*heap_conn));
  if (heap_conn == NULL)
    exit(1);
  heap_conn->name = holder_name();
  heap_conn->cb = holder_callback();
  heap_conn->counter = holder_counter();
  global_conn = *heap_conn;
  keep_set(0, holder_name());
  keep_set(1, (const void *)holder_callback());
  keep_set(2, holder_counter());
  printf("kept %s\n", heap_conn->name);
}

static void use(void) {
  int (*cb)(int) = (int (*)(int))keep_get(1);
  const int *c = keep_get(2);
  printf("%s %s %s cb=%d counter=%d %d %d\n", heap_conn->name, global_conn.name,
         (const char *)keep_get(0), heap_conn->cb(21) + global_conn.cb(0) + cb(0),
         *heap_conn->counter, *global_conn.counter, *c);
}

static void drop(void) {
  memset(heap_conn, 0, sizeof(*heap_conn));
  free(heap_conn);
  heap_conn = NULL;
  memset(&global_conn, 0, sizeof(global_conn));
  for (size_t i = 0; i < 3; i++)
    keep_set(i, NULL);
  printf("dropped\n");
}

int main(void) {
  char line[64];
  setvbuf(stdout, NULL, _IOLBF, 0);
  while (fgets(line, sizeof(line), stdin) != NULL) {
    line[strcspn(line, "\n")] = '\0';
    if (strcmp(line, "keep") == 0)
      keep();
    else if (strcmp(line, "use") == 0 && heap_conn != NULL)
      use();
    else if (strcmp(line, "drop") == 0 && heap_conn != NULL)
      drop();
    else if (strcmp(line, "name") == 0)
      printf("%s\n", holder_name());
    else
      printf("? %s\n", line);
  }
  return 0;
}
