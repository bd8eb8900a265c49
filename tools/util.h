/* SPDX-License-Identifier: BSD-3-Clause */
/* util.h - helpers shared by the CLI commands (prefix cli_): opening and inspecting a
 * plugin file with a message that names the file, and formatting times and bytes. */
#ifndef HOTSWAP_TOOLS_UTIL_H
#define HOTSWAP_TOOLS_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "elf/elf.h"

/* Room for an ISO-8601 UTC time, "2026-11-21T07:28:39Z". */
#define CLI_TIME_MAX 32

/* Open and inspect the plugin file `path`. On success returns 0 and sets *out (release
 * with elf_info_free). On failure prints "hotswap CMD: PATH: REASON" to stderr (missing
 * file, directory, not ELF, malformed...) and returns a negative code. */
int cli_inspect_file(const char *cmd, const char *path, struct elf_info **out);

/* After getopt_long returned '?': prints "hotswap CMD: unknown option 'X'" (or "...:
 * unexpected argument in option '--X=Y'") to stderr. Call before printing the usage. */
void cli_bad_option(const char *cmd, int argc, char **argv);
/* The second and last line of every usage error: "see 'hotswap CMD --help'". */
void cli_see_help(const char *cmd);

/* Room for cli_clean's output. */
#define CLI_CLEAN_MAX 512

/* For text output of untrusted strings (symbol names from a plugin file): returns s when it
 * has no control characters, else a copy in buf (CLI_CLEAN_MAX bytes, truncated) with each
 * control character written as \xNN, so that a crafted name cannot drive the terminal.
 * NULL gives "(none)". */
const char *cli_clean(const char *s, char *buf);

/* Format t (seconds since the epoch) as "YYYY-MM-DDTHH:MM:SSZ" into buf (CLI_TIME_MAX
 * bytes). Returns buf, or NULL when t is 0 (unknown) or out of range. */
char *cli_iso_time(int64_t t, char *buf);

/* Lowercase hex of n bytes into out (at least 2*n+1 bytes). Returns out. */
char *cli_hex(const unsigned char *bytes, size_t n, char *out);

/* Name of an ELF type (ET_DYN -> "DYN"), symbol binding (STB_WEAK -> "WEAK") and
 * visibility (STV_PROTECTED -> "PROTECTED"); unknown values give "UNKNOWN". */
const char *cli_elf_type_name(int type);
const char *cli_bind_name(unsigned bind);
const char *cli_visibility_name(unsigned vis);

/* One property of a plugin that blocks loading it, swapping it or unloading an old version. */
struct cli_flag {
  const char *name;        /* "execstack", "textrel", "nodelete", "gnu_unique", "tls" */
  const char *blocks;      /* "load" or "unload" */
  const char *explanation; /* one line for the operator */
};

/* Fill flags (room for CLI_FLAG_MAX) with the properties info has; returns how many. */
#define CLI_FLAG_MAX 5
size_t cli_flags(const struct elf_info *info, struct cli_flag *flags);

#endif /* HOTSWAP_TOOLS_UTIL_H */
