/* SPDX-License-Identifier: BSD-3-Clause */
/* control_client.c - finds a daemon's control socket and exchanges one request with it. */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "common/unix_addr.h"
#include "tools/control_client.h"
#include "tools/jsonread.h"
#include "tools/util.h"

pid_t cc_parse_pid(const char *s) {
  char *end;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (errno != 0 || *s == '\0' || *end != '\0' || v <= 0 || v > INT_MAX)
    return -1;
  return (pid_t)v;
}

/* Value of `name` in the NUL-separated environment block env[0..len). */
static const char *env_get(const char *env, size_t len, const char *name) {
  size_t nl = strlen(name);
  for (size_t i = 0; i < len; i += strlen(env + i) + 1)
    if (strncmp(env + i, name, nl) == 0 && env[i + nl] == '=')
      return env + i + nl + 1;
  return NULL;
}

static int read_environ(pid_t pid, char *env, size_t cap, size_t *len) {
  char path[64];
  snprintf(path, sizeof(path), "/proc/%ld/environ", (long)pid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return -errno;
  ssize_t r, got = 0;
  while ((size_t)got < cap - 1 && (r = read(fd, env + got, cap - 1 - (size_t)got)) > 0)
    got += r;
  close(fd);
  env[got] = '\0';
  *len = (size_t)got;
  return 0;
}

/* Does process pid map the shim? -errno when its maps cannot be read. */
static int maps_shim(pid_t pid) {
  char path[64], line[4096];
  snprintf(path, sizeof(path), "/proc/%ld/maps", (long)pid);
  FILE *f = fopen(path, "re");
  if (f == NULL)
    return -errno;
  int found = 0;
  while (!found && fgets(line, sizeof(line), f) != NULL)
    found = strstr(line, "/libhotswap_preload.so") != NULL;
  fclose(f);
  return found;
}

static const char start_hint[] =
    "start it as LD_PRELOAD=/path/to/libhotswap_preload.so HOTSWAP_PLUGINS=/path/to/plugin.so "
    "COMMAND";

int cc_find_socket(pid_t pid, char *buf, size_t n, char *err, size_t errn) {
  static char env[1 << 16];
  size_t len = 0;
  struct stat st;
  char proc[64];
  snprintf(proc, sizeof(proc), "/proc/%ld", (long)pid);
  if (stat(proc, &st) != 0) {
    snprintf(err, errn, "no process %ld", (long)pid);
    return -ESRCH;
  }
  unix_addr_default(buf, n, (long)pid);
  int rc = read_environ(pid, env, sizeof(env), &len);
  if (rc != 0) {
    /* Another user's process (a daemon that dropped privileges, asked by its start-up
     * user): the default name needs no environment, so try it. */
    snprintf(err, errn, "cannot read the environment of process %ld: %s (run as its user "
             "or root)", (long)pid, strerror(-rc));
    return 1;
  }
  const char *owner = env_get(env, len, "HOTSWAP_OWNER_PID");
  if (env_get(env, len, "HOTSWAP_PLUGINS") == NULL) {
    snprintf(err, errn, "process %ld was not started under hotswap: no HOTSWAP_PLUGINS in "
             "its environment; %s", (long)pid, start_hint);
    return -ENOENT;
  }
  if (owner != NULL && atol(owner) != (long)pid) {
    snprintf(err, errn, "process %ld is a program that process %s exec'd: the shim stays "
             "inert in programs a daemon starts, and only process %s takes reloads",
             (long)pid, owner, owner);
    return -ENOENT;
  }
  if (maps_shim(pid) == 0) {
    const char *pre = env_get(env, len, "LD_PRELOAD");
    snprintf(err, errn, "process %ld has HOTSWAP_PLUGINS but libhotswap_preload.so is not "
             "loaded in it (LD_PRELOAD=%s); %s", (long)pid, pre ? pre : "(unset)", start_hint);
    return -ENOENT;
  }
  const char *given = env_get(env, len, "HOTSWAP_CONTROL");
  if (given != NULL && *given != '\0') {
    snprintf(buf, n, "%s.%ld", given, (long)pid); /* a forked worker's own socket */
    if (unix_addr_abstract(given) || stat(buf, &st) != 0)
      snprintf(buf, n, "%s", given);
  }
  return 0;
}

static long ms_left(const struct timespec *until) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (until->tv_sec - now.tv_sec) * 1000 + (until->tv_nsec - now.tv_nsec) / 1000000;
}

static int fail(char *err, size_t errn, const char *sock, const char *what, int e) {
  snprintf(err, errn, "%s: %s: %s", sock, what, strerror(e));
  return -e;
}

/* 0 when the listener behind connected fd is process `pid` (0: anyone), else -ESRCH with the
 * reason in err: a worker that has not bound its own socket yet would otherwise be answered
 * for by its master through the shared HOTSWAP_CONTROL path. */
static int check_peer(int fd, pid_t pid, const char *sock, char *err, size_t errn) {
  struct ucred cred;
  socklen_t len = sizeof(cred);
  if (pid == 0)
    return 0;
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0)
    return fail(err, errn, sock, "SO_PEERCRED", errno);
  if (cred.pid == pid)
    return 0;
  snprintf(err, errn, "%s answers for process %ld, not %ld: process %ld has no control socket "
           "of its own (a forked worker binds one shortly after fork; an exec'd program never "
           "does)", sock, (long)cred.pid, (long)pid, (long)pid);
  return -ESRCH;
}

int cc_request(const char *sock, pid_t pid, const char *request, int timeout_ms,
               char **reply, char *err, size_t errn) {
  struct sockaddr_un addr;
  struct timespec until;
  clock_gettime(CLOCK_MONOTONIC, &until);
  until.tv_sec += timeout_ms / 1000;
  until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
  socklen_t alen = unix_addr_make(sock, &addr);
  if (alen == 0)
    return fail(err, errn, sock, "name too long", ENAMETOOLONG);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return fail(err, errn, sock, "socket", errno);
  if (connect(fd, (struct sockaddr *)&addr, alen) != 0) {
    int e = errno;
    close(fd);
    return fail(err, errn, sock, "cannot connect", e);
  }
  int prc = check_peer(fd, pid, sock, err, errn);
  if (prc != 0) {
    close(fd);
    return prc;
  }
  char line[64];
  int len = snprintf(line, sizeof(line), "%s\n", request);
  if (send(fd, line, (size_t)len, MSG_NOSIGNAL) != len) {
    int e = errno;
    close(fd);
    return fail(err, errn, sock, "send", e);
  }
  size_t used = 0, cap = 4096;
  char *buf = malloc(cap);
  int rc = buf ? 0 : -ENOMEM;
  while (rc == 0) {
    long left = ms_left(&until);
    struct pollfd p = {.fd = fd, .events = POLLIN};
    if (left <= 0 || poll(&p, 1, (int)left) == 0) {
      rc = fail(err, errn, sock, "no answer in time", ETIMEDOUT);
      break;
    }
    if (used + 1 >= cap) {
      char *b = realloc(buf, cap *= 2);
      if (b == NULL) {
        rc = -ENOMEM;
        break;
      }
      buf = b;
    }
    ssize_t r = recv(fd, buf + used, cap - 1 - used, 0);
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0)
      break;
    used += (size_t)r;
    if (memchr(buf + used - (size_t)r, '\n', (size_t)r) != NULL)
      break; /* the answer is one line: do not wait for EOF (a forked child may hold a copy) */
  }
  close(fd);
  if (rc == 0 && used == 0)
    rc = fail(err, errn, sock, "connection closed without an answer", ECONNRESET);
  if (rc != 0) {
    free(buf);
    return rc;
  }
  buf[used] = '\0';
  buf[strcspn(buf, "\n")] = '\0';
  *reply = buf;
  return 0;
}

bool cc_running_text(const struct jr *doc, char *buf, size_t n) {
  const struct jr *r = jr_get(doc, "running");
  if (r == NULL || r->type != JR_OBJECT)
    return false;
  snprintf(buf, n, "%s", jr_str(r, "text")); /* the daemon's own wording */
  return true;
}

/* After a request that got no answer in time: what the daemon's reloader is busy with, from
 * a quick `status` (the control thread answers it even while plugin code hangs). */
static void say_running(const char *sock, pid_t pid, char *err, size_t errn) {
  char *reply = NULL, why[256], text[512];
  if (cc_request(sock, pid, "status", 2000, &reply, why, sizeof(why)) != 0)
    return;
  struct jr *doc = jr_parse(reply);
  size_t len = strlen(err);
  if (doc != NULL && cc_running_text(doc, text, sizeof(text)))
    snprintf(err + len, errn - len, "; the daemon is busy: %.300s", text);
  jr_free(doc);
  free(reply);
}

int cc_ask(const char *cmd, const char *pid_arg, const char *request, int timeout_ms,
           char **reply, struct jr **doc) {
  pid_t pid = cc_parse_pid(pid_arg);
  if (pid < 0) {
    fprintf(stderr, "hotswap %s: '%s' is not a process id\n", cmd, pid_arg);
    return -1;
  }
  char sock[4096], err[512], why[512];
  int found = cc_find_socket(pid, sock, sizeof(sock), why, sizeof(why));
  if (found < 0) {
    fprintf(stderr, "hotswap %s: %s\n", cmd, why);
    return 2;
  }
  int qrc = cc_request(sock, pid, request, timeout_ms, reply, err, sizeof(err));
  if (qrc == -ETIMEDOUT && strcmp(request, "status") != 0)
    say_running(sock, pid, err, sizeof(err));
  if (qrc != 0) {
    if (found > 0) /* guessed the default name: say why it was a guess */
      fprintf(stderr, "hotswap %s: %s; %s\n", cmd, why, err);
    else
      fprintf(stderr, "hotswap %s: %s\n", cmd, err);
    return 2;
  }
  *doc = jr_parse(*reply);
  if (*doc == NULL) {
    fprintf(stderr, "hotswap %s: process %ld answered something that is not JSON: %s\n", cmd,
            (long)pid, *reply);
    free(*reply);
    return 2;
  }
  const char *code = jr_str(*doc, "error");
  if (code[0] != '\0' && jr_get(*doc, "number") == NULL && jr_get(*doc, "rc") == NULL) {
    /* The control socket refused the request itself (permission, unknown request), as
     * opposed to a refused reload or revert, which carry their number or rc. */
    fprintf(stderr, "hotswap %s: process %ld: %s\n", cmd, (long)pid, jr_str(*doc, "message"));
    jr_free(*doc);
    free(*reply);
    return 2;
  }
  return 0;
}

int cc_action_command(const char *cmd, int argc, char **argv, void (*usage)(FILE *)) {
  static const struct option opts[] = {{"timeout", required_argument, NULL, 't'},
                                       {"json", no_argument, NULL, 'j'},
                                       {"help", no_argument, NULL, 'h'},
                                       {NULL, 0, NULL, 0}};
  double timeout = 60;
  int json = 0, c;
  optind = 1;
  opterr = 0;
  while ((c = getopt_long(argc, argv, "+:h", opts, NULL)) != -1) {
    char *end;
    if (c == ':') {
      fprintf(stderr, "hotswap %s: option '%s' requires a value\n", cmd, argv[optind - 1]);
      return cli_see_help(cmd), 2;
    }
    if (c == 'h')
      return usage(stdout), 0;
    if (c == 'j') {
      json = 1;
    } else if (c == 't') {
      timeout = strtod(optarg, &end);
      if (*end != '\0' || !(timeout > 0) || timeout > 86400) {
        fprintf(stderr, "hotswap %s: --timeout wants seconds, got '%s'\n", cmd, optarg);
        return cli_see_help(cmd), 2;
      }
    } else {
      cli_bad_option(cmd, argc, argv);
      return cli_see_help(cmd), 2;
    }
  }
  if (argc - optind != 1) {
    fprintf(stderr, "hotswap %s: expected one PID\n", cmd);
    return cli_see_help(cmd), 2;
  }
  char *reply = NULL;
  struct jr *doc = NULL;
  int rc = cc_ask(cmd, argv[optind], cmd, (int)(timeout * 1000), &reply, &doc);
  if (rc != 0)
    return rc < 0 ? (cli_see_help(cmd), 2) : rc;
  int ok = jr_bool(doc, "ok");
  if (json)
    printf("%s\n", reply);
  else
    fprintf(ok ? stdout : stderr, "%s\n", jr_str(doc, "message"));
  rc = ok ? 0 : strcmp(jr_str(doc, "error"), "ETIMEDOUT") == 0 ? 2 : 1;
  jr_free(doc);
  free(reply);
  return rc;
}
