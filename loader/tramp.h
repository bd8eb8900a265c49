/* SPDX-License-Identifier: BSD-3-Clause */
/* tramp.h - the trampoline table and its generations (internal API, prefix ldr_).
 *
 * One prebuilt trampoline per routed symbol (loader/tramp_<arch>.S) tail-jumps through the
 * CURRENT generation: an immutable array of targets, published with one release store of
 * one pointer and read with one acquire load. There is one table per process.
 *
 * Writers (builders, commits, routing of new names) are serialized by an internal mutex;
 * the call path takes no lock, counter or syscall.
 */
#ifndef HOTSWAP_LOADER_TRAMP_H
#define HOTSWAP_LOADER_TRAMP_H

/* Number of prebuilt trampolines. Routing one more symbol fails with HOTSWAP_ENOSLOT: the
 * builder's ldr_gen_set refuses the name, and the lifecycle turns that into a refused
 * reload (the running generation keeps serving). The pool is fixed code, never grown. */
#define LDR_TRAMP_MAX 16384
/* Bytes between two trampolines: trampoline i is at ldr_tramp_base + i * LDR_TRAMP_SIZE.
 * 32 on both architectures: x86-64's endbr64 + load + jump take 18 bytes, aarch64's
 * bti c + adrp/ldr/add/ldr + br take 24. */
#define LDR_TRAMP_SIZE 32
/* offsetof(struct ldr_gen, targets), used by the assembly (checked in tramp.c). */
#define LDR_GEN_TARGETS_OFFSET 24

#ifndef __ASSEMBLER__ /* the rest is C; tramp_<arch>.S only needs the numbers above */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hotswap.h"

/* Free p (malloc'd, may be NULL) after clearing all of it (malloc_usable_size). For the loader's records that hold addresses inside
 * plugin versions: retirement's memory scan reads the whole heap, freed blocks included, and
 * would take a stale copy for a pointer the program still holds. */
void ldr_free_cleared(void *p);

/* An immutable generation. A superseded one stays allocated until ldr_gen_reclaim frees it
 * (never the current one nor the one before it); `user` is the lifecycle layer's record of
 * which plugin versions it references. */
struct ldr_gen {
  uint64_t number; /* 0 for the first committed generation, then 1, 2, ... */
  size_t n;        /* number of slots in targets[] */
  void *user;
  void *targets[];
};

/* Staging area for the next generation: starts as a copy of the current one. */
struct ldr_gen_builder;

/* Start building the next generation. Returns 0 or -ENOMEM. Thread-safe. */
int ldr_gen_begin(struct ldr_gen_builder **out);
/* Point `symbol` at `target` in the staged generation, giving the symbol a trampoline if it
 * has none yet. Returns 0, HOTSWAP_ENOSLOT past LDR_TRAMP_MAX, -EINVAL, -ENOMEM. */
int ldr_gen_set(struct ldr_gen_builder *b, const char *symbol, void *target);
/* Target of `symbol` in the staged generation, NULL when it has none. */
void *ldr_gen_staged_target(const struct ldr_gen_builder *b, const char *symbol);
/* Make the staged generation route every symbol as `old` (an allocated generation) did.
 * Returns 0, -EINVAL, or HOTSWAP_ENOTFOUND when the staged generation defines a symbol
 * `old` did not ("'name' did not exist in generation N" in err, LDR_ERR_MAX bytes). */
int ldr_gen_restore(struct ldr_gen_builder *b, const struct ldr_gen *old, char *err);
/* Drop a staged generation; the current one is untouched. */
void ldr_gen_abort(struct ldr_gen_builder *b);
/* Publish the staged generation with one atomic release store and free the builder.
 * Returns the new generation (never NULL). */
const struct ldr_gen *ldr_gen_commit(struct ldr_gen_builder *b, void *user);

/* The current generation, NULL before the first commit. Acquire load; lock-free. */
const struct ldr_gen *ldr_gen_current(void);

/* Stable trampoline address of `symbol`: valid for the life of the process and across every
 * reload. Only symbols that the current generation defines have one. Returns 0 and sets
 * *tramp, or HOTSWAP_ENOTFOUND. Thread-safe, lock-free on the hit path is not promised. */
int ldr_route(const char *symbol, void **tramp);
/* True once ldr_route has given out the trampoline of `symbol` (the shim does for every GOT
 * entry it retrofits and every dlsym/hotswap_fn answer): something may call the symbol
 * through it. Never reset. Thread-safe; not for the call path (takes the table lock). */
bool ldr_route_handed_out(const char *symbol);
/* Target that `symbol` reaches now, NULL when not routed. */
void *ldr_current_target(const char *symbol);
/* Slot index of a trampoline address, -1 when `addr` is not one of ours. */
long ldr_tramp_index(const void *addr);
/* Number of symbols that have a trampoline. */
size_t ldr_route_count(void);

/* ---- Reclaiming superseded generations -------------------------------------------------
 * A thread reads the generation pointer only inside a trampoline (load, then jump through
 * it). So once every thread has been interrupted at least once after generation `mark` was
 * committed, and none was interrupted inside the pool (ldr_tramp_contains), no thread can
 * still use a generation numbered below `mark`: the shim proves that with its stack check
 * and then calls ldr_gen_reclaim(mark, ...). Nothing here frees on its own. */

/* True when pc is inside the trampoline pool. Lock-free, async-signal-safe. */
bool ldr_tramp_contains(const void *pc);
/* The pool's bytes, [*lo, *hi): for a caller that tests many words (the stack scans). */
void ldr_tramp_bounds(uintptr_t *lo, uintptr_t *hi);
/* Number of the current generation (0 before the first commit). Lock-free,
 * async-signal-safe. */
uint64_t ldr_gen_mark(void);
/* Called for each generation ldr_gen_reclaim frees, before it is freed, with the table
 * lock held: user is the generation's `user` field. */
typedef void (*ldr_gen_release_fn)(void *user, uint64_t number, void *arg);
/* Free every retained generation numbered below `before` except the current one and the
 * one before it (kept for revert). Returns how many were freed. Thread-safe. */
size_t ldr_gen_reclaim(uint64_t before, ldr_gen_release_fn release, void *arg);
/* How many ldr_gen_reclaim(before, ...) would free now. Thread-safe. */
size_t ldr_gen_reclaimable(uint64_t before);
/* Number of generations still allocated (the current one included). Thread-safe. */
size_t ldr_gen_retained(void);
/* fn(g, arg) for every retained generation, newest first, under the table lock (fn must
 * not call back into the table). Thread-safe. */
void ldr_gen_foreach(void (*fn)(const struct ldr_gen *g, void *arg), void *arg);

#endif /* !__ASSEMBLER__ */
#endif /* HOTSWAP_LOADER_TRAMP_H */
