/* SPDX-License-Identifier: BSD-3-Clause */
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
  fprintf(f, "usage: hotswap COMMAND [ARGS...]\n       hotswap help [COMMAND]\n"
             "       hotswap --version\n\ncommands:\n");
  for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
    fprintf(f, "  %-9s %s\n", commands[i].name, commands[i].summary);
  fprintf(f, "\n`hotswap help COMMAND` (or `hotswap COMMAND --help`) describes each command.\n");
}

static const struct command *find(const char *name) {
  for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
    if (strcmp(name, commands[i].name) == 0)
      return &commands[i];
  return NULL;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "hotswap: expected a command\nsee 'hotswap --help'\n");
    return 2;
  }
  if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
    printf("hotswap %s\n", HOTSWAP_VERSION);
    return 0;
  }
  if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
      (strcmp(argv[1], "help") == 0 && argc == 2)) {
    usage(stdout);
    return 0;
  }
  if (strcmp(argv[1], "help") == 0) {
    const struct command *c = find(argv[2]);
    if (c == NULL || argc > 3) {
      fprintf(stderr, "hotswap help: %s '%s'\nsee 'hotswap --help'\n",
              c == NULL ? "unknown command" : "expected one command, got more after",
              argv[2]);
      return 2;
    }
    char *help_argv[] = {argv[2], "--help", NULL};
    return c->run(2, help_argv);
  }
  const struct command *c = find(argv[1]);
  if (c != NULL)
    return c->run(argc - 1, argv + 1);
  fprintf(stderr, "hotswap: unknown command '%s'\nsee 'hotswap --help'\n", argv[1]);
  return 2;
}
