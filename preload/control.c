/* SPDX-License-Identifier: BSD-3-Clause */
/* control.c - the control socket. By default "@hotswap/<pid>" in the abstract namespace (no
 * file; found from the pid alone after setuid, chroot or a mount namespace change); with
 * HOTSWAP_CONTROL=/path a unix socket file, mode 0600 in a 0700 folder. Each connection
 * sends one request line ("status", "reload" or "revert") and gets one line of JSON. Only
 * root, the daemon's uid and the uids it started with may ask (SO_PEERCRED).
 *
 * One thread polls the listener and every connection still sending its request (at most
 * MAX_PENDING, each given REQUEST_MS; when full the oldest is dropped), so idle or slow
 * clients never keep `hotswap status` out. A complete request is answered on that thread.
 * A `reload` is handed to the reloader thread and its client waits (at most MAX_WAITING, each
 * up to RELOAD_WAIT_MS) while the thread goes on answering others: a reload whose plugin
 * code hangs never keeps `status` or `revert` from being answered. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "common/unix_addr.h"
#include "preload/preload.h"

#define MAX_PENDING 32   /* connections still sending their request line */
#define REQUEST_MS 2000  /* time a client has to send its request line */
#define REQUEST_MAX 128
#define MAX_WAITING 32       /* clients waiting for the outcome of a reload */
#define RELOAD_WAIT_MS 120000 /* then they are told it still runs, and where */

struct pending {
  int fd;
  size_t got;
  long long deadline; /* CLOCK_MONOTONIC ms */
  char req[REQUEST_MAX];
};

static int listen_fd = -1;
static char sock_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
static pid_t owner_pid; /* only the process that bound a socket file removes it */
static pre_control_fn handler;
static uid_t start_uid, start_euid; /* the uids the daemon started with */
static bool uids_known;
static struct pending pend[MAX_PENDING];
static pre_defer_fn defer_ask;
static pre_answer_fn defer_answer;

struct waiting {
  int fd; /* -1: free */
  uint64_t ticket;
  long long deadline;
};
static struct waiting waiting[MAX_WAITING];

static long long now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* Make the socket's folder, owned by us and closed to others. An existing folder that
 * someone else owns or others can enter is refused: it could hold a spoofed socket. */
static int make_folder(const char *path, char *err, size_t n) {
  char dir[sizeof(sock_path)];
  snprintf(dir, sizeof(dir), "%s", path);
  char *slash = strrchr(dir, '/');
  if (slash == NULL || slash == dir)
    return 0;
  *slash = '\0';
  if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
    int e = errno;
    snprintf(err, n, "control socket folder %s: %s", dir, strerror(e));
    return -e;
  }
  struct stat st;
  if (stat(dir, &st) != 0) {
    int e = errno;
    snprintf(err, n, "control socket folder %s: %s", dir, strerror(e));
    return -e;
  }
  if (st.st_uid != geteuid() && st.st_uid != 0) {
    snprintf(err, n, "control socket folder %s belongs to uid %ld, not to us", dir,
             (long)st.st_uid);
    return -EPERM;
  }
  return 0;
}

static bool peer_allowed(int fd) {
  struct ucred cred;
  socklen_t len = sizeof(cred);
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0)
    return false;
  return cred.uid == 0 || cred.uid == geteuid() || cred.uid == getuid() ||
         (uids_known && (cred.uid == start_uid || cred.uid == start_euid));
}

static void write_all(int fd, const char *s, size_t len) {
  while (len > 0) {
    ssize_t w = send(fd, s, len, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0)
      return;
    s += w;
    len -= (size_t)w;
  }
}

/* Connections are guarded like the listener: a daemon's close-everything loop must not
 * close one under the thread answering it (and then that thread close a number the daemon
 * has reused). */
static void close_conn(int fd) {
  pre_fd_unguard(fd);
  close(fd);
}

static void reply_error(int fd, const char *code, const char *message) {
  char buf[256];
  int len = snprintf(buf, sizeof(buf), "{\"ok\":false,\"error\":\"%s\",\"message\":\"%s\"}\n",
                     code, message);
  write_all(fd, buf, (size_t)len);
}

static void send_reply(int fd, char *reply) {
  if (reply != NULL) {
    write_all(fd, reply, strlen(reply));
    write_all(fd, "\n", 1);
    free(reply);
  }
}

/* Answer the clients whose reload finished, or that waited RELOAD_WAIT_MS. Returns the
 * nearest deadline of those still waiting (-1: none). */
static long long answer_waiting(void) {
  long long now = now_ms(), next = -1;
  for (int i = 0; i < MAX_WAITING; i++) {
    struct waiting *w = &waiting[i];
    if (w->fd < 0)
      continue;
    char *reply = NULL;
    if (defer_answer(w->ticket, w->deadline <= now, &reply)) {
      send_reply(w->fd, reply);
      close_conn(w->fd);
      w->fd = -1;
    } else if (next < 0 || w->deadline < next) {
      next = w->deadline;
    }
  }
  return next;
}

/* A complete request line on fd: refuse it, answer it, or (a reload) let it wait. */
static void dispatch(int fd, const char *req) {
  uint64_t ticket;
  /* Back to blocking for the reply, bounded: a client that never reads it costs at most a
   * few seconds. */
  int fl = fcntl(fd, F_GETFL);
  struct timeval tv = {.tv_sec = REQUEST_MS / 1000};
  if (fl >= 0)
    fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  /* Checked after reading the request line (bounded, nothing acted on), so a refused client
   * is not hung up on while it is still sending and does get the reason. */
  if (!peer_allowed(fd)) {
    reply_error(fd, "EACCES", "permission denied: not the daemon's user, the user it "
                "started as, or root");
  } else if (defer_ask != NULL && defer_ask(req, &ticket) == 0) {
    for (int i = 0; i < MAX_WAITING; i++)
      if (waiting[i].fd < 0) {
        waiting[i] = (struct waiting){fd, ticket, now_ms() + RELOAD_WAIT_MS};
        return; /* answered by answer_waiting when the reloader is done */
      }
    reply_error(fd, "EBUSY", "too many clients already wait for a reload; it was asked for");
  } else {
    char *reply = NULL;
    handler(req, &reply);
    send_reply(fd, reply);
  }
  close_conn(fd);
}

static void drop(struct pending *p) {
  close_conn(p->fd);
  p->fd = -1;
}

/* Read what pending connection p has sent; dispatch it once a line (or the buffer) is full. */
static void feed(struct pending *p) {
  for (;;) {
    ssize_t r = recv(p->fd, p->req + p->got, sizeof(p->req) - 1 - p->got, 0);
    if (r < 0 && errno == EINTR)
      continue;
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
      return;
    if (r > 0)
      p->got += (size_t)r;
    bool line = memchr(p->req, '\n', p->got) != NULL;
    if (r > 0 && !line && p->got < sizeof(p->req) - 1)
      continue;
    if (p->got == 0) {
      drop(p); /* connected and closed: a process probing whether the name is taken */
      return;
    }
    p->req[p->got] = '\0';
    p->req[strcspn(p->req, "\r\n")] = '\0';
    dispatch(p->fd, p->req);
    p->fd = -1;
    return;
  }
}

/* Take one connection into the pending table; returns 0 or the errno of accept. */
static int accept_one(int lfd) {
  int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
  if (fd < 0)
    return errno;
  pre_fd_guard(fd);
  struct pending *slot = NULL, *oldest = &pend[0];
  for (int i = 0; i < MAX_PENDING && slot == NULL; i++) {
    if (pend[i].fd < 0)
      slot = &pend[i];
    else if (pend[i].deadline < oldest->deadline)
      oldest = &pend[i];
  }
  if (slot == NULL) {
    drop(oldest); /* full of clients that say nothing: the longest silent one goes */
    slot = oldest;
  }
  slot->fd = fd;
  slot->got = 0;
  slot->deadline = now_ms() + REQUEST_MS;
  return 0;
}

static void *control_main(void *arg) {
  int lfd = (int)(intptr_t)arg;
  struct pollfd pf[2 + MAX_PENDING];
  int idx[2 + MAX_PENDING];
  for (;;) {
    long long next = defer_answer != NULL ? answer_waiting() : -1;
    long long now = now_ms();
    int n = 0;
    pf[n++] = (struct pollfd){.fd = lfd, .events = POLLIN};
    int done = pre_reload_done_fd();
    pf[n++] = (struct pollfd){.fd = done, .events = POLLIN};
    for (int i = 0; i < MAX_PENDING; i++) {
      if (pend[i].fd < 0)
        continue;
      if (pend[i].deadline <= now) {
        drop(&pend[i]); /* said nothing complete in REQUEST_MS */
        continue;
      }
      if (next < 0 || pend[i].deadline < next)
        next = pend[i].deadline;
      idx[n] = i;
      pf[n++] = (struct pollfd){.fd = pend[i].fd, .events = POLLIN};
    }
    int ready = poll(pf, (nfds_t)n, next < 0 ? -1 : (int)(next - now) + 1);
    if (ready < 0 && errno != EINTR)
      return NULL;
    if (ready <= 0)
      continue;
    if (pf[0].revents & (POLLERR | POLLHUP | POLLNVAL))
      return NULL; /* the listener was closed: pre_control_stop */
    uint64_t count;
    if ((pf[1].revents & POLLIN) && read(done, &count, sizeof(count)) < 0) {
      /* another read emptied it: answer_waiting looks anyway */
    }
    for (int k = 2; k < n; k++)
      if (pf[k].revents != 0)
        feed(&pend[idx[k]]);
    if (pf[0].revents & POLLIN) {
      int e = accept_one(lfd);
      if (e == EMFILE || e == ENFILE) {
        struct timespec d = {0, 100 * 1000 * 1000}; /* the daemon's problem: do not spin */
        nanosleep(&d, NULL);
      }
    }
  }
}

/* Before binding `addr`: a socket nobody answers on (its process was killed) is removed when
 * it is a file; a name a live process answers on is not ours to take (two daemons started
 * with the same HOTSWAP_CONTROL): -EADDRINUSE naming that process. */
static int claim_name(const char *name, const struct sockaddr_un *addr, socklen_t alen,
                      char *err, size_t n) {
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return -errno;
  if (connect(fd, (const struct sockaddr *)addr, alen) == 0) {
    struct ucred cred = {0};
    socklen_t len = sizeof(cred);
    getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len);
    close(fd);
    snprintf(err, n, "control socket %s is in use by process %ld (give each process its own "
             "HOTSWAP_CONTROL)", name, (long)cred.pid);
    return -EADDRINUSE;
  }
  close(fd);
  if (!unix_addr_abstract(name))
    unlink(addr->sun_path); /* nothing answers: stale, or no file at all */
  return 0;
}

int pre_control_start(const char *path, pre_control_fn fn, char *err, size_t n) {
  struct sockaddr_un addr;
  socklen_t alen = unix_addr_make(path, &addr);
  int rc, fd = -1;
  if (alen == 0) {
    snprintf(err, n, "control socket name too long (at most %zu bytes): %s",
             sizeof(addr.sun_path) - 1, path);
    return -ENAMETOOLONG;
  }
  if (!uids_known) {
    start_uid = getuid();
    start_euid = geteuid();
    uids_known = true;
  }
  bool file = !unix_addr_abstract(path);
  if (file && (rc = make_folder(path, err, n)) != 0)
    return rc;
  if ((rc = claim_name(path, &addr, alen, err, n)) != 0)
    return rc;
  fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    goto fail;
  mode_t old = umask(0177);
  rc = bind(fd, (struct sockaddr *)&addr, alen);
  umask(old);
  if (rc != 0 || (file && chmod(path, 0600) != 0) || listen(fd, 64) != 0)
    goto fail;
  for (int i = 0; i < MAX_PENDING; i++)
    pend[i].fd = -1;
  for (int i = 0; i < MAX_WAITING; i++)
    waiting[i].fd = -1;
  listen_fd = fd;
  pre_fd_guard(fd);
  handler = fn;
  owner_pid = getpid();
  snprintf(sock_path, sizeof(sock_path), "%s", path);
  pthread_t t;
  if ((rc = pre_thread_start(&t, control_main, (void *)(intptr_t)fd)) != 0) {
    snprintf(err, n, "control socket thread: %s", strerror(-rc));
    pre_control_stop();
    return rc;
  }
  return 0;
fail:
  rc = -errno;
  snprintf(err, n, "control socket %s: %s", path, strerror(errno));
  if (fd >= 0)
    close(fd);
  return rc;
}

void pre_control_stop(void) {
  int fd = listen_fd;
  if (fd < 0)
    return;
  listen_fd = -1;
  if (owner_pid == getpid()) {
    if (!unix_addr_abstract(sock_path))
      unlink(sock_path);
    shutdown(fd, SHUT_RDWR); /* wakes the control thread's poll */
  } else {
    /* A forked child: the control thread and its connections are the parent's. */
    for (int i = 0; i < MAX_PENDING; i++)
      if (pend[i].fd >= 0)
        drop(&pend[i]);
    for (int i = 0; i < MAX_WAITING; i++)
      if (waiting[i].fd >= 0) {
        close_conn(waiting[i].fd);
        waiting[i].fd = -1;
      }
  }
  pre_fd_unguard(fd);
  close(fd);
}

void pre_control_defer(pre_defer_fn ask, pre_answer_fn answer) {
  defer_ask = ask;
  defer_answer = answer;
}

const char *pre_control_path(void) { return listen_fd >= 0 ? sock_path : NULL; }
