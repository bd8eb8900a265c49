/* cmd_revert.c - `hotswap revert PID`: ask a daemon running under the shim to go back to
 * its previous generation (while every version it ran is still loaded) and print the
 * outcome. */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/cmds.h"
#include "tools/control_client.h"
#include "tools/jsonread.h"
#include "tools/util.h"

static void usage(FILE *f) {
  fprintf(f, "usage: hotswap revert [--timeout SECONDS] [--json] PID\n\n"
             "Make process PID (started with LD_PRELOAD=libhotswap_preload.so) serve its\n"
             "previous generation again: every plugin at once, one commit. Possible while the\n"
             "previous versions are still loaded (HOTSWAP_GRACE_MS after a reload at least).\n\n"
             "  --timeout S  give up after S seconds (default 60)\n"
             "  --json       print the daemon's answer as JSON\n\n"
             "Exit status: 0 reverted, 1 refused (the current generation keeps serving; the\n"
             "reason is printed), 2 the process cannot be reached.\n");
}

/* `hotswap revert [--timeout S] [--json] PID`. Returns the exit status above. */
int cmd_revert(int argc, char **argv) {
  static const struct option opts[] = {{"timeout", required_argument, NULL, 't'},
                                       {"json", no_argument, NULL, 'j'},
                                       {"help", no_argument, NULL, 'h'},
                                       {NULL, 0, NULL, 0}};
  double timeout = 60;
  int json = 0, c;
  optind = 1;
  opterr = 0;
  while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
    char *end;
    if (c == 'h')
      return usage(stdout), 0;
    if (c == 'j') {
      json = 1;
    } else if (c == 't') {
      timeout = strtod(optarg, &end);
      if (*end != '\0' || !(timeout > 0) || timeout > 86400) {
        fprintf(stderr, "hotswap revert: --timeout wants seconds, got '%s'\n", optarg);
        return usage(stderr), 2;
      }
    } else {
      cli_bad_option("revert", argc, argv);
      return usage(stderr), 2;
    }
  }
  if (argc - optind != 1) {
    fprintf(stderr, "hotswap revert: expected one PID\n");
    return usage(stderr), 2;
  }
  char *reply = NULL;
  struct jr *doc = NULL;
  int rc = cc_ask("revert", argv[optind], "revert", (int)(timeout * 1000), &reply, &doc);
  if (rc != 0)
    return rc < 0 ? (usage(stderr), 2) : rc;
  int ok = jr_bool(doc, "ok");
  if (json)
    printf("%s\n", reply);
  else
    fprintf(ok ? stdout : stderr, "%s\n", jr_str(doc, "message"));
  jr_free(doc);
  free(reply);
  return ok ? 0 : 1;
}
