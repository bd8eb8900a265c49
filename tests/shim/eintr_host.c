/* SPDX-License-Identifier: BSD-3-Clause */
/* eintr_host.c - a legacy daemon that has never seen EINTR, for test_eintr.sh: linked against
 * libhandler.so (the legacy example's build), it installs NO signal handler and runs one thread
 * per blocking call such daemons make - poll(-1), epoll_wait(-1), nanosleep, accept, read on a
 * pipe - each counting the EINTRs it sees and blocking again. Nothing ever wakes those threads:
 * only a signal can. It answers one command per line of stdin with one line on stdout:
 *
 *   eintr       "poll=N epoll=N nanosleep=N accept=N read=N other=N total=N" (other: any
 *               other error a blocking call returned)
 *   tids        "poll=TID epoll=TID nanosleep=TID accept=TID read=TID"
 *   version     handler_version(), through the PLT (a trampoline under the shim)
 *   block FIFO  start a thread that calls handle_block(FIFO): it parks inside the handler's
 *               code, in open() until a writer opens FIFO, then in read() until it closes it;
 *               answers that thread's TID
 *   blocked     "parked" while that thread is inside handle_block, then its reply
 *
 * It exits at the end of input.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "examples/legacy-server/handler.h"

enum { K_POLL, K_EPOLL, K_NANOSLEEP, K_ACCEPT, K_READ, K_N };
static const char *const kind_name[K_N] = {"poll", "epoll", "nanosleep", "accept", "read"};

static int eintrs[K_N], others, tids[K_N];
static int idle_pipe[2]; /* never written: poll, epoll and read block on its read end */
static int listener = -1;

/* Block once in the call of kind k. Returns what it returned (errno set). */
static int block_once(int k, int epfd) {
  struct pollfd p = {.fd = idle_pipe[0], .events = POLLIN};
  struct epoll_event ev;
  struct timespec ts = {3600, 0};
  char c;
  switch (k) {
  case K_POLL:
    return poll(&p, 1, -1);
  case K_EPOLL:
    return epoll_wait(epfd, &ev, 1, -1);
  case K_NANOSLEEP:
    return nanosleep(&ts, NULL);
  case K_ACCEPT:
    return accept(listener, NULL, NULL);
  default:
    return (int)read(idle_pipe[0], &c, 1);
  }
}

/* One blocking thread: arg is its kind. Counts EINTR (and any other error) and blocks again. */
static void *blocker(void *arg) {
  int k = (int)(intptr_t)arg;
  int epfd = -1;
  if (k == K_EPOLL) {
    struct epoll_event ev = {.events = EPOLLIN};
    epfd = epoll_create1(EPOLL_CLOEXEC);
    if (epfd < 0 || epoll_ctl(epfd, EPOLL_CTL_ADD, idle_pipe[0], &ev) != 0)
      __atomic_add_fetch(&others, 1, __ATOMIC_RELAXED);
  }
  __atomic_store_n(&tids[k], gettid(), __ATOMIC_RELEASE);
  for (;;) {
    int r = block_once(k, epfd);
    if (r < 0 && errno == EINTR)
      __atomic_add_fetch(&eintrs[k], 1, __ATOMIC_RELAXED);
    else if (r < 0)
      __atomic_add_fetch(&others, 1, __ATOMIC_RELAXED);
  }
  return NULL;
}

static int start_blockers(void) {
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  if (pipe2(idle_pipe, O_CLOEXEC) != 0)
    return -1;
  listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listener < 0 || bind(listener, (struct sockaddr *)&a, sizeof(a)) != 0 ||
      listen(listener, 1) != 0)
    return -1;
  for (int k = 0; k < K_N; k++) {
    pthread_t t;
    if (pthread_create(&t, NULL, blocker, (void *)(intptr_t)k) != 0)
      return -1;
  }
  return 0;
}

/* The thread parked in handle_block, and its reply. */
static char block_fifo[512], block_reply[256];
static int block_tid, block_done;

static void *block_main(void *arg) {
  (void)arg;
  char out[256];
  __atomic_store_n(&block_tid, gettid(), __ATOMIC_RELEASE);
  handle_block(out, sizeof(out), block_fifo);
  memcpy(block_reply, out, sizeof(out));
  __atomic_store_n(&block_done, 1, __ATOMIC_RELEASE);
  return NULL;
}

/* Start the handle_block thread; returns its TID, or -1. */
static int start_block(const char *fifo) {
  pthread_t t;
  snprintf(block_fifo, sizeof(block_fifo), "%s", fifo);
  if (pthread_create(&t, NULL, block_main, NULL) != 0)
    return -1;
  int tid;
  while ((tid = __atomic_load_n(&block_tid, __ATOMIC_ACQUIRE)) == 0)
    sched_yield();
  return tid;
}

/* One line of stdin without its newline; an EINTR counts as "other" (the main thread also
 * never expects one). Returns 0, or -1 at the end of input. */
static int read_line(char *buf, size_t n) {
  size_t len = 0;
  for (;;) {
    char c;
    ssize_t r = read(STDIN_FILENO, &c, 1);
    if (r < 0 && errno == EINTR) {
      __atomic_add_fetch(&others, 1, __ATOMIC_RELAXED);
      continue;
    }
    if (r <= 0 && len == 0)
      return -1;
    if (r <= 0 || c == '\n')
      break;
    if (len + 1 < n)
      buf[len++] = c;
  }
  buf[len] = '\0';
  return 0;
}

static void answer(const char *cmd) {
  if (strcmp(cmd, "eintr") == 0) {
    int total = __atomic_load_n(&others, __ATOMIC_RELAXED);
    for (int k = 0; k < K_N; k++) {
      int e = __atomic_load_n(&eintrs[k], __ATOMIC_RELAXED);
      printf("%s=%d ", kind_name[k], e);
      total += e;
    }
    printf("other=%d total=%d\n", __atomic_load_n(&others, __ATOMIC_RELAXED), total);
  } else if (strcmp(cmd, "tids") == 0) {
    /* A blocker records its tid when it starts; answer once all five have. */
    for (int k = 0; k < K_N; k++)
      while (__atomic_load_n(&tids[k], __ATOMIC_ACQUIRE) == 0)
        sched_yield();
    for (int k = 0; k < K_N; k++)
      printf("%s=%d%s", kind_name[k], __atomic_load_n(&tids[k], __ATOMIC_ACQUIRE),
             k + 1 < K_N ? " " : "\n");
  } else if (strcmp(cmd, "version") == 0) {
    printf("%s\n", handler_version());
  } else if (strncmp(cmd, "block ", 6) == 0) {
    printf("%d\n", start_block(cmd + 6));
  } else if (strcmp(cmd, "blocked") == 0) {
    printf("%s\n", __atomic_load_n(&block_done, __ATOMIC_ACQUIRE) ? block_reply : "parked");
  } else {
    printf("unknown command '%s'\n", cmd);
  }
  fflush(stdout);
}

int main(void) {
  if (start_blockers() != 0) {
    perror("eintr_host: cannot start the blocking threads");
    return 1;
  }
  char line[512];
  while (read_line(line, sizeof(line)) == 0)
    answer(line);
  return 0;
}
