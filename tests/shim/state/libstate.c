/* SPDX-License-Identifier: BSD-3-Clause */
/* libstate.c - a handler library written the way legacy code is (no hotswap header): its
 * state lives in statics that the executable's start-up code fills once through
 * state_init(), and in an exported variable the executable reads directly (so a non-PIE or
 * PIE executable copy-relocates it). Built several times by tests/shim/module.mk:
 *   STATE_VERSION=1   the first build
 *   STATE_VERSION=1 STATE_REBUILD=1   the same code, another build (another build-id)
 *   STATE_VERSION=2   new answers, new initial values of state_limit and greeting_level
 *   STATE_VERSION=3   struct mime grew a field: mime_table cannot be carried (left fresh)
 *   STATE_VERSION=4   grown like 3, with hotswap_on_transfer converting the old table
 *   STATE_VERSION=5   state_limit grew to 8 bytes: the program's copy cannot follow
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef STATE_VERSION
#define STATE_VERSION 1
#endif
#define STR_(x) #x
#define STR(x) STR_(x)
#define VER "(v" STR(STATE_VERSION) ")"

#ifdef STATE_REBUILD
const char state_rebuild_note[] = "rebuilt";
#endif

/* An init-once table: sorted by qsort at start-up, then searched with bsearch. */
struct mime {
  const char *ext;
  const char *type;
#if STATE_VERSION >= 3
  long hits; /* builds 3 and 4: the struct grew */
#endif
};
static struct mime mime_table[6] = {
    {.ext = "txt", .type = "text/plain"}, {.ext = "html", .type = "text/html"},
    {.ext = "css", .type = "text/css"}, {.ext = "png", .type = "image/png"},
};
static size_t mime_count; /* 0 until state_init */

/* An exported variable the executable reads and may write. */
#if STATE_VERSION == 5
long state_limit = 50;
#elif STATE_VERSION == 2
int state_limit = 20;
#else
int state_limit = 10;
#endif

static long counter;            /* a static counter */
static int greeting_level = STATE_VERSION == 2 ? 2 : 1; /* never changed by the program */

/* A static pointer to a heap cache. */
struct cache {
  char key[32];
  long created_by_version;
};
static struct cache *cache;

/* A table of pointers to static functions, filled at start-up. */
static const char *h_alpha(void) { return "alpha " VER; }
static const char *h_beta(void) { return "beta " VER; }
static const char *(*handlers[2])(void);
static const char *current_name; /* points at a string literal after state_init */

static int by_ext(const void *a, const void *b) {
  return strcmp(((const struct mime *)a)->ext, ((const struct mime *)b)->ext);
}

void state_init(void);
void state_init(void) {
  mime_count = 4;
  qsort(mime_table, mime_count, sizeof(mime_table[0]), by_ext);
  cache = calloc(1, sizeof(*cache));
  if (cache != NULL) {
    snprintf(cache->key, sizeof(cache->key), "warm");
    cache->created_by_version = STATE_VERSION;
  }
  handlers[0] = h_alpha;
  handlers[1] = h_beta;
  current_name = "configured-name";
}

const char *state_mime(const char *ext);
const char *state_mime(const char *ext) {
  struct mime key = {.ext = ext};
  const struct mime *m = bsearch(&key, mime_table, mime_count, sizeof(mime_table[0]), by_ext);
  return m != NULL ? m->type : "application/octet-stream";
}

long state_count(void);
long state_count(void) { return __atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED); }

long state_peek(void);
long state_peek(void) { return __atomic_load_n(&counter, __ATOMIC_RELAXED); }

const char *state_cache(void);
const char *state_cache(void) { return cache != NULL ? cache->key : "none"; }

const char *state_dispatch(int i);
const char *state_dispatch(int i) {
  return i >= 0 && i < 2 && handlers[i] != NULL ? handlers[i]() : "none";
}

const char *state_name(void);
const char *state_name(void) { return current_name != NULL ? current_name : "unset"; }

int state_level(void);
int state_level(void) { return greeting_level; }

const char *state_version(void);
const char *state_version(void) { return VER; }

#if STATE_VERSION == 4
/* Build 4 takes the grown table over itself. */
struct hotswap_transfer {
  const char *name;
  const char *file;
  const void *old_addr;
  size_t old_size;
  void *new_addr;
  size_t new_size;
};
int hotswap_on_transfer(const struct hotswap_transfer *t);
int hotswap_on_transfer(const struct hotswap_transfer *t) {
  if (strcmp(t->name, "mime_table") != 0)
    return 0;
  struct old_mime {
    const char *ext;
    const char *type;
  };
  const struct old_mime *o = t->old_addr;
  size_t n = t->old_size / sizeof(*o);
  for (size_t i = 0; i < n && i < 6; i++) {
    /* Strings of the old build stay valid while it is loaded; keep our own copies. */
    mime_table[i].ext = o[i].ext != NULL ? strdup(o[i].ext) : NULL;
    mime_table[i].type = o[i].type != NULL ? strdup(o[i].type) : NULL;
    mime_table[i].hits = 0;
  }
  return 1;
}
#endif
