/* dlsym_x86_64.S - the exported dlsym(). Asks pre_dlsym_route() whether the name is a
 * routed plugin function (then returns its trampoline); otherwise tail-jumps to the real
 * dlsym with the daemon's own return address still on the stack, which glibc needs to
 * resolve RTLD_NEXT relative to the caller. */
        .text
        .globl  dlsym
        .type   dlsym, @function
        .p2align 4
dlsym:
        push    %rdi
        push    %rsi
        sub     $8, %rsp                /* 16-byte alignment for the call */
        call    pre_dlsym_route
        add     $8, %rsp
        pop     %rsi
        pop     %rdi
        test    %rax, %rax
        jnz     1f
        jmp     *pre_real_dlsym_ptr(%rip)
1:      ret
        .size   dlsym, .-dlsym

        .section .note.GNU-stack,"",@progbits
