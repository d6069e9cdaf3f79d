package io.jvfio.platform.config;

import java.nio.file.Path;

/** Where the device comes from: a kernel VFIO device (by name or sysfs path) or a vfio-user socket. */
public sealed interface DeviceSource {
    /** {@code host=NAME}: a device under /sys/bus/platform/devices. */
    record Host(String name) implements DeviceSource {}

    /** {@code sysfsdev=PATH}: a device's sysfs directory. */
    record SysfsDevice(Path path) implements DeviceSource {}

    /** {@code socket=PATH}: a vfio-user server. */
    record Socket(Path path) implements DeviceSource {}
}
