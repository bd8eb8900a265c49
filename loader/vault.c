/* SPDX-License-Identifier: BSD-3-Clause */
/* vault.c - the vault of the host API (hotswap.h): one data bag per process that survives
 * reloads, and the extension object built by the host's constructor for each reload and
 * handed to the new versions' hotswap_on_init. Each generation records the vault it ran
 * with, so a revert makes that extension current again; an extension is destroyed once no
 * generation that may become current records it, and the vault itself is freed once no
 * plugin version that received it is still loaded. Destructors and constructors (host or
 * plugin code) always run with no lock held.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "loader/api.h"
#include "loader/lifecycle_int.h"
#include "loader/tramp.h"

/* ---- the data bag ---------------------------------------------------------------------- */

struct bag_entry {
  char *key;
  void *value;
  hotswap_destroy_fn destroy;
};

/* Guards the bag; held only to find, add or take an entry. */
static pthread_mutex_t bag_lock = PTHREAD_MUTEX_INITIALIZER;
static struct bag_entry *bag;
static size_t bag_n, bag_cap;

/* Index of key, bag_n when absent. Called with bag_lock held. */
static size_t bag_find(const char *key) {
  size_t i = 0;
  while (i < bag_n && strcmp(bag[i].key, key) != 0)
    i++;
  return i;
}

int ldr_vault_put(const char *key, void *value, hotswap_destroy_fn destroy) {
  if (key == NULL || key[0] == '\0')
    return -EINVAL;
  char *k = strdup(key);
  if (k == NULL)
    return -ENOMEM;
  struct bag_entry old = {NULL, NULL, NULL};
  int rc = 0;
  pthread_mutex_lock(&bag_lock);
  size_t i = bag_find(key);
  if (i == bag_n && bag_n == bag_cap) {
    size_t cap = bag_cap ? bag_cap * 2 : 16;
    struct bag_entry *nb = realloc(bag, cap * sizeof(*nb));
    if (nb != NULL)
      bag = nb, bag_cap = cap;
    else
      rc = -ENOMEM;
  }
  if (rc == 0) {
    if (i < bag_n)
      old = bag[i];
    else
      bag_n++;
    bag[i] = (struct bag_entry){k, value, destroy};
  }
  pthread_mutex_unlock(&bag_lock);
  free(rc == 0 ? old.key : k);
  if (old.destroy != NULL && old.value != value)
    old.destroy(old.value); /* no lock held */
  return rc;
}

void *ldr_vault_get(const char *key) {
  if (key == NULL)
    return NULL;
  pthread_mutex_lock(&bag_lock);
  size_t i = bag_find(key);
  void *v = i < bag_n ? bag[i].value : NULL;
  pthread_mutex_unlock(&bag_lock);
  return v;
}

int ldr_vault_remove(const char *key) {
  if (key == NULL || key[0] == '\0')
    return -EINVAL;
  struct bag_entry old = {NULL, NULL, NULL};
  pthread_mutex_lock(&bag_lock);
  size_t i = bag_find(key);
  if (i < bag_n) {
    old = bag[i];
    bag[i] = bag[--bag_n];
  }
  pthread_mutex_unlock(&bag_lock);
  if (old.key == NULL)
    return HOTSWAP_ENOKEY;
  free(old.key);
  if (old.destroy != NULL)
    old.destroy(old.value); /* no lock held */
  return 0;
}

/* ---- the extension ---------------------------------------------------------------------- */

/* A vault handed to hotswap_on_init. A plugin may use the pointer until its hotswap_on_free
 * returns, so a vault lives as long as a generation records it (its extension too) or a
 * plugin version that received it is loaded. Once no generation that may become current
 * records it, its extension is destroyed (and the field set to NULL) and it moves from the
 * `live` list to the `spent` one, where it stays until the last version that received it
 * is freed (ldr_vault_version_freed). */
struct staged {
  struct hotswap_vault pub; /* first: what plugins see */
  uint64_t serial;          /* ext_serial when it was built */
  hotswap_destroy_fn destroy;
  bool kept;                /* a commit recorded it (or a caller finished it as committed) */
  bool spent;               /* its extension was destroyed: on the spent list */
  unsigned gens;            /* retained generations that record it, plus pins */
  unsigned users;           /* versions that received it and were not freed yet, plus those
                             * that can never release it (adopted, or out of memory) */
  struct staged *next;      /* the live list, or the spent one */
};

/* One plugin version that received one vault (in hotswap_on_init). */
struct receipt {
  const void *version;
  struct staged *s;
};

/* Guards the constructor, its serial, the live and spent lists, the receipts and the
 * current vault; never held while a constructor, destructor or plugin runs. Lock order: the
 * registry mutex and the table lock (loader/) before this one; this file never takes them
 * while holding it. */
static pthread_mutex_t ext_lock = PTHREAD_MUTEX_INITIALIZER;
static hotswap_extension_newer_fn ext_newer;
static hotswap_destroy_fn ext_destroy;
static uint64_t ext_serial;      /* bumped by every ldr_vault_set_extension_newer */
static struct staged *live;      /* staged vaults whose extension is not destroyed yet */
static struct staged *spent;     /* vaults whose extension was destroyed, still received by a
                                  * loaded version */
static struct staged *cur;       /* the vault whose extension is current, NULL before any */
static _Atomic(void *) cur_ext;  /* cur's extension, read lock-free by the host */
static struct receipt *receipts; /* which loaded version received which vault */
static size_t n_receipts, cap_receipts;

/* The live vault v, NULL when v is NULL or not one of ours (the loader treats vaults as
 * opaque: a test may pass a stand-in). Called with ext_lock held. */
static struct staged *find_live(const struct hotswap_vault *v) {
  struct staged *s = live;
  while (s != NULL && &s->pub != v)
    s = s->next;
  return s;
}

/* Make s the current vault. Called with ext_lock held. */
static void set_current(struct staged *s) {
  cur = s;
  atomic_store_explicit(&cur_ext, s->pub.extension, memory_order_release);
}

/* Mark s as recorded by a commit; it becomes current unless the constructor changed since it was built,
 * or (force false) the constructor gave it no extension. Called with ext_lock held. */
static void keep_locked(struct staged *s, bool force) {
  s->kept = true;
  if (s->serial == ext_serial && (force || s->pub.extension != NULL || ext_newer == NULL))
    set_current(s);
}

/* Take s off the live list. Called with ext_lock held. */
static void unlink_live(struct staged *s) {
  struct staged **link = &live;
  while (*link != s)
    link = &(*link)->next;
  *link = s->next;
}

struct hotswap_vault *ldr_vault_stage(void) {
  pthread_mutex_lock(&ext_lock);
  /* Without an extension constructor every vault is the same: hand out the current one again
   * instead of building one more per reload (each would live as long as its versions). */
  if (ext_newer == NULL && cur != NULL && cur->serial == ext_serial &&
      cur->pub.extension == NULL) {
    struct staged *same = cur;
    pthread_mutex_unlock(&ext_lock);
    return &same->pub;
  }
  pthread_mutex_unlock(&ext_lock);
  struct staged *s = calloc(1, sizeof(*s));
  if (s == NULL)
    return NULL;
  pthread_mutex_lock(&ext_lock);
  hotswap_extension_newer_fn newer = ext_newer;
  s->destroy = ext_destroy;
  s->serial = ext_serial;
  struct staged *prev = cur != NULL && cur->serial == ext_serial ? cur : NULL;
  if (prev != NULL)
    prev->gens++; /* pinned: not destroyed while newer() reads it */
  pthread_mutex_unlock(&ext_lock);
  s->pub.version = HOTSWAP_VAULT_VERSION;
  s->pub.extension = newer != NULL ? newer(prev != NULL ? prev->pub.extension : NULL) : NULL;
  s->pub.put = ldr_vault_put;
  s->pub.get = ldr_vault_get;
  s->pub.remove = ldr_vault_remove;
  s->pub.live_fn = ldr_live_fn;
  pthread_mutex_lock(&ext_lock);
  if (prev != NULL)
    prev->gens--;
  s->next = live;
  live = s;
  pthread_mutex_unlock(&ext_lock);
  if (prev != NULL)
    ldr_vault_collect(); /* in case the pin was all that kept it */
  return &s->pub;
}

/* Destroy s's extension with the host's function, leaving NULL in the vault that versions
 * may still read. s is on no list. Returns true when a destructor ran. Call with NO lock
 * held: it runs host code. */
static bool destroy_extension(struct staged *s) {
  void *ext = s->pub.extension;
  s->pub.extension = NULL;
  if (s->destroy == NULL || ext == NULL)
    return false;
  s->destroy(ext); /* host code: no lock held */
  return true;
}

/* s (on no list) has no extension any more: free it when no version received it, else keep
 * it on the spent list until ldr_vault_version_freed releases the last one. Call with no
 * lock held. */
static void park_or_free(struct staged *s) {
  pthread_mutex_lock(&ext_lock);
  bool unused = s->users == 0;
  if (!unused) {
    s->spent = true;
    s->next = spent;
    spent = s;
  }
  pthread_mutex_unlock(&ext_lock);
  if (unused)
    free(s);
}

void ldr_vault_finish(struct hotswap_vault *v, bool committed_) {
  if (v == NULL)
    return;
  pthread_mutex_lock(&ext_lock);
  struct staged *s = find_live(v);
  if (s == NULL || s->kept || committed_) { /* recorded by a commit, or shared */
    if (s != NULL && !s->kept)
      keep_locked(s, false); /* committed by a caller that passed it to no ldr_reload */
    pthread_mutex_unlock(&ext_lock);
    ldr_vault_collect(); /* the vault that was current may have no generation left */
    return;
  }
  unlink_live(s);
  pthread_mutex_unlock(&ext_lock);
  /* Versions that received it were rolled back (freed) already, except the current ones
   * ldr_rerun_on_init gave it to: those keep the vault, without its extension. */
  destroy_extension(s);
  park_or_free(s);
}

void ldr_vault_hold(struct hotswap_vault *v) {
  pthread_mutex_lock(&ext_lock);
  struct staged *s = find_live(v);
  if (s != NULL)
    s->gens++;
  pthread_mutex_unlock(&ext_lock);
}

void ldr_vault_release(struct hotswap_vault *v) {
  pthread_mutex_lock(&ext_lock);
  struct staged *s = find_live(v);
  if (s != NULL && s->gens > 0)
    s->gens--;
  pthread_mutex_unlock(&ext_lock);
}

void ldr_vault_make_current(struct hotswap_vault *v, bool restore) {
  pthread_mutex_lock(&ext_lock);
  struct staged *s = find_live(v);
  if (s != NULL)
    keep_locked(s, restore);
  pthread_mutex_unlock(&ext_lock);
}

bool ldr_vault_restorable(const struct hotswap_vault *v) {
  pthread_mutex_lock(&ext_lock);
  const struct staged *s = find_live(v);
  bool ok = s == NULL || s->serial == ext_serial;
  pthread_mutex_unlock(&ext_lock);
  return ok;
}

size_t ldr_vault_collect(void) {
  struct staged *dead = NULL;
  pthread_mutex_lock(&ext_lock);
  for (struct staged **link = &live; *link != NULL;) {
    struct staged *s = *link;
    if (!s->kept || s->gens > 0 || s == cur) {
      link = &s->next;
      continue;
    }
    *link = s->next; /* off the list under the lock: destroyed exactly once */
    s->next = dead;
    dead = s;
  }
  pthread_mutex_unlock(&ext_lock);
  size_t n = 0;
  for (struct staged *s = dead, *next; s != NULL; s = next) {
    next = s->next;
    n += destroy_extension(s);
    park_or_free(s); /* freed now, or once the versions that received it are */
  }
  return n;
}

/* Does `version` hold a receipt for s? Called with ext_lock held. */
static bool has_receipt(const void *version, const struct staged *s) {
  for (size_t i = 0; i < n_receipts; i++) {
    if (receipts[i].version == version && receipts[i].s == s)
      return true;
  }
  return false;
}

void ldr_vault_received(const void *version, struct hotswap_vault *v) {
  if (version == NULL || v == NULL)
    return;
  pthread_mutex_lock(&ext_lock);
  struct staged *s = find_live(v);
  if (s != NULL && !has_receipt(version, s)) {
    s->users++;
    if (n_receipts == cap_receipts) {
      size_t cap = cap_receipts ? cap_receipts * 2 : 16;
      struct receipt *nr = realloc(receipts, cap * sizeof(*nr));
      if (nr != NULL)
        receipts = nr, cap_receipts = cap;
    }
    /* Out of memory: no receipt, so nothing ever releases s: kept for good, never unsafe. */
    if (n_receipts < cap_receipts)
      receipts[n_receipts++] = (struct receipt){version, s};
  }
  pthread_mutex_unlock(&ext_lock);
}

/* Take s off the spent list. Called with ext_lock held. */
static void unlink_spent(struct staged *s) {
  struct staged **link = &spent;
  while (*link != s)
    link = &(*link)->next;
  *link = s->next;
}

void ldr_vault_version_freed(const void *version, bool unloaded) {
  struct staged *dead = NULL;
  pthread_mutex_lock(&ext_lock);
  for (size_t i = 0; i < n_receipts;) {
    struct staged *s = receipts[i].s;
    if (receipts[i].version != version) {
      i++;
      continue;
    }
    receipts[i] = receipts[--n_receipts];
    if (!unloaded)
      continue; /* its code stays mapped and may use s: s->users never drops to 0 */
    if (--s->users == 0 && s->spent) {
      unlink_spent(s);
      s->next = dead;
      dead = s;
    }
  }
  pthread_mutex_unlock(&ext_lock);
  while (dead != NULL) {
    struct staged *s = dead;
    dead = s->next;
    free(s);
  }
}

size_t ldr_vault_count(void) {
  size_t n = 0;
  pthread_mutex_lock(&ext_lock);
  for (const struct staged *s = live; s != NULL; s = s->next)
    n++;
  for (const struct staged *s = spent; s != NULL; s = s->next)
    n++;
  pthread_mutex_unlock(&ext_lock);
  return n;
}

/* Build an extension with the new constructor, run every current version's on_init on it
 * and make it the one the current generation records. Returns 0, -EAGAIN when a reload
 * committed meanwhile (nothing kept: try again), or an error of ldr_rerun_on_init. */
static int install_extension(char *err, size_t errlen) {
  struct hotswap_vault *v = ldr_vault_stage();
  if (v == NULL)
    return -ENOMEM;
  const struct ldr_gen *g = ldr_gen_current();
  uint64_t number = g != NULL ? g->number : 0;
  int rc = ldr_rerun_on_init(v, err, errlen);
  if (rc == 0)
    rc = ldr_gen_record_vault(v, g != NULL, number);
  ldr_vault_finish(v, rc == 0);
  return rc;
}

/* Attempts before a registration gives up on reloads that keep committing meanwhile. */
#define INSTALL_TRIES 8

int ldr_vault_set_extension_newer(hotswap_extension_newer_fn newer, hotswap_destroy_fn destroy,
                                  char *err, size_t errlen) {
  if (err != NULL && errlen > 0)
    err[0] = '\0';
  if (newer == NULL)
    return -EINVAL;
  pthread_mutex_lock(&ext_lock);
  ext_newer = newer;
  ext_destroy = destroy;
  ext_serial++;
  pthread_mutex_unlock(&ext_lock);
  int rc = -EAGAIN;
  for (int i = 0; rc == -EAGAIN && i < INSTALL_TRIES; i++)
    rc = install_extension(err, errlen);
  if (rc == -EAGAIN && err != NULL && errlen > 0)
    snprintf(err, errlen, "reloads kept committing while the extension was being built");
  return rc;
}

void *ldr_vault_extension(void) { return atomic_load_explicit(&cur_ext, memory_order_acquire); }
