/* SPDX-License-Identifier: BSD-3-Clause */
/* test_lifecycle.c - the plugin transaction of loader/ against real fixture plugins built by
 * the Makefile (tests/plugins/): hook order, a failure injected at every step, cycles,
 * unknown imports, duplicate names, no-op reloads, pinning, dependency following,
 * self-binding of a new version's internal calls, the GOT walker, the status call and what
 * a refusal says about a dropped function. Revert and the host's extension (the vault) are
 * in test_vault.c.
 *
 * The trampoline table and the plugin registry are per process, so every test uses plugins
 * (and so symbol names) of its own.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "elf/elf.h"
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

static int host_data;                 /* what hotswap_on_load receives */
static int vault_stand_in;            /* the vault is opaque for now */
static struct ldr_report rep;         /* the last report */
/* Room for an expected reason built from a full path; compared exactly with the report. */
#define WANT_MAX (LDR_ERR_MAX + 4096)

static char paths[8][4096];           /* lib<name>.so in the test's folder */
static bool opt_insecure;             /* what reload() passes as opts.allow_insecure */

static char *new_dir(void) { return tu_new_dir("/tmp/hotswap-life.XXXXXX"); }
static void rm_dir(char *dir) { tu_rm_dir(dir); }

/* Install fixture `fixture` (e.g. "alpha-v2") as <dir>/lib<name>.so, replacing the file by a
 * rename the way a deploy does, and return the path (a static buffer slot). */
static const char *install(const char *dir, const char *fixture, const char *name, int slot) {
  return tu_install_fixture(LIFE_FIXTURE_DIR, dir, fixture, name, paths[slot]);
}

/* Run one reload of the given paths (NULL-terminated) with the test's data and vault. */
static int reload(const char *first, ...) {
  const char *list[8];
  size_t n = 0;
  va_list ap;
  va_start(ap, first);
  for (const char *p = first; p != NULL && n < 8; p = va_arg(ap, const char *))
    list[n++] = p;
  va_end(ap);
  struct ldr_reload_opts opts = {.data = &host_data,
                                 .vault = (struct hotswap_vault *)&vault_stand_in,
                                 .allow_insecure = opt_insecure};
  ldr_report_free(&rep);
  hook_log[0] = '\0';
  return ldr_reload(list, n, &opts, &rep);
}

static int call_int(const char *symbol) { return tu_call_int(symbol); }
static void *call_ptr(const char *symbol) { return tu_call_ptr(symbol); }
static const struct ldr_plugin_result *result_of(const char *name) {
  return tu_result_of(&rep, name);
}

static uint64_t generation(void) { return tu_generation(); }

/* ---- lifecycle order ----------------------------------------------------------------- */

/* ord_a imports ord_c; ord_b is independent: hooks run by name until imports, then in
 * dependency order (ord_b, ord_c, ord_a), every on_load before any on_init. */
static void lifecycle__hooks__run_in_dependency_then_name_order(void **state) {
  (void)state;
  char *dir = new_dir();
  const char *a = install(dir, "ord_a-v1", "ord_a", 0);
  const char *b = install(dir, "ord_b-v1", "ord_b", 1);
  const char *c = install(dir, "ord_c-v1", "ord_c", 2);
  uint64_t before = generation();
  assert_int_equal(reload(c, a, b, NULL), 0);
  assert_string_equal(hook_log,
                      "ord_a@1:reloadable ord_b@1:reloadable ord_c@1:reloadable "
                      "ord_a@1:export ord_b@1:export ord_c@1:export "
                      "ord_a@1:import ord_b@1:import ord_c@1:import "
                      "ord_b@1:on_load ord_c@1:on_load ord_a@1:on_load "
                      "ord_b@1:on_init ord_c@1:on_init ord_a@1:on_init ");
  assert_true(rep.committed);
  assert_true(rep.has_generation);
  assert_int_equal(rep.generation, before == UINT64_MAX ? 0 : before + 1);
  assert_int_equal(rep.generation, generation());
  /* answer, total, extra, seen_data, seen_vault: five functions each. */
  assert_int_equal(rep.routed, 15);
  assert_int_equal(rep.n_plugins, 3);
  assert_string_equal(rep.plugins[0].name, "ord_a");
  assert_int_equal(rep.plugins[0].action, LDR_LOADED);
  assert_int_equal(rep.plugins[0].routed, 5);
  assert_string_equal(rep.plugins[0].path, a);
  assert_string_equal(rep.plugins[0].old_version, "");
  assert_true(strlen(rep.plugins[0].new_version) == 7);
  /* The import reached ord_c's export; data and vault reached the hooks. */
  assert_int_equal(call_int("ord_a_total"), 1 + 10 * 1);
  assert_ptr_equal(call_ptr("ord_b_seen_data"), &host_data);
  assert_ptr_equal(call_ptr("ord_b_seen_vault"), &vault_stand_in);
  char line[1024];
  ldr_report_format(&rep, line, sizeof(line));
  assert_non_null(strstr(line, "15 symbols routed: ord_a "));
  assert_non_null(strstr(line, " loaded, ord_b "));
  rm_dir(dir);
}

/* ---- a failure at every step leaves the old generation serving ----------------------- */

static char *fail_dir;

/* fl_peer and fl_victim v1, loaded once for all the failure tests. */
static void fail_setup_once(void) {
  if (fail_dir != NULL)
    return;
  fail_dir = new_dir();
  const char *p = install(fail_dir, "fl_peer-v1", "fl_peer", 0);
  const char *v = install(fail_dir, "fl_victim-v1", "fl_victim", 1);
  assert_int_equal(reload(p, v, NULL), 0);
  assert_int_equal(call_int("fl_victim_answer"), 1);
}

/* Reload fl_peer v2 (good) with fl_victim `variant` (bad) and check the one error, that the
 * new versions that were loaded got on_free exactly once, and that v1 still answers. */
static void reload_bad_victim(const char *variant, int want_rc, const char *want_error,
                              int peer_freed, int victim_freed) {
  fail_setup_once();
  uint64_t gen = generation();
  const char *p = install(fail_dir, "fl_peer-v2", "fl_peer", 0);
  const char *v = variant != NULL ? install(fail_dir, variant, "fl_victim", 1) : paths[1];
  if (variant == NULL)
    assert_int_equal(unlink(v), 0);
  assert_int_equal(reload(p, v, NULL), want_rc);
  assert_int_equal(rep.rc, want_rc);
  assert_string_equal(rep.error, want_error);
  assert_false(rep.committed);
  assert_int_equal(generation(), gen);
  assert_int_equal(count_in_log("fl_peer@2:on_free"), peer_freed);
  assert_int_equal(count_in_log("fl_victim@2:on_free"), victim_freed);
  assert_int_equal(count_in_log("@1:on_free"), 0);
  if (peer_freed && victim_freed) /* reverse order */
    assert_true(strstr(hook_log, "fl_victim@2:on_free fl_peer@2:on_free") != NULL);
  assert_int_equal(result_of("fl_victim")->action, LDR_FAILED);
  assert_int_equal(call_int("fl_victim_answer"), 1);
  assert_int_equal(call_int("fl_peer_answer"), 1);
  assert_int_equal(call_int("fl_victim_extra"), 101);
  char line[LDR_ERR_MAX + 32];
  ldr_report_format(&rep, line, sizeof(line));
  char want_line[LDR_ERR_MAX + 32];
  snprintf(want_line, sizeof(want_line), "reload failed: %s", want_error);
  assert_string_equal(line, want_line);
}

static void failure__snapshot_missing_file__old_generation_serves(void **state) {
  (void)state;
  fail_setup_once();
  char want[WANT_MAX];
  snprintf(want, sizeof(want),
           "libfl_victim.so: snapshot: cannot open '%s/libfl_victim.so': No such file or "
           "directory",
           fail_dir);
  reload_bad_victim(NULL, -ENOENT, want, 0, 0);
}

static void failure__validate_dropped_function__old_generation_serves(void **state) {
  (void)state;
  fail_setup_once();
  tu_tramp("fl_victim_extra"); /* handed out: the reason says the server calls it */
  char want[WANT_MAX];
  snprintf(want, sizeof(want), "libfl_victim.so: validate: " ELF_R_DROPS_FUNC " %s",
           "fl_victim_extra", "that the server calls");
  reload_bad_victim("fl_victim-v2-drop", HOTSWAP_EINCOMPAT, want, 0, 0);
}

static void failure__dlopen_unresolved_symbol__old_generation_serves(void **state) {
  (void)state;
  reload_bad_victim("fl_victim-v2-unres", HOTSWAP_EDLOPEN,
                    "libfl_victim.so: dlopen: undefined symbol: fx_no_such_symbol", 1, 0);
}

static void failure__import_unknown_plugin__old_generation_serves(void **state) {
  (void)state;
  reload_bad_victim("fl_victim-v2-unknown", HOTSWAP_ENOPLUGIN,
                    "libfl_victim.so: import: imports unknown plugin 'nosuch'", 1, 1);
}

static void failure__on_load_nonzero__old_generation_serves(void **state) {
  (void)state;
  reload_bad_victim("fl_victim-v2-onload", HOTSWAP_EHOOK,
                    "libfl_victim.so: on_load: hotswap_on_load returned -5", 1, 1);
  assert_non_null(strstr(hook_log, "fl_peer@2:on_load fl_victim@2:on_load "));
  assert_null(strstr(hook_log, "on_init"));
}

static void failure__on_init_nonzero__old_generation_serves(void **state) {
  (void)state;
  reload_bad_victim("fl_victim-v2-oninit", HOTSWAP_EHOOK,
                    "libfl_victim.so: on_init: hotswap_on_init returned -7", 1, 1);
  assert_non_null(strstr(hook_log, "fl_peer@2:on_init fl_victim@2:on_init "));
}

/* After every failure above, a good pair still reloads (no stale handle, no leftover). */
static void failure__then_good_build__reloads(void **state) {
  (void)state;
  fail_setup_once();
  const char *p = install(fail_dir, "fl_peer-v2", "fl_peer", 0);
  const char *v = install(fail_dir, "fl_victim-v2", "fl_victim", 1);
  assert_int_equal(reload(p, v, NULL), 0);
  assert_true(rep.committed);
  assert_int_equal(call_int("fl_victim_answer"), 2);
  assert_int_equal(call_int("fl_peer_answer"), 2);
  assert_int_equal(result_of("fl_victim")->action, LDR_RELOADED);
  assert_string_equal(result_of("fl_victim")->old_version,
                      ldr_registry_find("fl_victim")->current->older->version);
  assert_int_equal(count_in_log("on_free"), 0); /* old versions stay loaded for now */
  rm_dir(fail_dir);
  fail_dir = NULL;
}

/* ---- import errors, names ------------------------------------------------------------ */

static void import__cycle__is_rejected_with_the_path(void **state) {
  (void)state;
  char *dir = new_dir();
  const char *b = install(dir, "cyc_b-v1", "cyc_b", 0);
  const char *a = install(dir, "cyc_a-v1", "cyc_a", 1);
  assert_int_equal(reload(b, a, NULL), HOTSWAP_ECYCLE);
  assert_string_equal(rep.error, "libcyc_a.so: import: import cycle cyc_a -> cyc_b -> cyc_a");
  assert_int_equal(count_in_log("cyc_a@1:on_free"), 1);
  assert_int_equal(count_in_log("cyc_b@1:on_free"), 1);
  assert_null(strstr(hook_log, "on_load"));
  void *t;
  assert_int_equal(ldr_route("cyc_a_answer", &t), HOTSWAP_ENOTFOUND);
  assert_null(ldr_registry_find("cyc_a"));
  rm_dir(dir);
}

static void import__unknown_plugin_on_first_load__is_rejected(void **state) {
  (void)state;
  char *dir = new_dir();
  const char *u = install(dir, "uk-v1", "uk", 0);
  assert_int_equal(reload(u, NULL), HOTSWAP_ENOPLUGIN);
  assert_string_equal(rep.error, "libuk.so: import: imports unknown plugin 'nosuch'");
  assert_int_equal(count_in_log("uk@1:on_free"), 1);
  void *t;
  assert_int_equal(ldr_route("uk_answer", &t), HOTSWAP_ENOTFOUND);
  rm_dir(dir);
}

static void names__duplicate_file_or_note_name__is_rejected(void **state) {
  (void)state;
  char *d1 = new_dir(), *d2 = new_dir();
  const char *x = install(d1, "dup-v1", "dup", 0);
  const char *y = install(d2, "dup-v1", "dup", 1);
  assert_int_equal(reload(x, y, NULL), HOTSWAP_EDUPNAME);
  char want[WANT_MAX];
  snprintf(want, sizeof(want), "libdup.so: snapshot: duplicate plugin name 'dup' (also '%s')",
           x);
  assert_string_equal(rep.error, want);
  assert_string_equal(hook_log, ""); /* nothing was loaded */
  /* The note's name wins over the file name. */
  const char *z = install(d2, "notedup-v1", "notedup", 2);
  assert_int_equal(reload(x, z, NULL), HOTSWAP_EDUPNAME);
  snprintf(want, sizeof(want),
           "libnotedup.so: snapshot: duplicate plugin name 'dup' (also '%s')", x);
  assert_string_equal(rep.error, want);
  assert_int_equal(reload(z, NULL), 0);
  assert_string_equal(rep.plugins[0].name, "dup");
  assert_int_equal(call_int("notedup_answer"), 1);
  rm_dir(d1);
  rm_dir(d2);
}

/* ---- no-op, pinning ------------------------------------------------------------------ */

static void unchanged__same_file__is_a_no_op(void **state) {
  (void)state;
  char *dir = new_dir();
  const char *s = install(dir, "same-v1", "same", 0);
  assert_int_equal(reload(s, NULL), 0);
  uint64_t gen = generation();
  install(dir, "same-v1", "same", 0); /* same bytes, new inode and mtime */
  assert_int_equal(reload(s, NULL), 0);
  assert_false(rep.committed);
  assert_int_equal(rep.generation, gen);
  assert_int_equal(generation(), gen);
  assert_int_equal(result_of("same")->action, LDR_UNCHANGED);
  assert_string_equal(hook_log, "");
  assert_int_equal(ldr_registry_find("same")->n_versions, 1);
  char line[512];
  ldr_report_format(&rep, line, sizeof(line));
  assert_non_null(strstr(line, "nothing to reload"));
  assert_non_null(strstr(line, " same unchanged"));
  rm_dir(dir);
}

static void pinned__not_reloadable__is_kept(void **state) {
  (void)state;
  char *dir = new_dir();
  const char *p = install(dir, "pin-v1", "pin", 0);
  assert_int_equal(reload(p, NULL), 0);
  uint64_t gen = generation();
  install(dir, "pin-v2", "pin", 0);
  assert_int_equal(reload(p, NULL), 0);
  assert_string_equal(hook_log, "pin@1:reloadable "); /* asked, and nothing of v2 ran */
  assert_int_equal(result_of("pin")->action, LDR_PINNED);
  assert_false(rep.committed);
  assert_int_equal(generation(), gen);
  assert_int_equal(call_int("pin_answer"), 1);
  char line[512];
  ldr_report_format(&rep, line, sizeof(line));
  assert_non_null(strstr(line, "pin not reloadable, kept"));
  rm_dir(dir);
}

static void pinned__importing_a_reloadable_plugin__is_rejected(void **state) {
  (void)state;
  char *dir = new_dir();
  const char *b = install(dir, "pinbad-v1", "pinbad", 0);
  const char *t = install(dir, "pintarget-v1", "pintarget", 1);
  assert_int_equal(reload(b, t, NULL), HOTSWAP_EDEPEND);
  assert_string_equal(rep.error, "libpinbad.so: import: is not reloadable but imports "
                                 "reloadable plugin 'pintarget'");
  assert_int_equal(count_in_log("on_free"), 2);
  rm_dir(dir);
}

/* ---- chains and dependency following ------------------------------------------------- */

/* gamma imports beta imports alpha: total = own + 10 * imported total. */
static void chain__three_plugins__reload_together_and_follow(void **state) {
  (void)state;
  char *dir = new_dir();
  const char *g = install(dir, "gamma-v1", "gamma", 0);
  const char *b = install(dir, "beta-v1", "beta", 1);
  const char *a = install(dir, "alpha-v1", "alpha", 2);
  assert_int_equal(reload(g, b, a, NULL), 0);
  assert_int_equal(call_int("gamma_total"), 111);
  install(dir, "gamma-v2", "gamma", 0);
  install(dir, "beta-v2", "beta", 1);
  install(dir, "alpha-v2", "alpha", 2);
  assert_int_equal(reload(g, b, a, NULL), 0);
  assert_non_null(strstr(hook_log, "alpha@2:on_load beta@2:on_load gamma@2:on_load "));
  assert_int_equal(call_int("gamma_total"), 222);
  assert_int_equal(call_int("alpha_answer"), 2);
  /* Only alpha changes: beta and gamma are loaded again from their unchanged files so that
   * their imports see alpha v3 (the choice documented in loader.h). */
  install(dir, "alpha-v3", "alpha", 2);
  assert_int_equal(reload(g, b, a, NULL), 0);
  assert_int_equal(result_of("alpha")->action, LDR_RELOADED);
  assert_int_equal(result_of("beta")->action, LDR_FOLLOWED);
  assert_int_equal(result_of("gamma")->action, LDR_FOLLOWED);
  assert_string_equal(result_of("beta")->old_version, result_of("beta")->new_version);
  assert_non_null(strstr(hook_log, "alpha@3:on_load beta@2:on_load gamma@2:on_load "));
  assert_int_equal(call_int("gamma_total"), 322);
  char line[1024];
  ldr_report_format(&rep, line, sizeof(line));
  print_message("%s\n", line); /* the timing the shim will log */
  assert_non_null(strstr(line, " beta "));
  assert_non_null(strstr(line, " (import changed)"));
  /* Also when only alpha is named: the registry knows who imports it. */
  install(dir, "alpha-v1", "alpha", 2);
  assert_int_equal(reload(a, NULL), 0);
  assert_int_equal(call_int("gamma_total"), 122);
  assert_int_equal(ldr_registry_find("gamma")->n_versions, 4);
  rm_dir(dir);
}

/* ---- self-binding -------------------------------------------------------------------- */

/* v1 sits in the global scope (as if the host linked it); v2 loaded by the loader must still
 * call its own inner(): 10 * 2 + 2 = 22, not 10 * 1 + 2 = 12. */
static void self_bind_case(const char *prefix) {
  char fx1[4096], sym[64], sym_ptr[64];
  snprintf(fx1, sizeof(fx1), "%s/%s-v1.so", LIFE_FIXTURE_DIR, prefix);
  snprintf(sym, sizeof(sym), "%s_answer", prefix);
  snprintf(sym_ptr, sizeof(sym_ptr), "%s_ptr_answer", prefix);
  void *v1 = dlopen(fx1, RTLD_NOW | RTLD_GLOBAL);
  assert_non_null(v1);
  int (*v1_answer)(void) = (int (*)(void))dlsym(v1, sym);
  assert_int_equal(v1_answer(), 11);
  char *dir = new_dir();
  char fx2[64];
  snprintf(fx2, sizeof(fx2), "%s-v2", prefix);
  /* Control: v2 loaded plainly (RTLD_LOCAL) reaches v1's inner - the problem being solved. */
  const char *plain = install(dir, fx2, "plain", 1);
  void *h = dlopen(plain, RTLD_NOW | RTLD_LOCAL);
  assert_non_null(h);
  assert_int_equal(((int (*)(void))dlsym(h, sym))(), 12);
  assert_int_equal(((int (*)(void))dlsym(h, sym_ptr))(), 12);
  dlclose(h);
  const char *p = install(dir, fx2, prefix, 0);
  assert_int_equal(reload(p, NULL), 0);
  assert_int_equal(call_int(sym), 22);
  assert_int_equal(call_int(sym_ptr), 22);
  assert_true(ldr_registry_find(prefix)->current->self_bound >= 1);
  assert_int_equal(v1_answer(), 11); /* v1 itself is untouched */
  rm_dir(dir);
}

static void self_bind__lazy_no_relro__calls_reach_new_version(void **state) {
  (void)state;
  self_bind_case("sbl");
}

static void self_bind__now_relro__calls_reach_new_version(void **state) {
  (void)state;
  self_bind_case("sbn");
}

static void self_bind__no_plt__calls_reach_new_version(void **state) {
  (void)state;
  self_bind_case("sbp");
}

/* ---- GOT walker ---------------------------------------------------------------------- */

struct seen {
  void **jump_slot, **glob_dat;
  void *self_def;
  size_t n;
  bool undefined_seen;
};

static int seen_cb(const struct ldr_got_entry *e, void *arg) {
  struct seen *s = arg;
  s->n++;
  if (strcmp(e->name, "sbw_inner") == 0 && e->kind == LDR_GOT_JUMP_SLOT) {
    assert_int_equal(e->sym_type, STT_FUNC);
    s->self_def = e->self_def;
    s->jump_slot = e->slot;
  } else if (strcmp(e->name, "sbw_inner2") == 0 && e->kind == LDR_GOT_GLOB_DAT) {
    s->glob_dat = e->slot;
  } else if (e->self_def == NULL) {
    s->undefined_seen = true;
  }
  return 0;
}

static int seen_phdr_cb(struct dl_phdr_info *info, size_t size, void *arg) {
  (void)size;
  struct seen *s = arg;
  if (info->dlpi_name == NULL || strstr(info->dlpi_name, "/sbw-v1.so") == NULL)
    return 0;
  assert_int_equal(ldr_got_foreach_phdr(info, seen_cb, s, NULL), 0);
  return 1;
}

static int seven(void) { return 7; }

/* Permissions of the mapping that holds addr, e.g. "r--p". */
static void perms_of(const void *addr, char out[5]) {
  FILE *f = fopen("/proc/self/maps", "r");
  assert_non_null(f);
  char line[512];
  out[0] = '\0';
  while (fgets(line, sizeof(line), f) != NULL) {
    unsigned long lo, hi;
    char p[5];
    if (sscanf(line, "%lx-%lx %4s", &lo, &hi, p) == 3 && (uintptr_t)addr >= lo &&
        (uintptr_t)addr < hi)
      memcpy(out, p, 5);
  }
  fclose(f);
}

static void got__walk_and_write__route_calls_and_restore_relro(void **state) {
  (void)state;
  void *h = dlopen(LIFE_FIXTURE_DIR "/sbw-v1.so", RTLD_NOW | RTLD_LOCAL);
  assert_non_null(h);
  struct link_map *map = NULL;
  assert_int_equal(dlinfo(h, RTLD_DI_LINKMAP, &map), 0);
  struct seen s = {0};
  char err[LDR_ERR_MAX];
  assert_int_equal(ldr_got_foreach(map, seen_cb, &s, err), 0);
  assert_non_null(s.jump_slot);
  assert_non_null(s.glob_dat);
  assert_ptr_equal(s.self_def, dlsym(h, "sbw_inner"));
  assert_true(s.undefined_seen); /* e.g. __cxa_finalize: not defined by the plugin */
  struct seen s2 = {0};
  assert_int_equal(dl_iterate_phdr(seen_phdr_cb, &s2), 1);
  assert_int_equal(s2.n, s.n);
  assert_ptr_equal(s2.jump_slot, s.jump_slot);
  /* -z relro: the GLOB_DAT entry is read-only; a write opens and closes its page. */
  char perm[5];
  perms_of(s.glob_dat, perm);
  assert_string_equal(perm, "r--p");
  assert_int_equal(ldr_got_write(s.jump_slot, (void *)seven), 0);
  assert_int_equal(ldr_got_write(s.glob_dat, (void *)seven), 0);
  perms_of(s.glob_dat, perm);
  assert_string_equal(perm, "r--p");
  assert_int_equal(((int (*)(void))dlsym(h, "sbw_answer"))(), 71);
  assert_int_equal(((int (*)(void))dlsym(h, "sbw_ptr_answer"))(), 71);
  /* Binding itself puts them back. */
  size_t bound = 0;
  assert_int_equal(ldr_got_bind_self(map, &bound, err), 0);
  assert_int_equal(bound, 2);
  assert_int_equal(((int (*)(void))dlsym(h, "sbw_answer"))(), 11);
  assert_int_equal(ldr_got_write((void **)8, NULL), -EFAULT);
  dlclose(h);
}

/* ---- absolute pointers: dispatch tables ---------------------------------------------- */

struct abs_seen {
  void **slot_one, **slot_two;
  void *def_one;
  size_t n_abs;
};

static int abs_seen_cb(const struct ldr_got_entry *e, void *arg) {
  struct abs_seen *s = arg;
  if (e->kind != LDR_GOT_ABS)
    return 0;
  s->n_abs++;
  assert_int_equal(e->sym_type, STT_FUNC);
  if (strcmp(e->name, "abt_one") == 0) {
    s->slot_one = e->slot;
    s->def_one = e->self_def;
  } else if (strcmp(e->name, "abt_two") == 0) {
    s->slot_two = e->slot;
  }
  return 0;
}

/* The walker reports the two table entries of abt v1 as ABS, slot = the table's pointer. */
static void got__static_table__is_listed_as_abs_entries(void **state) {
  (void)state;
  void *h = dlopen(LIFE_FIXTURE_DIR "/abt-v1.so", RTLD_NOW | RTLD_LOCAL);
  assert_non_null(h);
  struct link_map *map = NULL;
  assert_int_equal(dlinfo(h, RTLD_DI_LINKMAP, &map), 0);
  struct abs_seen s = {0};
  char err[LDR_ERR_MAX];
  assert_int_equal(ldr_got_foreach(map, abs_seen_cb, &s, err), 0);
  assert_int_equal(s.n_abs, 2);
  assert_non_null(s.slot_one);
  assert_ptr_equal(s.slot_two, s.slot_one + 2); /* {name, fn} pairs */
  assert_ptr_equal(*s.slot_one, dlsym(h, "abt_one"));
  assert_ptr_equal(s.def_one, dlsym(h, "abt_one"));
  char perm[5];
  perms_of(s.slot_one, perm);
  assert_string_equal(perm, "r--p"); /* .data.rel.ro under -z relro */
  dlclose(h);
}

/* v1 sits in the global scope; v2's own table must reach v2: dispatch("one") is 21, not 11. */
static void abs__own_table__reaches_new_version(void **state) {
  (void)state;
  void *v1 = dlopen(LIFE_FIXTURE_DIR "/abt-v1.so", RTLD_NOW | RTLD_GLOBAL);
  assert_non_null(v1);
  int (*v1_dispatch)(const char *) = (int (*)(const char *))dlsym(v1, "abt_dispatch");
  assert_int_equal(v1_dispatch("one"), 11);
  char *dir = new_dir();
  /* Control: v2 loaded plainly: its table entries point at v1's functions. */
  const char *plain = install(dir, "abt-v2", "plain", 1);
  void *h = dlopen(plain, RTLD_NOW | RTLD_LOCAL);
  assert_non_null(h);
  assert_int_equal(((int (*)(const char *))dlsym(h, "abt_dispatch"))("one"), 11);
  dlclose(h);
  const char *p = install(dir, "abt-v2", "abt", 0);
  assert_int_equal(reload(p, NULL), 0);
  void *tramp = NULL;
  assert_int_equal(ldr_route("abt_dispatch", &tramp), 0);
  int (*dispatch)(const char *) = (int (*)(const char *))tramp;
  assert_int_equal(dispatch("one"), 21);
  assert_int_equal(dispatch("two"), 22);
  assert_int_equal(dispatch("three"), -1);
  assert_int_equal(ldr_registry_find("abt")->current->self_bound, 2);
  assert_int_equal(v1_dispatch("one"), 11); /* v1's table is untouched */
  rm_dir(dir);
}

/* ---- status and retirement records --------------------------------------------------- */

static void status__reports_plugins_and_last_result(void **state) {
  (void)state;
  char *dir = new_dir();
  const char *p = install(dir, "stat-v1", "stat", 0);
  assert_int_equal(reload(p, NULL), 0);
  install(dir, "stat-v2", "stat", 0);
  assert_int_equal(reload(p, NULL), 0);
  uint64_t gen = generation();
  assert_int_equal(unlink(p), 0);
  assert_int_equal(reload(p, NULL), -ENOENT);
  struct ldr_status st;
  assert_int_equal(ldr_status_get(&st), 0);
  assert_true(st.has_generation);
  assert_int_equal(st.generation, gen);
  assert_int_equal(st.last_rc, -ENOENT);
  char want[WANT_MAX];
  snprintf(want, sizeof(want),
           "libstat.so: snapshot: cannot open '%s': No such file or directory", p);
  assert_string_equal(st.last_error, want);
  assert_true(st.reloads >= 3 && st.failures >= 1);
  const struct ldr_plugin_status *ps = NULL;
  for (size_t i = 0; i < st.n_plugins; i++) {
    if (i > 0)
      assert_true(strcmp(st.plugins[i - 1].name, st.plugins[i].name) < 0);
    if (strcmp(st.plugins[i].name, "stat") == 0)
      ps = &st.plugins[i];
  }
  assert_non_null(ps);
  assert_string_equal(ps->path, p);
  assert_true(ps->reloadable);
  assert_int_equal(ps->routed, 5);
  assert_int_equal(ps->loads, 2);
  assert_int_equal(ps->versions_loaded, 2);
  assert_int_equal(ps->last_action, LDR_FAILED);
  /* Retirement records: text ranges hold the code, generations referencing each version. */
  struct ldr_plugin *pl = ldr_registry_find("stat");
  assert_string_equal(ps->version, pl->current->version);
  uintptr_t fn = (uintptr_t)dlsym(pl->current->handle, "stat_answer");
  bool inside = false;
  for (size_t i = 0; i < pl->current->n_text; i++)
    inside |= fn >= pl->current->text[i].start && fn < pl->current->text[i].end;
  assert_true(inside);
  assert_int_equal(pl->current->n_gens, 1);
  assert_int_equal(pl->current->gens[0], gen);
  assert_int_equal(pl->current->older->n_gens, 1);
  assert_int_equal(pl->current->older->gens[0], gen - 1);
  assert_non_null(pl->current->on_free);
  const struct ldr_gen_refs *refs = ldr_gen_current()->user;
  bool referenced = false;
  for (size_t i = 0; i < refs->n; i++)
    referenced |= refs->v[i] == pl->current;
  assert_true(referenced);
  ldr_status_free(&st);
  rm_dir(dir);
}

/* ---- locking: no loader lock is held while plugin code runs ------------------------- */

/* What fx_callback (the lk fixtures' hotswap_on_init) does. */
enum cb_mode { CB_NONE, CB_STATUS, CB_RELOAD, CB_BLOCK };
static _Atomic int cb_mode;
/* CB_STATUS: what the hook saw. */
static int cb_status_rc;
static struct ldr_status cb_status;
/* CB_RELOAD: what the nested call returned. */
static int cb_reload_rc;
static char cb_reload_error[LDR_ERR_MAX];
static char cb_reload_line[LDR_ERR_MAX + 32];
/* CB_BLOCK: the hook writes a byte to entered[1], then waits for one on release[0]. */
static int entered[2], release_[2];

int fx_callback(const char *plugin, const char *event);
int fx_callback(const char *plugin, const char *event) {
  (void)plugin;
  (void)event;
  switch (cb_mode) {
  case CB_STATUS:
    cb_status_rc = ldr_status_get(&cb_status);
    return 0;
  case CB_RELOAD: {
    struct ldr_report r;
    cb_reload_rc = ldr_reload(NULL, 0, NULL, &r);
    snprintf(cb_reload_error, sizeof(cb_reload_error), "%s", r.error);
    ldr_report_format(&r, cb_reload_line, sizeof(cb_reload_line));
    ldr_report_free(&r);
    return 0;
  }
  case CB_BLOCK: {
    char c = 'e';
    if (write(entered[1], &c, 1) != 1 || read(release_[0], &c, 1) != 1)
      return -99;
    return 0;
  }
  default:
    return 0;
  }
}

static const struct ldr_plugin_status *status_of(const struct ldr_status *st, const char *n) {
  for (size_t i = 0; i < st->n_plugins; i++) {
    if (strcmp(st->plugins[i].name, n) == 0)
      return &st->plugins[i];
  }
  return NULL;
}

static char *lk_dir;

/* lk v1 loaded once for the locking tests. */
static void lk_setup_once(void) {
  if (lk_dir != NULL)
    return;
  lk_dir = new_dir();
  cb_mode = CB_NONE;
  assert_int_equal(reload(install(lk_dir, "lk-v1", "lk", 5), NULL), 0);
  assert_int_equal(call_int("lk_answer"), 1);
}

/* on_init of v2 asks for the status: it gets it (no deadlock) and sees the generation and the
 * version that serve until the commit, with a reload in progress. */
static void locking__hook_calls_status__sees_old_generation(void **state) {
  (void)state;
  lk_setup_once();
  uint64_t gen = generation();
  char v1[LDR_VERSION_MAX];
  snprintf(v1, sizeof(v1), "%s", ldr_registry_find("lk")->current->version);
  cb_mode = CB_STATUS;
  assert_int_equal(reload(install(lk_dir, "lk-v2", "lk", 5), NULL), 0);
  cb_mode = CB_NONE;
  assert_true(rep.committed);
  assert_int_equal(rep.generation, gen + 1);
  assert_int_equal(cb_status_rc, 0);
  assert_true(cb_status.reloading);
  assert_int_equal(cb_status.generation, gen);
  const struct ldr_plugin_status *ps = status_of(&cb_status, "lk");
  assert_non_null(ps);
  assert_string_equal(ps->version, v1);
  assert_int_equal(ps->loads, 1);
  ldr_status_free(&cb_status);
  struct ldr_status st;
  assert_int_equal(ldr_status_get(&st), 0);
  assert_false(st.reloading);
  assert_int_equal(st.generation, gen + 1);
  assert_int_equal(status_of(&st, "lk")->loads, 2);
  ldr_status_free(&st);
  assert_int_equal(call_int("lk_answer"), 2);
}

/* on_init of v3 calls ldr_reload: refused at once with -EDEADLK and a reason; the outer
 * reload goes on and commits, and the refused call is not counted. */
static void locking__hook_calls_reload__gets_edeadlk(void **state) {
  (void)state;
  lk_setup_once();
  struct ldr_status before;
  assert_int_equal(ldr_status_get(&before), 0);
  cb_mode = CB_RELOAD;
  assert_int_equal(reload(install(lk_dir, "lk-v3", "lk", 5), NULL), 0);
  cb_mode = CB_NONE;
  assert_int_equal(cb_reload_rc, -EDEADLK);
  assert_string_equal(cb_reload_error, "reload called from inside a plugin hook");
  assert_string_equal(cb_reload_line, "reload failed: reload called from inside a plugin hook");
  assert_true(rep.committed);
  assert_int_equal(call_int("lk_answer"), 3);
  struct ldr_status st;
  assert_int_equal(ldr_status_get(&st), 0);
  assert_int_equal(st.reloads, before.reloads + 1);
  assert_int_equal(st.failures, before.failures);
  assert_int_equal(st.last_rc, 0);
  ldr_status_free(&st);
  ldr_status_free(&before);
}

static uint64_t mono_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* A reload run by a thread of its own. */
struct bg_reload {
  pthread_t thread;
  const char *path;
  int rc;
  struct ldr_report rep;
  _Atomic bool done;
};

static void *bg_reload_main(void *arg) {
  struct bg_reload *b = arg;
  const char *list[1] = {b->path};
  struct ldr_reload_opts opts = {.data = &host_data};
  b->rc = ldr_reload(list, 1, &opts, &b->rep);
  b->done = true;
  return NULL;
}

/* While on_init of v1 (a fresh plugin lkb) blocks, a status call from another thread returns
 * at once with the old state, and a second reload from a third thread waits for the first. */
static void locking__status_during_slow_on_init__returns_promptly(void **state) {
  (void)state;
  lk_setup_once();
  assert_int_equal(pipe(entered), 0);
  assert_int_equal(pipe(release_), 0);
  uint64_t gen = generation();
  struct bg_reload first = {.path = install(lk_dir, "lkb-v1", "lkb", 6)};
  struct bg_reload second = {.path = paths[5]}; /* lk, unchanged */
  cb_mode = CB_BLOCK;
  assert_int_equal(pthread_create(&first.thread, NULL, bg_reload_main, &first), 0);
  char c;
  struct pollfd pf = {.fd = entered[0], .events = POLLIN};
  assert_int_equal(poll(&pf, 1, 10000), 1); /* not forever if the reload failed early */
  assert_int_equal(read(entered[0], &c, 1), 1); /* on_init of lkb is running */
  uint64_t t0 = mono_ns();
  struct ldr_status st;
  assert_int_equal(ldr_status_get(&st), 0);
  uint64_t waited = mono_ns() - t0;
  print_message("status during a blocked on_init took %.3f ms\n", waited / 1e6);
  assert_true(waited < 50 * 1000000ull);
  assert_true(st.reloading);
  assert_int_equal(st.generation, gen);
  assert_null(status_of(&st, "lkb"));
  ldr_status_free(&st);
  assert_int_equal(pthread_create(&second.thread, NULL, bg_reload_main, &second), 0);
  usleep(300 * 1000); /* on_init stays blocked for 300 ms: the second reload must wait */
  assert_false(second.done);
  assert_false(first.done);
  assert_int_equal(write(release_[1], "r", 1), 1);
  assert_int_equal(pthread_join(first.thread, NULL), 0);
  assert_int_equal(pthread_join(second.thread, NULL), 0);
  cb_mode = CB_NONE;
  assert_int_equal(first.rc, 0);
  assert_true(first.rep.committed);
  assert_int_equal(first.rep.generation, gen + 1);
  assert_int_equal(second.rc, 0);
  assert_false(second.rep.committed);
  assert_int_equal(second.rep.plugins[0].action, LDR_UNCHANGED);
  assert_true(second.rep.elapsed_ns < 250 * 1000000ull); /* the wait is not timed */
  assert_int_equal(call_int("lkb_answer"), 1);
  ldr_report_free(&first.rep);
  ldr_report_free(&second.rep);
  for (int i = 0; i < 2; i++) {
    close(entered[i]);
    close(release_[i]);
  }
  rm_dir(lk_dir);
  lk_dir = NULL;
}

/* ---- files and folders other users may write ---------------------------------------- */

/* A plugin file every user may write is refused, naming the path and its mode; with
 * allow_insecure it loads. */
static void insecure__world_writable_file__is_refused_unless_allowed(void **state) {
  (void)state;
  char *dir = new_dir();
  const char *p = install(dir, "ins-v1", "ins", 0);
  assert_int_equal(chmod(p, 0666), 0);
  uint64_t gen = generation();
  assert_int_equal(reload(p, NULL), HOTSWAP_EINSECURE);
  char want[WANT_MAX];
  snprintf(want, sizeof(want),
           "libins.so: snapshot: '%s' is writable by every user (mode 0666): another user "
           "could replace the plugin; fix with chown root or chmod go-w, or set HOTSWAP_INSECURE=1",
           p);
  assert_string_equal(rep.error, want);
  assert_int_equal(generation(), gen);
  assert_string_equal(hook_log, "");
  opt_insecure = true;
  assert_int_equal(reload(p, NULL), 0);
  opt_insecure = false;
  assert_int_equal(result_of("ins")->action, LDR_LOADED);
  assert_int_equal(call_int("ins_answer"), 1);
  rm_dir(dir);
}

/* The same for its folder; a sticky folder (like /tmp) is accepted. */
static void insecure__world_writable_folder__is_refused_unless_allowed(void **state) {
  (void)state;
  char *dir = new_dir();
  const char *p = install(dir, "insd-v1", "insd", 0);
  assert_int_equal(chmod(dir, 0777), 0);
  assert_int_equal(reload(p, NULL), HOTSWAP_EINSECURE);
  char want[WANT_MAX];
  snprintf(want, sizeof(want),
           "libinsd.so: snapshot: folder '%s' is writable by every user (mode 0777): another "
           "user could replace the plugin; fix with chown root or chmod go-w, or set "
           "HOTSWAP_INSECURE=1",
           dir);
  assert_string_equal(rep.error, want);
  char line[LDR_ERR_MAX + 32];
  ldr_report_format(&rep, line, sizeof(line));
  assert_non_null(strstr(line, "reload failed: libinsd.so: snapshot: folder '"));
  assert_int_equal(chmod(dir, 01777), 0);
  assert_int_equal(reload(p, NULL), 0);
  install(dir, "insd-v2", "insd", 0);
  assert_int_equal(chmod(dir, 0777), 0);
  assert_int_equal(reload(p, NULL), HOTSWAP_EINSECURE);
  assert_int_equal(call_int("insd_answer"), 1);
  opt_insecure = true;
  assert_int_equal(reload(p, NULL), 0);
  opt_insecure = false;
  assert_int_equal(result_of("insd")->action, LDR_RELOADED);
  assert_int_equal(call_int("insd_answer"), 2);
  assert_int_equal(chmod(dir, 0700), 0);
  rm_dir(dir);
}

/* Trust like sudo and OpenSSH: a group-writable file; a symlink whose target lies in a
 * folder every user may write; as root, another user's file in a sticky folder (like /tmp)
 * and a folder that belongs to another user. Each refusal names the path and the reason. */
static void insecure__group_write_symlink_target_and_owner__are_refused(void **state) {
  (void)state;
  char *dir = new_dir();
  const char *p = install(dir, "ins-v1", "ins", 0);
  char path[4096];
  snprintf(path, sizeof(path), "%s", p);
  assert_int_equal(chmod(path, 0664), 0);
  assert_int_equal(reload(path, NULL), HOTSWAP_EINSECURE);
  assert_non_null(strstr(rep.error, "' is writable by its group (mode 0664): another user"));
  assert_int_equal(chmod(path, 0644), 0);

  /* A symlink in a trusted folder pointing into a world-writable one. */
  char open_dir[1024], target[2048], link[2048];
  snprintf(open_dir, sizeof(open_dir), "%.1000s/open", dir);
  assert_int_equal(mkdir(open_dir, 0755), 0);
  assert_int_equal(chmod(open_dir, 0777), 0);
  snprintf(target, sizeof(target), "%.1000s/libins.so", open_dir);
  assert_int_equal(rename(path, target), 0);
  snprintf(link, sizeof(link), "%.1000s/libins.so", dir);
  assert_int_equal(symlink(target, link), 0);
  assert_int_equal(reload(link, NULL), HOTSWAP_EINSECURE);
  char want[WANT_MAX];
  snprintf(want, sizeof(want), "folder '%s' is writable by every user (mode 0777)", open_dir);
  assert_non_null(strstr(rep.error, want));
  assert_int_equal(chmod(open_dir, 0755), 0);
  assert_int_equal(reload(link, NULL), 0);

  if (geteuid() == 0) {
    /* Another user's file in a sticky folder others may write (like /tmp). */
    assert_int_equal(chmod(open_dir, 01777), 0);
    assert_int_equal(chown(target, 65534, 65534), 0);
    assert_int_equal(reload(link, NULL), HOTSWAP_EINSECURE);
    snprintf(want, sizeof(want), "'%s' belongs to uid 65534, not to root or to the daemon's",
             link);
    assert_non_null(strstr(rep.error, want));
    assert_int_equal(chown(target, 0, 0), 0);
    assert_int_equal(chmod(open_dir, 0755), 0);
    /* A folder on the way that another user owns. */
    assert_int_equal(chown(open_dir, 65534, 65534), 0);
    assert_int_equal(reload(link, NULL), HOTSWAP_EINSECURE);
    snprintf(want, sizeof(want), "folder '%s' belongs to uid 65534", open_dir);
    assert_non_null(strstr(rep.error, want));
    assert_int_equal(chown(open_dir, 0, 0), 0);
  }
  rm_dir(dir);
}

/* ---- a dropped function: does anything call it? ------------------------------------- */

/* elf/'s fixtures normal.so and dropped.so (plugin "fixture"; dropped.so lacks handle_stats),
 * built next to this test's own fixtures. */
#define ELF_FIXTURE(name) "../fixtures/" name

/* Until something was routed to handle_stats, the refusal says only the running version
 * exports it; once its trampoline was handed out (as the shim does for a retrofitted GOT
 * entry, a dlsym or hotswap_fn), it says the server calls it. Either way the running
 * version keeps serving, and the step is named. */
static void drops__reason__says_whether_the_server_calls_the_function(void **state) {
  (void)state;
  char *dir = new_dir();
  const char *p = install(dir, ELF_FIXTURE("normal"), "fixture", 0);
  assert_int_equal(reload(p, NULL), 0);
  assert_false(ldr_route_handed_out("handle_stats"));
  uint64_t gen = generation();
  install(dir, ELF_FIXTURE("dropped"), "fixture", 0);
  assert_int_equal(reload(p, NULL), HOTSWAP_EINCOMPAT);
  assert_string_equal(rep.error, "libfixture.so: validate: drops function 'handle_stats' "
                                 "(the running version exports it; no caller was routed "
                                 "to it)");
  assert_false(ldr_route_handed_out("handle_stats")); /* validation routes nothing */
  assert_int_equal(call_int("handle_stats"), 42);
  assert_true(ldr_route_handed_out("handle_stats"));
  assert_int_equal(reload(p, NULL), HOTSWAP_EINCOMPAT);
  assert_string_equal(rep.error,
                      "libfixture.so: validate: drops function 'handle_stats' that the server "
                      "calls");
  char line[LDR_ERR_MAX + 32];
  ldr_report_format(&rep, line, sizeof(line));
  assert_string_equal(line, "reload failed: libfixture.so: validate: drops function "
                            "'handle_stats' that the server calls");
  assert_int_equal(generation(), gen);
  assert_int_equal(call_int("handle_stats"), 42);
  assert_false(ldr_route_handed_out("no_such_function"));
  assert_false(ldr_route_handed_out(NULL));
  rm_dir(dir);
}

static int teardown_all(void **state) {
  (void)state;
  ldr_report_free(&rep);
  return 0;
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(lifecycle__hooks__run_in_dependency_then_name_order),
      cmocka_unit_test(failure__snapshot_missing_file__old_generation_serves),
      cmocka_unit_test(failure__validate_dropped_function__old_generation_serves),
      cmocka_unit_test(failure__dlopen_unresolved_symbol__old_generation_serves),
      cmocka_unit_test(failure__import_unknown_plugin__old_generation_serves),
      cmocka_unit_test(failure__on_load_nonzero__old_generation_serves),
      cmocka_unit_test(failure__on_init_nonzero__old_generation_serves),
      cmocka_unit_test(failure__then_good_build__reloads),
      cmocka_unit_test(import__cycle__is_rejected_with_the_path),
      cmocka_unit_test(import__unknown_plugin_on_first_load__is_rejected),
      cmocka_unit_test(names__duplicate_file_or_note_name__is_rejected),
      cmocka_unit_test(unchanged__same_file__is_a_no_op),
      cmocka_unit_test(pinned__not_reloadable__is_kept),
      cmocka_unit_test(pinned__importing_a_reloadable_plugin__is_rejected),
      cmocka_unit_test(chain__three_plugins__reload_together_and_follow),
      cmocka_unit_test(self_bind__lazy_no_relro__calls_reach_new_version),
      cmocka_unit_test(self_bind__now_relro__calls_reach_new_version),
      cmocka_unit_test(self_bind__no_plt__calls_reach_new_version),
      cmocka_unit_test(got__walk_and_write__route_calls_and_restore_relro),
      cmocka_unit_test(got__static_table__is_listed_as_abs_entries),
      cmocka_unit_test(abs__own_table__reaches_new_version),
      cmocka_unit_test(status__reports_plugins_and_last_result),
      cmocka_unit_test(locking__hook_calls_status__sees_old_generation),
      cmocka_unit_test(locking__hook_calls_reload__gets_edeadlk),
      cmocka_unit_test(locking__status_during_slow_on_init__returns_promptly),
      cmocka_unit_test(insecure__world_writable_file__is_refused_unless_allowed),
      cmocka_unit_test(insecure__world_writable_folder__is_refused_unless_allowed),
      cmocka_unit_test(insecure__group_write_symlink_target_and_owner__are_refused),
      cmocka_unit_test(drops__reason__says_whether_the_server_calls_the_function),
  };
  return cmocka_run_group_tests(tests, NULL, teardown_all);
}
