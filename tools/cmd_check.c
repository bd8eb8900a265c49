/* cmd_check.c - `hotswap check [--json] OLD.so NEW.so`: tells whether a new build of a
 * plugin may replace the running one, with every reason when it may not. Exit 0 yes,
 * 1 no, 2 usage or I/O error. Reads both files only; runs none of them. */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>

#include "elf/elf.h"
#include "tools/cmds.h"
#include "tools/json.h"
#include "tools/util.h"

static void usage(FILE *f) {
  fputs("usage: hotswap check [--json] OLD.so NEW.so\n"
        "\n"
        "Tell whether NEW.so, a new build of a plugin, may replace OLD.so, the running one:\n"
        "same ELF class and machine, a shared object, every function OLD exports still a\n"
        "function, no executable stack or text relocations, this hotswap ABI version and\n"
        "unchanged live type layouts. Nothing of either file runs.\n"
        "\n"
        "  --json      print one JSON object {old, new, compatible, reasons}\n"
        "  -h, --help  show this help\n"
        "\n"
        "Exit status: 0 NEW may replace OLD, 1 it may not (every reason is printed),\n"
        "2 usage error or unreadable/malformed file.\n",
        f);
}

static void print_text(const char *old, const char *new_, bool ok,
                       const struct elf_reasons *why) {
  if (ok) {
    printf("%s may replace %s\n", new_, old);
    return;
  }
  char c[CLI_CLEAN_MAX];
  printf("%s cannot replace %s:\n", new_, old);
  for (size_t i = 0; i < why->n; i++)
    printf("  %s\n", cli_clean(why->lines[i], c));
}

static void print_json(const char *old, const char *new_, bool ok,
                       const struct elf_reasons *why) {
  struct json j;
  json_init(&j, stdout);
  json_begin_object(&j, NULL);
  json_str(&j, "old", old);
  json_str(&j, "new", new_);
  json_bool(&j, "compatible", ok);
  json_begin_array(&j, "reasons");
  for (size_t i = 0; i < why->n; i++)
    json_str(&j, NULL, why->lines[i]);
  json_end_array(&j);
  json_end_object(&j);
  json_finish(&j);
}

/* Parses the options; returns -1 to go on, else the exit status. */
static int parse_args(int argc, char **argv, bool *as_json) {
  static const struct option longopts[] = {{"json", no_argument, NULL, 'j'},
                                           {"help", no_argument, NULL, 'h'},
                                           {NULL, 0, NULL, 0}};
  int c;
  optind = 1;
  opterr = 0;
  while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
    switch (c) {
    case 'j': *as_json = true; break;
    case 'h': usage(stdout); return 0;
    default:
      cli_bad_option("check", argc, argv);
      usage(stderr);
      return 2;
    }
  }
  if (argc - optind != 2) {
    fprintf(stderr, "hotswap check: expected two plugin files (OLD and NEW), got %d\n\n",
            argc - optind);
    usage(stderr);
    return 2;
  }
  return -1;
}

int cmd_check(int argc, char **argv) {
  bool as_json = false;
  int rc = parse_args(argc, argv, &as_json);
  if (rc >= 0)
    return rc;
  const char *old_path = argv[optind], *new_path = argv[optind + 1];
  struct elf_info *old = NULL, *new_ = NULL;
  /* Inspect both so that a user with two bad files hears about both at once. */
  int rc_old = cli_inspect_file("check", old_path, &old);
  int rc_new = cli_inspect_file("check", new_path, &new_);
  if (rc_old != 0 || rc_new != 0) {
    if (old != NULL)
      elf_info_free(old);
    if (new_ != NULL)
      elf_info_free(new_);
    return 2;
  }
  struct elf_reasons why = {NULL, 0};
  rc = elf_check_compat(old, new_, &why);
  if (rc != 0 && rc != HOTSWAP_EINCOMPAT) {
    fprintf(stderr, "hotswap check: %s\n", hotswap_strerror(rc));
    rc = 2;
  } else {
    if (rc == HOTSWAP_EINCOMPAT && why.n == 0) /* never leave "no" without a reason */
      fprintf(stderr, "hotswap check: %s\n", hotswap_strerror(rc));
    if (as_json)
      print_json(old_path, new_path, rc == 0, &why);
    else
      print_text(old_path, new_path, rc == 0, &why);
    rc = rc == 0 ? 0 : 1;
  }
  elf_reasons_free(&why);
  elf_info_free(old);
  elf_info_free(new_);
  if (fflush(stdout) != 0 || ferror(stdout)) {
    fprintf(stderr, "hotswap check: cannot write the output\n");
    return 2;
  }
  return rc;
}
