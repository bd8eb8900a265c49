/* SPDX-License-Identifier: BSD-3-Clause */
/* scan.c - retirement's memory scan (ldr_scan_fn): before a replaced plugin version is
 * unloaded, look for any word of the process that still points into it, the way a
 * conservative garbage collector looks for roots. First a words round of the stack check
 * (stacks.c: every thread checks its registers and live stack words), then a pass over the
 * rest of memory from this thread: heap, anonymous mappings, other objects' data and RELRO,
 * the executable's copy-relocated data. See preload.h (pre_scan) and README "Retirement".
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <unistd.h>

#include "preload/preload.h"

/* Words read per process_vm_readv (256 KiB). */
#define CHUNK_WORDS 32768
/* Mappings larger than this are address space reserved by a runtime, not scanned. */
#define HUGE_MAPPING ((uintptr_t)1 << 40)
/* Holders described per version. */
#define HOLDERS_SHOWN 3

struct target {
  uintptr_t lo, hi;
  unsigned group;
};

struct span {
  uintptr_t lo, hi;
};

struct mapping {
  uintptr_t lo, hi;
  bool r, w, x;
  unsigned long inode;
  const char *path; /* into the maps text */
};

/* Everything one scan uses. Static, in the shim's own data, which the scan skips: arrays
 * holding the targets' addresses must not be found by the scan itself. */
static struct {
  uintptr_t buf[CHUNK_WORDS];
  struct pre_stack_words words;
  struct ldr_text_range flat[PRE_STACK_RANGES]; /* the targets in group order */
  bool flat_code[PRE_STACK_RANGES];             /* ... overlapping the group's text */
  unsigned flat_group[PRE_STACK_RANGES];
  struct target t[PRE_STACK_RANGES]; /* the same, sorted by address */
  size_t nt;
  uintptr_t tmin, tspan;
  struct target own[PRE_STACK_RANGES]; /* each group's whole mapping, sorted */
  size_t n_own;
  uintptr_t brk; /* the program break, under an emulator (pre_emulated); 0 otherwise */
} sc;

/* Growing arrays of one scan, freed at its end. */
struct work {
  char *text; /* /proc/self/maps */
  struct mapping *maps;
  size_t n_maps;
  struct span *skip;
  size_t n_skip, cap_skip;
  struct span *relro;
  size_t n_relro, cap_relro;
  const struct ldr_scan_group *g;
  size_t ng;
  struct ldr_scan_result *res;
  unsigned char *by;
  unsigned shown[PRE_STACK_RANGES]; /* holders described per group */
  const struct mapping *last[PRE_STACK_RANGES]; /* ... and the mapping of the last one */
  uint64_t bytes; /* read by the memory pass */
  uint64_t freed; /* hits inside blocks malloc had freed, not counted */
  struct pre_freeblk heap; /* the malloc heap walk of the current mapping */
};

/* The last scan's size and time, for status and make bench. */
static pthread_mutex_t stats_lock = PTHREAD_MUTEX_INITIALIZER;
static struct pre_scan_stats last_stats;

void pre_scan_last(struct pre_scan_stats *out) {
  pthread_mutex_lock(&stats_lock);
  *out = last_stats;
  pthread_mutex_unlock(&stats_lock);
}


static int span_add(struct span **a, size_t *n, size_t *cap, uintptr_t lo, uintptr_t hi) {
  if (hi <= lo)
    return 0;
  if (*n == *cap) {
    size_t c = *cap ? *cap * 2 : 256;
    struct span *g = malloc(c * sizeof(*g)); /* not realloc: the old copy is cleared first */
    if (g == NULL)
      return -ENOMEM;
    if (*n > 0) {
      memcpy(g, *a, *n * sizeof(*g));
      explicit_bzero(*a, *n * sizeof(*g));
    }
    free(*a);
    *a = g;
    *cap = c;
  }
  (*a)[(*n)++] = (struct span){lo, hi};
  return 0;
}

/* Arrays of struct span, target and mapping: each record starts with `uintptr_t lo, hi`. */
_Static_assert(offsetof(struct target, lo) == 0 && offsetof(struct target, hi) == 8 &&
                   offsetof(struct mapping, lo) == 0 && offsetof(struct mapping, hi) == 8 &&
                   offsetof(struct span, lo) == 0 && offsetof(struct span, hi) == 8,
               "records start with lo, hi");
#define REC(a, size, i) ((const uintptr_t *)((const char *)(a) + (i) * (size)))

/* Shell sort by lo, in place: qsort may copy the array into a malloc'd buffer, and a freed
 * copy of target addresses would be found by the next scan. size <= 32. */
static void sort_by_lo(void *a, size_t n, size_t size) {
  char x[32], *b = a;
  for (size_t gap = n / 2; gap > 0; gap /= 2)
    for (size_t i = gap; i < n; i++)
      for (size_t j = i; j >= gap && REC(b, size, j - gap)[0] > REC(b, size, j)[0]; j -= gap) {
        memcpy(x, b + j * size, size);
        memcpy(b + j * size, b + (j - gap) * size, size);
        memcpy(b + (j - gap) * size, x, size);
      }
}

/* Index of the first record of sorted a[0..n) whose hi is above x (n when none). */
static size_t first_above(const void *a, size_t n, size_t size, uintptr_t x) {
  size_t lo = 0, hi = n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (REC(a, size, mid)[1] <= x)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

/* The record of sorted a[0..n) holding x, or NULL. */
static const void *find_holding(const void *a, size_t n, size_t size, uintptr_t x) {
  size_t i = first_above(a, n, size, x);
  return i < n && REC(a, size, i)[0] <= x ? REC(a, size, i) : NULL;
}

/* Sort and merge overlapping spans. */
static void spans_merge(struct span *a, size_t *n) {
  sort_by_lo(a, *n, sizeof(*a));
  size_t m = 0;
  for (size_t i = 0; i < *n; i++) {
    if (m > 0 && a[i].lo <= a[m - 1].hi) {
      if (a[i].hi > a[m - 1].hi)
        a[m - 1].hi = a[i].hi;
    } else {
      a[m++] = a[i];
    }
  }
  *n = m;
}

static const struct target *find_target(const struct target *a, size_t n, uintptr_t x) {
  return find_holding(a, n, sizeof(*a), x);
}

/* ---- /proc/self/maps ------------------------------------------------------------------ */

static int read_all(const char *path, char **out) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return -errno;
  size_t cap = 65536, len = 0;
  char *b = malloc(cap);
  for (;;) {
    if (b == NULL) {
      close(fd);
      return -ENOMEM;
    }
    if (len + 4096 >= cap) {
      char *g = realloc(b, cap *= 2);
      if (g == NULL)
        free(b);
      b = g;
      continue;
    }
    ssize_t r = read(fd, b + len, cap - len - 1);
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0) {
      int e = r < 0 ? -errno : 0;
      close(fd);
      b[len] = '\0';
      if (e != 0)
        free(b);
      *out = e != 0 ? NULL : b;
      return e;
    }
    len += (size_t)r;
  }
}

static int parse_maps(struct work *w) {
  int rc = read_all("/proc/self/maps", &w->text);
  if (rc != 0)
    return rc;
  size_t lines = 0;
  for (const char *p = w->text; *p; p++)
    lines += *p == '\n';
  w->maps = calloc(lines + 1, sizeof(*w->maps));
  if (w->maps == NULL)
    return -ENOMEM;
  for (char *l = w->text, *eol; (eol = strchr(l, '\n')) != NULL; l = eol + 1) {
    *eol = '\0';
    unsigned long lo, hi, ino;
    char perms[8];
    int path_at = 0;
    if (sscanf(l, "%lx-%lx %7s %*x %*x:%*x %lu %n", &lo, &hi, perms, &ino, &path_at) < 4)
      continue;
    struct mapping *m = &w->maps[w->n_maps++];
    *m = (struct mapping){lo, hi, perms[0] == 'r', perms[1] == 'w', perms[2] == 'x', ino,
                          path_at > 0 ? l + path_at : ""};
  }
  return 0;
}

static const struct mapping *mapping_of(const struct work *w, uintptr_t a) {
  return find_holding(w->maps, w->n_maps, sizeof(w->maps[0]), a);
}

/* ---- what is not scanned -------------------------------------------------------------- */

struct obj_ctx {
  struct work *w;
  const char *self; /* the shim's file name */
  uintptr_t ldso;   /* ld.so's load address */
  int rc;
};

/* The shim itself, ld.so, libunwind (opened by the shim) and libgcc_s (its frame cache keeps
 * the text bounds of objects it unwound through) hold bookkeeping, never the program's
 * pointers: skip their segments. Every other object's RELRO is scanned. */
static int object_cb(struct dl_phdr_info *info, size_t size, void *arg) {
  (void)size;
  struct obj_ctx *c = arg;
  const char *name = info->dlpi_name != NULL ? info->dlpi_name : "";
  bool skip = (c->self != NULL && strcmp(name, c->self) == 0) || info->dlpi_addr == c->ldso ||
              strstr(name, "/libunwind") != NULL || strstr(name, "libgcc_s.so") != NULL;
  for (ElfW(Half) i = 0; i < info->dlpi_phnum && c->rc == 0; i++) {
    const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
    uintptr_t lo = info->dlpi_addr + ph->p_vaddr, hi = lo + ph->p_memsz;
    if (skip && ph->p_type == PT_LOAD)
      c->rc = span_add(&c->w->skip, &c->w->n_skip, &c->w->cap_skip, lo, hi);
    else if (!skip && ph->p_type == PT_GNU_RELRO)
      c->rc = span_add(&c->w->relro, &c->w->n_relro, &c->w->cap_relro, lo, hi);
  }
  return 0;
}

static int collect_skips(struct work *w, const struct ldr_text_range *skip, size_t n_skip) {
  Dl_info di;
  struct obj_ctx c = {.w = w, .ldso = (uintptr_t)getauxval(AT_BASE)};
  if (dladdr((void *)pre_scan, &di) != 0)
    c.self = di.dli_fname;
  dl_iterate_phdr(object_cb, &c);
  for (size_t i = 0; i < n_skip && c.rc == 0; i++)
    c.rc = span_add(&w->skip, &w->n_skip, &w->cap_skip, skip[i].start, skip[i].end);
  /* This thread's stack: the scan's own frames. */
  const struct mapping *m = mapping_of(w, (uintptr_t)&c);
  if (m != NULL && c.rc == 0)
    c.rc = span_add(&w->skip, &w->n_skip, &w->cap_skip, m->lo, m->hi);
  /* What each thread's words round covered: its live stack, and below its SP (dead). */
  for (size_t i = 0; i < sc.words.n_cover && c.rc == 0; i++) {
    m = mapping_of(w, sc.words.cover[i].sp);
    if (m != NULL)
      c.rc = span_add(&w->skip, &w->n_skip, &w->cap_skip, m->lo, sc.words.cover[i].stop);
  }
  uintptr_t own_lo, own_hi;
  pre_stacks_own(&own_lo, &own_hi);
  if (c.rc == 0)
    c.rc = span_add(&w->skip, &w->n_skip, &w->cap_skip, own_lo, own_hi);
  /* This scan's own arrays (mapping bounds and RELRO starts can be targets too). */
  if (c.rc == 0)
    c.rc = span_add(&w->skip, &w->n_skip, &w->cap_skip, (uintptr_t)w->maps,
                    (uintptr_t)(w->maps + w->n_maps));
  if (c.rc == 0)
    c.rc = span_add(&w->skip, &w->n_skip, &w->cap_skip, (uintptr_t)w->relro,
                    (uintptr_t)(w->relro + w->cap_relro));
  if (c.rc == 0 && w->n_skip == w->cap_skip) /* room for its own span: no realloc after */
    c.rc = span_add(&w->skip, &w->n_skip, &w->cap_skip, 1, 2);
  if (c.rc == 0) {
    w->skip[w->n_skip++] = (struct span){(uintptr_t)w->skip, (uintptr_t)(w->skip + w->cap_skip)};
    spans_merge(w->skip, &w->n_skip);
    spans_merge(w->relro, &w->n_relro);
  }
  return c.rc;
}

/* Is mapping m read at all, and everything of it (else only its RELRO parts)? */
static bool scanned(const struct mapping *m, bool *whole) {
  *whole = m->w || m->inode == 0;
  if (!m->r || m->x || strcmp(m->path, "[vvar]") == 0 || strcmp(m->path, "[vsyscall]") == 0)
    return false;
  /* Reserved address space, not memory: a sanitizer's shadow (ASan's is 16 TiB). */
  if (m->hi - m->lo > HUGE_MAPPING)
    return false;
  /* Device memory: reading it may have effects. Shared memory files are memory. */
  if (strncmp(m->path, "/dev/", 5) == 0 && strncmp(m->path, "/dev/shm/", 9) != 0 &&
      strncmp(m->path, "/dev/zero", 9) != 0)
    return false;
  return true;
}

/* ---- the pass ---------------------------------------------------------------------- */

static const char *base_name(const char *p) {
  const char *s = strrchr(p, '/');
  return s != NULL ? s + 1 : p;
}

static void add_holder(struct ldr_scan_result *r, const char *text) {
  size_t len = strlen(r->holders);
  snprintf(r->holders + len, sizeof(r->holders) - len, "%s%s", len ? ", " : "", text);
}

/* Describe the word at `at`, in mapping m, holding a pointer into group gi. */
static void describe(struct work *w, unsigned gi, uintptr_t at, const struct mapping *m) {
  if (w->last[gi] == m || w->shown[gi] >= HOLDERS_SHOWN) /* one per mapping */
    return;
  w->last[gi] = m;
  w->shown[gi]++;
  char d[160];
  Dl_info di;
  if (m->inode != 0 && dladdr((void *)at, &di) != 0 && di.dli_fname != NULL) {
    if (di.dli_sname != NULL && di.dli_saddr != NULL)
      snprintf(d, sizeof(d), "%.60s:%.60s+%lu", base_name(di.dli_fname), di.dli_sname,
               (unsigned long)(at - (uintptr_t)di.dli_saddr));
    else
      snprintf(d, sizeof(d), "%.60s+0x%lx", base_name(di.dli_fname),
               (unsigned long)(at - (uintptr_t)di.dli_fbase));
  } else if (m->inode != 0) {
    snprintf(d, sizeof(d), "%.60s+0x%lx", base_name(m->path), (unsigned long)(at - m->lo));
  } else if (strcmp(m->path, "[stack]") == 0) {
    snprintf(d, sizeof(d), "stack 0x%lx", (unsigned long)at);
  } else {
    snprintf(d, sizeof(d), "heap 0x%lx", (unsigned long)at);
  }
  add_holder(&w->res[gi], d);
}

/* A word at `at` pointing into target t. */
static void found(struct work *w, uintptr_t at, const struct target *t, const struct mapping *m) {
  const struct target *o = find_target(sc.own, sc.n_own, at);
  if (o != NULL) { /* in a version being retired: its own, or another one's */
    if (o->group != t->group)
      w->by[o->group * w->ng + t->group] = 1;
    return;
  }
  bool anon = m->inode == 0 && m->path[0] == '\0';
  /* qemu-user's own map of the process does not name the brk heap: there, the anonymous
   * mapping that ends at the program break is it. */
  bool brk_heap = strcmp(m->path, "[heap]") == 0 || (anon && m->lo < sc.brk && sc.brk <= m->hi);
  if ((brk_heap || anon) &&
      pre_freeblk_has(&w->heap, at, m->lo, m->hi, brk_heap)) {
    w->freed++; /* stale bytes of a freed block: nothing can use them */
    return;
  }
  w->res[t->group].words++;
  describe(w, t->group, at, m);
}

/* Scan [lo, hi) (8-byte aligned) of mapping m. A read that fails (unmapped meanwhile) ends
 * the piece: nothing there can be used any more. */
static void scan_piece(struct work *w, uintptr_t lo, uintptr_t hi, const struct mapping *m) {
  const uintptr_t tmin = sc.tmin, tspan = sc.tspan;
  while (lo < hi) {
    size_t want = hi - lo < sizeof(sc.buf) ? hi - lo : sizeof(sc.buf);
    ssize_t got = pre_read_self(sc.buf, lo, want);
    if (got <= 0)
      return;
    w->bytes += (uint64_t)got;
    size_t nw = (size_t)got / sizeof(uintptr_t);
    for (size_t k = 0; k < nw; k++) {
      if (sc.buf[k] - tmin >= tspan)
        continue;
      const struct target *t = find_target(sc.t, sc.nt, sc.buf[k]);
      if (t != NULL)
        found(w, lo + k * sizeof(uintptr_t), t, m);
    }
    if ((size_t)got < want)
      return;
    lo += (uintptr_t)got;
  }
}

/* Scan [lo, hi) of m less the skipped spans (sorted, merged). */
static void scan_range(struct work *w, uintptr_t lo, uintptr_t hi, const struct mapping *m) {
  for (size_t i = first_above(w->skip, w->n_skip, sizeof(w->skip[0]), lo); lo < hi; i++) {
    uintptr_t end = i < w->n_skip && w->skip[i].lo < hi ? w->skip[i].lo : hi;
    if (end > lo)
      scan_piece(w, lo & ~(uintptr_t)7, end & ~(uintptr_t)7, m);
    if (i >= w->n_skip || w->skip[i].lo >= hi)
      break;
    lo = w->skip[i].hi;
  }
}

/* ---- stacks of threads that have exited ----------------------------------------------
 * glibc keeps the stacks of exited threads for reuse, and a joinable thread's until it is
 * joined: their bytes are what the thread left, stale pointers included. Such a stack is an
 * anonymous mapping with glibc's thread descriptor (struct pthread, the TCB: its `tcb` and
 * `self` words point to itself) near its top, whose tid the kernel set to 0 when the thread
 * exited (CLONE_CHILD_CLEARTID), and pthread_join to -1 once joined (seen when test_holders'
 * host left a joined thread's frames in glibc's stack cache). Where in the descriptor the
 * tid lives is found once, from this thread's own. The descriptor itself is still scanned
 * (a joinable thread's result). */
static long tid_offset = -1;

static void find_tid_offset(void) {
  const char *self = (const char *)pthread_self();
  pid_t me = gettid();
  for (long k = 0; k < 4096 && tid_offset < 0; k += 4) {
    pid_t v;
    if (pre_read_self(&v, (uintptr_t)(self + k), sizeof(v)) != sizeof(v))
      return;
    if (v == me)
      tid_offset = k;
  }
}

/* The descriptor of an exited thread near the top of anonymous mapping m, or 0. */
static uintptr_t dead_tcb(const struct mapping *m) {
  enum { TOP = 16384 };
  if (tid_offset < 0 || m->inode != 0 || m->path[0] != '\0' || m->hi - m->lo < 2 * TOP)
    return 0;
  uintptr_t top = m->hi - TOP;
  if (pre_read_self(sc.buf, top, TOP) != TOP)
    return 0;
  for (size_t k = 0; k + 2 < TOP / sizeof(uintptr_t); k += 8) { /* 64-byte aligned */
    uintptr_t at = top + k * sizeof(uintptr_t);
    if (sc.buf[k] != at || sc.buf[k + 2] != at)
      continue;
    pid_t tid;
    if ((uintptr_t)tid_offset + sizeof(tid) > m->hi - at)
      return 0;
    memcpy(&tid, (const char *)sc.buf + k * sizeof(uintptr_t) + tid_offset, sizeof(tid));
    return tid == 0 || tid == -1 ? at : 0;
  }
  return 0;
}

static void memory_pass(struct work *w) {
  for (size_t i = 0; i < w->n_maps; i++) {
    const struct mapping *m = &w->maps[i];
    bool whole;
    if (!scanned(m, &whole))
      continue;
    uintptr_t tcb = whole && m->w ? dead_tcb(m) : 0;
    if (tcb != 0) {
      scan_range(w, tcb, m->hi, m);
      continue;
    }
    if (whole) {
      scan_range(w, m->lo, m->hi, m);
      continue;
    }
    for (size_t k = 0; k < w->n_relro; k++) { /* a read-only file mapping: RELRO only */
      uintptr_t lo = w->relro[k].lo > m->lo ? w->relro[k].lo : m->lo;
      uintptr_t hi = w->relro[k].hi < m->hi ? w->relro[k].hi : m->hi;
      if (lo < hi)
        scan_range(w, lo, hi, m);
    }
  }
}

/* The targets, flat for the stack round and sorted for the pass. Returns 0 or -E2BIG. */
static int set_targets(const struct ldr_scan_group *g, size_t n, char *why) {
  size_t nf = 0;
  sc.n_own = 0;
  for (size_t i = 0; i < n; i++) {
    if (nf + g[i].n_targets > PRE_STACK_RANGES) {
      snprintf(why, LDR_ERR_MAX, "more than %d ranges to scan for at once", PRE_STACK_RANGES);
      return -E2BIG;
    }
    for (size_t k = 0; k < g[i].n_targets; k++) {
      sc.flat[nf] = g[i].targets[k];
      sc.flat_code[nf] = false;
      for (size_t x = 0; x < g[i].n_text; x++)
        sc.flat_code[nf] |= g[i].text[x].start < g[i].targets[k].end &&
                            g[i].targets[k].start < g[i].text[x].end;
      sc.flat_group[nf] = (unsigned)i;
      sc.t[nf] = (struct target){g[i].targets[k].start, g[i].targets[k].end, (unsigned)i};
      nf++;
    }
    sc.own[sc.n_own++] = (struct target){g[i].own_lo, g[i].own_hi, (unsigned)i};
  }
  sc.nt = nf;
  sort_by_lo(sc.t, nf, sizeof(sc.t[0]));
  sort_by_lo(sc.own, sc.n_own, sizeof(sc.own[0]));
  sc.tmin = nf > 0 ? sc.t[0].lo : 1;
  uintptr_t tmax = sc.tmin;
  for (size_t i = 0; i < nf; i++)
    tmax = sc.t[i].hi > tmax ? sc.t[i].hi : tmax;
  sc.tspan = tmax - sc.tmin;
  return 0;
}

int pre_scan(const struct ldr_scan_group *g, size_t n, const struct ldr_text_range *skip,
             size_t n_skip, struct ldr_scan_result *res, unsigned char *by, char *why) {
  uint64_t t0 = pre_now_ns();
  int rc = set_targets(g, n, why);
  if (rc != 0)
    return rc;
  sc.brk = pre_emulated() ? (uintptr_t)sbrk(0) : 0;
  /* Threads first: what the round covered is skipped by the pass. */
  rc = pre_stacks_words(sc.flat, sc.flat_code, sc.nt, &sc.words, why);
  if (rc != 0)
    return rc;
  struct work w = {.g = g, .ng = n, .res = res, .by = by};
  pre_freeblk_reset(&w.heap);
  for (size_t k = 0; k < sc.nt; k++) {
    if (!(sc.words.hits[k / 64] >> (k % 64) & 1))
      continue;
    struct ldr_scan_result *r = &res[sc.flat_group[k]];
    char d[64];
    snprintf(d, sizeof(d), "stack of thread %d", (int)sc.words.tid[k]);
    r->words++;
    r->stack_words++;
    if (r->thread == 0)
      r->thread = sc.words.tid[k];
    if (strstr(r->holders, d) == NULL && w.shown[sc.flat_group[k]]++ < HOLDERS_SHOWN)
      add_holder(r, d);
  }
  if (tid_offset < 0)
    find_tid_offset();
  rc = parse_maps(&w);
  if (rc == 0)
    rc = collect_skips(&w, skip, n_skip);
  uint64_t t1 = pre_now_ns();
  if (rc == 0) {
    memory_pass(&w);
    uint64_t t2 = pre_now_ns();
    pthread_mutex_lock(&stats_lock);
    last_stats = (struct pre_scan_stats){.scans = last_stats.scans + 1, .bytes = w.bytes,
                                         .total_ns = t2 - t0, .pass_ns = t2 - t1,
                                         .freed = w.freed};
    pthread_mutex_unlock(&stats_lock);
  } else
    snprintf(why, LDR_ERR_MAX, "cannot read the memory map: %s", strerror(-rc));
  /* Cleared before they are freed: a freed block keeps its bytes, and the next scan reads
   * the whole heap. */
  if (w.maps != NULL)
    explicit_bzero(w.maps, w.n_maps * sizeof(*w.maps));
  if (w.skip != NULL)
    explicit_bzero(w.skip, w.cap_skip * sizeof(*w.skip));
  if (w.relro != NULL)
    explicit_bzero(w.relro, w.cap_relro * sizeof(*w.relro));
  free(w.text);
  free(w.maps);
  free(w.skip);
  free(w.relro);
  return rc;
}
