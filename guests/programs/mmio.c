/* mmio: MMIO accesses of every size, each written then read back, on device 0 region 0.
 *   args[0]  rounds (0 counts as 1)
 *   args[1]  offset added to the four offsets below (default 0)
 * Per round: writes 0x11 (1 byte) at +0, 0x2222 (2) at +8, 0x33333333 (4) at +16, 0x4444444444444444 (8)
 * at +24, reading each back right after its write, and reports the values read: the byte, the halfword,
 * the word, then the low and the high half of the quadword (5 reports a round). Exits 0. */
#include "bootinfo.h"
#include "rt.h"

int main(const struct jvfio_boot_info *boot)
{
    uint64_t rounds = boot->args[0] == 0 ? 1 : boot->args[0];
    uint64_t offset = boot->args[1];
    uint64_t base = device_region(boot_device(boot, 0), 0, offset + 32) + offset;

    for (uint64_t r = 0; r < rounds; r++) {
        mmio_write8(base + 0, 0x11);
        report(mmio_read8(base + 0));

        mmio_write16(base + 8, 0x2222);
        report(mmio_read16(base + 8));

        mmio_write32(base + 16, 0x33333333);
        report(mmio_read32(base + 16));

        mmio_write64(base + 24, 0x4444444444444444ULL);
        uint64_t q = mmio_read64(base + 24);
        report((uint32_t)q);
        report((uint32_t)(q >> 32));
    }
    return 0;
}
