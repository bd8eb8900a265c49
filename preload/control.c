/* control.c - the control socket: a unix stream socket, mode 0600 in a 0700 folder, that
 * answers one request per connection ("status" or "reload", one line) with one line of
 * JSON. Only the daemon's own user and root may connect (SO_PEERCRED). */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "preload/preload.h"

static int listen_fd = -1;
static char sock_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
static pid_t owner_pid; /* only the process that bound the socket removes it */
static pre_control_fn handler;

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
  return cred.uid == 0 || cred.uid == geteuid();
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

static void serve_one(int fd) {
  char req[128];
  size_t got = 0;
  struct pollfd p = {.fd = fd, .events = POLLIN};
  while (got < sizeof(req) - 1 && memchr(req, '\n', got) == NULL) {
    int ready = poll(&p, 1, 2000);
    if (ready < 0 && errno == EINTR)
      continue; /* e.g. retirement's stack check signal */
    if (ready <= 0)
      return; /* a client that says nothing for 2 s is dropped */
    ssize_t r = recv(fd, req + got, sizeof(req) - 1 - got, 0);
    if (r <= 0)
      break;
    got += (size_t)r;
  }
  if (got == 0)
    return; /* connected and closed: another process probing whether this path is taken */
  req[got] = '\0';
  req[strcspn(req, "\r\n")] = '\0';
  /* Checked after reading the request line (bounded, nothing acted on), so a refused client
   * is not hung up on while it is still sending and does get the reason. */
  if (!peer_allowed(fd)) {
    static const char deny[] = "{\"error\":\"permission denied: not the daemon's user\"}\n";
    write_all(fd, deny, sizeof(deny) - 1);
    return;
  }
  char *reply = NULL;
  handler(req, &reply);
  if (reply != NULL) {
    write_all(fd, reply, strlen(reply));
    write_all(fd, "\n", 1);
    free(reply);
  }
}

static void *control_main(void *arg) {
  (void)arg;
  for (;;) {
    int fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED || errno == EMFILE || errno == ENFILE) {
        if (errno != EINTR && errno != ECONNABORTED)
          usleep(100000); /* out of descriptors: the daemon's problem, do not spin */
        continue;
      }
      return NULL;
    }
    serve_one(fd);
    close(fd);
  }
}

/* Before binding `addr`: a socket file left there by a process that is gone (SIGKILL, a
 * crash) is removed; one that a live process answers on is not ours to take (two daemons
 * started with the same HOTSWAP_CONTROL): -EADDRINUSE naming that process. */
static int claim_path(const struct sockaddr_un *addr, char *err, size_t n) {
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return -errno;
  if (connect(fd, (const struct sockaddr *)addr, sizeof(*addr)) == 0) {
    struct ucred cred = {0};
    socklen_t len = sizeof(cred);
    getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len);
    close(fd);
    snprintf(err, n, "control socket %s is in use by process %ld (give each process its own "
             "HOTSWAP_CONTROL)", addr->sun_path, (long)cred.pid);
    return -EADDRINUSE;
  }
  close(fd);
  unlink(addr->sun_path); /* nothing answers: stale, or no file at all */
  return 0;
}

int pre_control_start(const char *path, pre_control_fn fn, char *err, size_t n) {
  struct sockaddr_un addr;
  if (strlen(path) >= sizeof(addr.sun_path)) {
    snprintf(err, n, "control socket path too long: %s", path);
    return -ENAMETOOLONG;
  }
  int rc = make_folder(path, err, n);
  if (rc != 0)
    return rc;
  memset(&addr, 0, sizeof(addr));
  addr.sun_family = AF_UNIX;
  snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path);
  if ((rc = claim_path(&addr, err, n)) != 0)
    return rc;
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    goto fail;
  mode_t old = umask(0177);
  rc = bind(fd, (struct sockaddr *)&addr, sizeof(addr));
  umask(old);
  if (rc != 0 || chmod(path, 0600) != 0 || listen(fd, 16) != 0)
    goto fail;
  listen_fd = fd;
  pre_fd_guard(fd);
  handler = fn;
  owner_pid = getpid();
  snprintf(sock_path, sizeof(sock_path), "%s", path);
  pthread_t t;
  if ((rc = pre_thread_start(&t, control_main, NULL)) != 0) {
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
  if (listen_fd >= 0 && owner_pid == getpid())
    unlink(sock_path);
  if (listen_fd >= 0) {
    pre_fd_unguard(listen_fd);
    close(listen_fd);
  }
  listen_fd = -1;
}

const char *pre_control_path(void) { return listen_fd >= 0 ? sock_path : NULL; }
