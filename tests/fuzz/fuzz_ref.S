/* SPDX-License-Identifier: BSD-3-Clause */
/* fuzz_ref.S - embeds the reference fixture plugin (FUZZ_REF_PATH, set by
 * tests/fuzz/module.mk) into the fuzzer, so that it runs from any folder. */
  .section .rodata
  .balign 16
  .globl fuzz_ref_start
  .globl fuzz_ref_end
fuzz_ref_start:
  .incbin FUZZ_REF_PATH
fuzz_ref_end:
  .byte 0
  .section .note.GNU-stack,"",@progbits
