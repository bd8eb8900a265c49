/* main.c - the hotswap CLI: dispatches `hotswap COMMAND ...` to tools/cmd_<command>.c. */
#include <stdio.h>
#include <string.h>

#include "tools/cmds.h"

struct command {
  const char *name;
  int (*run)(int argc, char **argv);
  const char *summary;
};

static const struct command commands[] = {
    {"inspect", cmd_inspect, "show what a plugin file exports, its hooks and version"},
    {"check", cmd_check, "tell whether a new build may replace a running one"},
    {"reload", cmd_reload, "reload the plugins of a running daemon and report the outcome"},
    {"revert", cmd_revert, "make a running daemon serve its previous generation again"},
    {"status", cmd_status, "show what a running daemon serves and its last reload"},
    {"build", cmd_build, "compile a plugin folder, stamped from git, with its live table"},
};

static void usage(FILE *f) {
  fprintf(f, "usage: hotswap COMMAND [ARGS...]\n\ncommands:\n");
  for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
    fprintf(f, "  %-9s %s\n", commands[i].name, commands[i].summary);
  fprintf(f, "\n`hotswap COMMAND --help` describes each command.\n");
}

int main(int argc, char **argv) {
  if (argc < 2) {
    usage(stderr);
    return 2;
  }
  if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
      strcmp(argv[1], "help") == 0) {
    usage(stdout);
    return 0;
  }
  for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
    if (strcmp(argv[1], commands[i].name) == 0)
      return commands[i].run(argc - 1, argv + 1);
  fprintf(stderr, "hotswap: unknown command '%s'\n\n", argv[1]);
  usage(stderr);
  return 2;
}
