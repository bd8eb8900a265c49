/* SPDX-License-Identifier: BSD-3-Clause */
/* api_host.c - a host written against the opt-in API of hotswap.h, declared weak so that it
 * also runs without the shim (it then prints "no shim"). It registers an extension
 * constructor, wraps a live_order as live data under the version loaded at start-up, and
 * answers one command per stdin line, so that a test can compare before and after reloads:
 *   greet    hotswap_invoke("ap_alpha", "greet")      -> "greet <answer>"
 *   each     hotswap_invoke_each("order") and ("fail") -> "each <order> | <rc> <message>"
 *   ext      the extension's alpha_hello()              -> "ext <serial> <answer>"
 *   job      hotswap_live_fn("live_job_run")(7)         -> "job <result>"
 *   bag      hotswap_vault_get("ap_alpha:v1 note")      -> "bag <value>"
 *   restore  hotswap_live_data_restore of the start-up data -> "restore <id> <qty> <total>"
 *            or "restore error <name>: <reason>" */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hotswap.h"
#include "tests/api/api_fixture.h"

#pragma weak hotswap_invoke
#pragma weak hotswap_invoke_each
#pragma weak hotswap_vault_get
#pragma weak hotswap_vault_set_extension_newer
#pragma weak hotswap_vault_extension
#pragma weak hotswap_live_fn
#pragma weak hotswap_live_new
#pragma weak hotswap_live_data_wrap
#pragma weak hotswap_live_data_restore
#pragma weak hotswap_err_name

static unsigned built;

static void *new_ext(const void *prev) {
  struct api_ext *e = calloc(1, sizeof(*e));
  if (e != NULL && prev != NULL)
    *e = *(const struct api_ext *)prev;
  if (e != NULL)
    e->serial = ++built;
  return e;
}

static struct hotswap_live_data saved; /* wrapped under the start-up version */

static void restore(void) {
  void *out = NULL;
  char err[512];
  int rc = hotswap_live_data_restore(&saved, &out, err, sizeof(err));
  if (rc != 0) {
    printf("restore error %s: %s\n", hotswap_err_name(rc), err);
    return;
  }
  const struct {
    int id, qty;
    long total;
  } *o = out;
  printf("restore %d %d %ld\n", o->id, o->qty, out == saved.value ? -1L : o->total);
}

static void command(const char *cmd) {
  void *ret = NULL;
  if (strcmp(cmd, "greet") == 0) {
    int rc = hotswap_invoke("ap_alpha", "greet", NULL, &ret);
    printf("greet %s\n", rc == 0 ? (const char *)ret : hotswap_err_name(rc));
  } else if (strcmp(cmd, "each") == 0) {
    struct api_trace t = {""};
    struct hotswap_invoke_errors e;
    hotswap_invoke_each("order", &t, NULL);
    int rc = hotswap_invoke_each("fail", NULL, &e);
    printf("each %s| %s %s\n", t.buf, hotswap_err_name(rc), e.message);
  } else if (strcmp(cmd, "ext") == 0) {
    const struct api_ext *e = hotswap_vault_extension();
    printf("ext %u %s\n", e ? e->serial : 0, e && e->alpha_hello ? e->alpha_hello() : "-");
  } else if (strcmp(cmd, "job") == 0) {
    int (*f)(int) = (int (*)(int))hotswap_live_fn("live_job_run");
    printf("job %d\n", f ? f(7) : -1);
  } else if (strcmp(cmd, "bag") == 0) {
    const char *v = hotswap_vault_get("ap_alpha:v1 note");
    printf("bag %s\n", v ? v : "(none)");
  } else if (strcmp(cmd, "restore") == 0) {
    restore();
  }
}

int main(void) {
  char line[64], err[512];
  if (hotswap_invoke == NULL) {
    printf("no shim\n");
    return 0;
  }
  if (hotswap_vault_set_extension_newer(new_ext, free, err, sizeof(err)) != 0)
    printf("extension error: %s\n", err);
  struct {
    int id, qty;
  } *o = hotswap_live_new("live_order");
  if (o == NULL || hotswap_live_data_wrap("live_order", o, &saved) != 0) {
    printf("no live_order\n");
    return 1;
  }
  o->id = 42;
  o->qty = 3;
  printf("ready\n");
  fflush(stdout);
  while (fgets(line, sizeof(line), stdin) != NULL) {
    line[strcspn(line, "\n")] = '\0';
    command(line);
    fflush(stdout);
  }
  free(o);
  return 0;
}
