/* SPDX-License-Identifier: BSD-3-Clause */
/* lifecycle.c - one reload of a set of plugins as one transaction: snapshot, validate, dlopen,
 * export, import, on_load, on_init, then either one commit of the next generation or a
 * rollback that frees everything new and leaves the current generation serving.
 * Retrofit: a first load may adopt the object ld.so already loaded from the file (adopt.c).
 * See loader.h for the contract, the dependency rule and the locking rule; report.c formats.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "loader/lifecycle_int.h"
#include "loader/tramp.h"

/* Guards the registry, the totals below and the reload token. Held only to read or update
 * that state, never while plugin code runs (constructors, destructors, hotswap_* hooks,
 * IFUNC resolvers); the hot path (the trampolines) never takes it, nor any other lock. */
static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;

/* The reload token, under reg_lock: set while a reload runs, by thread reload_owner. Reloads
 * are serialized by waiting on reload_done for it, not by holding a mutex, so that plugin
 * code can run without any loader lock held. */
static pthread_cond_t reload_done = PTHREAD_COND_INITIALIZER;
static bool reload_busy;
static pthread_t reload_owner;

/* Totals for ldr_status_get. Protected by reg_lock. */
static unsigned n_reloads, n_failures;
static int last_rc;
static char last_error[LDR_ERR_MAX];

/* Reason of a reload refused because a plugin hook of the running reload called it. */
#define NESTED_RELOAD_REASON "reload called from inside a plugin hook"

/* Most imports one plugin may declare (guards against an unterminated array). */
#define MAX_IMPORTS 4096

/* One plugin considered by the transaction. */
struct item {
  char name[LDR_NAME_MAX];
  const char *path;          /* borrowed: from the caller's paths or plugin->path */
  struct ldr_plugin *plugin; /* registry record, NULL on a first load */
  char old_version[LDR_VERSION_MAX];
  char new_version[LDR_VERSION_MAX];
  size_t routed;
  struct ldr_snapshot snap;  /* moved into nv when loading */
  enum ldr_action action;
  struct ldr_version *nv;    /* new version while loading */
  bool opened;               /* nv->handle is valid */
  const struct hotswap_import *imp; /* what nv's hotswap_import returned */
  size_t *deps;              /* indices into load[] of plugins it imports in this transaction */
  size_t n_deps;
  struct ldr_plugin *newp;   /* registry record prepared for a first load */
  char *newpath;             /* path to record after the commit */
  struct ldr_loaded *loaded; /* the object ld.so loaded from this file (adopt_loaded) */
  bool adopting;             /* its new version is that object (action LDR_ADOPTED, or
                              * LDR_FAILED / LDR_ROLLED_BACK after it) */
  struct link_map *map;      /* the new version's object, once opened */
  struct ldr_carry *carry;   /* state carried from the current version (step "state") */
  struct ldr_state_stats state;
};

struct txn {
  const struct ldr_reload_opts *opts;
  struct item *items; /* capacity: n paths + registry size, never reallocated */
  size_t n_items;
  size_t *load;       /* items loading a new version: by name, then in dependency order */
  size_t n_load;
  char err[LDR_ERR_MAX];
  size_t routed;
  const struct ldr_gen *gen; /* set by a successful commit */
  char **notes;              /* for the report: what the carry-over could not simply do */
  size_t n_notes;
};

static bool is_loading(const struct item *it) {
  return it->action == LDR_LOADED || it->action == LDR_ADOPTED ||
         it->action == LDR_RELOADED || it->action == LDR_FOLLOWED;
}

/* Record the one error of the transaction: "<file>: <step>: <reason>". Returns rc. */
__attribute__((format(__printf__, 5, 6))) static int fail(struct txn *t, struct item *it,
                                                      const char *step, int rc,
                                                      const char *fmt, ...) {
  int len = snprintf(t->err, sizeof(t->err), "%s: %s: ", ldr_basename(it->path), step);
  if (len >= 0 && (size_t)len < sizeof(t->err)) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(t->err + len, sizeof(t->err) - (size_t)len, fmt, ap);
    va_end(ap);
  }
  it->action = LDR_FAILED;
  return rc;
}

/* Around plugin code: which file, which hook (trial.c keeps it for status and the trial). */
static void enter(const struct item *it, const char *what) {
  ldr_activity_enter(ldr_basename(it->path), what);
}

static struct item *find_item(struct txn *t, const char *name) {
  for (size_t i = 0; i < t->n_items; i++) {
    if (strcmp(t->items[i].name, name) == 0)
      return &t->items[i];
  }
  return NULL;
}

/* Decide what to do with a snapshot whose plugin is known. Calls the current version's
 * hotswap_reloadable (plugin code) only when the file changed. */
static void classify(struct item *it) {
  struct ldr_version *cur = it->plugin->current;
  if (ldr_snapshot_same(cur->snap.info, it->snap.info)) {
    it->action = LDR_UNCHANGED;
    return;
  }
  if (cur->reloadable_fn != NULL) {
    bool r = cur->reloadable_fn(); /* plugin code: no lock held */
    pthread_mutex_lock(&reg_lock); /* ldr_status_get reads it */
    cur->reloadable = r;
    pthread_mutex_unlock(&reg_lock);
  }
  it->action = cur->reloadable ? LDR_RELOADED : LDR_PINNED;
}

/* First load with opts->adopt_loaded: when ld.so already loaded this very file (same device
 * and inode), that object becomes the first version, provided its build-id in memory is the
 * file's (none in memory: accepted). */
static int adopt_check(struct txn *t, struct item *it) {
  struct ldr_loaded *l = malloc(sizeof(*l));
  if (l == NULL)
    return fail(t, it, "adopt", -ENOMEM, "out of memory");
  if (!ldr_adopt_find(it->snap.dev, it->snap.ino, l)) {
    free(l);
    return 0;
  }
  it->loaded = l;
  const struct elf_info *fi = it->snap.info;
  if (l->build_id_len != 0 && (l->build_id_len != fi->build_id_len ||
                               memcmp(l->build_id, fi->build_id, l->build_id_len) != 0)) {
    char mem[2 * sizeof(l->build_id) + 1], disk[2 * sizeof(l->build_id) + 1];
    ldr_hex(l->build_id, l->build_id_len, mem, sizeof(mem));
    ldr_hex(fi->build_id, fi->build_id_len, disk, sizeof(disk));
    return fail(t, it, "adopt", HOTSWAP_EINCOMPAT,
                "the file changed after the dynamic linker loaded it (build-id %s in memory, "
                "%s on disk); restart the process to run the new build",
                mem, disk[0] ? disk : "none");
  }
  it->action = LDR_ADOPTED;
  it->adopting = true;
  return 0;
}

/* Step "snapshot" for one file: copy, inspect, name, classify. */
static int snapshot_one(struct txn *t, const char *path) {
  struct item *it = &t->items[t->n_items++];
  it->path = path;
  it->snap.fd = -1;
  char why[LDR_ERR_MAX];
  int rc = ldr_snapshot_take(path, t->opts->elf, t->opts->allow_insecure, &it->snap, why);
  if (rc != 0) {
    ldr_plugin_name(NULL, path, it->name); /* best guess: the note is unreadable */
    return fail(t, it, "snapshot", rc, "%s", why);
  }
  elf_short_version(it->snap.info, it->new_version, sizeof(it->new_version));
  if (ldr_plugin_name(it->snap.info, path, it->name) != 0)
    return fail(t, it, "snapshot", -ENAMETOOLONG, "plugin name is too long");
  for (size_t i = 0; i + 1 < t->n_items; i++) {
    if (strcmp(t->items[i].name, it->name) == 0)
      return fail(t, it, "snapshot", HOTSWAP_EDUPNAME,
                  "duplicate plugin name '%s' (also '%s')", it->name, t->items[i].path);
  }
  it->plugin = ldr_registry_find(it->name);
  if (it->plugin == NULL) {
    it->action = LDR_LOADED;
    return t->opts->adopt_loaded ? adopt_check(t, it) : 0;
  }
  snprintf(it->old_version, sizeof(it->old_version), "%s", it->plugin->current->version);
  classify(it);
  return 0;
}

/* True when a plugin's current version imports one that this transaction reloads. */
static const char *changed_import(struct txn *t, const struct ldr_version *cur) {
  for (size_t i = 0; i < cur->n_imports; i++) {
    struct item *dep = find_item(t, cur->imports[i]);
    if (dep != NULL && is_loading(dep))
      return cur->imports[i];
  }
  return NULL;
}

/* A plugin that must follow a reloaded import: load a fresh copy of its file. */
static int follow_one(struct txn *t, struct ldr_plugin *p, struct item *it, const char *dep) {
  if (it != NULL && it->action == LDR_PINNED)
    return fail(t, it, "import", HOTSWAP_EDEPEND,
                "not reloadable, but plugin '%s' it imports is being reloaded", dep);
  if (!p->current->reloadable) {
    struct item tmp = {.path = p->path};
    int rc = fail(t, &tmp, "import", HOTSWAP_EDEPEND,
                  "not reloadable, but plugin '%s' it imports is being reloaded", dep);
    return rc;
  }
  if (it != NULL) { /* unchanged file, already snapshotted */
    it->action = LDR_FOLLOWED;
    return 0;
  }
  int rc = snapshot_one(t, p->path);
  if (rc != 0)
    return rc;
  it = &t->items[t->n_items - 1];
  if (it->action == LDR_UNCHANGED)
    it->action = LDR_FOLLOWED;
  else if (it->action == LDR_PINNED)
    return fail(t, it, "import", HOTSWAP_EDEPEND,
                "not reloadable, but plugin '%s' it imports is being reloaded", dep);
  return 0;
}

/* Reload every plugin whose current version imports a reloaded one, transitively. */
static int follow_deps(struct txn *t) {
  bool more = true;
  while (more) {
    more = false;
    for (size_t i = 0; i < ldr_registry_count(); i++) {
      struct ldr_plugin *p = ldr_registry_at(i);
      struct item *it = find_item(t, p->name);
      if (it != NULL && is_loading(it))
        continue;
      const char *dep = changed_import(t, p->current);
      if (dep == NULL)
        continue;
      int rc = follow_one(t, p, it, dep);
      if (rc != 0)
        return rc;
      more = true;
    }
  }
  return 0;
}

static int cmp_items_by_name(const void *a, const void *b, void *arg) {
  const struct item *items = arg;
  return strcmp(items[*(const size_t *)a].name, items[*(const size_t *)b].name);
}

/* The items that load a new version, sorted by name. */
static void collect_load(struct txn *t) {
  t->n_load = 0;
  for (size_t i = 0; i < t->n_items; i++) {
    if (is_loading(&t->items[i]))
      t->load[t->n_load++] = i;
  }
  qsort_r(t->load, t->n_load, sizeof(*t->load), cmp_items_by_name, t->items);
}

/* Name of the function an elf/ reason line says the new build drops (ELF_R_DROPS_FUNC),
 * into name (LDR_ERR_MAX bytes); false when the line says something else. */
static bool dropped_name(const char *line, char *name) {
  const char *fmt = ELF_R_DROPS_FUNC, *hole = strstr(fmt, "%s");
  size_t pre = (size_t)(hole - fmt), post = strlen(hole + 2), n = strlen(line);
  if (n <= pre + post || strncmp(line, fmt, pre) != 0 || strcmp(line + n - post, hole + 2) != 0 ||
      n - pre - post >= LDR_ERR_MAX)
    return false;
  memcpy(name, line + pre, n - pre - post);
  name[n - pre - post] = '\0';
  return true;
}

/* Append one reason line of elf/ to text (LDR_ERR_MAX bytes, len used). A dropped function
 * also says whether anything calls it: "that the server calls" once its trampoline was
 * handed out (a retrofitted GOT entry, a dlsym or hotswap_fn answer), else that only the
 * running version exports it. */
static size_t append_reason(char *text, size_t len, const char *sep, const char *line) {
  char name[LDR_ERR_MAX];
  if (len >= LDR_ERR_MAX)
    return len;
  if (!dropped_name(line, name))
    return len + (size_t)snprintf(text + len, LDR_ERR_MAX - len, "%s%s", sep, line);
  return len + (size_t)snprintf(text + len, LDR_ERR_MAX - len, "%s%s %s", sep, line,
                                ldr_route_handed_out(name)
                                    ? "that the server calls"
                                    : "(the running version exports it; no caller was "
                                      "routed to it)");
}

/* Step "validate" for one item: elf/ checks against the version it replaces. */
static int validate_one(struct txn *t, struct item *it) {
  struct elf_reasons why = {0};
  int rc = it->plugin != NULL
               ? elf_check_compat(it->plugin->current->snap.info, it->snap.info, &why)
               : elf_check_loadable(it->snap.info, &why);
  if (rc == 0) {
    elf_reasons_free(&why);
    return 0;
  }
  char text[LDR_ERR_MAX] = "";
  size_t len = 0;
  for (size_t i = 0; i < why.n && len < sizeof(text); i++)
    len = append_reason(text, len, i ? "; " : "", why.lines[i]);
  elf_reasons_free(&why);
  return fail(t, it, "validate", rc, "%s", text[0] ? text : hotswap_strerror(rc));
}

/* Routed names: functions a plugin exports (default symbol version only: a trampoline has
 * one name), except the lifecycle hooks every plugin has. */
static bool routable(const struct elf_sym *s) {
  return (s->type == ELF_SYM_FUNC || s->type == ELF_SYM_IFUNC) && s->default_version &&
         strncmp(s->name, "hotswap_", 8) != 0;
}

/* Info of the build plugin `name` will run after this transaction (NULL when none). */
static const struct elf_info *next_info(struct txn *t, const char *name) {
  struct item *it = find_item(t, name);
  if (it != NULL && is_loading(it))
    return it->snap.info;
  struct ldr_plugin *p = ldr_registry_find(name);
  return p != NULL ? p->current->snap.info : NULL;
}

/* One trampoline per name: two plugins may not export the same function. */
static int check_collisions(struct txn *t, struct item *it) {
  const struct elf_info *info = it->snap.info;
  for (size_t e = 0; e < info->n_exports; e++) {
    if (!routable(&info->exports[e]))
      continue;
    for (size_t j = 0; j < t->n_items + ldr_registry_count(); j++) {
      const char *other = j < t->n_items ? t->items[j].name
                                         : ldr_registry_at(j - t->n_items)->name;
      const struct elf_info *oi = strcmp(other, it->name) ? next_info(t, other) : NULL;
      const struct elf_sym *s = oi ? elf_find_export(oi, info->exports[e].name) : NULL;
      if (s != NULL && routable(s))
        return fail(t, it, "validate", HOTSWAP_EDUPNAME,
                    "exports '%s', which plugin '%s' also exports", s->name, other);
    }
  }
  return 0;
}

static int validate_all(struct txn *t) {
  for (size_t k = 0; k < t->n_load; k++) {
    int rc = validate_one(t, &t->items[t->load[k]]);
    if (rc == 0)
      rc = check_collisions(t, &t->items[t->load[k]]);
    if (rc != 0)
      return rc;
  }
  return 0;
}

struct text_find {
  const struct link_map *map;
  struct ldr_version *v;
  int rc;
};

static int text_cb(struct dl_phdr_info *info, size_t size, void *arg) {
  (void)size;
  struct text_find *f = arg;
  if (info->dlpi_addr != f->map->l_addr || info->dlpi_name == NULL ||
      strcmp(info->dlpi_name, f->map->l_name) != 0)
    return 0;
  struct ldr_text_range *r = calloc(info->dlpi_phnum + 1u, sizeof(*r));
  if (r == NULL) {
    f->rc = -ENOMEM;
    return 1;
  }
  size_t n = 0;
  for (ElfW(Half) i = 0; i < info->dlpi_phnum; i++) {
    const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
    if (ph->p_type != PT_LOAD)
      continue;
    uintptr_t lo = info->dlpi_addr + ph->p_vaddr, hi = lo + ph->p_memsz;
    if (f->v->map_lo == 0 || lo < f->v->map_lo)
      f->v->map_lo = lo;
    if (hi > f->v->map_hi)
      f->v->map_hi = hi;
    if (ph->p_flags & PF_X) {
      r[n].start = lo;
      r[n++].end = hi;
    }
  }
  f->v->text = r;
  f->v->n_text = n;
  /* What the program can point into, for retirement's scan: elf/'s sections, rebased;
   * the whole mapping when elf/ found none. */
  const struct elf_info *ei = f->v->snap.info;
  size_t nt = ei != NULL && ei->n_targets > 0 ? ei->n_targets : 1;
  f->v->targets = calloc(nt, sizeof(*f->v->targets));
  if (f->v->targets == NULL) {
    f->rc = -ENOMEM;
    return 1;
  }
  if (nt == 1 && (ei == NULL || ei->n_targets == 0))
    f->v->targets[0] = (struct ldr_text_range){f->v->map_lo, f->v->map_hi};
  for (size_t i = 0; ei != NULL && i < ei->n_targets; i++)
    f->v->targets[i] = (struct ldr_text_range){info->dlpi_addr + ei->targets[i].start,
                                               info->dlpi_addr + ei->targets[i].end};
  f->v->n_targets = nt;
  /* Which targets are code: the executable sections; the executable segments when elf/
   * found no sections (a segment may also hold read-only data). */
  f->v->code = calloc(nt + n, sizeof(*f->v->code));
  if (f->v->code == NULL) {
    f->rc = -ENOMEM;
    return 1;
  }
  for (size_t i = 0; ei != NULL && i < ei->n_targets; i++)
    if (ei->target_code[i])
      f->v->code[f->v->n_code++] = f->v->targets[i];
  if (ei == NULL || ei->n_targets == 0) {
    memcpy(f->v->code, f->v->text, n * sizeof(*f->v->code));
    f->v->n_code = n;
  }
  return 1;
}

/* Hook addresses, only for hooks elf/ saw the plugin itself define (dlsym on a handle also
 * searches the plugin's own dependencies). */
static void *hook(struct ldr_version *v, unsigned bit, const char *name) {
  return (v->snap.info->hooks & bit) ? dlsym(v->handle, name) : NULL;
}

static void resolve_hooks(struct ldr_version *v) {
  v->reloadable_fn = (ldr_reloadable_fn)hook(v, ELF_HOOK_RELOADABLE, "hotswap_reloadable");
  v->export_fn = (ldr_export_fn)hook(v, ELF_HOOK_EXPORT, "hotswap_export");
  v->import_fn = (ldr_import_fn)hook(v, ELF_HOOK_IMPORT, "hotswap_import");
  v->on_load = (ldr_on_load_fn)hook(v, ELF_HOOK_ON_LOAD, "hotswap_on_load");
  v->on_init = (ldr_on_init_fn)hook(v, ELF_HOOK_ON_INIT, "hotswap_on_init");
  v->on_free = (ldr_on_free_fn)hook(v, ELF_HOOK_ON_FREE, "hotswap_on_free");
  v->on_transfer = (ldr_on_transfer_fn)hook(v, ELF_HOOK_ON_TRANSFER, "hotswap_on_transfer");
}

/* dlopen's reason, without the memfd path (it means nothing to a user). */
static const char *dlopen_reason(const char *fdpath) {
  const char *e = dlerror();
  size_t fl = strlen(fdpath);
  if (e != NULL && strncmp(e, fdpath, fl) == 0 && strncmp(e + fl, ": ", 2) == 0)
    e += fl + 2;
  return e != NULL ? e : "unknown dlopen error";
}

/* Map the snapshot and bind the object's own GOT entries and tables to itself. */
static int open_snapshot(struct txn *t, struct item *it, struct ldr_version *v) {
  enter(it, "constructor");
  v->handle = dlopen(v->snap.fdpath, RTLD_NOW | RTLD_LOCAL);
  ldr_activity_leave();
  if (v->handle == NULL)
    return fail(t, it, "dlopen", HOTSWAP_EDLOPEN, "%s", dlopen_reason(v->snap.fdpath));
  it->opened = true;
  if (dlinfo(v->handle, RTLD_DI_LINKMAP, &v->map) != 0)
    return fail(t, it, "dlopen", HOTSWAP_EDLOPEN, "dlinfo: %s", dlerror());
  char why[LDR_ERR_MAX] = "";
  int rc = ldr_got_bind_self(v->map, &v->self_bound, why);
  if (rc != 0)
    return fail(t, it, "dlopen", rc, "cannot bind its own functions: %s", why);
  return 0;
}

/* Take a reference on the object ld.so loaded from the file (no self-binding: ld.so bound
 * it, and the program may already call into it). */
static int open_adopted(struct txn *t, struct item *it, struct ldr_version *v) {
  v->adopted = true;
  v->handle = dlopen(it->loaded->name, RTLD_NOW | RTLD_NOLOAD);
  if (v->handle == NULL)
    return fail(t, it, "dlopen", HOTSWAP_EDLOPEN, "'%s' is no longer loaded: %s",
                it->loaded->name, dlopen_reason(""));
  it->opened = true;
  if (dlinfo(v->handle, RTLD_DI_LINKMAP, &v->map) != 0)
    return fail(t, it, "dlopen", HOTSWAP_EDLOPEN, "dlinfo: %s", dlerror());
  return 0;
}

/* Step "dlopen" for one item: map the snapshot (or adopt the loaded object), record what
 * retirement needs, find its hooks and ask whether it is reloadable. */
static int open_one(struct txn *t, struct item *it) {
  struct ldr_version *v = calloc(1, sizeof(*v));
  if (v == NULL)
    return fail(t, it, "dlopen", -ENOMEM, "out of memory");
  v->snap = it->snap;
  it->snap.fd = -1;
  it->snap.info = NULL;
  it->nv = v;
  elf_short_version(v->snap.info, v->version, sizeof(v->version));
  const struct elf_info *info = v->snap.info;
  v->undeletable = info == NULL        ? NULL
                   : info->nodelete    ? "DF_1_NODELETE: dlclose cannot unload it"
                   : info->has_unique ? "exports STB_GNU_UNIQUE symbols: dlclose cannot unload it"
                                       : NULL;
  int rc = it->adopting ? open_adopted(t, it, v) : open_snapshot(t, it, v);
  if (rc != 0)
    return rc;
  it->map = v->map;
  struct text_find tf = {.map = v->map, .v = v};
  dl_iterate_phdr(text_cb, &tf);
  if (tf.rc != 0)
    return fail(t, it, "dlopen", tf.rc, "out of memory");
  /* From here on a crash in its code is named (its hooks run next). Out of memory or a
   * full table, crashes in it are named by the mapping's file alone. */
  ldr_crashmap_add(v, it->name[0] ? it->name : ldr_basename(it->path), it->path);
  resolve_hooks(v);
  /* Its state as loaded: what "changed by the program" is measured against later. Out of
   * memory, nothing will be carried out of this version (state stays NULL). */
  ldr_state_capture(v);
  enter(it, "hotswap_reloadable");
  v->reloadable = v->reloadable_fn != NULL ? v->reloadable_fn() : true;
  ldr_activity_leave();
  return 0;
}

static int open_all(struct txn *t) {
  for (size_t k = 0; k < t->n_load; k++) {
    int rc = open_one(t, &t->items[t->load[k]]);
    if (rc != 0)
      return rc;
  }
  return 0;
}

static void export_all(struct txn *t) {
  for (size_t k = 0; k < t->n_load; k++) {
    struct ldr_version *v = t->items[t->load[k]].nv;
    if (v->export_fn == NULL)
      continue;
    enter(&t->items[t->load[k]], "hotswap_export");
    v->export_ = v->export_fn();
    ldr_activity_leave();
  }
}

/* Index in load[] of the item called `name`, or n_load when it is not loading. */
static size_t load_index(struct txn *t, const char *name) {
  for (size_t k = 0; k < t->n_load; k++) {
    if (strcmp(t->items[t->load[k]].name, name) == 0)
      return k;
  }
  return t->n_load;
}

/* Reloadable flag of the version `name` will run after this transaction. */
static bool target_reloadable(struct txn *t, const char *name, bool *known) {
  size_t k = load_index(t, name);
  if (k < t->n_load) {
    *known = true;
    return t->items[t->load[k]].nv->reloadable;
  }
  struct ldr_plugin *p = ldr_registry_find(name);
  *known = p != NULL;
  return p != NULL && p->current->reloadable;
}

/* Check one import entry and record it as a name and, when in this transaction, an edge. */
static int import_entry(struct txn *t, struct item *it, const struct hotswap_import *e) {
  bool known;
  bool target_rel = target_reloadable(t, e->plugin, &known);
  if (!known)
    return fail(t, it, "import", HOTSWAP_ENOPLUGIN, "imports unknown plugin '%s'", e->plugin);
  if (e->slot == NULL)
    return fail(t, it, "import", -EINVAL, "import of plugin '%s' has no slot", e->plugin);
  if (!it->nv->reloadable && target_rel)
    return fail(t, it, "import", HOTSWAP_EDEPEND,
                "is not reloadable but imports reloadable plugin '%s'", e->plugin);
  struct ldr_version *v = it->nv;
  char *dup = strdup(e->plugin);
  if (dup == NULL)
    return fail(t, it, "import", -ENOMEM, "out of memory");
  v->imports[v->n_imports++] = dup;
  size_t k = load_index(t, e->plugin);
  if (k < t->n_load)
    it->deps[it->n_deps++] = k;
  return 0;
}

/* Call one new version's hotswap_import and check what it returns. */
static int import_list(struct txn *t, struct item *it) {
  enter(it, "hotswap_import");
  it->imp = it->nv->import_fn != NULL ? it->nv->import_fn() : NULL;
  ldr_activity_leave();
  size_t n = 0;
  while (it->imp != NULL && it->imp[n].plugin != NULL && n <= MAX_IMPORTS)
    n++;
  if (n > MAX_IMPORTS)
    return fail(t, it, "import", -E2BIG, "more than %d imports (missing {NULL, NULL} end?)",
                MAX_IMPORTS);
  it->nv->imports = calloc(n + 1, sizeof(char *));
  it->deps = calloc(n + 1, sizeof(size_t));
  if (it->nv->imports == NULL || it->deps == NULL)
    return fail(t, it, "import", -ENOMEM, "out of memory");
  for (size_t i = 0; i < n; i++) {
    int rc = import_entry(t, it, &it->imp[i]);
    if (rc != 0)
      return rc;
  }
  return 0;
}

/* Put load[] in dependency order (an import cycle is an error). */
static int order_load(struct txn *t) {
  const char **names = calloc(t->n_load + 1, sizeof(*names));
  size_t **deps = calloc(t->n_load + 1, sizeof(*deps));
  size_t *n_deps = calloc(t->n_load + 1, sizeof(*n_deps));
  size_t *order = calloc(t->n_load + 1, sizeof(*order));
  int rc = names && deps && n_deps && order ? 0 : -ENOMEM;
  for (size_t k = 0; rc == 0 && k < t->n_load; k++) {
    struct item *it = &t->items[t->load[k]];
    names[k] = it->name;
    deps[k] = it->deps;
    n_deps[k] = it->n_deps;
  }
  struct ldr_graph g = {.n = t->n_load, .names = names, .deps = deps, .n_deps = n_deps};
  size_t culprit = 0;
  char why[LDR_ERR_MAX];
  if (rc == 0)
    rc = ldr_deps_order(&g, order, &culprit, why);
  if (rc == HOTSWAP_ECYCLE)
    fail(t, &t->items[t->load[culprit]], "import", rc, "%s", why);
  else if (rc != 0)
    snprintf(t->err, sizeof(t->err), "import: out of memory");
  for (size_t k = 0; rc == 0 && k < t->n_load; k++)
    order[k] = t->load[order[k]];
  if (rc == 0)
    memcpy(t->load, order, t->n_load * sizeof(*order));
  free(names);
  free(deps);
  free(n_deps);
  free(order);
  return rc;
}

/* Fill every import slot with the export of the version the plugin will run. */
static void fill_slots(struct txn *t) {
  for (size_t k = 0; k < t->n_load; k++) {
    struct item *it = &t->items[t->load[k]];
    for (size_t i = 0; it->imp != NULL && it->imp[i].plugin != NULL; i++) {
      size_t j = load_index(t, it->imp[i].plugin);
      struct ldr_plugin *p = ldr_registry_find(it->imp[i].plugin);
      *it->imp[i].slot = j < t->n_load ? t->items[t->load[j]].nv->export_ : p->current->export_;
    }
  }
}

static int import_all(struct txn *t) {
  for (size_t k = 0; k < t->n_load; k++) {
    int rc = import_list(t, &t->items[t->load[k]]);
    if (rc != 0)
      return rc;
  }
  int rc = order_load(t);
  if (rc == 0)
    fill_slots(t);
  return rc;
}

/* Step "state": copy what the program changed in each replaced version into its successor,
 * before any on_load runs (a hook then sees the carried state). */
static int carry_all(struct txn *t) {
  for (size_t k = 0; k < t->n_load; k++) {
    struct item *it = &t->items[t->load[k]];
    if (it->plugin == NULL || it->plugin->current == NULL)
      continue;
    char why[LDR_ERR_MAX];
    int rc = ldr_state_carry(it->plugin->current, it->nv, t->opts->state, &it->carry, why);
    if (rc != 0)
      return fail(t, it, "state", rc, "%s", why);
  }
  return 0;
}

/* Move a carry's notes to the transaction's list. */
static void take_notes(struct txn *t, struct ldr_carry *k) {
  char **grown = realloc(t->notes, (t->n_notes + k->n_notes + 1) * sizeof(*grown));
  if (grown == NULL)
    return;
  t->notes = grown;
  for (size_t i = 0; i < k->n_notes; i++)
    t->notes[t->n_notes++] = k->notes[i];
  k->n_notes = 0;
}

/* After the commit store: what the carries left for it (see ldr_state_settle), then their
 * counts and notes go to the report. */
static void after_commit(struct txn *t) {
  struct ldr_carry **k = calloc(t->n_load + 1, sizeof(*k));
  for (size_t i = 0; k != NULL && i < t->n_load; i++)
    k[i] = t->items[t->load[i]].carry;
  if (k != NULL)
    ldr_state_settle(k, t->n_load);
  free(k);
  for (size_t i = 0; i < t->n_load; i++) {
    struct item *it = &t->items[t->load[i]];
    if (it->carry == NULL)
      continue;
    if (k == NULL) /* out of memory: each on its own, nothing is skipped */
      ldr_state_settle(&it->carry, 1);
    it->state = it->carry->stats;
    take_notes(t, it->carry);
    ldr_carry_free(it->carry);
    it->carry = NULL;
  }
}

/* Steps "on_load" then "on_init", each over every new version in dependency order. */
static int run_hooks(struct txn *t) {
  for (size_t k = 0; k < t->n_load; k++) {
    struct item *it = &t->items[t->load[k]];
    enter(it, "hotswap_on_load");
    int r = it->nv->on_load != NULL ? it->nv->on_load(t->opts->data) : 0;
    ldr_activity_leave();
    if (r != 0)
      return fail(t, it, "on_load", HOTSWAP_EHOOK, "hotswap_on_load returned %d", r);
  }
  for (size_t k = 0; k < t->n_load; k++) {
    struct item *it = &t->items[t->load[k]];
    if (it->nv->on_init != NULL) /* it may keep the pointer until its on_free returns */
      ldr_vault_received(it->nv, t->opts->vault);
    enter(it, "hotswap_on_init");
    int r = it->nv->on_init != NULL ? it->nv->on_init(t->opts->vault) : 0;
    ldr_activity_leave();
    if (r != 0)
      return fail(t, it, "on_init", HOTSWAP_EHOOK, "hotswap_on_init returned %d", r);
  }
  return 0;
}

/* Route every exported function of one new version in the staged generation. */
static int route_one(struct txn *t, struct item *it, struct ldr_gen_builder *b) {
  const struct elf_info *info = it->nv->snap.info;
  for (size_t e = 0; e < info->n_exports; e++) {
    const struct elf_sym *s = &info->exports[e];
    if (!routable(s))
      continue;
    void *addr = dlsym(it->nv->handle, s->name);
    if (addr == NULL)
      return fail(t, it, "commit", HOTSWAP_ENOTFOUND, "dlsym cannot find its function '%s'",
                  s->name);
    int rc = ldr_gen_set(b, s->name, addr);
    if (rc != 0)
      return fail(t, it, "commit", rc, "cannot route '%s': %s", s->name, hotswap_strerror(rc));
    it->nv->routed++;
  }
  it->routed = it->nv->routed;
  t->routed += it->nv->routed;
  return 0;
}

/* Every version the next generation routes to, with room for its generation number, and the
 * registry records to publish. Nothing may fail after the commit store, so every allocation
 * happens here. */
static int prepare_commit(struct txn *t, struct ldr_gen_refs **out) {
  size_t n = ldr_registry_count() + t->n_load;
  struct ldr_gen_refs *refs = malloc(sizeof(*refs) + (n + 1) * sizeof(refs->v[0]));
  int rc = refs != NULL ? ldr_registry_reserve(t->n_load) : -ENOMEM;
  if (refs != NULL) {
    refs->n = 0;
    refs->vault = t->opts->vault;
  }
  for (size_t i = 0; rc == 0 && i < ldr_registry_count(); i++) {
    struct ldr_plugin *p = ldr_registry_at(i);
    if (load_index(t, p->name) == t->n_load)
      refs->v[refs->n++] = p->current;
  }
  for (size_t k = 0; rc == 0 && k < t->n_load; k++) {
    struct item *it = &t->items[t->load[k]];
    refs->v[refs->n++] = it->nv;
    it->newpath = strdup(it->path);
    if (it->plugin == NULL)
      it->newp = calloc(1, sizeof(*it->newp));
    if (it->newpath == NULL || (it->plugin == NULL && it->newp == NULL))
      rc = -ENOMEM;
  }
  for (size_t i = 0; rc == 0 && i < refs->n; i++)
    rc = ldr_version_reserve_gen(refs->v[i]);
  if (rc != 0) {
    free(refs);
    snprintf(t->err, sizeof(t->err), "commit: out of memory");
    return rc;
  }
  *out = refs;
  return 0;
}

/* Free the ELF details of a version that is older than the previous one (v may be NULL). */
static void release_info(struct ldr_version *v) {
  if (v == NULL || v->snap.info == NULL)
    return;
  elf_info_free(v->snap.info);
  v->snap.info = NULL;
}

/* After the store: record the new versions as current. Cannot fail (see prepare_commit). */
static void publish(struct txn *t, struct ldr_gen_refs *refs) {
  for (size_t k = 0; k < t->n_load; k++) {
    struct item *it = &t->items[t->load[k]];
    struct ldr_plugin *p = it->plugin;
    if (p == NULL) {
      p = it->newp;
      it->newp = NULL;
      snprintf(p->name, sizeof(p->name), "%s", it->name);
      ldr_registry_add(p); /* room reserved */
      it->plugin = p;
    }
    if (p->path == NULL || strcmp(p->path, it->newpath) != 0) {
      free(p->path); /* only items of the caller's paths[] can carry a new path */
      p->path = it->newpath;
      it->newpath = NULL;
    }
    it->nv->plugin = p;
    if (p->current != NULL) {
      p->current->replaced_ns = ldr_now_ns(); /* starts its grace period (retire.c) */
      /* Only the current and the previous version's ELF details are read again (the next
       * compatibility check, a revert): free the rest now, not when retirement unloads it
       * (a burst of reloads would otherwise keep one per version in its grace period). */
      release_info(p->current->older);
    }
    it->nv->older = p->current;
    ldr_crashmap_committed(it->nv, t->gen->number);
    p->current = it->nv;
    it->nv = NULL;
    p->n_versions++;
    p->loads++;
  }
  for (size_t i = 0; i < refs->n; i++)
    refs->v[i]->gens[refs->v[i]->n_gens++] = t->gen->number;
  /* The extension the new versions' on_init filled becomes current with the commit (not
   * later in ldr_vault_finish: a revert in between would be undone). */
  ldr_vault_hold(refs->vault);
  ldr_vault_make_current(refs->vault, false);
}

/* Step "commit": route (dlsym may run IFUNC resolvers: no lock held), then publish the next
 * generation with one store and the registry records under reg_lock, so that a status
 * reader sees either the old generation and records or the new ones. */
static int commit(struct txn *t) {
  struct ldr_gen_builder *b = NULL;
  int rc = ldr_gen_begin(&b);
  if (rc != 0) {
    snprintf(t->err, sizeof(t->err), "commit: %s", hotswap_strerror(rc));
    return rc;
  }
  for (size_t k = 0; rc == 0 && k < t->n_load; k++)
    rc = route_one(t, &t->items[t->load[k]], b);
  struct ldr_gen_refs *refs = NULL;
  pthread_mutex_lock(&reg_lock);
  if (rc == 0)
    rc = prepare_commit(t, &refs);
  if (rc == 0) {
    t->gen = ldr_gen_commit(b, refs);
    publish(t, refs);
  }
  pthread_mutex_unlock(&reg_lock);
  if (rc != 0)
    ldr_gen_abort(b);
  return rc;
}

/* Is an object with this name still in the link map (dlclose may keep it: NODELETE,
 * STB_GNU_UNIQUE, or another object depending on it)? */
static int still_loaded_cb(struct dl_phdr_info *info, size_t size, void *arg) {
  (void)size;
  return info->dlpi_name != NULL && strcmp(info->dlpi_name, arg) == 0;
}

/* Free one new version: hotswap_on_free, dlclose, close its memfd. An adopted object stays
 * what the program runs: no hotswap_on_free, and dlclose only drops our RTLD_NOLOAD
 * reference (ld.so keeps it loaded for the program that needs it). */
static void unload_new(struct item *it) {
  struct ldr_version *v = it->nv;
  if (it->opened && v->adopted) {
    dlclose(v->handle);
  } else if (it->opened) {
    enter(it, "hotswap_on_free");
    if (v->on_free != NULL)
      v->on_free();
    ldr_activity_leave();
    dlclose(v->handle);
    /* Keep the memfd (and so its /proc/self/fd/N name) while ld.so still knows an object
     * by that name: reusing the number would make dlopen hand back the stale object. */
    if (dl_iterate_phdr(still_loaded_cb, v->snap.fdpath) != 0)
      v->snap.fd = -1;
  }
  /* Its on_free returned: the vault it received may go, unless the program's own copy
   * (adopted) stays mapped with the pointer. */
  ldr_vault_version_freed(v, !v->adopted);
  ldr_version_free(v);
  it->nv = NULL;
  it->opened = false;
}

/* Undo everything new, in reverse order; the current generation was never touched. */
static void rollback(struct txn *t) {
  for (size_t k = t->n_load; k-- > 0;) {
    struct item *it = &t->items[t->load[k]];
    if (it->nv != NULL)
      unload_new(it);
    if (it->action != LDR_FAILED && is_loading(it))
      it->action = LDR_ROLLED_BACK;
  }
}

/* The steps that run the new builds' code, from dlopen to on_init. */
static int load_steps(struct txn *t) {
  int rc = open_all(t);
  /* State first: import slots the loader fills next must not be overwritten by the old
   * version's (which point to the old versions of the plugins imported). */
  if (rc == 0)
    rc = carry_all(t);
  if (rc == 0) {
    export_all(t);
    rc = import_all(t);
  }
  if (rc == 0)
    rc = run_hooks(t);
  return rc;
}

/* In the trial copy. */
static int trial_body(void *arg, char *err) {
  struct txn *t = arg;
  int rc = load_steps(t);
  snprintf(err, LDR_ERR_MAX, "%s", rc != 0 ? t->err : "");
  return rc;
}

/* The item whose file is `file` (a base name), or the first loading one. */
static struct item *item_of_file(struct txn *t, const char *file) {
  for (size_t k = 0; k < t->n_load; k++)
    if (strcmp(ldr_basename(t->items[t->load[k]].path), file) == 0)
      return &t->items[t->load[k]];
  return &t->items[t->load[0]];
}

/* ldr_trial_run's info: the ELF details of the plugin file being tried. */
static const struct elf_info *trial_info(void *arg, const char *file) {
  const struct item *it = item_of_file(arg, file);
  if (strcmp(ldr_basename(it->path), file) != 0)
    return NULL;
  return it->nv != NULL ? it->nv->snap.info : it->snap.info;
}

/* Step "trial" (opts->trial_ms > 0): load_steps in a forked copy first. Nothing to try
 * when every new version is an object ld.so loaded already (its code ran). Then one line
 * per plugin loaded from its snapshot, before its code runs here. */
static int trial(struct txn *t) {
  bool fresh = false;
  for (size_t k = 0; k < t->n_load; k++)
    fresh = fresh || !t->items[t->load[k]].adopting;
  if (!fresh)
    return 0;
  struct ldr_trial_result r = {.ms = -1};
  if (t->opts->trial_ms > 0) {
    int rc = ldr_trial_run(t->opts->trial_ms, trial_body, trial_info, t, &r);
    if (rc != 0)
      return fail(t, &t->items[t->load[0]], "trial", rc,
                  "cannot start the trial copy: %s (set HOTSWAP_LOAD_TIMEOUT_MS=0 to load "
                  "without a trial)", strerror(-rc));
    if (!r.returned)
      return fail(t, item_of_file(t, r.file), "trial", HOTSWAP_ETRIAL,
                  "%s; this build never ran in the daemon", r.reason);
    if (r.rc != 0) { /* the same step would fail here: refuse it with that step's error */
      snprintf(t->err, sizeof(t->err), "%s", r.err);
      item_of_file(t, r.file)->action = LDR_FAILED;
      return r.rc;
    }
  }
  for (size_t k = 0; t->opts->loading != NULL && k < t->n_load; k++) {
    const struct item *it = &t->items[t->load[k]];
    if (it->adopting)
      continue;
    char line[LDR_ERR_MAX];
    if (r.ms >= 0)
      snprintf(line, sizeof(line), "loading %s %s (trial passed in %.1f ms)",
               ldr_basename(it->path), it->new_version, r.ms);
    else
      snprintf(line, sizeof(line), "loading %s %s", ldr_basename(it->path), it->new_version);
    t->opts->loading(line);
  }
  return 0;
}

static int run_steps(struct txn *t, const char *const *paths, size_t n) {
  int rc = 0;
  for (size_t i = 0; rc == 0 && i < n; i++)
    rc = snapshot_one(t, paths[i]);
  if (rc == 0)
    rc = follow_deps(t);
  if (rc != 0)
    return rc;
  collect_load(t);
  if (t->n_load == 0)
    return 0;
  char why[LDR_ERR_MAX];
  rc = ldr_retire_check_cap(why);
  if (rc != 0)
    return fail(t, &t->items[t->load[0]], "retire", rc, "%s", why);
  rc = validate_all(t);
  if (rc == 0)
    rc = trial(t);
  if (rc == 0)
    rc = load_steps(t);
  if (rc == 0)
    rc = commit(t);
  if (rc != 0)
    rollback(t);
  else
    after_commit(t);
  return rc;
}

uint64_t ldr_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int cmp_results(const void *a, const void *b) {
  return strcmp(((const struct ldr_plugin_result *)a)->name,
                ((const struct ldr_plugin_result *)b)->name);
}

/* Fill the caller's report from the finished transaction. */
static void fill_report(struct txn *t, int rc, struct ldr_report *rep) {
  memset(rep, 0, sizeof(*rep));
  rep->rc = rc;
  snprintf(rep->error, sizeof(rep->error), "%s", rc != 0 ? t->err : "");
  rep->committed = rc == 0 && t->gen != NULL;
  const struct ldr_gen *g = ldr_gen_current();
  rep->has_generation = g != NULL;
  rep->generation = g != NULL ? g->number : 0;
  rep->routed = rep->committed ? t->routed : 0;
  rep->plugins = t->n_items ? calloc(t->n_items, sizeof(*rep->plugins)) : NULL;
  if (rep->plugins == NULL)
    return;
  rep->n_plugins = t->n_items;
  for (size_t i = 0; i < t->n_items; i++) {
    const struct item *it = &t->items[i];
    struct ldr_plugin_result *r = &rep->plugins[i];
    snprintf(r->name, sizeof(r->name), "%s", it->name[0] ? it->name : ldr_basename(it->path));
    snprintf(r->path, sizeof(r->path), "%s", it->path);
    snprintf(r->old_version, sizeof(r->old_version), "%s", it->old_version);
    snprintf(r->new_version, sizeof(r->new_version), "%s", it->new_version);
    r->action = it->action;
    r->routed = rep->committed ? it->routed : 0;
    r->adopted = it->adopting;
    r->map = rep->committed && is_loading(it) ? it->map : NULL;
    r->state = it->state;
  }
  rep->notes = t->notes;
  rep->n_notes = t->n_notes;
  t->notes = NULL;
  t->n_notes = 0;
  qsort(rep->plugins, rep->n_plugins, sizeof(*rep->plugins), cmp_results);
}

/* Record the outcome in the registry and the totals. Called with reg_lock held. */
static void record(struct txn *t, int rc) {
  n_reloads++;
  if (rc != 0)
    n_failures++;
  last_rc = rc;
  snprintf(last_error, sizeof(last_error), "%s", rc != 0 ? t->err : "");
  for (size_t i = 0; i < t->n_items; i++) {
    struct ldr_plugin *p = t->items[i].name[0] ? ldr_registry_find(t->items[i].name) : NULL;
    if (p != NULL)
      p->last_action = t->items[i].action;
  }
}

static void txn_free(struct txn *t) {
  for (size_t i = 0; i < t->n_items; i++) {
    struct item *it = &t->items[i];
    ldr_snapshot_release(&it->snap);
    free(it->deps);
    free(it->newp);
    free(it->newpath);
    free(it->loaded);
    ldr_carry_free(it->carry);
  }
  for (size_t i = 0; i < t->n_notes; i++)
    free(t->notes[i]);
  free(t->notes);
  free(t->items);
  free(t->load);
}

/* Take the reload token, waiting for a reload of another thread to finish (at most
 * within_ms when >= 0). Returns 0, -EDEADLK when this thread already holds it (a plugin hook
 * called ldr_reload), or -EBUSY when the wait ran out. */
static int token_take(int within_ms) {
  pthread_t self = pthread_self();
  struct timespec until;
  clock_gettime(CLOCK_REALTIME, &until);
  until.tv_sec += within_ms / 1000;
  until.tv_nsec += (long)(within_ms % 1000) * 1000000L;
  if (until.tv_nsec >= 1000000000L)
    until.tv_sec++, until.tv_nsec -= 1000000000L;
  pthread_mutex_lock(&reg_lock);
  if (reload_busy && pthread_equal(reload_owner, self)) {
    pthread_mutex_unlock(&reg_lock);
    return -EDEADLK;
  }
  while (reload_busy) {
    if (within_ms < 0) {
      pthread_cond_wait(&reload_done, &reg_lock);
    } else if (pthread_cond_timedwait(&reload_done, &reg_lock, &until) == ETIMEDOUT &&
               reload_busy) {
      pthread_mutex_unlock(&reg_lock);
      return -EBUSY;
    }
  }
  reload_busy = true;
  reload_owner = self;
  pthread_mutex_unlock(&reg_lock);
  return 0;
}

/* Record the outcome and give the token back (wakes a waiting reload). */
static void token_give(struct txn *t, int rc) {
  pthread_mutex_lock(&reg_lock);
  record(t, rc);
  reload_busy = false;
  pthread_cond_broadcast(&reload_done);
  pthread_mutex_unlock(&reg_lock);
}

int ldr_token_acquire(void) { return token_take(-1); }

int ldr_token_acquire_within(int ms) { return token_take(ms); }

void ldr_token_release(void) {
  pthread_mutex_lock(&reg_lock);
  reload_busy = false;
  pthread_cond_broadcast(&reload_done);
  pthread_mutex_unlock(&reg_lock);
}

void ldr_reg_lock(void) { pthread_mutex_lock(&reg_lock); }

void ldr_reg_unlock(void) { pthread_mutex_unlock(&reg_lock); }

/* The transaction proper, run by the token holder: allocate, run the steps, report. */
static int reload_txn(struct txn *t, const char *const *paths, size_t n) {
  size_t cap = n + ldr_registry_count() + 1;
  t->items = calloc(cap, sizeof(*t->items));
  t->load = calloc(cap, sizeof(*t->load));
  if (t->items == NULL || t->load == NULL) {
    snprintf(t->err, sizeof(t->err), "reload: out of memory");
    return -ENOMEM;
  }
  for (size_t i = 0; i < cap; i++)
    t->items[i].snap.fd = -1;
  return run_steps(t, paths, n);
}

int ldr_reload(const char *const *paths, size_t n, const struct ldr_reload_opts *opts,
               struct ldr_report *rep) {
  static const struct ldr_reload_opts no_opts;
  struct txn t = {.opts = opts != NULL ? opts : &no_opts};
  uint64_t start = ldr_now_ns();
  int rc = token_take(-1);
  if (rc != 0) { /* not a reload: neither counted nor recorded as the last result */
    snprintf(t.err, sizeof(t.err), NESTED_RELOAD_REASON);
    if (rep != NULL) {
      fill_report(&t, rc, rep);
      rep->elapsed_ns = ldr_now_ns() - start;
    }
    return rc;
  }
  start = ldr_now_ns(); /* time the transaction, not the wait for the token */
  ldr_state_policy_set(t.opts->state);
  rc = reload_txn(&t, paths, n);
  if (rep != NULL) {
    fill_report(&t, rc, rep);
    rep->elapsed_ns = ldr_now_ns() - start;
  }
  token_give(&t, rc);
  txn_free(&t);
  return rc;
}

int ldr_status_get(struct ldr_status *out) {
  memset(out, 0, sizeof(*out));
  pthread_mutex_lock(&reg_lock);
  out->reloading = reload_busy;
  const struct ldr_gen *g = ldr_gen_current();
  out->has_generation = g != NULL;
  out->generation = g != NULL ? g->number : 0;
  out->reloads = n_reloads;
  out->failures = n_failures;
  out->last_rc = last_rc;
  snprintf(out->last_error, sizeof(out->last_error), "%s", last_error);
  int rc = ldr_registry_status(&out->plugins, &out->n_plugins);
  pthread_mutex_unlock(&reg_lock);
  return rc;
}

int ldr_current_snapshot_fd(const char *name, char *version, size_t n, uint64_t *content_hash) {
  int fd = -ENOENT;
  pthread_mutex_lock(&reg_lock);
  const struct ldr_plugin *p = ldr_registry_find(name);
  const struct ldr_version *v = p != NULL ? p->current : NULL;
  if (v != NULL && v->snap.fd >= 0) {
    fd = fcntl(v->snap.fd, F_DUPFD_CLOEXEC, 0);
    if (fd < 0)
      fd = -errno;
    snprintf(version, n, "%s", v->version);
    *content_hash = v->crash != NULL ? ldr_crashmap_hash(v) : 0;
  }
  pthread_mutex_unlock(&reg_lock);
  return fd;
}

void ldr_status_free(struct ldr_status *st) {
  if (st == NULL)
    return;
  free(st->plugins);
  st->plugins = NULL;
  st->n_plugins = 0;
}
