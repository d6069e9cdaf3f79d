/* A 64-bit IDT of interrupt gates: one assembly stub per vector (isr.S) saves every general register and
 * calls idt_dispatch, which calls the handler registered for the vector. */
#ifndef JVFIO_IDT_H
#define JVFIO_IDT_H

#include <stdint.h>

/* What a stub leaves on the stack, lowest address first: the registers it pushed, the vector, the error
 * code (0 for vectors without one), then the CPU's interrupt frame. */
struct trap_frame {
    uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
    uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
    uint64_t vector, error_code;
    uint64_t rip, cs, rflags, rsp, ss;
};

typedef void (*trap_handler)(struct trap_frame *frame);

/* Loads the IDT. Without a handler, exceptions 0-31 print vector, error code and RIP and exit with
 * EXIT_EXCEPTION(vector); other vectors print and exit with EXIT_UNHANDLED_IRQ(vector). start.S calls this
 * before main. */
void idt_init(void);

/* Registers handler for vector (0 removes it). The handler runs with interrupts disabled; for a LAPIC
 * interrupt it must send the EOI itself (lapic_eoi). */
void idt_set_handler(uint8_t vector, trap_handler handler);

#endif
