/* SPDX-License-Identifier: BSD-3-Clause */
/* crashmap.c - which plugin version an address belongs to, for the crash path.
 *
 * A fatal signal handler must name the plugin file, version and function a faulting PC
 * lies in, without taking a lock (the crash may have happened with the registry mutex or
 * ld.so's lock held) and without calling dladdr (which takes ld.so's lock). So every
 * loaded version gets one immutable entry, built after its dlopen on the reloader thread:
 * its mapping, names, and its function symbols sorted by address, copied out of elf/'s
 * table (which is freed for old versions). Entries live in a fixed table of atomic
 * pointers; a reader counts itself in, and the remover waits for readers to leave before
 * freeing (bounded: an entry a crashed reader never left is leaked, not freed under it).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include "loader/lifecycle_int.h"
#include "loader/loader.h"
#include "loader/tramp.h"

struct crash_sym {
  uintptr_t lo, hi; /* absolute addresses */
  uint32_t name;    /* offset in strs */
};

struct crash_entry {
  uintptr_t lo, hi;
  _Atomic uint64_t committed_ns; /* 0 while loading (hooks, constructors) */
  _Atomic uint64_t generation;
  char file[64];
  char name[LDR_NAME_MAX];
  char version[LDR_VERSION_MAX];
  uint64_t content_hash;
  size_t n_syms;
  struct crash_sym *syms;
  char *strs;
};

#define CRASH_SLOTS 512
static struct crash_entry *_Atomic slots[CRASH_SLOTS];
static _Atomic int readers;

int ldr_crashmap_add(struct ldr_version *v, const char *name, const char *path) {
  const struct elf_info *ei = v->snap.info;
  size_t n = 0, bytes = 0;
  for (size_t i = 0; ei != NULL && i < ei->n_addr_syms; i++)
    if (ei->addr_syms[i].func && ei->addr_syms[i].size > 0) {
      n++;
      bytes += strlen(ei->addr_syms[i].name) + 1;
    }
  struct crash_entry *e = calloc(1, sizeof(*e) + n * sizeof(struct crash_sym) + bytes);
  if (e == NULL)
    return -ENOMEM;
  e->lo = v->map_lo;
  e->hi = v->map_hi;
  snprintf(e->file, sizeof(e->file), "%s", ldr_basename(path));
  snprintf(e->name, sizeof(e->name), "%s", name);
  snprintf(e->version, sizeof(e->version), "%s", v->version);
  e->content_hash = ei != NULL ? ei->content_hash : 0;
  e->syms = (struct crash_sym *)(e + 1);
  e->strs = (char *)(e->syms + n);
  size_t used = 0;
  uintptr_t l_addr = v->map != NULL ? (uintptr_t)v->map->l_addr : 0;
  for (size_t i = 0; ei != NULL && i < ei->n_addr_syms; i++) {
    const struct elf_addr_sym *s = &ei->addr_syms[i];
    if (!s->func || s->size == 0)
      continue;
    size_t len = strlen(s->name) + 1;
    memcpy(e->strs + used, s->name, len);
    e->syms[e->n_syms++] = (struct crash_sym){l_addr + s->value, l_addr + s->value + s->size,
                                               (uint32_t)used};
    used += len;
  }
  for (size_t i = 0; i < CRASH_SLOTS; i++) {
    struct crash_entry *none = NULL;
    if (atomic_compare_exchange_strong(&slots[i], &none, e)) {
      v->crash = e;
      return 0;
    }
  }
  free(e); /* table full: this version's crashes are named by its mapping only */
  return -ENOSPC;
}

void ldr_crashmap_committed(struct ldr_version *v, uint64_t generation) {
  struct crash_entry *e = v->crash;
  if (e == NULL)
    return;
  atomic_store(&e->generation, generation);
  atomic_store(&e->committed_ns, ldr_now_ns());
}

void ldr_crashmap_remove(struct ldr_version *v) {
  struct crash_entry *e = v->crash;
  if (e == NULL)
    return;
  v->crash = NULL;
  for (size_t i = 0; i < CRASH_SLOTS; i++) {
    struct crash_entry *was = e;
    if (atomic_compare_exchange_strong(&slots[i], &was, NULL))
      break;
  }
  /* A reader that loaded the pointer before it was cleared is counted in readers. */
  for (int k = 0; k < 100 && atomic_load(&readers) != 0; k++) {
    struct timespec ms = {0, 1000000};
    nanosleep(&ms, NULL);
  }
  if (atomic_load(&readers) == 0)
    ldr_free_cleared(e); /* cleared: a freed copy of its addresses would hold it (scan) */
  /* else: a thread crashed while reading (it will not leave): leak the entry */
}

uint64_t ldr_crashmap_hash(const struct ldr_version *v) {
  return v->crash != NULL ? v->crash->content_hash : 0;
}

static void copy_str(char *dst, size_t n, const char *src) {
  size_t i = 0;
  for (; i + 1 < n && src[i] != '\0'; i++)
    dst[i] = src[i];
  dst[i] = '\0';
}

bool ldr_crashmap_find(uintptr_t addr, struct ldr_crash_where *out) {
  bool found = false;
  atomic_fetch_add(&readers, 1);
  for (size_t i = 0; i < CRASH_SLOTS && !found; i++) {
    const struct crash_entry *e = atomic_load(&slots[i]);
    if (e == NULL || addr < e->lo || addr >= e->hi)
      continue;
    found = true;
    copy_str(out->file, sizeof(out->file), e->file);
    copy_str(out->name, sizeof(out->name), e->name);
    copy_str(out->version, sizeof(out->version), e->version);
    out->offset = addr - e->lo;
    out->content_hash = e->content_hash;
    out->committed_ns = atomic_load(&e->committed_ns);
    out->generation = atomic_load(&e->generation);
    out->sym[0] = '\0';
    out->sym_offset = 0;
    size_t lo = 0, hi = e->n_syms; /* last symbol starting at or below addr */
    while (lo < hi) {
      size_t mid = lo + (hi - lo) / 2;
      if (e->syms[mid].lo <= addr)
        lo = mid + 1;
      else
        hi = mid;
    }
    /* Symbols may nest (aliases, a function inside another's range): look back a few. */
    for (size_t k = lo; k > 0 && k + 8 > lo; k--) {
      const struct crash_sym *s = &e->syms[k - 1];
      if (addr >= s->lo && addr < s->hi) {
        copy_str(out->sym, sizeof(out->sym), e->strs + s->name);
        out->sym_offset = addr - s->lo;
        break;
      }
    }
  }
  atomic_fetch_sub(&readers, 1);
  return found;
}

/* ---- any mapping, from /proc/self/maps (async-signal-safe) ------------------------------ */

static uintptr_t hex(const char **p) {
  uintptr_t v = 0;
  for (;; (*p)++) {
    char c = **p;
    if (c >= '0' && c <= '9')
      v = v * 16 + (uintptr_t)(c - '0');
    else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
      v = v * 16 + (uintptr_t)((c | 0x20) - 'a' + 10);
    else
      return v;
  }
}

static void skip_field(const char **p) {
  while (**p == ' ')
    (*p)++;
  while (**p != ' ' && **p != '\0')
    (*p)++;
  while (**p == ' ')
    (*p)++;
}

/* One line of /proc/self/maps: "lo-hi perms offset dev inode [path]". When it holds addr,
 * its file's base name goes to name and addr's offset in the file to *off. */
static bool maps_line(const char *line, uintptr_t addr, char *name, size_t n, uintptr_t *off) {
  const char *p = line;
  uintptr_t lo = hex(&p);
  if (*p++ != '-')
    return false;
  uintptr_t hi = hex(&p);
  if (addr < lo || addr >= hi)
    return false;
  skip_field(&p); /* perms */
  uintptr_t foff = hex(&p);
  skip_field(&p); /* dev */
  skip_field(&p); /* inode */
  const char *slash = strrchr(p, '/');
  const char *base = slash != NULL ? slash + 1 : (*p != '\0' ? p : "anonymous memory");
  /* A plugin copy the loader mapped: "/memfd:hotswap:libx.so (deleted)" -> "hotswap:libx.so" */
  if (strncmp(base, "memfd:", 6) == 0)
    base += 6;
  size_t len = strlen(base);
  if (len > 10 && strcmp(base + len - 10, " (deleted)") == 0)
    len -= 10;
  size_t k = 0;
  for (; k + 1 < n && k < len; k++)
    name[k] = base[k];
  name[k] = '\0';
  *off = addr - lo + foff;
  return true;
}

bool ldr_maps_object(uintptr_t addr, char *name, size_t n, uintptr_t *off) {
  int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return false;
  char buf[4096 + 1];
  size_t have = 0;
  bool found = false;
  for (;;) {
    ssize_t r = read(fd, buf + have, sizeof(buf) - 1 - have);
    if (r < 0 && errno == EINTR)
      continue;
    bool eof = r <= 0;
    have += eof ? 0 : (size_t)r;
    buf[have] = '\0';
    char *line = buf, *nl;
    while (!found && (nl = strchr(line, '\n')) != NULL) {
      *nl = '\0';
      found = maps_line(line, addr, name, n, off);
      line = nl + 1;
    }
    if (!found && eof && *line != '\0')
      found = maps_line(line, addr, name, n, off);
    if (found || eof)
      break;
    have = (size_t)(buf + have - line); /* keep the unfinished line */
    memmove(buf, line, have);
    if (have >= sizeof(buf) - 1)
      have = 0; /* a line longer than the buffer: drop it */
  }
  close(fd);
  return found;
}

/* ---- a fatal signal's name and program counter (async-signal-safe) ---------------------- */

const char *ldr_fault_name(int signo) {
  switch (signo) {
  case SIGSEGV: return "SIGSEGV";
  case SIGBUS: return "SIGBUS";
  case SIGFPE: return "SIGFPE";
  case SIGILL: return "SIGILL";
  case SIGABRT: return "SIGABRT";
  case SIGTRAP: return "SIGTRAP";
  case SIGSYS: return "SIGSYS";
  default: return "a fatal signal";
  }
}

uintptr_t ldr_fault_pc(const void *uctx) {
  const ucontext_t *uc = uctx;
#if defined(__x86_64__)
  return (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];
#elif defined(__aarch64__)
  return (uintptr_t)uc->uc_mcontext.pc;
#else
  (void)uc;
  return 0;
#endif
}
