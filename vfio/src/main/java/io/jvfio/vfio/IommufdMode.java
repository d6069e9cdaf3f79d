package io.jvfio.vfio;

import java.util.Locale;

/**
 * The {@code iommufd} property of a kernel VFIO device: which kernel interface opens it. Here, not in
 * {@code vfio-kernel}, because a device's configuration names it before any backend is chosen.
 */
public enum IommufdMode {
    /** Only through the device's VFIO cdev and {@code /dev/iommu}. */
    ON,
    /** Only through the legacy group and {@code /dev/vfio/vfio} container. */
    OFF,
    /**
     * The legacy path for a device of a group the VM already holds (the kernel opens no cdev of a device
     * whose group is open); otherwise the cdev and {@code /dev/iommu} when both exist, else the legacy path.
     */
    AUTO;

    /** Parses {@code on}, {@code off} or {@code auto} (any case). */
    public static IommufdMode parse(String value) {
        return switch (value.trim().toLowerCase(Locale.ROOT)) {
            case "on" -> ON;
            case "off" -> OFF;
            case "auto" -> AUTO;
            default -> throw new IllegalArgumentException("iommufd must be on, off or auto, not '" + value + "'");
        };
    }
}
