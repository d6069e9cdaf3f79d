package io.jvfio.vfio;

/** What VFIO_DEVICE_GET_INFO reports: the kind of device and how many regions and IRQ indexes it has. */
public record DeviceInfo(int flags, int regionCount, int irqCount) {
    public static final int FLAG_RESET = 1;
    public static final int FLAG_PCI = 1 << 1;
    public static final int FLAG_PLATFORM = 1 << 2;
    public static final int FLAG_AMBA = 1 << 3;
    public static final int FLAG_CCW = 1 << 4;
    public static final int FLAG_AP = 1 << 5;
    public static final int FLAG_FSL_MC = 1 << 6;
    public static final int FLAG_CAPS = 1 << 7;
    public static final int FLAG_CDX = 1 << 8;

    public DeviceInfo {
        if (regionCount < 0 || irqCount < 0) {
            throw new IllegalArgumentException("negative region or IRQ count: " + regionCount + ", " + irqCount);
        }
    }

    public boolean supportsReset() {
        return (flags & FLAG_RESET) != 0;
    }

    public boolean isPci() {
        return (flags & FLAG_PCI) != 0;
    }

    public boolean isPlatform() {
        return (flags & FLAG_PLATFORM) != 0;
    }

    /** The flag names, e.g. {@code RESET|PLATFORM}, as {@code jvfio info} prints them. */
    public String flagNames() {
        return Flags.names(
                flags, new String[] {"RESET", "PCI", "PLATFORM", "AMBA", "CCW", "AP", "FSL_MC", "CAPS", "CDX"});
    }
}
