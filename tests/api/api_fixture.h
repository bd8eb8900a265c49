/* SPDX-License-Identifier: BSD-3-Clause */
/* api_fixture.h - what the host API tests (test_api.c, api_host.c) and their fixture plugin
 * (fx_api.c) share: the extension object the host defines and the plugins fill, and the
 * argument of the "order" invoke function. */
#ifndef HOTSWAP_TESTS_API_FIXTURE_H
#define HOTSWAP_TESTS_API_FIXTURE_H

/* The host's extension: built by the host's constructor each reload, filled in on_init. */
struct api_ext {
  unsigned serial;                /* set by the host's constructor: 1, 2, ... */
  unsigned inits;                 /* on_init calls that filled it */
  const char *(*alpha_hello)(void); /* set by ap_alpha's on_init */
  int alpha_saw_v1_note;          /* ap_alpha v2+ found v1's bag entry in on_init */
};

/* Argument of invoke "order": each plugin appends its name and a space. */
struct api_trace {
  char buf[256];
};

#endif
