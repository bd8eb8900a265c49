/* SPDX-License-Identifier: BSD-3-Clause */
/* control_client.h - talking to a running daemon's hotswap control socket (prefix cc_). */
#ifndef HOTSWAP_TOOLS_CONTROL_CLIENT_H
#define HOTSWAP_TOOLS_CONTROL_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

/* Find the control socket of process `pid`: the HOTSWAP_CONTROL in its environment
 * (/proc/PID/environ; a forked worker serves "<HOTSWAP_CONTROL>.<pid>"), else the abstract
 * name "@hotswap/<pid>". Writes the name into buf (n bytes). Returns 0; 1 when the
 * environment could not be read and buf holds the default name, a guess (err says why);
 * or -errno with a reason in err: no such process, not under hotswap. */
int cc_find_socket(pid_t pid, char *buf, size_t n, char *err, size_t errn);

/* Send one request line and read the one-line reply (malloc'd, newline stripped) into
 * *reply, waiting at most timeout_ms. When pid is not 0, the socket must belong to that
 * process (SO_PEERCRED of its listener), else -ESRCH: a forked worker's status must never be
 * answered by its master. Returns 0 or -errno with a reason in err. */
int cc_request(const char *sock, pid_t pid, const char *request, int timeout_ms,
               char **reply, char *err, size_t errn);

struct jr;

/* What both `hotswap reload` and `hotswap status` do with their one argument: parse PID,
 * find its socket, send `request`, parse the JSON answer. On success returns 0 with the raw
 * line in *reply and its tree in *doc (free both). Otherwise prints "hotswap CMD: reason"
 * to stderr and returns 2 (the exit status for an unreachable process), or -1 when PID is
 * not a number (the caller prints its usage). */
int cc_ask(const char *cmd, const char *pid_arg, const char *request, int timeout_ms,
           char **reply, struct jr **doc);
/* "reload 3 running for 12.0 s, in libx.so hotswap_on_init for 11.9 s" (a status answer's
 * running.text) into buf; false when nothing runs. */
bool cc_running_text(const struct jr *doc, char *buf, size_t n);

/* The whole of `hotswap reload` and `hotswap revert` but their usage text: parse
 * [--timeout S] [--json] [--help] PID, send the request named `cmd`, print the daemon's
 * message (stdout when ok, stderr when refused) or its JSON. Returns the exit status: 0 ok,
 * 1 refused, 2 usage error or the process cannot be reached or did not answer in time. */
int cc_action_command(const char *cmd, int argc, char **argv, void (*usage)(FILE *));

/* Parse "PID" (a positive decimal). Returns the pid or -1. */
pid_t cc_parse_pid(const char *s);

#endif
