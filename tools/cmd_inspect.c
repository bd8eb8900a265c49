/* SPDX-License-Identifier: BSD-3-Clause */
/* cmd_inspect.c - `hotswap inspect [--json] [-v] PLUGIN.so`: shows what a plugin file
 * exports, its hooks, version note, live types and the properties that block swapping or
 * unloading it, as text or as one JSON object. Reads the file only; runs none of it. */
#include <elf.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "elf/elf.h"
#include "tools/cmds.h"
#include "tools/json.h"
#include "tools/util.h"

static void usage(FILE *f) {
  fputs("usage: hotswap inspect [--json] [-v] [--host EXE] PLUGIN.so\n"
        "\n"
        "Show what a plugin file exports, its hooks, hotswap version note, live types and\n"
        "the properties that block swapping or unloading it. Nothing of the plugin runs.\n"
        "\n"
        "  --json         print one JSON object (keys: README, \"Inspecting and checking\n"
        "                 plugins\")\n"
        "  -v, --verbose  also list the undefined symbols\n"
        "  --host EXE     say which exported variables the executable EXE copy-relocates\n"
        "                 (its copy is the one that runs; see README, \"State\")\n"
        "  -h, --help     show this help\n"
        "\n"
        "Exit status: 0 shown, 2 usage error or unreadable/malformed file.\n",
        f);
}

/* ---- text output ------------------------------------------------------------------- */

static void print_header(const struct elf_info *in, const char *path) {
  char hex[2 * sizeof(in->build_id) + 1], c[CLI_CLEAN_MAX];
  printf("file:       %s (%zu bytes)\n", path, in->file_size);
  printf("format:     ELF%d %s %s\n", in->elf_class == ELFCLASS32 ? 32 : 64,
         elf_machine_name(in->machine), cli_elf_type_name(in->type));
  printf("build-id:   %s\n",
         in->build_id_len ? cli_hex(in->build_id, in->build_id_len, hex) : "(none)");
  printf("soname:     %s\n", cli_clean(in->soname, c));
  printf("needed:     ");
  for (size_t i = 0; i < in->n_needed; i++)
    printf("%s%s", i ? ", " : "", cli_clean(in->needed[i], c));
  printf("%s\n", in->n_needed ? "" : "(none)");
}

static void print_note(const struct elf_info *in) {
  const struct elf_version_note *n = &in->note;
  char t1[CLI_TIME_MAX], t2[CLI_TIME_MAX], c1[CLI_CLEAN_MAX], c2[CLI_CLEAN_MAX],
      c3[CLI_CLEAN_MAX];
  if (!n->present) {
    printf("version:    no hotswap version note\n");
    return;
  }
  const char *ct = cli_iso_time(n->commit_time, t1);
  const char *bt = cli_iso_time(n->build_time, t2);
  printf("version:    %s, commit %s%s, branch %s, abi %" PRIu32 "\n",
         n->name[0] ? cli_clean(n->name, c1) : "(unnamed)",
         n->commit[0] ? cli_clean(n->commit, c2) : "(none)", n->dirty ? " (dirty)" : "",
         n->branch[0] ? cli_clean(n->branch, c3) : "(none)", n->abi);
  printf("            committed %s, built %s\n", ct ? ct : "(unknown)", bt ? bt : "(unknown)");
}

static void print_hooks(const struct elf_info *in) {
  printf("hooks:      ");
  for (unsigned b = 0, k = 0; b < ELF_HOOK_COUNT; b++)
    if (in->hooks & (1u << b))
      printf("%s%s", k++ ? ", " : "", elf_hook_name((enum elf_hook)(1u << b)));
  printf("%s\n", in->hooks ? "" : "(none)");
}

static void print_syms(const struct elf_sym *s, size_t n, bool mark_live) {
  char c1[CLI_CLEAN_MAX], c2[CLI_CLEAN_MAX], ver[CLI_CLEAN_MAX + 16];
  for (size_t i = 0; i < n; i++) {
    /* A non-default version is one kept for old callers (name@V1 beside name@@V2). */
    snprintf(ver, sizeof(ver), "%s%s", s[i].version ? cli_clean(s[i].version, c1) : "-",
             s[i].version && !s[i].default_version ? " (hidden)" : "");
    printf("  %s %-8s %-6s %-9s %8" PRIu64 "  %-12s %s\n", mark_live && s[i].live ? "*" : " ",
           elf_sym_type_name(s[i].type), cli_bind_name(s[i].bind),
           cli_visibility_name(s[i].visibility), s[i].size, ver, cli_clean(s[i].name, c2));
  }
}

static void print_live_types(const struct elf_info *in) {
  char c1[CLI_CLEAN_MAX], c2[CLI_CLEAN_MAX];
  printf("live types: %zu\n", in->n_live_types);
  for (size_t i = 0; i < in->n_live_types; i++) {
    const struct elf_live_type *t = &in->live_types[i];
    printf("  %s: size %" PRIu32 ", align %" PRIu32 ", fingerprint %016" PRIx64
           ", fields %s\n",
           cli_clean(t->name, c1), t->size, t->align, t->fingerprint,
           cli_clean(t->fields, c2));
  }
}

static void print_flags(const struct elf_info *in) {
  struct cli_flag flags[CLI_FLAG_MAX];
  size_t n = cli_flags(in, flags);
  if (n == 0) {
    printf("flags:      none (nothing blocks swapping or unloading)\n");
    return;
  }
  printf("flags:      ");
  for (size_t i = 0; i < n; i++)
    printf("%s%s", i ? ", " : "", flags[i].name);
  printf("\n");
  for (size_t i = 0; i < n; i++)
    printf("  %-10s  %s\n", flags[i].name, flags[i].explanation);
}

/* The writable state a reload carries over (README, "State across reloads"). */
static void print_state(const struct elf_info *in, const struct elf_info *host,
                        const char *host_path) {
  char c1[CLI_CLEAN_MAX], c2[CLI_CLEAN_MAX], c3[CLI_CLEAN_MAX];
  size_t tls = 0;
  for (size_t i = 0; i < in->n_state; i++)
    tls += in->state[i].tls;
  printf("state:      %zu objects", in->n_state);
  if (in->state_symtab != NULL)
    printf(" from %s%s", in->state_symtab,
           in->state_symtab[1] == 'd' ? " (stripped: statics are not seen)" : "");
  printf("%s\n", tls ? ", thread-local ones are not carried" : "");
  if (in->n_state)
    printf("    %-12s %-6s %8s  %-24s %s\n", "SECTION", "BIND", "SIZE", "NAME", "FILE");
  for (size_t i = 0; i < in->n_state; i++) {
    const struct elf_state_obj *o = &in->state[i];
    const struct elf_copy_reloc *cp = o->exported ? elf_find_copy(host, o->name) : NULL;
    printf("    %-12s %-6s %8" PRIu64 "  %-24s %s%s%s\n", cli_clean(o->section, c1),
           cli_bind_name(o->bind), o->size, cli_clean(o->name, c2),
           o->file != NULL ? cli_clean(o->file, c3) : "-", o->tls ? "  (thread-local: not carried)" : "",
           cp != NULL ? "  (copy-relocated by the host)" : "");
  }
  if (host != NULL) {
    size_t n = 0;
    for (size_t i = 0; i < in->n_state; i++)
      n += in->state[i].exported && elf_find_copy(host, in->state[i].name) != NULL;
    printf("host:       %s copy-relocates %zu of its exported variables\n",
           cli_clean(host_path, c1), n);
  }
}

static void print_text(const struct elf_info *in, const char *path, bool verbose) {
  print_header(in, path);
  print_note(in);
  print_hooks(in);
  printf("exports:    %zu (%zu live, marked *)\n", in->n_exports, in->n_live);
  if (in->n_exports)
    printf("    %-8s %-6s %-9s %8s  %-12s %s\n", "TYPE", "BIND", "VIS", "SIZE", "VERSION",
           "NAME");
  print_syms(in->exports, in->n_exports, true);
  print_live_types(in);
  printf("undefined:  %zu%s\n", in->n_undefs,
         verbose || in->n_undefs == 0 ? "" : " (-v lists them)");
  if (verbose)
    print_syms(in->undefs, in->n_undefs, false);
  print_flags(in);
}

/* ---- JSON output ------------------------------------------------------------------- */

static void json_sym(struct json *j, const struct elf_sym *s, bool with_live) {
  json_begin_object(j, NULL);
  json_str(j, "name", s->name);
  json_str(j, "type", elf_sym_type_name(s->type));
  json_str(j, "bind", cli_bind_name(s->bind));
  json_str(j, "visibility", cli_visibility_name(s->visibility));
  json_uint(j, "size", s->size);
  json_str(j, "version", s->version);
  json_bool(j, "default_version", s->default_version);
  if (with_live)
    json_bool(j, "live", s->live);
  json_end_object(j);
}

static void json_note(struct json *j, const struct elf_version_note *n) {
  char t[CLI_TIME_MAX];
  if (!n->present) {
    json_null(j, "version_note");
    return;
  }
  json_begin_object(j, "version_note");
  json_uint(j, "abi", n->abi);
  json_str(j, "name", n->name);
  json_str(j, "commit", n->commit);
  json_str(j, "branch", n->branch);
  json_bool(j, "dirty", n->dirty);
  json_str(j, "commit_time", cli_iso_time(n->commit_time, t));
  json_str(j, "build_time", cli_iso_time(n->build_time, t));
  json_int(j, "commit_time_unix", n->commit_time);
  json_int(j, "build_time_unix", n->build_time);
  json_end_object(j);
}

static void json_header(struct json *j, const struct elf_info *in, const char *path) {
  char hex[2 * sizeof(in->build_id) + 1], ver[48];
  json_str(j, "hotswap_version", HOTSWAP_VERSION);
  json_str(j, "file", path);
  json_uint(j, "file_size", in->file_size);
  json_uint(j, "class", in->elf_class == ELFCLASS32 ? 32 : 64);
  json_str(j, "machine", elf_machine_name(in->machine));
  json_str(j, "type", cli_elf_type_name(in->type));
  json_str(j, "build_id", in->build_id_len ? cli_hex(in->build_id, in->build_id_len, hex)
                                            : NULL);
  snprintf(hex, sizeof(hex), "%016" PRIx64, in->content_hash);
  json_str(j, "content_hash", hex);
  elf_short_version(in, ver, sizeof(ver));
  json_str(j, "short_version", ver);
  json_str(j, "soname", in->soname);
  json_begin_array(j, "needed");
  for (size_t i = 0; i < in->n_needed; i++)
    json_str(j, NULL, in->needed[i]);
  json_end_array(j);
}

static void json_body(struct json *j, const struct elf_info *in) {
  char hex[24];
  json_begin_array(j, "hooks");
  for (unsigned b = 0; b < ELF_HOOK_COUNT; b++)
    if (in->hooks & (1u << b))
      json_str(j, NULL, elf_hook_name((enum elf_hook)(1u << b)));
  json_end_array(j);
  json_uint(j, "n_live", in->n_live);
  json_begin_array(j, "exports");
  for (size_t i = 0; i < in->n_exports; i++)
    json_sym(j, &in->exports[i], true);
  json_end_array(j);
  json_begin_array(j, "live_types");
  for (size_t i = 0; i < in->n_live_types; i++) {
    const struct elf_live_type *t = &in->live_types[i];
    json_begin_object(j, NULL);
    json_str(j, "name", t->name);
    json_uint(j, "size", t->size);
    json_uint(j, "align", t->align);
    json_str(j, "fields", t->fields);
    snprintf(hex, sizeof(hex), "%016" PRIx64, t->fingerprint);
    json_str(j, "fingerprint", hex);
    snprintf(hex, sizeof(hex), "%016" PRIx64, t->layout_hash);
    json_str(j, "layout_hash", hex);
    json_end_object(j);
  }
  json_end_array(j);
  json_uint(j, "n_undefined", in->n_undefs);
  json_begin_array(j, "undefined");
  for (size_t i = 0; i < in->n_undefs; i++)
    json_sym(j, &in->undefs[i], false);
  json_end_array(j);
}

static void json_flags(struct json *j, const struct elf_info *in) {
  struct cli_flag flags[CLI_FLAG_MAX];
  size_t n = cli_flags(in, flags);
  json_begin_array(j, "flags");
  for (size_t i = 0; i < n; i++) {
    json_begin_object(j, NULL);
    json_str(j, "name", flags[i].name);
    json_str(j, "blocks", flags[i].blocks);
    json_str(j, "explanation", flags[i].explanation);
    json_end_object(j);
  }
  json_end_array(j);
}

static void json_state(struct json *j, const struct elf_info *in, const struct elf_info *host,
                       const char *host_path) {
  json_str(j, "state_symtab", in->state_symtab);
  json_begin_array(j, "state");
  for (size_t i = 0; i < in->n_state; i++) {
    const struct elf_state_obj *o = &in->state[i];
    json_begin_object(j, NULL);
    json_str(j, "name", o->name);
    json_str(j, "file", o->file);
    json_str(j, "section", o->section);
    json_str(j, "bind", cli_bind_name(o->bind));
    json_uint(j, "size", o->size);
    json_bool(j, "exported", o->exported);
    json_bool(j, "carried", !o->tls);
    if (host != NULL)
      json_bool(j, "copy_relocated", o->exported && elf_find_copy(host, o->name) != NULL);
    json_end_object(j);
  }
  json_end_array(j);
  if (host != NULL)
    json_str(j, "host", host_path);
}

static void print_json(const struct elf_info *in, const char *path, const struct elf_info *host,
                       const char *host_path) {
  struct json j;
  json_init(&j, stdout);
  json_begin_object(&j, NULL);
  json_header(&j, in, path);
  json_note(&j, &in->note);
  json_body(&j, in);
  json_flags(&j, in);
  json_state(&j, in, host, host_path);
  json_end_object(&j);
  json_finish(&j);
}

/* ---- command ----------------------------------------------------------------------- */

int cmd_inspect(int argc, char **argv) {
  static const struct option longopts[] = {{"json", no_argument, NULL, 'j'},
                                           {"verbose", no_argument, NULL, 'v'},
                                           {"host", required_argument, NULL, 'H'},
                                           {"help", no_argument, NULL, 'h'},
                                           {NULL, 0, NULL, 0}};
  bool as_json = false, verbose = false;
  const char *host_path = NULL;
  int c;
  optind = 1;
  opterr = 0;
  while ((c = getopt_long(argc, argv, ":vh", longopts, NULL)) != -1) {
    switch (c) {
    case 'j': as_json = true; break;
    case 'v': verbose = true; break;
    case 'H': host_path = optarg; break;
    case 'h': usage(stdout); return 0;
    case ':':
      fprintf(stderr, "hotswap inspect: option '%s' requires a value\n", argv[optind - 1]);
      cli_see_help("inspect");
      return 2;
    default:
      cli_bad_option("inspect", argc, argv);
      cli_see_help("inspect");
      return 2;
    }
  }
  if (argc - optind != 1) {
    fprintf(stderr, "hotswap inspect: expected one plugin file, got %d\n", argc - optind);
    cli_see_help("inspect");
    return 2;
  }
  const char *path = argv[optind];
  struct elf_info *info;
  struct elf_info *host = NULL;
  if (host_path != NULL && cli_inspect_file("inspect", host_path, &host) != 0)
    return 2;
  if (cli_inspect_file("inspect", path, &info) != 0) {
    elf_info_free(host);
    return 2;
  }
  if (as_json) {
    print_json(info, path, host, host_path);
  } else {
    print_text(info, path, verbose);
    print_state(info, host, host_path);
  }
  elf_info_free(info);
  elf_info_free(host);
  if (fflush(stdout) != 0 || ferror(stdout)) {
    fprintf(stderr, "hotswap inspect: cannot write the output\n");
    return 2;
  }
  return 0;
}
