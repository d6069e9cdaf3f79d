/* eoi-spin: an EOI followed by a run without exits must still end the interrupt (jvfio's irqchip, whose
 * EOIs KVM may queue in its coalesced MMIO ring instead of exiting).
 *   args[0]  GSI of line L (level), routed to vector 0x40
 *   args[1]  GSI of line E (edge), routed to vector 0x41: the same priority class, so E waits behind L
 *   args[2]  the host's port: the guest writes 0 when ready for L, 1 in L's handler (the host raises E,
 *            which must wait: L is in service), 2 in E's handler
 * The wake tick is pushed out to about a minute, so nothing but the host can end the spin below. The
 * guest enables interrupts and writes 0: the host raises L, which is taken at once. L's handler writes
 * 1, sends the EOI and returns; the guest then spins with interrupts enabled on instructions that never
 * exit, until E's handler has run. E arrives only once the irqchip has seen L's EOI; and L's line, which
 * the host still holds high, must not be delivered again unless the host raises it again at that EOI.
 * Reports: L's count, E's count. Exits 0 if each was handled once, else 1; an unexpected vector is
 * reported and exits 3. */
#include "apic.h"
#include "bootinfo.h"
#include "idt.h"
#include "rt.h"

#define LEVEL_VECTOR 0x40
#define EDGE_VECTOR 0x41
#define EXIT_UNEXPECTED_VECTOR 3
/* About 68 s of the LAPIC timer (divided by 16 at 1 GHz): the tick never ends the spin in a test. */
#define WAKE_TICK_FAR_AWAY 0xFFFFFFFFu

static volatile uint32_t level_handled;
static volatile uint32_t edge_handled;
static uint16_t host_port;

static void level_interrupt(struct trap_frame *f)
{
    (void)f;
    level_handled++;
    outb(host_port, 1);
    lapic_eoi();
}

static void edge_interrupt(struct trap_frame *f)
{
    (void)f;
    edge_handled++;
    outb(host_port, 2);
    lapic_eoi();
}

static void unexpected_interrupt(struct trap_frame *f)
{
    report((uint32_t)f->vector);
    exit(EXIT_UNEXPECTED_VECTOR);
}

int main(const struct jvfio_boot_info *boot)
{
    uint32_t level_pin = (uint32_t)boot->args[0];
    uint32_t edge_pin = (uint32_t)boot->args[1];
    host_port = (uint16_t)boot->args[2];

    for (int v = 32; v < LAPIC_SPURIOUS_VECTOR; v++)
        idt_set_handler((uint8_t)v, unexpected_interrupt);
    idt_set_handler(LEVEL_VECTOR, level_interrupt);
    idt_set_handler(EDGE_VECTOR, edge_interrupt);

    lapic_enable();
    lapic_timer_oneshot(LAPIC_WAKE_TICK_VECTOR, WAKE_TICK_FAR_AWAY);
    ioapic_route(level_pin, LEVEL_VECTOR, TRIGGER_LEVEL, (uint8_t)lapic_id());
    ioapic_route(edge_pin, EDGE_VECTOR, TRIGGER_EDGE, (uint8_t)lapic_id());
    ioapic_unmask(level_pin);
    ioapic_unmask(edge_pin);

    __asm__ volatile("sti" : : : "memory");
    outb(host_port, 0);
    while (edge_handled == 0)
        __asm__ volatile("pause" : : : "memory");
    __asm__ volatile("cli" : : : "memory");

    ioapic_mask(level_pin);
    ioapic_mask(edge_pin);
    report(level_handled);
    report(edge_handled);
    return level_handled == 1 && edge_handled == 1 ? 0 : 1;
}
