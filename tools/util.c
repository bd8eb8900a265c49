/* SPDX-License-Identifier: BSD-3-Clause */
/* util.c - helpers shared by the CLI commands: open and inspect a plugin file with a
 * message that names it, ISO-8601 times, hex, names of ELF constants and the list of
 * properties that block swapping or unloading a plugin. */
#define _GNU_SOURCE
#include "tools/util.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Prints "hotswap CMD: PATH: what" to stderr. */
static void complain(const char *cmd, const char *path, const char *what) {
  fprintf(stderr, "hotswap %s: %s: %s\n", cmd, path, what);
}

int cli_inspect_file(const char *cmd, const char *path, struct elf_info **out) {
  char err[ELF_ERR_MAX] = "";
  struct stat st;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int e = errno;
    snprintf(err, sizeof(err), "cannot open: %s", strerror(e));
    complain(cmd, path, err);
    return -e;
  }
  if (fstat(fd, &st) != 0) {
    int e = errno;
    snprintf(err, sizeof(err), "cannot stat: %s", strerror(e));
    complain(cmd, path, err);
    close(fd);
    return -e;
  }
  if (!S_ISREG(st.st_mode)) {
    bool dir = S_ISDIR(st.st_mode);
    complain(cmd, path, dir ? "is a directory, not a plugin file" : "is not a regular file");
    close(fd);
    return dir ? -EISDIR : -EINVAL;
  }
  int rc = elf_inspect_fd(fd, NULL, out, err);
  close(fd);
  if (rc != 0) {
    char msg[ELF_ERR_MAX + 128];
    const char *what = hotswap_strerror(rc);
    /* elf/ reasons sometimes start with the code's message already. */
    if (err[0] == '\0' || strncmp(err, what, strlen(what)) == 0)
      snprintf(msg, sizeof(msg), "%s", err[0] ? err : what);
    else
      snprintf(msg, sizeof(msg), "%s: %s", what, err);
    complain(cmd, path, msg);
    *out = NULL;
  }
  return rc;
}

void cli_bad_option(const char *cmd, int argc, char **argv) {
  const char *arg = optind - 1 < argc ? argv[optind - 1] : "";
  if (strncmp(arg, "--", 2) == 0 && strchr(arg, '=') != NULL)
    fprintf(stderr, "hotswap %s: unexpected argument in option '%s'\n", cmd, arg);
  else if (strncmp(arg, "--", 2) == 0 || optopt == 0)
    fprintf(stderr, "hotswap %s: unknown option '%s'\n", cmd, arg);
  else
    fprintf(stderr, "hotswap %s: unknown option '-%c'\n", cmd, optopt);
}

void cli_see_help(const char *cmd) { fprintf(stderr, "see 'hotswap %s --help'\n", cmd); }

static bool is_ctrl(unsigned char c) { return c < 0x20 || c == 0x7f; }

const char *cli_clean(const char *s, char *buf) {
  const unsigned char *p = (const unsigned char *)s;
  size_t o = 0;
  if (s == NULL)
    return "(none)";
  while (*p != '\0' && !is_ctrl(*p))
    p++;
  if (*p == '\0')
    return s;
  for (p = (const unsigned char *)s; *p != '\0' && o + 5 < CLI_CLEAN_MAX; p++) {
    if (is_ctrl(*p))
      o += (size_t)snprintf(buf + o, CLI_CLEAN_MAX - o, "\\x%02x", *p);
    else
      buf[o++] = (char)*p;
  }
  buf[o] = '\0';
  return buf;
}

char *cli_iso_time(int64_t t, char *buf) {
  struct tm tm;
  time_t tt = (time_t)t;
  if (t == 0 || gmtime_r(&tt, &tm) == NULL)
    return NULL;
  if (strftime(buf, CLI_TIME_MAX, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
    return NULL;
  return buf;
}

char *cli_hex(const unsigned char *bytes, size_t n, char *out) {
  static const char digits[] = "0123456789abcdef";
  for (size_t i = 0; i < n; i++) {
    out[2 * i] = digits[bytes[i] >> 4];
    out[2 * i + 1] = digits[bytes[i] & 15];
  }
  out[2 * n] = '\0';
  return out;
}

const char *cli_elf_type_name(int type) {
  switch (type) {
  case ET_NONE: return "NONE";
  case ET_REL: return "REL";
  case ET_EXEC: return "EXEC";
  case ET_DYN: return "DYN";
  case ET_CORE: return "CORE";
  default: return "UNKNOWN";
  }
}

const char *cli_bind_name(unsigned bind) {
  switch (bind) {
  case STB_LOCAL: return "LOCAL";
  case STB_GLOBAL: return "GLOBAL";
  case STB_WEAK: return "WEAK";
  case STB_GNU_UNIQUE: return "UNIQUE";
  default: return "UNKNOWN";
  }
}

const char *cli_visibility_name(unsigned vis) {
  switch (vis) {
  case STV_DEFAULT: return "DEFAULT";
  case STV_INTERNAL: return "INTERNAL";
  case STV_HIDDEN: return "HIDDEN";
  case STV_PROTECTED: return "PROTECTED";
  default: return "UNKNOWN";
  }
}

size_t cli_flags(const struct elf_info *info, struct cli_flag *flags) {
  size_t n = 0;
  if (info->execstack && info->no_gnu_stack)
    flags[n++] = (struct cli_flag){
        "execstack", "load",
        "it has no PT_GNU_STACK header, so the dynamic linker would make every thread stack "
        "of the daemon executable; hotswap refuses it (link with -z noexecstack)"};
  else if (info->execstack)
    flags[n++] = (struct cli_flag){
        "execstack", "load",
        "it asks for an executable stack, which would make every thread stack of the daemon "
        "executable; hotswap refuses it (link with -z noexecstack)"};
  if (info->textrel)
    flags[n++] = (struct cli_flag){
        "textrel", "load",
        "it has text relocations: the dynamic linker would have to write into its code; "
        "hotswap refuses it (compile every object with -fPIC)"};
  if (info->nodelete)
    flags[n++] = (struct cli_flag){
        "nodelete", "unload",
        "it is marked NODELETE: dlclose never unmaps it, so every replaced version stays in "
        "memory (link without -z nodelete)"};
  if (info->has_unique)
    flags[n++] = (struct cli_flag){
        "gnu_unique", "unload",
        "it exports a GNU_UNIQUE symbol: glibc pins the object, so replaced versions are "
        "never unloaded (compile with -fno-gnu-unique)"};
  if (info->has_tls)
    flags[n++] = (struct cli_flag){
        "tls", "unload",
        "it uses thread-local storage: values do not carry over to a new version, and a "
        "replaced version's TLS stays allocated in every thread that used it"};
  return n;
}
