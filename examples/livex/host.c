/* SPDX-License-Identifier: BSD-3-Clause */
/* host.c - the host of the livex demo: a producer thread queues a job every PERIOD_MS,
 * made by the jobs plugin's live function live_job_make and tagged with its live type's
 * layout; every 50 ms the main thread takes the jobs queued at least 100 ms ago, restores
 * each into the CURRENT layout (hotswap_live_data_restore, which calls the new build's
 * live_job_upgrade when the layout changed) and runs it with the CURRENT live_job_run. After `reload.sh` the jobs that
 * build 1 queued are handled by build 2's code. SIGTERM/SIGINT: stop queuing, drain, print
 * the totals (queued = handled, none lost) and exit 0, or 1 when a job was lost.
 *
 *   host [PERIOD_MS]   (default 3 ms)
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "hotswap.h"
#include "livex.h"

#pragma weak hotswap_live_fn
#pragma weak hotswap_live_type
#pragma weak hotswap_live_data_restore

struct job {
  struct job *next;
  struct timespec queued_at;  /* CLOCK_MONOTONIC */
  struct hotswap_live_data d; /* as tagged by the build that made it */
};

/* The queue: FIFO under one mutex, shared by the producer and the main thread. */
static pthread_mutex_t q_lock = PTHREAD_MUTEX_INITIALIZER;
static struct job *q_head, **q_tail = &q_head;
static unsigned long n_queued, n_handled, n_cross, n_retried;
static volatile sig_atomic_t stopping;
static long period_ms = 3;

static void on_stop(int sig) { (void)sig; stopping = 1; } /* async-signal-safe */

static void push(struct job *j) {
  pthread_mutex_lock(&q_lock);
  j->next = NULL;
  *q_tail = j;
  q_tail = &j->next;
  pthread_mutex_unlock(&q_lock);
}

/* Take the whole queue at once. */
static struct job *take_all(void) {
  pthread_mutex_lock(&q_lock);
  struct job *all = q_head;
  q_head = NULL;
  q_tail = &q_head;
  pthread_mutex_unlock(&q_lock);
  return all;
}

/* The producer: one job every period_ms, made by the current build's live_job_make. */
static void *produce(void *unused) {
  (void)unused;
  struct timespec ts = {period_ms / 1000, (period_ms % 1000) * 1000000L};
  for (unsigned long seq = 1; !stopping; seq++) {
    livex_make_fn make = (livex_make_fn)hotswap_live_fn("live_job_make");
    struct job *j = calloc(1, sizeof *j);
    if (make == NULL || j == NULL || make(seq, &j->d) != 0) {
      fprintf(stderr, "host: cannot make job %lu%s\n", seq, make == NULL ? ": no live_job_make" : "");
      free(j);
    } else {
      clock_gettime(CLOCK_MONOTONIC, &j->queued_at);
      push(j);
      __atomic_add_fetch(&n_queued, 1, __ATOMIC_RELAXED);
    }
    nanosleep(&ts, NULL);
  }
  return NULL;
}

/* Restore one job into the current layout and run it with the current live_job_run.
 * Returns 0 when it ran (j freed), non-zero when it stays queued. */
static int run_one(struct job *j, int *last_build) {
  char err[512];
  void *obj;
  if (hotswap_live_data_restore(&j->d, &obj, err, sizeof err) != 0) {
    if (n_retried < 3)
      printf("host: job kept in the queue: %s\n", err);
    return -1;
  }
  struct hotswap_live_data cur = j->d;
  struct hotswap_live_type_info ti;
  if (obj != j->d.value && hotswap_live_type("live_job", &ti) == 0) {
    cur.fingerprint = ti.fingerprint; /* upgraded: now in the current layout */
    cur.size = ti.size;
    cur.value = obj;
  }
  livex_run_fn run = (livex_run_fn)hotswap_live_fn("live_job_run");
  struct livex_result res;
  int rc = run != NULL ? run(&cur, &res) : -ENOENT;
  if (obj != j->d.value)
    free(obj);
  if (rc != 0)
    return rc; /* a reload came between restore and run: try again next tick */
  if (res.handled_by != *last_build) {
    printf("host: jobs now handled by build %d (was %d)\n", res.handled_by, *last_build);
    *last_build = res.handled_by;
  }
  if (res.made_by != res.handled_by && n_cross++ < 3)
    printf("host: job %lu queued under build %d, upgraded by build %d, handled by build %d\n",
           res.seq, res.made_by, res.upgraded_by, res.handled_by);
  n_handled++;
  free(j->d.value);
  free(j);
  return 0;
}

/* Milliseconds since ts. */
static long age_ms(const struct timespec *ts) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (now.tv_sec - ts->tv_sec) * 1000 + (now.tv_nsec - ts->tv_nsec) / 1000000;
}

/* Run the queued jobs at least MIN_AGE_MS old (all when force), so that a reload always
 * finds jobs the old build queued; what cannot run now goes back to the queue. */
#define MIN_AGE_MS 100
static void drain(int *last_build, int force) {
  struct job *j = take_all();
  while (j != NULL) {
    struct job *next = j->next;
    if (!force && age_ms(&j->queued_at) < MIN_AGE_MS)
      push(j);
    else if (run_one(j, last_build) != 0) {
      n_retried++;
      push(j);
    }
    j = next;
  }
  fflush(stdout);
}

int main(int argc, char **argv) {
  period_ms = argc > 1 && atol(argv[1]) > 0 ? atol(argv[1]) : 3;
  if (hotswap_live_fn == NULL) {
    fprintf(stderr, "host: hotswap is not loaded; start me with examples/livex/run.sh\n");
    return 2;
  }
  struct sigaction sa = {.sa_handler = on_stop};
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  pthread_t producer;
  if (pthread_create(&producer, NULL, produce, NULL) != 0)
    return 1;
  struct timespec tick = {0, 50 * 1000000L};
  int last_build = 0;
  for (unsigned long t = 1; !stopping; t++) {
    nanosleep(&tick, NULL);
    drain(&last_build, 0);
    if (t % 20 == 0)
      printf("host: queued %lu, handled %lu\n", __atomic_load_n(&n_queued, __ATOMIC_RELAXED),
             n_handled);
  }
  pthread_join(producer, NULL);
  for (int i = 0; i < 100 && q_head != NULL; i++)
    drain(&last_build, 1);
  unsigned long lost = n_queued - n_handled;
  printf("host: stopped: queued %lu, handled %lu, lost %lu; %lu handled by a later build "
         "than queued them; %lu retried\n",
         n_queued, n_handled, lost, n_cross, n_retried);
  return lost == 0 ? 0 : 1;
}
