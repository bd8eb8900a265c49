/* SPDX-License-Identifier: BSD-3-Clause */
/* freeblk.c - is a word of the heap inside a block malloc has freed? For retirement's memory
 * scan (scan.c): free() leaves a block's bytes as they were, so a block the program, ld.so
 * (a dlclose'd library's link_map) or the loader freed keeps stale pointers. Once a new
 * version is mapped where a retired one was, those point into it and would hold it for as
 * long as malloc does not reuse the block: seen as one old version in a thousand kept loaded
 * in test_retire's 1,000 reloads, held by "heap 0x7f..." words that were all in free chunks.
 *
 * Only glibc's malloc is understood, and only what proves a block free; anything unclear
 * answers "in use", which keeps the version (memory only). A heap is walked chunk by chunk
 * from its first chunk, by each chunk's size field, up to the word asked about:
 *   - the main arena: the [heap] mapping (brk), its first chunk at the mapping's start
 *     (under qemu-user, which leaves it unnamed: the anonymous mapping ending at the break);
 *   - a thread arena's heap: a 64 MiB-aligned mapping starting with glibc's heap_info
 *     {ar_ptr, prev, size, mprotect_size, ...}; the arena's first heap holds the malloc_state
 *     (2,200 bytes on LP64, glibc 2.27 to 2.40) right after the heap_info, and ar_ptr points
 *     to it, which also gives the heap_info's size (32 or 48 bytes by version).
 * The chunk holding the word is free when it is the top chunk (it ends the heap), or when
 * the next chunk's PREV_INUSE bit is clear and its prev_size repeats the chunk's size (a
 * binned chunk's footer), or when its second word is glibc's tcache key (probed once: a
 * freed block's second word; random per process since glibc 2.34). Fast-bin chunks look in
 * use and are counted. Every size must be a multiple of 16, at least 32 and inside the
 * heap, or the walk is abandoned (in use). A free verdict is read again before it is given.
 *
 * Concurrency: chunks split and merge while the walk reads. A chunk that stays allocated
 * through the scan keeps both its boundaries through the scan, and every header the walk
 * can read (current, or stale inside a merged free chunk) was a boundary at some moment of
 * the scan, so the walk cannot jump over such a chunk nor call it free. A block allocated
 * during the scan is the scan's known window, which requiring two clean scans narrows.
 * Not used when malloc is not glibc's (a sanitizer's allocator, jemalloc): every heap word
 * then counts as before.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "preload/preload.h"

#define HEAP_MAX ((uintptr_t)64 << 20) /* glibc's HEAP_MAX_SIZE on LP64 */
#define MSTATE_SIZE 2200                /* sizeof (struct malloc_state), LP64 */
#define CHUNK_MIN 32
#define PREV_INUSE ((uintptr_t)1)
#define SIZE_BITS ((uintptr_t)7)

static struct {
  bool probed, glibc;
  uintptr_t tcache_key;
  uintptr_t win[8192]; /* 64 KiB of the heap being walked */
  uintptr_t win_lo, win_hi;
} fb;

/* noinline: the probe reads a block it freed, through the kernel, on purpose. */
__attribute__((noinline)) static bool read_words(uintptr_t at, uintptr_t *out, size_t n) {
  return pre_read_self(out, at, n * sizeof(*out)) == (ssize_t)(n * sizeof(*out));
}

/* The word at `at` (8-aligned), through a 64 KiB window that moves forward with the walk. */
static bool peek(uintptr_t at, uintptr_t limit, uintptr_t *v) {
  if (at < fb.win_lo || at + sizeof(*v) > fb.win_hi) {
    size_t want = sizeof(fb.win);
    if (limit - at < want)
      want = limit - at;
    ssize_t got = pre_read_self(fb.win, at, want);
    if (got < (ssize_t)sizeof(*v)) {
      fb.win_lo = fb.win_hi = 0;
      return false;
    }
    fb.win_lo = at;
    fb.win_hi = at + ((size_t)got & ~(sizeof(*v) - 1));
  }
  *v = fb.win[(at - fb.win_lo) / sizeof(*v)];
  return true;
}

/* Once: is malloc glibc's, and what does tcache leave in a freed block's second word? */
static void probe(void) {
  fb.probed = true;
  Dl_info di;
  void *m = dlsym(RTLD_DEFAULT, "malloc");
  fb.glibc = m != NULL && dladdr(m, &di) != 0 && di.dli_fname != NULL &&
             strstr(di.dli_fname, "/libc.so") != NULL;
  if (!fb.glibc)
    return;
  uintptr_t *p = malloc(4 * sizeof(*p)), w[2];
  if (p == NULL)
    return;
  memset(p, 0xa5, 4 * sizeof(*p));
  uintptr_t pattern = p[1], at = (uintptr_t)p;
  free(p); /* into this thread's tcache, unless it is off or full */
  if (read_words(at, w, 2) && w[1] != pattern && w[1] != 0)
    fb.tcache_key = w[1];
}

void pre_freeblk_reset(struct pre_freeblk *c) {
  if (!fb.probed)
    probe();
  *c = (struct pre_freeblk){0};
  fb.win_lo = fb.win_hi = 0;
}

/* Set c up for the heap holding `a` in mapping [lo, hi): its start, its end, and the walk at
 * its first chunk. */
static bool find_heap(struct pre_freeblk *c, uintptr_t a, uintptr_t lo, uintptr_t hi,
                      bool brk_heap) {
  c->base = c->end = c->at = 0;
  if (brk_heap) {
    uintptr_t h[2];
    if ((lo & 15) != 0 || !read_words(lo, h, 2) || h[0] != 0 || !(h[1] & PREV_INUSE))
      return false;
    c->base = c->at = lo;
    c->end = hi;
  } else {
    uintptr_t base = a & ~(HEAP_MAX - 1), h[4];
    if (base < lo || !read_words(base, h, 4))
      return false;
    uintptr_t ar = h[0], size = h[2], mprot = h[3], hinfo = ar & (HEAP_MAX - 1);
    if ((hinfo != 32 && hinfo != 48) || size < 4096 || size > mprot || mprot > HEAP_MAX ||
        base + size > hi || (h[1] & (HEAP_MAX - 1)) != 0)
      return false;
    uintptr_t first = base + hinfo;
    if (ar == base + hinfo) /* the arena's first heap: the malloc_state comes first */
      first += MSTATE_SIZE;
    else if (h[1] == 0) /* a later heap always links to the one before */
      return false;
    if ((first + 16) & 15)
      first += 16 - ((first + 16) & 15);
    c->base = base;
    c->at = first;
    c->end = base + size;
  }
  return true;
}

bool pre_freeblk_has(struct pre_freeblk *c, uintptr_t a, uintptr_t lo, uintptr_t hi,
                     bool brk_heap) {
  if (!fb.glibc)
    return false;
  if (c->base == 0 || a < c->at || a >= c->end) { /* c->at >= c->base */
    if (!find_heap(c, a, lo, hi, brk_heap))
      return false;
    fb.win_lo = fb.win_hi = 0;
  }
  if (a >= c->end)
    return false;
  /* Walk to the chunk whose user bytes [x+16, x+size+8) hold a. */
  uintptr_t x = c->at, s;
  for (;;) {
    if (!peek(x + 8, c->end, &s))
      return false;
    s &= ~SIZE_BITS;
    if (s < CHUNK_MIN || (s & 15) != 0 || s > c->end - x) {
      c->base = 0; /* not a heap we understand (or torn): every word counts */
      return false;
    }
    if (a < x + s + 8)
      break;
    x += s;
    c->at = x;
  }
  if (a < x + 16)
    return false; /* its header */
  /* Fresh reads for the verdict: x's size, and the next chunk's prev_size and size. */
  uintptr_t hd[2], nx[2] = {0, PREV_INUSE}, tk[2];
  bool top = x + s == c->end;
  if (!read_words(x, hd, 2) || (hd[1] & ~SIZE_BITS) != s)
    return false;
  if (top)
    return true; /* the top chunk: never handed out since its bytes were freed */
  if (!read_words(x + s, nx, 2))
    return false;
  if (!(nx[1] & PREV_INUSE))
    return nx[0] == s;
  return fb.tcache_key != 0 && read_words(x + 16, tk, 2) && tk[1] == fb.tcache_key;
}
