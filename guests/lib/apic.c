/* LAPIC and IOAPIC programming: the few registers the guests need. */
#include "apic.h"

#include "idt.h"
#include "rt.h"

#define MSR_APIC_BASE 0x1B
#define MSR_APIC_BASE_ENABLE (1ULL << 11)

/* LAPIC registers (offsets from LAPIC_BASE, all 32-bit). */
#define LAPIC_ID 0x020
#define LAPIC_TPR 0x080
#define LAPIC_EOI 0x0B0
#define LAPIC_SVR 0x0F0
#define LAPIC_LVT_TIMER 0x320
#define LAPIC_LVT_LINT0 0x350
#define LAPIC_LVT_LINT1 0x360
#define LAPIC_TIMER_INITIAL 0x380
#define LAPIC_TIMER_DIVIDE 0x3E0

#define LAPIC_SVR_ENABLE (1u << 8)
#define LAPIC_LVT_MASKED (1u << 16)
#define LAPIC_TIMER_DIVIDE_16 0x3
#define LAPIC_TIMER_PERIODIC (1u << 17)
/* KVM's LAPIC bus runs at 1 GHz: divided by 16, 625000 ticks are 10 ms. */
#define WAKE_TICK_COUNT 625000u

/* IOAPIC: an index register and a data window; redirection entry n is registers 0x10+2n (low half) and
 * 0x11+2n (high half). */
#define IOAPIC_REGSEL 0x00
#define IOAPIC_WINDOW 0x10
#define IOAPIC_VERSION 0x01
#define IOAPIC_REDIR(pin) (0x10u + 2u * (pin))

#define IOAPIC_LEVEL (1u << 15)
#define IOAPIC_MASKED (1u << 16)

static uint32_t lapic_read(uint32_t reg) { return mmio_read32(LAPIC_BASE + reg); }
static void lapic_write(uint32_t reg, uint32_t v) { mmio_write32(LAPIC_BASE + reg, v); }

static uint32_t ioapic_read(uint32_t reg)
{
    mmio_write32(IOAPIC_BASE + IOAPIC_REGSEL, reg);
    return mmio_read32(IOAPIC_BASE + IOAPIC_WINDOW);
}

static void ioapic_write(uint32_t reg, uint32_t v)
{
    mmio_write32(IOAPIC_BASE + IOAPIC_REGSEL, reg);
    mmio_write32(IOAPIC_BASE + IOAPIC_WINDOW, v);
}

/* A spurious interrupt needs no EOI: ignore it. */
static void spurious(struct trap_frame *f)
{
    (void)f;
}

/* Only wakes a hlt: the loop around wait_for_interrupt re-checks what it waits for. */
static void wake_tick(struct trap_frame *f)
{
    (void)f;
    lapic_eoi();
}

void lapic_enable(void)
{
    /* KVM starts vCPU 0 with the PIC wired to LINT0 as ExtINT (virtual-wire mode, as a BIOS leaves it).
     * An unprogrammed PIC would deliver vectors 0-7, which look like exceptions: mask it on both sides.
     * Writing the data port of an uninitialized 8259 sets its interrupt mask. */
    outb(0x21, 0xFF);
    outb(0xA1, 0xFF);

    uint64_t base = rdmsr(MSR_APIC_BASE);
    if ((base & MSR_APIC_BASE_ENABLE) == 0)
        wrmsr(MSR_APIC_BASE, base | MSR_APIC_BASE_ENABLE);

    idt_set_handler(LAPIC_SPURIOUS_VECTOR, spurious);
    lapic_write(LAPIC_LVT_LINT0, LAPIC_LVT_MASKED);
    lapic_write(LAPIC_LVT_LINT1, LAPIC_LVT_MASKED);
    lapic_write(LAPIC_TPR, 0);
    lapic_write(LAPIC_SVR, LAPIC_SVR_ENABLE | LAPIC_SPURIOUS_VECTOR);

    idt_set_handler(LAPIC_WAKE_TICK_VECTOR, wake_tick);
    lapic_write(LAPIC_TIMER_DIVIDE, LAPIC_TIMER_DIVIDE_16);
    lapic_write(LAPIC_LVT_TIMER, LAPIC_TIMER_PERIODIC | LAPIC_WAKE_TICK_VECTOR);
    lapic_write(LAPIC_TIMER_INITIAL, WAKE_TICK_COUNT);
}

uint32_t lapic_id(void)
{
    return lapic_read(LAPIC_ID) >> 24;
}

void lapic_eoi(void)
{
    lapic_write(LAPIC_EOI, 0);
}

void lapic_timer_oneshot(uint8_t vector, uint32_t count)
{
    lapic_write(LAPIC_TIMER_DIVIDE, LAPIC_TIMER_DIVIDE_16);
    lapic_write(LAPIC_LVT_TIMER, vector); /* one-shot mode, unmasked */
    lapic_write(LAPIC_TIMER_INITIAL, count); /* writing the count starts the timer */
}

uint32_t ioapic_pin_count(void)
{
    return ((ioapic_read(IOAPIC_VERSION) >> 16) & 0xff) + 1;
}

void ioapic_route(uint32_t pin, uint8_t vector, enum trigger_mode trigger, uint8_t dest)
{
    if (pin >= ioapic_pin_count())
        panic("ioapic_route: no such IOAPIC pin");
    /* Mask first so the pin never fires with a half-written entry. Delivery mode fixed (0), physical
     * destination (0), active high (polarity bit 13 = 0). */
    uint32_t low = IOAPIC_MASKED | vector | (trigger == TRIGGER_LEVEL ? IOAPIC_LEVEL : 0);
    ioapic_write(IOAPIC_REDIR(pin), IOAPIC_MASKED);
    ioapic_write(IOAPIC_REDIR(pin) + 1, (uint32_t)dest << 24);
    ioapic_write(IOAPIC_REDIR(pin), low);
}

void ioapic_mask(uint32_t pin)
{
    ioapic_write(IOAPIC_REDIR(pin), ioapic_read(IOAPIC_REDIR(pin)) | IOAPIC_MASKED);
}

void ioapic_unmask(uint32_t pin)
{
    ioapic_write(IOAPIC_REDIR(pin), ioapic_read(IOAPIC_REDIR(pin)) & ~IOAPIC_MASKED);
}
