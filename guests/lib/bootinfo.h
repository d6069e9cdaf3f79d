/* The boot-info struct the machine passes in RDI (layout: ../README.md; keep both sides in step). */
#ifndef JVFIO_BOOTINFO_H
#define JVFIO_BOOTINFO_H

#include <stdint.h>

#define JVFIO_BOOT_MAGIC 0x4f4946564aULL /* "JVFIO" */
#define JVFIO_MAX_DEVICES 8
#define JVFIO_MAX_REGIONS 8
#define JVFIO_MAX_IRQS 8
#define JVFIO_MAX_ARGS 8

struct jvfio_device {
    char compatible[32];                       /* NUL-terminated, e.g. "jvfio,test-device" */
    uint32_t region_count;                     /* <= 8 */
    uint32_t irq_count;                        /* <= 8 */
    uint64_t region_base[JVFIO_MAX_REGIONS];   /* guest-physical */
    uint64_t region_size[JVFIO_MAX_REGIONS];
    uint32_t irq_gsi[JVFIO_MAX_IRQS];          /* IOAPIC pin numbers */
};

struct jvfio_boot_info {
    uint64_t magic;
    uint64_t ram_size;
    uint64_t dtb_addr, dtb_size;               /* flattened device tree, 0 if none */
    uint64_t args[JVFIO_MAX_ARGS];             /* test parameters */
    uint32_t device_count;                     /* <= 8 */
    uint32_t reserved;
    struct jvfio_device devices[JVFIO_MAX_DEVICES];
};

/* The layout the host writes; a change here must be a change there too. */
_Static_assert(sizeof(struct jvfio_device) == 200, "jvfio_device layout");
_Static_assert(__builtin_offsetof(struct jvfio_device, region_base) == 40, "jvfio_device layout");
_Static_assert(__builtin_offsetof(struct jvfio_device, irq_gsi) == 168, "jvfio_device layout");
_Static_assert(sizeof(struct jvfio_boot_info) == 1704, "jvfio_boot_info layout");
_Static_assert(__builtin_offsetof(struct jvfio_boot_info, device_count) == 96, "jvfio_boot_info layout");
_Static_assert(__builtin_offsetof(struct jvfio_boot_info, devices) == 104, "jvfio_boot_info layout");

/* Panics unless the struct has the magic and its counts are in range. */
void boot_check(const struct jvfio_boot_info *boot);

/* Device number index; panics if there is no such device. */
const struct jvfio_device *boot_device(const struct jvfio_boot_info *boot, uint32_t index);

/* The first device whose compatible string is exactly `compatible`, or 0. */
const struct jvfio_device *boot_find_device(const struct jvfio_boot_info *boot, const char *compatible);

/* Base address of a device's region, which must be at least min_size bytes; panics otherwise. */
uint64_t device_region(const struct jvfio_device *dev, uint32_t region, uint64_t min_size);

/* IOAPIC pin of a device's IRQ; panics if there is no such IRQ. */
uint32_t device_irq(const struct jvfio_device *dev, uint32_t irq);

#endif
