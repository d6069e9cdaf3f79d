/* Entry point. The machine enters here in 64-bit long mode, ring 0, interrupts off, RSP = 0x80000 and
 * RDI = the boot-info struct's address (../README.md). */
    .section .text.start, "ax"
    .code64
    .globl _start
_start:
    mov     %rdi, %r12              /* the boot info; r12 survives rep stos and C calls */

    /* Zero the BSS: nothing else does (the loader may not). The linker script aligns both ends to 16,
     * and everything sits below 4 GiB, so 32-bit moves of the addresses are exact. */
    mov     $__bss_start, %edi
    mov     $__bss_end, %ecx
    sub     %edi, %ecx
    shr     $3, %ecx
    xor     %eax, %eax
    cld
    rep stosq

    /* The ABI wants RSP 16-byte aligned at each call; 0x80000 is, but do not rely on it. */
    and     $-16, %rsp

    mov     %r12, %rdi
    call    rt_init                 /* IDT with exception handlers, boot-info check */

    mov     %r12, %rdi
    call    main                    /* int main(const struct jvfio_boot_info *boot) */

    mov     %eax, %edi
    call    exit                    /* main's return value is the exit code; does not return */
    ud2

    .section .note.GNU-stack, "", @progbits
