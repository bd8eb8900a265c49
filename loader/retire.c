/* SPDX-License-Identifier: BSD-3-Clause */
/* retire.c - unloading replaced plugin versions once it is provably safe: after the grace
 * period, when the shim's stack check says no thread runs them; pinned libraries reported
 * once; and the cap on replaced versions still in use. See loader.h ("Retirement"). Also
 * hotswap revert, and which vault (extension) each generation records for it.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <link.h>
#include <malloc.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "loader/lifecycle_int.h"
#include "loader/tramp.h"

/* Policy set by ldr_retire_configure; copied out under its own lock by each run. */
static pthread_mutex_t opts_lock = PTHREAD_MUTEX_INITIALIZER;
static struct ldr_retire_opts policy;

/* Held versions are checked again this often (ms) at most; at least every RETRY_MIN_MS. */
#define RETRY_MAX_MS 1000
#define RETRY_MIN_MS 10

void ldr_retire_configure(const struct ldr_retire_opts *opts) {
  pthread_mutex_lock(&opts_lock);
  policy = *opts;
  pthread_mutex_unlock(&opts_lock);
}

static struct ldr_retire_opts get_policy(void) {
  pthread_mutex_lock(&opts_lock);
  struct ldr_retire_opts o = policy;
  pthread_mutex_unlock(&opts_lock);
  return o;
}

int ldr_retire_wait_quiet(const struct ldr_text_range *r, size_t n, unsigned max_ms) {
  struct ldr_retire_opts o = get_policy();
  if (o.busy == NULL)
    return -ENOSYS;
  char why[LDR_ERR_MAX];
  uint64_t until = ldr_now_ns() + (uint64_t)max_ms * 1000000u;
  for (unsigned pause_us = 200;; pause_us = pause_us < 16000 ? pause_us * 2 : pause_us) {
    why[0] = '\0';
    int b = o.busy(r, n, why);
    if (b <= 0)
      return b;
    if (ldr_now_ns() >= until)
      return 1;
    struct timespec ts = {0, (long)pause_us * 1000};
    nanosleep(&ts, NULL);
  }
}

/* Send one formatted line to the policy's note callback (no lock held). */
__attribute__((format(__printf__, 2, 3))) static void note(const struct ldr_retire_opts *o,
                                                       const char *fmt, ...) {
  if (o->note == NULL)
    return;
  char line[LDR_ERR_MAX + 256];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(line, sizeof(line), fmt, ap);
  va_end(ap);
  o->note(line);
}

/* State of one run: the policy, the clock, and what it found. */
struct run {
  struct ldr_retire_opts o;
  uint64_t now;
  struct ldr_retire_result *r;
};

static void wake_in(struct run *run, uint64_t ms) {
  long m = ms < RETRY_MIN_MS ? RETRY_MIN_MS : ms > 3600000u ? 3600000 : (long)ms;
  if (run->r->next_ms < 0 || m < run->r->next_ms)
    run->r->next_ms = m;
}

/* A held version is checked again after its grace period, at most RETRY_MAX_MS later. */
static void wake_held(struct run *run) {
  wake_in(run, run->o.grace_ms < RETRY_MAX_MS ? run->o.grace_ms : RETRY_MAX_MS);
}

/* Set v->why and, when `pinned`, the pinned flag, under the registry mutex. */
static void set_why(struct ldr_version *v, bool pinned, const char *why) {
  ldr_reg_lock();
  v->pinned = pinned;
  snprintf(v->why, sizeof(v->why), "%s", why);
  ldr_reg_unlock();
}

/* Is an object with this name still in the link map (dlclose may keep it)? */
static int still_loaded_cb(struct dl_phdr_info *info, size_t size, void *arg) {
  (void)size;
  return info->dlpi_name != NULL && strcmp(info->dlpi_name, arg) == 0;
}

/* A version whose library dlclose can never unload: pin it before calling anything. */
static bool pin_if_undeletable(struct run *run, struct ldr_version *v) {
  const char *why = v->undeletable;
  if (why == NULL)
    return false;
  set_why(v, true, why);
  note(&run->o, "%s %s is pinned: %s; it stays mapped", v->plugin->name, v->version, why);
  return true;
}

/* Record that a stack check found v held (b > 0) or could not tell (b < 0); logged the
 * first time. */
static void mark_held(struct run *run, struct ldr_version *v, int b, char *why) {
  if (why[0] == '\0')
    snprintf(why, LDR_ERR_MAX, "%s", b > 0 ? "a thread" : "no stack check available");
  bool first = v->held_ns == 0;
  ldr_reg_lock();
  if (first)
    v->held_ns = run->now;
  snprintf(v->why, sizeof(v->why), "%s", why);
  ldr_reg_unlock();
  if (first)
    note(&run->o, "%s %s waits to retire: %s%s", v->plugin->name, v->version,
         b > 0 ? "in use by " : "", why);
}

/* ---- the memory scan (opts.scan) -----------------------------------------------------
 * One scan covers a batch of candidates. Words inside a candidate's own mapping that point
 * into another candidate hold that one only while the first one stays loaded: a fixpoint
 * over the matrix `by` decides. The loader's and ld.so's bookkeeping is skipped: each
 * version's record and arrays, its link_map (malloc'd by ld.so), and every generation's
 * target table (the current one no longer routes to a candidate; the older ones only serve
 * revert and threads between a trampoline's load and jump, which the quiet mark covers). */

struct skips {
  struct ldr_text_range *r;
  size_t n, cap;
};

static void skip_add(struct skips *k, const void *p, size_t len) {
  if (p == NULL || len == 0)
    return;
  if (k->n == k->cap) {
    size_t cap = k->cap ? k->cap * 2 : 64;
    struct ldr_text_range *g = realloc(k->r, cap * sizeof(*g));
    if (g == NULL)
      return; /* a word there is then seen as a holder: only delays retirement */
    k->r = g;
    k->cap = cap;
  }
  k->r[k->n++] = (struct ldr_text_range){(uintptr_t)p, (uintptr_t)p + len};
}

static void skip_gen(const struct ldr_gen *g, void *arg) {
  skip_add(arg, g, sizeof(*g) + g->n * sizeof(g->targets[0]));
}

/* The bookkeeping of every loaded version and generation (reload token held). */
static void collect_skips(struct skips *k) {
  for (size_t i = 0; i < ldr_registry_count(); i++) {
    for (struct ldr_version *v = ldr_registry_at(i)->current; v != NULL; v = v->older) {
      skip_add(k, v, malloc_usable_size(v));
      skip_add(k, v->text, v->n_text * sizeof(v->text[0]));
      skip_add(k, v->targets, v->n_targets * sizeof(v->targets[0]));
      skip_add(k, v->code, v->n_code * sizeof(v->code[0]));
      if (v->crash != NULL) /* the crash path's copy of its range and symbols */
        skip_add(k, v->crash, malloc_usable_size(v->crash));
      if (v->handle != NULL && !v->adopted) /* dlopen's handle is ld.so's malloc'd link_map */
        skip_add(k, v->handle, malloc_usable_size(v->handle));
    }
  }
  ldr_reg_lock();
  ldr_gen_foreach(skip_gen, k);
  ldr_reg_unlock();
}

/* held[i] from the scan: words outside every candidate, or a word in a held candidate. */
static void settle_held(const struct ldr_scan_result *res, const unsigned char *by, size_t n,
                        bool *held) {
  for (size_t i = 0; i < n; i++)
    held[i] = res[i].words > 0;
  for (bool more = true; more;) {
    more = false;
    for (size_t i = 0; i < n; i++)
      for (size_t h = 0; h < n && !held[i]; h++)
        if (h != i && held[h] && by[h * n + i])
          held[i] = more = true;
  }
}

/* Record a scan's verdict on v: held (why from the scan), or one more clean scan. */
static void scan_verdict(struct run *run, struct ldr_version *v, bool held,
                         const struct ldr_scan_result *res, const char *by_other) {
  char why[LDR_ERR_MAX];
  if (held && res->words > 0 && res->words == res->stack_words)
    snprintf(why, sizeof(why), "thread %d", (int)res->thread); /* as the stack check says */
  else if (held && res->words > 0)
    snprintf(why, sizeof(why), "%zu word%s: %s", res->words, res->words == 1 ? "" : "s",
             res->holders[0] ? res->holders : "?");
  else if (held)
    snprintf(why, sizeof(why), "%s", by_other);
  ldr_reg_lock();
  v->words = held ? res->words : 0;
  v->clean = held ? 0 : v->clean + 1;
  ldr_reg_unlock();
  if (held)
    mark_held(run, v, 1, why);
}

/* Ask the shim about ranges r[0..n): 0 clear, 1 held, < 0 cannot tell (why says). */
static int ask_busy(struct run *run, const struct ldr_text_range *r, size_t n, char *why) {
  why[0] = '\0';
  return run->o.busy != NULL ? run->o.busy(r, n, why) : -ENOSYS;
}

/* Remove version `arg` from the version list of generation g (it is being freed). */
static void forget_version(const struct ldr_gen *g, void *arg) {
  struct ldr_gen_refs *refs = g->user;
  for (size_t i = 0; refs != NULL && i < refs->n; i++) {
    if (refs->v[i] == arg) {
      refs->v[i--] = refs->v[--refs->n];
    }
  }
}

/* Unlink *link (== v) from its plugin's chain and from the version lists of the generations
 * still allocated, and free its record and snapshot. */
static void drop(struct ldr_version **link, struct ldr_version *v) {
  ldr_reg_lock();
  *link = v->older;
  v->plugin->n_versions--;
  if (v->n_gens > 0)
    ldr_gen_foreach(forget_version, v);
  ldr_reg_unlock();
  ldr_version_free(v);
}

/* ldr_gen_release_fn: a generation is freed; its versions forget its number. */
static void release_gen(void *user, uint64_t number, void *arg) {
  (void)arg;
  struct ldr_gen_refs *refs = user;
  for (size_t i = 0; refs != NULL && i < refs->n; i++) {
    struct ldr_version *v = refs->v[i];
    for (size_t k = 0; k < v->n_gens; k++) {
      if (v->gens[k] == number) {
        memmove(&v->gens[k], &v->gens[k + 1], (v->n_gens - k - 1) * sizeof(v->gens[0]));
        v->n_gens--;
        break;
      }
    }
  }
  if (refs != NULL)
    ldr_vault_release(refs->vault); /* destroyed by ldr_vault_collect, with no lock held */
  free(refs);
}

int ldr_retire_reclaim_gens(uint64_t before, size_t *freed) {
  int rc = ldr_token_acquire();
  if (rc != 0)
    return rc;
  ldr_reg_lock(); /* lock order: registry, then the table's */
  size_t n = ldr_gen_reclaim(before, release_gen, NULL);
  ldr_reg_unlock();
  ldr_token_release();
  /* Extensions only those generations recorded can never be current again. */
  ldr_vault_collect();
  if (freed != NULL)
    *freed = n;
  return 0;
}

/* hotswap_on_free, dlclose, snapshot. Returns true when unloaded (record freed), false when
 * the object survived dlclose (then pinned). No lock held while plugin code runs. */
static bool unload(struct run *run, struct ldr_version **link, struct ldr_version *v) {
  char name[LDR_NAME_MAX + LDR_VERSION_MAX + 1];
  snprintf(name, sizeof(name), "%s %s", v->plugin->name, v->version);
  uint64_t unused_ms = (run->now - v->replaced_ns) / 1000000u;
  ldr_activity_enter(ldr_basename(v->plugin->path != NULL ? v->plugin->path : v->plugin->name),
                     "hotswap_on_free");
  if (v->on_free != NULL)
    v->on_free();
  dlclose(v->handle); /* destructors */
  ldr_activity_leave();
  /* Its on_free returned: the vaults it received may be freed (also when it stays mapped,
   * pinned: it runs no hook again). */
  ldr_vault_version_freed(v, true);
  if (dl_iterate_phdr(still_loaded_cb, v->snap.fdpath) != 0) {
    /* Keep the memfd: reusing its /proc/self/fd/N name would hand back the stale object. */
    ldr_reg_lock();
    v->handle = NULL;
    ldr_reg_unlock();
    set_why(v, true, "still mapped after dlclose (another object uses it, or it registered "
                     "thread-local destructors)");
    note(&run->o, "%s is pinned: %s", name, v->why);
    return false;
  }
  drop(link, v);
  note(&run->o, "retired %s after %llu ms unused: hotswap_on_free, dlclose, snapshot released",
       name, (unsigned long long)unused_ms);
  return true;
}

/* Most versions, and text ranges, one batched stack check covers. */
#define BATCH_MAX 256
#define BATCH_RANGES 256

/* First look at one replaced version: pinned, adopted (retired at once after its grace
 * period), still in its grace period, or a candidate for the stack check (returns true). */
static bool first_look(struct run *run, struct ldr_version **link, struct ldr_version *v,
                       bool *dropped) {
  *dropped = false;
  if (v->pinned || (v->handle != NULL && !v->adopted && pin_if_undeletable(run, v))) {
    run->r->pinned++;
    return false;
  }
  uint64_t unused_ms = (run->now - v->replaced_ns) / 1000000u;
  if (unused_ms < run->o.grace_ms) {
    run->r->waiting++;
    wake_in(run, run->o.grace_ms - unused_ms);
    return false;
  }
  if (v->adopted) {
    /* ld.so loaded it for the program: never dlclose it, nor call its on_free. */
    note(&run->o, "retired %s %s (adopted: the program's own copy stays mapped, no dlclose)",
         v->plugin->name, v->version);
    ldr_vault_version_freed(v, false); /* still mapped: the vaults it received stay */
    drop(link, v);
    run->r->retired++;
    *dropped = true;
    return false;
  }
  return true;
}

/* One stack check for every candidate at once (the common case: nothing holds any of them).
 * Returns what ask_busy returns, or 2 when they do not fit in one check. */
static int batch_check(struct run *run, struct ldr_version **c, size_t n, char *why) {
  struct ldr_text_range r[BATCH_RANGES];
  size_t nr = 0;
  for (size_t i = 0; i < n; i++) {
    if (nr + c[i]->n_text > BATCH_RANGES)
      return 2;
    memcpy(&r[nr], c[i]->text, c[i]->n_text * sizeof(r[0]));
    nr += c[i]->n_text;
  }
  return ask_busy(run, r, nr, why);
}

/* The link in p's chain that points at v (v is on it). */
static struct ldr_version **link_of(struct ldr_plugin *p, struct ldr_version *v) {
  struct ldr_version **link = &p->current->older;
  while (*link != v)
    link = &(*link)->older;
  return link;
}

/* Stack-check the candidates together; when a thread holds one of them, each on its own.
 * When the check cannot tell (a thread did not answer), all of them wait for the next run. */
static void check_and_unload(struct run *run, struct ldr_version **c, size_t n) {
  char why[LDR_ERR_MAX];
  int all = n > 0 ? batch_check(run, c, n, why) : 0;
  for (size_t i = 0; i < n; i++) {
    struct ldr_version *v = c[i];
    run->now = ldr_now_ns();
    int b = all <= 0 ? all : n == 1 && all == 1 ? 1 : ask_busy(run, v->text, v->n_text, why);
    if (b != 0) {
      mark_held(run, v, b, why);
      run->r->waiting++;
      wake_held(run);
    } else if (unload(run, link_of(v->plugin, v), v)) {
      run->r->retired++;
    } else {
      run->r->pinned++;
    }
  }
}

/* Scan for the candidates that fit in one batch of targets; unload those found clean twice
 * in a row, mark the others held (or waiting for their second scan). */
static void scan_and_unload(struct run *run, struct ldr_version **c, size_t n) {
  struct ldr_scan_group g[BATCH_MAX];
  size_t ng = 0, nr = 0;
  for (; ng < n && nr + c[ng]->n_targets <= BATCH_RANGES; nr += c[ng++]->n_targets)
    g[ng] = (struct ldr_scan_group){c[ng]->targets, c[ng]->n_targets, c[ng]->code,
                                    c[ng]->n_code, c[ng]->map_lo, c[ng]->map_hi};
  for (size_t i = ng; i < n; i++) { /* the next run takes them */
    run->r->waiting++;
    wake_in(run, RETRY_MIN_MS);
  }
  if (ng == 0)
    return;
  struct skips k = {0};
  collect_skips(&k);
  struct ldr_scan_result *res = calloc(ng, sizeof(*res));
  unsigned char *by = calloc(ng * ng, 1);
  bool held[BATCH_MAX];
  char why[LDR_ERR_MAX] = "out of memory";
  int rc = res != NULL && by != NULL ? run->o.scan(g, ng, k.r, k.n, res, by, why) : -ENOMEM;
  if (rc == 0)
    settle_held(res, by, ng, held);
  for (size_t i = 0; i < ng; i++) {
    struct ldr_version *v = c[i];
    run->now = ldr_now_ns();
    if (rc != 0) {
      mark_held(run, v, -1, why);
    } else {
      char other[LDR_ERR_MAX] = "";
      for (size_t h = 0; h < ng && !other[0]; h++)
        if (h != i && held[h] && by[h * ng + i])
          snprintf(other, sizeof(other), "the data of %.60s %.40s", c[h]->plugin->name,
                   c[h]->version);
      scan_verdict(run, v, held[i], &res[i], other);
    }
    if (rc == 0 && !held[i] && v->clean >= 2) {
      if (unload(run, link_of(v->plugin, v), v))
        run->r->retired++;
      else
        run->r->pinned++;
      continue;
    }
    run->r->waiting++;
    if (rc == 0 && !held[i])
      wake_in(run, RETRY_MIN_MS); /* clean once: the second scan soon */
    else
      wake_held(run);
  }
  free(by);
  free(res);
  free(k.r);
}

int ldr_retire_run(struct ldr_retire_result *res) {
  struct ldr_retire_result local;
  struct run run = {.r = res != NULL ? res : &local};
  memset(run.r, 0, sizeof(*run.r));
  run.r->next_ms = -1;
  int rc = ldr_token_acquire();
  if (rc != 0)
    return rc;
  run.o = get_policy();
  struct ldr_version *cand[BATCH_MAX];
  size_t n = 0;
  for (size_t i = 0; run.o.enabled && i < ldr_registry_count(); i++) {
    struct ldr_version **link = &ldr_registry_at(i)->current->older;
    while (*link != NULL) {
      run.now = ldr_now_ns();
      struct ldr_version *v = *link;
      bool dropped;
      bool is_cand = first_look(&run, link, v, &dropped);
      if (is_cand && n < BATCH_MAX) {
        cand[n++] = v;
      } else if (is_cand) { /* more than one batch: the next run takes the rest */
        run.r->waiting++;
        wake_in(&run, RETRY_MIN_MS);
      }
      if (!dropped)
        link = &v->older;
    }
  }
  if (run.o.scan != NULL)
    scan_and_unload(&run, cand, n);
  else
    check_and_unload(&run, cand, n);
  ldr_token_release();
  return 0;
}

int ldr_retire_check_cap(char *err) {
  struct ldr_retire_opts o = get_policy();
  if (!o.enabled || o.max_versions == 0)
    return 0;
  size_t held = 0;
  const struct ldr_version *oldest = NULL;
  for (size_t i = 0; i < ldr_registry_count(); i++) {
    for (const struct ldr_version *v = ldr_registry_at(i)->current->older; v; v = v->older) {
      if (v->pinned || v->held_ns == 0)
        continue;
      held++;
      if (oldest == NULL || v->held_ns < oldest->held_ns)
        oldest = v;
    }
  }
  if (held < o.max_versions)
    return 0;
  snprintf(err, LDR_ERR_MAX,
           "%zu old versions are still in use (oldest: %s %s held by %s for %llu s); "
           "refusing to load more",
           held, oldest->plugin->name, oldest->version, oldest->why,
           (unsigned long long)((ldr_now_ns() - oldest->held_ns) / 1000000000u));
  return HOTSWAP_EBUSY;
}

void ldr_retire_status(const struct ldr_plugin *p, struct ldr_plugin_status *st) {
  uint64_t now = ldr_now_ns();
  st->n_old = 0;
  for (const struct ldr_version *v = p->current->older; v != NULL; v = v->older) {
    if (st->n_old < LDR_OLD_MAX) {
      struct ldr_old_status *o = &st->old[st->n_old];
      snprintf(o->version, sizeof(o->version), "%s", v->version);
      o->adopted = v->adopted;
      o->pinned = v->pinned;
      o->held = !v->pinned && v->held_ns != 0;
      o->unused_ms = (now - v->replaced_ns) / 1000000u;
      o->held_ms = o->held ? (now - v->held_ns) / 1000000u : 0;
      o->words = o->held ? v->words : 0;
      snprintf(o->why, sizeof(o->why), "%s", v->pinned || o->held ? v->why : "");
    }
    st->n_old++;
  }
}

/* ---- revert ------------------------------------------------------------------------- */

struct find_gen {
  uint64_t number;
  const struct ldr_gen *g;
};

static void find_gen_cb(const struct ldr_gen *g, void *arg) {
  struct find_gen *f = arg;
  if (g->number == f->number)
    f->g = g;
}

/* The version of p that generation `prev` routes to, NULL when none (new since, or
 * retired: drop() takes retired versions out of the lists). */
static struct ldr_version *version_in(const struct ldr_gen_refs *refs, const struct ldr_plugin *p) {
  for (size_t i = 0; refs != NULL && i < refs->n; i++)
    if (refs->v[i]->plugin == p)
      return refs->v[i];
  return NULL;
}

/* Which version of each plugin prev ran, into back[]; all must still be loaded. Returns 0
 * or HOTSWAP_ENOPREV with the reason in msg. Called by the token holder. */
static int revert_plan(const struct ldr_gen *prev, struct ldr_version **back, char *msg) {
  unsigned long long n = (unsigned long long)prev->number;
  for (size_t i = 0; i < ldr_registry_count(); i++) {
    struct ldr_plugin *p = ldr_registry_at(i);
    struct ldr_version *v = version_in(prev->user, p);
    if (v == NULL && p->loads <= 1) /* its only version is current: new since */
      snprintf(msg, LDR_ERR_MAX, "plugin %s did not exist in generation %llu", p->name, n);
    else if (v == NULL)
      snprintf(msg, LDR_ERR_MAX, "the version of %s that generation %llu ran was unloaded "
               "since (retired)", p->name, n);
    else if (v->handle == NULL || (v != p->current && v != p->current->older))
      snprintf(msg, LDR_ERR_MAX, "%s %s (generation %llu) is no longer loaded", p->name,
               v->version, n);
    else
      back[i] = v;
    if (back[i] == NULL)
      return HOTSWAP_ENOPREV;
  }
  return 0;
}

/* Make v (p's current or previous version) current again, in generation `number`. Under
 * the registry mutex; cannot fail (gens[] room was reserved). */
static void swap_back(struct ldr_plugin *p, struct ldr_version *v, uint64_t number) {
  v->gens[v->n_gens++] = number;
  if (v == p->current)
    return;
  ldr_crashmap_committed(v, number);
  struct ldr_version *c = p->current;
  c->older = v->older;
  v->older = c;
  p->current = v;
  c->replaced_ns = ldr_now_ns(); /* starts its grace period */
  c->held_ns = 0;
  c->clean = 0;
  v->replaced_ns = 0;
  v->held_ns = 0;
  v->clean = 0;
  if (v->pinned && strncmp(v->why, "state:", 6) == 0)
    v->pinned = false; /* pinned by a carried pointer: serving again, it is current */
  v->why[0] = '\0';
}

/* Build and commit the restored generation. Called by the token holder. */
static int revert_commit(const struct ldr_gen *prev, struct ldr_version **back,
                         struct ldr_gen_refs *refs, uint64_t *generation, char *msg) {
  struct ldr_gen_builder *b = NULL;
  int rc = ldr_gen_begin(&b);
  if (rc == 0)
    rc = ldr_gen_restore(b, prev, msg);
  if (rc != 0) {
    if (msg[0] == '\0')
      snprintf(msg, LDR_ERR_MAX, "%s", hotswap_strerror(rc));
    ldr_gen_abort(b);
    return rc == HOTSWAP_ENOTFOUND ? HOTSWAP_ENOPREV : rc;
  }
  size_t np = ldr_registry_count(), len;
  ldr_reg_lock();
  const struct ldr_gen *g = ldr_gen_commit(b, refs);
  /* The extension that generation's versions filled is current again with their code. */
  ldr_vault_hold(refs->vault);
  ldr_vault_make_current(refs->vault, true);
  len = (size_t)snprintf(msg, LDR_ERR_MAX, "generation %llu (as generation %llu):",
                         (unsigned long long)g->number, (unsigned long long)prev->number);
  for (size_t i = 0; i < np; i++) {
    struct ldr_plugin *p = ldr_registry_at(i);
    if (back[i] != p->current && len < LDR_ERR_MAX)
      len += (size_t)snprintf(msg + len, LDR_ERR_MAX - len, " %s %s -> %s", p->name,
                              p->current->version, back[i]->version);
    swap_back(p, back[i], g->number);
  }
  ldr_reg_unlock();
  if (generation != NULL)
    *generation = g->number;
  return 0;
}

/* State goes back too: what the program changed in each current version is carried into the
 * version that becomes current again. */
static int revert_carry(struct ldr_version **back, struct ldr_carry **carry, char *msg) {
  for (size_t i = 0; i < ldr_registry_count(); i++) {
    struct ldr_plugin *p = ldr_registry_at(i);
    /* A plugin with lifecycle hooks set its state up in them for each version; they do not
     * run again on a revert, so the restored version keeps what its own hooks made. */
    if (back[i] == p->current || back[i]->on_load != NULL || back[i]->on_init != NULL ||
        back[i]->import_fn != NULL)
      continue;
    char why[LDR_ERR_MAX];
    int rc = ldr_state_carry(p->current, back[i], ldr_state_policy_get(), &carry[i], why);
    if (rc != 0) {
      snprintf(msg, LDR_ERR_MAX, "%.100s: state: %.400s", p->name, why);
      return rc;
    }
  }
  return 0;
}

/* After the revert's commit: what waited for it, then the late pass; a summary in msg. */
static void revert_after(struct ldr_carry **carry, size_t np, char *msg) {
  ldr_state_settle(carry, np);
  struct ldr_state_stats sum = {0};
  for (size_t i = 0; i < np; i++)
    if (carry[i] != NULL)
      ldr_state_stats_add(&sum, &carry[i]->stats);
  char st[160];
  size_t len = strlen(msg);
  if (ldr_state_format(&sum, st, sizeof(st)) > 0 && len < LDR_ERR_MAX)
    snprintf(msg + len, LDR_ERR_MAX - len, " (%s)", st);
}

/* ldr_revert with the reload token held. */
static int revert_locked(uint64_t *generation, char *msg) {
  const struct ldr_gen *cur = ldr_gen_current();
  if (cur == NULL || cur->number == 0) {
    snprintf(msg, LDR_ERR_MAX, "no previous generation (%s)",
             cur == NULL ? "nothing is loaded" : "generation 0 is the first");
    return HOTSWAP_ENOPREV;
  }
  struct find_gen f = {.number = cur->number - 1};
  ldr_gen_foreach(find_gen_cb, &f);
  if (f.g == NULL || f.g->user == NULL) {
    snprintf(msg, LDR_ERR_MAX, "generation %llu is no longer kept",
             (unsigned long long)(cur->number - 1));
    return HOTSWAP_ENOPREV;
  }
  const struct ldr_gen_refs *prev = f.g->user;
  if (!ldr_vault_restorable(prev->vault)) {
    snprintf(msg, LDR_ERR_MAX, "the host registered another extension constructor after "
             "generation %llu; its versions never filled that extension",
             (unsigned long long)f.g->number);
    return HOTSWAP_ENOPREV;
  }
  size_t np = ldr_registry_count();
  struct ldr_version **back = calloc(np + 1, sizeof(*back));
  struct ldr_gen_refs *refs = malloc(sizeof(*refs) + (np + 1) * sizeof(refs->v[0]));
  if (refs != NULL)
    refs->vault = prev->vault;
  int rc = back != NULL && refs != NULL ? revert_plan(f.g, back, msg) : -ENOMEM;
  for (size_t i = 0; rc == 0 && i < np; i++) {
    refs->v[i] = back[i];
    refs->n = i + 1;
    rc = ldr_version_reserve_gen(back[i]);
  }
  if (rc == -ENOMEM)
    snprintf(msg, LDR_ERR_MAX, "out of memory");
  struct ldr_carry **carry = rc == 0 ? calloc(np + 1, sizeof(*carry)) : NULL;
  if (rc == 0 && carry == NULL) {
    rc = -ENOMEM;
    snprintf(msg, LDR_ERR_MAX, "out of memory");
  }
  if (rc == 0)
    rc = revert_carry(back, carry, msg);
  if (rc == 0) {
    if (np == 0)
      refs->n = 0;
    rc = revert_commit(f.g, back, refs, generation, msg);
  }
  if (rc == 0)
    revert_after(carry, np, msg);
  for (size_t i = 0; carry != NULL && i < np; i++)
    ldr_carry_free(carry[i]);
  free(carry);
  if (rc != 0)
    free(refs);
  free(back);
  return rc;
}

/* How long a revert waits for a running reload before it says so instead (the control
 * thread answers nothing else meanwhile). */
#define REVERT_WAIT_MS 500

int ldr_revert(uint64_t *generation, char *msg) {
  msg[0] = '\0';
  int rc = ldr_token_acquire_within(REVERT_WAIT_MS);
  struct ldr_activity a;
  if (rc == -EBUSY && ldr_activity_get(&a))
    snprintf(msg, LDR_ERR_MAX, "a reload is still running, in %s %s for %.1f s; revert "
             "after it ends", a.file, a.what, (double)(ldr_now_ns() - a.since_ns) / 1e9);
  else if (rc == -EBUSY)
    snprintf(msg, LDR_ERR_MAX, "a reload is still running; revert after it ends");
  else if (rc != 0)
    snprintf(msg, LDR_ERR_MAX, "called from inside a plugin hook");
  if (rc != 0)
    return rc;
  rc = revert_locked(generation, msg);
  ldr_token_release();
  return rc;
}

int ldr_gen_record_vault(struct hotswap_vault *v, bool had_gen, uint64_t number) {
  int rc = ldr_token_acquire();
  if (rc != 0)
    return rc;
  const struct ldr_gen *g = ldr_gen_current();
  if ((g != NULL) != had_gen || (g != NULL && g->number != number)) {
    ldr_token_release();
    return -EAGAIN;
  }
  ldr_reg_lock();
  struct ldr_gen_refs *refs = g != NULL ? g->user : NULL;
  if (refs != NULL) {
    ldr_vault_hold(v);
    ldr_vault_release(refs->vault);
    refs->vault = v;
  }
  ldr_vault_make_current(v, false);
  ldr_reg_unlock();
  ldr_token_release();
  return 0;
}
