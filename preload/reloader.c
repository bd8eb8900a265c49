/* SPDX-License-Identifier: BSD-3-Clause */
/* reloader.c - the reloader thread: waits on the eventfd that the signal handler and the
 * control socket write, runs the loader's transaction over the plugin files, logs one line
 * and tells systemd. Requests that arrive during a reload coalesce into one more reload. */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <malloc.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "loader/api.h"
#include "loader/loader.h"
#include "loader/tramp.h"
#include "preload/preload.h"

static const struct pre_config *config;
static int wake_fd = -1;
static int done_fd = -1; /* eventfd written after each reload that served requests */
static pthread_mutex_t state_lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t requested; /* reload requests from the control socket so far */
static uint64_t completed; /* requests covered by finished reloads */
/* Under state_lock: the start-up load, the last reload after it, and the counters the
 * status shows. Start-up is not a reload: reload 1 is the first one asked for after it. */
static struct pre_outcome start, last;
static unsigned n_reloads, n_failures;
static bool running; /* a load runs: number `running_number`, since running_since */
static unsigned running_number;
static uint64_t running_since;
static char loading_label[32]; /* the running load's "reload N", for loading_line */

/* The loader's line before the new builds' code runs here (it may hang there). */
static void loading_line(const char *line) { pre_log("%s: %s", loading_label, line); }

/* After a commit: record adopted objects, then point every other object's GOT entries
 * that bind to them at trampolines (new objects may have appeared since last time). */
static void retrofit(const struct ldr_report *rep) {
  char err[LDR_ERR_MAX];
  size_t patched = 0;
  for (size_t i = 0; i < rep->n_plugins; i++)
    if (rep->plugins[i].adopted && pre_retrofit_adopt(rep->plugins[i].map) != 0)
      pre_log("%s: cannot retrofit the daemon's calls to it; they stay on generation 0",
              rep->plugins[i].path);
  if (pre_retrofit_all(&patched, err, sizeof(err)) != 0)
    pre_log("retrofit: %s", err);
  pre_dl_enable();
}

/* One transaction over `paths`: the loader's reload, retrofit, the outcome's log lines,
 * and the probation of what it committed. */
static void transact(char *const *paths, size_t n, struct pre_outcome *out) {
  struct ldr_report rep;
  char label[32];
  pre_outcome_label(out, label, sizeof(label));
  snprintf(loading_label, sizeof(loading_label), "%s", label);
  /* A plugin the dynamic linker already loaded for the daemon (retrofit) is adopted as it
   * is: that copy is generation 0. */
  struct hotswap_vault *vault = ldr_vault_stage(); /* NULL (no memory): none this time */
  struct ldr_reload_opts opts = {.adopt_loaded = true, .allow_insecure = config->insecure_ok,
                                 .vault = vault,
                                 .state = (enum ldr_state_policy)config->state_policy,
                                 .trial_ms = (int)config->load_timeout_ms,
                                 .loading = loading_line};
  if (config->insecure_ok)
    pre_log("WARNING: HOTSWAP_INSECURE=1: plugin files and folders that other users can "
            "write are loaded anyway");
  ldr_reload((const char *const *)paths, n, &opts, &rep);
  ldr_vault_finish(vault, rep.committed);
  pre_outcome_from_report(&rep, out);
  if (rep.committed)
    retrofit(&rep);
  pre_log("%s", out->message);
  for (size_t i = 0; i < rep.n_notes; i++) /* after the outcome: they explain it */
    pre_log("%s: %s", label, rep.notes[i]);
  pre_probation_committed(&rep, paths, n);
  ldr_report_free(&rep);
}

/* Load the plugins: at start-up (is_start), or reload N. Every attempt is counted once,
 * logged once, and kept for `status`, refused before the loader ran or by it. A plugin
 * file that is a build which crashed the daemon is replaced by its last-known-good copy
 * (probation.c); at start-up, when the program itself linked that file, it is adopted
 * first and replaced right after, before main() runs. */
static void load_now(bool is_start, struct pre_outcome *out) {
  char **paths = NULL, **alt = NULL;
  size_t n = 0;
  memset(out, 0, sizeof(*out));
  out->start = is_start;
  pthread_mutex_lock(&state_lock);
  out->number = is_start ? 0 : n_reloads + 1;
  running = true;
  running_number = out->number;
  running_since = pre_now_ns();
  pthread_mutex_unlock(&state_lock);
  if (config->sd_notify)
    pre_notify_reloading(config->notify_socket);
  int rc = pre_plugin_paths(config->plugins, &paths, &n, out->message, sizeof(out->message));
  if (rc == 0) {
    bool adopt_first = false;
    pre_probation_substitute(paths, n, &alt, &adopt_first);
    if (alt != NULL && is_start && adopt_first) {
      transact(paths, n, out);
      if (out->rc == 0) {
        memset(out, 0, sizeof(*out));
        out->start = true;
        transact(alt, n, out);
      }
    } else {
      transact(alt != NULL ? alt : paths, n, out);
    }
  } else {
    out->rc = rc;
    pre_outcome_refused(out);
    pre_log("%s", out->message);
  }
  pre_paths_free(paths);
  pre_paths_free(alt);
  pthread_mutex_lock(&state_lock);
  running = false;
  if (is_start) {
    start = *out;
  } else {
    n_reloads++;
    n_failures += out->rc != 0;
    last = *out;
  }
  pthread_mutex_unlock(&state_lock);
  if (config->sd_notify)
    pre_notify_ready(config->notify_socket, out->message);
}

void pre_start_now(struct pre_outcome *out) { load_now(true, out); }

uint64_t pre_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void pre_reload_summary(struct pre_summary *s) {
  pthread_mutex_lock(&state_lock);
  s->start = start;
  s->last = last;
  s->reloads = n_reloads;
  s->failures = n_failures;
  s->running = running;
  s->running_number = running_number;
  s->running_since_ns = running_since;
  pthread_mutex_unlock(&state_lock);
}

/* Superseded generations waiting for a quiet stack-check round before one is forced. */
#define RECLAIM_BATCH 16

/* Free the generations that no thread can still use. When the retire run's own stack
 * checks did not prove that for enough of them (or nothing else waits), one more round with
 * no text ranges does. Returns how many were freed. */
static size_t reclaim_gens(const struct ldr_retire_result *r) {
  size_t reclaimable = ldr_gen_reclaimable(ldr_gen_mark());
  if (reclaimable == 0)
    return 0;
  if (ldr_gen_reclaimable(pre_stacks_quiet_mark()) == 0 &&
      (reclaimable >= RECLAIM_BATCH || r->waiting == 0)) {
    char why[LDR_ERR_MAX];
    pre_stacks_busy(NULL, 0, why); /* a thread that did not answer: nothing is freed */
  }
  size_t freed = 0;
  ldr_retire_reclaim_gens(pre_stacks_quiet_mark(), &freed);
  return freed;
}

/* Retire what can go now; returns when to try again (ms, -1: nothing waits). */
static long retire_now(void) {
  static struct timespec last_trim;
  struct ldr_retire_result r;
  if (!config->retire || ldr_retire_run(&r) != 0)
    return -1;
  size_t gens = reclaim_gens(&r);
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  /* A burst of reloads frees many versions at once: give the pages back to the system
   * (malloc keeps a freed arena's pages otherwise), at most once a second while versions
   * still wait, at once when none does. */
  if ((r.retired > 0 || gens > 0) && (r.waiting == 0 || now.tv_sec > last_trim.tv_sec)) {
    malloc_trim(0);
    last_trim = now;
  }
  return r.next_ms;
}

static void *reloader_main(void *arg) {
  (void)arg;
  long next_ms = retire_now(); /* e.g. after fork: what the parent left waiting */
  for (;;) {
    struct pollfd pf[2] = {{.fd = wake_fd, .events = POLLIN},
                           {.fd = pre_probation_notify_fd(), .events = POLLIN}};
    uint64_t count;
    long probation_ms = pre_probation_next_ms();
    long wait_ms = next_ms < 0 || (probation_ms >= 0 && probation_ms < next_ms) ? probation_ms
                                                                                : next_ms;
    int ready = poll(pf, 2, wait_ms < 0 ? -1 : wait_ms > INT_MAX ? INT_MAX : (int)wait_ms);
    if (ready == 0) { /* a grace period or a probation ended, and no reload is asked for */
      pre_probation_tick();
      if (next_ms >= 0 && (probation_ms < 0 || next_ms <= probation_ms))
        next_ms = retire_now();
      else if (next_ms >= 0)
        next_ms -= probation_ms;
      continue;
    }
    char why[1024];
    if (ready > 0 && (pf[1].revents & POLLIN) && pre_probation_crash_here(why, sizeof(why))) {
      /* A worker crashed in a build this process runs: switch before forking the next. */
      struct pre_outcome out;
      pre_log("probation: %s: reloading to the last-known-good build", why);
      load_now(false, &out);
      continue;
    }
    if (ready < 0 || !(pf[0].revents & POLLIN) ||
        read(wake_fd, &count, sizeof(count)) != sizeof(count))
      continue; /* EINTR, or another reader won: wait again */
    pthread_mutex_lock(&state_lock);
    uint64_t covers = requested; /* every request made so far is served by this run */
    pthread_mutex_unlock(&state_lock);

    struct pre_outcome out;
    load_now(false, &out);

    pthread_mutex_lock(&state_lock);
    completed = covers;
    pthread_mutex_unlock(&state_lock);
    uint64_t one = 1;
    if (done_fd >= 0 && write(done_fd, &one, sizeof(one)) < 0) {
      /* EAGAIN: the counter is full of unread wake-ups; the control thread reads them */
    }
    next_ms = retire_now(); /* after the answer: a stack check may take up to 100 ms */
  }
  return NULL;
}

static void retire_note(const char *line) { pre_log("%s", line); }

/* Retirement policy from the configuration; the stack check needs its signal first. */
static void retire_setup(const struct pre_config *cfg) {
  char err[LDR_ERR_MAX];
  struct ldr_retire_opts o = {.enabled = cfg->retire,
                              .grace_ms = cfg->grace_ms,
                              .max_versions = cfg->max_versions,
                              .busy = pre_stacks_busy,
                              .scan = cfg->retire_scan ? pre_scan : NULL,
                              .note = retire_note};
  if (cfg->retire && pre_stacks_init(err, sizeof(err)) != 0)
    pre_log("%s; old plugin versions will stay loaded", err);
  ldr_retire_configure(&o);
}

static void open_done_fd(void) {
  done_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (done_fd >= 0)
    pre_fd_guard(done_fd);
}

void pre_reloader_init(const struct pre_config *cfg, int fd) {
  config = cfg;
  wake_fd = fd;
  open_done_fd();
  retire_setup(cfg);
}

int pre_reload_done_fd(void) { return done_fd; }

int pre_reloader_start(void) {
  pthread_t t;
  return pre_thread_start(&t, reloader_main, NULL);
}

int pre_reload_ask(uint64_t *ticket) {
  uint64_t one = 1;
  pthread_mutex_lock(&state_lock);
  *ticket = ++requested;
  pthread_mutex_unlock(&state_lock);
  if (write(wake_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
    return -errno;
  return 0;
}

bool pre_reload_answer(uint64_t ticket, struct pre_outcome *out) {
  pthread_mutex_lock(&state_lock);
  bool done = completed >= ticket;
  if (done)
    *out = last;
  pthread_mutex_unlock(&state_lock);
  return done;
}

void pre_reloader_after_fork(int fd) {
  /* The child has no reloader thread and the locks may be held by a thread that no longer
   * exists: start over. */
  pthread_mutex_init(&state_lock, NULL);
  requested = completed = 0;
  running = false;
  wake_fd = fd;
  if (done_fd >= 0) { /* the parent's: its control thread is not here */
    pre_fd_unguard(done_fd);
    close(done_fd);
  }
  open_done_fd();
  pre_probation_after_fork();
  pthread_t t;
  if (pre_thread_start(&t, reloader_main, NULL) != 0)
    pre_log("fork: cannot start the reloader thread in the child; reloads disabled");
}

/* Append s to buf (n bytes) as the body of a JSON string (quotes and controls escaped). */
static void json_body(char *buf, size_t n, const char *s) {
  size_t len = strlen(buf);
  for (; *s != '\0' && len + 7 < n; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\')
      len += (size_t)snprintf(buf + len, n - len, "\\%c", c);
    else if (c < 0x20)
      len += (size_t)snprintf(buf + len, n - len, "\\u%04x", c);
    else
      buf[len++] = (char)c, buf[len] = '\0';
  }
}

char *pre_revert_json(void) {
  char msg[LDR_ERR_MAX], out[LDR_ERR_MAX * 2 + 160];
  uint64_t gen = 0;
  int rc = ldr_revert(&gen, msg);
  if (rc == 0)
    pre_log("revert ok: %s", msg);
  else
    pre_log("revert refused: %s", msg);
  snprintf(out, sizeof(out), "{\"ok\":%s,\"rc\":%d,\"error\":\"%s\",\"generation\":%llu,"
           "\"message\":\"revert %s: ", rc == 0 ? "true" : "false", rc,
           rc == 0 ? "" : hotswap_err_name(rc), (unsigned long long)gen,
           rc == 0 ? "ok" : "refused");
  json_body(out, sizeof(out) - 3, msg);
  strcat(out, "\"}");
  return strdup(out);
}
