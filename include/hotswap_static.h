/* SPDX-License-Identifier: BSD-3-Clause */
/* hotswap_static.h - plugins linked statically into a host, for debugging under gdb,
 * valgrind or sanitizers: the same lifecycle as the shim runs, without reloads.
 *
 * `hotswap build --static-linking DIR OUT` writes OUT/lib<name>.a. Its one object holds the
 * plugin's code with its hooks renamed to <id>__hotswap_on_load etc. (<id> is the plugin
 * name with every character outside [A-Za-z0-9_] replaced by '_'), so that several plugins
 * link into one host without clashing, plus one struct hotswap_static_plugin record named
 * hotswap_static_plugin_<id> in the section "hotswap_static". The host links the archives
 * and build/libhotswap_static.a (tools/static/static_host.c) and calls
 * hotswap_static_start(). A linker pulls an archive member only when something refers to
 * it: either link with -Wl,--whole-archive, or write HOTSWAP_STATIC_REQUIRE(<id>) once at
 * file scope in the host.
 */
#ifndef HOTSWAP_STATIC_H
#define HOTSWAP_STATIC_H

#include <stddef.h>
#include <stdint.h>

#include "hotswap.h"

#ifdef __cplusplus
extern "C" {
#endif

#define HOTSWAP_STATIC_SECTION "hotswap_static"

/* One statically linked plugin. Every hook is NULL when the plugin does not define it. */
struct hotswap_static_plugin {
  uint32_t abi;  /* HOTSWAP_ABI_VERSION of the build tool */
  uint32_t size; /* sizeof(struct hotswap_static_plugin) when written */
  const char *name;
  const char *commit; /* as in the version note: 40 hex digits or "unversioned" */
  int dirty;
  bool (*reloadable)(void);
  void *(*export_fn)(void);
  const struct hotswap_import *(*import_fn)(void);
  int (*on_load)(void *data);
  int (*on_init)(struct hotswap_vault *vault);
  void (*on_free)(void);
  int (*invoke_func)(const char *fn, void *arg, void **ret);
  const struct hotswap_live_table *live; /* NULL when the plugin has no live table */
};

/* Make the linker pull plugin <id>'s member out of its archive. File scope, once per host. */
#define HOTSWAP_STATIC_REQUIRE(id)                                                       \
  extern const struct hotswap_static_plugin hotswap_static_plugin_##id;                \
  __attribute__((used)) static const struct hotswap_static_plugin                       \
      *const hotswap_static_require_##id = &hotswap_static_plugin_##id

/* Room for a reason, e.g. "plugin 'alpha' imports 'gamma', which is not linked in". */
#define HOTSWAP_STATIC_ERR_MAX 256

/* Run the lifecycle over every linked plugin: for each, by name, hotswap_reloadable (its
 * answer is ignored: reloads are disabled), hotswap_export, hotswap_import; then fill every
 * import slot with the named plugin's export; then hotswap_on_load(data) for each plugin in
 * dependency order (what a plugin imports comes first, ties by name), then
 * hotswap_on_init(vault) in the same order. On a failure calls hotswap_on_free of every
 * plugin in reverse order, returns a negative code and writes a reason into err
 * (HOTSWAP_STATIC_ERR_MAX bytes, may be NULL): HOTSWAP_EDUPNAME, HOTSWAP_ENOPLUGIN (import
 * of a plugin not linked in), HOTSWAP_ECYCLE, HOTSWAP_EHOOK (on_load/on_init returned
 * non-zero), HOTSWAP_EABI (record written by another ABI version), -EALREADY, -ENOMEM.
 * Not thread-safe: call once, from one thread, before using the plugins. */
int hotswap_static_start(void *data, struct hotswap_vault *vault, char *err);

/* Call hotswap_on_free of every plugin, in reverse dependency order, once. */
void hotswap_static_stop(void);

/* Number of linked plugins and the i-th one in dependency order (registry order before
 * hotswap_static_start succeeded). NULL past the end. */
size_t hotswap_static_count(void);
const struct hotswap_static_plugin *hotswap_static_at(size_t i);
/* The plugin named `name`, NULL when not linked in. */
const struct hotswap_static_plugin *hotswap_static_find(const char *name);

/* Call plugin's hotswap_invoke_func(fn, arg, ret). Returns its result, HOTSWAP_ENOPLUGIN
 * when no such plugin is linked, HOTSWAP_ENOTFOUND when it has no hotswap_invoke_func.
 * Thread-safe after hotswap_static_start, as far as the plugin's code is. */
int hotswap_static_invoke(const char *plugin, const char *fn, void *arg, void **ret);

/* Call hotswap_invoke_func(fn, arg, NULL) of every plugin that has one, in dependency order;
 * stops at the first non-zero result and returns it. 0 when all returned 0. */
int hotswap_static_invoke_each(const char *fn, void *arg);

/* A live function of a plugin by name (case-insensitive), NULL when absent. */
void (*hotswap_static_live_func(const char *plugin, const char *name))(void);

#ifdef __cplusplus
}
#endif

#endif /* HOTSWAP_STATIC_H */
