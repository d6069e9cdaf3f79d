/* Checks and look-ups on the boot-info struct. */
#include "bootinfo.h"

#include "rt.h"

void boot_check(const struct jvfio_boot_info *boot)
{
    if (boot == 0 || boot->magic != JVFIO_BOOT_MAGIC)
        panic("boot info: bad magic (is RDI the boot-info address?)");
    if (boot->device_count > JVFIO_MAX_DEVICES)
        panic("boot info: device_count > 8");
    for (uint32_t i = 0; i < boot->device_count; i++) {
        const struct jvfio_device *dev = &boot->devices[i];
        if (dev->region_count > JVFIO_MAX_REGIONS || dev->irq_count > JVFIO_MAX_IRQS)
            panic("boot info: region_count or irq_count > 8");
    }
}

const struct jvfio_device *boot_device(const struct jvfio_boot_info *boot, uint32_t index)
{
    if (index >= boot->device_count)
        panic("boot info: no such device");
    return &boot->devices[index];
}

/* Compares within the 32-byte field, so a compatible string without its NUL does not run off the end. */
static int compatible_equals(const char field[32], const char *s)
{
    for (int i = 0; i < 32; i++) {
        if (field[i] != s[i])
            return 0;
        if (s[i] == '\0')
            return 1;
    }
    return 0;
}

const struct jvfio_device *boot_find_device(const struct jvfio_boot_info *boot, const char *compatible)
{
    for (uint32_t i = 0; i < boot->device_count; i++) {
        if (compatible_equals(boot->devices[i].compatible, compatible))
            return &boot->devices[i];
    }
    return 0;
}

uint64_t device_region(const struct jvfio_device *dev, uint32_t region, uint64_t min_size)
{
    if (region >= dev->region_count)
        panic("boot info: device has no such region");
    if (dev->region_size[region] < min_size)
        panic("boot info: device region too small");
    return dev->region_base[region];
}

uint32_t device_irq(const struct jvfio_device *dev, uint32_t irq)
{
    if (irq >= dev->irq_count)
        panic("boot info: device has no such IRQ");
    return dev->irq_gsi[irq];
}
