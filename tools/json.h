/* SPDX-License-Identifier: BSD-3-Clause */
/* json.h - a small streaming JSON writer for the CLI's --json output (prefix json_).
 *
 * Writes indented, valid JSON to a FILE: commas, nesting and string escaping (quotes,
 * backslashes, control characters, invalid UTF-8 replaced by U+FFFD) are handled here so
 * commands only say what to write.
 */
#ifndef HOTSWAP_TOOLS_JSON_H
#define HOTSWAP_TOOLS_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define JSON_MAX_DEPTH 16

struct json {
  FILE *f;
  int depth;
  bool need_comma[JSON_MAX_DEPTH]; /* per nesting level: a value was already written */
};

/* Start writing to f. Not thread-safe per struct json; use one per thread. */
void json_init(struct json *j, FILE *f);

/* Every writer takes `key`: the member name inside an object, NULL inside an array or at
 * the top level. Nesting deeper than JSON_MAX_DEPTH is a programming error and is clamped. */
void json_begin_object(struct json *j, const char *key);
void json_end_object(struct json *j);
void json_begin_array(struct json *j, const char *key);
void json_end_array(struct json *j);

/* A string value; NULL writes null. */
void json_str(struct json *j, const char *key, const char *value);
void json_int(struct json *j, const char *key, int64_t value);
void json_uint(struct json *j, const char *key, uint64_t value);
void json_bool(struct json *j, const char *key, bool value);
void json_null(struct json *j, const char *key);

/* Ends the document with a newline. */
void json_finish(struct json *j);

/* Write `s` as a JSON string literal (with quotes) to f. */
void json_write_string(FILE *f, const char *s);

#endif /* HOTSWAP_TOOLS_JSON_H */
