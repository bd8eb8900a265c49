/* SPDX-License-Identifier: BSD-3-Clause */
/* elf_whole.c - test helper for `hotswap build`'s atomic output: opens PATH again and again
 * until STOPFILE exists and checks with elf/ that every open saw a whole plugin (a file
 * caught half-written fails to parse or lacks its version note).
 *
 *   elf_whole PATH STOPFILE   loop; prints "opens N whole N partial N missing N"
 *   elf_whole PATH            check once
 * Exit status: 0 when every open saw a whole file (and, looping, at least one did), 1 not.
 */
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "elf/elf.h"

/* 1 whole, 0 partial, -1 missing. */
static int check(const char *path, char *why) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return -1;
  struct elf_info *info = NULL;
  int rc = elf_inspect_fd(fd, NULL, &info, why);
  close(fd);
  if (rc < 0)
    return 0;
  int whole = info->note.present && info->n_exports > 0;
  if (!whole)
    snprintf(why, ELF_ERR_MAX, "no version note or no exports");
  elf_info_free(info);
  return whole;
}

int main(int argc, char **argv) {
  char why[ELF_ERR_MAX] = "";
  if (argc == 2) {
    int r = check(argv[1], why);
    printf("%s: %s\n", argv[1], r == 1 ? "whole" : r == 0 ? why : "missing");
    return r == 1 ? 0 : 1;
  }
  if (argc != 3) {
    fprintf(stderr, "usage: elf_whole PATH [STOPFILE]\n");
    return 2;
  }
  long opens = 0, whole = 0, partial = 0, missing = 0;
  while (access(argv[2], F_OK) != 0) {
    int r = check(argv[1], why);
    opens++;
    whole += r == 1;
    missing += r < 0;
    if (r == 0 && partial++ == 0)
      fprintf(stderr, "elf_whole: partial file: %s\n", why);
  }
  printf("opens %ld whole %ld partial %ld missing %ld\n", opens, whole, partial, missing);
  return partial == 0 && missing == 0 && whole > 0 ? 0 : 1;
}
