/* SPDX-License-Identifier: BSD-3-Clause */
/* b.c - fixture: see a.c. */
int LIVE_count = 2;
