/* retire.c - unloading replaced plugin versions once it is provably safe: after the grace
 * period, when the shim's stack check says no thread runs them; pinned libraries reported
 * once; and the cap on replaced versions still in use. See loader.h ("Retirement").
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <link.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loader/lifecycle_int.h"

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

/* Send one formatted line to the policy's note callback (no lock held). */
__attribute__((format(printf, 2, 3))) static void note(const struct ldr_retire_opts *o,
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
  const struct elf_info *info = v->snap.info;
  const char *why = info == NULL        ? NULL
                    : info->nodelete    ? "DF_1_NODELETE: dlclose cannot unload it"
                    : info->has_unique ? "exports STB_GNU_UNIQUE symbols: dlclose cannot unload it"
                                        : NULL;
  if (why == NULL)
    return false;
  set_why(v, true, why);
  note(&run->o, "%s %s is pinned: %s; it stays mapped", v->plugin->name, v->version, why);
  return true;
}

/* Ask the shim whether a thread still runs v. Returns true when it may go. */
static bool stacks_clear(struct run *run, struct ldr_version *v) {
  char why[LDR_ERR_MAX] = "";
  int b = run->o.busy != NULL ? run->o.busy(v->text, v->n_text, why) : -ENOSYS;
  if (b == 0)
    return true;
  if (why[0] == '\0')
    snprintf(why, sizeof(why), "%s", b > 0 ? "a thread" : "no stack check available");
  bool first = v->held_ns == 0;
  ldr_reg_lock();
  if (first)
    v->held_ns = run->now;
  snprintf(v->why, sizeof(v->why), "%s", why);
  ldr_reg_unlock();
  if (first)
    note(&run->o, "%s %s waits to retire: %s%s", v->plugin->name, v->version,
         b > 0 ? "in use by " : "", why);
  return false;
}

/* Unlink *link (== v) from its plugin's chain and free its record and snapshot. */
static void drop(struct ldr_version **link, struct ldr_version *v) {
  ldr_reg_lock();
  *link = v->older;
  v->plugin->n_versions--;
  ldr_reg_unlock();
  ldr_version_free(v);
}

/* hotswap_on_free, dlclose, snapshot. Returns true when unloaded (record freed), false when
 * the object survived dlclose (then pinned). No lock held while plugin code runs. */
static bool unload(struct run *run, struct ldr_version **link, struct ldr_version *v) {
  char name[LDR_NAME_MAX + LDR_VERSION_MAX + 1];
  snprintf(name, sizeof(name), "%s %s", v->plugin->name, v->version);
  uint64_t unused_ms = (run->now - v->replaced_ns) / 1000000u;
  if (v->on_free != NULL)
    v->on_free();
  dlclose(v->handle);
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

/* Consider one replaced version. Returns true when it left the chain (*link moved on). */
static bool consider(struct run *run, struct ldr_version **link, struct ldr_version *v) {
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
    drop(link, v);
    run->r->retired++;
    return true;
  }
  if (!stacks_clear(run, v)) {
    run->r->waiting++;
    wake_in(run, run->o.grace_ms < RETRY_MAX_MS ? run->o.grace_ms : RETRY_MAX_MS);
    return false;
  }
  if (!unload(run, link, v)) {
    run->r->pinned++;
    return false;
  }
  run->r->retired++;
  return true;
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
  for (size_t i = 0; run.o.enabled && i < ldr_registry_count(); i++) {
    struct ldr_plugin *p = ldr_registry_at(i);
    struct ldr_version **link = &p->current->older;
    while (*link != NULL) {
      run.now = ldr_now_ns();
      struct ldr_version *v = *link;
      if (!consider(&run, link, v))
        link = &v->older;
    }
  }
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
      o->pinned = v->pinned;
      o->held = !v->pinned && v->held_ns != 0;
      o->unused_ms = (now - v->replaced_ns) / 1000000u;
      o->held_ms = o->held ? (now - v->held_ns) / 1000000u : 0;
      snprintf(o->why, sizeof(o->why), "%s", v->pinned || o->held ? v->why : "");
    }
    st->n_old++;
  }
}
