/* api.c - invoke, invoke_each and live functions/types/data for the host API (hotswap.h):
 * each call copies what it needs of the CURRENT versions (name, version, handle, hooks)
 * under the registry mutex, then resolves symbols and runs plugin code with no lock held.
 * See api.h; the vault is in vault.c.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "loader/api.h"
#include "loader/lifecycle_int.h"

typedef int (*ldr_on_invoke_fn)(const char *fn, void *arg, void **ret);

/* What a call needs of one current version, copied under the registry mutex. The handle
 * stays valid while the version is loaded: retirement (retire.c) unloads a replaced version
 * only after its grace period, far longer than the gap between the copy and its use. */
struct cur {
  char name[LDR_NAME_MAX];
  char version[LDR_VERSION_MAX];
  void *handle;
  unsigned hooks;                        /* ELF_HOOK_* bits */
  const struct hotswap_live_table *live; /* resolved by with_tables(), NULL when none */
};

/* Index in c[0..n) of the plugin called name, n when absent. */
static size_t cur_index(const struct cur *c, size_t n, const char *name) {
  size_t i = 0;
  while (i < n && strcmp(c[i].name, name) != 0)
    i++;
  return i;
}

/* Put c[0..n) in dependency order (every plugin after those it imports). Called with the
 * registry mutex held, c in registry (name) order. Returns 0 or -ENOMEM. */
static int order_current(struct cur *c, size_t n) {
  const char **names = calloc(n, sizeof(*names));
  size_t **deps = calloc(n, sizeof(*deps));
  size_t *n_deps = calloc(n, sizeof(*n_deps));
  size_t *order = calloc(n, sizeof(*order));
  struct cur *sorted = calloc(n, sizeof(*sorted));
  int rc = names && deps && n_deps && order && sorted ? 0 : -ENOMEM;
  for (size_t i = 0; rc == 0 && i < n; i++) {
    const struct ldr_version *v = ldr_registry_at(i)->current;
    names[i] = c[i].name;
    deps[i] = v->n_imports ? calloc(v->n_imports, sizeof(size_t)) : NULL;
    if (v->n_imports && deps[i] == NULL)
      rc = -ENOMEM;
    for (size_t k = 0; rc == 0 && k < v->n_imports; k++) {
      size_t j = cur_index(c, n, v->imports[k]);
      if (j < n)
        deps[i][n_deps[i]++] = j;
    }
  }
  struct ldr_graph g = {.n = n, .names = names, .deps = deps, .n_deps = n_deps};
  char why[LDR_ERR_MAX];
  size_t culprit;
  if (rc == 0 && ldr_deps_order(&g, order, &culprit, why) != 0)
    rc = -ENOMEM; /* a committed set has no cycle: only an allocation can fail */
  for (size_t i = 0; rc == 0 && i < n; i++)
    sorted[i] = c[order[i]];
  if (rc == 0)
    memcpy(c, sorted, n * sizeof(*c));
  for (size_t i = 0; deps != NULL && i < n; i++)
    free(deps[i]);
  free(names), free(deps), free(n_deps), free(order), free(sorted);
  return rc;
}

/* Copy every current version (by name, or in dependency order when `ordered`) into *out
 * (caller frees). Returns 0 or -ENOMEM; *n may be 0. Takes the registry mutex. */
static int snapshot_current(struct cur **out, size_t *n, bool ordered) {
  ldr_reg_lock();
  size_t cnt = ldr_registry_count();
  struct cur *c = calloc(cnt + 1, sizeof(*c));
  int rc = c != NULL ? 0 : -ENOMEM;
  for (size_t i = 0; rc == 0 && i < cnt; i++) {
    const struct ldr_plugin *p = ldr_registry_at(i);
    snprintf(c[i].name, sizeof(c[i].name), "%s", p->name);
    snprintf(c[i].version, sizeof(c[i].version), "%s", p->current->version);
    c[i].handle = p->current->handle;
    c[i].hooks = p->current->snap.info != NULL ? p->current->snap.info->hooks : 0;
  }
  if (rc == 0 && ordered && cnt > 1)
    rc = order_current(c, cnt);
  ldr_reg_unlock();
  if (rc != 0) {
    free(c);
    return rc;
  }
  *out = c;
  *n = cnt;
  return 0;
}

/* A hook of a current version, NULL when elf/ did not see the plugin define it. dlsym runs
 * with no loader lock held (it takes ld.so's lock, which a constructor may hold). */
static void *hook_of(const struct cur *c, unsigned bit, const char *sym) {
  return (c->hooks & bit) ? dlsym(c->handle, sym) : NULL;
}

int ldr_invoke(const char *plugin, const char *fn, void *arg, void **ret) {
  if (plugin == NULL || fn == NULL)
    return -EINVAL;
  struct cur *c;
  size_t n;
  int rc = snapshot_current(&c, &n, false);
  if (rc != 0)
    return rc;
  size_t i = cur_index(c, n, plugin);
  ldr_on_invoke_fn f = i < n ? (ldr_on_invoke_fn)hook_of(&c[i], ELF_HOOK_INVOKE_FUNC,
                                                       "hotswap_invoke_func")
                             : NULL;
  rc = i == n ? HOTSWAP_ENOPLUGIN : f == NULL ? HOTSWAP_ENOTFOUND : 0;
  free(c);
  void *scratch = NULL;
  return rc != 0 ? rc : f(fn, arg, ret != NULL ? ret : &scratch); /* no lock held */
}

/* Record one failure of invoke_each. */
static void note_failure(struct hotswap_invoke_errors *e, const char *plugin, const char *fn,
                         int rc) {
  e->failed++;
  if (e->n < HOTSWAP_INVOKE_ERRORS_MAX) {
    snprintf(e->error[e->n].plugin, sizeof(e->error[e->n].plugin), "%s", plugin);
    e->error[e->n++].rc = rc;
  }
  size_t len = strlen(e->message);
  if (len + 1 < sizeof(e->message))
    snprintf(e->message + len, sizeof(e->message) - len, "%s%s: '%s' returned %d",
             len ? "; " : "", plugin, fn, rc);
}

int ldr_invoke_each(const char *fn, void *arg, bool backward,
                    struct hotswap_invoke_errors *errors) {
  struct hotswap_invoke_errors local;
  struct hotswap_invoke_errors *e = errors != NULL ? errors : &local;
  memset(e, 0, sizeof(*e));
  if (fn == NULL)
    return -EINVAL;
  struct cur *c;
  size_t n;
  int rc = snapshot_current(&c, &n, true);
  if (rc != 0)
    return rc;
  for (size_t k = 0; k < n; k++) {
    const struct cur *p = &c[backward ? n - 1 - k : k];
    ldr_on_invoke_fn f =
        (ldr_on_invoke_fn)hook_of(p, ELF_HOOK_INVOKE_FUNC, "hotswap_invoke_func");
    if (f == NULL)
      continue;
    void *ret = NULL;
    e->called++;
    int r = f(fn, arg, &ret); /* plugin code: no lock held */
    if (r != 0)
      note_failure(e, p->name, fn, r);
  }
  free(c);
  return e->failed ? HOTSWAP_EHOOK : 0;
}

/* Write a reason into err (errlen bytes, may be 0) and return rc. */
__attribute__((format(printf, 4, 5))) static int why(char *err, size_t errlen, int rc,
                                                     const char *fmt, ...) {
  if (err != NULL && errlen > 0) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
  }
  return rc;
}

/* Context of ldr_rerun_on_init, run with the reload token held. */
struct rerun {
  struct hotswap_vault *vault;
  char *err;
  size_t errlen;
};

static int rerun_locked(struct rerun *r) {
  struct cur *c;
  size_t n;
  int rc = snapshot_current(&c, &n, true);
  if (rc != 0)
    return why(r->err, r->errlen, rc, "out of memory");
  for (size_t i = 0; rc == 0 && i < n; i++) {
    ldr_on_init_fn f = (ldr_on_init_fn)hook_of(&c[i], ELF_HOOK_ON_INIT, "hotswap_on_init");
    int h = f != NULL ? f(r->vault) : 0; /* plugin code: token held, no lock */
    if (h != 0) {
      rc = HOTSWAP_EHOOK;
      if (r->errlen)
        snprintf(r->err, r->errlen, "%s: on_init: hotswap_on_init returned %d", c[i].name, h);
    }
  }
  free(c);
  return rc;
}

int ldr_rerun_on_init(struct hotswap_vault *vault, char *err, size_t errlen) {
  struct rerun r = {vault, err, err != NULL ? errlen : 0};
  if (r.errlen)
    err[0] = '\0';
  int rc = ldr_token_acquire();
  if (rc != 0) {
    if (r.errlen)
      snprintf(err, errlen, "called from inside a plugin hook");
    return rc;
  }
  rc = rerun_locked(&r);
  ldr_token_release();
  return rc;
}

/* ---- live functions, types and data --------------------------------------------------- */

/* Current versions with their live tables resolved (dlsym, no lock held). */
static int with_tables(struct cur **c, size_t *n) {
  int rc = snapshot_current(c, n, false);
  for (size_t i = 0; rc == 0 && i < *n; i++) {
    const struct hotswap_live_table *t = dlsym((*c)[i].handle, HOTSWAP_LIVE_TABLE_SYMBOL);
    (*c)[i].live = t != NULL && t->version == HOTSWAP_LIVE_TABLE_VERSION ? t : NULL;
  }
  return rc;
}

static void (*table_fn(const struct hotswap_live_table *t, const char *name))(void) {
  for (uint32_t i = 0; t != NULL && i < t->n_funcs; i++)
    if (strcasecmp(t->funcs[i].name, name) == 0)
      return t->funcs[i].fn;
  return NULL;
}

/* The first current version (by plugin name) with live type `name`; *which its index. */
static const struct hotswap_live_type_entry *find_type(const struct cur *c, size_t n,
                                                       const char *name, size_t *which) {
  for (size_t i = 0; i < n; i++) {
    const struct hotswap_live_table *t = c[i].live;
    for (uint32_t k = 0; t != NULL && k < t->n_types; k++) {
      if (strcasecmp(t->types[k].name, name) == 0) {
        *which = i;
        return &t->types[k];
      }
    }
  }
  return NULL;
}

/* Live function "<type><suffix>" of the plugin c. */
static void (*type_fn(const struct cur *c, const char *type, const char *suffix))(void) {
  char name[HOTSWAP_LIVE_NAME_MAX + 16];
  snprintf(name, sizeof(name), "%s%s", type, suffix);
  return table_fn(c->live, name);
}

void *ldr_live_fn(const char *name) {
  struct cur *c;
  size_t n;
  if (name == NULL || with_tables(&c, &n) != 0)
    return NULL;
  void (*f)(void) = NULL;
  for (size_t i = 0; f == NULL && i < n; i++)
    f = table_fn(c[i].live, name);
  free(c);
  return (void *)f;
}

int ldr_live_type(const char *name, struct hotswap_live_type_info *out) {
  if (name == NULL || out == NULL)
    return -EINVAL;
  struct cur *c;
  size_t n, i;
  int rc = with_tables(&c, &n);
  if (rc != 0)
    return rc;
  const struct hotswap_live_type_entry *t = find_type(c, n, name, &i);
  if (t != NULL) {
    memset(out, 0, sizeof(*out));
    out->size = t->size;
    out->align = t->align;
    out->fingerprint = t->fingerprint;
    out->new_ = (void *(*)(void))type_fn(&c[i], t->name, "_new");
    snprintf(out->plugin, sizeof(out->plugin), "%s", c[i].name);
  }
  free(c);
  return t != NULL ? 0 : HOTSWAP_ENOTFOUND;
}

void *ldr_live_new(const char *type) {
  struct hotswap_live_type_info info;
  if (ldr_live_type(type, &info) != 0)
    return NULL;
  return info.new_ != NULL ? info.new_() : calloc(1, info.size ? info.size : 1);
}

int ldr_live_data_wrap(const char *type, void *value, struct hotswap_live_data *out) {
  struct hotswap_live_type_info info;
  if (type == NULL || out == NULL)
    return -EINVAL;
  if (strlen(type) >= sizeof(out->type))
    return -ENAMETOOLONG;
  int rc = ldr_live_type(type, &info);
  if (rc != 0)
    return rc;
  memset(out, 0, sizeof(*out));
  snprintf(out->type, sizeof(out->type), "%s", type);
  out->fingerprint = info.fingerprint;
  out->size = info.size;
  out->value = value;
  return 0;
}

/* Restore with the live tables copied: same layout, upgrade, or a refusal. */
static int restore_in(const struct cur *c, size_t n, const struct hotswap_live_data *d,
                      void **out, char *err, size_t errlen) {
  size_t i;
  const struct hotswap_live_type_entry *t = find_type(c, n, d->type, &i);
  if (t == NULL)
    return why(err, errlen, HOTSWAP_ENOTFOUND,
               "live type '%s' is not defined by any loaded plugin", d->type);
  if (t->fingerprint == d->fingerprint && t->size == d->size) {
    *out = d->value;
    return 0;
  }
  hotswap_live_upgrade_fn up = (hotswap_live_upgrade_fn)type_fn(&c[i], t->name, "_upgrade");
  if (up == NULL)
    return why(err, errlen, HOTSWAP_ELIVETYPE,
               "live data of type '%s' has layout 0x%016llx, %u bytes; plugin '%s' "
               "(version %s) has layout 0x%016llx, %u bytes and no live function '%s_upgrade'",
               d->type, (unsigned long long)d->fingerprint, (unsigned)d->size, c[i].name,
               c[i].version, (unsigned long long)t->fingerprint, (unsigned)t->size, t->name);
  void *nv = NULL;
  int r = up(d->value, d->fingerprint, d->size, &nv); /* plugin code: no lock held */
  if (r != 0 || nv == NULL)
    return why(err, errlen, HOTSWAP_EHOOK, "plugin '%s': %s_upgrade returned %d%s", c[i].name,
               t->name, r, r == 0 ? " and no object" : "");
  *out = nv;
  return 0;
}

int ldr_live_data_restore(const struct hotswap_live_data *d, void **out, char *err,
                          size_t errlen) {
  if (err != NULL && errlen > 0)
    err[0] = '\0';
  if (d == NULL || out == NULL)
    return why(err, errlen, -EINVAL, "no live data given");
  struct cur *c;
  size_t n;
  int rc = with_tables(&c, &n);
  if (rc != 0)
    return why(err, errlen, rc, "out of memory");
  rc = restore_in(c, n, d, out, err, errlen);
  free(c);
  return rc;
}
