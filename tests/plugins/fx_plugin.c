/* SPDX-License-Identifier: BSD-3-Clause */
/* fx_plugin.c - one source for the lifecycle test plugins: macros pick the name, version,
 * import, which step fails and whether it may be reloaded. Every hook records
 * "<name>@<version>:<hook>" through fx_log(), which the test program defines.
 *
 *   FX_NAME        plugin and symbol prefix (required): functions are <FX_NAME>_answer, ...
 *   FX_VERSION     what <FX_NAME>_answer returns (required)
 *   FX_IMPORT1     name of a plugin to import (optional)
 *   FX_RELOADABLE  what hotswap_reloadable returns (default 1)
 *   FX_ONLOAD_RC, FX_ONINIT_RC  what hotswap_on_load / hotswap_on_init return (default 0)
 *   FX_DROP_EXTRA  leave out <FX_NAME>_extra (an incompatible build)
 *   FX_UNRESOLVED  call a function no object defines (dlopen RTLD_NOW fails)
 *   FX_NOTE_NAME   write a hotswap version note carrying this plugin name
 *   FX_CALLBACK    hotswap_on_init returns fx_callback("<name>", "on_init"), which the test
 *                  program defines (it may call the loader, or block until the test says)
 */
#include <stdbool.h>
#include <stddef.h>

#include "hotswap.h"

#if !defined(FX_NAME) || !defined(FX_VERSION)
#error "define FX_NAME and FX_VERSION"
#endif
#ifndef FX_RELOADABLE
#define FX_RELOADABLE 1
#endif
#ifndef FX_ONLOAD_RC
#define FX_ONLOAD_RC 0
#endif
#ifndef FX_ONINIT_RC
#define FX_ONINIT_RC 0
#endif

#define FX_CAT_(a, b) a##_##b
#define FX_CAT(a, b) FX_CAT_(a, b)
#define FX_SYM(s) FX_CAT(FX_NAME, s)
#define FX_STR_(x) #x
#define FX_STR(x) FX_STR_(x)
#define FX_N FX_STR(FX_NAME)

/* Defined by the test program (exported with -rdynamic). */
void fx_log(const char *plugin, int version, const char *event);
#ifdef FX_CALLBACK
int fx_callback(const char *plugin, const char *event);
#endif

/* What this plugin exports to its importers. */
struct fx_api {
  int (*answer)(void);
  int (*total)(void);
};

int FX_SYM(answer)(void);
int FX_SYM(total)(void);
int FX_SYM(extra)(void);
void *FX_SYM(seen_data)(void);
void *FX_SYM(seen_vault)(void);

static void *seen_data, *seen_vault;

int FX_SYM(answer)(void) { return FX_VERSION; }

#ifdef FX_IMPORT1
static struct fx_api *imported;
#endif

/* Own version plus ten times what the imported plugin totals: shows which versions a call
 * chain crossed, e.g. 322 for gamma v3 -> beta v2 -> alpha v3... read right to left. */
int FX_SYM(total)(void) {
#ifdef FX_IMPORT1
  return FX_VERSION + 10 * (imported != NULL ? imported->total() : 0);
#else
  return FX_VERSION;
#endif
}

#ifndef FX_DROP_EXTRA
int FX_SYM(extra)(void) { return 100 + FX_VERSION; }
#endif

#ifdef FX_UNRESOLVED
void fx_no_such_symbol(void);
int FX_SYM(unresolved)(void);
int FX_SYM(unresolved)(void) {
  fx_no_such_symbol();
  return 0;
}
#endif

void *FX_SYM(seen_data)(void) { return seen_data; }
void *FX_SYM(seen_vault)(void) { return seen_vault; }

static const struct fx_api api = {FX_SYM(answer), FX_SYM(total)};

bool hotswap_reloadable(void) {
  fx_log(FX_N, FX_VERSION, "reloadable");
  return FX_RELOADABLE;
}

void *hotswap_export(void) {
  fx_log(FX_N, FX_VERSION, "export");
  return (void *)&api;
}

const struct hotswap_import *hotswap_import(void) {
  fx_log(FX_N, FX_VERSION, "import");
#ifdef FX_IMPORT1
  static const struct hotswap_import imports[] = {
      {FX_STR(FX_IMPORT1), (void **)&imported},
      {NULL, NULL},
  };
  return imports;
#else
  return NULL;
#endif
}

int hotswap_on_load(void *data) {
  fx_log(FX_N, FX_VERSION, "on_load");
  seen_data = data;
  return FX_ONLOAD_RC;
}

int hotswap_on_init(struct hotswap_vault *vault) {
  fx_log(FX_N, FX_VERSION, "on_init");
  seen_vault = vault;
#ifdef FX_CALLBACK
  int rc = fx_callback(FX_N, "on_init");
  if (rc != 0)
    return rc;
#endif
  return FX_ONINIT_RC;
}

void hotswap_on_free(void) { fx_log(FX_N, FX_VERSION, "on_free"); }

#ifdef FX_NOTE_NAME
/* A hotswap version note as `hotswap build` writes it: "key=value" strings. */
#define FX_NOTE_DESC "abi=1\0name=" FX_STR(FX_NOTE_NAME) "\0commit=unversioned"
__attribute__((used, section(HOTSWAP_NOTE_SECTION), aligned(4))) static const struct {
  unsigned namesz, descsz, type;
  char name[8];
  char desc[(sizeof(FX_NOTE_DESC) + 3) & ~3u];
} fx_note = {8, (sizeof(FX_NOTE_DESC) + 3) & ~3u, HOTSWAP_NT_VERSION, HOTSWAP_NOTE_NAME,
             FX_NOTE_DESC};
#endif
