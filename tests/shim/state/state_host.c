/* SPDX-License-Identifier: BSD-3-Clause */
/* state_host.c - a legacy-style server over libstate.so (no hotswap header): main() calls
 * state_init() once, then threads answer keep-alive HTTP requests through the library.
 *
 *   state_host -P PORTFILE
 *
 * GET /mime/EXT  the type state_mime finds       GET /check   200 only when the start-up
 *     /count     the static counter, incremented (/peek: read)  table still answers
 *     /cache /dispatch/N /name /level /version                 (500 "wrong: ..." otherwise)
 *     /limit     state_limit as the executable reads it (its own copy: copy relocation)
 *     /setlimit/N  the executable writes state_limit
 * Every body ends with the library's version "(vN)".
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

void state_init(void);
const char *state_mime(const char *ext);
long state_count(void);
long state_peek(void);
const char *state_cache(void);
const char *state_dispatch(int i);
const char *state_name(void);
int state_level(void);
const char *state_version(void);
extern int state_limit; /* read directly: the executable copy-relocates it */

/* The body for one path; returns the HTTP status. */
static int route(const char *path, char *out, size_t n) {
  if (strncmp(path, "/mime/", 6) == 0) {
    snprintf(out, n, "%s %s", state_mime(path + 6), state_version());
  } else if (strcmp(path, "/check") == 0) {
    const char *t = state_mime("html");
    long c = state_count();
    if (strcmp(t, "text/html") != 0) {
      snprintf(out, n, "wrong: html is %s %s", t, state_version());
      return 500;
    }
    snprintf(out, n, "ok %ld %s", c, state_version());
  } else if (strcmp(path, "/count") == 0) {
    snprintf(out, n, "%ld %s", state_count(), state_version());
  } else if (strcmp(path, "/peek") == 0) {
    snprintf(out, n, "%ld %s", state_peek(), state_version());
  } else if (strcmp(path, "/cache") == 0) {
    snprintf(out, n, "%s %s", state_cache(), state_version());
  } else if (strncmp(path, "/dispatch/", 10) == 0) {
    snprintf(out, n, "%s", state_dispatch(atoi(path + 10)));
  } else if (strcmp(path, "/name") == 0) {
    snprintf(out, n, "%s %s", state_name(), state_version());
  } else if (strcmp(path, "/level") == 0) {
    snprintf(out, n, "%d %s", state_level(), state_version());
  } else if (strcmp(path, "/version") == 0) {
    snprintf(out, n, "%s", state_version());
  } else if (strcmp(path, "/limit") == 0) {
    snprintf(out, n, "%d %s", state_limit, state_version());
  } else if (strncmp(path, "/setlimit/", 10) == 0) {
    state_limit = atoi(path + 10);
    snprintf(out, n, "%d %s", state_limit, state_version());
  } else {
    snprintf(out, n, "no such path %s", path);
    return 404;
  }
  return 200;
}

static void *conn_main(void *arg) {
  int fd = (int)(intptr_t)arg;
  char buf[4096];
  size_t used = 0;
  for (;;) {
    char *end;
    while ((end = memmem(buf, used, "\r\n\r\n", 4)) == NULL) {
      if (used >= sizeof(buf) - 1)
        goto out;
      ssize_t r = recv(fd, buf + used, sizeof(buf) - 1 - used, 0);
      if (r <= 0)
        goto out;
      used += (size_t)r;
    }
    buf[used] = '\0';
    char path[256] = "/";
    sscanf(buf, "GET %255s", path);
    int keep = strcasestr(buf, "Connection: close") == NULL;
    char body[512], resp[1024];
    int status = route(path, body, sizeof(body));
    int len = snprintf(resp, sizeof(resp),
                       "HTTP/1.1 %d %s\r\nContent-Length: %zu\r\nConnection: %s\r\n\r\n%s",
                       status, status == 200 ? "OK" : "Error", strlen(body),
                       keep ? "keep-alive" : "close", body);
    if (send(fd, resp, (size_t)len, MSG_NOSIGNAL) != len || !keep)
      break;
    size_t consumed = (size_t)(end + 4 - buf);
    memmove(buf, buf + consumed, used - consumed);
    used -= consumed;
  }
out:
  close(fd);
  return NULL;
}

int main(int argc, char **argv) {
  const char *portfile = argc == 3 && strcmp(argv[1], "-P") == 0 ? argv[2] : NULL;
  if (portfile == NULL) {
    fprintf(stderr, "usage: state_host -P PORTFILE\n");
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  state_init(); /* once, as legacy start-up code does */
  int ls = socket(AF_INET, SOCK_STREAM, 0), one = 1;
  setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t al = sizeof(a);
  if (bind(ls, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(ls, 128) != 0 ||
      getsockname(ls, (struct sockaddr *)&a, &al) != 0) {
    perror("state_host: listen");
    return 1;
  }
  char tmp[4096];
  snprintf(tmp, sizeof(tmp), "%s.tmp", portfile);
  FILE *f = fopen(tmp, "w");
  if (f == NULL || fprintf(f, "%d\n", ntohs(a.sin_port)) < 0 || fclose(f) != 0 ||
      rename(tmp, portfile) != 0) {
    perror("state_host: port file");
    return 1;
  }
  for (;;) {
    int fd = accept(ls, NULL, NULL);
    if (fd < 0)
      continue;
    pthread_t t;
    pthread_attr_t at;
    pthread_attr_init(&at);
    pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
    if (pthread_create(&t, &at, conn_main, (void *)(intptr_t)fd) != 0)
      close(fd);
    pthread_attr_destroy(&at);
  }
}
