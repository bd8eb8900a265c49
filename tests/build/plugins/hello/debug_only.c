/* SPDX-License-Identifier: BSD-3-Clause */
/* debug_only.c - fixture: left out by --exclude/--include in tests/build. */
int live_debug_dump(void);
int live_debug_dump(void) { return 7; }
