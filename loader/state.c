/* SPDX-License-Identifier: BSD-3-Clause */
/* state.c - carry a plugin's writable state from the running version into the next one.
 *
 * Each version records, when it is loaded (after dlopen and its constructors, or when the
 * program's own copy is adopted before main), a hash of every object of its writable state
 * (elf/: .data, .bss and the like, statics included when the file has .symtab). At a reload,
 * an object whose bytes no longer match that hash was changed by the program: it is copied
 * into the same-named, same-sized object of the new version, every pointer inside it that
 * points into the old version rebased (same symbol + offset; a string literal to identical
 * bytes of the new build's read-only data). Objects never changed keep the new build's
 * initial value. An executable's copy-relocated variables are handled apart (the
 * executable's copy is the one that runs). After the commit, once no thread runs the old
 * version, the words the old version wrote after the copy are copied again (the late pass).
 * All reads of memory other threads may write are relaxed atomic loads.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "loader/lifecycle_int.h"
#include "loader/tramp.h"

/* Longest string literal followed when rebasing a pointer into read-only data. */
#define STRING_MAX 4096

/* A copy-relocated variable of the executable, and what its bytes were expected to be. */
struct expect {
  const char *name; /* the executable's dynamic string table: lives as long as the process */
  unsigned char *bytes;
  size_t size;
};

struct ldr_state {
  uintptr_t base;          /* l_addr */
  uint64_t *hash;          /* per snap.info->state[i], at load */
  size_t n;
  struct expect *expect;   /* copy-relocated exported variables */
  size_t n_expect;
};

/* The policy of the last reload, which a revert follows too. */
static enum ldr_state_policy last_policy;

void ldr_state_policy_set(enum ldr_state_policy p) { last_policy = p; }
enum ldr_state_policy ldr_state_policy_get(void) { return last_policy; }

/* ---- memory access ---------------------------------------------------------------------
 * The loader reads and writes other objects' data: never through the sanitizers' eyes (an
 * instrumented plugin's globals have redzones between them), and without faulting in pages
 * nobody touched: a big .bss the program never wrote stays unmapped, in both versions. */
#define NO_ASAN __attribute__((no_sanitize_address))

/* Objects from this size on get the page-by-page treatment (pagemap, chunked copies). */
#define BIG_OBJECT 65536

NO_ASAN static uint64_t load_word(const void *p) {
  return __atomic_load_n((const uint64_t *)p, __ATOMIC_RELAXED);
}

NO_ASAN static unsigned char load_byte(const void *p) {
  return __atomic_load_n((const unsigned char *)p, __ATOMIC_RELAXED);
}

NO_ASAN static void store_word(void *p, uint64_t v) {
  __atomic_store_n((uint64_t *)p, v, __ATOMIC_RELAXED);
}

NO_ASAN static void store_byte(void *p, unsigned char v) {
  __atomic_store_n((unsigned char *)p, v, __ATOMIC_RELAXED);
}

NO_ASAN static void read_bytes(unsigned char *dst, const unsigned char *src, size_t n) {
  size_t i = 0;
  for (; i < n && ((uintptr_t)(src + i) & 7u) != 0; i++)
    dst[i] = load_byte(src + i);
  for (; i + 8 <= n; i += 8) {
    uint64_t w = load_word(src + i);
    memcpy(dst + i, &w, 8);
  }
  for (; i < n; i++)
    dst[i] = load_byte(src + i);
}

NO_ASAN static void write_bytes(unsigned char *dst, const unsigned char *src, size_t n) {
  size_t i = 0;
  for (; i < n && ((uintptr_t)(dst + i) & 7u) != 0; i++)
    store_byte(dst + i, src[i]);
  for (; i + 8 <= n; i += 8) {
    uint64_t w;
    memcpy(&w, src + i, 8);
    store_word(dst + i, w);
  }
  for (; i < n; i++)
    store_byte(dst + i, src[i]);
}

/* A 64-bit hash of n bytes of memory, a word at a time; 0 exactly when they are all zero. */
NO_ASAN static uint64_t hash_range(const unsigned char *p, size_t n) {
  uint64_t h = 0x9e3779b97f4a7c15ull ^ n, any = 0;
  size_t i = 0;
  for (; i < n && ((uintptr_t)(p + i) & 7u) != 0; i++) {
    unsigned char b = load_byte(p + i);
    any |= b;
    h = (h ^ b) * 0x100000001b3ull;
  }
  for (; i + 8 <= n; i += 8) {
    uint64_t w = load_word(p + i);
    any |= w;
    h = (h ^ w) * 0xff51afd7ed558ccdull;
    h ^= h >> 29;
  }
  for (; i < n; i++) {
    unsigned char b = load_byte(p + i);
    any |= b;
    h = (h ^ b) * 0x100000001b3ull;
  }
  return any == 0 ? 0 : h | 1;
}

/* Which pages of [p, p + n) were never touched (not present, not swapped: still zero), from
 * /proc/self/pagemap. Only for big objects of SHT_NOBITS sections (anonymous memory); else,
 * or when pagemap cannot be read, every page counts as touched. */
struct touched {
  uintptr_t first; /* first page */
  size_t n_pages;
  uint64_t *entry; /* pagemap entries; NULL: all touched */
};

static size_t page_size(void) {
  static size_t ps;
  if (ps == 0)
    ps = (size_t)sysconf(_SC_PAGESIZE);
  return ps;
}

static void touched_read(struct touched *t, const void *p, size_t n, bool nobits) {
  memset(t, 0, sizeof(*t));
  if (!nobits || n < BIG_OBJECT)
    return;
  size_t ps = page_size();
  t->first = (uintptr_t)p / ps;
  t->n_pages = ((uintptr_t)p + n - 1) / ps - t->first + 1;
  t->entry = malloc(t->n_pages * sizeof(*t->entry));
  int fd = t->entry != NULL ? open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC) : -1;
  size_t want = t->n_pages * sizeof(*t->entry);
  if (fd < 0 || pread(fd, t->entry, want, (off_t)(t->first * sizeof(*t->entry))) !=
                    (ssize_t)want) {
    free(t->entry);
    t->entry = NULL;
  }
  if (fd >= 0)
    close(fd);
}

/* Was the page holding address a touched (present or swapped out)? */
static bool touched_at(const struct touched *t, const void *a) {
  if (t->entry == NULL)
    return true;
  size_t i = (uintptr_t)a / page_size() - t->first;
  return i >= t->n_pages || (t->entry[i] & (3ull << 62)) != 0;
}

static void touched_free(struct touched *t) {
  free(t->entry);
  t->entry = NULL;
}

/* End (offset from p) of the page chunk starting at offset off of an object at p, n bytes. */
static size_t chunk_end(const unsigned char *p, size_t off, size_t n) {
  size_t ps = page_size();
  size_t end = ((uintptr_t)(p + off) / ps + 1) * ps - (uintptr_t)p;
  return end < n ? end : n;
}

/* The fingerprint of an object: its bytes, page chunk by page chunk (an all-zero chunk and
 * one never touched count the same, so the answer does not depend on what is mapped). */
static uint64_t fingerprint(const unsigned char *p, size_t n, bool nobits) {
  struct touched t;
  touched_read(&t, p, n, nobits);
  uint64_t h = 0x243f6a8885a308d3ull ^ n;
  for (size_t off = 0, end; off < n; off = end) {
    end = chunk_end(p, off, n);
    uint64_t c = touched_at(&t, p + off) ? hash_range(p + off, end - off) : 0;
    h = (h ^ c ^ off) * 0xff51afd7ed558ccdull;
    h ^= h >> 31;
  }
  touched_free(&t);
  return h;
}

/* ---- the executable's copy relocations ------------------------------------------------ */

struct copy_rel {
  const char *name;
  unsigned char *addr;
  size_t size;
};

static struct copy_rel *copies;
static size_t n_copies;
static bool copies_read;

static int add_copy(const char *name, void *addr, size_t size, void *arg) {
  (void)arg;
  struct copy_rel *grown = realloc(copies, (n_copies + 1) * sizeof(*grown));
  if (grown == NULL)
    return -ENOMEM; /* the ones read so far are kept */
  copies = grown;
  copies[n_copies++] = (struct copy_rel){.name = name, .addr = addr, .size = size};
  return 0;
}

/* Read the executable's copy relocations once. Called by the reload token holder. */
static void read_copies(void) {
  if (copies_read)
    return;
  copies_read = true;
  ldr_copy_foreach(add_copy, NULL);
}

static const struct copy_rel *find_copy(const char *name) {
  for (size_t i = 0; i < n_copies; i++)
    if (strcmp(copies[i].name, name) == 0)
      return &copies[i];
  return NULL;
}

/* The executable's copy of an exported object of v, NULL when it keeps none. */
static const struct copy_rel *copy_of(const struct elf_state_obj *o) {
  return o->exported ? find_copy(o->name) : NULL;
}

/* ---- capture ------------------------------------------------------------------------- */

static void *obj_addr(const struct ldr_state *s, const struct elf_state_obj *o) {
  return (void *)(s->base + (uintptr_t)o->value);
}

int ldr_state_capture(struct ldr_version *v) {
  const struct elf_info *info = v->snap.info;
  if (info == NULL || v->map == NULL)
    return 0;
  read_copies();
  struct ldr_state *s = calloc(1, sizeof(*s));
  if (s == NULL)
    return -ENOMEM;
  s->base = (uintptr_t)v->map->l_addr;
  s->n = info->n_state;
  s->hash = calloc(s->n + 1, sizeof(*s->hash));
  s->expect = calloc(s->n + 1, sizeof(*s->expect));
  if (s->hash == NULL || s->expect == NULL) {
    v->state = s;
    ldr_state_free(v);
    return -ENOMEM;
  }
  for (size_t i = 0; i < s->n; i++) {
    const struct elf_state_obj *o = &info->state[i];
    if (!o->tls && (uintptr_t)o->value + o->size <= v->map_hi - s->base)
      s->hash[i] = fingerprint(obj_addr(s, o), o->size, o->nobits);
    /* The first version of a variable the executable copy-relocates: its copy is what the
     * program starts with (a later version gets what the carry decided). */
    const struct copy_rel *cp = o->tls ? NULL : copy_of(o);
    if (cp != NULL && (s->expect[s->n_expect].bytes = malloc(cp->size + 1)) != NULL) {
      read_bytes(s->expect[s->n_expect].bytes, cp->addr, cp->size);
      s->expect[s->n_expect].name = cp->name;
      s->expect[s->n_expect++].size = cp->size;
    }
  }
  v->state = s;
  return 0;
}

void ldr_state_free(struct ldr_version *v) {
  struct ldr_state *s = v->state;
  if (s == NULL)
    return;
  for (size_t i = 0; i < s->n_expect; i++)
    free(s->expect[i].bytes);
  free(s->expect);
  free(s->hash);
  free(s);
  v->state = NULL;
}

/* ---- rebasing ------------------------------------------------------------------------ */

struct carry_ctx {
  struct ldr_version *from, *to;
  const struct elf_info *fi, *ti;
  const struct ldr_state *fs, *ts;
};

static bool in_from(const struct carry_ctx *c, uint64_t w) {
  return w >= c->from->map_lo && w < c->from->map_hi;
}

/* Where the string literal at old address w is in the new build, 0 when nowhere. (Byte
 * loops, not memchr/memmem: the sanitizers' interceptors would check them.) */
NO_ASAN static uint64_t rebase_string(const struct carry_ctx *c, uint64_t w) {
  uint64_t off = w - c->fs->base;
  const struct elf_range *r = NULL;
  for (size_t i = 0; i < c->fi->n_ro && r == NULL; i++)
    if (off >= c->fi->ro[i].start && off < c->fi->ro[i].end)
      r = &c->fi->ro[i];
  if (r == NULL)
    return 0;
  const unsigned char *s = (const unsigned char *)(uintptr_t)w;
  size_t max = r->end - off < STRING_MAX ? r->end - off : STRING_MAX, len = 0;
  while (len < max && s[len] != '\0')
    len++;
  if (len == max)
    return 0;
  len++; /* with its NUL */
  for (size_t i = 0; i < c->ti->n_ro; i++) {
    const unsigned char *hay = (const unsigned char *)(c->ts->base + c->ti->ro[i].start);
    size_t hn = c->ti->ro[i].end - c->ti->ro[i].start;
    for (size_t j = 0; j + len <= hn; j++) {
      if (hay[j] != s[0])
        continue;
      size_t k = 1;
      while (k < len && hay[j + k] == s[k])
        k++;
      if (k == len)
        return (uint64_t)(uintptr_t)(hay + j);
    }
  }
  return 0;
}

/* The address in the new version of what old address w points to: the same symbol + offset,
 * or identical bytes of read-only data. 0 when there is no such place. */
static uint64_t rebase(const struct carry_ctx *c, uint64_t w) {
  uint64_t off = w - c->fs->base;
  const struct elf_addr_sym *s = elf_sym_at(c->fi, off);
  if (s != NULL) {
    const struct elf_addr_sym *t = elf_find_sym(c->ti, s->name, s->file, s->func);
    if (t != NULL && off - s->value < t->size)
      return c->ts->base + t->value + (off - s->value);
  }
  return rebase_string(c, w);
}

/* ---- notes and stats ------------------------------------------------------------------ */

__attribute__((format(__printf__, 2, 3))) static void note(struct ldr_carry *k, const char *fmt,
                                                       ...) {
  char *line = NULL;
  va_list ap;
  va_start(ap, fmt);
  int n = vasprintf(&line, fmt, ap);
  va_end(ap);
  char **grown = n >= 0 ? realloc(k->notes, (k->n_notes + 1) * sizeof(*grown)) : NULL;
  if (grown == NULL) {
    free(n >= 0 ? line : NULL);
    return;
  }
  grown[k->n_notes++] = line;
  k->notes = grown;
}

/* "name" or "name (file.c)". */
static const char *label(const struct elf_state_obj *o, char *buf, size_t n) {
  if (o->file == NULL)
    snprintf(buf, n, "%s", o->name);
  else
    snprintf(buf, n, "%s (%s)", o->name, o->file);
  return buf;
}

/* ---- carrying one object ---------------------------------------------------------------- */

/* Copy old object src into new object dst (n bytes each) and into `sent` (zeroed, n bytes:
 * what was copied), rebasing aligned words that point into the old version. Page chunks the
 * old version never touched are zero: they are not read, and not written where the new
 * version's page is untouched too. Returns how many words could not be rebased;
 * *rebased counts the others, *first_bad gets the offset of the first bad one. */
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

/* Fault in, with one call per run (not one page fault each), the pages of target that will
 * receive the runs of touched chunks of the object at src (n bytes). Best effort: an older
 * kernel says EINVAL and the pages fault in one by one as they are written. */
static void populate(const unsigned char *src, size_t n, const struct touched *ts,
                     unsigned char *target) {
  if (n < BIG_OBJECT)
    return;
  size_t ps = page_size();
  for (size_t off = 0, end; off < n; off = end) {
    end = chunk_end(src, off, n);
    if (!touched_at(ts, src + off))
      continue;
    size_t run = off;
    while (end < n && touched_at(ts, src + end))
      end = chunk_end(src, end, n);
    uintptr_t lo = ((uintptr_t)(target + run) + ps - 1) / ps * ps;
    uintptr_t hi = (uintptr_t)(target + end) / ps * ps;
    if (hi > lo)
      madvise((void *)lo, hi - lo, MADV_POPULATE_WRITE);
  }
}

/* Copy old object src into new object dst (n bytes each), rebasing aligned words that point
 * into the old version, and keep what the late pass needs: the bytes copied in `sent` (small
 * objects) or a hash per page chunk in `hashes` (big ones; the other is NULL). Page chunks
 * the old version never touched are zero: they are not read, and not written where the new
 * version's page is untouched too. Returns how many words could not be rebased; *rebased
 * counts the others, *first_bad gets the offset of the first bad one. */
NO_ASAN static size_t put_rebased(const struct carry_ctx *c, const struct elf_state_obj *o,
                                  unsigned char *dst, const unsigned char *src,
                                  unsigned char *sent, uint64_t *hashes, size_t n,
                                  size_t *rebased, size_t *first_bad) {
  struct touched ts, td;
  touched_read(&ts, src, n, o->nobits);
  touched_read(&td, dst, n, o->nobits);
  populate(src, n, &ts, dst);
  bool words = ((uintptr_t)src & 7u) == ((uintptr_t)dst & 7u);
  size_t bad = 0, k = 0;
  static _Thread_local unsigned char page[65536];
  for (size_t off = 0, end; off < n; off = end, k++) {
    end = chunk_end(src, off, n);
    if (!touched_at(&ts, src + off)) {
      if (touched_at(&td, dst + off))
        for (size_t i = off; i < end; i++)
          store_byte(dst + i, 0);
      continue;
    }
    /* One read of the old bytes (other threads may write them): into sent, or a buffer. */
    unsigned char *copy = sent != NULL ? sent + off : page;
    if (sent == NULL && end - off > sizeof(page)) /* pages over 64 KiB: not worth a path */
      copy = NULL;
    if (copy == NULL) {
      read_bytes(dst + off, src + off, end - off);
      copy = dst + off;
    } else {
      read_bytes(copy, src + off, end - off);
      /* Nothing runs the new version before the commit: a plain copy, then the pointers. */
      memcpy(dst + off, copy, end - off);
    }
    if (hashes != NULL)
      hashes[k] = hash_range(copy, end - off);
    if (!words)
      continue;
    for (size_t i = off + ((8u - ((uintptr_t)(dst + off) & 7u)) & 7u); i + 8 <= end; i += 8) {
      uint64_t w;
      memcpy(&w, copy + (i - off), 8);
      if (!in_from(c, w))
        continue;
      uint64_t r = rebase(c, w);
      if (r != 0) {
        store_word(dst + i, r);
        (*rebased)++;
      } else if (bad++ == 0) {
        *first_bad = i;
      }
    }
  }
  touched_free(&ts);
  touched_free(&td);
  return bad;
}

/* The plugin's hotswap_on_transfer decides for an object whose size changed. Returns 1 (it
 * carried it), 0 (left fresh) or a negative code (the reload is refused). Plugin code: the
 * caller holds no loader lock. */
static int ask_transfer(const struct carry_ctx *c, const struct elf_state_obj *o,
                        const struct elf_state_obj *n) {
  if (c->to->on_transfer == NULL)
    return 0;
  struct hotswap_transfer t = {.name = o->name, .file = o->file,
                               .old_addr = obj_addr(c->fs, o), .old_size = o->size,
                               .new_addr = obj_addr(c->ts, n), .new_size = n->size};
  const struct ldr_plugin *p = c->from->plugin;
  ldr_activity_enter(p != NULL && p->path != NULL ? ldr_basename(p->path) : "plugin",
                     "hotswap_on_transfer");
  int r = c->to->on_transfer(&t);
  ldr_activity_leave();
  return r < 0 ? r : r > 0;
}

/* Decide and do the carry of one changed object. Returns 0 or an error (reason in err). */
static int carry_one(const struct carry_ctx *c, struct ldr_carry *k, const struct elf_state_obj *o,
                     enum ldr_state_policy policy, char *err) {
  char lb[LDR_NAME_MAX + 300];
  const struct elf_state_obj *n = elf_find_state(c->ti, o->name, o->file);
  if (n == NULL || n->tls || n->size != o->size) {
    int r = n != NULL && !n->tls ? ask_transfer(c, o, n) : 0;
    if (r < 0) {
      snprintf(err, LDR_ERR_MAX, "hotswap_on_transfer returned %d for '%s'", r, o->name);
      return HOTSWAP_EHOOK;
    }
    if (r == 1) {
      k->stats.carried++;
      k->stats.carried_bytes += n->size;
      return 0;
    }
    char why[96];
    if (n == NULL || n->tls)
      snprintf(why, sizeof(why), "dropped by the new build");
    else
      snprintf(why, sizeof(why), "size %ju -> %ju", (uintmax_t)o->size, (uintmax_t)n->size);
    if (policy == LDR_STATE_STRICT) {
      size_t len = strlen(err);
      snprintf(err + len, LDR_ERR_MAX - len, "%s%s (%s)", len ? ", " : "",
               label(o, lb, sizeof(lb)), why);
      k->stats.fresh++;
      return 0; /* every such object is named before the reload is refused */
    }
    note(k, "left fresh: %s (%s)", label(o, lb, sizeof(lb)), why);
    k->stats.fresh++;
    return 0;
  }
  struct ldr_carried *item = &k->items[k->n_items];
  item->src = obj_addr(c->fs, o);
  item->dst = obj_addr(c->ts, n);
  item->size = o->size;
  if (o->size < BIG_OBJECT)
    item->sent = calloc(1, o->size);
  else
    item->chunk_hash = calloc(o->size / page_size() + 2, sizeof(uint64_t));
  if (item->sent == NULL && item->chunk_hash == NULL) {
    snprintf(err, LDR_ERR_MAX, "out of memory");
    return -ENOMEM;
  }
  item->obj = o;
  k->n_items++;
  size_t first_bad = 0;
  size_t bad = put_rebased(c, o, item->dst, item->src, item->sent, item->chunk_hash,
                           o->size, &k->stats.rebased, &first_bad);
  k->stats.carried++;
  k->stats.carried_bytes += o->size;
  if (bad > 0) {
    k->stats.pinned++;
    if (k->pin_why[0] == '\0')
      snprintf(k->pin_why, sizeof(k->pin_why), "state: '%s' +%zu points into it", o->name,
               first_bad);
    note(k, "pinned %s %s: %s holds %zu pointer%s into it that the new build has no place "
         "for (first at +%zu); it stays loaded", c->from->plugin != NULL ?
         c->from->plugin->name : "", c->from->version, label(o, lb, sizeof(lb)), bad,
         bad == 1 ? "" : "s", first_bad);
  }
  return 0;
}

/* ---- copy-relocated variables ------------------------------------------------------------ */

static const struct expect *find_expect(const struct ldr_state *s, const char *name) {
  for (size_t i = 0; s != NULL && i < s->n_expect; i++)
    if (strcmp(s->expect[i].name, name) == 0)
      return &s->expect[i];
  return NULL;
}

/* The executable's copy of exported variable o: decide what it holds after the commit and
 * what the new version expects of it. Returns 0 or HOTSWAP_EINCOMPAT (reason in err). */
static int carry_copy(const struct carry_ctx *c, struct ldr_carry *k, const struct elf_state_obj *o,
                      const struct copy_rel *cp, char *err) {
  const struct elf_state_obj *n = elf_find_state(c->ti, o->name, NULL);
  if (n == NULL || n->tls) {
    note(k, "exported variable '%s': the new build drops it; the program's copy stays",
         o->name);
    return 0;
  }
  if (n->size != cp->size) {
    snprintf(err, LDR_ERR_MAX, "exported variable '%s' is %ju bytes in the new build, %zu "
             "in the program, which copy-relocates it (R_*_COPY): its copy cannot change "
             "size; restart the program to run this build", o->name, (uintmax_t)n->size,
             cp->size);
    return HOTSWAP_EINCOMPAT;
  }
  /* The new version's record of this variable: the one its load took (that is the
   * program's copy as it was then, right only for a first version), replaced. */
  struct ldr_state *ts = c->to->state;
  struct expect *e = (struct expect *)find_expect(ts, o->name);
  if (e == NULL) {
    e = &ts->expect[ts->n_expect++];
    e->name = cp->name;
  }
  free(e->bytes);
  e->bytes = malloc(cp->size + 1);
  unsigned char *now = malloc(cp->size + 1), *init = malloc(cp->size + 1);
  if (e->bytes == NULL || now == NULL || init == NULL) {
    free(e->bytes), free(now), free(init);
    e->bytes = NULL;
    e->size = 0;
    snprintf(err, LDR_ERR_MAX, "out of memory");
    return -ENOMEM;
  }
  e->name = cp->name;
  e->size = cp->size;
  read_bytes(now, cp->addr, cp->size);
  read_bytes(init, obj_addr(c->ts, n), n->size); /* the new build's copy is never used */
  const struct expect *old = find_expect(c->fs, o->name);
  bool changed = old == NULL || old->size != cp->size || memcmp(old->bytes, now, cp->size) != 0;
  if (!changed && memcmp(now, init, cp->size) != 0) {
    memcpy(e->bytes, init, cp->size);
    struct ldr_host_write *w = &k->host[k->n_host++];
    w->addr = cp->addr;
    w->bytes = init;
    w->size = cp->size;
    init = NULL;
    note(k, "exported variable '%s': the program never changed its copy; it gets the new "
         "build's initial value", o->name);
  } else {
    memcpy(e->bytes, old != NULL && old->size == cp->size ? old->bytes : now, cp->size);
    bool differs = o->size != cp->size;
    if (!differs) { /* the old build's own copy, never used, holds its initial value */
      read_bytes(now, obj_addr(c->fs, o), cp->size);
      differs = memcmp(init, now, cp->size) != 0;
    }
    if (changed && differs)
      note(k, "warning: exported variable '%s' was changed by the program: its value is "
           "kept, the new build's different initial value is not used", o->name);
  }
  free(now);
  free(init);
  return 0;
}

/* ---- the carry of one version into the next ---------------------------------------------- */

int ldr_state_carry(struct ldr_version *from, struct ldr_version *to,
                    enum ldr_state_policy policy, struct ldr_carry **out, char *err) {
  *out = NULL;
  err[0] = '\0';
  if (policy == LDR_STATE_FRESH || from->state == NULL || to->state == NULL ||
      from->snap.info == NULL || to->snap.info == NULL)
    return 0;
  struct carry_ctx c = {.from = from, .to = to, .fi = from->snap.info, .ti = to->snap.info,
                        .fs = from->state, .ts = to->state};
  struct ldr_carry *k = calloc(1, sizeof(*k));
  size_t n = c.fi->n_state;
  if (k != NULL) {
    k->items = calloc(n + 1, sizeof(*k->items));
    k->host = calloc(n + 1, sizeof(*k->host));
  }
  if (k == NULL || k->items == NULL || k->host == NULL) {
    ldr_carry_free(k);
    snprintf(err, LDR_ERR_MAX, "out of memory");
    return -ENOMEM;
  }
  k->from = from;
  k->to = to;
  *out = k;
  uint64_t t0 = ldr_now_ns();
  int rc = 0;
  for (size_t i = 0; rc == 0 && i < n; i++) {
    const struct elf_state_obj *o = &c.fi->state[i];
    if (o->tls || (uintptr_t)o->value + o->size > from->map_hi - c.fs->base)
      continue;
    const struct copy_rel *cp = copy_of(o);
    if (cp != NULL)
      rc = carry_copy(&c, k, o, cp, err);
    else if (fingerprint(obj_addr(c.fs, o), o->size, o->nobits) != c.fs->hash[i])
      rc = carry_one(&c, k, o, policy, err);
  }
  if (rc == 0 && policy == LDR_STATE_STRICT && err[0] != '\0') {
    static const char head[] = "HOTSWAP_STATE=strict: the program changed state the new "
                               "build cannot take: ";
    size_t len = strlen(err), hl = sizeof(head) - 1;
    if (len + hl >= LDR_ERR_MAX)
      len = LDR_ERR_MAX - hl - 1;
    memmove(err + hl, err, len);
    memcpy(err, head, hl);
    err[hl + len] = '\0';
    rc = HOTSWAP_EINCOMPAT;
  }
  k->stats.carry_ns = ldr_now_ns() - t0;
  return rc;
}

/* Right after the commit store: the executable's copies get their new values, and `from`
 * is pinned when a pointer could not be rebased. */
static void state_commit(struct ldr_carry *k) {
  for (size_t i = 0; i < k->n_host; i++) {
    write_bytes(k->host[i].addr, k->host[i].bytes, k->host[i].size);
    k->stats.host_vars++;
  }
  if (k->pin_why[0] != '\0') {
    ldr_reg_lock();
    k->from->pinned = true;
    snprintf(k->from->why, sizeof(k->from->why), "%s", k->pin_why);
    ldr_reg_unlock();
  }
}

/* The late pass of a big object: only which page chunks the old version changed after the
 * copy is known (their hashes); those bytes are counted and named, not merged. */
NO_ASAN static void late_big(struct ldr_carry *k, const struct ldr_carried *it) {
  struct touched t;
  touched_read(&t, it->src, it->size, it->obj->nobits);
  size_t lost = 0, n = 0;
  for (size_t off = 0, end; off < it->size; off = end, n++) {
    end = chunk_end(it->src, off, it->size);
    uint64_t h = touched_at(&t, it->src + off) ? hash_range(it->src + off, end - off) : 0;
    if (h != it->chunk_hash[n])
      lost += end - off;
  }
  touched_free(&t);
  if (lost == 0)
    return;
  k->stats.late_lost += lost;
  char lb[LDR_NAME_MAX + 300];
  note(k, "%s: the old version changed %zu bytes of it after the copy (pages of objects of "
       "64 KiB and more are compared, not merged): those changes are not carried",
       label(it->obj, lb, sizeof(lb)), lost);
}

/* Copy again the words `from` changed since the copy, unless `to` changed them too. */
NO_ASAN static void state_late(struct ldr_carry *k) {
  if (k->from->state == NULL || k->to->state == NULL)
    return;
  struct carry_ctx c = {.from = k->from, .to = k->to, .fi = k->from->snap.info,
                        .ti = k->to->snap.info, .fs = k->from->state, .ts = k->to->state};
  for (size_t j = 0; j < k->n_items; j++) {
    struct ldr_carried *it = &k->items[j];
    if (it->sent == NULL) {
      late_big(k, it);
      continue;
    }
    for (size_t i = 0; i + 8 <= it->size; i += 8) {
      if (((uintptr_t)(it->src + i) & 7u) != 0 || ((uintptr_t)(it->dst + i) & 7u) != 0)
        continue;
      uint64_t was, now = load_word(it->src + i);
      memcpy(&was, it->sent + i, 8);
      if (now == was)
        continue;
      uint64_t sent = was, put = now;
      if (in_from(&c, was) && (sent = rebase(&c, was)) == 0)
        sent = was;
      if (in_from(&c, now) && (put = rebase(&c, now)) == 0)
        put = now;
      /* The new version changed the word too: its write is the later one. */
      if (__atomic_compare_exchange_n((uint64_t *)(it->dst + i), &sent, put, false,
                                      __ATOMIC_RELAXED, __ATOMIC_RELAXED))
        k->stats.late_bytes += 8;
      else
        k->stats.conflicts++;
    }
  }
  if (k->stats.late_bytes > 0 || k->stats.conflicts > 0)
    note(k, "%zu bytes the old version wrote after the copy were copied again%s", 
         k->stats.late_bytes, k->stats.conflicts > 0 ? "; words both versions wrote kept "
         "the new version's value" : "");
}

/* Most time the late pass waits for the replaced versions' last calls to return. */
#define LATE_WAIT_MS 200

void ldr_state_settle(struct ldr_carry *const *k, size_t n) {
  struct ldr_text_range r[64];
  size_t nr = 0;
  bool any = false;
  for (size_t i = 0; i < n; i++) {
    if (k[i] == NULL)
      continue;
    state_commit(k[i]);
    any = any || k[i]->n_items > 0;
    for (size_t t = 0; t < k[i]->from->n_text && nr < sizeof(r) / sizeof(r[0]); t++)
      r[nr++] = k[i]->from->text[t];
  }
  int quiet = any ? ldr_retire_wait_quiet(r, nr, LATE_WAIT_MS) : 0;
  for (size_t i = 0; i < n; i++) {
    if (k[i] == NULL)
      continue;
    state_late(k[i]);
    if (quiet == 1 && k[i]->n_items > 0)
      note(k[i], "%s: a thread still ran the old version %d ms after the commit; its writes "
           "after that are not carried", k[i]->to->plugin != NULL ? k[i]->to->plugin->name
           : "", LATE_WAIT_MS);
  }
}

void ldr_carry_free(struct ldr_carry *k) {
  if (k == NULL)
    return;
  for (size_t i = 0; k->items != NULL && i < k->n_items; i++) {
    ldr_free_cleared(k->items[i].sent);
    free(k->items[i].chunk_hash);
  }
  for (size_t i = 0; k->host != NULL && i < k->n_host; i++)
    ldr_free_cleared(k->host[i].bytes);
  for (size_t i = 0; i < k->n_notes; i++)
    free(k->notes[i]);
  free(k->notes);
  free(k->items);
  free(k->host);
  free(k);
}
