/* SPDX-License-Identifier: BSD-3-Clause */
/* dlsym_x86_64.S - the exported dlsym() and dlvsym(). Each asks pre_dlsym_route() /
 * pre_dlvsym_route() whether the name is a routed plugin function (then returns its
 * trampoline); otherwise it tail-jumps to libc's with the daemon's own return address still
 * on the stack, which glibc needs to resolve RTLD_NEXT (and RTLD_DEFAULT) relative to the
 * caller. When libc's function could not be found, they return NULL. */
        .text
        .globl  dlsym
        .type   dlsym, @function
        .p2align 4
dlsym:
        endbr64                         /* an indirect-branch target on CET/IBT hosts */
        push    %rdi
        push    %rsi
        sub     $8, %rsp                /* 16-byte alignment for the call */
        call    pre_dlsym_route
        add     $8, %rsp
        pop     %rsi
        pop     %rdi
        test    %rax, %rax
        jnz     1f
        mov     pre_real_dlsym_ptr(%rip), %rax
        test    %rax, %rax
        jz      1f
        jmp     *%rax
1:      ret
        .size   dlsym, .-dlsym

        .globl  dlvsym
        .type   dlvsym, @function
        .p2align 4
dlvsym:
        endbr64
        push    %rdi
        push    %rsi
        push    %rdx                    /* three pushes: the stack is 16-byte aligned */
        call    pre_dlvsym_route
        pop     %rdx
        pop     %rsi
        pop     %rdi
        test    %rax, %rax
        jnz     1f
        mov     pre_real_dlvsym_ptr(%rip), %rax
        test    %rax, %rax
        jz      1f
        jmp     *%rax
1:      ret
        .size   dlvsym, .-dlvsym

        .section .note.GNU-stack,"",@progbits
