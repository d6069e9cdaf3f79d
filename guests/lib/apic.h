/* The local APIC (0xFEE00000) and the IOAPIC (0xFEC00000, 24 pins = GSIs) of KVM's in-kernel irqchip. */
#ifndef JVFIO_APIC_H
#define JVFIO_APIC_H

#include <stdint.h>

#define LAPIC_BASE 0xFEE00000ULL
#define IOAPIC_BASE 0xFEC00000ULL
#define LAPIC_SPURIOUS_VECTOR 0xFF

enum trigger_mode { TRIGGER_EDGE = 0, TRIGGER_LEVEL = 1 };

#define LAPIC_WAKE_TICK_VECTOR 0xFE

/* Masks the legacy 8259 PICs and LINT0/LINT1, then software-enables the LAPIC with spurious vector 0xFF
 * (handled as a no-op) and task priority 0. Needs idt_init first (start.S does it).
 * It also starts the wake tick: the LAPIC timer, periodic every 10 ms on vector 0xFE, whose handler only
 * sends the EOI. sti; hlt cannot miss an interrupt on correct hardware, yet under nested KVM on an
 * emulated CPU a guest has been seen halted for good after its interrupt was handled and ended; the tick
 * bounds such a lost wakeup to 10 ms. It cannot hide a lost device interrupt: the loop around
 * wait_for_interrupt still waits for its count. */
void lapic_enable(void);

/* The LAPIC ID of this CPU (0 for the machine's vCPU 0). */
uint32_t lapic_id(void);

/* End of interrupt: for a level-triggered IOAPIC pin this also lets the IOAPIC deliver it again. */
void lapic_eoi(void);

/* Delivers vector once after count ticks of the LAPIC timer (bus clock divided by 16), replacing the
 * wake tick. */
void lapic_timer_oneshot(uint8_t vector, uint32_t count);

/* Number of IOAPIC pins (from its version register). */
uint32_t ioapic_pin_count(void);

/* Routes pin to vector on the CPU with LAPIC ID dest: fixed delivery, physical destination, active high,
 * edge or level. The pin is left masked: unmask it once its handler is registered. */
void ioapic_route(uint32_t pin, uint8_t vector, enum trigger_mode trigger, uint8_t dest);
void ioapic_mask(uint32_t pin);
void ioapic_unmask(uint32_t pin);

#endif
