/* SPDX-License-Identifier: BSD-3-Clause */
/* jobs.c - the plugin of the livex demo: the live type live_job, the live functions that
 * make and run jobs, and from build 2 on a bigger live_job layout with live_job_upgrade,
 * which converts jobs that build 1 queued. LIVEX_BUILD (set by run.sh / reload.sh through
 * `hotswap build -- -D...`) tells the builds apart. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hotswap.h"
#include "livex.h"

#ifndef LIVEX_BUILD
#define LIVEX_BUILD 1
#endif

/* Build 1's layout, kept so that later builds can upgrade what it queued. */
typedef struct {
  unsigned long seq;
  int made_by;
} live_job_v1;

/* This build's live table, generated and linked in by `hotswap build`. */
extern const struct hotswap_live_table hotswap_live_table;

/* This build's fingerprint of live_job, as the loader compares it (the field names count
 * too, so it is read from the generated table rather than computed here). */
static uint64_t job_layout(void) {
  for (uint32_t i = 0; i < hotswap_live_table.n_types; i++)
    if (strcmp(hotswap_live_table.types[i].name, "live_job") == 0)
      return hotswap_live_table.types[i].fingerprint;
  return 0;
}

#if LIVEX_BUILD == 1
typedef live_job_v1 live_job;
HOTSWAP_LIVE_TYPE(live_job, seq, made_by);
#else
typedef struct {
  unsigned long seq;
  int made_by;
  int upgraded_by; /* new in build 2: which build converted a build-1 job */
} live_job;
HOTSWAP_LIVE_TYPE(live_job, seq, made_by, upgraded_by);

/* Convert a job in build 1's layout (the only older one, and the only other size) into
 * this layout. */
int live_job_upgrade(const void *old, uint64_t old_fingerprint, uint32_t old_size, void **out) {
  if (old_fingerprint == job_layout() || old_size != sizeof(live_job_v1))
    return -EPROTO;
  const live_job_v1 *o = old;
  live_job *j = malloc(sizeof *j);
  if (j == NULL)
    return -ENOMEM;
  *j = (live_job){.seq = o->seq, .made_by = o->made_by, .upgraded_by = LIVEX_BUILD};
  *out = j;
  return 0;
}
#endif

/* The tag is written here, from this build's own layout, rather than by
 * hotswap_live_data_wrap() in the host: that one tags with the layout current at the time
 * of the call, which a reload committing between make and wrap would get wrong. */
int live_job_make(unsigned long seq, struct hotswap_live_data *out) {
  live_job *j = calloc(1, sizeof *j);
  if (j == NULL)
    return -ENOMEM;
  j->seq = seq;
  j->made_by = LIVEX_BUILD;
  memset(out, 0, sizeof *out);
  strcpy(out->type, "live_job");
  out->fingerprint = job_layout();
  out->size = sizeof *j;
  out->value = j;
  return 0;
}

int live_job_run(const struct hotswap_live_data *job, struct livex_result *res) {
  if (job->fingerprint != job_layout() || job->size != sizeof(live_job))
    return -EPROTO;
  const live_job *j = job->value;
  res->seq = j->seq;
  res->made_by = j->made_by;
  res->handled_by = LIVEX_BUILD;
#if LIVEX_BUILD == 1
  res->upgraded_by = 0;
#else
  res->upgraded_by = j->upgraded_by;
#endif
  return 0;
}
