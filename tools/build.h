/* SPDX-License-Identifier: BSD-3-Clause */
/* build.h - internals of `hotswap build` (prefix bld_): running the compiler without a
 * shell, stamping a version from git with libgit2, collecting live symbols and writing the
 * generated C sources (version note, live table, static registration record).
 *
 * Nothing here is thread-safe unless said so; the build command is single-threaded. */
#ifndef HOTSWAP_TOOLS_BUILD_H
#define HOTSWAP_TOOLS_BUILD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "elf/elf.h"

/* Room for a reason shown to the user. */
#define BLD_ERR_MAX 512

/* ---- commands (tools/build_run.c) -------------------------------------------------- */

/* A growable, NULL-terminated argument vector; every string is owned. */
struct bld_argv {
  char **v;
  size_t n;
  size_t cap;
};

/* Append a copy of s. Returns 0 or -ENOMEM. */
int bld_argv_push(struct bld_argv *a, const char *s);
/* Append a printf-formatted argument. Returns 0 or -ENOMEM. */
int bld_argv_pushf(struct bld_argv *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Append every whitespace-separated word of s ("ccache gcc" gives two). 0 or -ENOMEM. */
int bld_argv_split(struct bld_argv *a, const char *s);
/* Append copies of every element of b. 0 or -ENOMEM. */
int bld_argv_extend(struct bld_argv *a, const struct bld_argv *b);
void bld_argv_free(struct bld_argv *a);

/* Print a command to f as a shell would need it quoted, one line. */
void bld_argv_print(FILE *f, const struct bld_argv *a);

/* Run a command with posix_spawnp (no shell), its stdout and stderr going to ours, and wait.
 * When verbose, prints it to stderr first. Returns its exit status (0 success, 128+N when
 * killed by signal N), or a negative errno when it could not be started; the reason is
 * then in err (BLD_ERR_MAX bytes): "cannot run 'cc': No such file or directory". */
int bld_run(const struct bld_argv *cmd, bool verbose, char *err);

/* Remove a directory tree (no symlink is followed). Returns 0 or -errno. */
int bld_rmtree(const char *path);
/* mkdir -p with mode 0777 (umask applies). Returns 0 or -errno. */
int bld_mkdirs(const char *path);
/* Flush a file (or a directory) to disk. Returns 0 or -errno. */
int bld_fsync_path(const char *path);

/* ---- version stamp (tools/build_git.c) --------------------------------------------- */

#define BLD_UNVERSIONED "unversioned"

struct bld_stamp {
  char commit[48];  /* 40 hex digits, or BLD_UNVERSIONED */
  char branch[256]; /* short branch name, "HEAD" when detached, "" when unversioned */
  bool dirty;       /* uncommitted changes (untracked files included) under the folder */
  int64_t commit_time;
};

/* Stamp the folder `dir` (an absolute, canonical path) from the git repository that holds
 * it, read with libgit2. Always fills *st. Returns 0 when the folder is versioned; 1 when
 * it is stamped BLD_UNVERSIONED (not in a repository, repository without commits, or
 * unreadable). Whenever warn (BLD_ERR_MAX bytes) is not empty on return it holds one
 * warning for the user (also when the status could not be read: the stamp says dirty). */
int bld_git_stamp(const char *dir, struct bld_stamp *st, char *warn);

/* ---- live symbols (tools/build_gen.c) ---------------------------------------------- */

enum bld_live_kind { BLD_LIVE_FUNC, BLD_LIVE_VAR };

struct bld_live_sym {
  const char *name; /* points into the elf_info it was collected from */
  enum bld_live_kind kind;
  uint64_t size;
};

/* What goes into the live table, sorted by name (strcmp). */
struct bld_live {
  struct bld_live_sym *syms;
  size_t n_syms;
  struct elf_live_type *types; /* copies of elf_info's records; strings still point there */
  size_t n_types;
  /* On -EEXIST: the two names that clash (case-insensitively, or a type declared twice
   * with different layouts). */
  const char *clash_a;
  const char *clash_b;
  bool clash_is_type;
};

/* Collect the live functions and variables that `info` exports (elf_sym.live) and its live
 * type records; identical type records (one header included by several files) count once.
 * Symbols that are neither a function nor a variable (TLS, NOTYPE) are skipped with a
 * warning printed to stderr. Returns 0, -EEXIST when two names clash (see clash_*; out is
 * still to be freed), -ENOMEM. */
int bld_live_collect(const struct elf_info *info, struct bld_live *out);
void bld_live_free(struct bld_live *l);

/* ---- generated sources (tools/build_gen.c) ----------------------------------------- */

/* Write the version note (HOTSWAP_NT_VERSION, see hotswap.h) as a C file. Returns 0 or
 * -errno with the reason in err. */
int bld_gen_note(const char *path, const char *name, const struct bld_stamp *st,
                 int64_t build_time, char *err);

/* Write the C file defining `const struct hotswap_live_table hotswap_live_table`. */
int bld_gen_live_table(const char *path, const char *name, const struct bld_live *live,
                       const char *prefix, char *err);

/* Write the C file defining the static registration record hotswap_static_plugin_<id>
 * (hotswap_static.h), referring to the hooks by their unrenamed names, weakly. */
int bld_gen_static_record(const char *path, const char *name, const char *id,
                          const struct bld_stamp *st, char *err);

/* The hook symbols a static build renames to <id>__<symbol>, NULL-terminated. */
extern const char *const bld_static_renamed[];

#endif /* HOTSWAP_TOOLS_BUILD_H */
