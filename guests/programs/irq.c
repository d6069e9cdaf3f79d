/* irq: takes N interrupts of device 0's first IRQ through the IOAPIC and the LAPIC.
 *   args[0]  N, the number of interrupts to wait for
 *   args[1]  trigger mode: 0 edge, 1 level
 *   args[2]  ack mode: 0 none; 1 the handler writes 1 (32-bit) to device 0 region 0 at offset args[3],
 *            which tells a level device to lower its line; 2 the handler writes it and then halts for
 *            good with interrupts off and the interrupt still in service (a stuck guest, for tests of
 *            what the host can read of one)
 *   args[3]  ack register offset (ack modes 1 and 2)
 * Routes irq_gsi[0] to vector 0x30 on this CPU, then sleeps (sti; hlt) until N interrupts were handled.
 * Reports the count and exits 0. Any other vector (but the LAPIC's spurious one): reports the vector and
 * exits 3. */
#include "apic.h"
#include "bootinfo.h"
#include "idt.h"
#include "rt.h"

#define DEVICE_VECTOR 0x30
#define EXIT_UNEXPECTED_VECTOR 3

static volatile uint32_t handled;
static uint32_t ack_mode;
static uint64_t ack_register;

static void device_interrupt(struct trap_frame *f)
{
    (void)f;
    handled++;
    /* Lower a level device's line before the EOI: the EOI lets the IOAPIC deliver the pin again if it is
     * still high. */
    if (ack_mode != 0)
        mmio_write32(ack_register, 1);
    while (ack_mode == 2)
        __asm__ volatile("hlt");
    lapic_eoi();
}

static void unexpected_interrupt(struct trap_frame *f)
{
    report((uint32_t)f->vector);
    exit(EXIT_UNEXPECTED_VECTOR);
}

int main(const struct jvfio_boot_info *boot)
{
    uint32_t wanted = (uint32_t)boot->args[0];
    enum trigger_mode trigger = boot->args[1] == 1 ? TRIGGER_LEVEL : TRIGGER_EDGE;
    const struct jvfio_device *dev = boot_device(boot, 0);
    uint32_t pin = device_irq(dev, 0);

    ack_mode = (uint32_t)boot->args[2];
    if (ack_mode == 1 || ack_mode == 2)
        ack_register = device_region(dev, 0, boot->args[3] + 4) + boot->args[3];
    else if (ack_mode != 0)
        panic("irq: ack mode must be 0, 1 or 2");

    /* Exceptions (0-31) keep the runtime's handler; lapic_enable takes 0xFE (wake tick) and 0xFF (spurious). */
    for (int v = 32; v < LAPIC_SPURIOUS_VECTOR; v++)
        idt_set_handler((uint8_t)v, unexpected_interrupt);
    idt_set_handler(DEVICE_VECTOR, device_interrupt);

    lapic_enable();
    ioapic_route(pin, DEVICE_VECTOR, trigger, (uint8_t)lapic_id());
    ioapic_unmask(pin);

    /* handled is read with interrupts off, and wait_for_interrupt cannot miss one that arrives after the
     * check (see rt.h). */
    while (handled < wanted)
        wait_for_interrupt();

    ioapic_mask(pin);
    report(handled);
    return 0;
}
