/* mmio-loop: a tight loop of trapped MMIO writes, for the exit-cost benchmark.
 *   args[0]  iterations
 * Writes the iteration number (32-bit) to device 0 region 0 offset 0, args[0] times. Exits 0. */
#include "bootinfo.h"
#include "rt.h"

int main(const struct jvfio_boot_info *boot)
{
    uint64_t iterations = boot->args[0];
    uint64_t reg = device_region(boot_device(boot, 0), 0, 4);

    for (uint64_t i = 0; i < iterations; i++)
        mmio_write32(reg, (uint32_t)i);
    return 0;
}
