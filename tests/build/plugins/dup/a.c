/* SPDX-License-Identifier: BSD-3-Clause */
/* a.c - fixture: 'live_Count' clashes with b.c's 'LIVE_count' (names are case-insensitive). */
int live_Count(void);
int live_Count(void) { return 1; }
