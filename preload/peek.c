/* SPDX-License-Identifier: BSD-3-Clause */
/* peek.c - read this process's own memory without risking a fault: the stack check and the
 * memory scan look at words that other threads may unmap meanwhile.
 * process_vm_readv on our own pid does it in one call. qemu-user (how the aarch64 build is
 * tested) does not emulate that call (ENOSYS) but does let /proc/self/mem be read, which
 * behaves the same: a short count at the first unmapped page, EIO when none is mapped. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "preload/preload.h"

/* The /proc/self/mem descriptor and the pid that opened it (-1: none). */
static _Atomic int mem_fd = -1;
static _Atomic pid_t mem_pid;

void pre_peek_init(void) {
  char probe = 0, got;
  struct iovec local = {&got, 1}, remote = {&probe, 1};
  if (process_vm_readv(getpid(), &local, 1, &remote, 1, 0) == 1 || errno != ENOSYS)
    return;
  int old = atomic_exchange(&mem_fd, -1);
  if (old >= 0) {
    pre_fd_unguard(old);
    close(old);
  }
  int fd = open("/proc/self/mem", O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    pre_log("process_vm_readv is missing and /proc/self/mem cannot be opened (%s): old "
            "versions cannot be checked and stay loaded", strerror(errno));
    return;
  }
  pre_fd_guard(fd);
  atomic_store(&mem_pid, getpid());
  atomic_store(&mem_fd, fd);
}

ssize_t pre_read_self(void *out, uintptr_t addr, size_t n) {
  struct iovec local = {out, n}, remote = {(void *)addr, n};
  ssize_t r = process_vm_readv(getpid(), &local, 1, &remote, 1, 0);
  if (r >= 0 || errno != ENOSYS)
    return r;
  int fd = atomic_load_explicit(&mem_fd, memory_order_acquire);
  if (fd < 0 || atomic_load_explicit(&mem_pid, memory_order_relaxed) != getpid()) {
    errno = ENOSYS;
    return -1;
  }
  return pread(fd, out, n, (off_t)addr);
}
