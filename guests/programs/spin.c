/* spin: runs until the host stops the machine (tests of stopping a running vCPU).
 * Console "spin\n", then halts forever with interrupts enabled. No IOAPIC pin is routed and the legacy
 * PIC is masked (lapic_enable), so nothing but the LAPIC's wake tick should arrive; a stray interrupt
 * ends it through the runtime's unhandled-vector exit. */
#include "apic.h"
#include "bootinfo.h"
#include "rt.h"

int main(const struct jvfio_boot_info *boot)
{
    (void)boot;
    lapic_enable();
    print("spin\n");
    for (;;)
        __asm__ volatile("sti; hlt" : : : "memory");
}
