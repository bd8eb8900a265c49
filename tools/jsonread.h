/* SPDX-License-Identifier: BSD-3-Clause */
/* jsonread.h - a small JSON reader for the replies of the shim's control socket
 * (prefix jr_). Parses a whole document into a tree; enough for status and reload. */
#ifndef HOTSWAP_TOOLS_JSONREAD_H
#define HOTSWAP_TOOLS_JSONREAD_H

#include <stdbool.h>
#include <stddef.h>

enum jr_type { JR_NULL, JR_BOOL, JR_NUMBER, JR_STRING, JR_ARRAY, JR_OBJECT };

struct jr {
  enum jr_type type;
  char *key;        /* member name inside an object, else NULL */
  char *str;        /* JR_STRING: unescaped text; JR_NUMBER: the literal */
  bool b;           /* JR_BOOL */
  struct jr *kids;  /* JR_ARRAY / JR_OBJECT members */
  size_t n;
};

/* Parse text; NULL on a syntax error or ENOMEM. Free with jr_free. */
struct jr *jr_parse(const char *text);
void jr_free(struct jr *v);
/* Member `key` of an object, NULL when absent or v is not an object. */
const struct jr *jr_get(const struct jr *v, const char *key);
/* Conveniences: the string (or "" ), the number as double (or 0), the bool (or false). */
const char *jr_str(const struct jr *v, const char *key);
double jr_num(const struct jr *v, const char *key);
bool jr_bool(const struct jr *v, const char *key);

#endif
