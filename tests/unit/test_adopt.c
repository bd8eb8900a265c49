/* SPDX-License-Identifier: BSD-3-Clause */
/* test_adopt.c - a program linked against a plugin library (libadopt.so, loaded by ld.so
 * before main, like a legacy server's libhandler.so), as the shim sees it at start-up: the
 * GOT walker lists the absolute pointers of the program's own dispatch table into that
 * library (LDR_GOT_ABS); the first reload with adopt_loaded makes the linked copy
 * generation 0 (and a failed one leaves it alone); a v2 then serves through the trampolines
 * while the linked copy stays mapped; a file changed after ld.so loaded it is refused.
 *
 * The tests run in order: the rollback test needs libadopt.so not yet adopted.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "elf/elf.h"
#include "loader/loader.h"
#include "loader/tramp.h"
#include "tests/unit/hook_log.h"
#include "tests/unit/test_util.h"

#if !defined(LIFE_FIXTURE_DIR) || !defined(ADOPT_LINK_SO)
#error "LIFE_FIXTURE_DIR and ADOPT_LINK_SO must name the fixtures"
#endif

/* ---- the program's own dispatch table into the linked library ------------------------ */

/* Defined by libadopt.so (fx_plugin.c with FX_NAME=adopt). */
int adopt_answer(void);
int adopt_total(void);

struct route {
  const char *name;
  int (*fn)(void);
};

/* In a PIE each fn is an R_X86_64_64 relocation "adopt_answer + 0" in .data.rel.ro, not a
 * GOT entry: the case a legacy server's routing table presents. */
static const struct route routes[] = {{"answer", adopt_answer}, {"total", adopt_total}};
static const struct route *volatile routes_p = routes; /* keep the table in memory */

/* ---- GOT walker ---------------------------------------------------------------------- */

struct main_abs {
  void **answer, **total;
  bool answer_undefined;
};

static int main_abs_cb(const struct ldr_got_entry *e, void *arg) {
  struct main_abs *m = arg;
  if (e->kind != LDR_GOT_ABS)
    return 0;
  if (strcmp(e->name, "adopt_answer") == 0) {
    m->answer = e->slot;
    m->answer_undefined = e->self_def == NULL;
  } else if (strcmp(e->name, "adopt_total") == 0) {
    m->total = e->slot;
  }
  return 0;
}

static void got__program_dispatch_table__is_listed_as_abs_entries(void **state) {
  (void)state;
  void *self = dlopen(NULL, RTLD_NOW);
  assert_non_null(self);
  struct link_map *map = NULL;
  assert_int_equal(dlinfo(self, RTLD_DI_LINKMAP, &map), 0);
  struct main_abs m = {0};
  char err[LDR_ERR_MAX];
  assert_int_equal(ldr_got_foreach(map, main_abs_cb, &m, err), 0);
  assert_ptr_equal(m.answer, (void **)&routes_p[0].fn);
  assert_ptr_equal(m.total, (void **)&routes_p[1].fn);
  assert_true(m.answer_undefined); /* the program only refers to it */
  assert_ptr_equal(*m.answer, dlsym(RTLD_DEFAULT, "adopt_answer"));
  assert_int_equal(routes_p[0].fn(), 1);
}

/* ---- helpers ------------------------------------------------------------------------- */

static int host_data;
static struct ldr_report rep;

static char *new_dir(void) { return tu_new_dir("/tmp/hotswap-adopt.XXXXXX"); }
static void rm_dir(char *dir) { tu_rm_dir(dir); }

/* Copy fixture `fixture` to <dir>/lib<name>.so by a rename, as a deploy does; path in out. */
static void install(const char *dir, const char *fixture, const char *name, char out[4096]) {
  char src[4096];
  snprintf(src, sizeof(src), "%s/%s.so", LIFE_FIXTURE_DIR, fixture);
  snprintf(out, 4096, "%s/lib%s.so", dir, name);
  tu_install(src, out);
}

/* One reload with adopt_loaded of up to two paths (second may be NULL). */
static int reload_adopt(const char *a, const char *b) {
  const char *list[2] = {a, b};
  struct ldr_reload_opts opts = {.data = &host_data, .adopt_loaded = true};
  ldr_report_free(&rep);
  hook_log[0] = '\0';
  return ldr_reload(list, b != NULL ? 2 : 1, &opts, &rep);
}

static const struct ldr_plugin_result *result_of(const char *name) {
  return tu_result_of(&rep, name);
}

static int call_int(const char *symbol) { return tu_call_int(symbol); }

static int is_loaded_cb(struct dl_phdr_info *info, size_t size, void *arg) {
  (void)size;
  return info->dlpi_name != NULL && strcmp(info->dlpi_name, arg) == 0;
}

/* Is an object of this name in the link map? */
static bool is_loaded(const char *name) {
  return dl_iterate_phdr(is_loaded_cb, (void *)name) != 0;
}

/* ---- adoption ------------------------------------------------------------------------ */

/* libadopt.so is adopted, but uk (imports an unknown plugin) fails the transaction: the
 * linked copy gets no hotswap_on_free and stays loaded and serving; nothing is routed. */
static void adopt__failed_transaction__leaves_linked_copy_loaded(void **state) {
  (void)state;
  assert_int_equal(reload_adopt(ADOPT_LINK_SO, LIFE_FIXTURE_DIR "/uk-v1.so"), HOTSWAP_ENOPLUGIN);
  assert_string_equal(rep.error, "uk-v1.so: import: imports unknown plugin 'nosuch'");
  const struct ldr_plugin_result *r = result_of("adopt");
  assert_int_equal(r->action, LDR_ROLLED_BACK);
  assert_true(r->adopted);
  assert_null(r->map);
  assert_false(result_of("uk-v1")->adopted);
  assert_string_equal(hook_log, "adopt@1:reloadable uk@1:reloadable adopt@1:export "
                                "uk@1:export adopt@1:import uk@1:import uk@1:on_free ");
  assert_null(strstr(hook_log, "adopt@1:on_free"));
  assert_true(is_loaded(ADOPT_LINK_SO));
  void *h = dlopen(ADOPT_LINK_SO, RTLD_NOW | RTLD_NOLOAD);
  assert_non_null(h);
  dlclose(h);
  assert_int_equal(adopt_answer(), 1);
  void *t;
  assert_int_equal(ldr_route("adopt_answer", &t), HOTSWAP_ENOTFOUND);
}

/* The linked copy becomes generation 0: hooks of a first load, every function routed to it
 * (the very addresses the program already calls), map is its link_map. */
static void adopt__linked_library__becomes_first_version(void **state) {
  (void)state;
  assert_int_equal(reload_adopt(ADOPT_LINK_SO, NULL), 0);
  assert_true(rep.committed);
  const struct ldr_plugin_result *r = result_of("adopt");
  assert_int_equal(r->action, LDR_ADOPTED);
  assert_true(r->adopted);
  assert_int_equal(r->routed, 5);
  assert_non_null(r->map);
  assert_string_equal(r->map->l_name, ADOPT_LINK_SO);
  assert_string_equal(hook_log, "adopt@1:reloadable adopt@1:export adopt@1:import "
                                "adopt@1:on_load adopt@1:on_init ");
  assert_ptr_equal(ldr_current_target("adopt_answer"), (void *)adopt_answer);
  assert_ptr_equal(ldr_current_target("adopt_total"), (void *)adopt_total);
  assert_int_equal(call_int("adopt_answer"), 1);
  assert_ptr_equal(((void *(*)(void))tu_tramp("adopt_seen_data"))(), &host_data);
  char line[1024], want[256];
  ldr_report_format(&rep, line, sizeof(line));
  snprintf(want, sizeof(want), ": adopt %s adopted (5 symbols)", r->new_version);
  assert_non_null(strstr(line, want));
  assert_string_equal(ldr_action_name(LDR_ADOPTED), "adopted");
  struct ldr_status st;
  assert_int_equal(ldr_status_get(&st), 0);
  assert_int_equal(st.n_plugins, 1);
  assert_true(st.plugins[0].adopted);
  assert_int_equal(st.plugins[0].last_action, LDR_ADOPTED);
  ldr_status_free(&st);
  /* What the shim does next: point the program's table at the trampolines. */
  assert_int_equal(ldr_got_write((void **)&routes_p[0].fn, tu_tramp("adopt_answer")), 0);
  assert_int_equal(ldr_got_write((void **)&routes_p[1].fn, tu_tramp("adopt_total")), 0);
  assert_int_equal(routes_p[0].fn(), 1);
}

/* A v2 from another folder replaces it: trampolines and the retrofitted table reach v2,
 * while the linked copy stays mapped and still answers direct calls. */
static void adopt__then_reload_v2__serves_v2_while_linked_copy_stays_mapped(void **state) {
  (void)state;
  char *dir = new_dir();
  char path[4096];
  install(dir, "adopt-v2", "adopt", path);
  char v1[LDR_VERSION_MAX];
  assert_int_equal(reload_adopt(ADOPT_LINK_SO, NULL), 0); /* unchanged: nothing new */
  assert_int_equal(result_of("adopt")->action, LDR_UNCHANGED);
  assert_false(result_of("adopt")->adopted);
  snprintf(v1, sizeof(v1), "%s", result_of("adopt")->old_version);
  assert_int_equal(reload_adopt(path, NULL), 0);
  const struct ldr_plugin_result *r = result_of("adopt");
  assert_int_equal(r->action, LDR_RELOADED);
  assert_false(r->adopted);
  assert_string_equal(r->old_version, v1);
  assert_non_null(r->map);
  assert_string_not_equal(r->map->l_name, ADOPT_LINK_SO);
  assert_string_equal(hook_log, "adopt@1:reloadable adopt@2:reloadable adopt@2:export "
                                "adopt@2:import adopt@2:on_load adopt@2:on_init ");
  assert_int_equal(call_int("adopt_answer"), 2);
  assert_int_equal(call_int("adopt_extra"), 102);
  assert_int_equal(routes_p[0].fn(), 2); /* the program's table follows */
  assert_int_equal(routes_p[1].fn(), 2);
  assert_int_equal(adopt_answer(), 1); /* the linked copy is still mapped */
  assert_true(is_loaded(ADOPT_LINK_SO));
  struct ldr_status st;
  assert_int_equal(ldr_status_get(&st), 0);
  assert_false(st.plugins[0].adopted);
  assert_int_equal(st.plugins[0].versions_loaded, 2);
  ldr_status_free(&st);
  rm_dir(dir);
}

/* Build-id of a fixture file as lower-case hex. */
static void fixture_build_id(const char *fixture, char *hex, size_t n) {
  char path[4096], err[ELF_ERR_MAX];
  snprintf(path, sizeof(path), "%s/%s.so", LIFE_FIXTURE_DIR, fixture);
  int fd = open(path, O_RDONLY);
  assert_true(fd >= 0);
  struct elf_info *info = NULL;
  assert_int_equal(elf_inspect_fd(fd, NULL, &info, err), 0);
  close(fd);
  assert_true(info->build_id_len > 0);
  hex[0] = '\0';
  for (size_t i = 0; i < info->build_id_len && 2 * i + 3 <= n; i++)
    snprintf(hex + 2 * i, n - 2 * i, "%02x", info->build_id[i]);
  elf_info_free(info);
}

/* The file was replaced after ld.so loaded it: same name, other build-id: refused. */
static void adopt__file_changed_after_load__is_refused(void **state) {
  (void)state;
  char *dir = new_dir();
  char path[4096];
  install(dir, "adoptb-v1", "adoptb", path);
  void *h = dlopen(path, RTLD_NOW | RTLD_GLOBAL); /* what ld.so did at start-up */
  assert_non_null(h);
  install(dir, "adoptb-v2", "adoptb", path);
  assert_int_equal(reload_adopt(path, NULL), HOTSWAP_EINCOMPAT);
  char mem[160], disk[160], want[LDR_ERR_MAX];
  fixture_build_id("adoptb-v1", mem, sizeof(mem));
  fixture_build_id("adoptb-v2", disk, sizeof(disk));
  snprintf(want, sizeof(want),
           "libadoptb.so: adopt: the file changed after the dynamic linker loaded it "
           "(build-id %s in memory, %s on disk); restart the process to run the new build",
           mem, disk);
  assert_string_equal(rep.error, want);
  assert_int_equal(result_of("adoptb")->action, LDR_FAILED);
  assert_false(result_of("adoptb")->adopted);
  assert_string_equal(hook_log, ""); /* nothing of either build ran */
  void *t;
  assert_int_equal(ldr_route("adoptb_answer", &t), HOTSWAP_ENOTFOUND);
  dlclose(h);
  rm_dir(dir);
}

/* A loaded object without a build-id is adopted (nothing to compare). Held by one dlopen
 * reference only, it also shows that a rollback drops exactly the reference it took. */
static void adopt__no_build_id__is_accepted(void **state) {
  (void)state;
  char *dir = new_dir();
  char path[4096];
  install(dir, "adoptn-v1", "adoptn", path);
  void *h = dlopen(path, RTLD_NOW | RTLD_GLOBAL);
  assert_non_null(h);
  struct link_map *map = NULL;
  assert_int_equal(dlinfo(h, RTLD_DI_LINKMAP, &map), 0);
  assert_int_equal(reload_adopt(path, LIFE_FIXTURE_DIR "/uk-v1.so"), HOTSWAP_ENOPLUGIN);
  assert_true(result_of("adoptn")->adopted);
  assert_true(is_loaded(path));
  assert_int_equal(((int (*)(void))dlsym(h, "adoptn_answer"))(), 1);
  assert_int_equal(reload_adopt(path, NULL), 0);
  assert_int_equal(result_of("adoptn")->action, LDR_ADOPTED);
  assert_ptr_equal(result_of("adoptn")->map, map);
  assert_ptr_equal(ldr_current_target("adoptn_answer"), dlsym(h, "adoptn_answer"));
  rm_dir(dir);
}

/* adopt_loaded with a file nobody loaded: an ordinary first load of the snapshot. */
static void adopt__file_not_loaded__is_loaded_from_snapshot(void **state) {
  (void)state;
  char *dir = new_dir();
  char path[4096];
  install(dir, "adoptc-v1", "adoptc", path);
  assert_int_equal(reload_adopt(path, NULL), 0);
  assert_int_equal(result_of("adoptc")->action, LDR_LOADED);
  assert_false(result_of("adoptc")->adopted);
  assert_non_null(strstr(result_of("adoptc")->map->l_name, "/proc/self/fd/"));
  assert_int_equal(call_int("adoptc_answer"), 1);
  assert_false(is_loaded(path));
  rm_dir(dir);
}

static int teardown_all(void **state) {
  (void)state;
  ldr_report_free(&rep);
  return 0;
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(got__program_dispatch_table__is_listed_as_abs_entries),
      cmocka_unit_test(adopt__failed_transaction__leaves_linked_copy_loaded),
      cmocka_unit_test(adopt__linked_library__becomes_first_version),
      cmocka_unit_test(adopt__then_reload_v2__serves_v2_while_linked_copy_stays_mapped),
      cmocka_unit_test(adopt__file_changed_after_load__is_refused),
      cmocka_unit_test(adopt__no_build_id__is_accepted),
      cmocka_unit_test(adopt__file_not_loaded__is_loaded_from_snapshot),
  };
  return cmocka_run_group_tests(tests, NULL, teardown_all);
}
