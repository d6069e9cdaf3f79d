/* The local APIC (0xFEE00000) and the IOAPIC (0xFEC00000, 24 pins = GSIs) of KVM's in-kernel irqchip. */
#ifndef JVFIO_APIC_H
#define JVFIO_APIC_H

#include <stdint.h>

#define LAPIC_BASE 0xFEE00000ULL
#define IOAPIC_BASE 0xFEC00000ULL
#define LAPIC_SPURIOUS_VECTOR 0xFF

enum trigger_mode { TRIGGER_EDGE = 0, TRIGGER_LEVEL = 1 };

/* Masks the legacy 8259 PICs and LINT0/LINT1, then software-enables the LAPIC with spurious vector 0xFF
 * (handled as a no-op) and task priority 0. Needs idt_init first (start.S does it). */
void lapic_enable(void);

/* The LAPIC ID of this CPU (0 for the machine's vCPU 0). */
uint32_t lapic_id(void);

/* End of interrupt: for a level-triggered IOAPIC pin this also lets the IOAPIC deliver it again. */
void lapic_eoi(void);

/* Delivers vector once after count ticks of the LAPIC timer (bus clock divided by 16). */
void lapic_timer_oneshot(uint8_t vector, uint32_t count);

/* Number of IOAPIC pins (from its version register). */
uint32_t ioapic_pin_count(void);

/* Routes pin to vector on the CPU with LAPIC ID dest: fixed delivery, physical destination, active high,
 * edge or level. The pin is left masked: unmask it once its handler is registered. */
void ioapic_route(uint32_t pin, uint8_t vector, enum trigger_mode trigger, uint8_t dest);
void ioapic_mask(uint32_t pin);
void ioapic_unmask(uint32_t pin);

#endif
