/* One entry stub per vector, and the common path that saves the registers, calls idt_dispatch and iretq's.
 * Each stub pushes a 0 where the CPU pushes no error code, so every frame has the same shape
 * (struct trap_frame in idt.h). isr_stub_table[v] is the address of vector v's stub. */
    .code64

    .section .rodata
    .balign 8
    .globl isr_stub_table
isr_stub_table:

    .text
    vector = 0
    .rept 256
    .balign 16
1:
    /* Vectors for which the CPU pushes an error code: #DF #TS #NP #SS #GP #PF #AC #CP #VC #SX. */
    .if vector == 8 || vector == 10 || vector == 11 || vector == 12 || vector == 13 || vector == 14 || vector == 17 || vector == 21 || vector == 29 || vector == 30
    .else
    pushq   $0
    .endif
    pushq   $vector
    jmp     isr_common
    .pushsection .rodata
    .quad   1b
    .popsection
    vector = vector + 1
    .endr

isr_common:
    push    %rax
    push    %rbx
    push    %rcx
    push    %rdx
    push    %rsi
    push    %rdi
    push    %rbp
    push    %r8
    push    %r9
    push    %r10
    push    %r11
    push    %r12
    push    %r13
    push    %r14
    push    %r15

    mov     %rsp, %rdi              /* struct trap_frame * */
    mov     %rsp, %rbx              /* callee-saved: where to come back to */
    and     $-16, %rsp              /* the ABI's alignment for the call, whatever the interrupted RSP was */
    cld                             /* the ABI's direction flag for C */
    call    idt_dispatch
    mov     %rbx, %rsp

    pop     %r15
    pop     %r14
    pop     %r13
    pop     %r12
    pop     %r11
    pop     %r10
    pop     %r9
    pop     %r8
    pop     %rbp
    pop     %rdi
    pop     %rsi
    pop     %rdx
    pop     %rcx
    pop     %rbx
    pop     %rax
    add     $16, %rsp               /* vector and error code */
    iretq

    .section .note.GNU-stack, "", @progbits
