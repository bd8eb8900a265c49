/* SPDX-License-Identifier: BSD-3-Clause */
/* fx_api.c - fixture plugins of the host API tests (tests/api): one source, macros pick the
 * name, version, import and the live-type layout, so that a test can tell which version
 * answered an invoke, a live function, a live type constructor or an upgrade.
 *
 *   AP_NAME     plugin name, a string (required); AP_VERSION  a number (required)
 *   AP_IMPORT   name of a plugin to import (optional)
 *   AP_FAIL_RC  what invoke "fail" returns (default 0)
 *   AP_NO_INVOKE  define no hotswap_invoke_func
 *   AP_LIVE     1: live_order {id, qty}; 2: {id, qty, total}; (unset: no live table)
 *   AP_UPGRADE  define live_order_upgrade (from layout 1)
 *   AP_ONINIT_RC  what hotswap_on_init returns (default 0: a failed reload when not)
 * Invoke functions: "greet" (*ret = "<name> v<version>"), "order" (appends the name to a
 * struct api_trace), "fail" (returns AP_FAIL_RC), "version" (returns AP_VERSION), "call"
 * (calls arg, an int (*)(const char *plugin), with its name and returns what it returns).
 * The live table is written by hand (a plugin built without `hotswap build`), the
 * HOTSWAP_LIVE_TYPE note by the macro, as `hotswap build` plugins have it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hotswap.h"
#include "tests/api/api_fixture.h"

#ifndef AP_FAIL_RC
#define AP_FAIL_RC 0
#endif
#ifndef AP_ONINIT_RC
#define AP_ONINIT_RC 0
#endif
#define AP_STR_(x) #x
#define AP_STR(x) AP_STR_(x)
#define AP_ID AP_NAME " v" AP_STR(AP_VERSION)

#ifdef AP_IMPORT
static void *imported;
static const struct hotswap_import imports[] = {{AP_IMPORT, &imported}, {NULL, NULL}};
const struct hotswap_import *hotswap_import(void) { return imports; }
#endif

void *hotswap_export(void) { return (void *)AP_ID; }

static const char *hello(void) { return AP_ID; }

int hotswap_on_init(struct hotswap_vault *v) {
  if (v == NULL || v->version != HOTSWAP_VAULT_VERSION)
    return -EINVAL;
  struct api_ext *e = v->extension;
  if (AP_ONINIT_RC != 0)
    return AP_ONINIT_RC;
  if (e != NULL) {
    e->inits++;
    if (strcmp(AP_NAME, "ap_alpha") == 0) {
      e->alpha_hello = hello;
      e->alpha_saw_v1_note = v->get("ap_alpha:v1 note") != NULL;
    }
  }
  /* Bag entries outlive the version that made them (the test checks v2 sees this). */
  if (AP_VERSION == 1 && strcmp(AP_NAME, "ap_alpha") == 0 && v->get("ap_alpha:v1 note") == NULL)
    return v->put("ap_alpha:v1 note", (void *)"written by ap_alpha v1", NULL);
  return 0;
}

#ifndef AP_NO_INVOKE
int hotswap_invoke_func(const char *fn, void *arg, void **ret) {
  if (strcmp(fn, "greet") == 0) {
    *ret = (void *)AP_ID;
    return 0;
  }
  if (strcmp(fn, "order") == 0) {
    struct api_trace *t = arg;
    size_t len = strlen(t->buf);
    snprintf(t->buf + len, sizeof(t->buf) - len, "%s ", AP_NAME);
    return 0;
  }
  if (strcmp(fn, "fail") == 0)
    return AP_FAIL_RC;
  if (strcmp(fn, "version") == 0) /* which build answered, as a return code */
    return AP_VERSION;
  if (strcmp(fn, "call") == 0) /* call back into the host: int (*)(const char *plugin) */
    return arg != NULL ? ((int (*)(const char *))arg)(AP_NAME) : -EINVAL;
  return -ENOSYS;
}
#endif

#ifdef AP_LIVE
#if AP_LIVE == 1
typedef struct {
  int id;
  int qty;
} live_order;
HOTSWAP_LIVE_TYPE(live_order, id, qty);
#define AP_LAYOUT HOTSWAP_LAYOUT_HASH(live_order, id, qty)
#else
typedef struct {
  int id;
  int qty;
  long total;
} live_order;
HOTSWAP_LIVE_TYPE(live_order, id, qty, total);
#define AP_LAYOUT HOTSWAP_LAYOUT_HASH(live_order, id, qty, total)
#endif

int live_job_run(int x);
void *live_order_new(void);
int live_job_run(int x) { return x + 100 * AP_VERSION; }

/* Constructor by convention ("<type>_new"): qty starts at the version number. */
void *live_order_new(void) {
  live_order *o = calloc(1, sizeof(*o));
  if (o != NULL)
    o->qty = AP_VERSION;
  return o;
}

#ifdef AP_UPGRADE
int live_order_upgrade(const void *old, uint64_t old_fingerprint, uint32_t old_size,
                       void **out);
/* From layout 1 {id, qty}: total = qty * 10. */
int live_order_upgrade(const void *old, uint64_t old_fingerprint, uint32_t old_size,
                       void **out) {
  (void)old_fingerprint;
  const struct {
    int id, qty;
  } *o = old;
  if (old_size != sizeof(*o))
    return -EINVAL;
  live_order *n = calloc(1, sizeof(*n));
  if (n == NULL)
    return -ENOMEM;
  n->id = o->id;
  n->qty = o->qty;
  n->total = (long)o->qty * 10;
  *out = n;
  return 0;
}
#endif

static const struct hotswap_live_func live_funcs[] = {
    {"live_job_run", (void (*)(void))live_job_run},
    {"live_order_new", (void (*)(void))live_order_new},
#ifdef AP_UPGRADE
    {"live_order_upgrade", (void (*)(void))live_order_upgrade},
#endif
};
static const struct hotswap_live_type_entry live_types[] = {
    {"live_order", sizeof(live_order), _Alignof(live_order), AP_LAYOUT}};

extern const struct hotswap_live_table hotswap_live_table;
const struct hotswap_live_table hotswap_live_table = {
    HOTSWAP_LIVE_TABLE_VERSION, sizeof(live_funcs) / sizeof(live_funcs[0]), 0, 1,
    live_funcs, NULL, live_types, HOTSWAP_LIVE_PREFIX};
#endif
