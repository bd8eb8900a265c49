/* SPDX-License-Identifier: BSD-3-Clause */
/* api.c - the host and plugin API of hotswap.h that the shim exports (invoke, the vault,
 * live functions/types/data): thin wrappers over loader/api.h, so that a host reaches the
 * loader the shim runs. hotswap_fn is in preload.c. */
#include "loader/api.h"
#include "preload/preload.h"

/* Turn on the loader's per-thread lookup cache (live_fn, invoke, invoke_each). Its reclaim
 * epoch is the stack check's quiet mark: the reloader frees superseded generations only
 * with ldr_retire_reclaim_gens(pre_stacks_quiet_mark(), ...), the mark only grows and
 * never passes the committed generation's number (the rule in loader/api.h). Only stores
 * a pointer, so it may run before or after the shim's own constructor; a call made before
 * it simply reads the registry. */
__attribute__((constructor)) static void api_cache_on(void) {
  ldr_api_cache_enable(pre_stacks_quiet_mark);
}

PRE_API int hotswap_invoke(const char *plugin, const char *fn, void *arg, void **ret) {
  return ldr_invoke(plugin, fn, arg, ret);
}

PRE_API int hotswap_invoke_each(const char *fn, void *arg,
                                struct hotswap_invoke_errors *errors) {
  return ldr_invoke_each(fn, arg, false, errors);
}

PRE_API int hotswap_invoke_each_backward(const char *fn, void *arg,
                                         struct hotswap_invoke_errors *errors) {
  return ldr_invoke_each(fn, arg, true, errors);
}

PRE_API int hotswap_vault_put(const char *key, void *value, hotswap_destroy_fn destroy) {
  return ldr_vault_put(key, value, destroy);
}

PRE_API void *hotswap_vault_get(const char *key) { return ldr_vault_get(key); }

PRE_API int hotswap_vault_remove(const char *key) { return ldr_vault_remove(key); }

PRE_API int hotswap_vault_set_extension_newer(hotswap_extension_newer_fn newer,
                                              hotswap_destroy_fn destroy, char *err,
                                              size_t errlen) {
  return ldr_vault_set_extension_newer(newer, destroy, err, errlen);
}

PRE_API void *hotswap_vault_extension(void) { return ldr_vault_extension(); }

PRE_API void *hotswap_live_fn(const char *name) { return ldr_live_fn(name); }

PRE_API int hotswap_live_type(const char *name, struct hotswap_live_type_info *out) {
  return ldr_live_type(name, out);
}

PRE_API void *hotswap_live_new(const char *type) { return ldr_live_new(type); }

PRE_API int hotswap_live_data_wrap(const char *type, void *value,
                                   struct hotswap_live_data *out) {
  return ldr_live_data_wrap(type, value, out);
}

PRE_API int hotswap_live_data_restore(const struct hotswap_live_data *d, void **out,
                                      char *err, size_t errlen) {
  return ldr_live_data_restore(d, out, err, errlen);
}
