/* SPDX-License-Identifier: BSD-3-Clause */
/* static_host.c - the host side of statically linked plugins (build/libhotswap_static.a):
 * finds the records `hotswap build --static-linking` put in the section "hotswap_static"
 * and runs the plugin lifecycle over them in dependency order, once, without reloads.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "hotswap_static.h"

/* Defined by the linker when at least one record is linked in; weak so that a host with no
 * static plugin still links. */
extern const struct hotswap_static_plugin __start_hotswap_static[] __attribute__((weak));
extern const struct hotswap_static_plugin __stop_hotswap_static[] __attribute__((weak));

static const struct hotswap_static_plugin **order; /* registry, then dependency, order */
static void **exports;                              /* export of order[i] */
static size_t count;
static bool started;

static int fail(char *err, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *err, int code, const char *fmt, ...) {
  if (err != NULL) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, HOTSWAP_STATIC_ERR_MAX, fmt, ap);
    va_end(ap);
  }
  return code;
}

static int cmp_name(const void *a, const void *b) {
  return strcmp((*(const struct hotswap_static_plugin *const *)a)->name,
                (*(const struct hotswap_static_plugin *const *)b)->name);
}

/* Collect the records, sorted by name. Returns 0, HOTSWAP_EABI, HOTSWAP_EDUPNAME, -ENOMEM. */
static int load_registry(char *err) {
  if (order != NULL)
    return 0;
  size_t n = __start_hotswap_static == NULL
                 ? 0
                 : (size_t)(__stop_hotswap_static - __start_hotswap_static);
  order = calloc(n + 1, sizeof(*order));
  exports = calloc(n + 1, sizeof(*exports));
  if (order == NULL || exports == NULL)
    return fail(err, -ENOMEM, "out of memory");
  for (size_t i = 0; i < n; i++) {
    const struct hotswap_static_plugin *p = &__start_hotswap_static[i];
    if (p->abi != HOTSWAP_ABI_VERSION || p->size != sizeof(*p))
      return fail(err, HOTSWAP_EABI, "static plugin record %zu was written for hotswap ABI "
                  "%u (this host has %d)", i, p->abi, HOTSWAP_ABI_VERSION);
    order[i] = p;
  }
  count = n;
  qsort(order, n, sizeof(*order), cmp_name);
  for (size_t i = 1; i < n; i++)
    if (strcmp(order[i - 1]->name, order[i]->name) == 0)
      return fail(err, HOTSWAP_EDUPNAME, "two static plugins are named '%s'", order[i]->name);
  return 0;
}

static size_t index_of(const char *name) {
  for (size_t i = 0; i < count; i++)
    if (strcmp(order[i]->name, name) == 0)
      return i;
  return count;
}

/* Depth-first visit for the topological sort: what p imports goes first. */
static int visit(size_t i, const struct hotswap_import **imps, unsigned char *mark,
                 const struct hotswap_static_plugin **out, size_t *n, char *err) {
  if (mark[i] == 2)
    return 0;
  if (mark[i] == 1)
    return fail(err, HOTSWAP_ECYCLE, "static plugin '%s' is part of an import cycle",
                order[i]->name);
  mark[i] = 1;
  for (const struct hotswap_import *im = imps[i]; im != NULL && im->plugin != NULL; im++) {
    size_t j = index_of(im->plugin);
    if (j == count)
      return fail(err, HOTSWAP_ENOPLUGIN, "static plugin '%s' imports '%s', which is not "
                  "linked in", order[i]->name, im->plugin);
    int rc = visit(j, imps, mark, out, n, err);
    if (rc != 0)
      return rc;
  }
  mark[i] = 2;
  out[(*n)++] = order[i];
  return 0;
}

/* reloadable, export and import of every plugin, then sort and fill the import slots. */
static int resolve(char *err) {
  const struct hotswap_import **imps = calloc(count + 1, sizeof(*imps));
  unsigned char *mark = calloc(count + 1, 1);
  const struct hotswap_static_plugin **sorted = calloc(count + 1, sizeof(*sorted));
  void **sorted_exports = calloc(count + 1, sizeof(*sorted_exports));
  int rc = imps && mark && sorted && sorted_exports ? 0 : fail(err, -ENOMEM, "out of memory");
  for (size_t i = 0; i < count && rc == 0; i++) {
    if (order[i]->reloadable != NULL)
      (void)order[i]->reloadable(); /* asked, as the shim does; reloads are off anyway */
    exports[i] = order[i]->export_fn != NULL ? order[i]->export_fn() : NULL;
    imps[i] = order[i]->import_fn != NULL ? order[i]->import_fn() : NULL;
  }
  size_t n = 0;
  for (size_t i = 0; i < count && rc == 0; i++)
    rc = visit(i, imps, mark, sorted, &n, err);
  for (size_t i = 0; i < count && rc == 0; i++)
    for (const struct hotswap_import *im = imps[i]; im != NULL && im->plugin != NULL; im++)
      if (im->slot != NULL)
        *im->slot = exports[index_of(im->plugin)];
  for (size_t i = 0; i < count && rc == 0; i++)
    sorted_exports[i] = exports[index_of(sorted[i]->name)];
  if (rc == 0) {
    memcpy(order, sorted, count * sizeof(*order));
    memcpy(exports, sorted_exports, count * sizeof(*exports));
  }
  free(imps);
  free(mark);
  free(sorted);
  free(sorted_exports);
  return rc;
}

static void free_all(void) {
  for (size_t i = count; i-- > 0;)
    if (order[i]->on_free != NULL)
      order[i]->on_free();
}

int hotswap_static_start(void *data, struct hotswap_vault *vault, char *err) {
  if (started)
    return fail(err, -EALREADY, "the static plugins are already started");
  int rc = load_registry(err);
  if (rc != 0) {
    free(order); /* so that a later call looks again */
    free(exports);
    order = NULL;
    exports = NULL;
    count = 0;
    return rc;
  }
  rc = resolve(err);
  for (size_t i = 0; i < count && rc == 0; i++)
    if (order[i]->on_load != NULL && (rc = order[i]->on_load(data)) != 0)
      rc = fail(err, HOTSWAP_EHOOK, "static plugin '%s': hotswap_on_load returned %d",
                order[i]->name, rc);
  for (size_t i = 0; i < count && rc == 0; i++)
    if (order[i]->on_init != NULL && (rc = order[i]->on_init(vault)) != 0)
      rc = fail(err, HOTSWAP_EHOOK, "static plugin '%s': hotswap_on_init returned %d",
                order[i]->name, rc);
  if (rc != 0) {
    free_all();
    return rc;
  }
  started = true;
  return 0;
}

void hotswap_static_stop(void) {
  if (!started)
    return;
  free_all();
  started = false;
}

size_t hotswap_static_count(void) {
  if (load_registry(NULL) != 0)
    return 0;
  return count;
}

const struct hotswap_static_plugin *hotswap_static_at(size_t i) {
  return i < hotswap_static_count() ? order[i] : NULL;
}

const struct hotswap_static_plugin *hotswap_static_find(const char *name) {
  size_t i = hotswap_static_count() > 0 ? index_of(name) : 0;
  return i < count ? order[i] : NULL;
}

int hotswap_static_invoke(const char *plugin, const char *fn, void *arg, void **ret) {
  const struct hotswap_static_plugin *p = hotswap_static_find(plugin);
  if (p == NULL)
    return HOTSWAP_ENOPLUGIN;
  if (p->invoke_func == NULL)
    return HOTSWAP_ENOTFOUND;
  return p->invoke_func(fn, arg, ret);
}

int hotswap_static_invoke_each(const char *fn, void *arg) {
  for (size_t i = 0; i < hotswap_static_count(); i++) {
    if (order[i]->invoke_func == NULL)
      continue;
    int rc = order[i]->invoke_func(fn, arg, NULL);
    if (rc != 0)
      return rc;
  }
  return 0;
}

void (*hotswap_static_live_func(const char *plugin, const char *name))(void) {
  const struct hotswap_static_plugin *p = hotswap_static_find(plugin);
  if (p == NULL || p->live == NULL)
    return NULL;
  for (uint32_t i = 0; i < p->live->n_funcs; i++)
    if (strcasecmp(p->live->funcs[i].name, name) == 0)
      return p->live->funcs[i].fn;
  return NULL;
}
