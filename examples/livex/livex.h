/* SPDX-License-Identifier: BSD-3-Clause */
/* livex.h - what the livex demo's host and its jobs plugin agree on: the signatures of the
 * plugin's live functions, looked up by name with hotswap_live_fn() each time a job is made
 * or run, and the result a run reports. The job's own layout (live type "live_job") is the
 * plugin's business: the host only carries it, tagged, in struct hotswap_live_data. */
#ifndef EXAMPLES_LIVEX_H
#define EXAMPLES_LIVEX_H

#include "hotswap.h"

/* What a run reports back to the host. */
struct livex_result {
  unsigned long seq; /* the job's sequence number */
  int made_by;       /* build that made (queued) the job */
  int handled_by;    /* build whose live_job_run ran it */
  int upgraded_by;   /* build whose live_job_upgrade converted it, 0 when not upgraded */
};

/* "live_job_make": a new job with sequence number seq, tagged (*out) with the layout of the
 * build that made it. Returns 0 or -ENOMEM. */
typedef int (*livex_make_fn)(unsigned long seq, struct hotswap_live_data *out);
/* "live_job_run": run the job (already restored into the current layout); returns 0, or
 * -EPROTO when job->fingerprint is not this build's layout (the host queues it again). */
typedef int (*livex_run_fn)(const struct hotswap_live_data *job, struct livex_result *res);

#endif
