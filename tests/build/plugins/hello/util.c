/* SPDX-License-Identifier: BSD-3-Clause */
/* util.c - fixture: a live function whose name is not lowercase. */
int LIVE_Twice(int x);
int LIVE_Twice(int x) { return 2 * x; }
