/* SPDX-License-Identifier: BSD-3-Clause */
/* server.c - a small multi-threaded HTTP server written the way a legacy server is: no
 * hotswap header, linked against libhandler.so, a dispatch table of function pointers, its
 * own SIGHUP handler that re-reads a config file. Run under the shim, its calls to
 * libhandler.so follow reloads without a line of it changing.
 *
 *   server [-p PORT] [-t THREADS] [-c CONFIG] [-P PORTFILE] [-i PIDFILE] [-d] [-w WORKERS]
 *          [-n] [-b]
 *
 * GET /hello/NAME  /greet/NAME  /add/A/B  /avg/X/Y/...  /div/A/B  /stats  /version  /hups
 *     /spawn (fork+exec a `sleep 5`, answers its pid)
 *     /module/NAME (dlopen the module given with -m, call its module_hello)
 *     /dlsym/NAME (look handle_hello up with dlsym(RTLD_DEFAULT) and call it)
 *     /block/PATH (handle_block: parked in libhandler.so until the FIFO /PATH is written)
 *     /segv (a bug in the server itself: writes through a NULL pointer)
 * The config file holds one line, a greeting suffix, re-read on SIGHUP.
 *   -d  daemonize (double fork, setsid); -i writes the final pid
 *   -w  pre-fork WORKERS processes that share the listening socket (the parent waits)
 *   -n  install no SIGHUP handler of its own;  -b  block SIGHUP in every server thread
 *   -m  the module /module/ dlopen()s (on first use)
 *   -C loop|range|from  first close every descriptor from 3 up, as old daemons do: a
 *       close() loop up to the descriptor limit, close_range(3, ~0U, 0), or closefrom(3)
 *   -S  install its own SIGSEGV handler, as daemons that log their crashes do: it writes
 *       "server: caught SIGSEGV" to stderr and dies by the signal (SA_RESETHAND, raise)
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "handler.h"

typedef int (*route_fn)(char *out, size_t n, char *arg);

static volatile sig_atomic_t hup_pending;
static long hup_count; /* SIGHUPs seen by the server's own handler */
static char config_path[256];
static char suffix[64];
static pthread_mutex_t config_lock = PTHREAD_MUTEX_INITIALIZER;

static volatile sig_atomic_t stop_requested;
static void on_sigterm(int signo) {
  (void)signo;
  stop_requested = 1;
}

static void on_sighup(int signo) {
  (void)signo;
  hup_pending = 1;
  __atomic_add_fetch(&hup_count, 1, __ATOMIC_RELAXED);
}

static void reload_config(void) {
  char line[64] = "";
  FILE *f = config_path[0] ? fopen(config_path, "r") : NULL;
  if (f != NULL) {
    if (fgets(line, sizeof(line), f) == NULL)
      line[0] = '\0';
    fclose(f);
  }
  line[strcspn(line, "\n")] = '\0';
  pthread_mutex_lock(&config_lock);
  snprintf(suffix, sizeof(suffix), "%s", line);
  pthread_mutex_unlock(&config_lock);
}

static int r_hello(char *out, size_t n, char *arg) {
  char s[64];
  int len = handle_hello(out, n, arg);
  pthread_mutex_lock(&config_lock);
  snprintf(s, sizeof(s), "%s", suffix);
  pthread_mutex_unlock(&config_lock);
  if (s[0] != '\0' && len >= 0 && (size_t)len < n)
    len += handler_format(out + len, n - (size_t)len, " %s", s);
  return len;
}

static int r_add(char *out, size_t n, char *arg) {
  long a = 0, b = 0;
  sscanf(arg, "%ld/%ld", &a, &b);
  return handler_format(out, n, "%ld (%s)", handle_add(a, b), handler_version());
}

static int r_avg(char *out, size_t n, char *arg) {
  double v[16];
  size_t k = 0;
  for (char *save = NULL, *t = strtok_r(arg, "/", &save); t && k < 16;
       t = strtok_r(NULL, "/", &save))
    v[k++] = strtod(t, NULL);
  return handler_format(out, n, "%.3f (%s)", handle_avg(v, k), handler_version());
}

static int r_div(char *out, size_t n, char *arg) {
  long a = 0, b = 1;
  sscanf(arg, "%ld/%ld", &a, &b);
  struct handler_pair p = handle_div(a, b);
  return handler_format(out, n, "%ld r %ld (%s)", p.quotient, p.remainder,
                        handler_version());
}

static int r_stats(char *out, size_t n, char *arg) {
  (void)arg;
  struct handler_stats s = handle_stats();
  return handler_format(out, n, "%s requests=%ld load=%.2f,%.2f,%.2f,%.2f", s.version,
                        s.requests, s.load[0], s.load[1], s.load[2], s.load[3]);
}

static int r_version(char *out, size_t n, char *arg) {
  (void)arg;
  return handler_format(out, n, "%s", handler_version());
}

static int r_hups(char *out, size_t n, char *arg) {
  (void)arg;
  return snprintf(out, n, "%ld", __atomic_load_n(&hup_count, __ATOMIC_RELAXED));
}

/* A table of pointers straight into libhandler.so, filled in at load time: an absolute
 * relocation (R_X86_64_64) in a PIE, the canonical PLT address otherwise. Not static, so
 * the compiler cannot fold it away. */
int (*direct_routes[])(char *, size_t, const char *) = {handle_hello};

static int r_greet(char *out, size_t n, char *arg) {
  return direct_routes[0](out, n, arg);
}

static int r_spawn(char *out, size_t n, char *arg) {
  (void)arg;
  pid_t pid = fork();
  if (pid == 0) {
    execl("/bin/sleep", "sleep", "5", (char *)NULL);
    _exit(127);
  }
  return snprintf(out, n, "%ld", (long)pid);
}

static char module_path[256];

static int r_module(char *out, size_t n, char *arg) {
  static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
  static int (*module_hello)(char *, size_t, const char *);
  pthread_mutex_lock(&lock);
  if (module_hello == NULL) {
    void *h = dlopen(module_path, RTLD_NOW);
    if (h != NULL)
      *(void **)&module_hello = dlsym(h, "module_hello");
  }
  pthread_mutex_unlock(&lock);
  if (module_hello == NULL)
    return snprintf(out, n, "no module: %s", dlerror());
  return module_hello(out, n, arg);
}

static int r_block(char *out, size_t n, char *arg) {
  char fifo[4096];
  snprintf(fifo, sizeof(fifo), "/%s", arg);
  return handle_block(out, n, fifo);
}

static int r_segv(char *out, size_t n, char *arg) {
  (void)arg;
  static int *volatile nowhere;
  *nowhere = 1; /* SIGSEGV in the server's own code, not in libhandler.so */
  return snprintf(out, n, "survived");
}

static void on_sigsegv(int signo) {
  static const char msg[] = "server: caught SIGSEGV\n";
  if (write(STDERR_FILENO, msg, sizeof(msg) - 1) < 0) { /* dying anyway */
  }
  raise(signo); /* SA_RESETHAND: the default action now, a core */
}

static int r_dlsym(char *out, size_t n, char *arg) {
  int (*fn)(char *, size_t, const char *);
  *(void **)&fn = dlsym(RTLD_DEFAULT, "handle_hello");
  return fn ? fn(out, n, arg) : snprintf(out, n, "dlsym failed");
}

/* The dispatch table: function pointers, some of them straight into libhandler.so. */
static const struct {
  const char *prefix;
  route_fn fn;
} routes[] = {
    {"/hello/", r_hello}, {"/add/", r_add},         {"/avg/", r_avg}, {"/div/", r_div},
    {"/stats", r_stats},  {"/version", r_version}, {"/hups", r_hups},
    {"/greet/", r_greet}, {"/spawn", r_spawn},     {"/module/", r_module},
    {"/dlsym/", r_dlsym}, {"/block/", r_block},     {"/segv", r_segv},
};

static int respond(int fd, int status, const char *body, int keep) {
  char buf[4096];
  int len = snprintf(buf, sizeof(buf),
                     "HTTP/1.1 %d %s\r\nContent-Length: %zu\r\nContent-Type: text/plain\r\n"
                     "Connection: %s\r\n\r\n%s",
                     status, status == 200 ? "OK" : "Not Found", strlen(body),
                     keep ? "keep-alive" : "close", body);
  return send(fd, buf, (size_t)len, MSG_NOSIGNAL) == len ? 0 : -1;
}

static int handle_request(int fd, char *req, int keep) {
  char path[512], body[2048];
  if (sscanf(req, "GET %511s", path) != 1)
    return respond(fd, 404, "bad request\n", 0), -1;
  for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
    size_t plen = strlen(routes[i].prefix);
    if (strncmp(path, routes[i].prefix, plen) == 0) {
      int len = routes[i].fn(body, sizeof(body) - 1, path + plen);
      if (len < 0 || (size_t)len >= sizeof(body) - 1)
        len = (int)strlen(body);
      body[len] = '\n';
      body[len + 1] = '\0';
      return respond(fd, 200, body, keep);
    }
  }
  return respond(fd, 404, "no such route\n", keep);
}

static void serve(int fd) {
  char buf[8192];
  size_t used = 0;
  for (;;) {
    char *end;
    while ((end = memmem(buf, used, "\r\n\r\n", 4)) == NULL) {
      if (used == sizeof(buf))
        return;
      ssize_t r = recv(fd, buf + used, sizeof(buf) - used, 0);
      if (r <= 0)
        return;
      used += (size_t)r;
    }
    *end = '\0';
    int keep = strcasestr(buf, "connection: close") == NULL;
    if (handle_request(fd, buf, keep) != 0 || !keep)
      return;
    size_t consumed = (size_t)(end + 4 - buf);
    memmove(buf, buf + consumed, used - consumed);
    used -= consumed;
  }
}

static void *worker(void *arg) {
  int lfd = *(int *)arg;
  for (;;) {
    int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC); /* not into /spawn children */
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED)
        continue;
      return NULL;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    serve(fd);
    close(fd);
  }
}

static void write_file(const char *path, long value) {
  FILE *f = path ? fopen(path, "w") : NULL;
  if (f != NULL)
    fprintf(f, "%ld\n", value), fclose(f);
}

static void daemonize(void) {
  if (fork() != 0)
    _exit(0);
  setsid();
  if (fork() != 0)
    _exit(0);
}

/* Run the worker threads, then wait for SIGHUPs (to re-read the config) forever. */
static void serve_forever(int lfd, int threads, int block_hup) {
  sigset_t hup;
  sigemptyset(&hup);
  sigaddset(&hup, SIGHUP);
  if (block_hup)
    pthread_sigmask(SIG_BLOCK, &hup, NULL); /* inherited by every worker thread */
  for (int i = 0; i < threads; i++) {
    pthread_t t;
    pthread_create(&t, NULL, worker, &lfd);
    pthread_detach(t);
  }
  while (!stop_requested) {
    usleep(100000);
    if (hup_pending) {
      hup_pending = 0;
      reload_config();
    }
  }
  exit(0); /* a clean exit: atexit handlers run */
}

/* -C: close every descriptor from 3 up, the way `how` says. Returns 0, -1 for a bad how. */
static int close_all(const char *how) {
  if (strcmp(how, "loop") == 0) {
    long max = sysconf(_SC_OPEN_MAX);
    for (long fd = 3; fd < (max > 0 ? max : 1024); fd++)
      close((int)fd);
  } else if (strcmp(how, "range") == 0) {
    if (close_range(3, ~0U, 0) != 0)
      perror("server: close_range");
  } else if (strcmp(how, "from") == 0) {
    closefrom(3);
  } else {
    return -1;
  }
  return 0;
}

int main(int argc, char **argv) {
  int port = 0, threads = 8, workers = 0, opt, daemon = 0, no_handler = 0, block_hup = 0;
  int own_segv = 0;
  const char *portfile = NULL, *pidfile = NULL, *close_how = NULL;
  while ((opt = getopt(argc, argv, "p:t:c:P:i:dw:nbm:C:S")) != -1) {
    if (opt == 'p') port = atoi(optarg);
    else if (opt == 't') threads = atoi(optarg);
    else if (opt == 'c') snprintf(config_path, sizeof(config_path), "%s", optarg);
    else if (opt == 'P') portfile = optarg;
    else if (opt == 'i') pidfile = optarg;
    else if (opt == 'd') daemon = 1;
    else if (opt == 'w') workers = atoi(optarg);
    else if (opt == 'n') no_handler = 1;
    else if (opt == 'b') block_hup = 1;
    else if (opt == 'm') snprintf(module_path, sizeof(module_path), "%s", optarg);
    else if (opt == 'C') close_how = optarg;
    else if (opt == 'S') own_segv = 1;
    else {
      fprintf(stderr, "usage: %s [-p PORT] [-t THREADS] [-c CONFIG] [-P PORTFILE] "
                      "[-i PIDFILE] [-d] [-w WORKERS] [-n] [-b] [-m MODULE] "
                      "[-C loop|range|from] [-S]\n", argv[0]);
      return 2;
    }
  }
  if (close_how != NULL && close_all(close_how) != 0) {
    fprintf(stderr, "server: -C wants loop, range or from, not '%s'\n", close_how);
    return 2;
  }
  reload_config();
  if (!no_handler) {
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_sighup;
    sa.sa_flags = SA_RESTART;
    sigaction(SIGHUP, &sa, NULL);
  }
  if (own_segv) {
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_sigsegv;
    sa.sa_flags = SA_RESETHAND;
    sigaction(SIGSEGV, &sa, NULL);
  }
  signal(SIGPIPE, SIG_IGN);
  signal(SIGTERM, on_sigterm);
  signal(SIGCHLD, SIG_IGN); /* /spawn children reap themselves */

  int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (bind(lfd, (struct sockaddr *)&addr, sizeof(addr)) != 0 || listen(lfd, 512) != 0) {
    perror("server: bind/listen");
    return 1;
  }
  socklen_t alen = sizeof(addr);
  getsockname(lfd, (struct sockaddr *)&addr, &alen);
  if (daemon)
    daemonize();
  write_file(pidfile, (long)getpid());
  printf("server: pid %ld listening on 127.0.0.1:%d with %d threads, handler %s\n",
         (long)getpid(), ntohs(addr.sin_port), threads, handler_version());
  fflush(stdout);
  pid_t worker_pids[64];
  if (workers > 64)
    workers = 64;
  for (int w = 0; w < workers; w++) {
    pid_t pid = fork();
    worker_pids[w] = pid;
    if (pid == 0)
      serve_forever(lfd, threads, block_hup);
    printf("server: worker %d is pid %ld\n", w, (long)pid);
    fflush(stdout);
  }
  /* The port file is written last: once it exists, the server (and its workers) serve. */
  write_file(portfile, ntohs(addr.sin_port));
  if (workers > 0) {
    while (!stop_requested)
      pause();
    for (int w = 0; w < workers; w++)
      kill(worker_pids[w], SIGTERM);
    return 0;
  }
  serve_forever(lfd, threads, block_hup);
}
