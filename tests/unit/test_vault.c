/* SPDX-License-Identifier: BSD-3-Clause */
/* test_vault.c - the vault (loader/vault.c) against real fixture plugins built by the
 * Makefile (tests/plugins/): revert restoring the host's extension, each extension
 * destroyed exactly once, and the lifetime of the vault structs themselves: a vault stays
 * valid while a version that received it is loaded, and is freed once none is and no
 * generation records it, so memory stays flat over reloads with an extension constructor.
 *
 * The trampoline table, the registry and the extension constructor are per process: the
 * tests run in order and each uses plugins (and so symbol names) of its own.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "loader/api.h"
#include "loader/lifecycle_int.h"
#include "loader/loader.h"
#include "loader/tramp.h"
#include "tests/unit/hook_log.h"
#include "tests/unit/test_util.h"

#ifndef LIFE_FIXTURE_DIR
#error "LIFE_FIXTURE_DIR must name the folder of the built fixture plugins"
#endif


/* ---- helpers ------------------------------------------------------------------------- */

static int host_data;         /* what hotswap_on_load receives */
static struct ldr_report rep; /* the last report */
static char paths[4][4096];   /* lib<name>.so in the test's folder */

static char *new_dir(void) { return tu_new_dir("/tmp/hotswap-vault.XXXXXX"); }
static void rm_dir(char *dir) { tu_rm_dir(dir); }

/* Install fixture `fixture` (e.g. "alpha-v2") as <dir>/lib<name>.so by a rename, and return
 * the path (a static buffer slot). */
static const char *install(const char *dir, const char *fixture, const char *name, int slot) {
  return tu_install_fixture(LIFE_FIXTURE_DIR, dir, fixture, name, paths[slot]);
}

static int call_int(const char *symbol) { return tu_call_int(symbol); }
static void *call_ptr(const char *symbol) { return tu_call_ptr(symbol); }
static uint64_t generation(void) { return tu_generation(); }

/* ---- revert and the host's extension (moved from test_lifecycle.c) ---------------------
 * These run first: they register an extension constructor for the whole process and count
 * its extensions from 1. They use the adoptb fixtures (plain fx_plugin builds made for
 * test_adopt, another process), which no other test here loads. */

static unsigned ext_made;      /* extensions built: each is numbered 1, 2, ... */
static unsigned ext_freed[16]; /* how often extension #i was destroyed */

static void *make_ext(const void *prev) {
  (void)prev;
  unsigned *e = malloc(sizeof(*e));
  assert_non_null(e);
  *e = ++ext_made;
  return e;
}

static void free_ext(void *e) {
  unsigned id = *(unsigned *)e;
  ext_freed[id < 16 ? id : 0]++;
  free(e);
}

/* Reload one plugin the way the shim does: a staged vault, finished with the outcome. */
static int reload_with_vault(const char *path) {
  struct hotswap_vault *v = ldr_vault_stage();
  assert_non_null(v);
  struct ldr_reload_opts opts = {.data = &host_data, .vault = v};
  const char *list[1] = {path};
  ldr_report_free(&rep);
  hook_log[0] = '\0';
  int rc = ldr_reload(list, 1, &opts, &rep);
  ldr_vault_finish(v, rep.committed);
  return rc;
}

/* Number of the current extension, and of the one adoptb's current version's on_init got. */
static unsigned ext_now(void) {
  const unsigned *e = ldr_vault_extension();
  assert_non_null(e);
  return *e;
}
static unsigned ext_seen_by_adoptb(void) {
  const struct hotswap_vault *v = call_ptr("adoptb_seen_vault");
  assert_non_null(v);
  assert_non_null(v->extension);
  return *(const unsigned *)v->extension;
}

static void revert_ok(void) {
  char msg[LDR_ERR_MAX];
  assert_int_equal(ldr_revert(NULL, msg), 0);
}

/* Free every generation that can no longer be reverted to (no thread of this test is inside
 * a trampoline: the proof the shim gets from its stack check). */
static void reclaim(void) {
  size_t freed = 0;
  assert_int_equal(ldr_retire_reclaim_gens(ldr_gen_mark(), &freed), 0);
}

/* v1 filled extension #1, v2 #2: a revert makes #1 current again with v1's code, a second
 * revert #2. Nothing is destroyed while its generation may still be reverted to. */
static void revert__restores_the_extension_of_the_previous_generation(void **state) {
  (void)state;
  char *dir = new_dir();
  const char *p = install(dir, "adoptb-v1", "adoptb", 0);
  assert_int_equal(reload_with_vault(p), 0);
  char err[LDR_ERR_MAX];
  assert_int_equal(ldr_vault_set_extension_newer(make_ext, free_ext, err, sizeof(err)), 0);
  assert_int_equal(ext_now(), 1);
  assert_int_equal(ext_seen_by_adoptb(), 1); /* on_init ran again with it */
  install(dir, "adoptb-v2", "adoptb", 0);
  assert_int_equal(reload_with_vault(p), 0);
  assert_int_equal(call_int("adoptb_answer"), 2);
  assert_int_equal(ext_now(), 2);
  assert_int_equal(ext_seen_by_adoptb(), 2);
  revert_ok();
  assert_int_equal(call_int("adoptb_answer"), 1);
  assert_int_equal(ext_now(), 1);
  assert_int_equal(ext_seen_by_adoptb(), 1);
  revert_ok();
  assert_int_equal(call_int("adoptb_answer"), 2);
  assert_int_equal(ext_now(), 2);
  revert_ok();
  assert_int_equal(ext_now(), 1);
  reclaim(); /* generations 1 and 2 are previous and current: their extensions stay */
  for (unsigned i = 0; i < 16; i++)
    assert_int_equal(ext_freed[i], 0);
  assert_int_equal(ext_now(), 1);
  rm_dir(dir);
}

/* Once no generation that may become current records an extension, it is destroyed with the
 * host's function, once; the one a revert can still reach stays. A constructor registered
 * after the previous generation makes a revert refuse (its versions never filled the new
 * kind of extension). */
static void revert__extensions_no_generation_can_reach__are_destroyed_once(void **state) {
  (void)state;
  char *dir = new_dir();
  const char *p = install(dir, "adoptb-v2", "adoptb", 0); /* v1 serves with #1 */
  assert_int_equal(reload_with_vault(p), 0);
  assert_int_equal(ext_now(), 3);
  reclaim(); /* #2 was only in generations no revert can reach now */
  assert_int_equal(ext_freed[2], 1);
  assert_int_equal(ext_freed[1], 0);
  revert_ok();
  assert_int_equal(ext_now(), 1); /* still alive: the previous generation recorded it */
  assert_int_equal(call_int("adoptb_answer"), 1);
  assert_int_equal(reload_with_vault(p), 0);
  assert_int_equal(ext_now(), 4);
  reclaim();
  reclaim();
  assert_int_equal(ext_freed[3], 1);
  assert_int_equal(ext_freed[2], 1);
  assert_int_equal(ext_freed[1], 0);
  assert_int_equal(ext_freed[4], 0);
  char err[LDR_ERR_MAX], msg[LDR_ERR_MAX], want[LDR_ERR_MAX];
  assert_int_equal(ldr_vault_set_extension_newer(make_ext, free_ext, err, sizeof(err)), 0);
  assert_int_equal(ext_now(), 5);
  assert_int_equal(ext_freed[4], 1); /* the current generation records #5 instead */
  uint64_t gen = generation();
  assert_int_equal(ldr_revert(NULL, msg), HOTSWAP_ENOPREV);
  snprintf(want, sizeof(want),
           "the host registered another extension constructor after generation %llu; its "
           "versions never filled that extension",
           (unsigned long long)(gen - 1));
  assert_string_equal(msg, want);
  assert_int_equal(generation(), gen);
  assert_int_equal(ext_now(), 5);
  assert_int_equal(call_int("adoptb_answer"), 2);
  assert_int_equal(ext_freed[1], 0);
  assert_int_equal(ext_freed[5], 0);
  rm_dir(dir);
}

/* ---- the lifetime of the vault structs ------------------------------------------------
 * From here on the extensions come from a second constructor that counts each one. */

#define EXT2_MAX 1024
static unsigned ext2_made;               /* numbered 1, 2, ... */
static unsigned ext2_freed[EXT2_MAX];    /* how often extension #i was destroyed */

static void *make_ext2(const void *prev) {
  (void)prev;
  unsigned *e = malloc(sizeof(*e));
  assert_non_null(e);
  *e = ++ext2_made;
  return e;
}

static void free_ext2(void *e) {
  unsigned id = *(unsigned *)e;
  ext2_freed[id < EXT2_MAX ? id : 0]++;
  free(e);
}

/* Register the counting constructor once for the rest of the process. */
static void counted_constructor(void) {
  static bool done;
  char err[LDR_ERR_MAX];
  if (!done)
    assert_int_equal(ldr_vault_set_extension_newer(make_ext2, free_ext2, err, sizeof(err)), 0);
  done = true;
}

/* The stack check of the shim: in these tests no thread ever runs plugin code when
 * retirement looks, so every answer is "nobody". */
static int never_busy(const struct ldr_text_range *r, size_t n, char *why) {
  (void)r;
  (void)n;
  (void)why;
  return 0;
}

/* Retire replaced versions at once (grace 0), or never (enabled false). */
static void retirement(bool enabled) {
  struct ldr_retire_opts o = {.enabled = enabled, .grace_ms = 0, .busy = never_busy};
  ldr_retire_configure(&o);
}

/* Retire every replaced version now; returns how many were unloaded. */
static size_t retire_now(void) {
  struct ldr_retire_result r;
  assert_int_equal(ldr_retire_run(&r), 0);
  assert_int_equal(r.waiting, 0);
  return r.retired;
}

#define RELOADS 300

/* A host with an extension constructor reloads a plugin RELOADS times while old versions
 * are retired and old generations reclaimed, as the shim does: the vault structs stay as
 * many as after the first ten reloads (before, each reload left one behind for good), and
 * every extension is destroyed exactly once, except those of the current and the previous
 * generation (a revert can reach it). */
static void vault__many_reloads_with_an_extension__vault_count_stays_flat(void **state) {
  (void)state;
  counted_constructor();
  retirement(true);
  char *dir = new_dir();
  const char *p = install(dir, "alpha-v1", "alpha", 0);
  assert_int_equal(reload_with_vault(p), 0);
  size_t base = 0, most = 0;
  for (int i = 0; i < RELOADS; i++) {
    install(dir, i % 2 ? "alpha-v1" : "alpha-v2", "alpha", 0);
    assert_int_equal(reload_with_vault(p), 0);
    assert_int_equal(call_int("alpha_answer"), i % 2 ? 1 : 2);
    assert_true(retire_now() >= 1);
    reclaim();
    size_t n = ldr_vault_count();
    if (i == 9)
      base = n;
    else if (i > 9 && n > most)
      most = n;
  }
  print_message("vault structs: %zu after 10 reloads, at most %zu after that (%d reloads)\n",
                base, most, RELOADS);
  assert_true(base > 0 && base <= 8);
  assert_true(most <= base);
  assert_int_equal(ext_now(), ext2_made);
  for (unsigned id = 1; id + 1 < ext2_made; id++)
    assert_int_equal(ext2_freed[id], 1);
  assert_int_equal(ext2_freed[ext2_made - 1], 0); /* the previous generation's */
  assert_int_equal(ext2_freed[ext2_made], 0);
  for (unsigned id = 1; id <= 5; id++) /* the first constructor's, all unreachable now */
    assert_int_equal(ext_freed[id], 1);
  assert_int_equal(ext2_freed[0], 0);
  rm_dir(dir);
}

/* A version that is still loaded keeps the vault its on_init received valid after later
 * reloads have made that vault's extension unreachable (destroyed: NULL in the vault); once
 * the versions that received them are retired, those vaults are freed. */
static void vault__version_still_loaded__keeps_its_vault_valid(void **state) {
  (void)state;
  counted_constructor();
  retirement(false);
  char *dir = new_dir();
  const char *p = install(dir, "stat-v1", "stat", 1);
  assert_int_equal(reload_with_vault(p), 0);
  const struct hotswap_vault *v1 = call_ptr("stat_seen_vault");
  assert_non_null(v1);
  assert_non_null(v1->extension);
  unsigned id1 = *(const unsigned *)v1->extension;
  assert_int_equal(ldr_vault_put("test_vault.key", &host_data, NULL), 0);
  for (int i = 0; i < 6; i++) {
    install(dir, i % 2 ? "stat-v1" : "stat-v2", "stat", 1);
    assert_int_equal(reload_with_vault(p), 0);
    reclaim();
  }
  assert_int_equal(ext2_freed[id1], 1);
  assert_null(v1->extension); /* read through the vault the old version kept */
  assert_int_equal(v1->version, HOTSWAP_VAULT_VERSION);
  assert_ptr_equal(v1->get("test_vault.key"), &host_data);
  assert_int_equal(v1->put("test_vault.key", &rep, NULL), 0); /* the bag is the same one */
  assert_ptr_equal(ldr_vault_get("test_vault.key"), &rep);
  assert_int_equal(v1->remove("test_vault.key"), 0);
  size_t before = ldr_vault_count();
  retirement(true);
  hook_log[0] = '\0';
  assert_int_equal(retire_now(), 6);
  assert_int_equal(count_in_log("stat@1:on_free") + count_in_log("stat@2:on_free"), 6);
  /* Five of the six retired versions had vaults no generation records any more; the sixth
   * ran the previous generation, whose vault stays for a revert. */
  assert_true(ldr_vault_count() + 5 <= before);
  assert_int_equal(call_int("stat_answer"), 1); /* the last reload installed v1 again */
  rm_dir(dir);
}

static int teardown_all(void **state) {
  (void)state;
  ldr_report_free(&rep);
  return 0;
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(revert__restores_the_extension_of_the_previous_generation),
      cmocka_unit_test(revert__extensions_no_generation_can_reach__are_destroyed_once),
      cmocka_unit_test(vault__many_reloads_with_an_extension__vault_count_stays_flat),
      cmocka_unit_test(vault__version_still_loaded__keeps_its_vault_valid),
  };
  return cmocka_run_group_tests(tests, NULL, teardown_all);
}
