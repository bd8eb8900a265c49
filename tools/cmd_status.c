/* SPDX-License-Identifier: BSD-3-Clause */
/* cmd_status.c - `hotswap status PID`: what a daemon under the shim is running: generation,
 * plugins and their versions, routed symbols, the last reload and its reason. */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "tools/cmds.h"
#include "tools/control_client.h"
#include "tools/jsonread.h"
#include "tools/util.h"

static void usage(FILE *f) {
  fprintf(f, "usage: hotswap status [--json] PID\n\n"
             "Show the plugins process PID runs under hotswap, their versions and the\n"
             "outcome of the last reload.\n\n"
             "  --json   print the daemon's answer as JSON\n\n"
             "Exit status: 0 answered, 2 the process cannot be reached.\n");
}

/* The replaced versions of one plugin still loaded: waiting to retire (and what holds
 * them), pinned (and why). */
static void print_old(const struct jr *p) {
  const struct jr *w = jr_get(p, "waiting");
  for (size_t k = 0; w && w->type == JR_ARRAY && k < w->n; k++) {
    const struct jr *o = &w->kids[k];
    const struct jr *by = jr_get(o, "held_by");
    /* The program's own copy can be the same build as the current one, loaded again. */
    const char *own = jr_bool(o, "adopted") ? " (the program's own copy)" : "";
    if (by != NULL && by->type == JR_STRING)
      printf("    %s %s%s waits to retire: held by %s for %.1f s\n", jr_str(p, "name"),
             jr_str(o, "version"), own, by->str, jr_num(o, "held_ms") / 1000.0);
    else
      printf("    %s %s%s waits to retire: replaced %.1f s ago (grace period)\n",
             jr_str(p, "name"), jr_str(o, "version"), own, jr_num(o, "unused_ms") / 1000.0);
  }
  const struct jr *pin = jr_get(p, "pinned");
  for (size_t k = 0; pin && pin->type == JR_ARRAY && k < pin->n; k++)
    printf("    %s %s%s pinned: %s\n", jr_str(p, "name"), jr_str(&pin->kids[k], "version"),
           jr_bool(&pin->kids[k], "adopted") ? " (the program's own copy)" : "",
           jr_str(&pin->kids[k], "why"));
}

static void print_status(const struct jr *doc) {
  const struct jr *gen = jr_get(doc, "generation");
  printf("pid %.0f, generation %s, %.0f reloads (%.0f failed)\n", jr_num(doc, "pid"),
         gen && gen->type == JR_NUMBER ? gen->str : "none", jr_num(doc, "reloads"),
         jr_num(doc, "failures"));
  const struct jr *plugins = jr_get(doc, "plugins");
  for (size_t i = 0; plugins && plugins->type == JR_ARRAY && i < plugins->n; i++) {
    const struct jr *p = &plugins->kids[i];
    printf("  %-16s %-14s %4.0f symbols  %s%s\n", jr_str(p, "name"), jr_str(p, "version"),
           jr_num(p, "routed"), jr_str(p, "path"),
           jr_bool(p, "reloadable") ? "" : "  (not reloadable)");
  }
  for (size_t i = 0; plugins && plugins->type == JR_ARRAY && i < plugins->n; i++)
    print_old(&plugins->kids[i]);
  const struct jr *prob = jr_get(doc, "probation");
  const struct jr *fb = prob != NULL ? jr_get(prob, "serving_last_known_good") : NULL;
  if (fb != NULL && fb->type == JR_STRING)
    printf("%s\n", fb->str);
  const struct jr *on = prob != NULL ? jr_get(prob, "on_probation") : NULL;
  for (size_t i = 0; on && on->type == JR_ARRAY && i < on->n; i++)
    printf("  %s %s on probation: %.1f s left\n", jr_str(&on->kids[i], "file"),
           jr_str(&on->kids[i], "version"), jr_num(&on->kids[i], "remaining_ms") / 1000.0);
  char running[512];
  if (cc_running_text(doc, running, sizeof(running)))
    printf("%s\n", running); /* e.g. a hook that hangs */
  const struct jr *start = jr_get(doc, "start"), *last = jr_get(doc, "last_reload");
  if (start != NULL && start->type == JR_OBJECT)
    printf("%s\n", jr_str(start, "message")); /* "start ok in ...", "start rejected: ..." */
  if (last != NULL && last->type == JR_OBJECT)
    printf("last: %s\n", jr_str(last, "message"));
}

int cmd_status(int argc, char **argv) {
  static const struct option opts[] = {{"json", no_argument, NULL, 'j'},
                                       {"help", no_argument, NULL, 'h'},
                                       {NULL, 0, NULL, 0}};
  int json = 0, c;
  optind = 1;
  opterr = 0;
  while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
    if (c == 'h')
      return usage(stdout), 0;
    if (c != 'j') {
      cli_bad_option("status", argc, argv);
      return cli_see_help("status"), 2;
    }
    json = 1;
  }
  if (argc - optind != 1) {
    fprintf(stderr, "hotswap status: expected one PID\n");
    return cli_see_help("status"), 2;
  }
  char *reply = NULL;
  struct jr *doc = NULL;
  int rc = cc_ask("status", argv[optind], "status", 10000, &reply, &doc);
  if (rc != 0)
    return rc < 0 ? (cli_see_help("status"), 2) : rc;
  if (json)
    printf("%s\n", reply);
  else
    print_status(doc);
  jr_free(doc);
  free(reply);
  return 0;
}
