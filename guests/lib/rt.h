/* The guest runtime: port and MMIO access, the console, the host's report list and exit port, mem*.
 * Guests are entered in 64-bit long mode by jvfio's machine; see ../README.md for the contract. */
#ifndef JVFIO_RT_H
#define JVFIO_RT_H

#include <stddef.h>
#include <stdint.h>

/* Ports the machine implements. */
#define PORT_CONSOLE 0x3F8 /* outb: one byte of console text (COM1, a 16550A: THR needs no setup) */
#define PORT_EXIT    0x501 /* outl: the exit code; the vCPU stops */
#define PORT_REPORT  0x502 /* outl: appends a value to the list the host test reads */

/* Exit codes the runtime itself uses; a guest's own codes are small numbers. */
#define EXIT_PANIC 255
#define EXIT_EXCEPTION(vector) (0x100u + (vector))       /* CPU exception 0-31 without a handler */
#define EXIT_UNHANDLED_IRQ(vector) (0x200u + (vector))   /* interrupt 32-255 without a handler */

static inline void outb(uint16_t port, uint8_t v) { __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port)); }
static inline void outw(uint16_t port, uint16_t v) { __asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port)); }
static inline void outl(uint16_t port, uint32_t v) { __asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port)); }

static inline uint8_t inb(uint16_t port)
{
    uint8_t v;
    __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

static inline uint16_t inw(uint16_t port)
{
    uint16_t v;
    __asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

static inline uint32_t inl(uint16_t port)
{
    uint32_t v;
    __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

/* MMIO: each call is exactly one mov of the named width, so the host sees one access of that size (a
 * plain volatile access could be merged into a read-modify-write instruction or split). The "memory"
 * clobber keeps the compiler from moving other memory accesses across it. */
#define MMIO_PTR(type, addr) ((volatile type *)(uintptr_t)(addr))

static inline uint8_t mmio_read8(uint64_t addr)
{
    uint8_t v;
    __asm__ volatile("movb %1, %0" : "=r"(v) : "m"(*MMIO_PTR(uint8_t, addr)) : "memory");
    return v;
}

static inline uint16_t mmio_read16(uint64_t addr)
{
    uint16_t v;
    __asm__ volatile("movw %1, %0" : "=r"(v) : "m"(*MMIO_PTR(uint16_t, addr)) : "memory");
    return v;
}

static inline uint32_t mmio_read32(uint64_t addr)
{
    uint32_t v;
    __asm__ volatile("movl %1, %0" : "=r"(v) : "m"(*MMIO_PTR(uint32_t, addr)) : "memory");
    return v;
}

static inline uint64_t mmio_read64(uint64_t addr)
{
    uint64_t v;
    __asm__ volatile("movq %1, %0" : "=r"(v) : "m"(*MMIO_PTR(uint64_t, addr)) : "memory");
    return v;
}

static inline void mmio_write8(uint64_t addr, uint8_t v)
{
    __asm__ volatile("movb %1, %0" : "=m"(*MMIO_PTR(uint8_t, addr)) : "r"(v) : "memory");
}

static inline void mmio_write16(uint64_t addr, uint16_t v)
{
    __asm__ volatile("movw %1, %0" : "=m"(*MMIO_PTR(uint16_t, addr)) : "r"(v) : "memory");
}

static inline void mmio_write32(uint64_t addr, uint32_t v)
{
    __asm__ volatile("movl %1, %0" : "=m"(*MMIO_PTR(uint32_t, addr)) : "r"(v) : "memory");
}

static inline void mmio_write64(uint64_t addr, uint64_t v)
{
    __asm__ volatile("movq %1, %0" : "=m"(*MMIO_PTR(uint64_t, addr)) : "r"(v) : "memory");
}

static inline uint64_t rdmsr(uint32_t msr)
{
    uint32_t lo, hi;
    __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
    return ((uint64_t)hi << 32) | lo;
}

static inline void wrmsr(uint32_t msr, uint64_t v)
{
    __asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)) : "memory");
}

/* Sleeps until an interrupt has been handled, and returns with interrupts disabled again. sti holds
 * interrupts off for one more instruction, so one that is pending here is taken in hlt, never lost between
 * the caller's check and the hlt. Use it in a loop: while (!done) wait_for_interrupt(); Busy-waiting with
 * interrupts on is slow here: the emulator takes a pending interrupt only about every 1000 instructions.
 * lapic_enable's wake tick ends a hlt at least every 10 ms (apic.h says why). */
static inline void wait_for_interrupt(void)
{
    __asm__ volatile("sti; hlt; cli" : : : "memory");
}

/* Console (port 0x3F8). */
void console_putc(char c);
void print(const char *s);
void print_hex(uint64_t v);   /* "0x1f" */
void print_dec(uint64_t v);   /* "31" */

/* Appends v to the host's report list. */
static inline void report(uint32_t v) { outl(PORT_REPORT, v); }

/* Stops the machine with this exit code; does not return. */
__attribute__((noreturn)) void exit(uint32_t code);
/* Prints "panic: MSG" and exits with EXIT_PANIC. */
__attribute__((noreturn)) void panic(const char *msg);

#define STRINGIFY_(x) #x
#define STRINGIFY(x) STRINGIFY_(x)
#define ASSERT(cond) \
    do { \
        if (!(cond)) panic(__FILE__ ":" STRINGIFY(__LINE__) ": assertion failed: " #cond); \
    } while (0)

/* gcc may emit calls to these for struct copies even in freestanding code. */
void *memcpy(void *restrict dst, const void *restrict src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);

#endif
