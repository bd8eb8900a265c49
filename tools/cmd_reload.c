/* cmd_reload.c - `hotswap reload PID`: ask a daemon running under the shim to reload its
 * plugins, wait for the outcome and print it. Usable as systemd's ExecReload=. */
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
  fprintf(f, "usage: hotswap reload [--timeout SECONDS] [--json] PID\n\n"
             "Reload the plugins of process PID (started with LD_PRELOAD=libhotswap_preload.so)\n"
             "and wait for the outcome.\n\n"
             "  --timeout S  give up after S seconds (default 60)\n"
             "  --json       print the daemon's answer as JSON\n\n"
             "Exit status: 0 reloaded (or nothing changed), 1 rejected (the old version keeps\n"
             "serving; the reason is printed), 2 the process cannot be reached.\n");
}

int cmd_reload(int argc, char **argv) {
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
        fprintf(stderr, "hotswap reload: --timeout wants seconds, got '%s'\n", optarg);
        return usage(stderr), 2;
      }
    } else {
      cli_bad_option("reload", argc, argv);
      return usage(stderr), 2;
    }
  }
  if (argc - optind != 1) {
    fprintf(stderr, "hotswap reload: expected one PID\n");
    return usage(stderr), 2;
  }
  char *reply = NULL;
  struct jr *doc = NULL;
  int rc = cc_ask("reload", argv[optind], "reload", (int)(timeout * 1000), &reply, &doc);
  if (rc != 0)
    return rc < 0 ? (usage(stderr), 2) : rc;
  int ok = jr_bool(doc, "ok");
  if (json)
    printf("%s\n", reply);
  else
    fprintf(ok ? stdout : stderr, "%s\n", jr_str(doc, "message"));
  rc = ok ? 0 : strcmp(jr_str(doc, "error"), "ETIMEDOUT") == 0 ? 2 : 1;
  jr_free(doc);
  free(reply);
  return rc;
}
