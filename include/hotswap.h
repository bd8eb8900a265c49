/* SPDX-License-Identifier: BSD-3-Clause */
/* hotswap.h - the public API of hotswap for plugins and hosts.
 *
 * A plugin is a shared object. Every hook below is optional; a retrofitted library that
 * defines none of them is still a plugin. Hosts reach plugin code through trampolines that
 * follow reloads (see DESIGN.md). This header also fixes the on-disk records that the build
 * tool writes and `elf/` reads: the version note and the live-type records.
 */
#ifndef HOTSWAP_H
#define HOTSWAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Version of the contract between a plugin and the shim. A plugin stamped with another
 * ABI version is refused. */
#define HOTSWAP_ABI_VERSION 1

/* ---------------------------------------------------------------------------------------
 * Errors. Functions return 0 on success or a negative code: either -errno, or one of the
 * HOTSWAP_E* codes below. One table holds every code with its message (libuv's way: a
 * missing entry cannot silently merge two messages).
 */
#define HOTSWAP_ERRNO_MAP(XX)                                                           \
  XX(ENOTELF, -4001, "not an ELF file")                                                \
  XX(EBADELF, -4002, "malformed ELF file")                                             \
  XX(ECLASS, -4003, "ELF class differs from the host's")                               \
  XX(EMACHINE, -4004, "machine differs from the host's")                               \
  XX(ENOTDYN, -4005, "not a shared object")                                            \
  XX(EINCOMPAT, -4006, "new build cannot replace the running one")                     \
  XX(EEXECSTACK, -4007, "plugin requires an executable stack")                         \
  XX(ETEXTREL, -4008, "plugin has text relocations")                                   \
  XX(EABI, -4009, "plugin was built for another hotswap ABI version")                  \
  XX(ELIVETYPE, -4010, "live type layout changed")                                     \
  XX(ECYCLE, -4011, "plugin imports form a cycle")                                     \
  XX(ENOPLUGIN, -4012, "no such plugin")                                               \
  XX(EDUPNAME, -4013, "two plugins have the same name")                                \
  XX(EHOOK, -4014, "a plugin hook failed")                                             \
  XX(EDLOPEN, -4015, "the dynamic linker refused the plugin")                          \
  XX(ENOSLOT, -4016, "no free trampoline left")                                        \
  XX(EPINNED, -4017, "plugin is not reloadable")                                       \
  XX(EINSECURE, -4018, "plugin file or folder is writable by other users")             \
  XX(EUNDEF, -4019, "plugin needs a symbol that the process does not define")          \
  XX(EDEPEND, -4020, "a plugin's dependency changed but the plugin could not follow")  \
  XX(EBUSY, -4021, "too many old versions are still in use")                           \
  XX(ENOTFOUND, -4022, "no such symbol")                                               \
  XX(ENOKEY, -4023, "no such key in the vault")                                        \
  XX(ENOPREV, -4024, "the previous generation cannot be restored")                   \
  XX(ETRIAL, -4025, "the plugin's load-time code crashed, exited or hung in its trial")

enum hotswap_errno {
#define HOTSWAP_ERRNO_ENUM_(name, value, msg) HOTSWAP_##name = (value),
  HOTSWAP_ERRNO_MAP(HOTSWAP_ERRNO_ENUM_)
#undef HOTSWAP_ERRNO_ENUM_
};

/* Message for an error code (a HOTSWAP_E* code or -errno). Never NULL. Thread-safe and
 * async-signal-safe: returns a static string. */
const char *hotswap_strerror(int err);
/* Name of an error code, e.g. "HOTSWAP_EBADELF" or "ENOENT". Never NULL. */
const char *hotswap_err_name(int err);

/* ---------------------------------------------------------------------------------------
 * Plugin contract. Define any of these in a plugin; the loader calls them in this order,
 * in dependency order, with no hotswap lock held.
 */
struct hotswap_vault;

/* One import: the loader stores the export of plugin `plugin` into *slot.
 * The array returned by hotswap_import() ends with {NULL, NULL}. */
struct hotswap_import {
  const char *plugin;
  void **slot;
};

bool hotswap_reloadable(void);                  /* false pins the running version */
void *hotswap_export(void);                     /* what importers receive */
const struct hotswap_import *hotswap_import(void);
int hotswap_on_load(void *data);                /* non-zero aborts the reload */
int hotswap_on_init(struct hotswap_vault *vault); /* non-zero aborts the reload; vault
                                                  * valid until hotswap_on_free returns */
void hotswap_on_free(void);                     /* before the version is unloaded */
int hotswap_invoke_func(const char *fn, void *arg, void **ret);

/* State carry-over (README, "State across reloads"). At a reload, every object of the
 * running version's writable state (.data, .bss) that the program changed is copied into
 * the new version's object of the same name and size. For one whose size changed, the new
 * version's hotswap_on_transfer (when it defines one) is called instead, before its
 * hotswap_on_load, with the old object still in place: it may convert old_addr's bytes
 * into new_addr. Return 1 when it took the object over, 0 to leave the new build's initial
 * value (logged "left fresh"), negative to refuse the reload. Pointers into the old version
 * are not rebased for it. */
struct hotswap_transfer {
  const char *name;     /* the object's symbol name */
  const char *file;     /* its source file (STT_FILE) for a static, NULL for a global */
  const void *old_addr; /* the running version's object */
  size_t old_size;
  void *new_addr;       /* the new version's object */
  size_t new_size;
};
int hotswap_on_transfer(const struct hotswap_transfer *t);

/* ---------------------------------------------------------------------------------------
 * On-disk records, read by `elf/` without running any plugin code.
 *
 * Both live in ELF notes (section ".note.hotswap", 4-byte aligned, owner name "hotswap").
 *
 * HOTSWAP_NT_VERSION: written by `hotswap build`. The descriptor is a sequence of
 * NUL-terminated "key=value" strings, zero-padded to a multiple of 4. Keys: abi (decimal),
 * name, commit (40 hex digits or "unversioned"), branch, dirty (0 or 1), commit_time and
 * build_time (seconds since the epoch). Unknown keys are ignored by readers.
 *
 * HOTSWAP_NT_LIVE_TYPE: one per HOTSWAP_LIVE_TYPE(). The descriptor is
 * struct hotswap_live_type_desc followed by "<type name>\0<field,field,...>\0", padded.
 */
#define HOTSWAP_NOTE_NAME "hotswap"
#define HOTSWAP_NOTE_SECTION ".note.hotswap"
#define HOTSWAP_NT_VERSION 0x48530001u
#define HOTSWAP_NT_LIVE_TYPE 0x48530002u

/* Default prefix of live functions and types (compared case-insensitively). */
#define HOTSWAP_LIVE_PREFIX "live_"

struct hotswap_live_type_desc {
  uint32_t size;    /* sizeof(type) */
  uint32_t align;   /* _Alignof(type) */
  uint32_t hash_lo; /* layout hash over size, alignment, field offsets and sizes */
  uint32_t hash_hi;
};

/* Layout hash, a constant expression (FNV-1a style mixing of 64-bit words). */
#define HOTSWAP_HASH_STEP_(h, x) ((((uint64_t)(h)) ^ (uint64_t)(x)) * 0x100000001b3ull)
#define HOTSWAP_FIELD_HASH_(T, h, f)                                                     \
  HOTSWAP_HASH_STEP_(HOTSWAP_HASH_STEP_(h, offsetof(T, f)), sizeof(((T *)0)->f))

#define HOTSWAP_NARG_(...) HOTSWAP_NARG_I_(__VA_ARGS__, 16, 15, 14, 13, 12, 11, 10, 9, 8, \
                                           7, 6, 5, 4, 3, 2, 1, 0)
#define HOTSWAP_NARG_I_(_1, _2, _3, _4, _5, _6, _7, _8, _9, _10, _11, _12, _13, _14, _15, \
                        _16, N, ...) N
#define HOTSWAP_CAT_(a, b) HOTSWAP_CAT_I_(a, b)
#define HOTSWAP_CAT_I_(a, b) a##b
#define HOTSWAP_FH1_(T, h, f) HOTSWAP_FIELD_HASH_(T, h, f)
#define HOTSWAP_FH2_(T, h, f, ...) HOTSWAP_FH1_(T, HOTSWAP_FIELD_HASH_(T, h, f), __VA_ARGS__)
#define HOTSWAP_FH3_(T, h, f, ...) HOTSWAP_FH2_(T, HOTSWAP_FIELD_HASH_(T, h, f), __VA_ARGS__)
#define HOTSWAP_FH4_(T, h, f, ...) HOTSWAP_FH3_(T, HOTSWAP_FIELD_HASH_(T, h, f), __VA_ARGS__)
#define HOTSWAP_FH5_(T, h, f, ...) HOTSWAP_FH4_(T, HOTSWAP_FIELD_HASH_(T, h, f), __VA_ARGS__)
#define HOTSWAP_FH6_(T, h, f, ...) HOTSWAP_FH5_(T, HOTSWAP_FIELD_HASH_(T, h, f), __VA_ARGS__)
#define HOTSWAP_FH7_(T, h, f, ...) HOTSWAP_FH6_(T, HOTSWAP_FIELD_HASH_(T, h, f), __VA_ARGS__)
#define HOTSWAP_FH8_(T, h, f, ...) HOTSWAP_FH7_(T, HOTSWAP_FIELD_HASH_(T, h, f), __VA_ARGS__)
#define HOTSWAP_FH9_(T, h, f, ...) HOTSWAP_FH8_(T, HOTSWAP_FIELD_HASH_(T, h, f), __VA_ARGS__)
#define HOTSWAP_FH10_(T, h, f, ...) HOTSWAP_FH9_(T, HOTSWAP_FIELD_HASH_(T, h, f), __VA_ARGS__)
#define HOTSWAP_FH11_(T, h, f, ...) HOTSWAP_FH10_(T, HOTSWAP_FIELD_HASH_(T, h, f), __VA_ARGS__)
#define HOTSWAP_FH12_(T, h, f, ...) HOTSWAP_FH11_(T, HOTSWAP_FIELD_HASH_(T, h, f), __VA_ARGS__)
#define HOTSWAP_FH13_(T, h, f, ...) HOTSWAP_FH12_(T, HOTSWAP_FIELD_HASH_(T, h, f), __VA_ARGS__)
#define HOTSWAP_FH14_(T, h, f, ...) HOTSWAP_FH13_(T, HOTSWAP_FIELD_HASH_(T, h, f), __VA_ARGS__)
#define HOTSWAP_FH15_(T, h, f, ...) HOTSWAP_FH14_(T, HOTSWAP_FIELD_HASH_(T, h, f), __VA_ARGS__)
#define HOTSWAP_FH16_(T, h, f, ...) HOTSWAP_FH15_(T, HOTSWAP_FIELD_HASH_(T, h, f), __VA_ARGS__)

/* Layout hash of struct type T over the named fields (1 to 16 of them). */
#define HOTSWAP_LAYOUT_HASH(T, ...)                                                      \
  HOTSWAP_CAT_(HOTSWAP_FH, HOTSWAP_CAT_(HOTSWAP_NARG_(__VA_ARGS__), _))(                 \
      T, HOTSWAP_HASH_STEP_(HOTSWAP_HASH_STEP_(0xcbf29ce484222325ull, sizeof(T)),       \
                            _Alignof(T)),                                               \
      __VA_ARGS__)

/* Declare a live type at file scope: records its name, size, alignment, field list and
 * layout hash in the plugin's hotswap note, where the loader compares it with the running
 * version's before anything of the new build runs. Name is the type's spelling, which must
 * be a single identifier (use a typedef for `struct x`). List every field that matters.
 *
 *   typedef struct { int id; double amount; } live_order;
 *   HOTSWAP_LIVE_TYPE(live_order, id, amount);
 */
#if defined(__clang__)
/* clang's AddressSanitizer pads globals even in named sections, which would break the note
 * layout; gcc leaves them alone. */
#define HOTSWAP_NOTE_ATTR_ __attribute__((no_sanitize("address")))
#else
#define HOTSWAP_NOTE_ATTR_
#endif
#define HOTSWAP_LIVE_TYPE(T, ...)                                                        \
  __attribute__((used, section(HOTSWAP_NOTE_SECTION), aligned(4))) HOTSWAP_NOTE_ATTR_    \
  static const struct {                                                                  \
    uint32_t namesz, descsz, type;                                                       \
    char name[8];                                                                        \
    struct hotswap_live_type_desc desc;                                                  \
    char text[(sizeof(#T "\0" #__VA_ARGS__) + 3) & ~(size_t)3];                          \
  } hotswap_live_type_record_##T = {                                                     \
      8,                                                                                 \
      (uint32_t)(sizeof(struct hotswap_live_type_desc) +                                 \
                 ((sizeof(#T "\0" #__VA_ARGS__) + 3) & ~(size_t)3)),                     \
      HOTSWAP_NT_LIVE_TYPE,                                                              \
      HOTSWAP_NOTE_NAME,                                                                 \
      {(uint32_t)sizeof(T), (uint32_t)_Alignof(T),                                       \
       (uint32_t)HOTSWAP_LAYOUT_HASH(T, __VA_ARGS__),                                    \
       (uint32_t)(HOTSWAP_LAYOUT_HASH(T, __VA_ARGS__) >> 32)},                          \
      #T "\0" #__VA_ARGS__}

/* ---------------------------------------------------------------------------------------
 * Live table (owner: `hotswap build`, tools/cmd_build.c). `hotswap build` links into every
 * plugin a generated, read-only definition of
 *
 *   const struct hotswap_live_table hotswap_live_table;   (default visibility)
 *
 * listing the plugin's exported functions and variables whose names start with the live
 * prefix (case-insensitively), and its HOTSWAP_LIVE_TYPE records. Every array is sorted by
 * name (strcmp order) and no two names in funcs and vars together, nor two in types, are
 * equal case-insensitively. A plugin built by other means has no table; the loader finds it
 * with dlsym(handle, HOTSWAP_LIVE_TABLE_SYMBOL), and a static build renames it (see
 * hotswap_static.h). Thread-safe: never written after the plugin is loaded.
 */
#define HOTSWAP_LIVE_TABLE_SYMBOL "hotswap_live_table"
#define HOTSWAP_LIVE_TABLE_VERSION 1

struct hotswap_live_func {
  const char *name;
  void (*fn)(void); /* cast back to the function's real type before calling */
};

struct hotswap_live_var {
  const char *name;
  void *addr;    /* the variable itself (may be read-only) */
  uint64_t size; /* st_size of its symbol */
};

struct hotswap_live_type_entry {
  const char *name;     /* as written in HOTSWAP_LIVE_TYPE */
  uint32_t size;        /* sizeof(type) */
  uint32_t align;       /* _Alignof(type) */
  uint64_t fingerprint; /* the layout hash (hash_lo | hash_hi << 32) mixed with a hash of
                         * the field names, as elf/ computes it: a plugin cannot compute it
                         * itself, it reads it from its own live table */
};

struct hotswap_live_table {
  uint32_t version; /* HOTSWAP_LIVE_TABLE_VERSION */
  uint32_t n_funcs;
  uint32_t n_vars;
  uint32_t n_types;
  const struct hotswap_live_func *funcs; /* NULL when n_funcs is 0; same for the others */
  const struct hotswap_live_var *vars;
  const struct hotswap_live_type_entry *types;
  const char *prefix; /* the live prefix the plugin was built with, e.g. "live_" */
};
/* End of the live table section. */

/* ---------------------------------------------------------------------------------------
 * Host API, exported by libhotswap_preload.so. A host that must also run without the shim
 * declares these weak and checks for NULL.
 */

/* Stable trampoline address of plugin function `name`: calls through it reach the current
 * version, across every reload. NULL when no loaded plugin exports `name`. The address stays
 * valid for the life of the process. Thread-safe; not async-signal-safe. */
void *hotswap_fn(const char *name);

/* -- Invoke (the Go seed's Plugin.InvokeFunc / InvokeEach) --------------------------------
 * Each call reaches the CURRENT version's hotswap_invoke_func. The first call on a thread
 * after a reload looks it up in the registry (under the loader's short registry mutex,
 * released before the plugin runs); later calls on that thread reuse what it found, with
 * no lock, for as long as no reload or revert has committed. No lock is held while the
 * plugin runs. The meaning of `fn`, `arg` and `*ret` is up to the plugin. */

/* Call plugin `plugin`'s hotswap_invoke_func(fn, arg, ret). ret may be NULL (the plugin then
 * gets a pointer to a scratch slot). Returns what the plugin returned, or HOTSWAP_ENOPLUGIN
 * (no loaded plugin has that name), HOTSWAP_ENOTFOUND (it defines no hotswap_invoke_func),
 * -EINVAL (plugin or fn NULL). Thread-safe, lock-free after the first call per thread and
 * committed generation; may be called from plugin code (also from a hook during a reload:
 * it then reaches the version committed before that reload). */
int hotswap_invoke(const char *plugin, const char *fn, void *arg, void **ret);

#define HOTSWAP_INVOKE_ERRORS_MAX 16

/* What hotswap_invoke_each found, filled by the call (caller-owned, e.g. on the stack). */
struct hotswap_invoke_errors {
  unsigned called; /* plugins whose hotswap_invoke_func ran */
  unsigned failed; /* of which returned non-zero */
  unsigned n;      /* entries in error[]: the first HOTSWAP_INVOKE_ERRORS_MAX failures */
  struct {
    char plugin[128];
    int rc; /* what its hotswap_invoke_func returned */
  } error[HOTSWAP_INVOKE_ERRORS_MAX];
  /* "beta: 'greet' returned -22; gamma: 'greet' returned 5" in call order, truncated to fit;
   * "" when nothing failed. */
  char message[512];
};

/* Call hotswap_invoke_func(fn, arg, &ret) of every loaded plugin that defines it, in
 * dependency order (a plugin after the plugins it imports; independent ones by name); the
 * backward variant in the reverse order. A failing plugin does not stop the rest; every
 * result goes into *errors (may be NULL); ret values are discarded (as in the Go seed).
 * Returns 0 when every call returned 0 (also when none was made), HOTSWAP_EHOOK when one
 * or more failed, -ENOMEM. Thread-safe (same rules as hotswap_invoke); one walk uses the
 * versions current when it started, also when a plugin it calls reloads or calls back. */
int hotswap_invoke_each(const char *fn, void *arg, struct hotswap_invoke_errors *errors);
int hotswap_invoke_each_backward(const char *fn, void *arg,
                                 struct hotswap_invoke_errors *errors);

/* -- The vault (the Go seed's Vault) -----------------------------------------------------
 * A data bag, one per process: string key -> void * value with an optional destructor.
 * Unlike the Go seed, what is put in the bag survives reloads until someone removes it.
 * And an extension object: a host-defined struct, built by the host's constructor for each
 * reload that loads new versions and passed to their hotswap_on_init in the vault, which
 * the plugins fill (e.g. set function pointers) and the host reads with
 * hotswap_vault_extension(). */
typedef void (*hotswap_destroy_fn)(void *value);
/* Builds the next extension. prev is the current one (NULL the first time): copy from it
 * what plugins that are not reloaded this time set earlier (their on_init does not run). */
typedef void *(*hotswap_extension_newer_fn)(const void *prev);

#define HOTSWAP_VAULT_VERSION 1

/* What hotswap_on_init receives. A plugin version may keep the pointer and use it until its
 * hotswap_on_free returns (each vault it received, on_init may run more than once); then
 * the vault may be freed. The bag functions are also reachable through it, so a plugin
 * needs no link-time dependency on the shim. */
struct hotswap_vault {
  uint32_t version; /* HOTSWAP_VAULT_VERSION */
  void *extension;  /* this reload's extension (NULL when the host registered no constructor,
                     * and once that extension is destroyed: see below) */
  int (*put)(const char *key, void *value, hotswap_destroy_fn destroy);
  void *(*get)(const char *key);
  int (*remove)(const char *key);
  void *(*live_fn)(const char *name);
};

/* Put value under key (copied), replacing and destroying (destroy(old)) an earlier value.
 * destroy may be NULL; it runs outside any hotswap lock, on remove or replace only (never at
 * a reload), so it must stay callable: use host or libc code (e.g. free), not a function of
 * a plugin version that may later be unloaded. Returns 0, -EINVAL (key NULL or empty),
 * -ENOMEM. Thread-safe. */
int hotswap_vault_put(const char *key, void *value, hotswap_destroy_fn destroy);
/* The value under key, NULL when absent. Thread-safe; the value's lifetime is the business
 * of whoever removes it. */
void *hotswap_vault_get(const char *key);
/* Remove key and destroy its value. Returns 0, HOTSWAP_ENOKEY, -EINVAL. Thread-safe. */
int hotswap_vault_remove(const char *key);

/* Register the extension constructor (the Go seed's WithExtensionNewer) and its destructor
 * (may be NULL). Under the shim the first load happens before main(), so when plugins are
 * already loaded this builds an extension at once and calls hotswap_on_init(vault) of every
 * current version again, in dependency order (on_init must tolerate a second call). Later
 * reloads build one extension each, with newer(current); it becomes current when that
 * reload commits, and is destroyed when the reload fails or loads nothing. `hotswap revert`
 * makes the previous generation's extension current again with its code. An extension is
 * destroyed (destroy, once, with no hotswap lock held) once no generation that a revert
 * can still reach records it: two commits after it stopped being current at the earliest.
 * Its function pointers point into versions that retirement unloads: call
 * hotswap_vault_extension() for each use, never keep the pointer.
 * Returns 0, -EINVAL (newer NULL), -ENOMEM, -EDEADLK (called from a hook), -EAGAIN (reloads
 * kept committing while it was built), HOTSWAP_EHOOK (an on_init returned non-zero: the
 * reason, naming the plugin, in err (errlen bytes, may be 0); the new extension is
 * destroyed). Thread-safe; waits for a running reload. */
int hotswap_vault_set_extension_newer(hotswap_extension_newer_fn newer,
                                      hotswap_destroy_fn destroy, char *err, size_t errlen);
/* The current extension, NULL before any. Thread-safe, lock-free (one acquire load). */
void *hotswap_vault_extension(void);

/* -- Live functions, types and data ------------------------------------------------------
 * Read from the live tables (above) of the CURRENT versions, searched in plugin-name order;
 * names are compared case-insensitively, like the build tool's live prefix. Thread-safe
 * (registry mutex for the lookup only); not async-signal-safe. */

/* The current version's live function `name` (cast it back to its real type), NULL when no
 * loaded plugin has it. The address is that version's, not a trampoline: call it now, or
 * keep the NAME and look it up again when the job runs, so that a job queued under v1 and
 * run after a reload runs v2's code. What the caller may rely on: the answer is the
 * version current at the time of the call (never a replaced or unloaded one), and that
 * version stays loaded at least HOTSWAP_GRACE_MS after a later reload replaces it, and
 * while a thread runs inside it. Do not keep the address across requests. Thread-safe;
 * after the first call per thread, name and committed generation it takes no lock (a
 * per-thread cache, emptied by every reload or revert), so calling it per request is
 * cheap (tens of ns). */
void *hotswap_live_fn(const char *name);

/* A live type of the current versions. Constructor convention: a live function named
 * "<type>_new" with signature `void *(void)` returning an object freeable with free(). */
struct hotswap_live_type_info {
  uint32_t size;
  uint32_t align;
  uint64_t fingerprint;  /* of the current version (see hotswap_live_type_entry) */
  void *(*new_)(void);   /* "<type>_new", NULL when the plugin defines none */
  char plugin[128];      /* the plugin that defines it */
};
/* Returns 0, HOTSWAP_ENOTFOUND (no current version has live type `name`), -EINVAL. */
int hotswap_live_type(const char *name, struct hotswap_live_type_info *out);
/* A new object of the current version's live type: "<type>_new"() when defined, else
 * calloc(1, size). NULL when the type is unknown or out of memory. Free with free(). */
void *hotswap_live_new(const char *type);

/* A value tagged with its live type's name and layout (what a v1 job carries to v2). */
#define HOTSWAP_LIVE_NAME_MAX 128
struct hotswap_live_data {
  char type[HOTSWAP_LIVE_NAME_MAX];
  uint64_t fingerprint; /* layout of the version that wrapped it */
  uint32_t size;
  void *value;          /* the caller's object; hotswap never frees it */
};
/* Tag `value` with the current version's layout of live type `type`. Returns 0,
 * HOTSWAP_ENOTFOUND, -ENAMETOOLONG, -EINVAL. */
int hotswap_live_data_wrap(const char *type, void *value, struct hotswap_live_data *out);

/* Upgrade convention: a live function named "<type>_upgrade" of type hotswap_live_upgrade_fn
 * in the version whose layout differs builds a new object from an old one; returns 0 and
 * the object (freeable with free()) in *out, or non-zero. It must not free `old`. The
 * elf/ check accepts a changed live-type layout only in a build that defines it. */
typedef int (*hotswap_live_upgrade_fn)(const void *old, uint64_t old_fingerprint,
                                       uint32_t old_size, void **out);

/* Restore d into the current version: *out = d->value when the layout is the same; else
 * the current version's "<type>_upgrade" makes a new object (*out != d->value; d->value
 * stays the caller's to free). Never drops the data: on error d is untouched. Returns 0,
 * or with a reason in err (errlen bytes; may be NULL/0):
 *   HOTSWAP_ENOTFOUND  "live type 'live_order' is not defined by any loaded plugin"
 *   HOTSWAP_ELIVETYPE  "live data of type 'live_order' has layout 0x..., 8 bytes; plugin
 *                      'jobs' (version 1a2b3c4) has layout 0x..., 16 bytes and no live
 *                      function 'live_order_upgrade'"
 *   HOTSWAP_EHOOK      "plugin 'jobs': live_order_upgrade returned -1"
 *   -EINVAL. Thread-safe; the upgrade runs with no hotswap lock held. */
int hotswap_live_data_restore(const struct hotswap_live_data *d, void **out, char *err,
                              size_t errlen);

#ifdef __cplusplus
}
#endif

#endif /* HOTSWAP_H */
