/* SPDX-License-Identifier: BSD-3-Clause */
/* cmds.h - the hotswap CLI's subcommands, one file each (tools/cmd_<name>.c).
 *
 * Each returns the process exit status: 0 success, 1 the answer is "no" (incompatible,
 * rejected), 2 usage or I/O error. Usage errors print the command's usage to stderr. */
#ifndef HOTSWAP_TOOLS_CMDS_H
#define HOTSWAP_TOOLS_CMDS_H

int cmd_inspect(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_reload(int argc, char **argv);
int cmd_revert(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_build(int argc, char **argv);

#endif /* HOTSWAP_TOOLS_CMDS_H */
