/* SPDX-License-Identifier: BSD-3-Clause */
/* test_api_cache.c - cmocka tests of the per-thread lookup cache behind ldr_live_fn,
 * ldr_invoke and ldr_invoke_each (loader/api.c) over real fixture plugins and real reloads:
 * a commit (reload or revert) is seen by the next call; a plugin that calls back into the
 * API, and reloads, in the middle of invoke_each; and a stress run where threads call the
 * three functions while the main thread reloads v1/v2 thousands of times, retires replaced
 * versions (dlclose) and frees superseded generations. Every answer must come from v1 or
 * v2 of one generation, never from a retired version. Run under ThreadSanitizer and
 * AddressSanitizer by `make unit`. API_CACHE_RELOADS overrides the number of reloads.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "loader/api.h"
#include "loader/loader.h"
#include "loader/tramp.h"
#include "tests/api/api_fixture.h"
#include "tests/unit/test_util.h"

typedef int (*job_fn)(int);

static char *dir;
static char paths[3][4200]; /* libap_beta.so, libap_live.so, libap_zulu.so */
static struct ldr_report rep;

/* The reclaim epoch (loader/api.h's rule): raised by the reloading thread, the only one
 * that frees generations, right before it does. */
static _Atomic uint64_t epoch;
static uint64_t test_epoch(void) { return atomic_load(&epoch); }

static void install(const char *fixture, int slot) {
  char src[4096], name[64];
  snprintf(src, sizeof(src), "%s/%s.so", API_FIXTURE_DIR, fixture);
  snprintf(name, sizeof(name), "%s", fixture);
  *strchr(name, '-') = '\0';
  snprintf(paths[slot], sizeof(paths[slot]), "%s/lib%s.so", dir, name);
  tu_install(src, paths[slot]);
}

/* Install build v (1 or 2) of ap_beta and ap_live and reload the three plugins. */
static int reload_to(int v) {
  install(v == 1 ? "ap_beta-v1" : "ap_beta-v2", 0);
  install(v == 1 ? "ap_live-v1" : "ap_live-v2", 1);
  const char *list[3] = {paths[0], paths[1], paths[2]};
  struct hotswap_vault *vault = ldr_vault_stage(); /* the fixtures' on_init wants one */
  struct ldr_reload_opts opts = {.vault = vault};
  ldr_report_free(&rep);
  int rc = ldr_reload(list, 3, &opts, &rep);
  ldr_vault_finish(vault, rep.committed);
  return rc;
}

static int group_setup(void **state) {
  (void)state;
  ldr_api_cache_enable(test_epoch);
  dir = tu_new_dir("/tmp/hotswap-apicache.XXXXXX");
  install("ap_zulu-v1", 2);
  int rc = reload_to(1);
  if (rc != 0)
    print_error("first load: %s\n", rep.error);
  return rc;
}

static int group_teardown(void **state) {
  (void)state;
  ldr_report_free(&rep);
  tu_rm_dir(dir);
  return 0;
}

static const char *greet(const char *plugin) {
  void *ret = NULL;
  assert_int_equal(ldr_invoke(plugin, "greet", NULL, &ret), 0);
  return ret;
}

/* invoke_each("version"): every plugin returns its build number, so every call "fails";
 * the message says which build of each plugin answered, in dependency (here name) order. */
static const char *versions(char *buf, size_t n) {
  struct hotswap_invoke_errors e;
  assert_int_equal(ldr_invoke_each("version", NULL, false, &e), HOTSWAP_EHOOK);
  assert_int_equal(e.called, 3);
  snprintf(buf, n, "%s", e.message);
  return buf;
}

static void cache__reload_and_revert__the_next_call_sees_the_commit(void **state) {
  (void)state;
  char buf[512];
  job_fn f1 = (job_fn)ldr_live_fn("live_job_run");
  assert_non_null(f1);
  assert_ptr_equal(ldr_live_fn("LIVE_JOB_RUN"), (void *)f1); /* cached, case-insensitive */
  assert_int_equal(f1(7), 107);
  assert_null(ldr_live_fn("live_nosuch"));
  assert_null(ldr_live_fn("live_nosuch")); /* a cached miss is still a miss */
  assert_string_equal(greet("ap_beta"), "ap_beta v1");
  assert_int_equal(ldr_invoke("nosuch", "greet", NULL, NULL), HOTSWAP_ENOPLUGIN);
  assert_int_equal(ldr_invoke("nosuch", "greet", NULL, NULL), HOTSWAP_ENOPLUGIN);
  const char *v1 = "ap_beta: 'version' returned 1; ap_live: 'version' returned 1; "
                   "ap_zulu: 'version' returned 1";
  assert_string_equal(versions(buf, sizeof(buf)), v1);

  assert_int_equal(reload_to(2), 0);
  job_fn f2 = (job_fn)ldr_live_fn("live_job_run");
  assert_ptr_not_equal(f2, f1);
  assert_int_equal(f2(7), 207);
  assert_string_equal(greet("ap_beta"), "ap_beta v2");
  assert_string_equal(versions(buf, sizeof(buf)),
                      "ap_beta: 'version' returned 2; ap_live: 'version' returned 2; "
                      "ap_zulu: 'version' returned 1");

  char msg[LDR_ERR_MAX];
  assert_int_equal(ldr_revert(NULL, msg), 0);
  assert_ptr_equal(ldr_live_fn("live_job_run"), (void *)f1);
  assert_string_equal(greet("ap_beta"), "ap_beta v1");
  assert_string_equal(versions(buf, sizeof(buf)), v1);

  ldr_api_cache_enable(NULL); /* off: the registry answers the same */
  assert_ptr_equal(ldr_live_fn("live_job_run"), (void *)f1);
  assert_string_equal(greet("ap_beta"), "ap_beta v1");
  ldr_api_cache_enable(test_epoch);
}

/* Called by each plugin's invoke function "call" during an invoke_each: the first one
 * reloads to the other build and walks invoke_each again (which replaces this thread's
 * cached list), the outer walk goes on with the list it started. */
static int nested_reloaded;
static char nested_inner[512];
static int call_back(const char *plugin) {
  if (nested_reloaded++ == 0) {
    assert_int_equal(reload_to(2), 0);
    versions(nested_inner, sizeof(nested_inner));
  }
  return strcmp(plugin, "ap_live") == 0 ? 7 : 0;
}

static void cache__plugin_reloads_and_reenters_during_invoke_each__walk_completes(void **s) {
  (void)s;
  struct hotswap_invoke_errors e;
  assert_string_equal(greet("ap_beta"), "ap_beta v1");
  assert_int_equal(ldr_invoke_each("call", (void *)call_back, false, &e), HOTSWAP_EHOOK);
  assert_int_equal(e.called, 3); /* the outer walk: the list of generation v1 */
  assert_string_equal(e.message, "ap_live: 'call' returned 7");
  assert_string_equal(nested_inner,
                      "ap_beta: 'version' returned 2; ap_live: 'version' returned 2; "
                      "ap_zulu: 'version' returned 1");
  assert_string_equal(greet("ap_beta"), "ap_beta v2");
}

/* A generation freed by reclaim can be reallocated at the same address for a later one:
 * a thread that cached under the old one and calls again only then must not take the
 * later generation for the old one (the reclaim epoch tells them apart). The test thread
 * commits and frees, so it may compare the generation pointers itself. Skipped when the
 * allocator never reuses the address (AddressSanitizer's quarantine). */
static void cache__freed_generation_address_reused__not_mistaken_for_the_old_one(void **s) {
  (void)s;
  job_fn cached = (job_fn)ldr_live_fn("live_job_run");
  const struct ldr_gen *old = ldr_gen_current();
  int v = cached(0) / 100, reused = 0;
  for (int i = 0; i < 400 && !reused; i++) {
    v = 3 - v;
    assert_int_equal(reload_to(v), 0);
    uint64_t mark = ldr_gen_mark();
    atomic_store(&epoch, mark);
    assert_int_equal(ldr_retire_reclaim_gens(mark, NULL), 0);
    reused = i > 2 && ldr_gen_current() == old;
  }
  if (!reused)
    skip();
  job_fn now = (job_fn)ldr_live_fn("live_job_run");
  ldr_api_cache_enable(NULL);
  job_fn fresh = (job_fn)ldr_live_fn("live_job_run");
  ldr_api_cache_enable(test_epoch);
  assert_ptr_not_equal(now, cached);
  assert_ptr_equal(now, fresh);
  assert_int_equal(now(7), 100 * v + 7);
}

/* ---- stress --------------------------------------------------------------------------
 * Callers mark themselves busy from before a lookup until they are done with what it
 * returned (the stack check and grace period of the shim, made exact): the retirement
 * stack check below answers "in use" while any caller is busy. Every GATE reloads the
 * main thread pauses the callers (waiting, polled, until each one has stopped), so that
 * every replaced version is retired and superseded generations are freed while the
 * callers' caches still hold their addresses: the next call must not use them. */
#define CALLERS 3
#define GATE 16

struct caller {
  pthread_t thread;
  atomic_int busy;
  atomic_int paused;
  atomic_long answers;
  atomic_long bad;
  char what[160]; /* the first bad answer, read after join */
};

static struct caller callers[CALLERS];
static atomic_int pause_req, stop_req;
/* Both sides do a read-modify-write here between their store and their load (no fences:
 * gcc's ThreadSanitizer does not model them). Either the retirer's comes second and sees
 * the caller busy, or the caller's comes second and its lookup sees the new generation. */
static atomic_long sync_point;
/* Which build is current: reload_seq is odd while the main thread reloads; cur_ver is the
 * build committed by the last reload. A round of calls that starts and ends with the same
 * even reload_seq ran between two reloads and must see exactly build cur_ver. */
static atomic_uint reload_seq;
static atomic_int cur_ver;

static int hazard_busy(const struct ldr_text_range *r, size_t n, char *why) {
  (void)r, (void)n;
  atomic_fetch_add(&sync_point, 1);
  for (int i = 0; i < CALLERS; i++) {
    if (atomic_load(&callers[i].busy)) {
      snprintf(why, LDR_ERR_MAX, "caller %d", i);
      return 1;
    }
  }
  return 0;
}

static void bad(struct caller *me, const char *fmt, ...) {
  if (atomic_fetch_add(&me->bad, 1) == 0) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(me->what, sizeof(me->what), fmt, ap);
    va_end(ap);
  }
}

/* The live function: a whole symbol of a loaded object, answering as v1 or v2. Returns
 * the build that answered (0: none). */
static int check_live(struct caller *me) {
  job_fn f = (job_fn)ldr_live_fn("live_job_run");
  Dl_info di;
  if (f == NULL || dladdr((void *)f, &di) == 0 || di.dli_saddr != (void *)f ||
      di.dli_sname == NULL || strcmp(di.dli_sname, "live_job_run") != 0) {
    bad(me, "live_fn returned %p, not a loaded live_job_run", (void *)f);
    return 0;
  }
  int r = f(7);
  if (r != 107 && r != 207)
    bad(me, "live_job_run(7) = %d", r);
  return r / 100;
}

/* invoke and invoke_each: v1 or v2, and ap_beta and ap_live of the same generation.
 * Returns the builds that answered as invoke * 10 + invoke_each. */
static int check_invoke(struct caller *me) {
  void *ret = NULL;
  int rc = ldr_invoke("ap_beta", "greet", NULL, &ret);
  if (rc != 0 || (strcmp(ret, "ap_beta v1") != 0 && strcmp(ret, "ap_beta v2") != 0)) {
    bad(me, "invoke: rc %d, %s", rc, rc == 0 ? (const char *)ret : "-");
    return 0;
  }
  int v = ((const char *)ret)[strlen(ret) - 1] - '0';
  struct hotswap_invoke_errors e;
  rc = ldr_invoke_each("version", NULL, false, &e);
  if (rc != HOTSWAP_EHOOK || e.called != 3 || e.n != 3 || e.error[0].rc != e.error[1].rc ||
      (e.error[0].rc != 1 && e.error[0].rc != 2) || e.error[2].rc != 1 ||
      strcmp(e.error[1].plugin, "ap_live") != 0)
    bad(me, "invoke_each: rc %d, %s", rc, e.message);
  return v * 10 + e.error[0].rc;
}

static void *caller_main(void *arg) {
  struct caller *me = arg;
  while (!atomic_load(&stop_req)) {
    if (atomic_load(&pause_req)) {
      atomic_store(&me->paused, 1);
      while (atomic_load(&pause_req) && !atomic_load(&stop_req))
        sched_yield();
      atomic_store(&me->paused, 0);
      continue;
    }
    atomic_store(&me->busy, 1);
    atomic_fetch_add(&sync_point, 1); /* before any lookup reads the generation */
    unsigned seq = atomic_load(&reload_seq);
    int want = atomic_load(&cur_ver);
    int live = check_live(me), inv = check_invoke(me);
    if (seq % 2 == 0 && atomic_load(&reload_seq) == seq && (live != want || inv != want * 11))
      bad(me, "between two reloads build %d is current; live_fn answered %d, invoke %d, "
              "invoke_each %d", want, live, inv / 10, inv % 10);
    atomic_store(&me->busy, 0);
    atomic_fetch_add(&me->answers, 1);
  }
  return NULL;
}

/* Pause the callers (each one stops between two rounds; polled, generous timeout), retire
 * what was replaced and free superseded generations, resume. Adds to *retired, *freed. */
static void gate(size_t *retired, size_t *freed) {
  atomic_store(&pause_req, 1);
  for (int i = 0; i < CALLERS; i++) {
    for (int ms = 0; !atomic_load(&callers[i].paused); ms++) {
      assert_true(ms < 60000);
      usleep(1000);
    }
  }
  struct ldr_retire_result r;
  assert_int_equal(ldr_retire_run(&r), 0);
  *retired += r.retired;
  uint64_t mark = ldr_gen_mark(); /* this thread commits and frees: safe to read */
  atomic_store(&epoch, mark);
  size_t n = 0;
  assert_int_equal(ldr_retire_reclaim_gens(mark, &n), 0);
  *freed += n;
  long seen[CALLERS];
  for (int i = 0; i < CALLERS; i++)
    seen[i] = atomic_load(&callers[i].answers);
  atomic_store(&pause_req, 0);
  /* Two whole rounds each before the next reload: the first calls after the versions
   * they had cached were unloaded, checked against the build that is current. */
  for (int i = 0; i < CALLERS; i++) {
    for (int ms = 0; atomic_load(&callers[i].answers) < seen[i] + 2; ms++) {
      assert_true(ms < 60000);
      usleep(1000);
    }
  }
}

static void stress__callers_during_reloads_and_retirement__only_current_versions(void **s) {
  (void)s;
  const char *env = getenv("API_CACHE_RELOADS");
  int reloads = env != NULL ? atoi(env) : 2000;
  struct ldr_retire_opts ro = {.enabled = true, .grace_ms = 0, .max_versions = 0,
                               .busy = hazard_busy};
  ldr_retire_configure(&ro);
  atomic_store(&cur_ver, greet("ap_beta")[9] - '0'); /* what the tests before left */
  for (int i = 0; i < CALLERS; i++)
    assert_int_equal(pthread_create(&callers[i].thread, NULL, caller_main, &callers[i]), 0);
  size_t retired = 0, freed = 0;
  for (int i = 0; i < reloads; i++) {
    atomic_fetch_add(&reload_seq, 1);
    int v = 3 - atomic_load(&cur_ver);
    assert_int_equal(reload_to(v), 0);
    assert_true(rep.committed);
    atomic_store(&cur_ver, v);
    atomic_fetch_add(&reload_seq, 1);
    struct ldr_retire_result r;
    assert_int_equal(ldr_retire_run(&r), 0); /* whatever no caller holds now */
    retired += r.retired;
    if (i % GATE == GATE - 1)
      gate(&retired, &freed);
  }
  atomic_store(&stop_req, 1);
  long answers = 0;
  for (int i = 0; i < CALLERS; i++) {
    pthread_join(callers[i].thread, NULL);
    answers += atomic_load(&callers[i].answers);
    if (atomic_load(&callers[i].bad) != 0)
      fail_msg("caller %d: %ld bad answers, first: %s", i, atomic_load(&callers[i].bad),
               callers[i].what);
  }
  print_message("%d reloads, %ld rounds of calls, %zu versions retired, %zu generations "
                "freed\n", reloads, answers, retired, freed);
  assert_true(answers > 0);
  assert_true(retired >= (size_t)(reloads / GATE));
  assert_true(freed > 0);
  ldr_retire_configure(&(struct ldr_retire_opts){.enabled = false});
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(cache__reload_and_revert__the_next_call_sees_the_commit),
      cmocka_unit_test(cache__plugin_reloads_and_reenters_during_invoke_each__walk_completes),
      cmocka_unit_test(cache__freed_generation_address_reused__not_mistaken_for_the_old_one),
      cmocka_unit_test(stress__callers_during_reloads_and_retirement__only_current_versions),
  };
  return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
