/* stray: guest accesses that no device answers properly, each made twice, so the host can show they are
 * answered (reads all-ones, writes dropped), logged once per cause, and never stop the vCPU.
 *   args[0]  a guest-physical address outside every region and RAM
 * Device 0's first region (base B) takes an unaligned access, and its last region (ending at E, with
 * nothing mapped after it) accesses across its end. The CPU splits an access that crosses a page, so each
 * of those reaches the host as two: the part inside the region, answered by the device, and the part
 * past its end, answered by nothing.
 * Reports, in order, each access twice:
 *   at args[0]: after a write of 0 of each size, the read of 1, 2, 4 and 8 bytes (8: low, then high half);
 *   at B + 1: a 4-byte read (unaligned, inside the region);
 *   at E - 2: a 4-byte read (across the end);
 *   at E - 4: after an 8-byte write of 0, an 8-byte read (across the end; low, then high half).
 * Exits 0. */
#include "bootinfo.h"
#include "rt.h"

static void report64(uint64_t v)
{
    report((uint32_t)v);
    report((uint32_t)(v >> 32));
}

int main(const struct jvfio_boot_info *boot)
{
    uint64_t nowhere = boot->args[0];
    const struct jvfio_device *dev = boot_device(boot, 0);
    uint64_t base = device_region(dev, 0, 8);
    uint32_t last = dev->region_count - 1;
    uint64_t end = device_region(dev, last, 8) + dev->region_size[last];

    for (int pass = 0; pass < 2; pass++) {
        mmio_write8(nowhere, 0);
        report(mmio_read8(nowhere));
        mmio_write16(nowhere, 0);
        report(mmio_read16(nowhere));
        mmio_write32(nowhere, 0);
        report(mmio_read32(nowhere));
        mmio_write64(nowhere, 0);
        report64(mmio_read64(nowhere));

        report(mmio_read32(base + 1));
        report(mmio_read32(end - 2));
        mmio_write64(end - 4, 0);
        report64(mmio_read64(end - 4));
    }
    return 0;
}
