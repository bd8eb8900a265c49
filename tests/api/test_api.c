/* SPDX-License-Identifier: BSD-3-Clause */
/* test_api.c - cmocka tests of the host and plugin API (loader/api.h, vault.c) over real
 * fixture plugins (fx_api.c) loaded by real reloads: invoke and invoke_each (order, error
 * collection), the vault's bag across reloads, the extension rebuilt per reload and filled
 * by on_init, live functions following a reload, live data restored as is, upgraded, or
 * refused with its reason. The tests share one process and run in order: each starts from
 * the versions the previous one left (the loader's registry is per process).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "loader/api.h"
#include "loader/loader.h"
#include "tests/api/api_fixture.h"
#include "tests/unit/test_util.h"

static char dir[64];
static char paths[4][4200]; /* libap_alpha.so, libap_beta.so, libap_zulu.so, libap_quiet.so */
static struct ldr_report rep;

/* Copy fixture `fixture` ("ap_alpha-v2") over <dir>/lib<name>.so by a rename, as a deploy
 * does. */
static void install(const char *fixture, int slot) {
  char src[4096], name[64];
  snprintf(src, sizeof(src), "%s/%s.so", API_FIXTURE_DIR, fixture);
  snprintf(name, sizeof(name), "%s", fixture);
  *strchr(name, '-') = '\0';
  snprintf(paths[slot], sizeof(paths[slot]), "%s/lib%s.so", dir, name);
  tu_install(src, paths[slot]);
}

/* One reload of the four plugins, with a staged vault, the way the shim does it. */
static int reload(void) {
  const char *list[4] = {paths[0], paths[1], paths[2], paths[3]};
  struct hotswap_vault *v = ldr_vault_stage();
  assert_non_null(v);
  struct ldr_reload_opts opts = {.vault = v};
  ldr_report_free(&rep);
  int rc = ldr_reload(list, 4, &opts, &rep);
  ldr_vault_finish(v, rep.committed);
  return rc;
}

static const char *greet(const char *plugin) {
  void *ret = NULL;
  assert_int_equal(ldr_invoke(plugin, "greet", NULL, &ret), 0);
  return ret;
}

/* Reclaim epoch for the lookup cache (loader/api.h): nothing here frees generations. */
static uint64_t no_reclaim(void) { return 0; }

static int group_setup(void **state) {
  (void)state;
  ldr_api_cache_enable(no_reclaim); /* as the shim runs it */
  snprintf(dir, sizeof(dir), "/tmp/hotswap-api.XXXXXX");
  if (mkdtemp(dir) == NULL)
    return -1;
  install("ap_alpha-v1", 0);
  install("ap_beta-v1", 1);
  install("ap_zulu-v1", 2);
  install("ap_quiet-v1", 3);
  return reload();
}

static int group_teardown(void **state) {
  (void)state;
  char cmd[128];
  ldr_report_free(&rep);
  snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
  return system(cmd);
}

static void invoke__greet__reaches_the_current_version(void **state) {
  (void)state;
  assert_string_equal(greet("ap_alpha"), "ap_alpha v1");
  assert_string_equal(greet("ap_zulu"), "ap_zulu v1");
  assert_int_equal(ldr_invoke("ap_zulu", "fail", NULL, NULL), 5);
  assert_int_equal(ldr_invoke("ap_zulu", "nosuch", NULL, NULL), -ENOSYS);
}

static void invoke__unknown_plugin_or_no_invoke_func__is_refused(void **state) {
  (void)state;
  assert_int_equal(ldr_invoke("nosuch", "greet", NULL, NULL), HOTSWAP_ENOPLUGIN);
  assert_int_equal(ldr_invoke("ap_quiet", "greet", NULL, NULL), HOTSWAP_ENOTFOUND);
  assert_int_equal(ldr_invoke(NULL, "greet", NULL, NULL), -EINVAL);
  assert_string_equal(hotswap_strerror(HOTSWAP_ENOPLUGIN), "no such plugin");
}

static void invoke_each__runs_in_dependency_order_and_backward(void **state) {
  (void)state;
  struct api_trace t = {""};
  struct hotswap_invoke_errors e;
  assert_int_equal(ldr_invoke_each("order", &t, false, &e), 0);
  /* ap_alpha imports ap_zulu: zulu first although alpha sorts first; ap_quiet has no
   * hotswap_invoke_func and is skipped. */
  assert_string_equal(t.buf, "ap_beta ap_zulu ap_alpha ");
  assert_int_equal(e.called, 3);
  assert_int_equal(e.failed, 0);
  assert_string_equal(e.message, "");
  memset(&t, 0, sizeof(t));
  assert_int_equal(ldr_invoke_each("order", &t, true, NULL), 0);
  assert_string_equal(t.buf, "ap_alpha ap_zulu ap_beta ");
}

static void invoke_each__failures_are_collected_and_the_rest_runs(void **state) {
  (void)state;
  struct hotswap_invoke_errors e;
  assert_int_equal(ldr_invoke_each("fail", NULL, false, &e), HOTSWAP_EHOOK);
  assert_int_equal(e.called, 3);
  assert_int_equal(e.failed, 2);
  assert_int_equal(e.n, 2);
  assert_string_equal(e.error[0].plugin, "ap_beta");
  assert_int_equal(e.error[0].rc, -22);
  assert_string_equal(e.error[1].plugin, "ap_zulu");
  assert_int_equal(e.error[1].rc, 5);
  assert_string_equal(e.message, "ap_beta: 'fail' returned -22; ap_zulu: 'fail' returned 5");
  assert_int_equal(ldr_invoke_each("fail", NULL, true, &e), HOTSWAP_EHOOK);
  assert_string_equal(e.message, "ap_zulu: 'fail' returned 5; ap_beta: 'fail' returned -22");
}

static int destroyed;
static void count_destroy(void *v) {
  destroyed++;
  free(v);
}

/* Committed vaults are kept for good; with no extension constructor they are all alike, so
 * reloads share the last one instead of keeping one more each (memory over many reloads). */
static void vault__without_an_extension__one_is_kept_not_one_per_reload(void **state) {
  (void)state;
  assert_null(ldr_vault_extension()); /* runs before any constructor is registered */
  assert_int_equal(reload(), 0);       /* commits (or shares) one */
  struct hotswap_vault *a = ldr_vault_stage();
  assert_non_null(a);
  ldr_vault_finish(a, true);
  struct hotswap_vault *b = ldr_vault_stage();
  assert_ptr_equal(b, a);
  ldr_vault_finish(b, false); /* a refused reload must not free the shared one */
  struct hotswap_vault *c = ldr_vault_stage();
  assert_ptr_equal(c, a);
  assert_null(c->extension);
  assert_non_null(c->put);
  ldr_vault_finish(c, true);
  assert_int_equal(ldr_vault_put("host:shared", strdup("kept"), free), 0);
  assert_string_equal(c->get("host:shared"), "kept");
  assert_int_equal(c->remove("host:shared"), 0);
}

static void vault__put_get_replace_remove(void **state) {
  (void)state;
  destroyed = 0;
  assert_int_equal(ldr_vault_put("host:a", strdup("one"), count_destroy), 0);
  assert_string_equal(ldr_vault_get("host:a"), "one");
  assert_int_equal(ldr_vault_put("host:a", strdup("two"), count_destroy), 0);
  assert_int_equal(destroyed, 1); /* the replaced value */
  assert_string_equal(ldr_vault_get("host:a"), "two");
  assert_int_equal(ldr_vault_remove("host:a"), 0);
  assert_int_equal(destroyed, 2);
  assert_null(ldr_vault_get("host:a"));
  assert_int_equal(ldr_vault_remove("host:a"), HOTSWAP_ENOKEY);
  assert_string_equal(hotswap_strerror(HOTSWAP_ENOKEY), "no such key in the vault");
  assert_int_equal(ldr_vault_put("", NULL, NULL), -EINVAL);
}

/* The host's extension constructor: numbered, copies the previous extension. */
static unsigned ext_built, ext_destroyed;
static const void *ext_prev_seen;
static void *new_ext(const void *prev) {
  struct api_ext *e = calloc(1, sizeof(*e));
  if (prev != NULL)
    *e = *(const struct api_ext *)prev;
  e->serial = ++ext_built;
  e->inits = 0;
  ext_prev_seen = prev;
  return e;
}
static void free_ext(void *e) {
  ext_destroyed++;
  free(e);
}

static void extension__set_newer__builds_one_and_reruns_on_init(void **state) {
  (void)state;
  assert_null(ldr_vault_extension());
  char err[LDR_ERR_MAX];
  assert_int_equal(ldr_vault_set_extension_newer(new_ext, free_ext, err, sizeof(err)), 0);
  struct api_ext *e = ldr_vault_extension();
  assert_non_null(e);
  assert_int_equal(e->serial, 1);
  assert_null(ext_prev_seen);
  assert_int_equal(e->inits, 4); /* every current version's on_init ran again */
  assert_non_null(e->alpha_hello);
  assert_string_equal(e->alpha_hello(), "ap_alpha v1");
}

typedef int (*job_fn)(int);

struct order1 {
  int id, qty;
};
struct order2 {
  int id, qty;
  long total;
};

static const char *job = "live_job_run"; /* a queued job keeps the name, not the address */
static struct order1 *v1_order;
static struct hotswap_live_data v1_data; /* live data wrapped under v1 */

/* Current version string of plugin `name` (status). */
static void version_of(const char *name, char *version) {
  struct ldr_status st;
  assert_int_equal(ldr_status_get(&st), 0);
  version[0] = '\0';
  for (size_t i = 0; i < st.n_plugins; i++)
    if (strcmp(st.plugins[i].name, name) == 0)
      snprintf(version, LDR_VERSION_MAX, "%s", st.plugins[i].version);
  ldr_status_free(&st);
}

static void live__under_v1__function_type_and_data_wrap(void **state) {
  (void)state;
  job_fn f = (job_fn)ldr_live_fn(job);
  assert_non_null(f);
  assert_int_equal(f(7), 107);
  assert_ptr_equal(ldr_live_fn("LIVE_Job_Run"), (void *)f); /* case-insensitive */
  assert_null(ldr_live_fn("live_nosuch"));
  struct hotswap_live_type_info info;
  assert_int_equal(ldr_live_type("live_order", &info), 0);
  assert_int_equal(info.size, sizeof(struct order1));
  assert_string_equal(info.plugin, "ap_alpha");
  assert_non_null(info.new_);
  assert_int_equal(ldr_live_type("live_nosuch", &info), HOTSWAP_ENOTFOUND);
  assert_null(ldr_live_new("live_nosuch"));
  v1_order = ldr_live_new("live_order"); /* v1's live_order_new: qty = 1 */
  assert_non_null(v1_order);
  assert_int_equal(v1_order->qty, 1);
  v1_order->id = 42;
  v1_order->qty = 3;
  assert_int_equal(ldr_live_data_wrap("live_order", v1_order, &v1_data), 0);
  assert_int_equal(v1_data.size, sizeof(struct order1));
  assert_int_equal(v1_data.fingerprint, info.fingerprint);
  void *out = NULL;
  char err[LDR_ERR_MAX];
  assert_int_equal(ldr_live_data_restore(&v1_data, &out, err, sizeof(err)), 0);
  assert_ptr_equal(out, v1_order); /* same layout: the value itself */
}

static void live_data__other_layout_without_upgrade__refused_and_kept(void **state) {
  (void)state;
  /* A job saved by a build with another layout of live_order (e.g. before a restart);
   * the running v1 declares no live_order_upgrade. */
  struct order2 saved = {7, 2, 20};
  struct hotswap_live_data d = {"live_order", 0x1234abcdull, sizeof(saved), &saved};
  char version[LDR_VERSION_MAX], err[LDR_ERR_MAX], want[LDR_ERR_MAX];
  version_of("ap_alpha", version);
  void *out = NULL;
  assert_int_equal(ldr_live_data_restore(&d, &out, err, sizeof(err)), HOTSWAP_ELIVETYPE);
  snprintf(want, sizeof(want),
           "live data of type 'live_order' has layout 0x000000001234abcd, 16 bytes; plugin "
           "'ap_alpha' (version %s) has layout 0x%016llx, 8 bytes and no live function "
           "'live_order_upgrade'",
           version, (unsigned long long)v1_data.fingerprint);
  assert_string_equal(err, want);
  assert_null(out);
  assert_ptr_equal(d.value, &saved); /* never dropped */
  assert_int_equal(saved.total, 20);
  snprintf(d.type, sizeof(d.type), "live_gone");
  assert_int_equal(ldr_live_data_restore(&d, &out, err, sizeof(err)), HOTSWAP_ENOTFOUND);
  assert_string_equal(err, "live type 'live_gone' is not defined by any loaded plugin");
}

static void reload__layout_change_without_upgrade__refused_by_validation(void **state) {
  (void)state;
  install("ap_alpha-v3", 0); /* layout 2, no live_order_upgrade */
  assert_int_equal(reload(), HOTSWAP_EINCOMPAT);
  assert_non_null(strstr(rep.error, "live type 'live_order' changed layout (size 8 -> 16, "
                                    "fields 'id, qty' -> 'id, qty, total') and no upgrade "
                                    "is declared"));
  assert_string_equal(greet("ap_alpha"), "ap_alpha v1");
}

static void reload_to_v2__bag_survives_extension_rebuilt(void **state) {
  (void)state;
  assert_string_equal(ldr_vault_get("ap_alpha:v1 note"), "written by ap_alpha v1");
  struct api_ext *before = ldr_vault_extension();
  install("ap_alpha-v2", 0); /* layout 2 with live_order_upgrade */
  assert_int_equal(reload(), 0);
  assert_string_equal(greet("ap_alpha"), "ap_alpha v2");
  struct api_ext *e = ldr_vault_extension();
  assert_ptr_not_equal(e, before);
  assert_ptr_equal(ext_prev_seen, before);
  assert_int_equal(e->serial, 3); /* #2 was built for the refused v3 reload, then destroyed */
  assert_int_equal(e->inits, 1); /* only the new version's on_init */
  assert_string_equal(e->alpha_hello(), "ap_alpha v2");
  assert_true(e->alpha_saw_v1_note); /* v2's on_init found what v1 put in the bag */
  assert_string_equal(ldr_vault_get("ap_alpha:v1 note"), "written by ap_alpha v1");
  assert_string_equal(before->alpha_hello(), "ap_alpha v1"); /* the old one is kept */
}

static void live_fn__job_queued_under_v1_runs_v2_code(void **state) {
  (void)state;
  job_fn f = (job_fn)ldr_live_fn(job);
  assert_int_equal(f(7), 207);
  struct order2 *o = ldr_live_new("live_order");
  assert_non_null(o);
  assert_int_equal(o->qty, 2); /* v2's live_order_new */
  free(o);
}

static void live_data__layout_changed__upgrade_runs(void **state) {
  (void)state;
  void *out = NULL;
  char err[LDR_ERR_MAX];
  assert_int_equal(ldr_live_data_restore(&v1_data, &out, err, sizeof(err)), 0);
  assert_string_equal(err, "");
  assert_ptr_not_equal(out, v1_order);
  struct order2 *n = out;
  assert_int_equal(n->id, 42);
  assert_int_equal(n->qty, 3);
  assert_int_equal(n->total, 30);
  assert_ptr_equal(v1_data.value, v1_order); /* the old value is still the caller's */
  free(n);
  free(v1_order);
}

static void extension__failed_reload__is_destroyed_and_current_kept(void **state) {
  (void)state;
  struct api_ext *before = ldr_vault_extension();
  unsigned d = ext_destroyed;
  install("ap_alpha-v9", 0); /* its on_init returns -3 */
  assert_int_equal(reload(), HOTSWAP_EHOOK);
  assert_string_equal(rep.error, "libap_alpha.so: on_init: hotswap_on_init returned -3");
  assert_int_equal(ext_destroyed, d + 1);
  assert_ptr_equal(ldr_vault_extension(), before);
  assert_string_equal(greet("ap_alpha"), "ap_alpha v2");
  install("ap_alpha-v2", 0);
  assert_int_equal(reload(), 0); /* unchanged: nothing committed */
  assert_false(rep.committed);
  assert_ptr_equal(ldr_vault_extension(), before);
  assert_int_equal(ext_destroyed, d + 2);
}

/* Callers on other threads while reloads alternate ap_beta v1 / v2: each call sees one
 * whole version, the bag stays consistent (run under ThreadSanitizer by `make unit`). */
static atomic_bool stop_callers;
static atomic_int bad_answers, answers;

static void *caller(void *arg) {
  char key[32];
  snprintf(key, sizeof(key), "caller:%d", *(int *)arg);
  while (!atomic_load(&stop_callers)) {
    void *ret = NULL;
    struct hotswap_invoke_errors e;
    int rc = ldr_invoke("ap_beta", "greet", NULL, &ret);
    if (rc != 0 || (strcmp(ret, "ap_beta v1") != 0 && strcmp(ret, "ap_beta v2") != 0))
      atomic_fetch_add(&bad_answers, 1);
    if (ldr_invoke_each("fail", NULL, false, &e) != HOTSWAP_EHOOK || e.failed != 2)
      atomic_fetch_add(&bad_answers, 1);
    if (ldr_vault_put(key, arg, NULL) != 0 || ldr_vault_get(key) != arg)
      atomic_fetch_add(&bad_answers, 1);
    if (ldr_live_fn("live_job_run") == NULL || ldr_vault_extension() == NULL)
      atomic_fetch_add(&bad_answers, 1);
    atomic_fetch_add(&answers, 1);
  }
  return NULL;
}

static void concurrency__callers_during_reloads__see_whole_versions(void **state) {
  (void)state;
  pthread_t t[4];
  int ids[4] = {0, 1, 2, 3};
  atomic_store(&stop_callers, false);
  for (int i = 0; i < 4; i++)
    assert_int_equal(pthread_create(&t[i], NULL, caller, &ids[i]), 0);
  for (int i = 0; i < 10; i++) {
    install(i % 2 ? "ap_beta-v1" : "ap_beta-v2", 1);
    assert_int_equal(reload(), 0);
    assert_true(rep.committed);
  }
  atomic_store(&stop_callers, true);
  for (int i = 0; i < 4; i++)
    pthread_join(t[i], NULL);
  assert_int_equal(atomic_load(&bad_answers), 0);
  assert_true(atomic_load(&answers) > 0);
  assert_string_equal(greet("ap_beta"), "ap_beta v1");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(invoke__greet__reaches_the_current_version),
      cmocka_unit_test(invoke__unknown_plugin_or_no_invoke_func__is_refused),
      cmocka_unit_test(invoke_each__runs_in_dependency_order_and_backward),
      cmocka_unit_test(invoke_each__failures_are_collected_and_the_rest_runs),
      cmocka_unit_test(vault__put_get_replace_remove),
      cmocka_unit_test(vault__without_an_extension__one_is_kept_not_one_per_reload),
      cmocka_unit_test(extension__set_newer__builds_one_and_reruns_on_init),
      cmocka_unit_test(live__under_v1__function_type_and_data_wrap),
      cmocka_unit_test(live_data__other_layout_without_upgrade__refused_and_kept),
      cmocka_unit_test(reload__layout_change_without_upgrade__refused_by_validation),
      cmocka_unit_test(reload_to_v2__bag_survives_extension_rebuilt),
      cmocka_unit_test(live_fn__job_queued_under_v1_runs_v2_code),
      cmocka_unit_test(live_data__layout_changed__upgrade_runs),
      cmocka_unit_test(extension__failed_reload__is_destroyed_and_current_kept),
      cmocka_unit_test(concurrency__callers_during_reloads__see_whole_versions),
  };
  return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
