/* SPDX-License-Identifier: BSD-3-Clause */
/* broken.c - fixture: does not compile. */
int broken(void) { return undeclared_thing; }
