/* SPDX-License-Identifier: BSD-3-Clause */
/* loader.h - the plugin lifecycle (internal API, prefix ldr_): one reload of a set of plugin
 * files is one transaction that snapshots, validates, loads, orders, commits or rolls back,
 * plus the GOT walker that binds a new version's calls to itself (shared with the shim).
 *
 * A reload (ldr_reload) runs these steps; the step names appear in error reasons:
 *   snapshot  refuse a file or folder every user may write (unless opts->allow_insecure);
 *             copy each file into a sealed memfd (what is validated is what is loaded); skip a
 *             plugin whose build-id and content hash are unchanged; keep a plugin whose current
 *             version says hotswap_reloadable() == false ("not reloadable, kept").
 *   validate  elf_check_compat against the version it replaces (first load: elf_check_loadable).
 *             A dropped function's reason says who needs it: "drops function 'f' that the
 *             server calls" once ldr_route handed out its trampoline (a retrofitted GOT entry,
 *             a dlsym or hotswap_fn answer), else "drops function 'f' (the running version
 *             exports it; no caller was routed to it)".
 *   adopt     (opts->adopt_loaded, first load only) use the object ld.so already loaded from
 *             the file when its build-id matches; see struct ldr_reload_opts.
 *   dlopen    dlopen("/proc/self/fd/N", RTLD_NOW | RTLD_LOCAL), then bind the object's own GOT
 *             entries to its own definitions (see ldr_got_* below), then hotswap_reloadable.
 *             (Adopted: dlopen(name, RTLD_NOW | RTLD_NOLOAD), no binding.)
 *   export    hotswap_export of every new version.
 *   import    hotswap_import of every new version: each {plugin, &slot} gets the named plugin's
 *             export (the NEW version's when that plugin is in this transaction). Errors: unknown
 *             plugin, a cycle ("a -> b -> a"), a non-reloadable plugin importing a reloadable one.
 *   on_load   hotswap_on_load(opts->data), in dependency order (imported plugins first,
 *             independent plugins by name).
 *   on_init   hotswap_on_init(opts->vault), same order, after every on_load.
 *             (hotswap_reloadable, hotswap_export and hotswap_import run by plugin name: the
 *             dependency order is only known once every import list is.)
 *   commit    every exported FUNC/IFUNC of every new version (except the hotswap_* hooks) is
 *             routed with ldr_gen_set and the generation is published with one store.
 * Any failure: hotswap_on_free then dlclose of every new version (reverse order, each exactly
 * once; an adopted object only gets its RTLD_NOLOAD reference dropped, without on_free: the
 * program keeps running it), the current generation is untouched, and ONE error names
 * plugin, step and reason, e.g. "libhandler.so: on_load: hotswap_on_load returned -5".
 *
 * Dependency changes (a choice the Go seed made differently): when a plugin is reloaded, every
 * plugin whose current version imports it is reloaded too, even when its own file is
 * unchanged: a fresh copy of its file is loaded as a new version, so that its hotswap_import
 * runs against the new export before the commit and a rollback leaves the old pair intact.
 * This applies transitively. A non-reloadable plugin can therefore never import a reloadable
 * one (rejected at the import step, HOTSWAP_EDEPEND).
 *
 * Plugin name: the "name" key of the hotswap version note when present, else the file name
 * without a "lib" prefix and the ".so" suffix (and anything after it). Two files with the same
 * name in one reload are rejected (HOTSWAP_EDUPNAME). A plugin loaded by an earlier reload and
 * absent from `paths` stays as it is (unless it must follow a dependency, then its recorded
 * path is read again); removing plugins is not supported yet.
 *
 * Self-binding: right after dlopen, calls between a new version's own exported functions, and
 * pointers to them in its own static tables (LDR_GOT_ABS), are bound to that version even
 * when another version of the same symbols is in the global scope (e.g. v1 was linked into
 * the host). A constructor of the new version that calls one of its
 * own exported functions runs before that binding and may still reach the version in the
 * global scope. Only functions (STT_FUNC) are bound: data references keep ld.so's binding so
 * that a variable the host also sees (copy relocation) stays shared; an IFUNC keeps ld.so's
 * choice as well.
 *
 * Locking contract: no loader lock is held while plugin code runs (constructors and
 * destructors run by dlopen/dlclose, hotswap_* hooks, IFUNC resolvers run by dlsym).
 *   - A short registry mutex guards the plugin records, the totals and the reload token; it is
 *     held only to read or update them (status snapshot, commit, rollback bookkeeping).
 *   - Reloads are serialized by a "reload in progress" token (flag, condition variable, owner
 *     thread), not by a mutex held across the transaction: ldr_reload from another thread
 *     waits until the running reload has finished; ldr_reload from the thread that runs the
 *     reload (i.e. from inside a plugin hook, constructor or destructor) returns -EDEADLK at
 *     once, with the reason "reload called from inside a plugin hook".
 *   - ldr_status_get never waits for a running reload: it returns the committed state (the
 *     generation and records before the reload's commit, or after it) and says that a
 *     reload is in progress (ldr_status.reloading). A hook may call it.
 *   - The trampolines take no lock at all.
 * A hook that starts a thread which calls ldr_reload and then waits for that thread still
 * deadlocks (the loader cannot see that); do not do that. Old versions are unloaded by
 * ldr_retire_run (see "Retirement" below) when the shim configured it.
 */
#ifndef HOTSWAP_LOADER_LOADER_H
#define HOTSWAP_LOADER_LOADER_H

#include <link.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "elf/elf.h"
#include "hotswap.h"

/* Room for one error reason (caller-owned buffers). */
#define LDR_ERR_MAX 512
/* Room for a short version ("1a2b3c4-dirty"). */
#define LDR_VERSION_MAX 32
/* Room for a plugin name. */
#define LDR_NAME_MAX 128
/* Replaced versions listed per plugin by ldr_status_get. */
#define LDR_OLD_MAX 16

/* What a reload does with the running versions' writable state (see loader/state.c). */
enum ldr_state_policy {
  LDR_STATE_CARRY,  /* copy what the program changed; log what cannot be carried (default) */
  LDR_STATE_STRICT, /* refuse the reload (step "state") when something cannot be carried */
  LDR_STATE_FRESH,  /* carry nothing: every new version starts from its initial values */
};

/* What the carry-over did for one plugin in one reload or revert. */
struct ldr_state_stats {
  size_t carried;       /* objects the program had changed, copied into the new version */
  size_t carried_bytes;
  size_t fresh;         /* changed, but left fresh: size changed or dropped by the new build */
  size_t pinned;        /* carried objects holding a pointer the new build has no place for:
                         * the old version then stays loaded */
  size_t rebased;       /* pointers into the old version rebased into the new one */
  size_t host_vars;     /* the executable's copy-relocated variables given new values */
  size_t late_bytes;    /* written by the old version after the copy, copied after commit */
  size_t late_lost;     /* in objects of 64 KiB and more: bytes of the pages the old version
                         * changed after the copy; not merged, and logged */
  size_t conflicts;     /* words both versions wrote after the copy (the new value kept) */
  uint64_t carry_ns;    /* time the copy took (before the commit) */
};

struct ldr_reload_opts {
  enum ldr_state_policy state; /* LDR_STATE_CARRY (0) unless set */
  void *data;                  /* passed to hotswap_on_load */
  struct hotswap_vault *vault; /* passed to hotswap_on_init; opaque to the loader */
  const struct elf_opts *elf;  /* NULL: elf/ defaults */
  /* false (default): the snapshot step refuses a plugin file, or its folder unless sticky,
   * that every user may write (HOTSWAP_EINSECURE, "folder '/srv/app' is writable by every
   * user (mode 0777): another user could replace the plugin; fix with chmod o-w, or set
   * HOTSWAP_INSECURE=1"). true: load it anyway (the caller warns the operator itself). */
  bool allow_insecure;
  /* Retrofit, first load: for each plugin with no current version, when an object already
   * loaded in the process is the same file (same st_dev and st_ino as the path; each
   * dl_iterate_phdr name is stat'ed, the loader's own /proc/self/fd/N ones skipped), that
   * object becomes the plugin's first version (action LDR_ADOPTED) instead of a dlopen of
   * the snapshot: handle = dlopen(its name, RTLD_NOW | RTLD_NOLOAD), no self-binding, then
   * the hooks of any first load. The snapshot is still taken (validation, and the content
   * hash the next reload compares). Refused (HOTSWAP_EINCOMPAT, step "adopt") when the
   * object's build-id in memory differs from the file's: "the file changed after the
   * dynamic linker loaded it (build-id <hex> in memory, <hex> on disk); restart the process
   * to run the new build". An object without a build-id is accepted. A plugin whose file
   * is not loaded is loaded from its snapshot as usual. */
  bool adopt_loaded;
  /* > 0: step "trial" (trial.c). Before any new build's code runs in this process, the
   * steps that run it (dlopen with its IFUNC resolvers and constructors, then
   * hotswap_reloadable, _export, _import, state carry, _on_load, _on_init) run in a forked
   * copy, single-threaded, with HOTSWAP_TRIAL=1 in its environment, given trial_ms. A fatal
   * signal, exit or _exit there, or still running at the deadline, refuses the reload
   * (HOTSWAP_ETRIAL, "<file>: trial: constructor killed by SIGSEGV (address 0x0) at
   * libx.so+0x1139", "exit(3) during load, in hotswap_on_load", "still running after 3000 ms
   * in hotswap_on_init"); a step that fails there (e.g. on_load returns -1) refuses it with
   * that step's own error. Only when the copy returned cleanly do the steps run here.
   * 0: no trial. */
  int trial_ms;
  /* Told, before the new builds' code first runs in this process, one line per plugin file
   * loaded from its snapshot: "loading libx.so 1a2b3c4 (trial passed in 2.1 ms)". NULL: not
   * told. Called on the reloading thread, no lock held. */
  void (*loading)(const char *line);
};

/* What a reload did to one plugin. */
enum ldr_action {
  LDR_LOADED,    /* first version of this plugin */
  LDR_ADOPTED,   /* first version: the object ld.so had loaded from the file (adopt_loaded) */
  LDR_RELOADED,  /* its file changed: new version */
  LDR_FOLLOWED,  /* its file is unchanged, an import changed: fresh copy loaded */
  LDR_UNCHANGED, /* same build-id and content hash: nothing done */
  LDR_PINNED,    /* changed, but the current version is not reloadable: kept */
  LDR_FAILED,    /* the transaction failed here */
  LDR_ROLLED_BACK, /* loaded as part of a transaction that failed elsewhere */
};

struct ldr_plugin_result {
  char name[LDR_NAME_MAX];
  char path[4096];                   /* the file, as given */
  char old_version[LDR_VERSION_MAX]; /* "" for a first load */
  char new_version[LDR_VERSION_MAX]; /* "" when nothing was loaded */
  enum ldr_action action;
  size_t routed; /* symbols routed to the new version */
  /* The new version is (or, when the reload failed, was to be) the object ld.so loaded
   * (opts->adopt_loaded): action LDR_ADOPTED, or LDR_FAILED / LDR_ROLLED_BACK. */
  bool adopted;
  struct ldr_state_stats state; /* the carry-over into the new version */
  /* The new version's object (for LDR_ADOPTED: the object ld.so loaded; for the shim's
   * retrofit), valid while it stays loaded (old versions are not unloaded yet). NULL unless
   * the reload committed a new version of this plugin. */
  struct link_map *map;
};

/* The outcome of one ldr_reload. Owned by the caller; release with ldr_report_free. */
struct ldr_report {
  int rc;                 /* same as ldr_reload's return value */
  char error[LDR_ERR_MAX]; /* "<file>: <step>: <reason>", "" on success */
  bool committed;         /* a new generation was published */
  uint64_t generation;    /* the current generation after the call (valid if has_generation) */
  bool has_generation;
  size_t routed;          /* symbols routed by this commit */
  uint64_t elapsed_ns;    /* whole transaction, monotonic clock */
  struct ldr_plugin_result *plugins; /* one per plugin considered, sorted by name */
  size_t n_plugins;
  /* Lines for the operator's log about state that was not simply carried: "left fresh:
   * mime_table (mime.c) (size 960 -> 1024)", pinned versions, copy-relocated variables. */
  char **notes;
  size_t n_notes;
};

/* Run one reload transaction over the plugin files `paths` (n of them; n may be 0).
 * opts may be NULL (data and vault NULL). rep may be NULL; when given it is filled in every
 * case (also on failure) and must be released with ldr_report_free.
 * Returns 0 (also when nothing changed: no new generation then), or the first error:
 * -errno (snapshot I/O), HOTSWAP_EINSECURE, HOTSWAP_EDUPNAME, HOTSWAP_EINCOMPAT (and the
 * other elf/ codes), HOTSWAP_EDLOPEN, HOTSWAP_ENOPLUGIN, HOTSWAP_ECYCLE, HOTSWAP_EDEPEND,
 * HOTSWAP_EHOOK, HOTSWAP_ENOSLOT, -ENOMEM, -EDEADLK (called from inside a plugin hook of
 * a running reload: nothing is done and the call is not counted in ldr_status). The current
 * generation is untouched on error.
 * Thread-safe: waits for a reload running in another thread (the reload token, see the
 * locking contract above); calls plugin code with no loader lock held. rep->elapsed_ns
 * times the transaction, not the wait. */
int ldr_reload(const char *const *paths, size_t n, const struct ldr_reload_opts *opts,
               struct ldr_report *rep);
void ldr_report_free(struct ldr_report *rep);
/* One log line for a report, e.g. "generation 3 in 1.204 ms, 12 symbols routed: alpha
 * 1a2b3c4 -> 9f8e7d6, beta unchanged, handler 3f2a1c9 adopted (12 symbols), pin not
 * reloadable, kept" or "reload failed: <error>".
 * Writes at most n bytes including the NUL. */
void ldr_report_format(const struct ldr_report *rep, char *buf, size_t n);
/* "state: 3 objects (1200 bytes) carried, 1 left fresh, 1 pinning the old version, 1 program
 * variable updated" (only the parts that are not zero), or "" when nothing was carried or
 * left. Returns the length written (at most n - 1). */
size_t ldr_state_format(const struct ldr_state_stats *s, char *buf, size_t n);
/* Add every count of s to sum (the shim's per-reload totals, a revert's summary). */
void ldr_state_stats_add(struct ldr_state_stats *sum, const struct ldr_state_stats *s);
/* "loaded", "adopted", "reloaded", "reloaded (import changed)", "unchanged",
 * "not reloadable, kept", "failed", "rolled back". */
const char *ldr_action_name(enum ldr_action a);

/* ---------------------------------------------------------------------------------------
 * Introspection (the shim turns this into JSON).
 */
struct ldr_plugin_status {
  char name[LDR_NAME_MAX];
  char path[4096];
  char version[LDR_VERSION_MAX]; /* current version */
  bool reloadable;               /* last answer of hotswap_reloadable (true when absent) */
  size_t routed;                 /* symbols the current version serves */
  unsigned loads;                /* versions committed for this plugin (first load included) */
  size_t versions_loaded;        /* versions still loaded (current, waiting and pinned) */
  enum ldr_action last_action;   /* in the last reload that considered it */
  bool adopted;                  /* the current version is the object ld.so loaded */
  /* Replaced versions still loaded (the first LDR_OLD_MAX of n_old, newest first). */
  struct ldr_old_status {
    char version[LDR_VERSION_MAX];
    bool adopted;           /* the program's own copy (ld.so loaded it): the current version
                             * may be the same build, loaded again by a later reload */
    bool pinned;            /* never unloaded: why says why */
    bool held;              /* past its grace period and found in use: why says by what */
    uint64_t unused_ms;     /* since it was replaced */
    uint64_t held_ms;       /* since it was first found in use (held only) */
    size_t words;           /* held: words the scan found pointing into it (0: a thread) */
    char why[256];          /* "thread 1234", "thread 1234 did not answer", "DF_1_NODELETE",
                             * "3 words: heap 0x55d0c0a0, libhost.so:conn+8" */
  } old[LDR_OLD_MAX];
  size_t n_old;
};

struct ldr_status {
  bool reloading;       /* a reload is running now (what follows is the committed state) */
  bool has_generation;
  uint64_t generation;  /* current generation number */
  unsigned reloads;     /* ldr_reload calls so far */
  unsigned failures;    /* of which failed */
  int last_rc;          /* result of the last ldr_reload */
  char last_error[LDR_ERR_MAX]; /* its reason, "" on success */
  struct ldr_plugin_status *plugins; /* sorted by name */
  size_t n_plugins;
};

/* Fill *out with a consistent snapshot of the committed state. Returns 0 or -ENOMEM. Release
 * with ldr_status_free. Thread-safe; never waits for a running reload (takes the registry
 * mutex only for the copy), so a plugin hook may call it: it then sees the generation
 * that was current before the reload, with reloading == true. */
int ldr_status_get(struct ldr_status *out);
void ldr_status_free(struct ldr_status *st);

/* ---------------------------------------------------------------------------------------
 * Retirement records (read by the later retirement step; valid under the registry mutex,
 * or in the thread holding the reload token).
 */
struct ldr_text_range {
  uintptr_t start, end; /* [start, end) of one executable PT_LOAD segment */
};

/* ---------------------------------------------------------------------------------------
 * Retirement (loader/retire.c). After a commit, a version that the current generation no
 * longer routes to "waits to retire". It is retired once the grace period has passed since
 * it was replaced AND opts.busy says that no thread has a program counter or return address
 * in its text: hotswap_on_free, then dlclose, then its snapshot (memfd) is released, all
 * with no loader lock held (the reload token is held, so a hook that calls ldr_reload gets
 * -EDEADLK). Exceptions:
 *   - adopted (generation 0 of a retrofitted library, ld.so loaded it for the program): never
 *     dlclosed and no hotswap_on_free (the program may still hold pointers into it); it is
 *     simply marked retired (its record and snapshot are freed, the object stays mapped).
 *   - pinned: elf_info.nodelete (DF_1_NODELETE) or has_unique (STB_GNU_UNIQUE) versions are
 *     not unloaded at all (no on_free, no dlclose); a version still mapped after dlclose
 *     (dl_iterate_phdr) is pinned too. Either is reported once (opts.note) and in status,
 *     never retried.
 * The loader knows nothing about signals or threads: opts.busy answers for it.
 * Until ldr_retire_configure is called with enabled = true, nothing is retired (every old
 * version stays loaded, as before retirement existed).
 */

/* Does any thread of the process run, or hold a return address into, [r[i].start, r[i].end)
 * for some i < n? Returns 0 (no thread does), 1 (one does: `why`, LDR_ERR_MAX bytes, says
 * which, e.g. "thread 1234"), or a negative code when it cannot tell (e.g. "thread 1234 did
 * not answer"): the version then keeps waiting. Called by the retiring thread with no loader
 * lock held. */
typedef int (*ldr_busy_fn)(const struct ldr_text_range *r, size_t n, char *why);
/* One line for the operator's log (retired, pinned, waiting). Called with no lock held. */
typedef void (*ldr_note_fn)(const char *line);

/* The memory scan (opts.scan), one group per version to retire: the ranges a program can
 * point into (code, read-only data, data: elf_info.targets) and the version's whole mapping
 * [own_lo, own_hi) (words there are its own, not holders). */
struct ldr_scan_group {
  const struct ldr_text_range *targets;
  size_t n_targets;
  const struct ldr_text_range *text; /* those of its targets that are code */
  size_t n_text;
  uintptr_t own_lo, own_hi;
};
#define LDR_HOLDERS_MAX 200
struct ldr_scan_result {
  size_t words;                  /* words outside every group that point into its targets */
  size_t stack_words;            /* of which on threads' stacks or in their registers */
  pid_t thread;                  /* the first such thread, 0 when none */
  char holders[LDR_HOLDERS_MAX]; /* the first few: "heap 0x55d0c0a0", "libfoo.so:conns+8",
                                  * "stack of thread 1234", comma-separated; "" when none */
};
/* Does any word of the process's memory, but the groups' own mappings and skip[0..n_skip)
 * (the loader's and ld.so's bookkeeping), point into a group's targets? Fills res[0..n) and
 * by[h * n + i] = 1 when group h's own mapping points into group i. Returns 0 (res says),
 * or a negative code when it cannot tell (why, LDR_ERR_MAX bytes, says why). Called by the
 * retiring thread with no loader lock held. */
typedef int (*ldr_scan_fn)(const struct ldr_scan_group *g, size_t n,
                           const struct ldr_text_range *skip, size_t n_skip,
                           struct ldr_scan_result *res, unsigned char *by, char *why);

struct ldr_retire_opts {
  bool enabled;          /* false: never retire (old versions stay loaded) */
  unsigned grace_ms;     /* time a replaced version stays loaded whatever its stacks say */
  unsigned max_versions; /* most replaced versions found in use (past their grace period)
                          * before ldr_reload refuses to load more; 0: no limit */
  ldr_busy_fn busy;      /* NULL: every stack check answers "cannot tell" */
  ldr_scan_fn scan;      /* non-NULL: a version is unloaded only after two scans in a row
                          * found nothing pointing into it (busy is then not used); NULL:
                          * the stack check alone decides (HOTSWAP_RETIRE=stacks) */
  ldr_note_fn note;      /* may be NULL */
};

/* Set the retirement policy (copied). Thread-safe. */
void ldr_retire_configure(const struct ldr_retire_opts *opts);

/* Descriptors the loader keeps open while a version is loaded (its snapshot memfd, whose
 * /proc/self/fd name ld.so knows it by): `keep` is called after one is opened, `drop` just
 * before it is closed, so the shim can guard them against the daemon's close-all loops.
 * NULL (the default): nothing is called. Set before the first reload; not thread-safe. */
void ldr_set_fd_hooks(void (*keep)(int fd), void (*drop)(int fd));

struct ldr_retire_result {
  size_t retired;  /* versions retired by this call */
  size_t waiting;  /* versions still waiting (grace period or in use) */
  size_t pinned;   /* versions that will never be unloaded */
  long next_ms;    /* when to call again (ms, >= 1), -1 when nothing waits */
};

/* Retire every waiting version that can go now (see above). Waits for a running reload
 * (the reload token); returns 0, or -EDEADLK from inside a plugin hook (nothing done).
 * res may be NULL. Thread-safe; runs hotswap_on_free and dlclose with no loader lock held. */
int ldr_retire_run(struct ldr_retire_result *res);

/* Free the superseded generations numbered below `before` (keeping the current and the
 * previous one) and their version lists, once the caller has proven that no thread can
 * still be inside a trampoline that loaded them (the shim: a stack-check round begun when
 * generation `before` was current, in which every thread answered and none was interrupted
 * inside the trampoline pool; see loader/tramp.h). *freed (may be NULL) gets the count.
 * Waits for the reload token; returns 0, or -EDEADLK from inside a plugin hook. Thread-safe. */
int ldr_retire_reclaim_gens(uint64_t before, size_t *freed);

/* Go back to the previous generation while every version it routes to is still loaded:
 * one new generation, committed with one store, routes every symbol as the previous one
 * did, and each plugin's previous version becomes current again (the replaced one starts
 * its grace period). No plugin hook runs: those versions were initialized when they were
 * loaded; the vault (host extension) that generation recorded becomes current again.
 * msg (LDR_ERR_MAX) gets "generation 7 (as generation 5): handler 1a2b -> 3c4d"
 * on success or the reason, e.g. "no previous generation (generation 0 is the first)",
 * "plugin x did not exist in generation 5", "'f' did not exist in generation 5", "the host
 * registered another extension constructor after generation 5; its versions never filled
 * that extension".
 * Returns 0, HOTSWAP_ENOPREV, -ENOMEM, -EDEADLK from inside a plugin hook, or -EBUSY when a
 * reload still runs after 0.5 s ("a reload is still running, in libx.so hotswap_on_init for
 * 12.0 s; revert after it ends"). *generation (may be NULL) gets the new generation's
 * number. Thread-safe (takes the reload token). */
int ldr_revert(uint64_t *generation, char *msg);

/* ---------------------------------------------------------------------------------------
 * GOT walker (loader/got.c). General: works on any loaded object, so the shim reuses it to
 * retrofit the host's GOT entries onto trampolines.
 */
enum ldr_got_kind {
  LDR_GOT_JUMP_SLOT, /* PLT entry (R_*_JUMP_SLOT) */
  LDR_GOT_GLOB_DAT,  /* address-taken or -fno-plt reference (R_*_GLOB_DAT) */
  /* An absolute pointer in data, "symbol + 0" (R_X86_64_64, R_AARCH64_ABS64): e.g. a PIE's
   * `static const struct { const char *name; int (*fn)(void); } routes[] = {{"hello",
   * handle_hello}}` whose handle_hello lives in a library, in .data.rel.ro. Only from RELA
   * tables, with addend 0, at a pointer-aligned address: a non-zero addend (a pointer into
   * the middle of an object) and REL-format relocations (i386 R_386_32, whose addend is
   * lost once applied) are not reported. Slot points at the pointer in the table; it may be
   * a data symbol (check sym_type). */
  LDR_GOT_ABS,
};

struct ldr_got_entry {
  const char *name;       /* symbol name (in the object's dynamic string table) */
  const char *version;    /* symbol version wanted, NULL when none is recorded */
  void **slot;            /* the GOT entry */
  enum ldr_got_kind kind;
  unsigned char sym_type; /* STT_FUNC, STT_OBJECT, STT_GNU_IFUNC, STT_NOTYPE, ... */
  unsigned char sym_bind; /* STB_GLOBAL, STB_WEAK, STB_GNU_UNIQUE */
  void *self_def;         /* the object's own definition of the symbol, NULL when it does
                           * not define it (undefined, or STT_GNU_IFUNC/STT_TLS) */
};

struct dl_phdr_info; /* <link.h> defines it under _GNU_SOURCE */

/* Called once per entry; return 0 to continue, non-zero to stop the walk (that value is
 * then returned by ldr_got_foreach*). */
typedef int (*ldr_got_fn)(const struct ldr_got_entry *e, void *arg);

/* Walk the JUMP_SLOT, GLOB_DAT and ABS relocations (see enum ldr_got_kind) of a loaded
 * object, in table order (DT_JMPREL, then DT_RELA, then DT_REL), found through its link_map
 * (dlinfo RTLD_DI_LINKMAP) or its dl_iterate_phdr record. Reads only the in-memory dynamic
 * section. Returns 0, the callback's non-zero value, or HOTSWAP_EBADELF (with a reason in
 * err, LDR_ERR_MAX bytes, when err is not NULL) when the dynamic section lacks its tables.
 * Thread-safe as long as the object stays loaded; async-signal-safe: no. */
int ldr_got_foreach(const struct link_map *map, ldr_got_fn fn, void *arg, char *err);
int ldr_got_foreach_phdr(const struct dl_phdr_info *info, ldr_got_fn fn, void *arg,
                         char *err);

/* Called once per R_*_COPY relocation of the program (the executable keeps its own copy of
 * a library's exported variable `name`, `size` bytes at `addr`), and once per GLOB_DAT entry
 * of a variable it does not define (`addr`: the library's variable it is bound to; AArch64
 * PIEs take that road: see got.c); non-zero stops the walk. */
typedef int (*ldr_copy_fn)(const char *name, void *addr, size_t size, void *arg);
/* Walk the program's copy relocations (DT_RELA, then DT_REL of its in-memory dynamic
 * section). Names point into its dynamic string table (valid for the process's life).
 * Returns 0 or the callback's non-zero value. Thread-safe; reads only. */
int ldr_copy_foreach(ldr_copy_fn fn, void *arg);

/* Store `value` into the GOT entry `slot` with one atomic release store. When the entry lies
 * in a RELRO segment, its page is made writable only for the store and read-only again right
 * after. Returns 0, -EFAULT when no loaded object contains slot, or -errno from mprotect.
 * Thread-safe (writes are serialized by a mutex inside got.c); concurrent callers through
 * the entry see either the old or the new value. */
int ldr_got_write(void **slot, void *value);

/* Bind every JUMP_SLOT/GLOB_DAT/ABS entry of `map` whose symbol the object itself defines as
 * a function (STT_FUNC, not STB_GNU_UNIQUE) to that definition: its calls and its own
 * dispatch tables then reach its own functions. *bound (may be NULL) receives how many
 * entries changed. Returns 0 or an error of ldr_got_foreach/ldr_got_write, with a
 * reason in err. */
int ldr_got_bind_self(const struct link_map *map, size_t *bound, char *err);

/* ---- the crash path (crashmap.c) ----------------------------------------------------- */

/* Where an address lies in a loaded plugin version. */
struct ldr_crash_where {
  char file[64];                 /* "libhandler.so" */
  char name[LDR_NAME_MAX];       /* plugin name */
  char version[LDR_VERSION_MAX]; /* "9b8e7d1" */
  char sym[128];                 /* nearest function symbol containing it, "" when none */
  uintptr_t sym_offset;          /* from that symbol's start */
  uintptr_t offset;              /* from the start of the version's mapping */
  uint64_t committed_ns;         /* CLOCK_MONOTONIC at its commit, 0 while still loading */
  uint64_t generation;           /* the generation that committed it */
  uint64_t content_hash;         /* elf_content_hash of its file, 0 when unknown */
};

/* The mapping of /proc/self/maps holding addr: its file's base name into name (n bytes;
 * "hotswap:libx.so" for a plugin copy the loader mapped) and addr's offset in that file.
 * Returns false when none (or no /proc). async-signal-safe: open, read, no allocation. */
bool ldr_maps_object(uintptr_t addr, char *name, size_t n, uintptr_t *off);
/* "SIGSEGV", ... for a fatal signal; the faulting program counter from a handler's ucontext
 * (0 on an architecture not known). async-signal-safe. */
const char *ldr_fault_name(int signo);
uintptr_t ldr_fault_pc(const void *uctx);

/* ---- plugin code running now, and the trial copy (trial.c) -------------------------- */

/* What plugin code the reloading thread runs now (constructors of a dlopen, a hook). */
struct ldr_activity {
  bool running;
  char file[64];    /* "libx.so" */
  char what[32];    /* "constructor", "hotswap_on_init", "hotswap_on_free", ... */
  uint64_t since_ns; /* CLOCK_MONOTONIC */
};
/* Copy it to *out; returns out->running. Any thread; never waits for plugin code. */
bool ldr_activity_get(struct ldr_activity *out);
/* True in the forked copy of a trial (its fork handlers must do nothing else). */
bool ldr_trial_child(void);
/* How the trial copy walks its stack to name the plugin code that called into a system
 * library that crashed (abort): async-signal-safe, return addresses innermost first. */
void ldr_set_backtrace(size_t (*fn)(uintptr_t *ips, size_t max));

/* Is addr inside a loaded plugin version (committed, or being loaded by a reload)? Fills
 * *out and returns true when it is. async-signal-safe: no lock, no allocation. */
bool ldr_crashmap_find(uintptr_t addr, struct ldr_crash_where *out);

/* The sealed copy of plugin `name`'s current version: a new descriptor (close it), its
 * version into version (n bytes) and its content hash. Returns the fd or -ENOENT. */
int ldr_current_snapshot_fd(const char *name, char *version, size_t n, uint64_t *content_hash);

#endif /* HOTSWAP_LOADER_LOADER_H */
