/* SPDX-License-Identifier: BSD-3-Clause */
/* unix_addr.h - a control socket's name as a sockaddr_un, shared by the shim and the CLI.
 * A name that starts with '@' lives in Linux's abstract namespace ("@hotswap/1234" is
 * "\0hotswap/1234"): no file to create, to protect or to clean up, and reachable whatever
 * the daemon did to its uid, its root folder or its mount namespace (it is per network
 * namespace). Any other name is a path in the file system. */
#ifndef HOTSWAP_UNIX_ADDR_H
#define HOTSWAP_UNIX_ADDR_H

#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

static inline int unix_addr_abstract(const char *name) { return name[0] == '@'; }

/* The name a daemon under the shim serves when HOTSWAP_CONTROL is unset: "@hotswap/<pid>". */
static inline void unix_addr_default(char *buf, size_t n, long pid) {
  snprintf(buf, n, "@hotswap/%ld", pid);
}

/* Fill *a for `name`; returns the address length for bind/connect, 0 when the name does not
 * fit (sun_path holds 107 bytes and a NUL, or 107 bytes after the abstract marker). */
static inline socklen_t unix_addr_make(const char *name, struct sockaddr_un *a) {
  size_t len = strlen(name);
  memset(a, 0, sizeof(*a));
  a->sun_family = AF_UNIX;
  if (len == 0 || len >= sizeof(a->sun_path))
    return 0;
  memcpy(a->sun_path, name, len);
  if (!unix_addr_abstract(name))
    return (socklen_t)sizeof(*a);
  a->sun_path[0] = '\0';
  return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
}

#endif
