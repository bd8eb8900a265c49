/* SPDX-License-Identifier: BSD-3-Clause */
/* registry.c - the loader's record of every plugin and of each of its loaded versions (what
 * the status call reports and what the later retirement step needs). Callers follow the
 * rule in lifecycle_int.h (writes by the reload token holder under the registry mutex);
 * nothing here calls plugin code or takes a lock itself.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loader/lifecycle_int.h"
#include "loader/tramp.h"

/* Sorted by name. Plugins are never removed in this version of the loader. */
static struct ldr_plugin **plugins;
static size_t n_plugins, cap_plugins;

/* Index of the first plugin whose name is >= name. */
static size_t lower_bound(const char *name) {
  size_t lo = 0, hi = n_plugins;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (strcmp(plugins[mid]->name, name) < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

struct ldr_plugin *ldr_registry_find(const char *name) {
  size_t i = lower_bound(name);
  return i < n_plugins && strcmp(plugins[i]->name, name) == 0 ? plugins[i] : NULL;
}

int ldr_registry_reserve(size_t n) {
  if (n_plugins + n <= cap_plugins)
    return 0;
  size_t cap = cap_plugins ? cap_plugins : 8;
  while (cap < n_plugins + n)
    cap *= 2;
  struct ldr_plugin **np = realloc(plugins, cap * sizeof(*np));
  if (np == NULL)
    return -ENOMEM;
  plugins = np;
  cap_plugins = cap;
  return 0;
}

int ldr_registry_add(struct ldr_plugin *p) {
  if (ldr_registry_reserve(1) != 0)
    return -ENOMEM;
  size_t i = lower_bound(p->name);
  memmove(&plugins[i + 1], &plugins[i], (n_plugins - i) * sizeof(*plugins));
  plugins[i] = p;
  n_plugins++;
  return 0;
}

size_t ldr_registry_count(void) { return n_plugins; }

struct ldr_plugin *ldr_registry_at(size_t i) { return i < n_plugins ? plugins[i] : NULL; }

int ldr_version_reserve_gen(struct ldr_version *v) {
  if (v->n_gens < v->cap_gens)
    return 0;
  size_t cap = v->cap_gens ? v->cap_gens * 2 : 4;
  uint64_t *g = realloc(v->gens, cap * sizeof(*g));
  if (g == NULL)
    return -ENOMEM;
  v->gens = g;
  v->cap_gens = cap;
  return 0;
}

void ldr_version_free(struct ldr_version *v) {
  if (v == NULL)
    return;
  ldr_crashmap_remove(v);
  ldr_state_free(v);
  ldr_snapshot_release(&v->snap);
  for (size_t i = 0; i < v->n_imports; i++)
    free(v->imports[i]);
  free(v->imports);
  ldr_free_cleared(v->text);
  ldr_free_cleared(v->targets);
  ldr_free_cleared(v->code);
  free(v->gens);
  ldr_free_cleared(v);
}

int ldr_registry_status(struct ldr_plugin_status **out, size_t *n) {
  *out = NULL;
  *n = 0;
  if (n_plugins == 0)
    return 0;
  struct ldr_plugin_status *st = calloc(n_plugins, sizeof(*st));
  if (st == NULL)
    return -ENOMEM;
  for (size_t i = 0; i < n_plugins; i++) {
    const struct ldr_plugin *p = plugins[i];
    snprintf(st[i].name, sizeof(st[i].name), "%s", p->name);
    snprintf(st[i].path, sizeof(st[i].path), "%s", p->path);
    snprintf(st[i].version, sizeof(st[i].version), "%s", p->current->version);
    st[i].reloadable = p->current->reloadable;
    st[i].routed = p->current->routed;
    st[i].loads = p->loads;
    st[i].versions_loaded = p->n_versions;
    st[i].last_action = p->last_action;
    st[i].adopted = p->current->adopted;
    ldr_retire_status(p, &st[i]);
  }
  *out = st;
  *n = n_plugins;
  return 0;
}
