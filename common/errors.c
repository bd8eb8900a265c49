/* SPDX-License-Identifier: BSD-3-Clause */
/* errors.c - messages and names of hotswap error codes, from the one table in hotswap.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>

#include "hotswap.h"

__attribute__((visibility("default"))) const char *hotswap_strerror(int err) {
  switch (err) {
#define XX(name, value, msg) \
  case (value):              \
    return msg;
    HOTSWAP_ERRNO_MAP(XX)
#undef XX
  case 0:
    return "success";
  default:
    break;
  }
  if (err < 0) {
    const char *s = strerrordesc_np(-err); /* static string, async-signal-safe */
    if (s != NULL)
      return s;
  }
  return "unknown error";
}

__attribute__((visibility("default"))) const char *hotswap_err_name(int err) {
  switch (err) {
#define XX(name, value, msg) \
  case (value):              \
    return "HOTSWAP_" #name;
    HOTSWAP_ERRNO_MAP(XX)
#undef XX
  case 0:
    return "OK";
  default:
    break;
  }
  if (err < 0) {
    const char *s = strerrorname_np(-err);
    if (s != NULL)
      return s;
  }
  return "UNKNOWN";
}
