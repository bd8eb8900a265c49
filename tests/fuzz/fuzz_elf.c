/* SPDX-License-Identifier: BSD-3-Clause */
/* fuzz_elf.c - libFuzzer target for elf/: every input goes through elf_inspect_mem and,
 * when it parses, through elf_check_compat both ways against a fixed fixture plugin
 * (embedded by fuzz_ref.S), elf_check_loadable and the lookup/printing helpers. Checks
 * the API contract: a failure has a negative code and a NUL-terminated reason, a success
 * owns all its strings (the input is freed before they are read). */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "elf/elf.h"

extern const unsigned char fuzz_ref_start[];
extern const unsigned char fuzz_ref_end[];

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct elf_info *ref;

/* Sink that keeps the compiler from dropping the reads below. */
static volatile size_t sink;

static void die(const char *what, const char *detail) {
  fprintf(stderr, "fuzz_elf: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
  abort();
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  char err[ELF_ERR_MAX];
  size_t len = (size_t)(fuzz_ref_end - fuzz_ref_start);
  if (elf_inspect_mem(fuzz_ref_start, len, NULL, &ref, err) != 0)
    die("the reference fixture does not parse", err);
  return 0;
}

static void touch_syms(const struct elf_info *info, const struct elf_sym *s, size_t n,
                       bool exported) {
  for (size_t i = 0; i < n; i++) {
    sink += strlen(s[i].name) + (s[i].version ? strlen(s[i].version) : 0);
    sink += strlen(elf_sym_type_name(s[i].type));
    if (exported && elf_find_export(info, s[i].name) == NULL)
      die("an export is not found by elf_find_export", s[i].name);
    if (i > 0 && strcmp(s[i - 1].name, s[i].name) > 0)
      die("symbols are not sorted by name", s[i].name);
  }
}

static void touch_info(const struct elf_info *info) {
  char ver[64];
  sink += info->soname ? strlen(info->soname) : 0;
  for (size_t i = 0; i < info->n_needed; i++)
    sink += strlen(info->needed[i]);
  touch_syms(info, info->exports, info->n_exports, true);
  touch_syms(info, info->undefs, info->n_undefs, false);
  for (size_t i = 0; i < info->n_live_types; i++)
    sink += strlen(info->live_types[i].name) + strlen(info->live_types[i].fields);
  if (info->note.present)
    sink += strlen(info->note.name) + strlen(info->note.commit) + strlen(info->note.branch);
  if (info->build_id_len > sizeof(info->build_id))
    die("build_id_len is larger than build_id", NULL);
  sink += strlen(elf_machine_name(info->machine));
  memset(ver, 'x', sizeof(ver));
  elf_short_version(info, ver, sizeof(ver));
  if (memchr(ver, '\0', sizeof(ver)) == NULL)
    die("elf_short_version left no NUL", NULL);
}

static void check(const struct elf_info *old, const struct elf_info *new_, bool loadable) {
  struct elf_reasons why = {NULL, 0};
  int rc = loadable ? elf_check_loadable(new_, &why) : elf_check_compat(old, new_, &why);
  if (rc != 0 && rc != HOTSWAP_EINCOMPAT && rc != -ENOMEM)
    die("a check returned an undocumented code", hotswap_err_name(rc));
  if (rc == HOTSWAP_EINCOMPAT && why.n == 0)
    die("a check said incompatible without a reason", NULL);
  if (rc == 0 && why.n != 0)
    die("a check said compatible with a reason", why.lines[0]);
  for (size_t i = 0; i < why.n; i++)
    sink += strlen(why.lines[i]);
  elf_reasons_free(&why);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char err[ELF_ERR_MAX];
  struct elf_info *info = NULL;
  /* A private copy, freed before the result is read: the result must not point into it. */
  unsigned char *copy = malloc(size ? size : 1);
  if (copy == NULL)
    return 0;
  memcpy(copy, data, size);
  memset(err, 0xa5, sizeof(err));
  int rc = elf_inspect_mem(copy, size, NULL, &info, err);
  free(copy);
  if (rc != 0) {
    if (rc > 0)
      die("elf_inspect_mem returned a positive code", NULL);
    if (memchr(err, '\0', sizeof(err)) == NULL)
      die("elf_inspect_mem failed without a NUL-terminated reason", NULL);
    return 0;
  }
  if (info->file_size != size)
    die("file_size differs from the input's size", NULL);
  touch_info(info);
  check(ref, info, false);
  check(info, ref, false);
  check(info, info, false);
  check(NULL, info, true);
  elf_info_free(info);
  return 0;
}
