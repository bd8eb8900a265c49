/* SPDX-License-Identifier: BSD-3-Clause */
/* report.c - what a reload report says to people: action names and the one log line the shim
 * writes per reload (ldr_report_format), and releasing a report.
 */
#include <stdio.h>
#include <stdlib.h>

#include "loader/loader.h"

void ldr_report_free(struct ldr_report *rep) {
  if (rep == NULL)
    return;
  free(rep->plugins);
  rep->plugins = NULL;
  rep->n_plugins = 0;
  for (size_t i = 0; i < rep->n_notes; i++)
    free(rep->notes[i]);
  free(rep->notes);
  rep->notes = NULL;
  rep->n_notes = 0;
}

void ldr_state_stats_add(struct ldr_state_stats *sum, const struct ldr_state_stats *s) {
  sum->carried += s->carried;
  sum->carried_bytes += s->carried_bytes;
  sum->fresh += s->fresh;
  sum->pinned += s->pinned;
  sum->rebased += s->rebased;
  sum->host_vars += s->host_vars;
  sum->late_bytes += s->late_bytes;
  sum->late_lost += s->late_lost;
  sum->conflicts += s->conflicts;
  sum->carry_ns += s->carry_ns;
}

size_t ldr_state_format(const struct ldr_state_stats *s, char *buf, size_t n) {
  if (n == 0)
    return 0;
  buf[0] = '\0';
  if (s->carried == 0 && s->fresh == 0 && s->host_vars == 0)
    return 0;
  int len = snprintf(buf, n, "state: %zu object%s (%zu bytes) carried", s->carried,
                     s->carried == 1 ? "" : "s", s->carried_bytes);
  if (len >= 0 && (size_t)len < n && s->fresh > 0)
    len += snprintf(buf + len, n - (size_t)len, ", %zu left fresh", s->fresh);
  if (len >= 0 && (size_t)len < n && s->pinned > 0)
    len += snprintf(buf + len, n - (size_t)len, ", %zu pinning the old version", s->pinned);
  if (len >= 0 && (size_t)len < n && s->host_vars > 0)
    len += snprintf(buf + len, n - (size_t)len, ", %zu program variable%s updated",
                    s->host_vars, s->host_vars == 1 ? "" : "s");
  return len < 0 ? 0 : (size_t)len < n ? (size_t)len : n - 1;
}

const char *ldr_action_name(enum ldr_action a) {
  switch (a) {
  case LDR_LOADED: return "loaded";
  case LDR_ADOPTED: return "adopted";
  case LDR_RELOADED: return "reloaded";
  case LDR_FOLLOWED: return "reloaded (import changed)";
  case LDR_UNCHANGED: return "unchanged";
  case LDR_PINNED: return "not reloadable, kept";
  case LDR_FAILED: return "failed";
  case LDR_ROLLED_BACK: return "rolled back";
  }
  return "unknown";
}

void ldr_report_format(const struct ldr_report *rep, char *buf, size_t n) {
  if (n == 0)
    return;
  if (rep->rc != 0) {
    snprintf(buf, n, "reload failed: %s", rep->error);
    return;
  }
  size_t len;
  if (rep->committed)
    len = (size_t)snprintf(buf, n, "generation %llu in %.3f ms, %zu symbols routed:",
                           (unsigned long long)rep->generation, rep->elapsed_ns / 1e6,
                           rep->routed);
  else
    len = (size_t)snprintf(buf, n, "nothing to reload (%.3f ms):", rep->elapsed_ns / 1e6);
  for (size_t i = 0; i < rep->n_plugins && len < n; i++) {
    const struct ldr_plugin_result *r = &rep->plugins[i];
    const char *sep = i ? "," : "";
    if (r->action == LDR_LOADED)
      len += (size_t)snprintf(buf + len, n - len, "%s %s %s loaded", sep, r->name,
                              r->new_version);
    else if (r->action == LDR_ADOPTED)
      len += (size_t)snprintf(buf + len, n - len, "%s %s %s adopted (%zu symbols)", sep,
                              r->name, r->new_version, r->routed);
    else if (r->action == LDR_RELOADED || r->action == LDR_FOLLOWED)
    {
      char st[160];
      ldr_state_format(&r->state, st, sizeof(st));
      len += (size_t)snprintf(buf + len, n - len, "%s %s %s -> %s%s%s%s%s", sep, r->name,
                              r->old_version, r->new_version,
                              r->action == LDR_FOLLOWED ? " (import changed)" : "",
                              st[0] ? " (" : "", st, st[0] ? ")" : "");
    }
    else
      len += (size_t)snprintf(buf + len, n - len, "%s %s %s", sep, r->name,
                              ldr_action_name(r->action));
  }
}
