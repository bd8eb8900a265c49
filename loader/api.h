/* SPDX-License-Identifier: BSD-3-Clause */
/* api.h - the loader's side of the host and plugin API of hotswap.h (invoke, the vault,
 * live functions/types/data), prefix ldr_. The shim (preload/api.c) exports these under
 * their hotswap_* names; tests call them directly. Lookups read the registry's CURRENT
 * versions under the registry mutex and release it before any plugin code runs;
 * ldr_live_fn, ldr_invoke and ldr_invoke_each cache what they found (see below).
 */
#ifndef HOTSWAP_LOADER_API_H
#define HOTSWAP_LOADER_API_H

#include <stddef.h>
#include <stdint.h>

#include "hotswap.h"
#include "loader/loader.h"

/* ---- the lookup cache (api.c) -----------------------------------------------------------
 * ldr_live_fn, ldr_invoke and ldr_invoke_each remember, per thread, what they resolved
 * (name -> function; invoke_each's ordered list), tagged with the committed generation
 * they read it from. A later call on that thread answers from the cache, lock-free (two
 * acquire loads, a hash and a string compare), while the committed generation is the
 * same; a commit (reload, revert) makes every thread's entries stale at once. So a cached
 * answer is exactly what the registry would answer at that instant: an address of a
 * version that is current then, never one of a replaced or retired version.
 *
 * The generation is recognised by its pointer, which is never dereferenced outside the
 * registry mutex (a superseded generation may be freed by ldr_gen_reclaim at any time).
 * A freed generation's address can be reused by a later one; the reclaim epoch tells the
 * two apart. The rule for reclaim_epoch(): it never decreases, it never exceeds the
 * number of the committed generation, and every ldr_retire_reclaim_gens(before, ...)
 * call is made with before <= reclaim_epoch() at that time (raised before the call, in
 * a way that happens-before it). The shim passes pre_stacks_quiet_mark, whose value the
 * reloader passes as `before`. It must be lock-free and call nothing of the loader.
 *
 * Off (NULL, the default): every call reads the registry, as before the cache existed.
 * Call at start-up (changing it later is allowed: entries of another source are not used).
 * Thread-safe. */
typedef uint64_t (*ldr_api_epoch_fn)(void);
void ldr_api_cache_enable(ldr_api_epoch_fn reclaim_epoch);

/* ---- invoke (api.c); contracts as hotswap_invoke / hotswap_invoke_each in hotswap.h ---- */
int ldr_invoke(const char *plugin, const char *fn, void *arg, void **ret);
/* backward: false = dependency order, true = the reverse. */
int ldr_invoke_each(const char *fn, void *arg, bool backward,
                    struct hotswap_invoke_errors *errors);

/* ---- live functions, types, data (api.c); as hotswap_live_* ---------------------------- */
void *ldr_live_fn(const char *name);
int ldr_live_type(const char *name, struct hotswap_live_type_info *out);
void *ldr_live_new(const char *type);
int ldr_live_data_wrap(const char *type, void *value, struct hotswap_live_data *out);
int ldr_live_data_restore(const struct hotswap_live_data *d, void **out, char *err,
                          size_t errlen);

/* Call hotswap_on_init(vault) of every current version, in dependency order, holding the
 * reload token (no reload runs meanwhile). Returns 0, -EDEADLK (called from a hook), -ENOMEM,
 * or HOTSWAP_EHOOK with "<plugin>: on_init: hotswap_on_init returned N" in err (errlen).
 * Stops at the first failure. */
int ldr_rerun_on_init(struct hotswap_vault *vault, char *err, size_t errlen);

/* ---- the vault (vault.c); as hotswap_vault_* -------------------------------------------- */
int ldr_vault_put(const char *key, void *value, hotswap_destroy_fn destroy);
void *ldr_vault_get(const char *key);
int ldr_vault_remove(const char *key);
int ldr_vault_set_extension_newer(hotswap_extension_newer_fn newer, hotswap_destroy_fn destroy,
                                  char *err, size_t errlen);
void *ldr_vault_extension(void);

/* The vault for the next reload: a fresh struct hotswap_vault whose extension is
 * newer(current extension) when a constructor is registered; without one, the current
 * vault again (a vault lives as long as the versions that received it: one per reload
 * would cost memory for nothing). Pass it as ldr_reload_opts.vault, then give it to
 * ldr_vault_finish with the reload's report. The commit records it in the new generation
 * and makes its extension current (unless the constructor was changed meanwhile); a revert
 * makes the extension its generation recorded current again; an extension that no
 * generation a revert can reach records is destroyed once (loader/lifecycle_int.h,
 * ldr_vault_collect), and the vault freed once no version that received it is loaded.
 * Returns NULL when out of memory (reload without a vault then). Thread-safe. */
struct hotswap_vault *ldr_vault_stage(void);
/* After the reload: a vault the reload did not commit has its extension destroyed and is
 * freed (once no loaded version that received it is left); a committed one stays (committed true for a vault no ldr_reload recorded: kept and made
 * current as a commit would). Then destroys the extensions no longer reachable. v may be
 * NULL. Thread-safe; runs the host's destroy function with no lock held. */
void ldr_vault_finish(struct hotswap_vault *v, bool committed);

#endif /* HOTSWAP_LOADER_API_H */
