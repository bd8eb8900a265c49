/* SPDX-License-Identifier: BSD-3-Clause */
/* fx_selfbind.c - a plugin whose exported functions call each other, to show that a new
 * version's internal calls reach that same version even when another version of the same
 * symbols sits in the global scope. Built lazy, -z now/-z relro and -fno-plt.
 *
 *   SB_NAME     symbol prefix (required)   SB_VERSION  what <SB_NAME>_inner returns
 */
#if !defined(SB_NAME) || !defined(SB_VERSION)
#error "define SB_NAME and SB_VERSION"
#endif
#define SB_CAT_(a, b) a##_##b
#define SB_CAT(a, b) SB_CAT_(a, b)
#define SB_SYM(s) SB_CAT(SB_NAME, s)

int SB_SYM(inner)(void);
int SB_SYM(inner2)(void);
int SB_SYM(answer)(void);
int SB_SYM(ptr_answer)(void);
int (*SB_SYM(inner_addr)(void))(void);

/* Exported and interposable: other exported functions reach them through the GOT. inner is
 * only called (a JUMP_SLOT entry in a lazy build), inner2 only has its address taken (a
 * GLOB_DAT entry): ld merges the two kinds into one GLOB_DAT when a symbol has both. */
int SB_SYM(inner)(void) { return SB_VERSION; }
int SB_SYM(inner2)(void) { return SB_VERSION; }

/* 10 * inner() + own version: 22 when v2 reaches v2's inner, 12 when it reaches v1's. */
int SB_SYM(answer)(void) { return 10 * SB_SYM(inner)() + SB_VERSION; }

/* The address of inner2 comes from a GLOB_DAT entry. */
int (*SB_SYM(inner_addr)(void))(void) { return &SB_SYM(inner2); }

int SB_SYM(ptr_answer)(void) {
  int (*volatile f)(void) = &SB_SYM(inner2);
  return 10 * f() + SB_VERSION;
}
