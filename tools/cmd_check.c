/* SPDX-License-Identifier: BSD-3-Clause */
/* cmd_check.c - `hotswap check [--json] OLD.so NEW.so`: tells whether a new build of a
 * plugin may replace the running one, with every reason when it may not. Exit 0 yes,
 * 1 no, 2 usage or I/O error. Reads both files only; runs none of them. */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "elf/elf.h"
#include "tools/cmds.h"
#include "tools/json.h"
#include "tools/util.h"

static void usage(FILE *f) {
  fputs("usage: hotswap check [--json] [--host EXE] OLD.so NEW.so\n"
        "\n"
        "Tell whether NEW.so, a new build of a plugin, may replace OLD.so, the running one:\n"
        "same ELF class and machine, a shared object, every function OLD exports still a\n"
        "function, no executable stack or text relocations, this hotswap ABI version and\n"
        "unchanged live type layouts. Nothing of either file runs. Also lists the state a\n"
        "reload would not carry over (objects NEW drops or whose size changed).\n"
        "\n"
        "  --json      print one JSON object {old, new, compatible, reasons, state}\n"
        "  --host EXE  also check the exported variables the executable EXE copy-relocates:\n"
        "              one whose size changed cannot be replaced (the copy cannot grow)\n"
        "  -h, --help  show this help\n"
        "\n"
        "Exit status: 0 NEW may replace OLD, 1 it may not (every reason is printed),\n"
        "2 usage error or unreadable/malformed file.\n",
        f);
}

/* What the check found beside the verdict: state a reload leaves fresh, and the exported
 * variables the host copy-relocates (NULL host: not asked). */
struct extra {
  struct elf_reasons state;
  struct elf_reasons copies;
  const char *host;
};

static void print_text(const char *old, const char *new_, bool ok,
                       const struct elf_reasons *why, const struct extra *x) {
  char c[CLI_CLEAN_MAX];
  if (ok) {
    printf("%s may replace %s\n", new_, old);
  } else {
    printf("%s cannot replace %s:\n", new_, old);
    for (size_t i = 0; i < why->n; i++)
      printf("  %s\n", cli_clean(why->lines[i], c));
  }
  if (x->state.n > 0)
    printf("state a reload leaves fresh (when the program changed it):\n");
  for (size_t i = 0; i < x->state.n; i++)
    printf("  %s\n", cli_clean(x->state.lines[i], c));
  if (x->host != NULL)
    printf("%s copy-relocates %zu exported variable%s%s\n", cli_clean(x->host, c),
           x->copies.n, x->copies.n == 1 ? "" : "s", x->copies.n ? ":" : "");
  for (size_t i = 0; i < x->copies.n; i++)
    printf("  %s\n", cli_clean(x->copies.lines[i], c));
}

static void print_json(const char *old, const char *new_, bool ok,
                       const struct elf_reasons *why, const struct extra *x) {
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
  json_begin_array(&j, "state");
  for (size_t i = 0; i < x->state.n; i++)
    json_str(&j, NULL, x->state.lines[i]);
  json_end_array(&j);
  if (x->host != NULL) {
    json_str(&j, "host", x->host);
    json_begin_array(&j, "copy_relocated");
    for (size_t i = 0; i < x->copies.n; i++)
      json_str(&j, NULL, x->copies.lines[i]);
    json_end_array(&j);
  }
  json_end_object(&j);
  json_finish(&j);
}

/* Parses the options; returns -1 to go on, else the exit status. */
static int parse_args(int argc, char **argv, bool *as_json, const char **host) {
  static const struct option longopts[] = {{"json", no_argument, NULL, 'j'},
                                           {"host", required_argument, NULL, 'H'},
                                           {"help", no_argument, NULL, 'h'},
                                           {NULL, 0, NULL, 0}};
  int c;
  optind = 1;
  opterr = 0;
  while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
    switch (c) {
    case 'j': *as_json = true; break;
    case 'H': *host = optarg; break;
    case 'h': usage(stdout); return 0;
    case ':':
      fprintf(stderr, "hotswap check: option '%s' requires a value\n", argv[optind - 1]);
      cli_see_help("check");
      return 2;
    default:
      cli_bad_option("check", argc, argv);
      cli_see_help("check");
      return 2;
    }
  }
  if (argc - optind != 2) {
    fprintf(stderr, "hotswap check: expected two plugin files (OLD and NEW), got %d\n",
            argc - optind);
    cli_see_help("check");
    return 2;
  }
  return -1;
}

static void add_line(struct elf_reasons *r, char *line) {
  char **lines = line != NULL ? realloc(r->lines, (r->n + 1) * sizeof(*lines)) : NULL;
  if (lines == NULL) {
    free(line);
    return;
  }
  lines[r->n++] = line;
  r->lines = lines;
}

/* Copy-relocated exported variables of OLD in the host; a size change in NEW is a reason. */
static void check_copies(const struct elf_info *old, const struct elf_info *new_,
                         const struct elf_info *host, struct elf_reasons *why, struct extra *x) {
  for (size_t i = 0; i < old->n_state; i++) {
    const struct elf_state_obj *o = &old->state[i];
    const struct elf_copy_reloc *cp = o->exported ? elf_find_copy(host, o->name) : NULL;
    if (cp == NULL)
      continue;
    const struct elf_state_obj *n = elf_find_state(new_, o->name, NULL);
    char *line = NULL;
    if (asprintf(&line, "'%s' (%ju bytes in the host)", o->name, (uintmax_t)cp->size) < 0)
      line = NULL;
    add_line(&x->copies, line);
    if (n != NULL && n->size != cp->size &&
        asprintf(&line, "exported variable '%s' is %ju bytes, was %ju, and the host "
                 "copy-relocates it (its copy cannot grow); restart the program to run "
                 "this build", o->name, (uintmax_t)n->size, (uintmax_t)cp->size) >= 0)
      add_line(why, line);
  }
}

int cmd_check(int argc, char **argv) {
  bool as_json = false;
  const char *host_path = NULL;
  int rc = parse_args(argc, argv, &as_json, &host_path);
  if (rc >= 0)
    return rc;
  const char *old_path = argv[optind], *new_path = argv[optind + 1];
  struct elf_info *old = NULL, *new_ = NULL;
  /* Inspect both so that a user with two bad files hears about both at once. */
  struct elf_info *host = NULL;
  int rc_old = cli_inspect_file("check", old_path, &old);
  int rc_new = cli_inspect_file("check", new_path, &new_);
  int rc_host = host_path != NULL ? cli_inspect_file("check", host_path, &host) : 0;
  if (rc_old != 0 || rc_new != 0 || rc_host != 0) {
    elf_info_free(old);
    elf_info_free(new_);
    elf_info_free(host);
    return 2;
  }
  struct elf_reasons why = {NULL, 0};
  struct extra x = {.host = host_path};
  rc = elf_check_compat(old, new_, &why);
  if (rc == 0 || rc == HOTSWAP_EINCOMPAT) {
    if (rc == 0) /* for a build that cannot replace OLD anyway, state is beside the point */
      elf_state_diff(old, new_, &x.state);
    size_t before = why.n;
    if (host != NULL)
      check_copies(old, new_, host, &why, &x);
    if (why.n > before)
      rc = HOTSWAP_EINCOMPAT;
  }
  if (rc != 0 && rc != HOTSWAP_EINCOMPAT) {
    fprintf(stderr, "hotswap check: %s\n", hotswap_strerror(rc));
    rc = 2;
  } else {
    if (rc == HOTSWAP_EINCOMPAT && why.n == 0) /* never leave "no" without a reason */
      fprintf(stderr, "hotswap check: %s\n", hotswap_strerror(rc));
    if (as_json)
      print_json(old_path, new_path, rc == 0, &why, &x);
    else
      print_text(old_path, new_path, rc == 0, &why, &x);
    rc = rc == 0 ? 0 : 1;
  }
  elf_reasons_free(&why);
  elf_reasons_free(&x.state);
  elf_reasons_free(&x.copies);
  elf_info_free(old);
  elf_info_free(new_);
  elf_info_free(host);
  if (fflush(stdout) != 0 || ferror(stdout)) {
    fprintf(stderr, "hotswap check: cannot write the output\n");
    return 2;
  }
  return rc;
}
