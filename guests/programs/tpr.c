/* tpr: CR8 is the LAPIC's task-priority class (SDM 10.8.6.1), and an interrupt of a class at or below it
 * waits. With interrupts enabled the guest sets CR8 to 5 and reads the TPR, sends itself vector 0x40
 * (class 4) and spins a while; then lowers CR8 to 0 and waits for the interrupt; then writes the TPR
 * through the LAPIC and reads CR8, twice.
 * Reports: the TPR after CR8 = 5, the count of 0x40 taken while CR8 was 5, the count after CR8 = 0, CR8
 * after TPR = 0x60, CR8 after TPR = 0. Exits 0; an unexpected vector is reported, exit 3. */
#include "apic.h"
#include "bootinfo.h"
#include "idt.h"
#include "rt.h"

#define HELD_VECTOR 0x40
#define HELD_CLASS 5
#define EXIT_UNEXPECTED_VECTOR 3
#define LAPIC_TPR 0x080
#define LAPIC_ICR_LOW 0x300
#define ICR_SELF (1u << 18)
/* Long enough for an interrupt let in by mistake to arrive, whether at the next entry or within the
 * emulator's next batch of instructions. */
#define HOLD_SPINS 100000

static volatile uint32_t handled;

static void held_interrupt(struct trap_frame *f)
{
    (void)f;
    handled++;
    lapic_eoi();
}

static void unexpected_interrupt(struct trap_frame *f)
{
    report((uint32_t)f->vector);
    exit(EXIT_UNEXPECTED_VECTOR);
}

static inline void write_cr8(uint64_t v) { __asm__ volatile("mov %0, %%cr8" : : "r"(v) : "memory"); }

static inline uint64_t read_cr8(void)
{
    uint64_t v;
    __asm__ volatile("mov %%cr8, %0" : "=r"(v));
    return v;
}

int main(const struct jvfio_boot_info *boot)
{
    (void)boot;
    for (int v = 32; v < LAPIC_WAKE_TICK_VECTOR; v++)
        idt_set_handler((uint8_t)v, unexpected_interrupt);
    idt_set_handler(HELD_VECTOR, held_interrupt);
    lapic_enable();

    write_cr8(HELD_CLASS);
    report(mmio_read32(LAPIC_BASE + LAPIC_TPR));
    __asm__ volatile("sti" : : : "memory");
    mmio_write32(LAPIC_BASE + LAPIC_ICR_LOW, ICR_SELF | HELD_VECTOR);
    for (int i = 0; i < HOLD_SPINS; i++)
        __asm__ volatile("pause" : : : "memory");
    report(handled);

    write_cr8(0);
    while (!handled)
        wait_for_interrupt();
    report(handled);

    mmio_write32(LAPIC_BASE + LAPIC_TPR, 0x60);
    report((uint32_t)read_cr8());
    mmio_write32(LAPIC_BASE + LAPIC_TPR, 0);
    report((uint32_t)read_cr8());
    __asm__ volatile("cli" : : : "memory");
    return 0;
}
