/* SPDX-License-Identifier: BSD-3-Clause */
/* cmd_revert.c - `hotswap revert PID`: ask a daemon running under the shim to go back to
 * its previous generation (while every version it ran is still loaded) and print the
 * outcome. */
#include <stdio.h>

#include "tools/cmds.h"
#include "tools/control_client.h"

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

int cmd_revert(int argc, char **argv) { return cc_action_command("revert", argc, argv, usage); }
