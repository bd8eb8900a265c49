/* SPDX-License-Identifier: BSD-3-Clause */
/* deps.c - the order in which a transaction runs plugin hooks: every plugin after the plugins
 * it imports, independent plugins by name so that the order never depends on argument order;
 * an import cycle is an error spelled out as "a -> b -> a".
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loader/lifecycle_int.h"

enum { WHITE, GREY, BLACK };

/* Indices 0..n-1 sorted by name, so that walks are deterministic. */
static size_t *by_name(const struct ldr_graph *g) {
  size_t *ix = malloc((g->n ? g->n : 1) * sizeof(*ix));
  if (ix == NULL)
    return NULL;
  for (size_t i = 0; i < g->n; i++) {
    size_t j = i;
    while (j > 0 && strcmp(g->names[ix[j - 1]], g->names[i]) > 0) {
      ix[j] = ix[j - 1];
      j--;
    }
    ix[j] = i;
  }
  return ix;
}

/* Write "a -> b -> a" for the cycle that closes at node `back` on the DFS stack. */
static void cycle_text(const struct ldr_graph *g, const size_t *stack, size_t depth, size_t back,
                       char *err) {
  size_t from = 0;
  while (from < depth && stack[from] != back)
    from++;
  size_t len = (size_t)snprintf(err, LDR_ERR_MAX, "import cycle ");
  for (size_t i = from; i < depth && len < LDR_ERR_MAX; i++)
    len += (size_t)snprintf(err + len, LDR_ERR_MAX - len, "%s -> ", g->names[stack[i]]);
  if (len < LDR_ERR_MAX)
    snprintf(err + len, LDR_ERR_MAX - len, "%s", g->names[back]);
}

/* Iterative DFS from `root`; returns 1 and fills err when a cycle is found. */
static int dfs(const struct ldr_graph *g, size_t root, unsigned char *color, size_t *stack,
               size_t *next, size_t *culprit, char *err) {
  size_t depth = 0;
  stack[depth] = root;
  next[depth++] = 0;
  color[root] = GREY;
  while (depth > 0) {
    size_t u = stack[depth - 1];
    if (next[depth - 1] == g->n_deps[u]) {
      color[u] = BLACK;
      depth--;
      continue;
    }
    size_t v = g->deps[u][next[depth - 1]++];
    if (color[v] == GREY) {
      cycle_text(g, stack, depth, v, err);
      *culprit = v;
      return 1;
    }
    if (color[v] == WHITE) {
      color[v] = GREY;
      stack[depth] = v;
      next[depth++] = 0;
    }
  }
  return 0;
}

static int find_cycle(const struct ldr_graph *g, const size_t *ix, size_t *culprit, char *err) {
  unsigned char *color = calloc(g->n + 1, 1);
  size_t *stack = malloc((g->n + 1) * sizeof(*stack));
  size_t *next = malloc((g->n + 1) * sizeof(*next));
  int rc = 0;
  if (color == NULL || stack == NULL || next == NULL)
    rc = -ENOMEM;
  for (size_t k = 0; rc == 0 && k < g->n; k++) {
    if (color[ix[k]] == WHITE && dfs(g, ix[k], color, stack, next, culprit, err))
      rc = HOTSWAP_ECYCLE;
  }
  free(color);
  free(stack);
  free(next);
  return rc;
}

int ldr_deps_order(const struct ldr_graph *g, size_t *order, size_t *culprit, char *err) {
  size_t *ix = by_name(g);
  if (ix == NULL)
    return -ENOMEM;
  int rc = find_cycle(g, ix, culprit, err);
  unsigned char *done = rc == 0 ? calloc(g->n + 1, 1) : NULL;
  if (rc == 0 && done == NULL)
    rc = -ENOMEM;
  /* Acyclic: repeatedly emit the first plugin by name whose imports are all emitted. */
  for (size_t out = 0; rc == 0 && out < g->n; out++) {
    for (size_t k = 0; k < g->n; k++) {
      size_t u = ix[k];
      bool ready = !done[u];
      for (size_t d = 0; ready && d < g->n_deps[u]; d++)
        ready = done[g->deps[u][d]] != 0;
      if (ready) {
        done[u] = 1;
        order[out] = u;
        break;
      }
    }
  }
  free(done);
  free(ix);
  return rc;
}
