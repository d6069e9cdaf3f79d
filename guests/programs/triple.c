/* triple: ends in a triple fault, for the host's report of one.
 * Console "triple\n"; loads an empty IDT and executes ud2: the #UD finds no gate, nor does the #GP it
 * becomes, nor the double fault, so the CPU shuts down (KVM_EXIT_SHUTDOWN). */
#include "bootinfo.h"
#include "rt.h"

int main(const struct jvfio_boot_info *boot)
{
    (void)boot;
    static const struct __attribute__((packed)) {
        uint16_t limit;
        uint64_t base;
    } no_gates = {0, 0};
    print("triple\n");
    __asm__ volatile("lidt %0; ud2" : : "m"(no_gates) : "memory");
    return 1;
}
