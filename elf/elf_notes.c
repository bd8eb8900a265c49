/* SPDX-License-Identifier: BSD-3-Clause */
/* elf_notes.c - the ELF notes of a plugin: the GNU build-id, the hotswap version note and
 * the HOTSWAP_LIVE_TYPE records (formats in include/hotswap.h). Notes are read from SHT_NOTE
 * sections (and a section named .note.hotswap of any type), or from PT_NOTE segments when the
 * file has no section headers. Every size in a note is checked before it is used.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "elf/elf_internal.h"

#define LIVE_DESC_SIZE sizeof(struct hotswap_live_type_desc)

/* Notes collected while walking; live types are moved into the arena at the end. */
struct notes {
  struct elf_live_type *types; /* malloc'd */
  size_t n_types, cap_types;
  size_t n_versions;
  bool have_build_id;
};

/* A note being looked at: where it is (for messages) and its parts. */
struct note {
  const char *where;
  size_t off; /* offset of the note inside its section or segment */
  uint32_t type;
  const unsigned char *name, *desc;
  uint32_t namesz, descsz;
};

static bool owner_is(const struct note *n, const char *owner) {
  size_t len = strlen(owner);
  return (n->namesz == len + 1 || n->namesz == len) && memcmp(n->name, owner, len) == 0 &&
         (n->namesz == len || n->name[len] == '\0');
}

/* Strict decimal: digits only (a leading '-' when allowed), fits in int64. */
static bool parse_dec(const char *s, bool allow_neg, int64_t *out) {
  bool neg = allow_neg && *s == '-';
  s += neg;
  if (*s == '\0' || strlen(s) > 18)
    return false;
  int64_t v = 0;
  for (; *s != '\0'; s++) {
    if (*s < '0' || *s > '9')
      return false;
    v = v * 10 + (*s - '0');
  }
  *out = neg ? -v : v;
  return true;
}

static int bad_value(struct elf_ctx *c, const char *key, const char *val) {
  return elf_fail(c, HOTSWAP_EBADELF, "hotswap version note: %s='%.64s' is not valid", key,
                  val);
}

/* One "key=value" entry of the version note; unknown keys are ignored. */
static int version_entry(struct elf_ctx *c, const char *kv) {
  struct elf_version_note *v = &c->info->note;
  const char *eq = strchr(kv, '=');
  if (eq == NULL)
    return 0;
  size_t klen = (size_t)(eq - kv);
  const char *val = eq + 1;
  int64_t num = 0;
#define KEY(k) (klen == sizeof(k) - 1 && memcmp(kv, k, klen) == 0)
  if (KEY("abi")) {
    if (!parse_dec(val, false, &num) || num > UINT32_MAX)
      return bad_value(c, "abi", val);
    v->abi = (uint32_t)num;
  } else if (KEY("dirty")) {
    if (strcmp(val, "0") != 0 && strcmp(val, "1") != 0)
      return bad_value(c, "dirty", val);
    v->dirty = val[0] == '1';
  } else if (KEY("commit_time") || KEY("build_time")) {
    if (!parse_dec(val, true, &num))
      return bad_value(c, KEY("commit_time") ? "commit_time" : "build_time", val);
    *(KEY("commit_time") ? &v->commit_time : &v->build_time) = num;
  } else if (KEY("name") || KEY("commit") || KEY("branch")) {
    char *copy = elf_strndup(c, val, strlen(val));
    if (copy == NULL)
      return elf_fail(c, -ENOMEM, "out of memory");
    *(KEY("name") ? &v->name : KEY("commit") ? &v->commit : &v->branch) = copy;
  }
#undef KEY
  return 0;
}

static int parse_version(struct elf_ctx *c, struct notes *ns, const struct note *n) {
  if (++ns->n_versions > 1)
    return elf_fail(c, HOTSWAP_EBADELF,
                    "has more than one hotswap version note (second in '%s' at offset %zu)",
                    n->where, n->off);
  if (n->descsz > 0 && memchr(n->desc, '\0', n->descsz) == NULL)
    return elf_fail(c, HOTSWAP_EBADELF, "hotswap version note in '%s' is not NUL-terminated",
                    n->where);
  /* The last entry must end inside the descriptor too; trailing NULs are padding. */
  size_t end = n->descsz;
  while (end > 0 && n->desc[end - 1] != '\0')
    end--;
  if (end != n->descsz)
    return elf_fail(c, HOTSWAP_EBADELF, "hotswap version note in '%s' is not NUL-terminated",
                    n->where);
  struct elf_version_note *v = &c->info->note;
  v->present = true;
  for (size_t pos = 0; pos < end;) {
    const char *kv = (const char *)n->desc + pos;
    size_t len = strlen(kv); /* terminated: desc[end - 1] is NUL */
    int rc = len > 0 ? version_entry(c, kv) : 0;
    if (rc != 0)
      return rc;
    pos += len + 1;
  }
  return 0;
}

/* Layout hash seeded fingerprint over the field names, whitespace dropped, so that a
 * renamed or reordered field changes it even when the layout hash does not. */
static uint64_t fingerprint(uint64_t layout, const char *fields) {
  uint64_t h = layout;
  for (const unsigned char *p = (const unsigned char *)fields; *p != '\0'; p++)
    if (*p != ' ' && *p != '\t' && *p != '\n')
      h = (h ^ *p) * 0x100000001b3ull;
  return h;
}

static int parse_live_type(struct elf_ctx *c, struct notes *ns, const struct note *n) {
  if (n->descsz < LIVE_DESC_SIZE)
    return elf_fail(c, HOTSWAP_EBADELF,
                    "hotswap live type note in '%s' is %u bytes, shorter than its %zu-byte "
                    "header",
                    n->where, (unsigned)n->descsz, LIVE_DESC_SIZE);
  const char *text = (const char *)n->desc + LIVE_DESC_SIZE;
  size_t tlen = n->descsz - LIVE_DESC_SIZE;
  const char *nul1 = memchr(text, '\0', tlen);
  const char *nul2 = nul1 != NULL ? memchr(nul1 + 1, '\0', tlen - (size_t)(nul1 + 1 - text))
                                  : NULL;
  if (nul2 == NULL || nul1 == text)
    return elf_fail(c, HOTSWAP_EBADELF,
                    "hotswap live type note in '%s' at offset %zu lacks its type name or "
                    "field list",
                    n->where, n->off);
  if (ns->n_types == ns->cap_types) {
    size_t cap = ns->cap_types ? ns->cap_types * 2 : 8;
    struct elf_live_type *t = realloc(ns->types, cap * sizeof(*t));
    if (t == NULL)
      return elf_fail(c, -ENOMEM, "out of memory");
    ns->types = t;
    ns->cap_types = cap;
  }
  struct elf_live_type *t = &ns->types[ns->n_types];
  size_t off = (size_t)(n->desc - c->buf);
  t->size = elf_rd32(c, off);
  t->align = elf_rd32(c, off + 4);
  t->layout_hash = elf_rd32(c, off + 8) | (uint64_t)elf_rd32(c, off + 12) << 32;
  t->name = elf_strndup(c, text, (size_t)(nul1 - text));
  t->fields = elf_strndup(c, nul1 + 1, (size_t)(nul2 - nul1 - 1));
  if (t->name == NULL || t->fields == NULL)
    return elf_fail(c, -ENOMEM, "out of memory");
  t->fingerprint = fingerprint(t->layout_hash, t->fields);
  ns->n_types++;
  return 0;
}

static int dispatch(struct elf_ctx *c, struct notes *ns, const struct note *n) {
  if (owner_is(n, "GNU") && n->type == NT_GNU_BUILD_ID && !ns->have_build_id) {
    size_t len = n->descsz < sizeof(c->info->build_id) ? n->descsz : sizeof(c->info->build_id);
    memcpy(c->info->build_id, n->desc, len);
    c->info->build_id_len = len;
    ns->have_build_id = true;
  } else if (owner_is(n, HOTSWAP_NOTE_NAME) && n->type == HOTSWAP_NT_VERSION) {
    return parse_version(c, ns, n);
  } else if (owner_is(n, HOTSWAP_NOTE_NAME) && n->type == HOTSWAP_NT_LIVE_TYPE) {
    return parse_live_type(c, ns, n);
  }
  return 0;
}

static size_t align_up(size_t v, size_t a) {
  return (v + a - 1) & ~(a - 1);
}

/* Walks the notes in buf[off, off+size), which the caller checked lies in the file. */
static int walk_area(struct elf_ctx *c, struct notes *ns, size_t off, size_t size,
                     size_t align, const char *where) {
  for (size_t pos = 0; pos < size;) {
    struct note n = {.where = where, .off = pos};
    size_t left = size - pos;
    if (left < 12)
      return elf_fail(c, HOTSWAP_EBADELF,
                      "note at offset %zu in '%s' is truncated (%zu bytes left of a 12-byte "
                      "header)",
                      pos, where, left);
    n.namesz = elf_rd32(c, off + pos);
    n.descsz = elf_rd32(c, off + pos + 4);
    n.type = elf_rd32(c, off + pos + 8);
    if (n.namesz > left - 12)
      return elf_fail(c, HOTSWAP_EBADELF,
                      "note at offset %zu in '%s' claims a %u-byte name, only %zu bytes remain",
                      pos, where, (unsigned)n.namesz, left - 12);
    size_t dpos = align_up(12 + (size_t)n.namesz, align);
    if (dpos > left || n.descsz > left - dpos)
      return elf_fail(c, HOTSWAP_EBADELF,
                      "note at offset %zu in '%s' claims a %u-byte descriptor, only %zu bytes "
                      "remain",
                      pos, where, (unsigned)n.descsz, dpos > left ? 0 : left - dpos);
    n.name = c->buf + off + pos + 12;
    n.desc = c->buf + off + pos + dpos;
    int rc = dispatch(c, ns, &n);
    if (rc != 0)
      return rc;
    size_t next = align_up(dpos + n.descsz, align);
    pos += next < left ? next : left;
  }
  return 0;
}

static int walk_sections(struct elf_ctx *c, struct notes *ns, bool *any) {
  for (size_t i = 1; i < c->shnum; i++) {
    GElf_Shdr sh;
    Elf_Scn *scn = elf_getscn(c->elf, i);
    if (scn == NULL || gelf_getshdr(scn, &sh) == NULL)
      continue;
    const char *name = elf_sec_name(c, i);
    if (sh.sh_type != SHT_NOTE &&
        !(sh.sh_type != SHT_NOBITS && strcmp(name, HOTSWAP_NOTE_SECTION) == 0))
      continue;
    *any = true;
    int rc = elf_sec_hdr(c, i, &sh);
    if (rc == 0)
      rc = walk_area(c, ns, sh.sh_offset, sh.sh_size, sh.sh_addralign == 8 ? 8 : 4, name);
    if (rc != 0)
      return rc;
  }
  return 0;
}

static int walk_segments(struct elf_ctx *c, struct notes *ns) {
  for (size_t i = 0; i < c->phnum; i++) {
    GElf_Phdr ph;
    if (gelf_getphdr(c->elf, (int)i, &ph) == NULL || ph.p_type != PT_NOTE)
      continue;
    if (ph.p_offset > c->len || ph.p_filesz > c->len - ph.p_offset)
      return elf_fail(c, HOTSWAP_EBADELF,
                      "PT_NOTE segment %zu (offset %ju, size %ju) extends past the end of "
                      "the file (%zu bytes)",
                      i, (uintmax_t)ph.p_offset, (uintmax_t)ph.p_filesz, c->len);
    int rc = walk_area(c, ns, ph.p_offset, ph.p_filesz, ph.p_align == 8 ? 8 : 4, "PT_NOTE");
    if (rc != 0)
      return rc;
  }
  return 0;
}

static int cmp_type(const void *a, const void *b) {
  return strcmp(((const struct elf_live_type *)a)->name,
                ((const struct elf_live_type *)b)->name);
}

/* Sorts the live types by name into the arena. The same declaration seen twice (a header
 * included by two files) counts once; two different layouts under one name are an error. */
static int finish_types(struct elf_ctx *c, struct notes *ns) {
  struct elf_info *info = c->info;
  if (ns->n_types == 0)
    return 0;
  qsort(ns->types, ns->n_types, sizeof(*ns->types), cmp_type);
  info->live_types = elf_alloc(c, ns->n_types * sizeof(*info->live_types));
  if (info->live_types == NULL)
    return elf_fail(c, -ENOMEM, "out of memory");
  for (size_t i = 0; i < ns->n_types; i++) {
    const struct elf_live_type *t = &ns->types[i];
    struct elf_live_type *prev = info->n_live_types ? &info->live_types[info->n_live_types - 1]
                                                    : NULL;
    if (prev != NULL && strcmp(prev->name, t->name) == 0) {
      if (prev->fingerprint != t->fingerprint || prev->size != t->size ||
          prev->align != t->align)
        return elf_fail(c, HOTSWAP_EBADELF,
                        "live type '%s' is declared twice with different layouts", t->name);
      continue;
    }
    info->live_types[info->n_live_types++] = *t;
  }
  return 0;
}

int elf_parse_notes(struct elf_ctx *c) {
  struct notes ns = {0};
  struct elf_version_note *v = &c->info->note;
  v->name = v->commit = v->branch = "";
  bool any_section = false;
  int rc = walk_sections(c, &ns, &any_section);
  if (rc == 0 && !any_section)
    rc = walk_segments(c, &ns);
  if (rc == 0)
    rc = finish_types(c, &ns);
  free(ns.types);
  return rc;
}
