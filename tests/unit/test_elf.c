/* SPDX-License-Identifier: BSD-3-Clause */
/* test_elf.c - cmocka tests of elf/: inspection of the fixture plugins built by
 * tests/fixtures/module.mk (found through $BUILD/fixtures), the exact reasons of
 * elf_check_compat/elf_check_loadable and of malformed input, and a mutation loop that
 * feeds thousands of damaged copies of normal.so to elf_inspect_mem.
 */
#define _GNU_SOURCE
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "elf/elf.h"

/* ---- helpers ------------------------------------------------------------------------ */

/* This build's machine, and a 64-bit build of the fixture for the other one. */
#if defined(__aarch64__)
#define LD_SO "ld-linux-aarch64.so.1"
#define HOST_EM EM_AARCH64
#define HOST_NAME "AArch64"
#define FOREIGN_SO "x86_64.so"
#define FOREIGN_MSG "is built for x86-64, the running build is AArch64"
#else
#define LD_SO "ld-linux-x86-64.so.2"
#define HOST_EM EM_X86_64
#define HOST_NAME "x86-64"
#define FOREIGN_SO "aarch64.so"
#define FOREIGN_MSG "is built for AArch64, the running build is x86-64"
#endif

static void fixture_path(const char *name, char *buf, size_t n) {
  const char *b = getenv("BUILD");
  snprintf(buf, n, "%s/fixtures/%s", b != NULL && *b != '\0' ? b : "build", name);
}

static unsigned char *load(const char *name, size_t *len) {
  char path[4096];
  fixture_path(name, path, sizeof(path));
  FILE *f = fopen(path, "rb");
  if (f == NULL)
    fail_msg("cannot open fixture %s (run `make fixtures`): %s", path, strerror(errno));
  fseek(f, 0, SEEK_END);
  long sz = ftell(f);
  fseek(f, 0, SEEK_SET);
  unsigned char *buf = malloc((size_t)sz + 1);
  assert_non_null(buf);
  assert_int_equal(fread(buf, 1, (size_t)sz, f), (size_t)sz);
  fclose(f);
  *len = (size_t)sz;
  return buf;
}

static struct elf_info *inspect_opts(const char *name, const struct elf_opts *opts) {
  char path[4096], err[ELF_ERR_MAX] = "";
  fixture_path(name, path, sizeof(path));
  int fd = open(path, O_RDONLY);
  if (fd < 0)
    fail_msg("cannot open fixture %s (run `make fixtures`): %s", path, strerror(errno));
  struct elf_info *info = NULL;
  int rc = elf_inspect_fd(fd, opts, &info, err);
  close(fd);
  if (rc != 0)
    fail_msg("inspecting %s: %d %s", name, rc, err);
  return info;
}

static struct elf_info *inspect(const char *name) {
  return inspect_opts(name, NULL);
}

/* Inspects a buffer that must fail; returns the code and leaves the reason in err. */
static int inspect_bad(const unsigned char *buf, size_t len, char *err) {
  struct elf_info *info = (struct elf_info *)1;
  err[0] = '\0';
  int rc = elf_inspect_mem(buf, len, NULL, &info, err);
  assert_true(rc < 0);
  assert_null(info);
  return rc;
}

static void expect_error(const unsigned char *buf, size_t len, int code, const char *msg) {
  char err[ELF_ERR_MAX];
  assert_int_equal(inspect_bad(buf, len, err), code);
  assert_string_equal(err, msg);
}

/* Exactly these reasons, in this order. */
static void expect_reasons(const struct elf_reasons *why, size_t n, ...) {
  va_list ap;
  va_start(ap, n);
  for (size_t i = 0; i < n && i < why->n; i++)
    assert_string_equal(why->lines[i], va_arg(ap, const char *));
  va_end(ap);
  if (why->n != n)
    fail_msg("got %zu reasons, wanted %zu (first: %s)", why->n, n,
             why->n ? why->lines[0] : "none");
}

static void expect_compat(const char *old_name, const char *new_name, int rc_want, size_t n,
                          const char *r0) {
  struct elf_info *old = inspect(old_name), *new_ = inspect(new_name);
  struct elf_reasons why = {NULL, 0};
  assert_int_equal(elf_check_compat(old, new_, &why), rc_want);
  if (n == 0)
    expect_reasons(&why, 0);
  else
    expect_reasons(&why, 1, r0);
  elf_reasons_free(&why);
  elf_info_free(old);
  elf_info_free(new_);
}

static void expect_loadable(const char *name, int rc_want, size_t n, const char *r0,
                            const char *r1) {
  struct elf_info *info = inspect(name);
  struct elf_reasons why = {NULL, 0};
  assert_int_equal(elf_check_loadable(info, &why), rc_want);
  expect_reasons(&why, n, r0, r1);
  elf_reasons_free(&why);
  elf_info_free(info);
}

/* Native ELF64 views into a fixture buffer, to damage it on purpose. */
static Elf64_Ehdr *ehdr(unsigned char *buf) {
  return (Elf64_Ehdr *)buf;
}
static Elf64_Shdr *shdr(unsigned char *buf, size_t i) {
  return (Elf64_Shdr *)(buf + ehdr(buf)->e_shoff + i * sizeof(Elf64_Shdr));
}
static size_t find_sec(unsigned char *buf, const char *name) {
  const char *names = (const char *)buf + shdr(buf, ehdr(buf)->e_shstrndx)->sh_offset;
  for (size_t i = 1; i < ehdr(buf)->e_shnum; i++)
    if (strcmp(names + shdr(buf, i)->sh_name, name) == 0)
      return i;
  fail_msg("no section %s", name);
  return 0;
}
static Elf64_Sym *find_dynsym(unsigned char *buf, const char *name) {
  Elf64_Shdr *sh = shdr(buf, find_sec(buf, ".dynsym"));
  const char *str = (const char *)buf + shdr(buf, sh->sh_link)->sh_offset;
  Elf64_Sym *syms = (Elf64_Sym *)(buf + sh->sh_offset);
  for (size_t i = 0; i < sh->sh_size / sizeof(Elf64_Sym); i++)
    if (strcmp(str + syms[i].st_name, name) == 0)
      return &syms[i];
  fail_msg("no dynamic symbol %s", name);
  return NULL;
}

static uint64_t fnv1a(const void *p, size_t n, uint64_t h) {
  const unsigned char *b = p;
  for (size_t i = 0; i < n; i++)
    h = (h ^ b[i]) * 0x100000001b3ull;
  return h;
}

/* ---- inspecting the fixtures -------------------------------------------------------- */

static void elf_inspect__normal_plugin__reads_header(void **state) {
  (void)state;
  struct elf_info *in = inspect("normal.so");
  assert_int_equal(in->elf_class, ELFCLASS64);
  assert_int_equal(in->machine, HOST_EM);
  assert_int_equal(in->type, ET_DYN);
  assert_int_equal(in->build_id_len, 20);
  assert_string_equal(in->soname, "libfixture.so");
  assert_false(in->execstack);
  assert_false(in->no_gnu_stack);
  assert_false(in->textrel);
  assert_false(in->nodelete);
  assert_false(in->has_unique);
  assert_false(in->has_tls);
  elf_info_free(in);
}

static void elf_inspect__normal_plugin__lists_exports_sorted_with_types(void **state) {
  (void)state;
  static const char *const names[] = {
      "Live_Tick",       "exported_counter",    "handle_request",  "handle_stats",
      "hotswap_export",  "hotswap_invoke_func", "hotswap_on_free", "hotswap_on_init",
      "hotswap_on_load", "hotswap_reloadable",  "live_add_order",
  };
  struct elf_info *in = inspect("normal.so");
  assert_int_equal(in->n_exports, sizeof(names) / sizeof(names[0]));
  for (size_t i = 0; i < in->n_exports; i++) {
    const struct elf_sym *s = &in->exports[i];
    assert_string_equal(s->name, names[i]);
    assert_null(s->version);
    assert_true(s->default_version);
    assert_int_equal(s->bind, STB_GLOBAL);
    assert_int_equal(s->visibility, STV_DEFAULT);
    assert_true(s->value != 0);
    assert_int_equal(s->type, strcmp(s->name, "exported_counter") == 0 ? ELF_SYM_OBJECT
                                                                        : ELF_SYM_FUNC);
  }
  const struct elf_sym *v = elf_find_export(in, "exported_counter");
  assert_non_null(v);
  assert_int_equal(v->size, sizeof(int));
  assert_string_equal(elf_sym_type_name(v->type), "OBJECT");
  assert_null(elf_find_export(in, "handle_nothing"));
  assert_null(elf_find_export(in, "live_order")); /* a type, not a symbol */
  elf_info_free(in);
}

static void elf_inspect__normal_plugin__lists_undefined_symbols(void **state) {
  (void)state;
  struct elf_info *in = inspect("normal.so");
  bool found = false;
  for (size_t i = 0; i < in->n_undefs; i++) {
    assert_int_equal(in->undefs[i].value, 0);
    if (i > 0)
      assert_true(strcmp(in->undefs[i - 1].name, in->undefs[i].name) <= 0);
    if (strcmp(in->undefs[i].name, "__cxa_finalize") == 0) {
      found = true;
      assert_int_equal(in->undefs[i].bind, STB_WEAK);
    }
  }
  assert_true(found);
  assert_null(elf_find_export(in, "__cxa_finalize"));
  elf_info_free(in);
}

static void elf_inspect__normal_plugin__finds_every_hook_but_import(void **state) {
  (void)state;
  struct elf_info *in = inspect("normal.so");
  unsigned want = ELF_HOOK_RELOADABLE | ELF_HOOK_EXPORT | ELF_HOOK_ON_LOAD |
                  ELF_HOOK_ON_INIT | ELF_HOOK_ON_FREE | ELF_HOOK_INVOKE_FUNC;
  assert_int_equal(in->hooks, want);
  assert_string_equal(elf_hook_name(ELF_HOOK_ON_LOAD), "hotswap_on_load");
  assert_string_equal(elf_hook_name(ELF_HOOK_INVOKE_FUNC), "hotswap_invoke_func");
  elf_info_free(in);
  in = inspect("textrel.so");
  assert_int_equal(in->hooks, 0);
  elf_info_free(in);
}

static void elf_inspect__live_prefix__matches_case_insensitively(void **state) {
  (void)state;
  struct elf_info *in = inspect("normal.so");
  assert_int_equal(in->n_live, 2);
  assert_true(elf_find_export(in, "Live_Tick")->live);
  assert_true(elf_find_export(in, "live_add_order")->live);
  assert_false(elf_find_export(in, "handle_request")->live);
  elf_info_free(in);
}

static void elf_inspect__custom_live_prefix__is_used(void **state) {
  (void)state;
  struct elf_opts opts = {.live_prefix = "HANDLE_"};
  struct elf_info *in = inspect_opts("normal.so", &opts);
  assert_int_equal(in->n_live, 2);
  assert_true(elf_find_export(in, "handle_stats")->live);
  assert_false(elf_find_export(in, "live_add_order")->live);
  elf_info_free(in);
}

static void elf_inspect__version_note__is_parsed(void **state) {
  (void)state;
  struct elf_info *in = inspect("normal.so");
  const struct elf_version_note *n = &in->note;
  assert_true(n->present);
  assert_int_equal(n->abi, 1);
  assert_string_equal(n->name, "fixture");
  assert_string_equal(n->commit, "0123456789abcdef0123456789abcdef01234567");
  assert_string_equal(n->branch, "main");
  assert_true(n->dirty);
  assert_int_equal(n->commit_time, 1700000000);
  assert_int_equal(n->build_time, 1700000100);
  elf_info_free(in);
  in = inspect("textrel.so"); /* no note: retrofitted libraries have none */
  assert_false(in->note.present);
  assert_string_equal(in->note.commit, "");
  elf_info_free(in);
}

typedef struct {
  int id;
  double amount;
} test_order;

static void elf_inspect__live_types__carry_layout_hash_and_fingerprint(void **state) {
  (void)state;
  struct elf_info *in = inspect("normal.so");
  assert_int_equal(in->n_live_types, 2);
  const struct elf_live_type *t = &in->live_types[0];
  assert_string_equal(t->name, "live_order");
  assert_string_equal(t->fields, "id, amount");
  assert_int_equal(t->size, sizeof(test_order));
  assert_int_equal(t->align, _Alignof(test_order));
  /* Same layout as the fixture's live_order, hashed here by the public macro. */
  uint64_t layout = HOTSWAP_LAYOUT_HASH(test_order, id, amount);
  assert_int_equal(t->layout_hash, layout);
  assert_int_equal(t->fingerprint, fnv1a("id,amount", 9, layout));
  assert_string_equal(in->live_types[1].name, "live_pair");
  assert_string_equal(in->live_types[1].fields, "a, b");
  struct elf_info *v2 = inspect("livetype2.so");
  assert_int_equal(v2->live_types[0].size, 24);
  assert_true(v2->live_types[0].fingerprint != t->fingerprint);
  assert_int_equal(v2->live_types[1].fingerprint, in->live_types[1].fingerprint);
  elf_info_free(v2);
  elf_info_free(in);
}

static void elf_inspect__renamed_field__changes_fingerprint_only(void **state) {
  (void)state;
  size_t len;
  unsigned char *buf = load("normal.so", &len);
  struct elf_info *a, *b;
  char err[ELF_ERR_MAX];
  assert_int_equal(elf_inspect_mem(buf, len, NULL, &a, err), 0);
  unsigned char *p = memmem(buf, len, "live_order\0id, amount", 21);
  assert_non_null(p);
  memcpy(p + 11, "ix", 2); /* same layout, field renamed */
  assert_int_equal(elf_inspect_mem(buf, len, NULL, &b, err), 0);
  assert_string_equal(b->live_types[0].fields, "ix, amount");
  assert_int_equal(a->live_types[0].layout_hash, b->live_types[0].layout_hash);
  assert_true(a->live_types[0].fingerprint != b->live_types[0].fingerprint);
  elf_info_free(a);
  elf_info_free(b);
  free(buf);
}

static void elf_inspect__fd__leaves_offset_alone_and_matches_mem(void **state) {
  (void)state;
  char path[4096], err[ELF_ERR_MAX];
  fixture_path("normal.so", path, sizeof(path));
  int fd = open(path, O_RDONLY);
  assert_true(fd >= 0);
  assert_int_equal(lseek(fd, 100, SEEK_SET), 100);
  struct elf_info *a, *b;
  assert_int_equal(elf_inspect_fd(fd, NULL, &a, err), 0);
  assert_int_equal(lseek(fd, 0, SEEK_CUR), 100);
  close(fd);
  size_t len;
  unsigned char *buf = load("normal.so", &len);
  assert_int_equal(elf_inspect_mem(buf, len, NULL, &b, err), 0);
  assert_int_equal(a->file_size, len);
  assert_int_equal(a->content_hash, b->content_hash);
  assert_int_equal(a->content_hash, fnv1a(buf, len, 0xcbf29ce484222325ull));
  assert_memory_equal(a->build_id, b->build_id, 20);
  assert_int_equal(a->n_exports, b->n_exports);
  free(buf);
  elf_info_free(a);
  elf_info_free(b);
}

static void elf_short_version__prefers_commit_then_build_id_then_hash(void **state) {
  (void)state;
  char buf[32];
  struct elf_info *in = inspect("normal.so");
  elf_short_version(in, buf, sizeof(buf));
  assert_string_equal(buf, "0123456-dirty");
  elf_short_version(in, buf, 5);
  assert_string_equal(buf, "0123");
  elf_info_free(in);
  in = inspect("textrel.so");
  char want[16];
  snprintf(want, sizeof(want), "%02x%02x%02x%02x", in->build_id[0], in->build_id[1],
           in->build_id[2], in->build_id[3]);
  want[7] = '\0';
  elf_short_version(in, buf, sizeof(buf));
  assert_string_equal(buf, want);
  elf_info_free(in);
  struct elf_info bare = {.content_hash = 0xfedcba9876543210ull};
  elf_short_version(&bare, buf, sizeof(buf));
  assert_string_equal(buf, "fedcba9");
}

static void elf_inspect__flag_fixtures__are_flagged(void **state) {
  (void)state;
  struct elf_info *in = inspect("execstack.so");
  assert_true(in->execstack);
  assert_false(in->no_gnu_stack);
  elf_info_free(in);
  in = inspect("textrel.so");
  assert_true(in->textrel);
  elf_info_free(in);
  in = inspect("nodelete.so");
  assert_true(in->nodelete);
  assert_false(in->textrel);
  elf_info_free(in);
  in = inspect("unique.so");
  assert_true(in->has_unique);
  assert_int_equal(elf_find_export(in, "unique_obj")->bind, STB_GNU_UNIQUE);
  elf_info_free(in);
}

static void elf_inspect__tls_variable__is_flagged_and_typed(void **state) {
  (void)state;
  struct elf_info *in = inspect("tls.so");
  assert_true(in->has_tls);
  const struct elf_sym *s = elf_find_export(in, "tls_counter");
  assert_non_null(s);
  assert_int_equal(s->type, ELF_SYM_TLS);
#if defined(__aarch64__)
  /* AArch64 reaches TLS through descriptors (R_AARCH64_TLSDESC, resolved by ld.so itself):
   * no __tls_get_addr, and nothing needed from the dynamic linker. */
  assert_int_equal(in->n_needed, 0);
  for (size_t i = 0; i < in->n_undefs; i++)
    assert_string_not_equal(in->undefs[i].name, "__tls_get_addr");
  elf_info_free(in);
  return;
#endif
  assert_int_equal(in->n_needed, 1);
  assert_string_equal(in->needed[0], LD_SO);
  /* __tls_get_addr comes versioned from the dynamic linker (.gnu.version_r). */
  bool found = false;
  for (size_t i = 0; i < in->n_undefs; i++)
    if (strcmp(in->undefs[i].name, "__tls_get_addr") == 0) {
      found = true;
      assert_string_equal(in->undefs[i].version, "GLIBC_2.3");
    }
  assert_true(found);
  elf_info_free(in);
}

static void elf_inspect__versioned_symbols__report_versions_default_first(void **state) {
  (void)state;
  struct elf_info *in = inspect("versioned.so");
  assert_int_equal(in->n_exports, 3); /* not the V1/V2 marker symbols */
  assert_string_equal(in->exports[0].name, "handle_request");
  assert_string_equal(in->exports[0].version, "V2");
  assert_true(in->exports[0].default_version);
  assert_string_equal(in->exports[1].name, "handle_request");
  assert_string_equal(in->exports[1].version, "V1");
  assert_false(in->exports[1].default_version);
  assert_string_equal(in->exports[2].version, "V2");
  const struct elf_sym *s = elf_find_export(in, "handle_request");
  assert_ptr_equal(s, &in->exports[0]);
  elf_info_free(in);
}

static void elf_inspect__foreign_builds__are_inspected(void **state) {
  (void)state;
  struct elf_info *in = inspect("m32.so");
  assert_int_equal(in->elf_class, ELFCLASS32);
  assert_int_equal(in->machine, EM_386);
  assert_string_equal(elf_machine_name(in->machine), "i386");
  assert_non_null(elf_find_export(in, "handle_stats"));
  assert_int_equal(in->live_types[0].size, 12); /* i386 aligns double to 4 */
  assert_true(in->note.present);
  elf_info_free(in);
  in = inspect("aarch64.so");
  assert_int_equal(in->elf_class, ELFCLASS64);
  assert_int_equal(in->machine, EM_AARCH64);
  assert_string_equal(elf_machine_name(in->machine), "AArch64");
  assert_int_equal(in->n_live, 2);
  assert_int_equal(in->build_id_len, 20);
  elf_info_free(in);
}

/* ---- checks ------------------------------------------------------------------------- */

static void elf_check_loadable__normal__passes(void **state) {
  (void)state;
  expect_loadable("normal.so", 0, 0, NULL, NULL);
  expect_loadable("versioned.so", 0, 0, NULL, NULL);
}

static void elf_check__wrong_machine__is_rejected(void **state) {
  (void)state;
  expect_loadable(FOREIGN_SO, HOTSWAP_EINCOMPAT, 1, FOREIGN_MSG, NULL);
  expect_compat("normal.so", FOREIGN_SO, HOTSWAP_EINCOMPAT, 1, FOREIGN_MSG);
}

static void elf_check__32bit_build__is_rejected(void **state) {
  (void)state;
  expect_loadable("m32.so", HOTSWAP_EINCOMPAT, 2,
                  "is 32-bit (ELFCLASS32), the running build is 64-bit",
                  "is built for i386, the running build is " HOST_NAME);
}

static void elf_check__execstack__is_rejected(void **state) {
  (void)state;
  const char *r =
      "needs an executable stack (PT_GNU_STACK is RWX); rebuild without -z execstack";
  expect_loadable("execstack.so", HOTSWAP_EINCOMPAT, 1, r, NULL);
  expect_compat("normal.so", "execstack.so", HOTSWAP_EINCOMPAT, 1, r);
}

static void elf_check__textrel__is_rejected(void **state) {
  (void)state;
  expect_loadable("textrel.so", HOTSWAP_EINCOMPAT, 1,
                  "has text relocations (TEXTREL); rebuild with -fPIC", NULL);
}

static void elf_check__abi2__is_rejected(void **state) {
  (void)state;
  expect_loadable("abi2.so", HOTSWAP_EINCOMPAT, 1, "hotswap ABI version 2, this shim speaks 1",
                  NULL);
  expect_compat("normal.so", "abi2.so", HOTSWAP_EINCOMPAT, 1,
                "hotswap ABI version 2, this shim speaks 1");
}

static void elf_check__missing_gnu_stack__is_rejected(void **state) {
  (void)state;
  size_t len;
  unsigned char *buf = load("normal.so", &len);
  Elf64_Phdr *ph = (Elf64_Phdr *)(buf + ehdr(buf)->e_phoff);
  for (size_t i = 0; i < ehdr(buf)->e_phnum; i++)
    if (ph[i].p_type == PT_GNU_STACK)
      ph[i].p_type = PT_NULL;
  struct elf_info *in;
  char err[ELF_ERR_MAX];
  assert_int_equal(elf_inspect_mem(buf, len, NULL, &in, err), 0);
  assert_true(in->execstack);
  assert_true(in->no_gnu_stack);
  struct elf_reasons why = {NULL, 0};
  assert_int_equal(elf_check_loadable(in, &why), HOTSWAP_EINCOMPAT);
  expect_reasons(&why, 1,
                 "needs an executable stack (no PT_GNU_STACK header); rebuild with -z "
                 "noexecstack");
  elf_reasons_free(&why);
  elf_info_free(in);
  free(buf);
}

static void elf_check__executable__is_not_a_shared_object(void **state) {
  (void)state;
  size_t len;
  unsigned char *buf = load("normal.so", &len);
  ehdr(buf)->e_type = ET_EXEC;
  struct elf_info *in;
  char err[ELF_ERR_MAX];
  assert_int_equal(elf_inspect_mem(buf, len, NULL, &in, err), 0);
  struct elf_reasons why = {NULL, 0};
  assert_int_equal(elf_check_loadable(in, &why), HOTSWAP_EINCOMPAT);
  expect_reasons(&why, 1, "is not a shared object (ET_EXEC); link it with -shared");
  elf_reasons_free(&why);
  /* Without a place for reasons the answer is the same. */
  assert_int_equal(elf_check_loadable(in, NULL), HOTSWAP_EINCOMPAT);
  elf_info_free(in);
  free(buf);
}

static void elf_check_compat__same_build__is_compatible(void **state) {
  (void)state;
  expect_compat("normal.so", "normal.so", 0, 0, NULL);
  expect_compat("dropped.so", "normal.so", 0, 0, NULL); /* adding a function is fine */
  expect_compat("normal.so", "nodelete.so", 0, 0, NULL);
}

static void elf_check_compat__dropped_function__is_rejected(void **state) {
  (void)state;
  expect_compat("normal.so", "dropped.so", HOTSWAP_EINCOMPAT, 1, "drops function 'handle_stats'");
}

static void elf_check_compat__function_became_variable__is_rejected(void **state) {
  (void)state;
  expect_compat("normal.so", "tovar.so", HOTSWAP_EINCOMPAT, 1,
                "'handle_stats' is now a variable (OBJECT), was a function");
}

static void elf_check_compat__live_type_layout_changed__is_rejected(void **state) {
  (void)state;
  expect_compat("normal.so", "livetype2.so", HOTSWAP_EINCOMPAT, 1,
                "live type 'live_order' changed layout (size 16 -> 24, fields 'id, amount' "
                "-> 'id, amount, note') and no upgrade is declared");
}

static void elf_check_compat__many_problems__lists_each(void **state) {
  (void)state;
  struct elf_info *old = inspect("normal.so"), *new_ = inspect("textrel.so");
  struct elf_reasons why = {NULL, 0};
  assert_int_equal(elf_check_compat(old, new_, &why), HOTSWAP_EINCOMPAT);
  /* textrel.so exports none of normal.so's functions: one line each, sorted by name; its
   * lifecycle hooks (hotswap_on_load...) may come and go, so they are not listed. */
  assert_int_equal(why.n, 5);
  assert_string_equal(why.lines[0], "has text relocations (TEXTREL); rebuild with -fPIC");
  assert_string_equal(why.lines[1], "drops function 'Live_Tick'");
  assert_string_equal(why.lines[4], "drops function 'live_add_order'");
  elf_reasons_free(&why);
  assert_int_equal(why.n, 0);
  elf_info_free(old);
  elf_info_free(new_);
}

/* ---- writable state (the reload's carry-over) ---------------------------------------- */

static void elf_state__statics_and_globals__are_listed_with_their_file(void **state) {
  (void)state;
  struct elf_info *in = inspect("normal.so");
  assert_string_equal(in->state_symtab, ".symtab");
  assert_int_equal(in->n_state, 2); /* crt bookkeeping (completed.0, __dso_handle) left out */
  const struct elf_state_obj *o = elf_find_state(in, "last_order", "plugin.c");
  assert_non_null(o);
  assert_string_equal(o->section, ".bss");
  assert_int_equal(o->size, 16);
  assert_int_equal(o->bind, STB_LOCAL);
  assert_false(o->exported);
  assert_null(elf_find_state(in, "last_order", NULL)); /* a static is named with its file */
  const struct elf_state_obj *g = elf_find_state(in, "exported_counter", NULL);
  assert_non_null(g);
  assert_string_equal(g->section, ".data");
  assert_true(g->exported);
  /* The address map finds the static by an address inside it, and by name. */
  const struct elf_addr_sym *a = elf_sym_at(in, o->value + 8);
  assert_non_null(a);
  assert_string_equal(a->name, "last_order");
  assert_ptr_equal(elf_find_sym(in, "last_order", "plugin.c", false), a);
  assert_non_null(elf_find_sym(in, "handle_stats", NULL, true));
  assert_true(in->n_ro > 0); /* .rodata: string literals */
  elf_info_free(in);
}

static void elf_state__thread_local__is_listed_not_carried(void **state) {
  (void)state;
  struct elf_info *in = inspect("tls.so");
  const struct elf_state_obj *o = elf_find_state(in, "tls_counter", NULL);
  assert_non_null(o);
  assert_true(o->tls);
  elf_info_free(in);
}

static void elf_state_diff__grown_object__is_named_with_both_sizes(void **state) {
  (void)state;
  struct elf_info *old = inspect("normal.so"), *new_ = inspect("livetype2.so");
  struct elf_reasons why = {NULL, 0};
  assert_int_equal(elf_state_diff(old, new_, &why), 0);
  assert_int_equal(why.n, 1);
  assert_string_equal(why.lines[0], "state 'last_order' (plugin.c): size 16 -> 24");
  elf_reasons_free(&why);
  assert_int_equal(elf_state_diff(old, old, &why), 0);
  assert_int_equal(why.n, 0);
  elf_info_free(old);
  elf_info_free(new_);
}

static void elf_check_compat__dropped_hook__is_accepted(void **state) {
  (void)state;
  /* textrel.so drops everything; of normal.so's hooks none is named among the reasons. */
  struct elf_info *old = inspect("normal.so"), *new_ = inspect("textrel.so");
  struct elf_reasons why = {NULL, 0};
  elf_check_compat(old, new_, &why);
  for (size_t i = 0; i < why.n; i++)
    assert_null(strstr(why.lines[i], "hotswap_"));
  elf_reasons_free(&why);
  elf_info_free(old);
  elf_info_free(new_);
}

/* ---- malformed input ---------------------------------------------------------------- */

static void elf_inspect__empty_and_garbage__are_not_elf(void **state) {
  (void)state;
  char path[4096], err[ELF_ERR_MAX];
  struct elf_info *in;
  fixture_path("empty.bin", path, sizeof(path));
  int fd = open(path, O_RDONLY);
  assert_true(fd >= 0);
  assert_int_equal(elf_inspect_fd(fd, NULL, &in, err), HOTSWAP_ENOTELF);
  assert_string_equal(err, "file is empty");
  close(fd);
  size_t len;
  unsigned char *buf = load("garbage.bin", &len);
  expect_error(buf, len, HOTSWAP_ENOTELF, "not an ELF file (bad magic)");
  expect_error(buf, 0, HOTSWAP_ENOTELF, "file is empty");
  expect_error((const unsigned char *)"\177EL", 3, HOTSWAP_ENOTELF,
               "not an ELF file (bad magic)");
  free(buf);
}

static void elf_inspect__directory__is_eisdir(void **state) {
  (void)state;
  char err[ELF_ERR_MAX];
  struct elf_info *in = NULL;
  int fd = open(".", O_RDONLY | O_DIRECTORY);
  assert_true(fd >= 0);
  assert_int_equal(elf_inspect_fd(fd, NULL, &in, err), -EISDIR);
  assert_string_equal(err, "is a directory, not an ELF file");
  assert_null(in);
  close(fd);
}

static void elf_inspect__file_over_1gib__is_refused(void **state) {
  (void)state;
  char path[] = "/tmp/hotswap-test-elf-XXXXXX", err[ELF_ERR_MAX];
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  unlink(path);
  assert_int_equal(ftruncate(fd, (1l << 30) + 1), 0); /* sparse: costs no disk */
  struct elf_info *in = NULL;
  assert_int_equal(elf_inspect_fd(fd, NULL, &in, err), -EFBIG);
  assert_string_equal(err, "file is larger than 1 GiB (1073741825 bytes); refusing to read it");
  close(fd);
}

static void elf_inspect__truncated__reports_section_headers_past_end(void **state) {
  (void)state;
  size_t len;
  unsigned char *buf = load("truncated.so", &len);
  assert_int_equal(len, 4096);
  char want[ELF_ERR_MAX];
  snprintf(want, sizeof(want),
           "section header table at offset %ju is past the end of the file (4096 bytes)",
           (uintmax_t)ehdr(buf)->e_shoff);
  expect_error(buf, len, HOTSWAP_EBADELF, want);
  expect_error(buf, 20, HOTSWAP_EBADELF, "truncated: 20 bytes, the ELF header needs 64");
  buf[EI_CLASS] = 7;
  expect_error(buf, len, HOTSWAP_EBADELF, "unknown ELF class 7");
  free(buf);
}

static void elf_inspect__header_tables_past_end__are_rejected(void **state) {
  (void)state;
  size_t len;
  unsigned char *buf = load("normal.so", &len);
  char want[ELF_ERR_MAX];
  uint16_t shnum = ehdr(buf)->e_shnum;
  ehdr(buf)->e_shnum = 1000;
  snprintf(want, sizeof(want),
           "section header table (1000 entries at offset %ju) extends past the end of the "
           "file (%zu bytes)",
           (uintmax_t)ehdr(buf)->e_shoff, len);
  expect_error(buf, len, HOTSWAP_EBADELF, want);
  ehdr(buf)->e_shnum = shnum;
  ehdr(buf)->e_phnum = 0xfff0;
  snprintf(want, sizeof(want),
           "program header table (65520 entries at offset 64) extends past the end of the "
           "file (%zu bytes)",
           len);
  expect_error(buf, len, HOTSWAP_EBADELF, want);
  free(buf);
}

static void elf_inspect__huge_symbol_count__is_rejected(void **state) {
  (void)state;
  size_t len;
  unsigned char *buf = load("normal.so", &len);
  size_t i = find_sec(buf, ".dynsym");
  shdr(buf, i)->sh_size = 0x7ffffffff0ull; /* 22 billion symbols */
  char want[ELF_ERR_MAX];
  snprintf(want, sizeof(want),
           "section [%zu] '.dynsym' (offset %ju, size 549755813872) extends past the end of "
           "the file (%zu bytes)",
           i, (uintmax_t)shdr(buf, i)->sh_offset, len);
  expect_error(buf, len, HOTSWAP_EBADELF, want);
  free(buf);
}

static void elf_inspect__bad_sh_link__is_rejected(void **state) {
  (void)state;
  size_t len;
  unsigned char *buf = load("normal.so", &len);
  size_t i = find_sec(buf, ".dynsym");
  shdr(buf, i)->sh_link = 999;
  expect_error(buf, len, HOTSWAP_EBADELF, "'.dynsym' links to section 999, which does not exist");
  shdr(buf, i)->sh_link = (uint32_t)i;
  char want[ELF_ERR_MAX];
  snprintf(want, sizeof(want),
           "'.dynsym' links to section [%zu] '.dynsym', which is not a string table", i);
  expect_error(buf, len, HOTSWAP_EBADELF, want);
  free(buf);
}

static void elf_inspect__bad_strings__are_rejected(void **state) {
  (void)state;
  size_t len;
  unsigned char *buf = load("normal.so", &len);
  size_t str = find_sec(buf, ".dynstr");
  Elf64_Sym *sym = find_dynsym(buf, "handle_stats");
  size_t index = (size_t)(sym - (Elf64_Sym *)(buf + shdr(buf, find_sec(buf, ".dynsym"))->sh_offset));
  uint32_t name = sym->st_name;
  sym->st_name = 0x10000;
  char want[ELF_ERR_MAX];
  snprintf(want, sizeof(want),
           "symbol %zu in '.dynsym' has a name offset 65536 past the end of its string table "
           "(%ju bytes)",
           index, (uintmax_t)shdr(buf, str)->sh_size);
  expect_error(buf, len, HOTSWAP_EBADELF, want);
  sym->st_name = name;
  buf[shdr(buf, str)->sh_offset + shdr(buf, str)->sh_size - 1] = 'x';
  expect_error(buf, len, HOTSWAP_EBADELF, "the dynamic string table does not end with a NUL");
  free(buf);
  /* Through .dynsym's sh_link only (.shstrtab is not read as a linked string table). */
  buf = load("normal.so", &len);
  size_t shstr = ehdr(buf)->e_shstrndx;
  shdr(buf, find_sec(buf, ".dynsym"))->sh_link = (uint32_t)shstr;
  Elf64_Shdr *ss = shdr(buf, shstr);
  buf[ss->sh_offset + ss->sh_size - 1] = 'x';
  snprintf(want, sizeof(want), "string table [%zu] '.shstrtab' does not end with a NUL", shstr);
  expect_error(buf, len, HOTSWAP_EBADELF, want);
  free(buf);
}

/* The dynamic linker reads PT_DYNAMIC, not the section headers: neither may hide TEXTREL. */
static void elf_inspect__textrel_hidden_from_sections__is_still_found(void **state) {
  (void)state;
  size_t len;
  unsigned char *buf = load("textrel.so", &len);
  shdr(buf, find_sec(buf, ".dynamic"))->sh_type = SHT_PROGBITS;
  struct elf_info *in;
  char err[ELF_ERR_MAX];
  assert_int_equal(elf_inspect_mem(buf, len, NULL, &in, err), 0);
  assert_true(in->textrel);
  elf_info_free(in);
  /* A DT_STRTAB that points outside every loaded segment is refused. */
  Elf64_Phdr *ph = (Elf64_Phdr *)(buf + ehdr(buf)->e_phoff);
  for (size_t i = 0; i < ehdr(buf)->e_phnum; i++)
    if (ph[i].p_type == PT_DYNAMIC)
      for (Elf64_Dyn *d = (Elf64_Dyn *)(buf + ph[i].p_offset); d->d_tag != DT_NULL; d++)
        if (d->d_tag == DT_STRTAB)
          d->d_un.d_ptr = 0x7fff0000;
  char want[ELF_ERR_MAX];
  snprintf(want, sizeof(want), "DT_STRTAB (address 0x7fff0000, %ju bytes) is not inside a loaded segment",
           (uintmax_t)shdr(buf, find_sec(buf, ".dynstr"))->sh_size);
  expect_error(buf, len, HOTSWAP_EBADELF, want);
  free(buf);
}

static void elf_inspect__bad_notes__are_rejected(void **state) {
  (void)state;
  size_t len;
  unsigned char *buf = load("normal.so", &len);
  Elf64_Shdr *sh = shdr(buf, find_sec(buf, ".note.hotswap"));
  unsigned char *note = buf + sh->sh_offset;
  uint32_t descsz, huge = 0xffffffffu;
  memcpy(&descsz, note + 4, 4);
  memcpy(note + 4, &huge, 4);
  char want[ELF_ERR_MAX];
  snprintf(want, sizeof(want),
           "note at offset 0 in '.note.hotswap' claims a 4294967295-byte descriptor, only %ju "
           "bytes remain",
           (uintmax_t)sh->sh_size - 20);
  expect_error(buf, len, HOTSWAP_EBADELF, want);
  memcpy(note + 4, &descsz, 4);
  memcpy(note, &huge, 4);
  snprintf(want, sizeof(want),
           "note at offset 0 in '.note.hotswap' claims a 4294967295-byte name, only %ju bytes "
           "remain",
           (uintmax_t)sh->sh_size - 12);
  expect_error(buf, len, HOTSWAP_EBADELF, want);
  free(buf);
  buf = load("normal.so", &len);
  unsigned char *abi = memmem(buf, len, "abi=1", 6);
  assert_non_null(abi);
  abi[4] = 'x';
  expect_error(buf, len, HOTSWAP_EBADELF, "hotswap version note: abi='x' is not valid");
  free(buf);
}

/* ---- never crash -------------------------------------------------------------------- */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t rnd(void) {
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return rng_state;
}

/* Uses everything a successful inspection returned, so that ASan sees any bad pointer. */
static void exercise(const struct elf_info *ref, struct elf_info *in) {
  size_t total = 0;
  for (size_t i = 0; i < in->n_exports; i++)
    total += strlen(in->exports[i].name) +
             (in->exports[i].version ? strlen(in->exports[i].version) : 0);
  for (size_t i = 0; i < in->n_undefs; i++)
    total += strlen(in->undefs[i].name);
  for (size_t i = 0; i < in->n_needed; i++)
    total += strlen(in->needed[i]);
  for (size_t i = 0; i < in->n_live_types; i++)
    total += strlen(in->live_types[i].name) + strlen(in->live_types[i].fields);
  total += strlen(in->note.name) + strlen(in->note.commit) + strlen(in->note.branch);
  total += in->soname ? strlen(in->soname) : 0;
  char v[32];
  elf_short_version(in, v, sizeof(v));
  struct elf_reasons why = {NULL, 0};
  int rc = elf_check_loadable(in, &why);
  assert_true(rc == 0 || (rc == HOTSWAP_EINCOMPAT && why.n > 0));
  rc = elf_check_compat(ref, in, &why);
  assert_true(rc == 0 || rc == HOTSWAP_EINCOMPAT);
  rc = elf_check_compat(in, ref, &why);
  assert_true(rc == 0 || rc == HOTSWAP_EINCOMPAT);
  elf_reasons_free(&why);
  (void)elf_find_export(in, "handle_stats");
  assert_true(total < SIZE_MAX);
}

static void feed(const struct elf_info *ref, const unsigned char *buf, size_t len,
                 size_t *ok) {
  char err[ELF_ERR_MAX];
  struct elf_info *in = NULL;
  int rc = elf_inspect_mem(buf, len, NULL, &in, err);
  if (rc == 0) {
    exercise(ref, in);
    elf_info_free(in);
    ++*ok;
  } else {
    assert_true(rc < 0);
    assert_null(in);
    assert_true(err[0] != '\0'); /* every failure says why */
    assert_non_null(memchr(err, '\0', ELF_ERR_MAX));
  }
}

static void elf_inspect__mutated_normal_plugin__never_crashes(void **state) {
  (void)state;
  size_t len;
  unsigned char *orig = load("normal.so", &len), *buf = malloc(len);
  struct elf_info *ref = inspect("normal.so");
  /* Aim most damage at the bytes the parser reads: headers, tables, symbols, notes. */
  static const char *const hot[] = {".dynsym", ".dynstr", ".gnu.version", ".gnu.version_d",
                                    ".dynamic", ".note.hotswap", ".note.gnu.build-id",
                                    ".gnu.hash", ".shstrtab"};
  size_t regions[16][2], nreg = 0;
  regions[nreg][0] = 0, regions[nreg++][1] = 64 + ehdr(orig)->e_phnum * sizeof(Elf64_Phdr);
  regions[nreg][0] = ehdr(orig)->e_shoff;
  regions[nreg++][1] = ehdr(orig)->e_shnum * sizeof(Elf64_Shdr);
  for (size_t i = 0; i < sizeof(hot) / sizeof(hot[0]); i++) {
    const char *names = (const char *)orig + shdr(orig, ehdr(orig)->e_shstrndx)->sh_offset;
    for (size_t s = 1; s < ehdr(orig)->e_shnum; s++)
      if (strcmp(names + shdr(orig, s)->sh_name, hot[i]) == 0 && shdr(orig, s)->sh_size) {
        regions[nreg][0] = shdr(orig, s)->sh_offset;
        regions[nreg++][1] = shdr(orig, s)->sh_size;
      }
  }
  /* HOTSWAP_ELF_MUTATIONS=N[:seed] runs a longer campaign (e.g. under ASan). */
  size_t ok = 0, rounds = 6000;
  const char *env = getenv("HOTSWAP_ELF_MUTATIONS");
  if (env != NULL && *env != '\0') {
    char *end;
    rounds = strtoul(env, &end, 10);
    if (*end == ':')
      rng_state = strtoull(end + 1, NULL, 0) | 1;
  }
  for (size_t r = 0; r < rounds; r++) {
    memcpy(buf, orig, len);
    size_t flips = 1 + rnd() % 8;
    for (size_t k = 0; k < flips; k++) {
      size_t pos;
      if (rnd() % 4 == 0) {
        pos = rnd() % len;
      } else {
        size_t g = rnd() % nreg;
        pos = regions[g][0] + rnd() % regions[g][1];
      }
      switch (rnd() % 4) {
      case 0: buf[pos] ^= (unsigned char)(1u << (rnd() % 8)); break;
      case 1: buf[pos] = (unsigned char)rnd(); break;
      case 2: buf[pos] = 0xff; break;
      default: buf[pos] = 0; break;
      }
    }
    size_t n = rnd() % 5 == 0 ? rnd() % (len + 1) : len;
    feed(ref, buf, n, &ok);
  }
  /* Most single-region mutations leave a readable file: the loop exercised success too. */
  assert_true(ok > rounds / 10);
  assert_true(ok < rounds);
  print_message("      %zu of %zu mutated copies inspected without error\n", ok, rounds);
  elf_info_free(ref);
  free(orig);
  free(buf);
}

static void elf_inspect__random_buffers__never_crash(void **state) {
  (void)state;
  struct elf_info *ref = inspect("normal.so");
  unsigned char buf[4096];
  size_t ok = 0;
  for (int r = 0; r < 3000; r++) {
    size_t n = rnd() % sizeof(buf);
    for (size_t i = 0; i < n; i++)
      buf[i] = (unsigned char)rnd();
    /* Usually a believable identification, so the header checks are passed. */
    if (n >= 16 && rnd() % 4 != 0) {
      memcpy(buf, ELFMAG, SELFMAG);
      buf[EI_CLASS] = rnd() % 2 ? ELFCLASS64 : ELFCLASS32;
      buf[EI_DATA] = rnd() % 4 ? ELFDATA2LSB : ELFDATA2MSB;
      buf[EI_VERSION] = EV_CURRENT;
    }
    feed(ref, buf, n, &ok);
  }
  elf_info_free(ref);
}

/* Several threads inspecting at once (run under SANITIZE=thread to see races). */
static void *inspect_many(void *arg) {
  const char *path = arg;
  uintptr_t hash = 0;
  for (int i = 0; i < 40; i++) {
    char err[ELF_ERR_MAX];
    struct elf_info *in = NULL;
    int fd = open(path, O_RDONLY);
    if (fd < 0 || elf_inspect_fd(fd, NULL, &in, err) != 0 || in->n_exports != 11) {
      if (fd >= 0)
        close(fd);
      elf_info_free(in);
      return NULL;
    }
    close(fd);
    hash = (uintptr_t)in->content_hash;
    elf_info_free(in);
  }
  return (void *)(hash | 1);
}

static void elf_inspect__concurrent_threads__agree(void **state) {
  (void)state;
  char path[4096];
  fixture_path("normal.so", path, sizeof(path));
  pthread_t t[4];
  void *res[4];
  for (int i = 0; i < 4; i++)
    assert_int_equal(pthread_create(&t[i], NULL, inspect_many, path), 0);
  for (int i = 0; i < 4; i++)
    assert_int_equal(pthread_join(t[i], &res[i]), 0);
  for (int i = 0; i < 4; i++) {
    assert_non_null(res[i]);
    assert_ptr_equal(res[i], res[0]);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(elf_inspect__normal_plugin__reads_header),
      cmocka_unit_test(elf_inspect__normal_plugin__lists_exports_sorted_with_types),
      cmocka_unit_test(elf_inspect__normal_plugin__lists_undefined_symbols),
      cmocka_unit_test(elf_inspect__normal_plugin__finds_every_hook_but_import),
      cmocka_unit_test(elf_inspect__live_prefix__matches_case_insensitively),
      cmocka_unit_test(elf_inspect__custom_live_prefix__is_used),
      cmocka_unit_test(elf_inspect__version_note__is_parsed),
      cmocka_unit_test(elf_inspect__live_types__carry_layout_hash_and_fingerprint),
      cmocka_unit_test(elf_inspect__renamed_field__changes_fingerprint_only),
      cmocka_unit_test(elf_inspect__fd__leaves_offset_alone_and_matches_mem),
      cmocka_unit_test(elf_short_version__prefers_commit_then_build_id_then_hash),
      cmocka_unit_test(elf_inspect__flag_fixtures__are_flagged),
      cmocka_unit_test(elf_inspect__tls_variable__is_flagged_and_typed),
      cmocka_unit_test(elf_inspect__versioned_symbols__report_versions_default_first),
      cmocka_unit_test(elf_inspect__foreign_builds__are_inspected),
      cmocka_unit_test(elf_check_loadable__normal__passes),
      cmocka_unit_test(elf_check__wrong_machine__is_rejected),
      cmocka_unit_test(elf_check__32bit_build__is_rejected),
      cmocka_unit_test(elf_check__execstack__is_rejected),
      cmocka_unit_test(elf_check__textrel__is_rejected),
      cmocka_unit_test(elf_check__abi2__is_rejected),
      cmocka_unit_test(elf_check__missing_gnu_stack__is_rejected),
      cmocka_unit_test(elf_check__executable__is_not_a_shared_object),
      cmocka_unit_test(elf_check_compat__same_build__is_compatible),
      cmocka_unit_test(elf_check_compat__dropped_function__is_rejected),
      cmocka_unit_test(elf_check_compat__function_became_variable__is_rejected),
      cmocka_unit_test(elf_check_compat__live_type_layout_changed__is_rejected),
      cmocka_unit_test(elf_check_compat__many_problems__lists_each),
      cmocka_unit_test(elf_state__statics_and_globals__are_listed_with_their_file),
      cmocka_unit_test(elf_state__thread_local__is_listed_not_carried),
      cmocka_unit_test(elf_state_diff__grown_object__is_named_with_both_sizes),
      cmocka_unit_test(elf_check_compat__dropped_hook__is_accepted),
      cmocka_unit_test(elf_inspect__empty_and_garbage__are_not_elf),
      cmocka_unit_test(elf_inspect__directory__is_eisdir),
      cmocka_unit_test(elf_inspect__file_over_1gib__is_refused),
      cmocka_unit_test(elf_inspect__truncated__reports_section_headers_past_end),
      cmocka_unit_test(elf_inspect__header_tables_past_end__are_rejected),
      cmocka_unit_test(elf_inspect__huge_symbol_count__is_rejected),
      cmocka_unit_test(elf_inspect__bad_sh_link__is_rejected),
      cmocka_unit_test(elf_inspect__bad_strings__are_rejected),
      cmocka_unit_test(elf_inspect__bad_notes__are_rejected),
      cmocka_unit_test(elf_inspect__textrel_hidden_from_sections__is_still_found),
      cmocka_unit_test(elf_inspect__mutated_normal_plugin__never_crashes),
      cmocka_unit_test(elf_inspect__random_buffers__never_crash),
      cmocka_unit_test(elf_inspect__concurrent_threads__agree),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
