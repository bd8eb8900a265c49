/* SPDX-License-Identifier: BSD-3-Clause */
/* json.c - a small streaming JSON writer for the CLI's --json output.
 *
 * Strings from plugin files are untrusted bytes: they are escaped and any byte that does not
 * start a well-formed UTF-8 sequence becomes U+FFFD, so the output is always valid JSON.
 */
#include "tools/json.h"

#include <inttypes.h>
#include <stddef.h>

void json_init(struct json *j, FILE *f) {
  j->f = f;
  j->depth = 0;
  for (int i = 0; i < JSON_MAX_DEPTH; i++)
    j->need_comma[i] = false;
}

static void indent(struct json *j) {
  for (int i = 0; i < j->depth; i++)
    fputs("  ", j->f);
}

/* Writes the separator, indentation and "key": that come before any value. */
static void begin_value(struct json *j, const char *key) {
  if (j->need_comma[j->depth])
    fputc(',', j->f);
  if (j->depth > 0) {
    fputc('\n', j->f);
    indent(j);
  }
  j->need_comma[j->depth] = true;
  if (key != NULL) {
    json_write_string(j->f, key);
    fputs(": ", j->f);
  }
}

static void open_level(struct json *j, const char *key, char c) {
  begin_value(j, key);
  fputc(c, j->f);
  if (j->depth < JSON_MAX_DEPTH - 1)
    j->depth++;
  j->need_comma[j->depth] = false;
}

static void close_level(struct json *j, char c) {
  bool had_members = j->need_comma[j->depth];
  if (j->depth > 0)
    j->depth--;
  if (had_members) {
    fputc('\n', j->f);
    indent(j);
  }
  fputc(c, j->f);
}

void json_begin_object(struct json *j, const char *key) { open_level(j, key, '{'); }
void json_end_object(struct json *j) { close_level(j, '}'); }
void json_begin_array(struct json *j, const char *key) { open_level(j, key, '['); }
void json_end_array(struct json *j) { close_level(j, ']'); }

void json_str(struct json *j, const char *key, const char *value) {
  begin_value(j, key);
  if (value == NULL)
    fputs("null", j->f);
  else
    json_write_string(j->f, value);
}

void json_int(struct json *j, const char *key, int64_t value) {
  begin_value(j, key);
  fprintf(j->f, "%" PRId64, value);
}

void json_uint(struct json *j, const char *key, uint64_t value) {
  begin_value(j, key);
  fprintf(j->f, "%" PRIu64, value);
}

void json_bool(struct json *j, const char *key, bool value) {
  begin_value(j, key);
  fputs(value ? "true" : "false", j->f);
}

void json_null(struct json *j, const char *key) {
  begin_value(j, key);
  fputs("null", j->f);
}

void json_finish(struct json *j) { fputc('\n', j->f); }

/* Length of the well-formed UTF-8 sequence at s (1-4), or 0 when it is not one. */
static size_t utf8_len(const unsigned char *s) {
  unsigned char c = s[0];
  size_t n;
  uint32_t cp;
  if (c < 0x80)
    return 1;
  if (c >= 0xc2 && c <= 0xdf) {
    n = 2;
    cp = c & 0x1f;
  } else if (c >= 0xe0 && c <= 0xef) {
    n = 3;
    cp = c & 0x0f;
  } else if (c >= 0xf0 && c <= 0xf4) {
    n = 4;
    cp = c & 0x07;
  } else {
    return 0;
  }
  for (size_t i = 1; i < n; i++) {
    if ((s[i] & 0xc0) != 0x80) /* also stops at the NUL terminator */
      return 0;
    cp = (cp << 6) | (s[i] & 0x3f);
  }
  /* Overlong forms, surrogates and code points past U+10FFFF are not well-formed. */
  if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
      (cp >= 0xd800 && cp <= 0xdfff))
    return 0;
  return n;
}

void json_write_string(FILE *f, const char *s) {
  const unsigned char *p = (const unsigned char *)s;
  fputc('"', f);
  while (*p != '\0') {
    unsigned char c = *p;
    if (c == '"' || c == '\\') {
      fputc('\\', f);
      fputc(c, f);
    } else if (c == '\n') {
      fputs("\\n", f);
    } else if (c == '\t') {
      fputs("\\t", f);
    } else if (c < 0x20 || c == 0x7f) {
      fprintf(f, "\\u%04x", c);
    } else if (c >= 0x80) {
      size_t n = utf8_len(p);
      if (n == 0) {
        fputs("\\ufffd", f);
        n = 1;
      } else {
        fwrite(p, 1, n, f);
      }
      p += n;
      continue;
    } else {
      fputc(c, f);
    }
    p++;
  }
  fputc('"', f);
}
