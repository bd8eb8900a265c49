/* SPDX-License-Identifier: BSD-3-Clause */
/* lifecycle_int.h - declarations shared by the files of the plugin lifecycle (snapshot.c,
 * registry.c, deps.c, lifecycle.c). Not for use outside loader/: the API is loader.h.
 */
#ifndef HOTSWAP_LOADER_LIFECYCLE_INT_H
#define HOTSWAP_LOADER_LIFECYCLE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "elf/elf.h"
#include "loader/loader.h"

/* ---- snapshot.c ------------------------------------------------------------------------ */

/* A plugin file copied into a sealed memfd and inspected. */
struct ldr_snapshot {
  int fd;               /* sealed memfd, -1 when none; open while the version is loaded */
  char fdpath[40];      /* "/proc/self/fd/N": what dlopen gets */
  struct elf_info *info;
  dev_t dev;            /* the file that was copied (fstat of the opened path) */
  ino_t ino;
};

/* Copy `path` into a sealed memfd and inspect it with elf/. Refuses a file, or a folder
 * without the sticky bit, that every user may write, unless allow_insecure, with the
 * reason "folder '<dir>' is writable by every user (mode 0777): another user could replace
 * the plugin; fix with chmod o-w, or set HOTSWAP_INSECURE=1" (for the file: "'<path>' is
 * ..."). Returns 0, -errno, HOTSWAP_EINSECURE or an elf_inspect_fd code, with a reason
 * (without the file name prefix) in err (LDR_ERR_MAX). Thread-safe. */
int ldr_snapshot_take(const char *path, const struct elf_opts *eo, bool allow_insecure,
                      struct ldr_snapshot *out, char *err);
/* Close the memfd and free the ELF info. Idempotent. */
void ldr_snapshot_release(struct ldr_snapshot *s);
/* True when both builds have the same build-id, size and content hash. */
bool ldr_snapshot_same(const struct elf_info *a, const struct elf_info *b);
/* Plugin name of a build: its note's name, else the file name without "lib" and ".so...".
 * Returns 0 or -ENAMETOOLONG (buf holds LDR_NAME_MAX bytes). */
int ldr_plugin_name(const struct elf_info *info, const char *path, char *buf);
/* Last component of a path (a pointer into it). */
const char *ldr_basename(const char *path);

/* ---- adopt.c --------------------------------------------------------------------------- */

/* An object the dynamic linker loaded before us (e.g. a library the program is linked with). */
struct ldr_loaded {
  char name[4096];              /* its dlpi_name / l_name, what dlopen(RTLD_NOLOAD) gets */
  unsigned char build_id[64];   /* NT_GNU_BUILD_ID read from its PT_NOTE in memory */
  size_t build_id_len;          /* 0 when it has none */
};

/* Find a loaded object whose name is the file (dev, ino) (stat of each dl_iterate_phdr name;
 * the program itself and /proc/... names are skipped). Returns true and fills *out when
 * found. Thread-safe; runs no plugin code. */
bool ldr_adopt_find(dev_t dev, ino_t ino, struct ldr_loaded *out);
/* Lower-case hex of n bytes into buf (size bytes, NUL-terminated, truncated to fit). */
void ldr_hex(const unsigned char *b, size_t n, char *buf, size_t size);

/* ---- registry.c ------------------------------------------------------------------------ */

typedef bool (*ldr_reloadable_fn)(void);
typedef void *(*ldr_export_fn)(void);
typedef const struct hotswap_import *(*ldr_import_fn)(void);
typedef int (*ldr_on_load_fn)(void *);
typedef int (*ldr_on_init_fn)(struct hotswap_vault *);
typedef void (*ldr_on_free_fn)(void);
typedef int (*ldr_on_transfer_fn)(const struct hotswap_transfer *);

/* One loaded build of one plugin. Replaced versions stay on the `older` chain until retire.c
 * unloads them. */
struct ldr_version {
  struct ldr_plugin *plugin; /* NULL until committed (a new plugin has no record yet) */
  struct ldr_snapshot snap;
  void *handle;
  struct link_map *map;
  char version[LDR_VERSION_MAX];
  bool reloadable;
  void *export_;
  ldr_reloadable_fn reloadable_fn;
  ldr_export_fn export_fn;
  ldr_import_fn import_fn;
  ldr_on_load_fn on_load;
  ldr_on_init_fn on_init;
  ldr_on_free_fn on_free; /* for retirement */
  ldr_on_transfer_fn on_transfer;
  struct ldr_state *state; /* its writable state as loaded (state.c), NULL when unknown */
  char **imports;         /* names of the plugins it imports */
  size_t n_imports;
  struct ldr_text_range *text; /* executable PT_LOAD segments, for retirement */
  size_t n_text;
  struct ldr_text_range *targets; /* what the program can point into (retirement's scan) */
  size_t n_targets;
  struct ldr_text_range *code; /* those of targets that are code (executable sections) */
  size_t n_code;
  uintptr_t map_lo, map_hi;    /* [lowest, highest) address of every PT_LOAD segment */
  uint64_t *gens;              /* generations that reference it */
  size_t n_gens, cap_gens;
  size_t routed;
  size_t self_bound; /* GOT entries bound to itself after dlopen */
  bool adopted;      /* the object ld.so loaded (dlopen RTLD_NOLOAD): never unmapped by us */
  /* Why dlclose can never unload it (a static string), NULL when it can. Kept apart from
   * snap.info, which is freed once the version is older than the previous one. */
  const char *undeletable;
  struct ldr_version *older; /* previous version of the same plugin */
  /* Retirement (retire.c), written under the registry mutex by the reload token holder. */
  uint64_t replaced_ns; /* CLOCK_MONOTONIC when a commit replaced it; 0 while current */
  uint64_t held_ns;     /* when a stack check past the grace period first found it in use */
  bool pinned;          /* never unloaded (reported once) */
  unsigned clean;       /* scans in a row that found nothing pointing into it */
  size_t words;         /* words the last scan found pointing into it */
  char why[256];        /* who holds it, or why it is pinned */
  struct crash_entry *crash; /* its entry in the crash path's table (crashmap.c), or NULL */
};

struct ldr_plugin {
  char name[LDR_NAME_MAX];
  char *path;
  struct ldr_version *current; /* newest committed version; older ones via ->older */
  size_t n_versions;
  unsigned loads;
  enum ldr_action last_action;
};

/* What a generation records in its `user` field: every version it routes to, and the vault
 * its versions' hotswap_on_init filled (ldr_reload_opts.vault; a revert records the vault
 * of the generation it restores; NULL when none). */
struct ldr_gen_refs {
  struct hotswap_vault *vault;
  size_t n;
  struct ldr_version *v[];
};

/* Registry access (registry.c). The reload token holder is the only writer: it reads without
 * the registry mutex and writes with it held (lifecycle.c's reg_lock); other threads read
 * with the mutex held. */
struct ldr_plugin *ldr_registry_find(const char *name);
/* Insert a new plugin (name must be absent). Returns 0 or -ENOMEM (never after a
 * successful ldr_registry_reserve for it). */
int ldr_registry_add(struct ldr_plugin *p);
/* Make room for n more plugins so that the next n ldr_registry_add cannot fail. */
int ldr_registry_reserve(size_t n);
size_t ldr_registry_count(void);
struct ldr_plugin *ldr_registry_at(size_t i); /* sorted by name */
/* Make room for one more generation number in v->gens. Returns 0 or -ENOMEM. */
int ldr_version_reserve_gen(struct ldr_version *v);
/* Free a version that was never committed (after dlclose). */
void ldr_version_free(struct ldr_version *v);
/* Status of every plugin, sorted by name (the caller frees *out). Returns 0 or -ENOMEM. */
int ldr_registry_status(struct ldr_plugin_status **out, size_t *n);

/* ---- lifecycle.c: the lock and the token shared with retire.c ---------------------------- */

/* The registry mutex (see loader.h's locking contract). */
void ldr_reg_lock(void);
void ldr_reg_unlock(void);
/* Take the reload token (waits for a running reload). Returns 0, or -EDEADLK when this
 * thread holds it already (called from inside a plugin hook). */
int ldr_token_acquire(void);
/* The same, waiting at most ms: -EBUSY when a reload still runs then. */
int ldr_token_acquire_within(int ms);
/* Give it back without recording a reload. */
void ldr_token_release(void);
/* CLOCK_MONOTONIC in ns. */
uint64_t ldr_now_ns(void);

/* The crash path's table (crashmap.c). Add after dlopen (v->map, map_lo/hi and snap.info
 * known), mark committed at publish (and at a revert), remove before the record is freed.
 * add returns 0 or -errno (the version then has no entry: crashes in it are named by the
 * mapping's file alone). */
int ldr_crashmap_add(struct ldr_version *v, const char *name, const char *path);
void ldr_crashmap_committed(struct ldr_version *v, uint64_t generation);
void ldr_crashmap_remove(struct ldr_version *v);
/* The content hash its entry recorded (snap.info may be freed by then). */
uint64_t ldr_crashmap_hash(const struct ldr_version *v);

/* ---- trial.c ---------------------------------------------------------------------------- */

/* Around every call into plugin code on the reloading thread: "libx.so", "constructor". */
void ldr_activity_enter(const char *file, const char *what);
void ldr_activity_leave(void);

struct ldr_trial_result {
  bool returned;          /* body returned in the copy: rc and err are its result */
  int rc;
  char err[LDR_ERR_MAX];
  char file[64];          /* the plugin file whose code ran last in the copy */
  char what[32];
  char reason[LDR_ERR_MAX]; /* !returned: "constructor killed by SIGSEGV ... at ..." */
  double ms;              /* fork to verdict */
};
/* Run body(arg, err) in a forked copy of the process, given timeout_ms; info(arg, file)
 * gives the ELF details of a plugin file being tried (to name a faulting function before
 * the crash table knows its mapping), or NULL. Returns 0 with
 * *res filled, or -errno when the copy could not be started (pipe, fork). */
int ldr_trial_run(int timeout_ms, int (*body)(void *arg, char *err),
                  const struct elf_info *(*info)(void *arg, const char *file), void *arg,
                  struct ldr_trial_result *res);

/* ---- retire.c -------------------------------------------------------------------------- */

/* Refuse to load more when max_versions replaced versions are in use. Called by the token
 * holder before a transaction loads anything. Returns 0, or HOTSWAP_EBUSY with "8 old
 * versions are still in use (oldest: handler 4a70396 held by thread 1234 for 12 s);
 * refusing to load more" in err (LDR_ERR_MAX). */
int ldr_retire_check_cap(char *err);
/* Status of the replaced versions of p into st->old / st->n_old. Under the registry mutex. */
void ldr_retire_status(const struct ldr_plugin *p, struct ldr_plugin_status *st);

/* Make the current generation record vault v (from ldr_vault_stage) instead of the one it
 * recorded, and v's extension current, provided the current generation is still the one
 * the caller saw: had_gen says whether there was one, number its number. With no
 * generation at all, v only becomes current. Returns 0, -EAGAIN when a reload or a revert
 * committed since (nothing changed), or -EDEADLK from inside a plugin hook. Takes the reload
 * token and the registry mutex; runs no host or plugin code. */
int ldr_gen_record_vault(struct hotswap_vault *v, bool had_gen, uint64_t number);

/* ---- vault.c: the vault each generation records ---------------------------------------
 * The lifecycle treats vaults as opaque: each call below ignores NULL and any pointer that
 * is not a live vault of ldr_vault_stage. None takes a loader lock and none but
 * ldr_vault_collect runs host code, so the others may be called with the registry mutex and
 * the table lock held; all thread-safe. */

/* One more generation records v (until ldr_vault_release): its extension is kept. */
void ldr_vault_hold(struct hotswap_vault *v);
/* A generation that recorded v is freed or records another vault now. */
void ldr_vault_release(struct hotswap_vault *v);
/* v was committed: it is kept, and its extension becomes current unless the host registered
 * another constructor since v was built, or (restore false) the constructor gave v none. */
void ldr_vault_make_current(struct hotswap_vault *v, bool restore);
/* May v become current again (false when the host registered another constructor since v
 * was built: the versions that filled v never saw that constructor's extension)? */
bool ldr_vault_restorable(const struct hotswap_vault *v);
/* Destroy (the host's destroy function, exactly once each) the extensions of kept vaults
 * that no retained generation records and that are not current. Call with NO lock held: it
 * runs host code. Returns how many it destroyed. */
size_t ldr_vault_collect(void);
/* Plugin version `version` (a struct ldr_version, used only as a key) is about to receive v
 * in its hotswap_on_init (a reload's on_init step, or ldr_rerun_on_init): v stays allocated
 * until ldr_vault_version_freed(version, true). Recording the same pair again is a no-op.
 * Out of memory, v is kept for good instead. */
void ldr_vault_received(const void *version, struct hotswap_vault *v);
/* `version` is being freed: with unloaded true, its hotswap_on_free has returned (or it never
 * ran code that kept the pointer) and its library is closed, so the vaults it received are
 * released, and a vault whose extension is destroyed is freed once no generation and no
 * version holds it; with unloaded false (an adopted version: its code stays mapped), they are
 * kept for good. Call before the version's record is freed (its address may be reused).
 * Frees memory only: runs no host code, so any lock may be held. */
void ldr_vault_version_freed(const void *version, bool unloaded);
/* Number of vault structs allocated (those with an extension still alive plus the spent ones
 * a version still holds), for tests. */
size_t ldr_vault_count(void);

/* ---- state.c: carrying writable state into the next version ---------------------------- */

/* One object copied by a carry, kept until the late pass. */
struct ldr_carried {
  const struct elf_state_obj *obj;
  unsigned char *src, *dst; /* old and new object */
  size_t size;
  unsigned char *sent;      /* the old bytes as copied (objects under 64 KiB) */
  uint64_t *chunk_hash;     /* bigger ones: per page chunk, what was copied (0: zero) */
};

/* A write into the executable's copy of a copy-relocated variable, done at commit. */
struct ldr_host_write {
  unsigned char *addr;
  unsigned char *bytes;
  size_t size;
};

/* The carry from one version into another, from before the commit until the late pass. */
struct ldr_carry {
  struct ldr_version *from, *to;
  struct ldr_carried *items;
  size_t n_items;
  struct ldr_host_write *host;
  size_t n_host;
  char pin_why[128];    /* non-empty: `from` must stay loaded (applied at commit) */
  struct ldr_state_stats stats;
  char **notes;
  size_t n_notes;
};

/* Record v's writable state as it is now (right after load: the reference against which
 * "changed by the program" is decided later). Needs v->snap.info and v->map. Returns 0 or
 * -ENOMEM (then v->state stays NULL: nothing is carried out of v). Runs no plugin code. */
int ldr_state_capture(struct ldr_version *v);
void ldr_state_free(struct ldr_version *v);
/* Copy what the program changed in `from` into `to` (both loaded; `to` not yet serving).
 * *out gets the record (also on failure; free with ldr_carry_free). Returns 0,
 * HOTSWAP_EINCOMPAT (strict policy, or a copy-relocated variable changed size), HOTSWAP_EHOOK
 * (hotswap_on_transfer said no) or -ENOMEM, with a reason in err (LDR_ERR_MAX). Calls
 * to's hotswap_on_transfer (plugin code): the caller holds no loader lock. */
int ldr_state_carry(struct ldr_version *from, struct ldr_version *to,
                    enum ldr_state_policy policy, struct ldr_carry **out, char *err);
/* After the commit store, for the carries k[0..n) (NULL ones skipped): the executable's
 * copies get their new values and a `from` with a pointer that could not be rebased is
 * pinned (registry mutex, briefly); then, once no thread runs the `from` versions (waited
 * for at most 200 ms, with the retirement stack check), the words they changed since the
 * copy are copied again unless `to` changed them too. A wait that gave up adds a note. */
void ldr_state_settle(struct ldr_carry *const *k, size_t n);
void ldr_carry_free(struct ldr_carry *k);
/* The policy ldr_reload was last given (set by the token holder), which ldr_revert follows. */
void ldr_state_policy_set(enum ldr_state_policy p);
enum ldr_state_policy ldr_state_policy_get(void);

/* Wait, up to max_ms, until the configured stack check says no thread runs in r[0..n).
 * Returns 0 (quiet), 1 (still busy at the deadline), or negative (no stack check is
 * configured, or it cannot tell). Called by the reload token holder, no lock held. */
int ldr_retire_wait_quiet(const struct ldr_text_range *r, size_t n, unsigned max_ms);

/* ---- deps.c ---------------------------------------------------------------------------- */

/* Import graph of the plugins loaded by one transaction: node i imports deps[i][0..n_deps[i]). */
struct ldr_graph {
  size_t n;
  const char *const *names;
  size_t *const *deps;
  const size_t *n_deps;
};

/* Dependency order (every plugin after the plugins it imports; ties by name) into order[n].
 * Returns 0, -ENOMEM, or HOTSWAP_ECYCLE with "import cycle a -> b -> a" in err (LDR_ERR_MAX)
 * and the index of the first plugin of the cycle in *culprit. */
int ldr_deps_order(const struct ldr_graph *g, size_t *order, size_t *culprit, char *err);

#endif /* HOTSWAP_LOADER_LIFECYCLE_INT_H */
