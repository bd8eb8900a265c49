/* SPDX-License-Identifier: BSD-3-Clause */
/* api.c - invoke, invoke_each and live functions/types/data for the host API (hotswap.h):
 * a lookup copies what it needs of the CURRENT versions (name, version, handle, hooks)
 * under the registry mutex, then resolves symbols and runs plugin code with no lock held.
 * live_fn, invoke and invoke_each keep what they resolved in a per-thread cache tagged with
 * the committed generation, so that repeated calls take no lock (see api.h); the vault is
 * in vault.c.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <pthread.h>

#include "loader/api.h"
#include "loader/lifecycle_int.h"
#include "loader/tramp.h"

typedef int (*ldr_on_invoke_fn)(const char *fn, void *arg, void **ret);

/* What a call needs of one current version, copied under the registry mutex. The handle
 * stays valid while the version is loaded: retirement (retire.c) unloads a replaced version
 * only after its grace period, far longer than the gap between the copy and its use. */
struct cur {
  char name[LDR_NAME_MAX];
  char version[LDR_VERSION_MAX];
  void *handle;
  const void *ver;                       /* its struct ldr_version (vault receipts) */
  unsigned hooks;                        /* ELF_HOOK_* bits */
  const struct hotswap_live_table *live; /* resolved by with_tables(), NULL when none */
};

/* ---- the per-thread cache ---------------------------------------------------------------
 * Each thread keeps what ldr_live_fn, ldr_invoke and ldr_invoke_each resolved, tagged with
 * the committed generation it was read from (the pointer, never dereferenced outside the
 * registry mutex) and the reclaim epoch (ldr_api_cache_enable). An entry is used only
 * while both are unchanged: every commit (reload or revert) publishes a new generation
 * pointer, and the epoch rule makes an old pointer reused by a new generation impossible
 * to mistake for the old one (see api.h). Thread-local, so there is nothing to share or to
 * free under readers; a plugin called from invoke_each may call back into the API on the
 * same thread (the list being walked is reference-counted). */

#define CACHE_SLOTS 128 /* open addressing, power of two */
#define CACHE_FILL 96   /* entries before the table is emptied and starts over */

enum { K_LIVE = 1, K_INVOKE = 2 };

/* What the entries are valid for. gen NULL: nothing. */
struct tag {
  const void *gen;
  uint64_t epoch;
  ldr_api_epoch_fn src;
};

struct centry {
  uint64_t hash;       /* of kind and name; 0: empty slot */
  char *name;          /* owned copy */
  unsigned kind;       /* K_LIVE (names compared case-insensitively) or K_INVOKE */
  int rc;              /* K_INVOKE: 0, HOTSWAP_ENOPLUGIN or HOTSWAP_ENOTFOUND */
  void (*value)(void); /* the live function (NULL: none) or hotswap_invoke_func */
};

/* invoke_each's plugins that define hotswap_invoke_func, in dependency order. */
struct each_list {
  unsigned refs; /* the cache's and every walk's in progress on this thread */
  size_t n;
  struct each_fn {
    char name[LDR_NAME_MAX];
    ldr_on_invoke_fn f;
  } e[];
};

struct tcache {
  struct tag tag;
  size_t used;
  struct each_list *each; /* NULL until invoke_each ran under this tag */
  struct centry slot[CACHE_SLOTS];
};

static ldr_api_epoch_fn epoch_src; /* atomic (__atomic builtins); NULL: cache off */
static __thread struct tcache *tls_cache;
static pthread_key_t tls_key; /* frees a thread's cache when it exits */
static pthread_once_t tls_once = PTHREAD_ONCE_INIT;
static bool tls_key_ok;

void ldr_api_cache_enable(ldr_api_epoch_fn reclaim_epoch) {
  __atomic_store_n(&epoch_src, reclaim_epoch, __ATOMIC_RELEASE);
}

static void each_release(struct each_list *l) {
  if (l != NULL && --l->refs == 0)
    free(l);
}

/* Empty the table (the tag is kept). */
static void cache_clear(struct tcache *tc) {
  for (size_t i = 0; i < CACHE_SLOTS; i++)
    free(tc->slot[i].name);
  memset(tc->slot, 0, sizeof(tc->slot));
  tc->used = 0;
}

static void tcache_destroy(void *p) {
  struct tcache *tc = p;
  cache_clear(tc);
  each_release(tc->each);
  free(tc);
  tls_cache = NULL;
}

static void make_key(void) { tls_key_ok = pthread_key_create(&tls_key, tcache_destroy) == 0; }

/* This thread's cache, created on first use; NULL when out of memory. */
static struct tcache *tcache_get(void) {
  struct tcache *tc = tls_cache;
  if (tc != NULL)
    return tc;
  pthread_once(&tls_once, make_key);
  if (!tls_key_ok || (tc = calloc(1, sizeof(*tc))) == NULL)
    return NULL;
  if (pthread_setspecific(tls_key, tc) != 0) {
    free(tc);
    return NULL;
  }
  return tls_cache = tc;
}

/* The tag of the state committed now. False when the cache is off or nothing is committed.
 * The epoch is read after the generation (acquire): if the generation read is a new one
 * that reuses the address of a freed one, the epoch raised before that free is seen. */
static bool tag_now(struct tag *t) {
  t->src = __atomic_load_n(&epoch_src, __ATOMIC_ACQUIRE);
  if (t->src == NULL)
    return false;
  t->gen = ldr_gen_current();
  t->epoch = t->src();
  return t->gen != NULL;
}

/* The same tag under the registry mutex, where it matches the registry's current versions
 * exactly (a commit publishes both under that mutex). */
static void tag_locked(struct tag *t) {
  t->src = __atomic_load_n(&epoch_src, __ATOMIC_ACQUIRE);
  t->gen = t->src != NULL ? ldr_gen_current() : NULL;
  t->epoch = t->gen != NULL ? t->src() : 0;
}

static bool tag_equal(const struct tag *a, const struct tag *b) {
  return a->gen == b->gen && a->epoch == b->epoch && a->src == b->src;
}

/* Make tc's entries those of tag t (emptying it when they were another tag's). */
static void cache_retag(struct tcache *tc, const struct tag *t) {
  if (tag_equal(&tc->tag, t))
    return;
  cache_clear(tc);
  each_release(tc->each);
  tc->each = NULL;
  tc->tag = *t;
}

static char ascii_lower(char c) { return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c; }

/* FNV-1a of kind and name (folded to lower case for K_LIVE); never 0. */
static uint64_t key_hash(unsigned kind, const char *name) {
  uint64_t h = 0xcbf29ce484222325ull ^ kind;
  for (; *name != '\0'; name++)
    h = (h ^ (unsigned char)(kind == K_LIVE ? ascii_lower(*name) : *name)) * 0x100000001b3ull;
  return h | 1;
}

static struct centry *cache_find(struct tcache *tc, unsigned kind, uint64_t h,
                                 const char *name) {
  for (size_t i = h & (CACHE_SLOTS - 1);; i = (i + 1) & (CACHE_SLOTS - 1)) {
    struct centry *e = &tc->slot[i];
    if (e->hash == 0)
      return NULL; /* terminates: at most CACHE_FILL < CACHE_SLOTS slots are used */
    if (e->hash == h && e->kind == kind &&
        (kind == K_LIVE ? strcasecmp(e->name, name) : strcmp(e->name, name)) == 0)
      return e;
  }
}

/* The fast path: the entry for (kind, name) when this thread resolved it under the state
 * committed now, else NULL. *tcp gets the thread's cache to store into after a miss (NULL:
 * cache off, nothing committed, or out of memory). Lock-free. */
static struct centry *cache_hit(struct tcache **tcp, unsigned kind, uint64_t h,
                                const char *name) {
  struct tag now;
  struct tcache *tc = NULL;
  if (tag_now(&now))
    tc = tcache_get();
  *tcp = tc;
  return tc != NULL && tag_equal(&tc->tag, &now) ? cache_find(tc, kind, h, name) : NULL;
}

/* Remember what a miss resolved under tag t (read with the registry mutex held). */
static void cache_store(struct tcache *tc, const struct tag *t, unsigned kind, uint64_t h,
                        const char *name, void (*value)(void), int rc) {
  if (tc == NULL || t->gen == NULL)
    return;
  cache_retag(tc, t);
  if (tc->used >= CACHE_FILL)
    cache_clear(tc);
  if (cache_find(tc, kind, h, name) != NULL) /* a nested call stored it meanwhile */
    return;
  char *copy = strdup(name);
  if (copy == NULL)
    return;
  size_t i = h & (CACHE_SLOTS - 1);
  while (tc->slot[i].hash != 0)
    i = (i + 1) & (CACHE_SLOTS - 1);
  tc->slot[i] = (struct centry){h, copy, kind, rc, value};
  tc->used++;
}

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
 * (caller frees). tag (may be NULL) gets the tag of the state copied, for the cache.
 * Returns 0 or -ENOMEM; *n may be 0. Takes the registry mutex. */
static int snapshot_current(struct cur **out, size_t *n, bool ordered, struct tag *tag) {
  ldr_reg_lock();
  if (tag != NULL)
    tag_locked(tag);
  size_t cnt = ldr_registry_count();
  struct cur *c = calloc(cnt + 1, sizeof(*c));
  int rc = c != NULL ? 0 : -ENOMEM;
  for (size_t i = 0; rc == 0 && i < cnt; i++) {
    const struct ldr_plugin *p = ldr_registry_at(i);
    snprintf(c[i].name, sizeof(c[i].name), "%s", p->name);
    snprintf(c[i].version, sizeof(c[i].version), "%s", p->current->version);
    c[i].handle = p->current->handle;
    c[i].ver = p->current;
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

/* Resolve plugin's hotswap_invoke_func in the registry (the slow path). Returns 0,
 * HOTSWAP_ENOPLUGIN, HOTSWAP_ENOTFOUND or -ENOMEM; *tag gets the state it was read from. */
static int invoke_resolve(const char *plugin, ldr_on_invoke_fn *f, struct tag *tag) {
  struct cur *c;
  size_t n;
  int rc = snapshot_current(&c, &n, false, tag);
  if (rc != 0)
    return rc;
  size_t i = cur_index(c, n, plugin);
  *f = i < n ? (ldr_on_invoke_fn)hook_of(&c[i], ELF_HOOK_INVOKE_FUNC, "hotswap_invoke_func")
             : NULL;
  free(c);
  return i == n ? HOTSWAP_ENOPLUGIN : *f == NULL ? HOTSWAP_ENOTFOUND : 0;
}

int ldr_invoke(const char *plugin, const char *fn, void *arg, void **ret) {
  if (plugin == NULL || fn == NULL)
    return -EINVAL;
  struct tcache *tc;
  uint64_t h = key_hash(K_INVOKE, plugin);
  const struct centry *e = cache_hit(&tc, K_INVOKE, h, plugin);
  ldr_on_invoke_fn f = NULL;
  int rc;
  if (e != NULL) { /* copy it out: the call below may empty this thread's cache */
    f = (ldr_on_invoke_fn)e->value;
    rc = e->rc;
  } else {
    struct tag tag;
    rc = invoke_resolve(plugin, &f, &tag);
    if (rc == -ENOMEM)
      return rc;
    cache_store(tc, &tag, K_INVOKE, h, plugin, (void (*)(void))f, rc);
  }
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

/* Build invoke_each's list from the registry (the slow path), with one reference for the
 * caller. Returns 0 or -ENOMEM; *tag gets the state it was read from. */
static int each_build(struct each_list **out, struct tag *tag) {
  struct cur *c;
  size_t n;
  int rc = snapshot_current(&c, &n, true, tag);
  if (rc != 0)
    return rc;
  struct each_list *l = malloc(sizeof(*l) + (n + 1) * sizeof(l->e[0]));
  if (l == NULL) {
    free(c);
    return -ENOMEM;
  }
  l->refs = 1;
  l->n = 0;
  for (size_t k = 0; k < n; k++) {
    ldr_on_invoke_fn f =
        (ldr_on_invoke_fn)hook_of(&c[k], ELF_HOOK_INVOKE_FUNC, "hotswap_invoke_func");
    if (f == NULL)
      continue;
    memcpy(l->e[l->n].name, c[k].name, sizeof(l->e[0].name));
    l->e[l->n++].f = f;
  }
  free(c);
  *out = l;
  return 0;
}

/* invoke_each's list for the state committed now, with one reference for the caller
 * (release with each_release): this thread's cached one, else a new one, then cached.
 * Returns 0 or -ENOMEM. */
static int each_get(struct each_list **out) {
  struct tag now, tag;
  struct tcache *tc = NULL;
  if (tag_now(&now))
    tc = tcache_get();
  if (tc != NULL && tag_equal(&tc->tag, &now) && tc->each != NULL) {
    tc->each->refs++;
    *out = tc->each;
    return 0;
  }
  int rc = each_build(out, &tag);
  if (rc != 0 || tc == NULL || tag.gen == NULL)
    return rc;
  cache_retag(tc, &tag);
  each_release(tc->each); /* one built by a nested call meanwhile */
  tc->each = *out;
  (*out)->refs++;
  return 0;
}

int ldr_invoke_each(const char *fn, void *arg, bool backward,
                    struct hotswap_invoke_errors *errors) {
  struct hotswap_invoke_errors local;
  struct hotswap_invoke_errors *e = errors != NULL ? errors : &local;
  memset(e, 0, sizeof(*e));
  if (fn == NULL)
    return -EINVAL;
  struct each_list *l;
  int rc = each_get(&l);
  if (rc != 0)
    return rc;
  for (size_t k = 0; k < l->n; k++) {
    const struct each_fn *p = &l->e[backward ? l->n - 1 - k : k];
    void *ret = NULL;
    e->called++;
    int r = p->f(fn, arg, &ret); /* plugin code: no lock held */
    if (r != 0)
      note_failure(e, p->name, fn, r);
  }
  each_release(l);
  return e->failed ? HOTSWAP_EHOOK : 0;
}

/* Write a reason into err (errlen bytes, may be 0) and return rc. */
__attribute__((format(__printf__, 4, 5))) static int why(char *err, size_t errlen, int rc,
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
  int rc = snapshot_current(&c, &n, true, NULL);
  if (rc != 0)
    return why(r->err, r->errlen, rc, "out of memory");
  for (size_t i = 0; rc == 0 && i < n; i++) {
    ldr_on_init_fn f = (ldr_on_init_fn)hook_of(&c[i], ELF_HOOK_ON_INIT, "hotswap_on_init");
    if (f != NULL) /* the token keeps c[i]'s version loaded until the receipt is taken */
      ldr_vault_received(c[i].ver, r->vault);
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

/* Current versions with their live tables resolved (dlsym, no lock held). tag as in
 * snapshot_current. */
static int with_tables(struct cur **c, size_t *n, struct tag *tag) {
  int rc = snapshot_current(c, n, false, tag);
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
  if (name == NULL)
    return NULL;
  struct tcache *tc;
  uint64_t h = key_hash(K_LIVE, name);
  const struct centry *e = cache_hit(&tc, K_LIVE, h, name);
  if (e != NULL)
    return (void *)e->value;
  struct cur *c;
  size_t n;
  struct tag tag;
  if (with_tables(&c, &n, &tag) != 0)
    return NULL;
  void (*f)(void) = NULL;
  for (size_t i = 0; f == NULL && i < n; i++)
    f = table_fn(c[i].live, name);
  free(c);
  cache_store(tc, &tag, K_LIVE, h, name, f, 0);
  return (void *)f;
}

int ldr_live_type(const char *name, struct hotswap_live_type_info *out) {
  if (name == NULL || out == NULL)
    return -EINVAL;
  struct cur *c;
  size_t n, i;
  int rc = with_tables(&c, &n, NULL);
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
  int rc = with_tables(&c, &n, NULL);
  if (rc != 0)
    return why(err, errlen, rc, "out of memory");
  rc = restore_in(c, n, d, out, err, errlen);
  free(c);
  return rc;
}
