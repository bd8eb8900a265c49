/* SPDX-License-Identifier: BSD-3-Clause */
/* adopt.c - generation 0 of a retrofitted library: find the object the dynamic linker already
 * loaded from a plugin's file (same st_dev and st_ino as the path), and read its build-id
 * from its PT_NOTE in memory, so that the lifecycle can check it is the build on disk.
 */
#define _GNU_SOURCE
#include <elf.h>
#include <link.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "loader/lifecycle_int.h"

/* Notes are 4-byte aligned, or 8 in a PT_NOTE whose p_align says so (.note.gnu.property). */
static size_t note_pad(size_t n, size_t align) { return (n + align - 1) & ~(align - 1); }

/* Copy the NT_GNU_BUILD_ID descriptor of one PT_NOTE segment into out; true when found. */
static bool note_build_id(const unsigned char *p, size_t size, size_t align,
                          struct ldr_loaded *out) {
  size_t off = 0;
  while (off + sizeof(ElfW(Nhdr)) <= size) {
    ElfW(Nhdr) nh;
    memcpy(&nh, p + off, sizeof(nh));
    size_t name_off = off + sizeof(nh);
    size_t desc_off = name_off + note_pad(nh.n_namesz, align);
    size_t next = desc_off + note_pad(nh.n_descsz, align);
    if (desc_off > size || next > size || next <= off)
      return false; /* malformed: stop rather than read past the segment */
    if (nh.n_type == NT_GNU_BUILD_ID && nh.n_namesz == 4 &&
        memcmp(p + name_off, "GNU", 4) == 0 && nh.n_descsz <= sizeof(out->build_id)) {
      memcpy(out->build_id, p + desc_off, nh.n_descsz);
      out->build_id_len = nh.n_descsz;
      return true;
    }
    off = next;
  }
  return false;
}

/* Build-id of a loaded object, from its PT_NOTE segments in memory (0 bytes when none). */
static void loaded_build_id(const struct dl_phdr_info *info, struct ldr_loaded *out) {
  out->build_id_len = 0;
  for (ElfW(Half) i = 0; i < info->dlpi_phnum; i++) {
    const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
    if (ph->p_type != PT_NOTE)
      continue;
    const unsigned char *p = (const void *)(info->dlpi_addr + ph->p_vaddr);
    if (note_build_id(p, ph->p_memsz, ph->p_align == 8 ? 8 : 4, out))
      return;
  }
}

struct adopt_find {
  dev_t dev;
  ino_t ino;
  struct ldr_loaded *out;
};

static int adopt_find_cb(struct dl_phdr_info *info, size_t size, void *arg) {
  (void)size;
  struct adopt_find *f = arg;
  const char *name = info->dlpi_name;
  /* "" is the program itself; /proc/self/fd/N are the loader's own snapshots. */
  if (name == NULL || name[0] == '\0' || strncmp(name, "/proc/", 6) == 0)
    return 0;
  struct stat st;
  if (stat(name, &st) != 0 || st.st_dev != f->dev || st.st_ino != f->ino)
    return 0;
  if (snprintf(f->out->name, sizeof(f->out->name), "%s", name) >= (int)sizeof(f->out->name))
    return 0; /* a name we cannot hand to dlopen whole */
  loaded_build_id(info, f->out);
  return 1;
}

bool ldr_adopt_find(dev_t dev, ino_t ino, struct ldr_loaded *out) {
  struct adopt_find f = {.dev = dev, .ino = ino, .out = out};
  memset(out, 0, sizeof(*out));
  return dl_iterate_phdr(adopt_find_cb, &f) != 0;
}

void ldr_hex(const unsigned char *b, size_t n, char *buf, size_t size) {
  size_t len = 0;
  buf[0] = '\0';
  for (size_t i = 0; i < n && len + 3 <= size; i++)
    len += (size_t)snprintf(buf + len, size - len, "%02x", b[i]);
}
