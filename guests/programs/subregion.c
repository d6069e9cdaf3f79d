/* subregion: writes that the host sees either in the mmap'ed subregion or as trapped writes, while it
 * switches region 1 between the two.
 *   args[0]  rounds
 * Each round: reads the round number from device 0 region 0 offset 0 (a trapped control register), writes
 * (round << 16) | i to region 1 offset i*4 for i = 0..15, then writes the round number to region 0
 * offset 4 (round done). Exits 0 after all rounds. */
#include "bootinfo.h"
#include "rt.h"

#define WORDS_PER_ROUND 16

int main(const struct jvfio_boot_info *boot)
{
    uint64_t rounds = boot->args[0];
    const struct jvfio_device *dev = boot_device(boot, 0);
    uint64_t control = device_region(dev, 0, 8);
    uint64_t data = device_region(dev, 1, WORDS_PER_ROUND * 4);

    for (uint64_t r = 0; r < rounds; r++) {
        uint32_t round = mmio_read32(control + 0);
        for (uint32_t i = 0; i < WORDS_PER_ROUND; i++)
            mmio_write32(data + i * 4, (round << 16) | i);
        mmio_write32(control + 4, round);
    }
    return 0;
}
