/* The IDT and the C side of the interrupt stubs (isr.S). */
#include "idt.h"

#include "rt.h"

#define KERNEL_CS 0x08           /* the machine's 64-bit code segment */
#define GATE_INTERRUPT 0x8E      /* present, DPL 0, 64-bit interrupt gate (clears IF on entry) */

struct idt_gate {
    uint16_t offset_low;
    uint16_t selector;
    uint8_t ist;
    uint8_t type_attr;
    uint16_t offset_mid;
    uint32_t offset_high;
    uint32_t reserved;
};
_Static_assert(sizeof(struct idt_gate) == 16, "64-bit IDT gate is 16 bytes");

struct idt_pointer {
    uint16_t limit;
    uint64_t base;
} __attribute__((packed));

extern const uint64_t isr_stub_table[256];

static struct idt_gate idt[256] __attribute__((aligned(16)));
static trap_handler handlers[256];

static const char *const exception_names[32] = {
    "#DE divide error", "#DB debug", "NMI", "#BP breakpoint", "#OF overflow", "#BR bound range",
    "#UD invalid opcode", "#NM device not available", "#DF double fault", "coprocessor segment overrun",
    "#TS invalid TSS", "#NP segment not present", "#SS stack fault", "#GP general protection",
    "#PF page fault", "reserved", "#MF x87 error", "#AC alignment check", "#MC machine check",
    "#XM SIMD error", "#VE virtualization", "#CP control protection",
};

void idt_init(void)
{
    for (int v = 0; v < 256; v++) {
        uint64_t stub = isr_stub_table[v];
        idt[v].offset_low = (uint16_t)stub;
        idt[v].selector = KERNEL_CS;
        idt[v].ist = 0;
        idt[v].type_attr = GATE_INTERRUPT;
        idt[v].offset_mid = (uint16_t)(stub >> 16);
        idt[v].offset_high = (uint32_t)(stub >> 32);
        idt[v].reserved = 0;
    }
    struct idt_pointer idtr = { sizeof(idt) - 1, (uint64_t)(uintptr_t)idt };
    __asm__ volatile("lidt %0" : : "m"(idtr) : "memory");
}

void idt_set_handler(uint8_t vector, trap_handler handler)
{
    handlers[vector] = handler;
}

static void unhandled(const struct trap_frame *f)
{
    if (f->vector < 32) {
        print("exception ");
        print_dec(f->vector);
        if (exception_names[f->vector] != 0) {
            print(" (");
            print(exception_names[f->vector]);
            print(")");
        }
        print(" error ");
        print_hex(f->error_code);
        print(" rip ");
        print_hex(f->rip);
        if (f->vector == 14) {
            uint64_t cr2;
            __asm__ volatile("mov %%cr2, %0" : "=r"(cr2));
            print(" address ");
            print_hex(cr2);
        }
        print("\n");
        exit(EXIT_EXCEPTION(f->vector));
    }
    print("unhandled interrupt vector ");
    print_dec(f->vector);
    print(" rip ");
    print_hex(f->rip);
    print("\n");
    exit(EXIT_UNHANDLED_IRQ(f->vector));
}

/* Called by isr_common with interrupts disabled. */
void idt_dispatch(struct trap_frame *f);

void idt_dispatch(struct trap_frame *f)
{
    trap_handler h = handlers[f->vector & 0xff];
    if (h != 0)
        h(f);
    else
        unhandled(f);
}
