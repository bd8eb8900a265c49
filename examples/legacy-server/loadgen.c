/* SPDX-License-Identifier: BSD-3-Clause */
/* loadgen.c - keeps requests flowing to the legacy server and counts every failure.
 *
 *   loadgen -p PORT [-c CONNECTIONS] [-d SECONDS] [-s STOPFILE] [-u PATH]
 *
 * Each connection is a thread with a keep-alive HTTP connection sending GET PATH (default
 * /hello/loadgen) back to back. A request fails when the connection breaks, the status is
 * not 200 or the reply is malformed; a broken connection is reopened. Runs for SECONDS or
 * until STOPFILE exists. Prints, last, one line:
 *   requests=N failed=F versions=v1:N1,v2:N2 switches=S
 * where switches counts, per connection, replies whose version differs from the previous
 * reply's. Exit 0 when nothing failed, 1 otherwise.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_VERSIONS 8

static int port;
static const char *path = "/hello/loadgen";
static const char *stopfile;
static double deadline;
static long total, failed, switches, by_version[MAX_VERSIONS];
static char first_error[256];

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int done(void) {
  struct stat st;
  return now() >= deadline || (stopfile != NULL && stat(stopfile, &st) == 0);
}

static void note_error(const char *what) {
  __atomic_add_fetch(&failed, 1, __ATOMIC_RELAXED);
  if (first_error[0] == '\0')
    snprintf(first_error, sizeof(first_error), "%s", what);
}

static int dial(void) {
  int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

/* One request; returns the version number seen (1..), 0 when none, -1 on failure. */
static int request(int fd) {
  char req[512], buf[4096];
  int n = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: x\r\n\r\n", path);
  if (send(fd, req, (size_t)n, MSG_NOSIGNAL) != n)
    return note_error("send failed"), -1;
  size_t used = 0;
  char *hdr_end;
  while ((hdr_end = memmem(buf, used, "\r\n\r\n", 4)) == NULL) {
    ssize_t r = recv(fd, buf + used, sizeof(buf) - 1 - used, 0);
    if (r <= 0)
      return note_error(r == 0 ? "connection closed by server" : "recv failed"), -1;
    used += (size_t)r;
  }
  buf[used] = '\0';
  long clen = -1;
  char *cl = strcasestr(buf, "Content-Length:");
  if (strncmp(buf, "HTTP/1.1 200", 12) != 0 || cl == NULL || (clen = atol(cl + 15)) < 0)
    return note_error("status not 200 or no Content-Length"), -1;
  size_t want = (size_t)(hdr_end + 4 - buf) + (size_t)clen;
  while (used < want) {
    ssize_t r = recv(fd, buf + used, sizeof(buf) - 1 - used, 0);
    if (r <= 0)
      return note_error("truncated body"), -1;
    used += (size_t)r;
  }
  buf[used] = '\0';
  char *v = strstr(hdr_end + 4, "(v");
  int ver = v ? atoi(v + 2) : 0;
  return (ver > 0 && ver < MAX_VERSIONS) ? ver : 0;
}

static void *conn_main(void *arg) {
  (void)arg;
  int fd = -1, last = 0;
  while (!done()) {
    if (fd < 0 && (fd = dial()) < 0) {
      note_error("connect failed");
      usleep(10000);
      continue;
    }
    int ver = request(fd);
    __atomic_add_fetch(&total, 1, __ATOMIC_RELAXED);
    if (ver < 0) {
      close(fd);
      fd = -1;
      continue;
    }
    __atomic_add_fetch(&by_version[ver], 1, __ATOMIC_RELAXED);
    if (last != 0 && ver != last)
      __atomic_add_fetch(&switches, 1, __ATOMIC_RELAXED);
    last = ver;
  }
  if (fd >= 0)
    close(fd);
  return NULL;
}

int main(int argc, char **argv) {
  int conns = 4, opt;
  double secs = 5;
  while ((opt = getopt(argc, argv, "p:c:d:s:u:")) != -1) {
    if (opt == 'p') port = atoi(optarg);
    else if (opt == 'c') conns = atoi(optarg);
    else if (opt == 'd') secs = atof(optarg);
    else if (opt == 's') stopfile = optarg;
    else if (opt == 'u') path = optarg;
    else port = 0, conns = 0;
  }
  if (port <= 0 || conns <= 0 || conns > 256 || optind != argc) {
    fprintf(stderr, "usage: loadgen -p PORT [-c CONNECTIONS] [-d SECONDS] [-s STOPFILE] "
                    "[-u PATH]\n");
    return 2;
  }
  deadline = now() + secs;
  pthread_t t[256];
  for (int i = 0; i < conns; i++)
    pthread_create(&t[i], NULL, conn_main, NULL);
  for (int i = 0; i < conns; i++)
    pthread_join(t[i], NULL);
  printf("requests=%ld failed=%ld versions=", total, failed);
  for (int v = 0, first = 1; v < MAX_VERSIONS; v++)
    if (by_version[v] > 0)
      printf("%sv%d:%ld", first ? "" : ",", v, by_version[v]), first = 0;
  printf(" switches=%ld\n", switches);
  if (failed > 0)
    fprintf(stderr, "loadgen: first failure: %s\n", first_error);
  return failed > 0;
}
