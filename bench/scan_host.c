/* SPDX-License-Identifier: BSD-3-Clause */
/* scan_host.c - the daemon of bench_scan.sh: holds MIB mebibytes of heap, every page
 * written with words that point nowhere (small integers), then sleeps while the shim
 * reloads its plugin and retirement's scan reads all of it.
 *
 *   scan_host MIB SECONDS
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: scan_host MIB SECONDS\n");
    return 2;
  }
  size_t words = (size_t)atol(argv[1]) * 1024 * 1024 / sizeof(uint64_t);
  volatile uint64_t *heap = malloc(words * sizeof(uint64_t));
  if (heap == NULL) {
    fprintf(stderr, "scan_host: out of memory\n");
    return 1;
  }
  for (size_t i = 0; i < words; i++)
    heap[i] = i & 0xffff;
  printf("ready\n");
  fflush(stdout);
  sleep((unsigned)atoi(argv[2]));
  return (int)(heap[words / 2] & 1);
}
