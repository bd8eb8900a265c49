/* SPDX-License-Identifier: BSD-3-Clause */
/* build_gen.c - what `hotswap build` generates: the list of live symbols (collected from a
 * first link of the plugin, with elf/), and the C sources linked into the plugin: the
 * version note, the live table and the static registration record.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "hotswap.h"
#include "tools/build.h"

const char *const bld_static_renamed[] = {
    "hotswap_reloadable", "hotswap_export",  "hotswap_import",      "hotswap_on_load",
    "hotswap_on_init",    "hotswap_on_free", "hotswap_invoke_func", "hotswap_live_table",
    NULL,
};

static bool is_c_identifier(const char *s) {
  if (!(isalpha((unsigned char)*s) || *s == '_'))
    return false;
  for (; *s != '\0'; s++)
    if (!(isalnum((unsigned char)*s) || *s == '_'))
      return false;
  return true;
}

static int cmp_sym(const void *a, const void *b) {
  return strcmp(((const struct bld_live_sym *)a)->name, ((const struct bld_live_sym *)b)->name);
}

static int cmp_sym_ci(const void *a, const void *b) {
  const struct bld_live_sym *x = a, *y = b;
  int c = strcasecmp(x->name, y->name);
  return c != 0 ? c : strcmp(x->name, y->name);
}

static int cmp_type(const void *a, const void *b) {
  const struct elf_live_type *x = a, *y = b;
  int c = strcasecmp(x->name, y->name);
  if (c == 0)
    c = strcmp(x->name, y->name);
  if (c == 0 && x->fingerprint != y->fingerprint)
    c = x->fingerprint < y->fingerprint ? -1 : 1;
  if (c == 0 && x->size != y->size)
    c = x->size < y->size ? -1 : 1;
  if (c == 0 && x->align != y->align)
    c = x->align < y->align ? -1 : 1;
  return c;
}

static int cmp_type_name(const void *a, const void *b) {
  return strcmp(((const struct elf_live_type *)a)->name,
                ((const struct elf_live_type *)b)->name);
}

/* Copy the live exports of info into out->syms, skipping (with a warning) what cannot be in
 * the table. Returns 0 or -ENOMEM. */
static int collect_syms(const struct elf_info *info, struct bld_live *out) {
  out->syms = calloc(info->n_exports + 1, sizeof(*out->syms));
  if (out->syms == NULL)
    return -ENOMEM;
  for (size_t i = 0; i < info->n_exports; i++) {
    const struct elf_sym *e = &info->exports[i];
    if (!e->live)
      continue;
    enum bld_live_kind kind;
    if (e->type == ELF_SYM_FUNC || e->type == ELF_SYM_IFUNC) {
      kind = BLD_LIVE_FUNC;
    } else if (e->type == ELF_SYM_OBJECT) {
      kind = BLD_LIVE_VAR;
    } else {
      fprintf(stderr, "hotswap build: warning: live symbol '%s' is a %s symbol, not a "
              "function or variable; it is left out of the live table\n", e->name,
              elf_sym_type_name(e->type));
      continue;
    }
    if (!is_c_identifier(e->name)) {
      fprintf(stderr, "hotswap build: warning: live symbol '%s' is not a C identifier; it "
              "is left out of the live table\n", e->name);
      continue;
    }
    if (out->n_syms > 0 && strcmp(out->syms[out->n_syms - 1].name, e->name) == 0)
      continue; /* several versions of one name */
    out->syms[out->n_syms++] = (struct bld_live_sym){e->name, kind, e->size};
  }
  qsort(out->syms, out->n_syms, sizeof(*out->syms), cmp_sym);
  return 0;
}

/* Sets clash_* and returns -EEXIST when two symbols differ only in case. */
static int check_sym_clash(struct bld_live *out) {
  if (out->n_syms < 2)
    return 0;
  struct bld_live_sym *ci = malloc(out->n_syms * sizeof(*ci));
  if (ci == NULL)
    return -ENOMEM;
  memcpy(ci, out->syms, out->n_syms * sizeof(*ci));
  qsort(ci, out->n_syms, sizeof(*ci), cmp_sym_ci);
  int rc = 0;
  for (size_t i = 1; i < out->n_syms && rc == 0; i++) {
    if (strcasecmp(ci[i - 1].name, ci[i].name) == 0) {
      out->clash_a = ci[i - 1].name;
      out->clash_b = ci[i].name;
      rc = -EEXIST;
    }
  }
  free(ci);
  return rc;
}

/* Copy the type records, drop exact duplicates, and check that no two names are equal
 * case-insensitively. Returns 0, -EEXIST (clash_*), -ENOMEM. */
static int collect_types(const struct elf_info *info, struct bld_live *out) {
  out->types = calloc(info->n_live_types + 1, sizeof(*out->types));
  if (out->types == NULL)
    return -ENOMEM;
  if (info->n_live_types > 0)
    memcpy(out->types, info->live_types, info->n_live_types * sizeof(*out->types));
  qsort(out->types, info->n_live_types, sizeof(*out->types), cmp_type);
  size_t n = 0;
  for (size_t i = 0; i < info->n_live_types; i++) {
    struct elf_live_type *t = &out->types[i];
    if (n > 0 && cmp_type(&out->types[n - 1], t) == 0)
      continue; /* the same declaration, seen from several files */
    if (n > 0 && strcasecmp(out->types[n - 1].name, t->name) == 0) {
      out->clash_a = out->types[n - 1].name;
      out->clash_b = t->name;
      out->clash_is_type = true;
      out->n_types = n;
      return -EEXIST;
    }
    out->types[n++] = *t;
  }
  out->n_types = n;
  qsort(out->types, n, sizeof(*out->types), cmp_type_name);
  return 0;
}

int bld_live_collect(const struct elf_info *info, struct bld_live *out) {
  memset(out, 0, sizeof(*out));
  int rc = collect_syms(info, out);
  if (rc == 0)
    rc = check_sym_clash(out);
  if (rc == 0)
    rc = collect_types(info, out);
  return rc;
}

void bld_live_free(struct bld_live *l) {
  free(l->syms);
  free(l->types);
  memset(l, 0, sizeof(*l));
}

/* ---- writing the generated files ---------------------------------------------------- */

static FILE *gen_open(const char *path, const char *what, const char *name, char *err) {
  FILE *f = fopen(path, "w");
  if (f == NULL) {
    snprintf(err, BLD_ERR_MAX, "cannot write %s: %s", path, strerror(errno));
    return NULL;
  }
  fprintf(f, "/* Generated by `hotswap build` for plugin '%s': %s. Do not edit. */\n", name,
          what);
  return f;
}

static int gen_close(FILE *f, const char *path, char *err) {
  int bad = ferror(f);
  if (fclose(f) != 0 || bad) {
    snprintf(err, BLD_ERR_MAX, "cannot write %s: %s", path, strerror(errno ? errno : EIO));
    return -EIO;
  }
  return 0;
}

/* Print s as a C string literal (octal escapes for anything unusual). */
static void put_c_string(FILE *f, const char *s) {
  fputc('"', f);
  for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
    if (*p == '"' || *p == '\\' || *p == '?' || !isprint(*p))
      fprintf(f, "\\%03o", *p);
    else
      fputc(*p, f);
  }
  fputc('"', f);
}

/* clang's AddressSanitizer pads globals, even in named sections, which would break a note
 * and the stride of the hotswap_static records; gcc leaves such globals alone (and warns
 * about the attribute). */
static const char no_asan[] = "#if defined(__clang__)\n"
                              "#define NO_ASAN_ __attribute__((no_sanitize(\"address\")))\n"
                              "#else\n"
                              "#define NO_ASAN_\n"
                              "#endif\n\n";

/* Append "key=value\0" to buf. Returns the new length, or SIZE_MAX when it does not fit. */
static size_t kv(char *buf, size_t len, size_t cap, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static size_t kv(char *buf, size_t len, size_t cap, const char *key, const char *fmt, ...) {
  if (len == SIZE_MAX)
    return len;
  char val[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(val, sizeof(val), fmt, ap);
  va_end(ap);
  int n = snprintf(buf + len, cap - len, "%s=%s", key, val);
  if (n < 0 || (size_t)n + 1 > cap - len)
    return SIZE_MAX;
  return len + (size_t)n + 1;
}

int bld_gen_note(const char *path, const char *name, const struct bld_stamp *st,
                 int64_t build_time, char *err) {
  char desc[2048];
  size_t n = 0;
  n = kv(desc, n, sizeof(desc), "abi", "%d", HOTSWAP_ABI_VERSION);
  n = kv(desc, n, sizeof(desc), "name", "%s", name);
  n = kv(desc, n, sizeof(desc), "commit", "%s", st->commit);
  n = kv(desc, n, sizeof(desc), "branch", "%s", st->branch);
  n = kv(desc, n, sizeof(desc), "dirty", "%d", st->dirty ? 1 : 0);
  n = kv(desc, n, sizeof(desc), "commit_time", "%lld", (long long)st->commit_time);
  n = kv(desc, n, sizeof(desc), "build_time", "%lld", (long long)build_time);
  if (n == SIZE_MAX) {
    snprintf(err, BLD_ERR_MAX, "plugin name or branch too long for the version note");
    return -ENAMETOOLONG;
  }
  while (n % 4 != 0)
    desc[n++] = '\0';
  FILE *f = gen_open(path, "its hotswap version note", name, err);
  if (f == NULL)
    return -EIO;
  fprintf(f, "#include <stdint.h>\n\n%s"
             "__attribute__((used, section(\"%s\"), aligned(4))) NO_ASAN_\n"
             "static const struct {\n"
             "  uint32_t namesz, descsz, type;\n"
             "  char name[8];\n"
             "  unsigned char desc[%zu];\n"
             "} hotswap_version_note = {8, %zu, 0x%08xu, \"%s\", {",
          no_asan, HOTSWAP_NOTE_SECTION, n, n, HOTSWAP_NT_VERSION, HOTSWAP_NOTE_NAME);
  for (size_t i = 0; i < n; i++)
    fprintf(f, "%s0x%02x,", i % 12 == 0 ? "\n    " : " ", (unsigned char)desc[i]);
  fprintf(f, "\n}};\n");
  return gen_close(f, path, err);
}

static void gen_syms(FILE *f, const struct bld_live *live, enum bld_live_kind kind) {
  const char *arr = kind == BLD_LIVE_FUNC ? "funcs" : "vars";
  fprintf(f, "\nstatic const struct hotswap_live_%s hotswap_live_%s_[] = {\n",
          kind == BLD_LIVE_FUNC ? "func" : "var", arr);
  for (size_t i = 0; i < live->n_syms; i++) {
    const struct bld_live_sym *s = &live->syms[i];
    if (s->kind != kind)
      continue;
    if (kind == BLD_LIVE_FUNC)
      fprintf(f, "    {\"%s\", (void (*)(void))%s},\n", s->name, s->name);
    else
      fprintf(f, "    {\"%s\", (void *)%s, %lluu},\n", s->name, s->name,
              (unsigned long long)s->size);
  }
  fprintf(f, "};\n");
}

int bld_gen_live_table(const char *path, const char *name, const struct bld_live *live,
                       const char *prefix, char *err) {
  FILE *f = gen_open(path, "its live table", name, err);
  if (f == NULL)
    return -EIO;
  fprintf(f, "#include \"hotswap.h\"\n\n");
  size_t n_funcs = 0, n_vars = 0;
  for (size_t i = 0; i < live->n_syms; i++) {
    const struct bld_live_sym *s = &live->syms[i];
    bool fn = s->kind == BLD_LIVE_FUNC;
    n_funcs += fn;
    n_vars += !fn;
    fprintf(f, fn ? "extern void %s(void);\n" : "extern char %s[];\n", s->name);
  }
  if (n_funcs > 0)
    gen_syms(f, live, BLD_LIVE_FUNC);
  if (n_vars > 0)
    gen_syms(f, live, BLD_LIVE_VAR);
  if (live->n_types > 0) {
    fprintf(f, "\nstatic const struct hotswap_live_type_entry hotswap_live_types_[] = {\n");
    for (size_t i = 0; i < live->n_types; i++) {
      const struct elf_live_type *t = &live->types[i];
      fprintf(f, "    {");
      put_c_string(f, t->name);
      fprintf(f, ", %uu, %uu, 0x%016llxull},\n", t->size, t->align,
              (unsigned long long)t->fingerprint);
    }
    fprintf(f, "};\n");
  }
  fprintf(f, "\n__attribute__((visibility(\"default\"))) extern const struct "
             "hotswap_live_table hotswap_live_table;\n"
             "__attribute__((visibility(\"default\"))) const struct hotswap_live_table "
             "hotswap_live_table = {\n    HOTSWAP_LIVE_TABLE_VERSION, %zuu, %zuu, %zuu,\n"
             "    %s, %s, %s,\n    ",
          n_funcs, n_vars, live->n_types, n_funcs ? "hotswap_live_funcs_" : "NULL",
          n_vars ? "hotswap_live_vars_" : "NULL", live->n_types ? "hotswap_live_types_" : "NULL");
  put_c_string(f, prefix);
  fprintf(f, "};\n");
  return gen_close(f, path, err);
}

int bld_gen_static_record(const char *path, const char *name, const char *id,
                          const struct bld_stamp *st, char *err) {
  FILE *f = gen_open(path, "its static registration record", name, err);
  if (f == NULL)
    return -EIO;
  fprintf(f, "#include \"hotswap_static.h\"\n\n"
             "/* Hooks are optional: weak references are NULL when the plugin has none. */\n");
  for (size_t i = 0; bld_static_renamed[i] != NULL; i++)
    if (strcmp(bld_static_renamed[i], "hotswap_live_table") != 0)
      fprintf(f, "#pragma weak %s\n", bld_static_renamed[i]);
  fprintf(f, "extern const struct hotswap_live_table hotswap_live_table;\n\n%s"
             "extern const struct hotswap_static_plugin hotswap_static_plugin_%s;\n"
             "__attribute__((used, section(HOTSWAP_STATIC_SECTION), "
             "visibility(\"default\"))) NO_ASAN_\n"
             "const struct hotswap_static_plugin hotswap_static_plugin_%s = {\n"
             "    HOTSWAP_ABI_VERSION, (uint32_t)sizeof(struct hotswap_static_plugin),\n    ",
          no_asan, id, id);
  put_c_string(f, name);
  fprintf(f, ", ");
  put_c_string(f, st->commit);
  fprintf(f, ", %d,\n"
             "    hotswap_reloadable, hotswap_export, hotswap_import, hotswap_on_load,\n"
             "    hotswap_on_init, hotswap_on_free, hotswap_invoke_func, "
             "&hotswap_live_table};\n",
          st->dirty ? 1 : 0);
  return gen_close(f, path, err);
}
