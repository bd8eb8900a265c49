/* SPDX-License-Identifier: BSD-3-Clause */
/* dlsym_aarch64.S - the exported dlsym() and dlvsym(). Each asks pre_dlsym_route() /
 * pre_dlvsym_route() whether the name is a routed plugin function (then returns its
 * trampoline); otherwise it branches to libc's with the daemon's own return address back in
 * x30, which glibc needs to resolve RTLD_NEXT (and RTLD_DEFAULT) relative to the caller.
 * When libc's function could not be found, they return NULL. */
        .text
        .globl  dlsym
        .type   dlsym, %function
        .p2align 4
dlsym:
        hint    #34                     /* bti c */
        stp     x29, x30, [sp, #-32]!
        mov     x29, sp
        stp     x0, x1, [sp, #16]
        bl      pre_dlsym_route
        cbnz    x0, 1f
        ldp     x0, x1, [sp, #16]
        ldp     x29, x30, [sp], #32
        adrp    x16, pre_real_dlsym_ptr
        ldr     x16, [x16, #:lo12:pre_real_dlsym_ptr]
        cbz     x16, 2f
        br      x16
1:      ldp     x29, x30, [sp], #32
        ret
2:      mov     x0, #0
        ret
        .size   dlsym, .-dlsym

        .globl  dlvsym
        .type   dlvsym, %function
        .p2align 4
dlvsym:
        hint    #34                     /* bti c */
        stp     x29, x30, [sp, #-48]!
        mov     x29, sp
        stp     x0, x1, [sp, #16]
        str     x2, [sp, #32]
        bl      pre_dlvsym_route
        cbnz    x0, 1f
        ldp     x0, x1, [sp, #16]
        ldr     x2, [sp, #32]
        ldp     x29, x30, [sp], #48
        adrp    x16, pre_real_dlvsym_ptr
        ldr     x16, [x16, #:lo12:pre_real_dlvsym_ptr]
        cbz     x16, 2f
        br      x16
1:      ldp     x29, x30, [sp], #48
        ret
2:      mov     x0, #0
        ret
        .size   dlvsym, .-dlvsym

        .section .note.GNU-stack,"",%progbits
