/* SPDX-License-Identifier: BSD-3-Clause */
/* cmd_build.c - `hotswap build`: compiles a plugin folder into OUTPUT_DIR/<name>.so (or,
 * with --static-linking, OUTPUT_DIR/lib<name>.a), stamped with its git version and carrying
 * a generated table of its live symbols. The output appears by rename(), never half-written.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "tools/build.h"
#include "tools/cmds.h"

#define MAX_PATTERNS 16

struct opts {
  bool verbose, debug, leave_temps, no_compile, static_link;
  const char *prefix;
  const char *include_dir;
  regex_t inc[MAX_PATTERNS], exc[MAX_PATTERNS];
  size_t n_inc, n_exc;
  const char *plugin_dir, *out_dir;
  char **cflags; /* after "--" */
  int n_cflags;
};

struct build {
  struct opts o;
  char *dir, *out; /* canonical */
  char *name, *id, *incdir;
  char work[PATH_MAX];
  bool have_work;
  struct bld_argv cc;   /* $CC, split into words */
  struct bld_argv base; /* -fPIC and the optimisation flags, for compiling and linking */
  struct bld_argv user; /* flags after "--" */
  char **srcs;
  size_t n_srcs;
  struct bld_argv objs; /* what the final link takes */
  struct bld_stamp stamp;
  struct bld_live live;
  size_t n_funcs, n_vars, n_types; /* what the live table holds */
  char err[BLD_ERR_MAX];
};

static const char usage_text[] =
    "usage: hotswap build [flags] PLUGIN_DIR OUTPUT_DIR [-- CFLAGS...]\n"
    "\n"
    "Compiles every *.c file of PLUGIN_DIR into OUTPUT_DIR/<name>.so, <name> being the\n"
    "folder's name, stamped with its git version and carrying the table of its live\n"
    "symbols. CFLAGS are passed to every compile and link, after the defaults.\n"
    "\n"
    "flags:\n"
    "  -v, --verbose         print every command run\n"
    "      --debug           build with -O0 -g3 instead of -O2 -g\n"
    "      --include REGEX   compile only files whose name matches (POSIX extended regex)\n"
    "      --exclude REGEX   skip files whose name matches (both repeatable)\n"
    "      --prefix-live P   prefix of live functions, variables and types (default live_,\n"
    "                        compared case-insensitively)\n"
    "      --static-linking  write OUTPUT_DIR/lib<name>.a to link into a host instead\n"
    "                        (see hotswap_static.h)\n"
    "      --leave-temps     keep the generated sources and objects, and say where\n"
    "      --no-compile      write the generated sources, print the commands, stop\n"
    "      --include-dir DIR where hotswap.h is (default: $HOTSWAP_INCLUDE, else ../include\n"
    "                        next to this program, else /usr/local/include, else\n"
    "                        /usr/include)\n"
    "  -h, --help            show this help\n"
    "\n"
    "environment: CC (default cc), OBJCOPY (objcopy), AR (ar), SOURCE_DATE_EPOCH.\n"
    "Exit status: 0 built, 1 the build failed (compiler output above), 2 usage or I/O error.\n";

__attribute__((format(printf, 1, 2))) static int usage_error(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "hotswap build: ");
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fprintf(stderr, "\n\n%s", usage_text);
  return 2;
}

/* Compile a --include/--exclude pattern into re. Returns 0 or 2 (usage printed). */
static int add_pattern(regex_t *re, size_t *n, const char *flag, const char *pattern) {
  if (*n == MAX_PATTERNS)
    return usage_error("too many %s patterns", flag);
  int e = regcomp(&re[*n], pattern, REG_EXTENDED | REG_NOSUB);
  if (e != 0) {
    char why[256];
    regerror(e, &re[*n], why, sizeof(why));
    fprintf(stderr, "hotswap build: %s '%s': %s\n\n%s", flag, pattern, why, usage_text);
    return 2;
  }
  (*n)++;
  return 0;
}

enum { OPT_DEBUG = 256, OPT_INCLUDE, OPT_EXCLUDE, OPT_PREFIX, OPT_STATIC, OPT_TEMPS,
       OPT_NOCOMPILE, OPT_INCDIR };

static const struct option long_opts[] = {
    {"verbose", no_argument, NULL, 'v'},
    {"help", no_argument, NULL, 'h'},
    {"debug", no_argument, NULL, OPT_DEBUG},
    {"include", required_argument, NULL, OPT_INCLUDE},
    {"exclude", required_argument, NULL, OPT_EXCLUDE},
    {"prefix-live", required_argument, NULL, OPT_PREFIX},
    {"static-linking", no_argument, NULL, OPT_STATIC},
    {"leave-temps", no_argument, NULL, OPT_TEMPS},
    {"no-compile", no_argument, NULL, OPT_NOCOMPILE},
    {"include-dir", required_argument, NULL, OPT_INCDIR},
    {NULL, 0, NULL, 0},
};

/* One option. Returns 0, 2 (usage printed) or -1 for --help. */
static int take_option(struct opts *o, int c, int argc, char **argv) {
  switch (c) {
  case 'v': o->verbose = true; return 0;
  case 'h': return -1;
  case OPT_DEBUG: o->debug = true; return 0;
  case OPT_INCLUDE: return add_pattern(o->inc, &o->n_inc, "--include", optarg);
  case OPT_EXCLUDE: return add_pattern(o->exc, &o->n_exc, "--exclude", optarg);
  case OPT_STATIC: o->static_link = true; return 0;
  case OPT_TEMPS: o->leave_temps = true; return 0;
  case OPT_NOCOMPILE: o->no_compile = true; return 0;
  case OPT_INCDIR: o->include_dir = optarg; return 0;
  case OPT_PREFIX:
    if (optarg[0] == '\0')
      return usage_error("%s needs a non-empty prefix", "--prefix-live");
    o->prefix = optarg;
    return 0;
  case ':':
    return usage_error("option '%s' needs a value", argv[optind - 1]);
  default:
    if (optopt != 0)
      fprintf(stderr, "hotswap build: unknown option '-%c'\n\n%s", optopt, usage_text);
    else
      fprintf(stderr, "hotswap build: unknown option '%s'\n\n%s",
              argv[optind - 1 < argc ? optind - 1 : argc - 1], usage_text);
    return 2;
  }
}

/* Parse argv into o. Returns 0, 2 (usage printed) or -1 when --help was asked. */
static int parse_args(int argc, char **argv, struct opts *o) {
  o->prefix = HOTSWAP_LIVE_PREFIX;
  int end = argc; /* flags for the compiler start after the first "--" */
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--") == 0) {
      end = i;
      o->cflags = argv + i + 1;
      o->n_cflags = argc - i - 1;
      break;
    }
  }
  opterr = 0;
  optind = 1;
  int c;
  while ((c = getopt_long(end, argv, ":vh", long_opts, NULL)) != -1) {
    int rc = take_option(o, c, end, argv);
    if (rc != 0)
      return rc;
  }
  if (end - optind != 2)
    return usage_error("%s", end - optind < 2 ? "expected PLUGIN_DIR and OUTPUT_DIR"
                                              : "too many arguments (compiler flags go "
                                                "after '--')");
  o->plugin_dir = argv[optind];
  o->out_dir = argv[optind + 1];
  return 0;
}

static bool has_header(const char *dir) {
  char path[PATH_MAX + 16];
  snprintf(path, sizeof(path), "%s/hotswap.h", dir);
  return access(path, R_OK) == 0;
}

/* Where hotswap.h is: --include-dir, $HOTSWAP_INCLUDE, ../include or ../../include next to
 * this executable (build/hotswap, build/<dir>/hotswap, an installed bin/hotswap),
 * /usr/local/include, /usr/include. */
static char *find_include_dir(const char *flag, char *err) {
  const char *given = flag != NULL ? flag : getenv("HOTSWAP_INCLUDE");
  if (given != NULL && given[0] != '\0') {
    if (has_header(given))
      return realpath(given, NULL);
    snprintf(err, BLD_ERR_MAX, "%s: no hotswap.h there (from %s)", given,
             flag != NULL ? "--include-dir" : "HOTSWAP_INCLUDE");
    return NULL;
  }
  char exe[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
  if (n > 0) {
    exe[n] = '\0';
    char *d = dirname(exe);
    char cand[PATH_MAX];
    for (int up = 1; up <= 2; up++) {
      snprintf(cand, sizeof(cand), "%s/%s", d, up == 1 ? "../include" : "../../include");
      if (has_header(cand))
        return realpath(cand, NULL);
    }
  }
  if (has_header("/usr/local/include"))
    return strdup("/usr/local/include");
  if (has_header("/usr/include")) /* the Debian package */
    return strdup("/usr/include");
  snprintf(err, BLD_ERR_MAX, "cannot find hotswap.h: pass --include-dir DIR or set "
           "HOTSWAP_INCLUDE");
  return NULL;
}

static bool wanted(const struct opts *o, const char *file) {
  size_t len = strlen(file);
  if (len < 3 || strcmp(file + len - 2, ".c") != 0 || file[0] == '.')
    return false;
  bool in = o->n_inc == 0;
  for (size_t i = 0; i < o->n_inc && !in; i++)
    in = regexec(&o->inc[i], file, 0, NULL, 0) == 0;
  for (size_t i = 0; i < o->n_exc && in; i++)
    in = regexec(&o->exc[i], file, 0, NULL, 0) != 0;
  return in;
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The sorted *.c files of the plugin folder that pass the filters. Returns 0, 1 (none:
 * message printed) or 2. */
static int list_sources(struct build *b) {
  DIR *d = opendir(b->dir);
  if (d == NULL) {
    fprintf(stderr, "hotswap build: %s: %s\n", b->dir, strerror(errno));
    return 2;
  }
  size_t cap = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    char path[PATH_MAX];
    struct stat st;
    snprintf(path, sizeof(path), "%s/%s", b->dir, e->d_name);
    if (!wanted(&b->o, e->d_name) || stat(path, &st) < 0 || !S_ISREG(st.st_mode))
      continue;
    if (b->n_srcs == cap) {
      cap = cap ? 2 * cap : 16;
      char **v = realloc(b->srcs, cap * sizeof(*v));
      if (v == NULL)
        break;
      b->srcs = v;
    }
    if ((b->srcs[b->n_srcs] = strdup(e->d_name)) != NULL)
      b->n_srcs++;
  }
  closedir(d);
  if (b->n_srcs == 0) {
    fprintf(stderr, "hotswap build: no C source in %s%s\n", b->dir,
            b->o.n_inc + b->o.n_exc ? " matches --include/--exclude" : "");
    return 1;
  }
  qsort(b->srcs, b->n_srcs, sizeof(*b->srcs), cmp_str);
  return 0;
}

/* The plugin name as a C identifier: every other character becomes '_'. */
static char *c_identifier(const char *name) {
  char *id = malloc(strlen(name) + 2);
  if (id == NULL)
    return NULL;
  char *p = id;
  if (name[0] >= '0' && name[0] <= '9')
    *p++ = '_';
  for (const char *s = name; *s != '\0'; s++)
    *p++ = (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
                   (*s >= '0' && *s <= '9') || *s == '_' ? *s : '_';
  *p = '\0';
  return id;
}

/* Resolve folders, name, include dir and compiler. Returns 0 or 2 (message printed). */
static int prepare(struct build *b) {
  b->dir = realpath(b->o.plugin_dir, NULL);
  if (b->dir == NULL) {
    fprintf(stderr, "hotswap build: %s: %s\n", b->o.plugin_dir, strerror(errno));
    return 2;
  }
  struct stat st;
  if (stat(b->dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
    fprintf(stderr, "hotswap build: %s: not a folder\n", b->o.plugin_dir);
    return 2;
  }
  int rc = bld_mkdirs(b->o.out_dir);
  if (rc < 0 || (b->out = realpath(b->o.out_dir, NULL)) == NULL) {
    fprintf(stderr, "hotswap build: cannot create %s: %s\n", b->o.out_dir,
            strerror(rc < 0 ? -rc : errno));
    return 2;
  }
  b->name = strdup(strrchr(b->dir, '/')[1] ? strrchr(b->dir, '/') + 1 : "root");
  b->id = b->name ? c_identifier(b->name) : NULL;
  if ((b->incdir = find_include_dir(b->o.include_dir, b->err)) == NULL) {
    fprintf(stderr, "hotswap build: %s\n", b->err);
    return 2;
  }
  const char *cc = getenv("CC");
  if (b->id == NULL || bld_argv_split(&b->cc, cc && cc[0] ? cc : "cc") < 0 ||
      bld_argv_push(&b->base, "-fPIC") < 0 ||
      bld_argv_split(&b->base, b->o.debug ? "-O0 -g3" : "-O2 -g") < 0)
    return 2;
  for (int i = 0; i < b->o.n_cflags; i++)
    if (bld_argv_push(&b->user, b->o.cflags[i]) < 0)
      return 2;
  return 0;
}

static int make_workdir(struct build *b) {
  const char *tmp = getenv("TMPDIR");
  snprintf(b->work, sizeof(b->work), "%s/hotswap-build-%s.XXXXXX", tmp && tmp[0] ? tmp : "/tmp",
           b->id);
  char gen[PATH_MAX + 8], obj[PATH_MAX + 8];
  if (mkdtemp(b->work) == NULL) {
    fprintf(stderr, "hotswap build: cannot create a temporary folder %s: %s\n", b->work,
            strerror(errno));
    return 2;
  }
  b->have_work = true;
  snprintf(gen, sizeof(gen), "%s/gen", b->work);
  snprintf(obj, sizeof(obj), "%s/obj", b->work);
  if (mkdir(gen, 0700) < 0 || mkdir(obj, 0700) < 0) {
    fprintf(stderr, "hotswap build: cannot create %s: %s\n", obj, strerror(errno));
    return 2;
  }
  return 0;
}

/* Build the compile command of src (absolute) into obj. */
static int compile_cmd(struct build *b, const char *src, const char *obj,
                       struct bld_argv *cmd) {
  int rc = bld_argv_extend(cmd, &b->cc);
  if (rc == 0)
    rc = bld_argv_push(cmd, "-c");
  if (rc == 0)
    rc = bld_argv_extend(cmd, &b->base);
  if (rc == 0)
    rc = bld_argv_pushf(cmd, "-I%s", b->incdir);
  if (rc == 0)
    rc = bld_argv_extend(cmd, &b->user);
  if (rc == 0)
    rc = bld_argv_push(cmd, src);
  if (rc == 0)
    rc = bld_argv_push(cmd, "-o");
  if (rc == 0)
    rc = bld_argv_push(cmd, obj);
  return rc;
}

/* Run a command; returns 0, or 1 when it failed (its output is already on stderr), or 2
 * when it could not run. */
static int run(struct build *b, const struct bld_argv *cmd) {
  int rc = bld_run(cmd, b->o.verbose, b->err);
  if (rc == 0)
    return 0;
  if (rc < 0) {
    fprintf(stderr, "hotswap build: %s\n", b->err);
    return 2;
  }
  if (rc > 128)
    fprintf(stderr, "hotswap build: %s\n", b->err);
  return 1;
}

/* Compile src into obj and add obj to the final link. Returns 0, 1 or 2. */
static int compile(struct build *b, const char *src, const char *obj) {
  struct bld_argv cmd = {0};
  int rc = compile_cmd(b, src, obj, &cmd) < 0 ? 2 : 0;
  if (rc == 0 && b->o.no_compile)
    bld_argv_print(stdout, &cmd);
  else if (rc == 0)
    rc = run(b, &cmd);
  bld_argv_free(&cmd);
  if (rc == 0 && bld_argv_push(&b->objs, obj) < 0)
    rc = 2;
  return rc;
}

/* Link objs (of which the first n) into a shared object at out. user: pass the user's
 * flags (not when attributing symbols to files). Returns 0, 1 or 2. */
static int link_so(struct build *b, size_t n, const char *out, bool user) {
  struct bld_argv cmd = {0};
  int rc = bld_argv_extend(&cmd, &b->cc);
  rc = rc ? rc : bld_argv_push(&cmd, "-shared");
  rc = rc ? rc : bld_argv_extend(&cmd, &b->base);
  rc = rc ? rc : bld_argv_push(&cmd, "-o");
  rc = rc ? rc : bld_argv_push(&cmd, out);
  for (size_t i = 0; i < n && rc == 0; i++)
    rc = bld_argv_push(&cmd, b->objs.v[i]);
  rc = rc ? rc : bld_argv_push(&cmd, "-Wl,--build-id");
  if (user)
    rc = rc ? rc : bld_argv_extend(&cmd, &b->user);
  rc = rc < 0 ? 2 : run(b, &cmd);
  bld_argv_free(&cmd);
  return rc;
}

/* Inspect a linked shared object with elf/. Returns 0 or 2 (message printed when loud). */
static int inspect(struct build *b, const char *path, struct elf_info **info, bool loud) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    fprintf(stderr, "hotswap build: %s: %s\n", path, strerror(errno));
    return 2;
  }
  struct elf_opts eo = {.live_prefix = b->o.prefix};
  char why[ELF_ERR_MAX] = "";
  int rc = elf_inspect_fd(fd, &eo, info, why);
  close(fd);
  if (rc < 0) {
    snprintf(b->err, sizeof(b->err), "%s: %s", path, why[0] ? why : hotswap_strerror(rc));
    if (loud)
      fprintf(stderr, "hotswap build: %s\n", b->err);
    return 2;
  }
  return 0;
}

/* Link object i (the plugin's i-th source) alone and inspect it, to tell which file a
 * symbol or type comes from. Returns 0 or non-zero. */
static int inspect_alone(struct build *b, size_t i, struct elf_info **info) {
  char so[PATH_MAX + 64];
  snprintf(so, sizeof(so), "%s/obj/alone-%zu.so", b->work, i);
  struct bld_argv saved = b->objs;
  b->objs = (struct bld_argv){.v = saved.v + i, .n = 1};
  int rc = link_so(b, 1, so, false);
  b->objs = saved;
  return rc != 0 ? rc : inspect(b, so, info, true);
}

/* The source files defining `name` (a live symbol, or a live type when is_type), comma
 * separated. Only used to explain a clash. */
static void files_defining(struct build *b, const char *name, bool is_type, char *out,
                           size_t n) {
  out[0] = '\0';
  for (size_t i = 0; i < b->n_srcs; i++) {
    struct elf_info *info = NULL;
    if (inspect_alone(b, i, &info) != 0)
      continue;
    bool found = false;
    for (size_t k = 0; k < info->n_live_types && is_type && !found; k++)
      found = strcmp(info->live_types[k].name, name) == 0;
    found = found || (!is_type && elf_find_export(info, name) != NULL);
    if (found)
      snprintf(out + strlen(out), n - strlen(out), "%s%s", out[0] ? ", " : "", b->srcs[i]);
    elf_info_free(info);
  }
  if (out[0] == '\0')
    snprintf(out, n, "?");
}

static bool same_layout(const struct elf_live_type *x, const struct elf_live_type *y) {
  return x->fingerprint == y->fingerprint && x->size == y->size && x->align == y->align;
}

/* Look for two files declaring one live type differently (elf/ refuses such a link) and
 * report it. Returns true when found. */
static bool type_clash_across_files(struct build *b) {
  struct elf_info **infos = calloc(b->n_srcs, sizeof(*infos));
  bool found = false;
  for (size_t i = 0; infos != NULL && i < b->n_srcs && !found; i++) {
    if (inspect_alone(b, i, &infos[i]) != 0)
      continue;
    for (size_t k = 0; k < infos[i]->n_live_types && !found; k++) {
      const struct elf_live_type *t = &infos[i]->live_types[k];
      for (size_t j = 0; j < i && !found; j++) {
        for (size_t m = 0; infos[j] != NULL && m < infos[j]->n_live_types && !found; m++) {
          const struct elf_live_type *u = &infos[j]->live_types[m];
          if (strcasecmp(u->name, t->name) != 0 ||
              (strcmp(u->name, t->name) == 0 && same_layout(u, t)))
            continue;
          found = true;
          fprintf(stderr, "hotswap build: duplicate live type: '%s' (%s) and '%s' (%s) %s\n",
                  u->name, b->srcs[j], t->name, b->srcs[i],
                  strcmp(u->name, t->name) == 0 ? "have different layouts"
                                                : "are the same name case-insensitively");
        }
      }
    }
  }
  for (size_t i = 0; infos != NULL && i < b->n_srcs; i++)
    elf_info_free(infos[i]);
  free(infos);
  return found;
}

/* Report a clash found by bld_live_collect. Returns 1. */
static int report_clash(struct build *b) {
  const struct bld_live *l = &b->live;
  if (l->clash_is_type && type_clash_across_files(b))
    return 1;
  char fa[1024], fb[1024];
  files_defining(b, l->clash_a, l->clash_is_type, fa, sizeof(fa));
  files_defining(b, l->clash_b, l->clash_is_type, fb, sizeof(fb));
  fprintf(stderr, "hotswap build: duplicate live %s: '%s' (%s) and '%s' (%s) are the same "
          "name case-insensitively\n", l->clash_is_type ? "type" : "name", l->clash_a, fa,
          l->clash_b, fb);
  return 1;
}

/* First link, collect live symbols, generate and compile the live table. 0, 1 or 2. */
static int live_pass(struct build *b) {
  char so[PATH_MAX + 16], src[PATH_MAX + 32], obj[PATH_MAX + 32];
  snprintf(so, sizeof(so), "%s/obj/pass1.so", b->work);
  int rc = link_so(b, b->objs.n, so, true);
  struct elf_info *info = NULL;
  if (rc != 0)
    return rc;
  if (inspect(b, so, &info, false) != 0) { /* e.g. a live type declared twice */
    char why[BLD_ERR_MAX];
    snprintf(why, sizeof(why), "%s", b->err);
    if (type_clash_across_files(b))
      return 1;
    fprintf(stderr, "hotswap build: %s\n", why);
    return 2;
  }
  int e = bld_live_collect(info, &b->live);
  if (e == -EEXIST)
    rc = report_clash(b);
  else if (e < 0)
    rc = 2;
  snprintf(src, sizeof(src), "%s/gen/hotswap_live_table.c", b->work);
  snprintf(obj, sizeof(obj), "%s/obj/hotswap_live_table.o", b->work);
  if (rc == 0 && bld_gen_live_table(src, b->name, &b->live, b->o.prefix, b->err) < 0) {
    fprintf(stderr, "hotswap build: %s\n", b->err);
    rc = 2;
  }
  for (size_t i = 0; i < b->live.n_syms; i++)
    (*(b->live.syms[i].kind == BLD_LIVE_FUNC ? &b->n_funcs : &b->n_vars))++;
  b->n_types = b->live.n_types;
  if (rc == 0)
    rc = compile(b, src, obj);
  /* The live lists point into info's strings; the table is written, so drop both. */
  bld_live_free(&b->live);
  elf_info_free(info);
  return rc;
}

static int64_t build_time(void) {
  const char *s = getenv("SOURCE_DATE_EPOCH"); /* reproducible builds */
  char *end;
  if (s != NULL && s[0] != '\0') {
    long long t = strtoll(s, &end, 10);
    if (*end == '\0' && t >= 0)
      return t;
  }
  return (int64_t)time(NULL);
}

/* Stamp the version and write the note's source. Returns 0 or 2. */
static int stamp(struct build *b, char *note_src) {
  char warn[BLD_ERR_MAX];
  if (bld_git_stamp(b->dir, &b->stamp, warn) < 0)
    return 2;
  if (warn[0] != '\0')
    fprintf(stderr, "hotswap build: warning: %s\n", warn);
  if (bld_gen_note(note_src, b->name, &b->stamp, build_time(), b->err) < 0) {
    fprintf(stderr, "hotswap build: %s\n", b->err);
    return 2;
  }
  return 0;
}

/* Compile every source, then the version note (last, so that objs[i] is srcs[i]). */
static int compile_all(struct build *b) {
  char src[PATH_MAX * 2], obj[PATH_MAX * 2];
  for (size_t i = 0; i < b->n_srcs; i++) {
    snprintf(src, sizeof(src), "%s/%s", b->dir, b->srcs[i]);
    snprintf(obj, sizeof(obj), "%s/obj/%s.o", b->work, b->srcs[i]);
    int rc = compile(b, src, obj);
    if (rc != 0)
      return rc;
  }
  snprintf(src, sizeof(src), "%s/gen/hotswap_note.c", b->work);
  snprintf(obj, sizeof(obj), "%s/obj/hotswap_note.o", b->work);
  int rc = stamp(b, src);
  return rc ? rc : compile(b, src, obj);
}

/* Move a finished file into place: fsync, rename over the old one, fsync the folder. A
 * process opening `final` sees the old file or the new one, never a partial one. */
static int publish(struct build *b, const char *tmp, const char *final) {
  bld_fsync_path(tmp);
  if (rename(tmp, final) < 0) {
    fprintf(stderr, "hotswap build: cannot rename %s to %s: %s\n", tmp, final,
            strerror(errno));
    unlink(tmp);
    return 2;
  }
  bld_fsync_path(b->out);
  return 0;
}

static int link_shared(struct build *b, char *final, size_t n) {
  char tmp[PATH_MAX * 2];
  snprintf(final, n, "%s/%s.so", b->out, b->name);
  snprintf(tmp, sizeof(tmp), "%s/.%s.so.%ld.tmp", b->out, b->name, (long)getpid());
  int rc = link_so(b, b->objs.n, tmp, true);
  if (rc != 0) {
    unlink(tmp);
    return rc;
  }
  return publish(b, tmp, final);
}

/* objcopy --redefine-sym hook=<id>__hook for every hook, in place. */
static int rename_hooks(struct build *b, const char *obj) {
  struct bld_argv cmd = {0};
  const char *objcopy = getenv("OBJCOPY");
  int rc = bld_argv_split(&cmd, objcopy && objcopy[0] ? objcopy : "objcopy");
  for (size_t i = 0; bld_static_renamed[i] != NULL && rc == 0; i++) {
    rc = bld_argv_push(&cmd, "--redefine-sym");
    rc = rc ? rc
            : bld_argv_pushf(&cmd, "%s=%s__%s", bld_static_renamed[i], b->id,
                             bld_static_renamed[i]);
  }
  /* AddressSanitizer's ODR indicator of the table (gcc, clang) would clash just the same. */
  static const char *const odr[] = {"__odr_asan.", "__odr_asan_gen_"};
  for (size_t i = 0; i < 2 && rc == 0; i++) {
    rc = bld_argv_push(&cmd, "--redefine-sym");
    rc = rc ? rc
            : bld_argv_pushf(&cmd, "%shotswap_live_table=%s%s__hotswap_live_table", odr[i],
                             odr[i], b->id);
  }
  rc = rc ? rc : bld_argv_push(&cmd, obj);
  rc = rc < 0 ? 2 : run(b, &cmd);
  bld_argv_free(&cmd);
  return rc;
}

/* --static-linking: one relocatable object with the registration record and renamed
 * hooks, archived as OUTPUT_DIR/lib<name>.a. Returns 0, 1 or 2. */
static int link_static(struct build *b, char *final, size_t n) {
  char src[PATH_MAX + 32], obj[PATH_MAX + 32], all[PATH_MAX * 2], tmp[PATH_MAX * 2];
  snprintf(src, sizeof(src), "%s/gen/hotswap_static_record.c", b->work);
  snprintf(obj, sizeof(obj), "%s/obj/hotswap_static_record.o", b->work);
  if (bld_gen_static_record(src, b->name, b->id, &b->stamp, b->err) < 0) {
    fprintf(stderr, "hotswap build: %s\n", b->err);
    return 2;
  }
  int rc = compile(b, src, obj);
  if (rc != 0)
    return rc;
  snprintf(all, sizeof(all), "%s/%s.o", b->work, b->id);
  struct bld_argv cmd = {0};
  rc = bld_argv_extend(&cmd, &b->cc);
  rc = rc ? rc : bld_argv_split(&cmd, "-r -nostdlib -o");
  rc = rc ? rc : bld_argv_push(&cmd, all);
  rc = rc ? rc : bld_argv_extend(&cmd, &b->objs);
  rc = rc < 0 ? 2 : run(b, &cmd);
  bld_argv_free(&cmd);
  rc = rc ? rc : rename_hooks(b, all);
  if (rc != 0)
    return rc;
  snprintf(final, n, "%s/lib%s.a", b->out, b->name);
  snprintf(tmp, sizeof(tmp), "%s/.lib%s.a.%ld.tmp", b->out, b->name, (long)getpid());
  unlink(tmp); /* `ar r` would add to a stale one */
  const char *ar = getenv("AR");
  rc = bld_argv_split(&cmd, ar && ar[0] ? ar : "ar");
  rc = rc ? rc : bld_argv_push(&cmd, "rcs");
  rc = rc ? rc : bld_argv_push(&cmd, tmp);
  rc = rc ? rc : bld_argv_push(&cmd, all);
  rc = rc < 0 ? 2 : run(b, &cmd);
  bld_argv_free(&cmd);
  if (rc != 0) {
    unlink(tmp);
    return rc;
  }
  return publish(b, tmp, final);
}

static void report(const struct build *b, const char *final) {
  printf("hotswap build: wrote %s (commit %.12s%s%s%s; %zu live function%s, %zu live "
         "variable%s, %zu live type%s)\n",
         final, b->stamp.commit, b->stamp.dirty ? ", dirty" : "",
         b->stamp.branch[0] ? ", branch " : "", b->stamp.branch, b->n_funcs,
         b->n_funcs == 1 ? "" : "s", b->n_vars, b->n_vars == 1 ? "" : "s", b->n_types,
         b->n_types == 1 ? "" : "s");
}

/* Everything after parsing. Returns the exit status. */
static int build(struct build *b) {
  int rc = prepare(b);
  rc = rc ? rc : list_sources(b);
  rc = rc ? rc : make_workdir(b);
  if (rc == 0 && b->o.no_compile)
    printf("hotswap build: --no-compile: the commands would be:\n");
  rc = rc ? rc : compile_all(b);
  if (rc != 0 || b->o.no_compile) {
    if (rc == 0)
      printf("hotswap build: then a first link, the generated live table, and the final "
             "link, which need compiled objects\n");
    return rc;
  }
  char final[PATH_MAX * 2];
  rc = live_pass(b);
  if (rc == 0)
    rc = b->o.static_link ? link_static(b, final, sizeof(final))
                          : link_shared(b, final, sizeof(final));
  if (rc == 0)
    report(b, final);
  return rc;
}

static void cleanup(struct build *b) {
  if (b->have_work && (b->o.leave_temps || b->o.no_compile))
    fprintf(stderr, "hotswap build: temporary files kept in %s\n", b->work);
  else if (b->have_work)
    bld_rmtree(b->work);
  for (size_t i = 0; i < b->o.n_inc; i++)
    regfree(&b->o.inc[i]);
  for (size_t i = 0; i < b->o.n_exc; i++)
    regfree(&b->o.exc[i]);
  for (size_t i = 0; i < b->n_srcs; i++)
    free(b->srcs[i]);
  free(b->srcs);
  free(b->dir);
  free(b->out);
  free(b->name);
  free(b->id);
  free(b->incdir);
  bld_argv_free(&b->cc);
  bld_argv_free(&b->base);
  bld_argv_free(&b->user);
  bld_argv_free(&b->objs);
}

int cmd_build(int argc, char **argv) {
  struct build b;
  memset(&b, 0, sizeof(b));
  int rc = parse_args(argc, argv, &b.o);
  if (rc == -1)
    fputs(usage_text, stdout);
  else if (rc == 0)
    rc = build(&b);
  cleanup(&b);
  return rc < 0 ? 0 : rc;
}
