/* SPDX-License-Identifier: BSD-3-Clause */
/* elf.h - read-only inspection of plugin files with libelf (internal API, prefix elf_).
 *
 * Reads a plugin from a file descriptor or a byte buffer and reports what it exports and
 * whether it may replace a running build. Never loads or runs code; never trusts the input:
 * malformed files give HOTSWAP_EBADELF/HOTSWAP_ENOTELF with a reason, never a crash.
 */
#ifndef HOTSWAP_ELF_H
#define HOTSWAP_ELF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hotswap.h"

/* Room for a reason a human can act on, e.g. "symbol table entry 12 points past the end". */
#define ELF_ERR_MAX 256

enum elf_sym_type {
  ELF_SYM_FUNC,
  ELF_SYM_IFUNC,
  ELF_SYM_OBJECT,
  ELF_SYM_TLS,
  ELF_SYM_OTHER, /* NOTYPE, COMMON, SECTION... */
};

/* Which lifecycle hooks a plugin defines (bit set). */
enum elf_hook {
  ELF_HOOK_RELOADABLE = 1u << 0,  /* hotswap_reloadable */
  ELF_HOOK_EXPORT = 1u << 1,      /* hotswap_export */
  ELF_HOOK_IMPORT = 1u << 2,      /* hotswap_import */
  ELF_HOOK_ON_LOAD = 1u << 3,     /* hotswap_on_load */
  ELF_HOOK_ON_INIT = 1u << 4,     /* hotswap_on_init */
  ELF_HOOK_ON_FREE = 1u << 5,     /* hotswap_on_free */
  ELF_HOOK_INVOKE_FUNC = 1u << 6, /* hotswap_invoke_func */
  ELF_HOOK_ON_TRANSFER = 1u << 7, /* hotswap_on_transfer */
};
#define ELF_HOOK_COUNT 8

struct elf_sym {
  const char *name;
  const char *version; /* symbol version ("V1", "GLIBC_2.2.5"), NULL when unversioned */
  enum elf_sym_type type;
  unsigned char bind;       /* STB_GLOBAL, STB_WEAK, STB_GNU_UNIQUE */
  unsigned char visibility; /* STV_DEFAULT, STV_PROTECTED */
  uint64_t value;           /* st_value (0 for undefined symbols) */
  uint64_t size;
  bool live; /* name starts with the live prefix (case-insensitive) */
  /* false for a non-default version kept for old callers (name@V1 beside name@@V2); among
   * exports of the same name the default version sorts first. true when unversioned. */
  bool default_version;
};

/* The hotswap version note written by `hotswap build` (see hotswap.h). */
struct elf_version_note {
  bool present;
  uint32_t abi;
  const char *name;   /* plugin name, "" when absent */
  const char *commit; /* 40 hex digits or "unversioned", "" when absent */
  const char *branch; /* "" when absent */
  bool dirty;
  int64_t commit_time; /* seconds since the epoch, 0 when absent */
  int64_t build_time;
};

struct elf_live_type {
  const char *name;
  const char *fields; /* "id, amount" as written in HOTSWAP_LIVE_TYPE */
  uint32_t size;
  uint32_t align;
  uint64_t fingerprint; /* layout hash; differs when size, alignment or any field moves */
  /* fingerprint = FNV-1a 64 over the field names (whitespace dropped), seeded with
   * layout_hash; layout_hash is hash_lo | hash_hi << 32 as HOTSWAP_LAYOUT_HASH made it (the
   * value hotswap_live_table's types carry). */
  uint64_t layout_hash;
};

/* One object of a build's writable state: a variable in a writable, non-RELRO section
 * (.data, .bss, ... and, marked tls, .tdata/.tbss). What a reload carries over. */
struct elf_state_obj {
  const char *name;
  const char *file;    /* STT_FILE of a static (local) object; NULL for a global or unknown */
  const char *section; /* ".data", ".bss", ".tbss", ... */
  uint64_t value;      /* st_value: its address in the build's own address space */
  uint64_t size;
  unsigned char bind;  /* STB_LOCAL, STB_GLOBAL, STB_WEAK, STB_GNU_UNIQUE */
  bool tls;            /* thread-local: listed, never carried */
  bool nobits;         /* in a SHT_NOBITS section (.bss): zero until written */
  bool exported;       /* a global with default or protected visibility */
};

/* A defined function or object of the symbol table with its extent, to turn an address of
 * one build into "symbol + offset" and find the same place in another build. */
struct elf_addr_sym {
  const char *name;
  const char *file; /* as in elf_state_obj */
  uint64_t value, size;
  bool func;
};

/* [start, end) in the build's own address space. */
struct elf_range {
  uint64_t start, end;
};

/* A copy relocation (R_X86_64_COPY, R_AARCH64_COPY): an executable that keeps its own copy
 * of a library's exported variable; every object then uses the executable's copy. */
struct elf_copy_reloc {
  const char *name;
  uint64_t value; /* where the executable's copy lives (r_offset) */
  uint64_t size;  /* its size in the executable's symbol table */
};

struct elf_info {
  int elf_class; /* ELFCLASS32 or ELFCLASS64 */
  int machine;   /* EM_X86_64, ... */
  int type;      /* ET_DYN, ET_EXEC, ET_REL */
  unsigned char build_id[64];
  size_t build_id_len; /* 0 when the file has none */
  const char *soname;  /* NULL when absent */
  const char **needed; /* DT_NEEDED entries */
  size_t n_needed;

  struct elf_sym *exports; /* defined dynamic symbols, sorted by name */
  size_t n_exports;
  struct elf_sym *undefs; /* undefined dynamic symbols, sorted by name */
  size_t n_undefs;

  bool execstack; /* PT_GNU_STACK with PF_X, or no PT_GNU_STACK at all */
  bool no_gnu_stack; /* the "no PT_GNU_STACK at all" case of execstack */
  bool textrel;   /* DT_TEXTREL or DF_TEXTREL */
  bool nodelete;  /* DF_1_NODELETE: dlclose cannot unload it */
  bool has_unique; /* some export is STB_GNU_UNIQUE: dlclose cannot unload it */
  bool has_tls;    /* PT_TLS segment */

  unsigned hooks; /* enum elf_hook bits */
  size_t n_live;  /* exports with live == true */

  struct elf_version_note note;
  struct elf_live_type *live_types;
  size_t n_live_types;

  /* Writable state (elf_state.c): objects sorted by name, then file (NULL first). From
   * .symtab when the file has one (statics included), else .dynsym (globals only). */
  struct elf_state_obj *state;
  size_t n_state;
  const char *state_symtab; /* ".symtab", ".dynsym", or NULL when the file has neither */
  struct elf_addr_sym *addr_syms; /* functions and objects with a size, sorted by value */
  size_t n_addr_syms;
  const struct elf_addr_sym **syms_by_name; /* the same, sorted by name then file */
  struct elf_range *ro; /* allocated read-only data sections (.rodata, string pools) */
  size_t n_ro;
  /* Sections a running program can hold pointers into (code, read-only data, data), sorted,
   * neighbours merged; not the runtime's tables (.eh_frame, .got, ...). Retirement's scan. */
  struct elf_range *targets;
  bool *target_code; /* per target: executable sections (a range never mixes the two) */
  size_t n_targets;
  struct elf_copy_reloc *copies; /* copy relocations (executables), sorted by name */
  size_t n_copies;

  uint64_t content_hash; /* FNV-1a 64 of the whole input, to tell identical builds apart */
  size_t file_size;

  void *arena_; /* private: owns every string and array above */
};

struct elf_opts {
  const char *live_prefix; /* NULL: HOTSWAP_LIVE_PREFIX; "": no symbol is live */
};

/* Inspect a plugin from an open file descriptor (read from offset 0 with pread; the fd's
 * offset is left alone) or a buffer. On success *out is set and must be released with
 * elf_info_free(); it owns every string and array it points to (the input may be freed).
 * On failure *out is NULL, the return is a negative code and, when err is not NULL, err
 * holds a NUL-terminated reason (ELF_ERR_MAX bytes):
 *   HOTSWAP_ENOTELF  "file is empty", "not an ELF file (bad magic)"
 *   HOTSWAP_EBADELF  a specific reason naming the section, note or symbol, e.g.
 *                    "section header table at offset 14096 is past the end of the file
 *                    (4096 bytes)"
 *   -EISDIR          "is a directory, not an ELF file"; -EINVAL "not a regular file"
 *   -EFBIG           "file is larger than 1 GiB (N bytes); refusing to read it"
 *   -errno           "cannot read: ..." / "cannot stat: ..."; -ENOMEM "out of memory"
 * A 32-bit or foreign-machine file inspects fine; elf_check_loadable() rejects it.
 * Exports and undefs come from .dynsym (a file without section headers is refused with
 * HOTSWAP_EBADELF); SONAME, NEEDED, TEXTREL and NODELETE from PT_DYNAMIC.
 * Thread-safe: no shared state besides libelf's version handshake, done once. */
int elf_inspect_fd(int fd, const struct elf_opts *opts, struct elf_info **out, char *err);
int elf_inspect_mem(const void *buf, size_t len, const struct elf_opts *opts,
                    struct elf_info **out, char *err);
void elf_info_free(struct elf_info *info);

/* Binary search of exports by name; NULL when not exported. With several versions of a
 * name, returns the default one (name@@V2), else the first non-default. O(log n). */
const struct elf_sym *elf_find_export(const struct elf_info *info, const char *name);

/* The reasons elf_check_compat() and elf_check_loadable() give, one line each, in this one
 * place: the CLI, the loader's log and the tests quote them. They describe the new build;
 * the caller prefixes the plugin's file name ("libhandler.so: drops function 'x'"). */
#define ELF_R_CLASS "is %d-bit (%s), the running build is %d-bit"
#define ELF_R_MACHINE "is built for %s, the running build is %s"
#define ELF_R_NOT_DYN "is not a shared object (%s); link it with -shared"
#define ELF_R_ABI "hotswap ABI version %u, this shim speaks %d"
#define ELF_R_EXECSTACK \
  "needs an executable stack (PT_GNU_STACK is RWX); rebuild without -z execstack"
#define ELF_R_NO_GNU_STACK \
  "needs an executable stack (no PT_GNU_STACK header); rebuild with -z noexecstack"
#define ELF_R_TEXTREL "has text relocations (TEXTREL); rebuild with -fPIC"
#define ELF_R_DROPS_FUNC "drops function '%s'"
#define ELF_R_NOT_FUNC "'%s' is now %s (%s), was a function" /* "a variable", "OBJECT" */
#define ELF_R_LIVE_TYPE                                                                    \
  "live type '%s' changed layout (size %u -> %u, fields '%s' -> '%s') and no upgrade is " \
  "declared"

/* A list of human-readable reasons, one line each, e.g.
 * "drops function 'handle_stats'". */
struct elf_reasons {
  char **lines;
  size_t n;
};
void elf_reasons_free(struct elf_reasons *r); /* and resets *r to {NULL, 0} */

/* Compare a new build against the running one. Returns 0 when `new_` may replace `old`,
 * HOTSWAP_EINCOMPAT when not (every reason is appended to *why, which the caller frees with
 * elf_reasons_free), or -ENOMEM. Incompatible when: class or machine differ; the new build
 * is not ET_DYN; a function (FUNC or IFUNC) old exports is gone or no longer a function;
 * new has an executable stack or TEXTREL; the note's ABI version is not HOTSWAP_ABI_VERSION;
 * a live type present in both has a different fingerprint. */
int elf_check_compat(const struct elf_info *old, const struct elf_info *new_,
                     struct elf_reasons *why);

/* Checks of one build on its own (used for the first load, where nothing is replaced):
 * ET_DYN, class/machine of this process, no exec stack, no TEXTREL, ABI version.
 * Same return convention as elf_check_compat.
 *
 * Both: *why must start as {NULL, 0} or hold earlier reasons; why may be NULL (the code
 * alone is returned). Reasons come in a fixed order: class, machine, type, ABI, stack,
 * TEXTREL, then functions by name, then live types by name. compat also applies the
 * one-build checks to new_, against old's class and machine. A function that survives
 * only as a non-default version (name@V1) counts as dropped. Thread-safe (reads only). */
int elf_check_loadable(const struct elf_info *info, struct elf_reasons *why);

/* The state object called `name` (file: NULL for a global, or the static's STT_FILE);
 * NULL when the build has none. O(log n). */
const struct elf_state_obj *elf_find_state(const struct elf_info *info, const char *name,
                                           const char *file);
/* The function or object whose extent holds vaddr (a zero-size one only at its address),
 * NULL when none. O(log n). */
const struct elf_addr_sym *elf_sym_at(const struct elf_info *info, uint64_t vaddr);
/* The function (func) or object called name in file (NULL: a global). O(log n). */
const struct elf_addr_sym *elf_find_sym(const struct elf_info *info, const char *name,
                                        const char *file, bool func);
/* The copy relocation of `name` in an executable, NULL when it has none. */
const struct elf_copy_reloc *elf_find_copy(const struct elf_info *info, const char *name);

/* What a reload could not carry from `old` to `new_`: one line per object of old's state
 * (not TLS) that new_ drops or whose size differs, e.g. "state 'mime_table' (mime.c): size
 * 960 -> 1024", "state 'cache' (cache.c): dropped by the new build". Returns 0 or -ENOMEM. */
int elf_state_diff(const struct elf_info *old, const struct elf_info *new_,
                   struct elf_reasons *why);

/* Names for printing. */
const char *elf_sym_type_name(enum elf_sym_type t); /* "FUNC", "IFUNC", ... */
const char *elf_hook_name(enum elf_hook h);         /* "hotswap_on_load", ... */
const char *elf_machine_name(int machine);          /* "x86-64", "AArch64", "i386", ... */

/* Short version of a build for logs: the note's commit abbreviated to 7 hex digits with
 * "-dirty" appended when dirty, else the first 7 hex digits of the build-id, else of the
 * content hash. Writes at most n bytes including the NUL. */
void elf_short_version(const struct elf_info *info, char *buf, size_t n);
/* FNV-1a 64 of n bytes: elf_info's content_hash of a file holding exactly them. */
uint64_t elf_content_hash(const void *buf, size_t n);

#endif /* HOTSWAP_ELF_H */
