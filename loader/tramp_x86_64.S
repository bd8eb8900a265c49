/* SPDX-License-Identifier: BSD-3-Clause */
/* tramp_x86_64.S - the pool of LDR_TRAMP_MAX prebuilt x86-64 trampolines (no runtime code
 * generation). Trampoline i loads the current generation pointer and tail-jumps through
 * slot i of its targets[]; only %r11 (a scratch register in the SysV ABI, clobbered by the
 * PLT too) is touched, so every signature passes through unchanged: integer and vector
 * argument registers, %al of variadic calls, stack arguments, the hidden struct-return
 * pointer, and the return address (a tail jump: the target returns to our caller).
 *
 * There are exactly LDR_TRAMP_MAX of them: past that, ldr_gen_set returns HOTSWAP_ENOSLOT
 * and the lifecycle refuses the reload. tramp.c only hands out trampoline i once the
 * committed generation has n > i, so a call never indexes past the end of targets[].
 */
#include "loader/tramp.h"

	.hidden ldr_tramp_gen                /* struct ldr_gen *, defined in tramp.c */

	.section .text.hotswap_tramp, "ax", @progbits  /* read-only, executable */
	.p2align 12
	.globl ldr_tramp_base
	.hidden ldr_tramp_base
	.type ldr_tramp_base, @function
ldr_tramp_base:
	.set .Lslot, 0
	.rept LDR_TRAMP_MAX
	.p2align 5, 0xcc                     /* LDR_TRAMP_SIZE: 18 code bytes, then int3 */
	endbr64                              /* an indirect-branch target on CET/IBT hosts */
	movq ldr_tramp_gen(%rip), %r11       /* acquire load: a plain mov on x86-64 (TSO) */
	jmpq *(LDR_GEN_TARGETS_OFFSET + 8 * .Lslot)(%r11)
	.set .Lslot, .Lslot + 1
	.endr
	.p2align 5, 0xcc
	.globl ldr_tramp_end
	.hidden ldr_tramp_end
ldr_tramp_end:
	.size ldr_tramp_base, ldr_tramp_end - ldr_tramp_base

	/* No executable stack wanted. */
	.section .note.GNU-stack, "", @progbits
