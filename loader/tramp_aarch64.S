/* SPDX-License-Identifier: BSD-3-Clause */
/* tramp_aarch64.S - the pool of LDR_TRAMP_MAX prebuilt AArch64 trampolines (no runtime code
 * generation, so no instruction-cache maintenance). Trampoline i loads the current
 * generation pointer and branches through slot i of its targets[]; only x16 (IP0, the
 * intra-procedure-call scratch register the PLT clobbers too) is touched, so every
 * signature passes through unchanged: x0-x7, v0-v7, x8 (the indirect-result pointer),
 * stack arguments, and x30 (a tail branch: the target returns to our caller).
 *
 *   bti c                       landing pad for BTI hosts (a hint: a no-op elsewhere); the
 *                               target's own "bti c" accepts a br through x16
 *   adrp x16, ldr_tramp_gen     the page of the generation pointer
 *   ldr  x16, [x16, :lo12:...]  the generation (ordered before the next load by the
 *                               address dependency: a consume, as an acquire needs here)
 *   add  x16, x16, #hi, lsl 12  offset of targets[i], above 4 KiB (ldr's immediate reaches
 *   ldr  x16, [x16, #lo]        32 KiB only; 16384 slots need 128 KiB)
 *   br   x16
 *
 * Return addresses are signed (PAC) by the target's own prologue against the caller's x30
 * and sp, which a tail branch leaves as they were. 24 code bytes per 32-byte slot (the
 * rest: brk #0). tramp.c only hands out trampoline i once the committed generation has
 * n > i, so a call never indexes past the end of targets[].
 */
#include "loader/tramp.h"

	.hidden ldr_tramp_gen                /* struct ldr_gen *, defined in tramp.c */

	.section .text.hotswap_tramp, "ax", %progbits  /* read-only, executable */
	.p2align 12
	.globl ldr_tramp_base
	.hidden ldr_tramp_base
	.type ldr_tramp_base, %function
ldr_tramp_base:
	.set .Lslot, 0
	.rept LDR_TRAMP_MAX
	.set .Loff, LDR_GEN_TARGETS_OFFSET + 8 * .Lslot
	hint #34                             /* bti c */
	adrp x16, ldr_tramp_gen
	ldr x16, [x16, #:lo12:ldr_tramp_gen]
	add x16, x16, #(.Loff >> 12), lsl #12
	ldr x16, [x16, #(.Loff & 0xfff)]
	br x16
	brk #0
	brk #0
	.set .Lslot, .Lslot + 1
	.endr
	.globl ldr_tramp_end
	.hidden ldr_tramp_end
ldr_tramp_end:
	.size ldr_tramp_base, ldr_tramp_end - ldr_tramp_base

	/* No executable stack wanted. */
	.section .note.GNU-stack, "", %progbits
