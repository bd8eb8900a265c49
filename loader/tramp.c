/* SPDX-License-Identifier: BSD-3-Clause */
/* tramp.c - the trampoline table: the name -> slot map, the generation builder and the
 * one-store commit that every prebuilt trampoline (tramp_<arch>.S) reads on each call.
 *
 * Invariants: slots are handed to names for good (never reused or renamed); a generation
 * never shrinks and a defined slot never becomes NULL again; trampoline i is handed out
 * only once the committed generation covers slot i with a target, so a call through a
 * trampoline can never index past the end of targets[] or jump to NULL.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include "loader/loader.h"
#include "loader/tramp.h"

_Static_assert(offsetof(struct ldr_gen, targets) == LDR_GEN_TARGETS_OFFSET,
               "tramp_<arch>.S indexes targets[] at LDR_GEN_TARGETS_OFFSET");
_Static_assert(LDR_TRAMP_MAX < UINT16_MAX, "the map stores slot + 1 in a uint16_t");

/* The pool of trampolines (tramp_<arch>.S): LDR_TRAMP_MAX of LDR_TRAMP_SIZE bytes each. */
extern const char ldr_tramp_base[] __attribute__((visibility("hidden")));
extern const char ldr_tramp_end[] __attribute__((visibility("hidden")));

/* The committed generation, read by every trampoline with one plain load (an acquire load
 * on x86-64). Written only with __atomic_store_n(..., __ATOMIC_RELEASE), under table_lock. */
extern struct ldr_gen *ldr_tramp_gen;
__attribute__((visibility("hidden"))) struct ldr_gen *ldr_tramp_gen;

/* A generation with a link to the one before it: the chain holds every generation not yet
 * reclaimed, newest first. A superseded generation is freed only by ldr_gen_reclaim, which
 * the shim calls once no thread can still be inside a trampoline that loaded it. */
struct gen_box {
  struct gen_box *older;
  struct ldr_gen gen; /* last: its targets[] is the box's flexible tail */
};

struct ldr_gen_builder {
  struct gen_box *box; /* staged generation; box->gen.n slots in use */
  size_t cap;          /* slots allocated in box->gen.targets */
  size_t added;        /* slots this builder defined that the base generation left NULL */
};

#define MAP_CAP (2 * LDR_TRAMP_MAX) /* open addressing, load factor <= 1/2 */

/* Everything below is guarded by table_lock. The lock is never taken on the call path. */
static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t builder_closed = PTHREAD_COND_INITIALIZER;
static bool builder_open;        /* at most one builder at a time */
static pthread_t builder_owner;  /* the thread that opened it */
static char *slot_names[LDR_TRAMP_MAX];
static uint16_t name_map[MAP_CAP]; /* slot + 1, 0 = empty */
static size_t slots_reserved;      /* slots given to a name, committed or not */
static size_t slots_defined;       /* slots with a target in the committed generation */
/* Slots whose trampoline ldr_route has given out (a GOT entry, a dlsym or hotswap_fn
 * answer): someone may call it. Read by the lifecycle's error reasons, never on the call
 * path. */
static bool handed_out[LDR_TRAMP_MAX];
static struct gen_box *newest_box; /* head of the chain of retained generations */

static uint64_t name_hash(const char *s) {
  uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a */
  for (; *s != '\0'; s++)
    h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
  return h;
}

/* Slot of `symbol`, or -1. With reserve, gives an unknown name the next free slot: returns
 * HOTSWAP_ENOSLOT when none is left, -ENOMEM. Called with table_lock held. */
static long map_slot(const char *symbol, bool reserve) {
  size_t i = (size_t)name_hash(symbol) & (MAP_CAP - 1);
  for (; name_map[i] != 0; i = (i + 1) & (MAP_CAP - 1)) {
    long slot = (long)name_map[i] - 1;
    if (strcmp(slot_names[slot], symbol) == 0)
      return slot;
  }
  if (!reserve)
    return -1;
  if (slots_reserved >= LDR_TRAMP_MAX)
    return HOTSWAP_ENOSLOT;
  char *copy = strdup(symbol);
  if (copy == NULL)
    return -ENOMEM;
  long slot = (long)slots_reserved++;
  slot_names[slot] = copy;
  name_map[i] = (uint16_t)(slot + 1);
  return slot;
}

/* The committed generation as seen by a writer. Called with table_lock held. */
static struct ldr_gen *committed(void) {
  return __atomic_load_n(&ldr_tramp_gen, __ATOMIC_ACQUIRE);
}

/* Target of `slot` in generation g (NULL when g does not cover it). */
static void *gen_target(const struct ldr_gen *g, long slot) {
  if (g == NULL || slot < 0 || (size_t)slot >= g->n)
    return NULL;
  return g->targets[slot];
}

void ldr_free_cleared(void *p) {
  if (p != NULL)
    explicit_bzero(p, malloc_usable_size(p));
  free(p);
}

/* Makes room for `want` slots in b's staged generation. Returns 0 or -ENOMEM. */
static int builder_reserve(struct ldr_gen_builder *b, size_t want) {
  if (want <= b->cap)
    return 0;
  size_t cap = b->cap * 2 > want ? b->cap * 2 : want;
  if (cap > LDR_TRAMP_MAX)
    cap = LDR_TRAMP_MAX;
  /* Not realloc: the old table is cleared (ldr_free_cleared) before it is freed. */
  struct gen_box *box = malloc(sizeof(struct gen_box) + cap * sizeof(box->gen.targets[0]));
  if (box == NULL)
    return -ENOMEM;
  if (b->box != NULL)
    memcpy(box, b->box, sizeof(struct gen_box) + b->cap * sizeof(box->gen.targets[0]));
  ldr_free_cleared(b->box);
  b->box = box;
  b->cap = cap;
  return 0;
}

/* Start building the next generation as a copy of the current one.
 *
 * out: receives the builder, to be finished with ldr_gen_commit or ldr_gen_abort.
 * Returns 0, -EINVAL (out is NULL), -ENOMEM, or -EDEADLK when the calling thread already
 * has a builder open. Thread-safe: builders are serialized; while another thread has one
 * open, this call waits until it is committed or aborted (so every commit starts from the
 * generation it replaces and no update is lost). Never called on the call path. */
int ldr_gen_begin(struct ldr_gen_builder **out) {
  if (out == NULL)
    return -EINVAL;
  *out = NULL;
  pthread_mutex_lock(&table_lock);
  if (builder_open && pthread_equal(builder_owner, pthread_self())) {
    pthread_mutex_unlock(&table_lock);
    return -EDEADLK;
  }
  while (builder_open)
    pthread_cond_wait(&builder_closed, &table_lock);
  const struct ldr_gen *cur = committed();
  size_t n = cur != NULL ? cur->n : 0;
  struct ldr_gen_builder *b = calloc(1, sizeof(*b));
  int rc = b == NULL ? -ENOMEM : builder_reserve(b, n > 64 ? n : 64);
  if (rc != 0) {
    free(b);
    pthread_mutex_unlock(&table_lock);
    return -ENOMEM;
  }
  b->box->older = NULL;
  b->box->gen = (struct ldr_gen){.number = 0, .n = n, .user = NULL};
  if (n > 0)
    memcpy(b->box->gen.targets, cur->targets, n * sizeof(cur->targets[0]));
  builder_open = true;
  builder_owner = pthread_self();
  pthread_mutex_unlock(&table_lock);
  *out = b;
  return 0;
}

/* Point `symbol` at `target` in the staged generation, reserving a slot (and so a
 * trampoline) for a name seen for the first time. The reservation outlives an abort: the
 * name keeps its slot. The trampoline is handed out by ldr_route only after a commit.
 *
 * Returns 0; -EINVAL when b, symbol or target is NULL or symbol is ""; HOTSWAP_ENOSLOT
 * when the name is new and all LDR_TRAMP_MAX trampolines are taken; -ENOMEM.
 * Thread-safe with respect to routing; a builder belongs to the thread that uses it. */
int ldr_gen_set(struct ldr_gen_builder *b, const char *symbol, void *target) {
  if (b == NULL || symbol == NULL || symbol[0] == '\0' || target == NULL)
    return -EINVAL;
  pthread_mutex_lock(&table_lock);
  long slot = map_slot(symbol, true);
  int rc = slot < 0 ? (int)slot : builder_reserve(b, (size_t)slot + 1);
  if (rc == 0) {
    struct ldr_gen *g = &b->box->gen;
    for (; g->n <= (size_t)slot; g->n++)
      g->targets[g->n] = NULL; /* slots of aborted builders, or the new one */
    if (g->targets[slot] == NULL)
      b->added++;
    g->targets[slot] = target;
  }
  pthread_mutex_unlock(&table_lock);
  return rc;
}

/* Target of `symbol` in the staged generation, NULL when it has none (or b/symbol is
 * NULL). Thread-safe with respect to routing. */
void *ldr_gen_staged_target(const struct ldr_gen_builder *b, const char *symbol) {
  if (b == NULL || symbol == NULL)
    return NULL;
  pthread_mutex_lock(&table_lock);
  void *t = gen_target(&b->box->gen, map_slot(symbol, false));
  pthread_mutex_unlock(&table_lock);
  return t;
}

/* Point every slot of the staged generation back at its target in `old` (a generation
 * still allocated). A slot the staged generation defines that `old` did not is refused:
 * its trampoline may already be in callers' hands, and nothing would stay for it to reach.
 * Returns 0, -EINVAL, or HOTSWAP_ENOTFOUND with "'name' did not exist in generation N"
 * in err (LDR_ERR_MAX bytes). Thread-safe; the staged generation is unchanged on error. */
int ldr_gen_restore(struct ldr_gen_builder *b, const struct ldr_gen *old, char *err) {
  if (b == NULL || old == NULL)
    return -EINVAL;
  pthread_mutex_lock(&table_lock);
  struct ldr_gen *g = &b->box->gen;
  for (size_t i = 0; i < g->n; i++) {
    if (g->targets[i] != NULL && (i >= old->n || old->targets[i] == NULL)) {
      snprintf(err, LDR_ERR_MAX, "'%s' did not exist in generation %llu", slot_names[i],
               (unsigned long long)old->number);
      pthread_mutex_unlock(&table_lock);
      return HOTSWAP_ENOTFOUND;
    }
  }
  for (size_t i = 0; i < g->n && i < old->n; i++)
    g->targets[i] = old->targets[i];
  pthread_mutex_unlock(&table_lock);
  return 0;
}

/* Closes the open builder and wakes one waiting in ldr_gen_begin. Called with table_lock. */
static void builder_close(struct ldr_gen_builder *b) {
  free(b);
  builder_open = false;
  pthread_cond_broadcast(&builder_closed);
}

/* Drop a staged generation; the current one is untouched. Slots the builder reserved for
 * new names stay reserved for those names. b may be NULL. Thread-safe. */
void ldr_gen_abort(struct ldr_gen_builder *b) {
  if (b == NULL)
    return;
  pthread_mutex_lock(&table_lock);
  ldr_free_cleared(b->box);
  builder_close(b);
  pthread_mutex_unlock(&table_lock);
}

/* Publish the staged generation with one atomic release store of one pointer and free the
 * builder. From then on every trampoline jumps to the new targets; threads already past
 * the load finish on the old ones (old generations stay mapped, never freed).
 *
 * b: an open builder (not NULL). user: stored in the generation for the lifecycle layer.
 * Returns the new generation, never NULL: everything that can fail was done before.
 * Thread-safe. */
const struct ldr_gen *ldr_gen_commit(struct ldr_gen_builder *b, void *user) {
  pthread_mutex_lock(&table_lock);
  struct ldr_gen *cur = committed();
  struct gen_box *box = b->box;
  box->gen.number = cur != NULL ? cur->number + 1 : 0;
  box->gen.user = user;
  box->older = newest_box;
  newest_box = box;
  slots_defined += b->added;
  /* The one store that switches every symbol at once; pairs with the acquire loads in
   * ldr_gen_current and in the trampolines. */
  __atomic_store_n(&ldr_tramp_gen, &box->gen, __ATOMIC_RELEASE);
  builder_close(b);
  pthread_mutex_unlock(&table_lock);
  return &box->gen;
}

/* The current generation, NULL before the first commit. One acquire load; lock-free,
 * async-signal-safe. */
const struct ldr_gen *ldr_gen_current(void) {
  return __atomic_load_n(&ldr_tramp_gen, __ATOMIC_ACQUIRE);
}

/* Stable trampoline address of `symbol`, valid for the life of the process. Only a symbol
 * with a target in the committed generation has one. Marks the trampoline as handed out
 * (ldr_route_handed_out): from now on someone may call it.
 * Returns 0 and sets *tramp; HOTSWAP_ENOTFOUND; -EINVAL when an argument is NULL.
 * Thread-safe (takes the table lock; not async-signal-safe). */
int ldr_route(const char *symbol, void **tramp) {
  if (symbol == NULL || tramp == NULL)
    return -EINVAL;
  pthread_mutex_lock(&table_lock);
  long slot = map_slot(symbol, false);
  bool ok = gen_target(committed(), slot) != NULL;
  if (ok)
    handed_out[slot] = true;
  pthread_mutex_unlock(&table_lock);
  if (!ok)
    return HOTSWAP_ENOTFOUND;
  *tramp = (void *)(ldr_tramp_base + (size_t)slot * LDR_TRAMP_SIZE);
  return 0;
}

/* Has ldr_route given out the trampoline of `symbol` (false for NULL or an unknown name)?
 * Thread-safe (takes the table lock). */
bool ldr_route_handed_out(const char *symbol) {
  if (symbol == NULL)
    return false;
  pthread_mutex_lock(&table_lock);
  long slot = map_slot(symbol, false);
  bool out = slot >= 0 && handed_out[slot];
  pthread_mutex_unlock(&table_lock);
  return out;
}

/* Target that `symbol` reaches now (committed generation), NULL when not routed.
 * Thread-safe. */
void *ldr_current_target(const char *symbol) {
  if (symbol == NULL)
    return NULL;
  pthread_mutex_lock(&table_lock);
  void *t = gen_target(committed(), map_slot(symbol, false));
  pthread_mutex_unlock(&table_lock);
  return t;
}

/* Slot index of a trampoline address: the start of any of the LDR_TRAMP_MAX trampolines
 * of the pool, handed out or not. -1 for any other address, including one inside a
 * trampoline. Lock-free, async-signal-safe. */
long ldr_tramp_index(const void *addr) {
  uintptr_t a = (uintptr_t)addr, base = (uintptr_t)ldr_tramp_base;
  if (a < base || a >= (uintptr_t)ldr_tramp_end || (a - base) % LDR_TRAMP_SIZE != 0)
    return -1;
  long i = (long)((a - base) / LDR_TRAMP_SIZE);
  return i < LDR_TRAMP_MAX ? i : -1;
}

/* Number of symbols that have a trampoline, i.e. a target in the committed generation
 * (names reserved only by aborted builders do not count). Thread-safe. */
size_t ldr_route_count(void) {
  pthread_mutex_lock(&table_lock);
  size_t n = slots_defined;
  pthread_mutex_unlock(&table_lock);
  return n;
}

/* True when pc lies inside the pool of trampolines (any byte of any of them): a thread
 * interrupted there may have loaded a generation pointer and not yet jumped through it.
 * Lock-free, async-signal-safe. */
bool ldr_tramp_contains(const void *pc) {
  uintptr_t a = (uintptr_t)pc;
  return a >= (uintptr_t)ldr_tramp_base && a < (uintptr_t)ldr_tramp_end;
}

void ldr_tramp_bounds(uintptr_t *lo, uintptr_t *hi) {
  *lo = (uintptr_t)ldr_tramp_base;
  *hi = (uintptr_t)ldr_tramp_end;
}

/* Number of the current generation, 0 before the first commit. Lock-free,
 * async-signal-safe. */
uint64_t ldr_gen_mark(void) {
  const struct ldr_gen *g = ldr_gen_current();
  return g != NULL ? g->number : 0;
}

/* May the retained generation g be freed under `before`? Called with table_lock held. */
static bool reclaimable(const struct ldr_gen *g, uint64_t before) {
  const struct ldr_gen *cur = committed();
  return cur != NULL && g->number < before && g->number + 1 < cur->number;
}

/* Number of retained generations that ldr_gen_reclaim(before, ...) would free now.
 * Thread-safe. */
size_t ldr_gen_reclaimable(uint64_t before) {
  size_t n = 0;
  pthread_mutex_lock(&table_lock);
  for (const struct gen_box *b = newest_box; b != NULL; b = b->older)
    n += reclaimable(&b->gen, before);
  pthread_mutex_unlock(&table_lock);
  return n;
}

/* Number of generations kept (current, previous and those not reclaimed yet). Thread-safe. */
size_t ldr_gen_retained(void) {
  size_t n = 0;
  pthread_mutex_lock(&table_lock);
  for (const struct gen_box *b = newest_box; b != NULL; b = b->older)
    n++;
  pthread_mutex_unlock(&table_lock);
  return n;
}

/* Free every retained generation numbered below `before`, except the current one and the
 * one before it. release(user, number, arg), when not NULL, is called for each freed
 * generation first, with the table lock held (it must not call ldr_gen_* or ldr_route).
 * Returns how many were freed. Thread-safe; the caller guarantees that no thread is still
 * using them (see tramp.h). */
size_t ldr_gen_reclaim(uint64_t before, ldr_gen_release_fn release, void *arg) {
  size_t n = 0;
  pthread_mutex_lock(&table_lock);
  for (struct gen_box **link = &newest_box; *link != NULL;) {
    struct gen_box *b = *link;
    if (!reclaimable(&b->gen, before)) {
      link = &b->older;
      continue;
    }
    *link = b->older;
    if (release != NULL)
      release(b->gen.user, b->gen.number, arg);
    ldr_free_cleared(b);
    n++;
  }
  pthread_mutex_unlock(&table_lock);
  return n;
}

/* Call fn(g, arg) for every retained generation, newest first, with the table lock held
 * (fn must not call ldr_gen_* or ldr_route). Thread-safe. */
void ldr_gen_foreach(void (*fn)(const struct ldr_gen *g, void *arg), void *arg) {
  pthread_mutex_lock(&table_lock);
  for (const struct gen_box *b = newest_box; b != NULL; b = b->older)
    fn(&b->gen, arg);
  pthread_mutex_unlock(&table_lock);
}
