/* spin: runs until the host stops the machine (tests of stopping a running vCPU).
 * Console "spin\n", then halts forever with interrupts enabled; nothing is routed to it, so a stray
 * interrupt ends it through the runtime's unhandled-vector exit. */
#include "bootinfo.h"
#include "rt.h"

int main(const struct jvfio_boot_info *boot)
{
    (void)boot;
    print("spin\n");
    for (;;)
        __asm__ volatile("sti; hlt" : : : "memory");
}
