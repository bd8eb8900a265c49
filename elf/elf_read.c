/* SPDX-License-Identifier: BSD-3-Clause */
/* elf_read.c - entry points of elf/: reads a plugin from a fd or a buffer into memory we own,
 * validates the ELF, section and program header tables by hand before libelf sees them, and
 * drives the parsers of elf_dyn.c and elf_notes.c. Also the arena and bounds-checked section
 * access they share.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "elf/elf_internal.h"

/* Files larger than this are refused: a plugin is never this big, and we read it whole. */
#define ELF_MAX_FILE ((size_t)1 << 30)
#define ARENA_CHUNK 65536

int elf_fail(struct elf_ctx *c, int code, const char *fmt, ...) {
  if (c->err != NULL && c->err[0] == '\0') {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->err, ELF_ERR_MAX, fmt, ap);
    va_end(ap);
  }
  return code;
}

static int fail_nomem(struct elf_ctx *c) {
  return elf_fail(c, -ENOMEM, "out of memory");
}

void *elf_alloc(struct elf_ctx *c, size_t n) {
  struct elf_arena *a = c->info->arena_;
  n = (n + 15) & ~(size_t)15;
  if (a == NULL || a->cap - a->used < n) {
    size_t cap = n > ARENA_CHUNK / 2 ? n : ARENA_CHUNK;
    struct elf_arena *fresh = calloc(1, sizeof(*fresh) + cap);
    if (fresh == NULL)
      return NULL;
    fresh->cap = cap;
    if (n > ARENA_CHUNK / 2 && a != NULL) {
      /* A big array gets a chunk of its own behind the current one, which stays in use. */
      fresh->next = a->next;
      a->next = fresh;
      fresh->used = n;
      return fresh->data;
    }
    fresh->next = a;
    c->info->arena_ = a = fresh;
  }
  void *p = a->data + a->used;
  a->used += n;
  return p;
}

char *elf_strndup(struct elf_ctx *c, const char *s, size_t n) {
  char *d = elf_alloc(c, n + 1);
  if (d != NULL) {
    memcpy(d, s, n);
    d[n] = '\0';
  }
  return d;
}

uint32_t elf_rd32(const struct elf_ctx *c, size_t off) {
  const unsigned char *p = c->buf + off;
  if (c->msb)
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
  return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

static uint64_t rd(const struct elf_ctx *c, size_t off, size_t width) {
  uint64_t v = 0;
  for (size_t i = 0; i < width; i++) {
    unsigned char b = c->buf[off + (c->msb ? i : width - 1 - i)];
    v = v << 8 | b;
  }
  return v;
}

/* Does [off, off+size) lie inside the input? Overflow-safe. */
static bool in_file(const struct elf_ctx *c, uint64_t off, uint64_t size) {
  return off <= c->len && size <= c->len - off;
}

const char *elf_sec_name(struct elf_ctx *c, size_t idx) {
  GElf_Shdr sh, strsh;
  if (c->elf == NULL || idx >= c->shnum || c->shstrndx == 0 || c->shstrndx >= c->shnum)
    return "?";
  Elf_Scn *scn = elf_getscn(c->elf, idx), *str = elf_getscn(c->elf, c->shstrndx);
  if (scn == NULL || str == NULL || gelf_getshdr(scn, &sh) == NULL ||
      gelf_getshdr(str, &strsh) == NULL || strsh.sh_type == SHT_NOBITS ||
      !in_file(c, strsh.sh_offset, strsh.sh_size) || sh.sh_name >= strsh.sh_size)
    return "?";
  const char *s = (const char *)c->buf + strsh.sh_offset + sh.sh_name;
  if (memchr(s, '\0', strsh.sh_size - sh.sh_name) == NULL)
    return "?";
  return s;
}

int elf_sec_hdr(struct elf_ctx *c, size_t idx, GElf_Shdr *sh) {
  Elf_Scn *scn = idx < c->shnum ? elf_getscn(c->elf, idx) : NULL;
  if (scn == NULL || gelf_getshdr(scn, sh) == NULL)
    return elf_fail(c, HOTSWAP_EBADELF, "cannot read section header %zu: %s", idx,
                    elf_errmsg(-1));
  if (sh->sh_type != SHT_NOBITS && !in_file(c, sh->sh_offset, sh->sh_size))
    return elf_fail(c, HOTSWAP_EBADELF,
                    "section [%zu] '%s' (offset %ju, size %ju) extends past the end of the "
                    "file (%zu bytes)",
                    idx, elf_sec_name(c, idx), (uintmax_t)sh->sh_offset,
                    (uintmax_t)sh->sh_size, c->len);
  return 0;
}

int elf_sec_data(struct elf_ctx *c, size_t idx, GElf_Shdr *sh, Elf_Data **out) {
  Elf_Scn *scn = elf_getscn(c->elf, idx);
  Elf_Data *d = scn != NULL ? elf_getdata(scn, NULL) : NULL;
  if (d == NULL || d->d_size > sh->sh_size || (d->d_size > 0 && d->d_buf == NULL))
    return elf_fail(c, HOTSWAP_EBADELF, "cannot read section [%zu] '%s': %s", idx,
                    elf_sec_name(c, idx), d == NULL ? elf_errmsg(-1) : "bad size");
  *out = d;
  return 0;
}

int elf_strtab(struct elf_ctx *c, size_t idx, const char *user, const char **data,
               size_t *size) {
  for (size_t i = 0; i < c->n_strtabs; i++)
    if (c->strtabs[i].idx == idx) {
      *data = c->strtabs[i].data;
      *size = c->strtabs[i].size;
      return 0;
    }
  GElf_Shdr sh;
  if (idx == 0 || idx >= c->shnum)
    return elf_fail(c, HOTSWAP_EBADELF, "'%s' links to section %zu, which does not exist",
                    user, idx);
  int rc = elf_sec_hdr(c, idx, &sh);
  if (rc != 0)
    return rc;
  if (sh.sh_type != SHT_STRTAB)
    return elf_fail(c, HOTSWAP_EBADELF,
                    "'%s' links to section [%zu] '%s', which is not a string table", user,
                    idx, elf_sec_name(c, idx));
  /* The ELF spec ends every string table with a NUL; then any offset inside it names a
   * terminated string and no per-string scan is needed. */
  if (sh.sh_size == 0 || c->buf[sh.sh_offset + sh.sh_size - 1] != '\0')
    return elf_fail(c, HOTSWAP_EBADELF, "string table [%zu] '%s' does not end with a NUL",
                    idx, elf_sec_name(c, idx));
  char *copy = elf_strndup(c, (const char *)c->buf + sh.sh_offset, sh.sh_size);
  if (copy == NULL)
    return fail_nomem(c);
  if (c->n_strtabs < sizeof(c->strtabs) / sizeof(c->strtabs[0])) {
    c->strtabs[c->n_strtabs].idx = idx;
    c->strtabs[c->n_strtabs].data = copy;
    c->strtabs[c->n_strtabs].size = sh.sh_size;
    c->n_strtabs++;
  }
  *data = copy;
  *size = sh.sh_size;
  return 0;
}

uint64_t elf_content_hash(const void *buf, size_t n) {
  const unsigned char *p = buf;
  uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a 64 */
  for (size_t i = 0; i < n; i++)
    h = (h ^ p[i]) * 0x100000001b3ull;
  return h;
}

/* Checks the identification bytes and that the ELF header fits. */
static int check_ident(struct elf_ctx *c) {
  if (c->len == 0)
    return elf_fail(c, HOTSWAP_ENOTELF, "file is empty");
  if (c->len < SELFMAG || memcmp(c->buf, ELFMAG, SELFMAG) != 0)
    return elf_fail(c, HOTSWAP_ENOTELF, "not an ELF file (bad magic)");
  if (c->len <= EI_DATA)
    return elf_fail(c, HOTSWAP_EBADELF, "truncated: %zu bytes, the ELF header needs more",
                    c->len);
  unsigned char cls = c->buf[EI_CLASS], data = c->buf[EI_DATA];
  if (cls != ELFCLASS32 && cls != ELFCLASS64)
    return elf_fail(c, HOTSWAP_EBADELF, "unknown ELF class %u", cls);
  if (data != ELFDATA2LSB && data != ELFDATA2MSB)
    return elf_fail(c, HOTSWAP_EBADELF, "unknown ELF byte order %u", data);
  c->cls = cls;
  c->msb = data == ELFDATA2MSB;
  size_t ehsize = cls == ELFCLASS64 ? sizeof(Elf64_Ehdr) : sizeof(Elf32_Ehdr);
  if (c->len < ehsize)
    return elf_fail(c, HOTSWAP_EBADELF, "truncated: %zu bytes, the ELF header needs %zu",
                    c->len, ehsize);
  return 0;
}

/* Validates the section and program header tables against the file size, by hand, before
 * libelf is allowed to look at them. Handles extended numbering (e_shnum == 0 etc.). */
static int check_tables(struct elf_ctx *c) {
  bool is64 = c->cls == ELFCLASS64;
  size_t w = is64 ? 8 : 4, shsz = is64 ? sizeof(Elf64_Shdr) : sizeof(Elf32_Shdr);
  size_t phsz = is64 ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr);
  uint64_t phoff = rd(c, 24 + w, w), shoff = rd(c, 24 + 2 * w, w);
  size_t base = 24 + 3 * w + 4; /* e_ehsize */
  uint64_t phentsize = rd(c, base + 2, 2), phnum = rd(c, base + 4, 2);
  uint64_t shentsize = rd(c, base + 6, 2), shnum = rd(c, base + 8, 2);
  uint64_t shstrndx = rd(c, base + 10, 2);
  if (shoff != 0) {
    if (shentsize != shsz)
      return elf_fail(c, HOTSWAP_EBADELF, "section header size is %ju, expected %zu",
                      (uintmax_t)shentsize, shsz);
    if (!in_file(c, shoff, shsz))
      return elf_fail(c, HOTSWAP_EBADELF,
                      "section header table at offset %ju is past the end of the file "
                      "(%zu bytes)",
                      (uintmax_t)shoff, c->len);
    /* Section 0 holds the real counts when they do not fit the ELF header. */
    uint64_t sh0_size = rd(c, shoff + (is64 ? 32 : 20), w);
    uint64_t sh0_link = rd(c, shoff + (is64 ? 40 : 24), 4);
    uint64_t sh0_info = rd(c, shoff + (is64 ? 44 : 28), 4);
    if (shnum == 0)
      shnum = sh0_size;
    if (shstrndx == SHN_XINDEX)
      shstrndx = sh0_link;
    if (phnum == PN_XNUM)
      phnum = sh0_info;
    if (shnum > (c->len - shoff) / shsz)
      return elf_fail(c, HOTSWAP_EBADELF,
                      "section header table (%ju entries at offset %ju) extends past the "
                      "end of the file (%zu bytes)",
                      (uintmax_t)shnum, (uintmax_t)shoff, c->len);
  } else {
    shnum = 0;
  }
  if (phnum > 0) {
    if (phentsize != phsz)
      return elf_fail(c, HOTSWAP_EBADELF, "program header size is %ju, expected %zu",
                      (uintmax_t)phentsize, phsz);
    if (phoff > c->len || phnum > (c->len - phoff) / phsz)
      return elf_fail(c, HOTSWAP_EBADELF,
                      "program header table (%ju entries at offset %ju) extends past the "
                      "end of the file (%zu bytes)",
                      (uintmax_t)phnum, (uintmax_t)phoff, c->len);
  }
  if (shnum > 0 && shstrndx >= shnum)
    return elf_fail(c, HOTSWAP_EBADELF,
                    "section name table index %ju is past the last section (%ju)",
                    (uintmax_t)shstrndx, (uintmax_t)shnum - 1);
  c->shnum = shnum;
  c->phnum = phnum;
  c->shstrndx = shstrndx;
  return 0;
}

static pthread_once_t version_once = PTHREAD_ONCE_INIT;
static void version_init(void) {
  (void)elf_version(EV_CURRENT);
}

/* Hands the buffer to libelf and checks that it agrees with our own reading. */
static int open_elf(struct elf_ctx *c, unsigned char *owned) {
  pthread_once(&version_once, version_init);
  c->elf = elf_memory((char *)owned, c->len);
  if (c->elf == NULL || elf_kind(c->elf) != ELF_K_ELF)
    return elf_fail(c, HOTSWAP_EBADELF, "libelf cannot read it: %s", elf_errmsg(-1));
  size_t shnum = 0, phnum = 0;
  if (elf_getshdrnum(c->elf, &shnum) != 0 || elf_getphdrnum(c->elf, &phnum) != 0)
    return elf_fail(c, HOTSWAP_EBADELF, "libelf cannot read the header tables: %s",
                    elf_errmsg(-1));
  if (shnum != c->shnum || phnum != c->phnum)
    return elf_fail(c, HOTSWAP_EBADELF,
                    "header tables are inconsistent (%zu sections, %zu segments)", shnum,
                    phnum);
  GElf_Ehdr eh;
  if (gelf_getehdr(c->elf, &eh) == NULL)
    return elf_fail(c, HOTSWAP_EBADELF, "libelf cannot read the ELF header: %s",
                    elf_errmsg(-1));
  c->info->elf_class = c->cls;
  c->info->machine = eh.e_machine;
  c->info->type = eh.e_type;
  return 0;
}

/* Program headers: executable stack and TLS. (PT_NOTE is read by elf_notes.c.) */
static int parse_phdrs(struct elf_ctx *c) {
  bool gnu_stack = false;
  for (size_t i = 0; i < c->phnum; i++) {
    GElf_Phdr ph;
    if (gelf_getphdr(c->elf, (int)i, &ph) == NULL)
      return elf_fail(c, HOTSWAP_EBADELF, "cannot read program header %zu: %s", i,
                      elf_errmsg(-1));
    if (ph.p_type == PT_GNU_STACK) {
      gnu_stack = true;
      if (ph.p_flags & PF_X)
        c->info->execstack = true;
    } else if (ph.p_type == PT_TLS) {
      c->info->has_tls = true;
    }
  }
  /* Only a loadable object has a stack to speak of; without PT_GNU_STACK the dynamic
   * linker assumes an executable one. */
  if (!gnu_stack && c->phnum > 0) {
    c->info->execstack = true;
    c->info->no_gnu_stack = true;
  }
  return 0;
}

static int parse_all(struct elf_ctx *c, unsigned char *owned) {
  int rc = check_ident(c);
  if (rc == 0)
    rc = check_tables(c);
  if (rc == 0)
    rc = open_elf(c, owned);
  if (rc == 0)
    rc = parse_phdrs(c);
  if (rc == 0)
    rc = elf_parse_dynamic(c);
  if (rc == 0)
    rc = elf_parse_symbols(c);
  if (rc == 0)
    rc = elf_parse_notes(c);
  if (rc == 0)
    rc = elf_parse_state(c);
  return rc;
}

/* Parses `owned` (len bytes, malloc'd, freed here whatever happens). */
static int inspect_owned(unsigned char *owned, size_t len, const struct elf_opts *opts,
                         struct elf_info **out, char *err) {
  struct elf_ctx c = {.buf = owned, .len = len, .err = err};
  c.live_prefix = opts != NULL && opts->live_prefix != NULL ? opts->live_prefix
                                                             : HOTSWAP_LIVE_PREFIX;
  c.live_prefix_len = strlen(c.live_prefix);
  c.info = calloc(1, sizeof(*c.info));
  if (c.info == NULL) {
    free(owned);
    return fail_nomem(&c);
  }
  c.info->file_size = len;
  c.info->content_hash = elf_content_hash(owned, len);
  int rc = parse_all(&c, owned);
  if (c.elf != NULL)
    elf_end(c.elf);
  free(owned);
  if (rc != 0) {
    elf_info_free(c.info);
    return rc;
  }
  *out = c.info;
  return 0;
}

int elf_inspect_mem(const void *buf, size_t len, const struct elf_opts *opts,
                    struct elf_info **out, char *err) {
  struct elf_ctx c = {.err = err};
  if (err != NULL)
    err[0] = '\0';
  if (out == NULL || (buf == NULL && len > 0))
    return elf_fail(&c, -EINVAL, "no buffer or no place for the result");
  *out = NULL;
  if (len > ELF_MAX_FILE)
    return elf_fail(&c, -EFBIG, "file is larger than 1 GiB (%zu bytes); refusing to read it",
                    len);
  /* libelf may convert data in place, so it gets a private, aligned copy. */
  unsigned char *owned = malloc(len > 0 ? len : 1);
  if (owned == NULL)
    return fail_nomem(&c);
  if (len > 0)
    memcpy(owned, buf, len);
  return inspect_owned(owned, len, opts, out, err);
}

/* Reads all of a regular file with pread, leaving the fd's offset alone. */
static int read_fd(struct elf_ctx *c, int fd, unsigned char **buf, size_t *len) {
  struct stat st;
  if (fstat(fd, &st) != 0)
    return elf_fail(c, -errno, "cannot stat: %s", strerror(errno));
  if (S_ISDIR(st.st_mode))
    return elf_fail(c, -EISDIR, "is a directory, not an ELF file");
  if (!S_ISREG(st.st_mode))
    return elf_fail(c, -EINVAL, "not a regular file");
  if ((uint64_t)st.st_size > ELF_MAX_FILE)
    return elf_fail(c, -EFBIG, "file is larger than 1 GiB (%jd bytes); refusing to read it",
                    (intmax_t)st.st_size);
  size_t size = (size_t)st.st_size, got = 0;
  unsigned char *b = malloc(size > 0 ? size : 1);
  if (b == NULL)
    return fail_nomem(c);
  while (got < size) {
    ssize_t n = pread(fd, b + got, size - got, (off_t)got);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      int e = errno;
      free(b);
      return elf_fail(c, -e, "cannot read: %s", strerror(e));
    }
    if (n == 0)
      break; /* the file shrank while we read it: inspect what is there */
    got += (size_t)n;
  }
  *buf = b;
  *len = got;
  return 0;
}

int elf_inspect_fd(int fd, const struct elf_opts *opts, struct elf_info **out, char *err) {
  struct elf_ctx c = {.err = err};
  if (err != NULL)
    err[0] = '\0';
  if (out == NULL)
    return elf_fail(&c, -EINVAL, "no place for the result");
  *out = NULL;
  unsigned char *buf = NULL;
  size_t len = 0;
  int rc = read_fd(&c, fd, &buf, &len);
  if (rc != 0)
    return rc;
  return inspect_owned(buf, len, opts, out, err);
}

void elf_info_free(struct elf_info *info) {
  if (info == NULL)
    return;
  struct elf_arena *a = info->arena_;
  while (a != NULL) {
    struct elf_arena *next = a->next;
    free(a);
    a = next;
  }
  free(info);
}

const struct elf_sym *elf_find_export(const struct elf_info *info, const char *name) {
  if (info == NULL || name == NULL)
    return NULL;
  /* Lower bound: among equal names the default version sorts first. */
  size_t lo = 0, hi = info->n_exports;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (strcmp(info->exports[mid].name, name) < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  if (lo < info->n_exports && strcmp(info->exports[lo].name, name) == 0)
    return &info->exports[lo];
  return NULL;
}
