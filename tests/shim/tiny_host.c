/* SPDX-License-Identifier: BSD-3-Clause */
/* tiny_host.c - a small host for the shim's process tests: linked against libhandler.so (the
 * versioned build, tests/shim/vhandler.c), it installs its own SIGHUP handler with the libc
 * function named by -s and answers one command per line of stdin with one line on stdout.
 * Built as tiny_host (with libnexta/libnextb, -DTINY_LOOKUPS) and as secure_host (linked with
 * libhotswap_preload.so itself and an absolute RUNPATH, for the setuid test): the test makes
 * that one setuid root, so it has no command that calls a function named on its input.
 *
 *   tiny_host [-s signal|sigaction|bsd_signal|sigset|none] [-H] [-V VERSION]
 *             [-w sigwait|sigwaitinfo|sigtimedwait|signalfd]
 *     -H  first hold SIGHUP with sigset(SIGHUP, SIG_HOLD); -s sigset must release it
 *     -V  look handler_version up once, at start-up, with dlvsym(RTLD_DEFAULT, .., VERSION)
 *     -w  block SIGHUP in every thread and count the SIGHUPs a thread takes with that call
 *         (as "hups"; sigwaitinfo/sigtimedwait also keep the last sender's pid for "sender")
 *
 * Commands: version (handler_version() through the PLT), hups (SIGHUPs its handler saw),
 * install (what the installing calls returned), secure (getauxval(AT_SECURE)), closeall
 * loop|range|from (close every descriptor from 3 up, as old daemons do; answers "closed");
 * tiny_host
 * only: vsym (call the -V pointer), dlvsym NAME VERSION (a fresh lookup, called; or
 * "NULL <dlerror()>"), next (libnexta's RTLD_NEXT lookups of next_which), drop ID
 * (setgroups, setgid and setuid to ID: "dropped"), chroot DIR ("chrooted"). It exits at the
 * end of stdin.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sys/auxv.h>
#include <grp.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "examples/legacy-server/handler.h"

#pragma GCC diagnostic ignored "-Wdeprecated-declarations" /* sigset() is what we test */

/* glibc declares it only for old X/Open programs. */
extern sighandler_t bsd_signal(int signo, sighandler_t handler);
#ifdef TINY_LOOKUPS
const char *next_probe(void); /* libnexta.so */
#endif

typedef const char *(*version_fn)(void);

static volatile sig_atomic_t hups;
static int sender; /* si_pid of the last SIGHUP a -w wait returned */
static char installed[128] = "-";
#ifdef TINY_LOOKUPS
static version_fn looked_up;
#endif

static void on_hup(int signo) {
  (void)signo;
  hups++;
}

static const char *disp_name(sighandler_t h) {
  if (h == SIG_DFL)
    return "SIG_DFL";
  if (h == SIG_IGN)
    return "SIG_IGN";
  if (h == SIG_HOLD)
    return "SIG_HOLD";
  if (h == SIG_ERR)
    return "SIG_ERR";
  return h == on_hup ? "on_hup" : "other";
}

static int install(const char *how, int hold) {
  sighandler_t held = SIG_ERR, prev = SIG_ERR;
  if (hold)
    held = sigset(SIGHUP, SIG_HOLD);
  if (strcmp(how, "signal") == 0) {
    prev = signal(SIGHUP, on_hup);
  } else if (strcmp(how, "bsd_signal") == 0) {
    prev = bsd_signal(SIGHUP, on_hup);
  } else if (strcmp(how, "sigset") == 0) {
    prev = sigset(SIGHUP, on_hup);
  } else if (strcmp(how, "sigaction") == 0) {
    struct sigaction sa, old;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_hup;
    sigemptyset(&sa.sa_mask);
    prev = sigaction(SIGHUP, &sa, &old) == 0 ? old.sa_handler : SIG_ERR;
  } else if (strcmp(how, "none") != 0) {
    return -1;
  }
  sigset_t mask;
  sigprocmask(SIG_SETMASK, NULL, &mask);
  snprintf(installed, sizeof(installed), "hold=%s prev=%s masked=%d",
           hold ? disp_name(held) : "-", strcmp(how, "none") ? disp_name(prev) : "-",
           sigismember(&mask, SIGHUP));
  return 0;
}

/* -w: the thread that takes SIGHUP synchronously, as daemons with a signal thread do. */
static void *waiter_main(void *arg) {
  const char *how = arg;
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGHUP);
  int sfd = strcmp(how, "signalfd") == 0 ? signalfd(-1, &set, SFD_CLOEXEC) : -1;
  for (;;) {
    siginfo_t si = {0};
    struct signalfd_siginfo fdsi;
    struct timespec tick = {0, 100 * 1000 * 1000};
    int sig = 0;
    if (sfd >= 0)
      sig = read(sfd, &fdsi, sizeof(fdsi)) == (ssize_t)sizeof(fdsi) ? (int)fdsi.ssi_signo : -1;
    else if (strcmp(how, "sigwait") == 0)
      sig = sigwait(&set, &sig) == 0 ? sig : -1;
    else if (strcmp(how, "sigwaitinfo") == 0)
      sig = sigwaitinfo(&set, &si);
    else
      sig = sigtimedwait(&set, &si, &tick); /* wakes every 100 ms, as a polling daemon */
    if (sig == SIGHUP) {
      __atomic_store_n(&sender, si.si_pid, __ATOMIC_RELAXED);
      __atomic_add_fetch(&hups, 1, __ATOMIC_RELAXED);
    }
  }
  return NULL;
}

static int start_waiter(const char *how) {
  static const char *const kinds[] = {"sigwait", "sigwaitinfo", "sigtimedwait", "signalfd"};
  sigset_t set;
  pthread_t t;
  for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
    if (strcmp(how, kinds[i]) != 0)
      continue;
    sigemptyset(&set);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, NULL); /* inherited by the waiter */
    return pthread_create(&t, NULL, waiter_main, (void *)kinds[i]) == 0 ? 0 : -1;
  }
  return -1;
}

/* One line of stdin without its newline; retries reads a signal interrupted (a handler
 * installed by sigset() has no SA_RESTART). Returns 0, or -1 at the end of input. */
static int read_line(char *buf, size_t n) {
  size_t len = 0;
  for (;;) {
    char c;
    ssize_t r = read(STDIN_FILENO, &c, 1);
    if (r < 0 && errno == EINTR)
      continue;
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
#ifdef TINY_LOOKUPS
  char name[64], version[64];
#endif
  if (strcmp(cmd, "version") == 0) {
    printf("%s\n", handler_version());
  } else if (strcmp(cmd, "hups") == 0) {
    printf("%d\n", (int)__atomic_load_n(&hups, __ATOMIC_RELAXED));
  } else if (strcmp(cmd, "sender") == 0) {
    printf("%d\n", __atomic_load_n(&sender, __ATOMIC_RELAXED));
  } else if (strcmp(cmd, "install") == 0) {
    printf("%s\n", installed);
  } else if (strncmp(cmd, "closeall ", 9) == 0) {
    const char *how = cmd + 9;
    long max = sysconf(_SC_OPEN_MAX);
    if (strcmp(how, "loop") == 0)
      for (long fd = 3; fd < (max > 0 ? max : 1024); fd++)
        close((int)fd);
    else if (strcmp(how, "range") == 0)
      close_range(3, ~0U, 0);
    else if (strcmp(how, "from") == 0)
      closefrom(3);
    printf("closed\n");
  } else if (strcmp(cmd, "secure") == 0) {
    printf("%lu\n", getauxval(AT_SECURE));
#ifdef TINY_LOOKUPS
  } else if (strcmp(cmd, "vsym") == 0) {
    printf("%s\n", looked_up != NULL ? looked_up() : "NULL");
  } else if (sscanf(cmd, "dlvsym %63s %63s", name, version) == 2) {
    dlerror();
    version_fn f;
    *(void **)&f = dlvsym(RTLD_DEFAULT, name, version);
    const char *err = dlerror();
    printf("%s%s%s\n", f != NULL ? f() : "NULL", err != NULL ? " " : "", err ? err : "");
  } else if (strcmp(cmd, "next") == 0) {
    printf("%s\n", next_probe());
  } else if (sscanf(cmd, "drop %63s", name) == 1) {
    /* What old daemons do after binding their ports: become an unprivileged user. */
    long id = atol(name);
    printf("%s\n", setgroups(0, NULL) == 0 && setgid((gid_t)id) == 0 &&
                            setuid((uid_t)id) == 0 ? "dropped" : strerror(errno));
  } else if (strncmp(cmd, "chroot ", 7) == 0) {
    printf("%s\n", chroot(cmd + 7) == 0 && chdir("/") == 0 ? "chrooted" : strerror(errno));
#endif
  } else {
    printf("unknown command '%s'\n", cmd);
  }
  fflush(stdout);
}

int main(int argc, char **argv) {
  const char *how = "none", *vers = NULL, *wait = NULL;
  int hold = 0, opt;
  while ((opt = getopt(argc, argv, "s:HV:w:")) != -1) {
    if (opt == 's')
      how = optarg;
    else if (opt == 'w')
      wait = optarg;
    else if (opt == 'H')
      hold = 1;
    else if (opt == 'V')
      vers = optarg;
    else
      return 2;
  }
  if (install(how, hold) != 0) {
    fprintf(stderr, "tiny_host: unknown -s %s\n", how);
    return 2;
  }
  if (wait != NULL && start_waiter(wait) != 0) {
    fprintf(stderr, "tiny_host: unknown -w %s\n", wait);
    return 2;
  }
#ifdef TINY_LOOKUPS
  if (vers != NULL)
    *(void **)&looked_up = dlvsym(RTLD_DEFAULT, "handler_version", vers);
#else
  (void)vers;
#endif
  char line[256];
  while (read_line(line, sizeof(line)) == 0)
    answer(line);
  return 0;
}
