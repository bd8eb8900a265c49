/* SPDX-License-Identifier: BSD-3-Clause */
/* report.c - how the shim reports: the one log line per reload, and the JSON documents the
 * control socket answers with (status, reload outcome). */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "preload/preload.h"

void pre_outcome_label(const struct pre_outcome *o, char *buf, size_t n) {
  if (o->start)
    snprintf(buf, n, "start");
  else
    snprintf(buf, n, "reload %u", o->number);
}

/* Append to a fixed buffer, never past its end. */
static void appendf(char *buf, size_t n, const char *fmt, ...)
    __attribute__((format(__printf__, 3, 4)));
static void appendf(char *buf, size_t n, const char *fmt, ...) {
  size_t used = strlen(buf);
  if (used + 1 >= n)
    return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf + used, n - used, fmt, ap);
  va_end(ap);
}

/* "; still serving handler 9b8e7d1, other 1a2b3c4" (or nothing before the first load). */
static void append_serving(char *buf, size_t n) {
  struct ldr_status st;
  if (ldr_status_get(&st) != 0)
    return;
  for (size_t i = 0; i < st.n_plugins; i++)
    appendf(buf, n, "%s %s %s", i == 0 ? "; still serving" : ",", st.plugins[i].name,
            st.plugins[i].version);
  if (st.n_plugins == 0)
    appendf(buf, n, "; no plugin loaded");
  ldr_status_free(&st);
}

const char *pre_basename(const char *path) {
  const char *s = strrchr(path, '/');
  return s ? s + 1 : path;
}

static dev_t root_dev;
static ino_t root_ino;
static bool root_known;

void pre_root_note(void) {
  struct stat st;
  if (stat("/", &st) == 0) {
    root_dev = st.st_dev;
    root_ino = st.st_ino;
    root_known = true;
  }
}

/* After a refusal: when this thread's root folder is not the one the process started with
 * (the daemon chroot()ed and this thread shares its root: a forked worker, or unshare
 * refused), say so, since every path then resolves inside the chroot. */
static void append_chroot_hint(char *msg, size_t n) {
  struct stat st;
  if (!root_known || stat("/", &st) != 0 || (st.st_dev == root_dev && st.st_ino == root_ino))
    return;
  appendf(msg, n, " (plugin folder not reachable after chroot(): this process changed its "
          "root folder, and plugin paths now resolve inside it)");
}

/* "reload N rejected: <reason>[ (chroot hint)]; still serving ..." (or "start rejected"),
 * into out->message. */
static void set_rejected(struct pre_outcome *out, const char *reason) {
  char label[32];
  pre_outcome_label(out, label, sizeof(label));
  out->message[0] = '\0';
  appendf(out->message, sizeof(out->message), "%s rejected: %s", label, reason);
  append_chroot_hint(out->message, sizeof(out->message));
  append_serving(out->message, sizeof(out->message));
}

void pre_outcome_from_report(const struct ldr_report *rep, struct pre_outcome *out) {
  out->rc = rep->rc;
  out->committed = rep->committed;
  out->generation = rep->generation;
  out->message[0] = '\0';
  if (rep->rc != 0) {
    set_rejected(out, rep->error);
    return;
  }
  char label[32];
  pre_outcome_label(out, label, sizeof(label));
  appendf(out->message, sizeof(out->message), "%s ok in %.2f ms:", label,
          (double)rep->elapsed_ns / 1e6);
  bool any = false;
  for (size_t i = 0; i < rep->n_plugins; i++) {
    const struct ldr_plugin_result *p = &rep->plugins[i];
    const char *sep = i == 0 ? " " : ", ";
    if (p->action == LDR_UNCHANGED || p->action == LDR_PINNED) {
      appendf(out->message, sizeof(out->message), "%s%s %s (%s)", sep, pre_basename(p->path),
              p->old_version, ldr_action_name(p->action));
      continue;
    }
    any = true;
    char carried[160];
    ldr_state_format(&p->state, carried, sizeof(carried));
    ldr_state_stats_add(&out->state, &p->state);
    if (p->old_version[0] == '\0')
      appendf(out->message, sizeof(out->message), "%s%s %s %s (%zu symbols)", sep,
              pre_basename(p->path), p->new_version, p->adopted ? "adopted" : "loaded", p->routed);
    else
      appendf(out->message, sizeof(out->message), "%s%s %s -> %s (%zu symbols%s%s%s)", sep,
              pre_basename(p->path), p->old_version, p->new_version, p->routed,
              p->action == LDR_FOLLOWED ? ", import changed" : "", carried[0] ? "; " : "",
              carried);
  }
  if (!any)
    appendf(out->message, sizeof(out->message), "%snothing changed",
            rep->n_plugins ? "; " : " ");
}

void pre_outcome_refused(struct pre_outcome *out) {
  char reason[sizeof(out->message)];
  snprintf(reason, sizeof(reason), "%s", out->message);
  set_rejected(out, reason);
}

/* ---- JSON ---------------------------------------------------------------------------- */

struct jbuf {
  char *s;
  size_t len, cap;
  bool oom;
};

static void jraw(struct jbuf *b, const char *s, size_t n) {
  if (b->oom)
    return;
  if (b->len + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 512;
    while (cap < b->len + n + 1)
      cap *= 2;
    char *p = realloc(b->s, cap);
    if (p == NULL) {
      b->oom = true;
      return;
    }
    b->s = p;
    b->cap = cap;
  }
  memcpy(b->s + b->len, s, n);
  b->len += n;
  b->s[b->len] = '\0';
}

static void jlit(struct jbuf *b, const char *s) { jraw(b, s, strlen(s)); }

static void jfmt(struct jbuf *b, const char *fmt, ...) __attribute__((format(__printf__, 2, 3)));
static void jfmt(struct jbuf *b, const char *fmt, ...) {
  char tmp[128];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
  va_end(ap);
  if (n > 0)
    jraw(b, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

/* A JSON string, escaped. */
static void jstr(struct jbuf *b, const char *s) {
  jlit(b, "\"");
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\') {
      char e[2] = {'\\', (char)c};
      jraw(b, e, 2);
    } else if (c < 0x20) {
      jfmt(b, "\\u%04x", c);
    } else {
      jraw(b, (const char *)&c, 1);
    }
  }
  jlit(b, "\"");
}

static char *jdone(struct jbuf *b) {
  if (b->oom) {
    free(b->s);
    return NULL;
  }
  return b->s;
}

static void outcome_fields(struct jbuf *b, const struct pre_outcome *o) {
  jfmt(b, "\"start\":%s,\"number\":%u,\"ok\":%s,\"committed\":%s,\"rc\":%d,\"error\":",
       o->start ? "true" : "false", o->number, o->rc == 0 ? "true" : "false",
       o->committed ? "true" : "false", o->rc);
  jstr(b, o->rc == 0 ? "" : hotswap_err_name(o->rc));
  jlit(b, ",\"message\":");
  jstr(b, o->message);
  const struct ldr_state_stats *s = &o->state;
  jfmt(b, ",\"state\":{\"carried\":%zu,\"carried_bytes\":%zu,\"fresh\":%zu,", s->carried,
       s->carried_bytes, s->fresh);
  jfmt(b, "\"pinned\":%zu,\"rebased\":%zu,\"host_vars\":%zu,", s->pinned, s->rebased,
       s->host_vars);
  jfmt(b, "\"late_bytes\":%zu,\"late_lost\":%zu,\"conflicts\":%zu,", s->late_bytes,
       s->late_lost, s->conflicts);
  jfmt(b, "\"carry_ms\":%.3f}", (double)s->carry_ns / 1e6);
}

char *pre_outcome_json(const struct pre_outcome *o) {
  struct jbuf b = {0};
  jlit(&b, "{");
  outcome_fields(&b, o);
  jfmt(&b, ",\"generation\":%llu}", (unsigned long long)o->generation);
  return jdone(&b);
}

/* "waiting":[{"version":..,"adopted":..,"unused_ms":..,"held_by":"thread 12"|null,
 * "held_ms":..,"words":..}] (words the memory scan found pointing into it),
 * "pinned":[{"version":..,"adopted":..,"why":..}]: the replaced versions still loaded; adopted marks the program's own copy (the one ld.so loaded). */
static void old_versions(struct jbuf *b, const struct ldr_plugin_status *p) {
  size_t n = p->n_old < LDR_OLD_MAX ? p->n_old : LDR_OLD_MAX;
  for (int pinned = 0; pinned <= 1; pinned++) {
    jlit(b, pinned ? ",\"pinned\":[" : ",\"waiting\":[");
    bool first = true;
    for (size_t k = 0; k < n; k++) {
      const struct ldr_old_status *o = &p->old[k];
      if (o->pinned != (pinned == 1))
        continue;
      jlit(b, first ? "{\"version\":" : ",{\"version\":");
      first = false;
      jstr(b, o->version);
      jfmt(b, ",\"adopted\":%s", o->adopted ? "true" : "false");
      if (pinned) {
        jlit(b, ",\"why\":");
        jstr(b, o->why);
      } else {
        jfmt(b, ",\"unused_ms\":%llu,\"held_by\":", (unsigned long long)o->unused_ms);
        if (o->held)
          jstr(b, o->why);
        else
          jlit(b, "null");
        jfmt(b, ",\"held_ms\":%llu,\"words\":%zu", (unsigned long long)o->held_ms, o->words);
      }
      jlit(b, "}");
    }
    jlit(b, "]");
  }
}

/* ,"probation":{"enabled":..,"dir":..,"on_probation":[{"file","version","remaining_ms"}],
 * "last_known_good":[{"file","version"}],"crash":{"file","version","line"}|null,
 * "serving_last_known_good":"..."|null} */
static void probation_fields(struct jbuf *b) {
  struct pre_probation_info *pi = calloc(1, sizeof(*pi));
  if (pi == NULL)
    return;
  pre_probation_status(pi);
  jfmt(b, ",\"probation\":{\"enabled\":%s,\"dir\":", pi->enabled ? "true" : "false");
  jstr(b, pi->dir);
  jlit(b, ",\"on_probation\":[");
  for (size_t i = 0; i < pi->n_watch; i++) {
    jlit(b, i ? ",{\"file\":" : "{\"file\":");
    jstr(b, pi->watch[i].file);
    jlit(b, ",\"version\":");
    jstr(b, pi->watch[i].version);
    jfmt(b, ",\"remaining_ms\":%llu}", (unsigned long long)pi->watch[i].remaining_ms);
  }
  jlit(b, "],\"last_known_good\":[");
  for (size_t i = 0; i < pi->n_lkg; i++) {
    jlit(b, i ? ",{\"file\":" : "{\"file\":");
    jstr(b, pi->lkg[i].file);
    jlit(b, ",\"version\":");
    jstr(b, pi->lkg[i].version);
    jlit(b, "}");
  }
  jlit(b, "],\"crash\":");
  if (pi->crashed) {
    jlit(b, "{\"file\":");
    jstr(b, pi->crash_file);
    jlit(b, ",\"version\":");
    jstr(b, pi->crash_version);
    jlit(b, ",\"line\":");
    jstr(b, pi->crash_line);
    jlit(b, "}");
  } else {
    jlit(b, "null");
  }
  jlit(b, ",\"serving_last_known_good\":");
  if (pi->fallback[0] != '\0')
    jstr(b, pi->fallback);
  else
    jlit(b, "null");
  jlit(b, "}");
  free(pi);
}

/* What runs on the reloader thread now: a load ("reload 3", since when) and the plugin code
 * in it, or an old version's hotswap_on_free ("retirement"). False when nothing runs. */
struct running {
  char label[32];
  uint64_t for_ms;
  bool in_code;
  struct ldr_activity a;
  uint64_t in_for_ms;
};

static bool running_now(const struct pre_summary *s, struct running *r) {
  r->in_code = ldr_activity_get(&r->a);
  if (!s->running && !r->in_code)
    return false;
  uint64_t now = pre_now_ns();
  snprintf(r->label, sizeof(r->label), "retirement");
  struct pre_outcome o = {.start = s->running_number == 0, .number = s->running_number};
  if (s->running)
    pre_outcome_label(&o, r->label, sizeof(r->label));
  uint64_t since = s->running ? s->running_since_ns : r->a.since_ns;
  r->for_ms = (now - since) / 1000000u;
  r->in_for_ms = r->in_code ? (now - r->a.since_ns) / 1000000u : 0;
  return true;
}

/* "reload 3 running for 12.0 s, in libx.so hotswap_on_init for 11.9 s" */
static void running_text(const struct running *r, char *buf, size_t n) {
  int len = snprintf(buf, n, "%s running for %.1f s", r->label, (double)r->for_ms / 1000);
  if (r->in_code && len > 0 && (size_t)len < n)
    snprintf(buf + len, n - (size_t)len, ", in %s %s for %.1f s", r->a.file, r->a.what,
             (double)r->in_for_ms / 1000);
}

bool pre_running_text(const struct pre_summary *s, char *buf, size_t n) {
  struct running r;
  if (!running_now(s, &r))
    return false;
  running_text(&r, buf, n);
  return true;
}

/* "running": {"label":"reload 3","for_ms":12000,"file":"libx.so","in":"hotswap_on_init",
 * "in_for_ms":11900,"text":"reload 3 running for ..."} (file, in and in_for_ms while plugin
 * code runs; text as pre_running_text, which the CLI prints), or null. */
static void running_fields(struct jbuf *b, const struct pre_summary *s) {
  jlit(b, "],\"running\":");
  struct running r;
  if (!running_now(s, &r)) {
    jlit(b, "null");
    return;
  }
  jlit(b, "{\"label\":");
  jstr(b, r.label);
  jfmt(b, ",\"for_ms\":%llu", (unsigned long long)r.for_ms);
  if (r.in_code) {
    jlit(b, ",\"file\":");
    jstr(b, r.a.file);
    jlit(b, ",\"in\":");
    jstr(b, r.a.what);
    jfmt(b, ",\"in_for_ms\":%llu", (unsigned long long)r.in_for_ms);
  }
  char text[512];
  running_text(&r, text, sizeof(text));
  jlit(b, ",\"text\":");
  jstr(b, text);
  jlit(b, "}");
}

char *pre_json_error(const char *code, const char *message) {
  struct jbuf b = {0};
  jlit(&b, "{\"ok\":false,\"error\":");
  jstr(&b, code);
  jlit(&b, ",\"message\":");
  jstr(&b, message);
  jlit(&b, "}");
  return jdone(&b);
}

char *pre_status_json(const struct pre_summary *s) {
  struct ldr_status st;
  if (ldr_status_get(&st) != 0)
    return NULL;
  struct jbuf b = {0};
  jfmt(&b, "{\"pid\":%ld,\"generation\":", (long)getpid());
  if (st.has_generation)
    jfmt(&b, "%llu", (unsigned long long)st.generation);
  else
    jlit(&b, "null");
  jfmt(&b, ",\"reloading\":%s,\"reloads\":%u,\"failures\":%u,\"plugins\":[",
       st.reloading ? "true" : "false", s->reloads, s->failures);
  for (size_t i = 0; i < st.n_plugins; i++) {
    const struct ldr_plugin_status *p = &st.plugins[i];
    jlit(&b, i ? ",{\"name\":" : "{\"name\":");
    jstr(&b, p->name);
    jlit(&b, ",\"path\":");
    jstr(&b, p->path);
    jlit(&b, ",\"version\":");
    jstr(&b, p->version);
    jfmt(&b, ",\"reloadable\":%s,\"adopted\":%s,\"routed\":%zu,\"loads\":%u,",
         p->reloadable ? "true" : "false", p->adopted ? "true" : "false", p->routed, p->loads);
    jfmt(&b, "\"versions_loaded\":%zu", p->versions_loaded);
    old_versions(&b, p);
    jlit(&b, "}");
  }
  running_fields(&b, s);
  const struct pre_outcome *done[2] = {&s->start, &s->last};
  for (int i = 0; i < 2; i++) {
    jlit(&b, i == 0 ? ",\"start\":" : ",\"last_reload\":");
    if (done[i]->message[0] != '\0') {
      jlit(&b, "{");
      outcome_fields(&b, done[i]);
      jlit(&b, "}");
    } else {
      jlit(&b, "null");
    }
  }
  probation_fields(&b);
  /* HOTSWAP_RETIRE=scan: the last memory scan, {"scans","bytes","ms","pass_ms","freed"}
   * (freed: words into a version found in freed malloc blocks, not counted) or null. */
  struct pre_scan_stats sc;
  pre_scan_last(&sc);
  if (sc.scans == 0)
    jlit(&b, ",\"last_scan\":null");
  else
    jfmt(&b,
         ",\"last_scan\":{\"scans\":%llu,\"bytes\":%llu,\"ms\":%.3f,\"pass_ms\":%.3f,"
         "\"freed\":%llu}",
         (unsigned long long)sc.scans, (unsigned long long)sc.bytes, (double)sc.total_ns / 1e6,
         (double)sc.pass_ns / 1e6, (unsigned long long)sc.freed);
  jlit(&b, "}");
  ldr_status_free(&st);
  return jdone(&b);
}
