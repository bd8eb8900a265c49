/* SPDX-License-Identifier: BSD-3-Clause */
/* cmd_reload.c - `hotswap reload PID`: ask a daemon running under the shim to reload its
 * plugins, wait for the outcome and print it. Usable as systemd's ExecReload=. */
#include <stdio.h>

#include "tools/cmds.h"
#include "tools/control_client.h"

static void usage(FILE *f) {
  fprintf(f, "usage: hotswap reload [--timeout SECONDS] [--json] PID\n\n"
             "Reload the plugins of process PID (started with LD_PRELOAD=libhotswap_preload.so)\n"
             "and wait for the outcome.\n\n"
             "  --timeout S  give up after S seconds (default 60)\n"
             "  --json       print the daemon's answer as JSON\n\n"
             "Exit status: 0 reloaded (or nothing changed), 1 rejected (the old version keeps\n"
             "serving; the reason is printed), 2 the process cannot be reached.\n");
}

int cmd_reload(int argc, char **argv) { return cc_action_command("reload", argc, argv, usage); }
