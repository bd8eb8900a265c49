/* vault.c - the vault of the host API (hotswap.h): one data bag per process that survives
 * reloads, and the extension object built by the host's constructor for each reload and
 * handed to the new versions' hotswap_on_init. Destructors and constructors (host or plugin
 * code) always run with no lock held.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "loader/api.h"

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

/* A vault handed to hotswap_on_init. Committed ones are kept for the life of the process:
 * plugins may keep the pointer, and the extension may point into code still mapped. */
struct staged {
  struct hotswap_vault pub; /* first: what plugins see */
  uint64_t serial;          /* ext_serial when it was built */
  hotswap_destroy_fn destroy;
  bool kept;                /* on the committed list (then never freed, maybe shared) */
  struct staged *next;      /* committed ones, newest first */
};

/* Guards the constructor, its serial and the committed list; never held while a
 * constructor, destructor or plugin runs. */
static pthread_mutex_t ext_lock = PTHREAD_MUTEX_INITIALIZER;
static hotswap_extension_newer_fn ext_newer;
static hotswap_destroy_fn ext_destroy;
static uint64_t ext_serial;       /* bumped by every ldr_vault_set_extension_newer */
static uint64_t cur_serial;       /* serial of the current extension */
static struct staged *committed;  /* newest first */
static _Atomic(void *) cur_ext;   /* the current extension, read lock-free by the host */

struct hotswap_vault *ldr_vault_stage(void) {
  pthread_mutex_lock(&ext_lock);
  /* Without an extension constructor every vault is the same: hand out the last committed
   * one again instead of keeping one more per reload (they are kept for good). */
  if (ext_newer == NULL && committed != NULL && committed->serial == ext_serial &&
      committed->pub.extension == NULL) {
    struct staged *same = committed;
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
  const void *prev = cur_serial == ext_serial ? atomic_load(&cur_ext) : NULL;
  pthread_mutex_unlock(&ext_lock);
  s->pub.version = HOTSWAP_VAULT_VERSION;
  s->pub.extension = newer != NULL ? newer(prev) : NULL; /* host code: no lock held */
  s->pub.put = ldr_vault_put;
  s->pub.get = ldr_vault_get;
  s->pub.remove = ldr_vault_remove;
  s->pub.live_fn = ldr_live_fn;
  return &s->pub;
}

void ldr_vault_finish(struct hotswap_vault *v, bool committed_) {
  struct staged *s = (struct staged *)v;
  if (s == NULL)
    return;
  bool keep = false;
  pthread_mutex_lock(&ext_lock);
  if (s->kept) { /* handed out again by ldr_vault_stage: already kept */
    pthread_mutex_unlock(&ext_lock);
    return;
  }
  if (committed_ && s->serial == ext_serial) {
    keep = true;
    s->kept = true;
    s->next = committed;
    committed = s;
    if (s->pub.extension != NULL || ext_newer == NULL) {
      cur_serial = s->serial;
      atomic_store_explicit(&cur_ext, s->pub.extension, memory_order_release);
    }
  }
  pthread_mutex_unlock(&ext_lock);
  if (keep)
    return;
  if (s->destroy != NULL && s->pub.extension != NULL)
    s->destroy(s->pub.extension); /* no lock held */
  free(s);
}

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
  struct hotswap_vault *v = ldr_vault_stage();
  if (v == NULL)
    return -ENOMEM;
  int rc = ldr_rerun_on_init(v, err, errlen);
  ldr_vault_finish(v, rc == 0);
  return rc;
}

void *ldr_vault_extension(void) { return atomic_load_explicit(&cur_ext, memory_order_acquire); }
