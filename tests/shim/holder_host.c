/* SPDX-License-Identifier: BSD-3-Clause */
/* holder_host.c - a host for test_holders.sh that knows nothing of hotswap and keeps
 * pointers a plugin handed out, the way legacy servers do: a string it returned, one of its
 * static functions, one of its variables; each in a malloc'd struct, in a global of its own,
 * and in a static of another library (libkeep.so). One command per line of stdin, one
 * answer line on stdout:
 *   keep  take the three pointers from the build serving now; "kept <name>"
 *   use   use every kept pointer; "<name> <name> <name> cb=<n> counter=<n> <n> <n>"
 *   drop  forget them (cleared, then freed); "dropped"
 *   tkeep a thread of the host copies what keep took into a block of its own malloc arena;
 *         "tkept <name>"
 *   tdrop forget those (cleared, then freed); "tdropped"
 *   stale the same pointers left in blocks freed without clearing: a 192-byte one (tcache;
 *         past the fast bins' sizes, which the scan does not tell from used blocks), a 2 KiB
 *         one (a bin; a block after it stays allocated), both in the main heap and in a
 *         thread's arena; "stale <name>"
 *   name  holder_name() now
 */
#include <pthread.h>
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

/* The commands are not inlined into main(): a pointer they handle would otherwise sit in
 * a spill slot of main's frame, live as far as any scan can tell, while main waits for the
 * next command. */
__attribute__((noinline)) static void keep(void) {
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

__attribute__((noinline)) static void use(void) {
  int (*cb)(int) = (int (*)(int))keep_get(1);
  const int *c = keep_get(2);
  printf("%s %s %s cb=%d counter=%d %d %d\n", heap_conn->name, global_conn.name,
         (const char *)keep_get(0), heap_conn->cb(21) + global_conn.cb(0) + cb(0),
         *heap_conn->counter, *global_conn.counter, *c);
}

__attribute__((noinline)) static void drop(void) {
  memset(heap_conn, 0, sizeof(*heap_conn));
  free(heap_conn);
  heap_conn = NULL;
  memset(&global_conn, 0, sizeof(global_conn));
  for (size_t i = 0; i < 3; i++)
    keep_set(i, NULL);
  printf("dropped\n");
}

/* Each thread of a process gets a malloc arena of its own (up to 8 per core): a block a
 * thread allocates lives in its arena's heap, not in the main (brk) heap. */
static struct conn *thread_conn;
static void *guards[2];

static void fill(struct conn *c, size_t n) {
  for (size_t i = 0; i < n; i++)
    c[i] = (struct conn){holder_name(), holder_callback(), holder_counter()};
}

/* Pointers left in freed blocks: one of tcache's sizes (the thread's tcache goes to a bin
 * when it exits), one too big for tcache (with a block after it kept, so that it is not
 * merged into the top chunk). */
static void leave_stale(size_t guard) {
  struct conn *small = malloc(192);
  struct conn *big = malloc(2048);
  guards[guard] = malloc(64);
  if (small == NULL || big == NULL || guards[guard] == NULL)
    exit(1);
  fill(small, 192 / sizeof(*small));
  fill(big, 2048 / sizeof(*big));
  free(small);
  free(big);
}

static void *in_thread(void *what) {
  if (strcmp(what, "tkeep") == 0) {
    thread_conn = malloc(sizeof(*thread_conn));
    if (thread_conn == NULL)
      exit(1);
    *thread_conn = *heap_conn;
  } else if (strcmp(what, "tdrop") == 0) {
    memset(thread_conn, 0, sizeof(*thread_conn));
    free(thread_conn);
    thread_conn = NULL;
  } else {
    leave_stale(1);
  }
  return NULL;
}

/* Run one of in_thread's jobs in a new thread, which gets an arena of its own. */
static void on_thread(const char *what) {
  pthread_t t;
  if (pthread_create(&t, NULL, in_thread, (void *)what) != 0 || pthread_join(t, NULL) != 0)
    exit(1);
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
    else if (strcmp(line, "tkeep") == 0 && heap_conn != NULL && thread_conn == NULL) {
      on_thread("tkeep");
      printf("tkept %s\n", thread_conn->name);
    } else if (strcmp(line, "tdrop") == 0 && thread_conn != NULL) {
      on_thread("tdrop");
      printf("tdropped\n");
    } else if (strcmp(line, "stale") == 0) {
      leave_stale(0);
      on_thread("stale");
      printf("stale %s\n", holder_name());
    } else if (strcmp(line, "name") == 0)
      printf("%s\n", holder_name());
    else
      printf("? %s\n", line);
  }
  return 0;
}
