/* SPDX-License-Identifier: BSD-3-Clause */
/* jsonread.c - recursive-descent JSON reader into a tree (see jsonread.h). Depth is bounded
 * so a hostile reply cannot exhaust the stack. */
#include <stdlib.h>
#include <string.h>

#include "tools/jsonread.h"

#define JR_MAX_DEPTH 32

struct parser {
  const char *p;
  int depth;
};

static void skip_ws(struct parser *ps) {
  while (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r')
    ps->p++;
}

static void put_utf8(char **o, unsigned cp) {
  if (cp < 0x80) {
    *(*o)++ = (char)cp;
  } else if (cp < 0x800) {
    *(*o)++ = (char)(0xc0 | (cp >> 6));
    *(*o)++ = (char)(0x80 | (cp & 0x3f));
  } else {
    *(*o)++ = (char)(0xe0 | (cp >> 12));
    *(*o)++ = (char)(0x80 | ((cp >> 6) & 0x3f));
    *(*o)++ = (char)(0x80 | (cp & 0x3f));
  }
}

/* A string literal at ps->p (on the opening quote); NULL on error. */
static char *parse_string(struct parser *ps) {
  const char *s = ++ps->p;
  size_t len = 0;
  while (s[len] != '"') {
    if (s[len] == '\0')
      return NULL;
    if (s[len] == '\\' && s[len + 1] != '\0')
      len++;
    len++;
  }
  char *out = malloc(len * 3 + 1), *o = out; /* \uXXXX can grow to 3 bytes, never more */
  if (out == NULL)
    return NULL;
  for (; *ps->p != '"'; ps->p++) {
    if (*ps->p != '\\') {
      *o++ = *ps->p;
      continue;
    }
    char c = *++ps->p;
    if (c == 'u') {
      char hex[5] = {0};
      memcpy(hex, ps->p + 1, 4);
      if (strlen(hex) != 4 || strspn(hex, "0123456789abcdefABCDEF") != 4) {
        free(out);
        return NULL;
      }
      put_utf8(&o, (unsigned)strtoul(hex, NULL, 16));
      ps->p += 4;
    } else {
      const char *from = "\"\\/bfnrt", *to = "\"\\/\b\f\n\r\t";
      const char *k = strchr(from, c);
      if (c == '\0' || k == NULL) {
        free(out);
        return NULL;
      }
      *o++ = to[k - from];
    }
  }
  ps->p++;
  *o = '\0';
  return out;
}

static int parse_value(struct parser *ps, struct jr *v);
static void free_parts(struct jr *v);

static int push_kid(struct jr *v, struct jr *kid) {
  struct jr *k = realloc(v->kids, (v->n + 1) * sizeof(*k));
  if (k == NULL)
    return -1;
  v->kids = k;
  v->kids[v->n++] = *kid;
  return 0;
}

static int parse_container(struct parser *ps, struct jr *v, char close) {
  ps->p++;
  if (++ps->depth > JR_MAX_DEPTH)
    return -1;
  skip_ws(ps);
  if (*ps->p == close) {
    ps->p++, ps->depth--;
    return 0;
  }
  for (;;) {
    struct jr kid;
    memset(&kid, 0, sizeof(kid));
    skip_ws(ps);
    if (close == '}') {
      if (*ps->p != '"' || (kid.key = parse_string(ps)) == NULL)
        return -1;
      skip_ws(ps);
      if (*ps->p++ != ':') {
        free(kid.key);
        return -1;
      }
    }
    if (parse_value(ps, &kid) != 0 || push_kid(v, &kid) != 0) {
      free_parts(&kid); /* kid itself is on the stack */
      return -1;
    }
    skip_ws(ps);
    if (*ps->p == ',') {
      ps->p++;
      continue;
    }
    if (*ps->p++ != close)
      return -1;
    ps->depth--;
    return 0;
  }
}

static int parse_value(struct parser *ps, struct jr *v) {
  skip_ws(ps);
  char c = *ps->p;
  if (c == '{')
    return v->type = JR_OBJECT, parse_container(ps, v, '}');
  if (c == '[')
    return v->type = JR_ARRAY, parse_container(ps, v, ']');
  if (c == '"')
    return v->type = JR_STRING, (v->str = parse_string(ps)) ? 0 : -1;
  if (strncmp(ps->p, "true", 4) == 0 || strncmp(ps->p, "false", 5) == 0) {
    v->type = JR_BOOL;
    v->b = c == 't';
    ps->p += v->b ? 4 : 5;
    return 0;
  }
  if (strncmp(ps->p, "null", 4) == 0)
    return v->type = JR_NULL, ps->p += 4, 0;
  size_t len = strspn(ps->p, "-+.0123456789eE");
  if (len == 0 || (v->str = strndup(ps->p, len)) == NULL)
    return -1;
  v->type = JR_NUMBER;
  ps->p += len;
  return 0;
}

static void free_parts(struct jr *v) {
  for (size_t i = 0; i < v->n; i++)
    free_parts(&v->kids[i]);
  free(v->kids);
  free(v->key);
  free(v->str);
}

struct jr *jr_parse(const char *text) {
  struct parser ps = {text, 0};
  struct jr *v = calloc(1, sizeof(*v));
  if (v == NULL)
    return NULL;
  if (parse_value(&ps, v) != 0) {
    jr_free(v);
    return NULL;
  }
  skip_ws(&ps);
  if (*ps.p != '\0') {
    jr_free(v);
    return NULL;
  }
  return v;
}

void jr_free(struct jr *v) {
  if (v == NULL)
    return;
  free_parts(v);
  free(v);
}

const struct jr *jr_get(const struct jr *v, const char *key) {
  if (v == NULL || v->type != JR_OBJECT)
    return NULL;
  for (size_t i = 0; i < v->n; i++)
    if (strcmp(v->kids[i].key, key) == 0)
      return &v->kids[i];
  return NULL;
}

const char *jr_str(const struct jr *v, const char *key) {
  const struct jr *m = jr_get(v, key);
  return (m != NULL && m->type == JR_STRING) ? m->str : "";
}

double jr_num(const struct jr *v, const char *key) {
  const struct jr *m = jr_get(v, key);
  return (m != NULL && m->type == JR_NUMBER) ? strtod(m->str, NULL) : 0;
}

bool jr_bool(const struct jr *v, const char *key) {
  const struct jr *m = jr_get(v, key);
  return m != NULL && m->type == JR_BOOL && m->b;
}
