package io.jvfio.platform.config;

import io.jvfio.vfio.IommufdMode;
import io.jvfio.vfiouser.client.VfioUserDevice;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

/**
 * A validated VFIO platform device configuration. Property names and defaults are QEMU's
 * ({@code x-no-mmap=off}, {@code mmap-timeout-ms=1100}, {@code x-irqfd=on}); the rest are jvfio's.
 *
 * @param id            the device's name in reports and errors ({@code id=}), defaulting to the source
 * @param compat        the device-tree compatible string; fixed by subtypes, else from the device
 * @param preciseEoi    use the IRQ acks a device declares ({@code x-precise-eoi}, default on)
 * @param replyTimeout  how long a vfio-user request may wait for its reply ({@code x-reply-timeout-ms})
 * @param replyPollMax  how long a vfio-user region access may poll for its reply before it blocks
 *                      ({@code x-reply-poll-max-us}, 0: never)
 * @param dtNode        a flattened device tree whose root node is the device's guest node ({@code x-dt-node}),
 *                      patched with where the device was placed
 * @param idGiven       whether {@code id=} was given: then it also names the device's guest node, which is
 *                      otherwise named after the device's compatible (a socket's file name means nothing
 *                      to a device-tree reader)
 * @param acpiHid       the {@code _HID} of the device's DSDT node ({@code x-acpi-hid}), in place of the one
 *                      chosen from its compatible (docs/acpi.md)
 */
public record PlatformDeviceConfig(
        DeviceType type,
        DeviceSource source,
        String id,
        boolean noMmap,
        Duration mmapTimeout,
        boolean irqfd,
        Optional<String> compat,
        IommufdMode iommufd,
        boolean preciseEoi,
        Duration replyTimeout,
        Duration replyPollMax,
        Optional<Path> dtNode,
        boolean idGiven,
        Optional<String> acpiHid) {
    public static final Duration DEFAULT_MMAP_TIMEOUT = Duration.ofMillis(1100);
    public static final Duration DEFAULT_REPLY_TIMEOUT = Duration.ofSeconds(5);

    /** The configuration of {@code type} with every default, for {@code source}. */
    public static PlatformDeviceConfig defaults(DeviceType type, DeviceSource source) {
        return new PlatformDeviceConfig(
                type,
                source,
                defaultId(source),
                false,
                DEFAULT_MMAP_TIMEOUT,
                true,
                type.fixedCompat(),
                IommufdMode.AUTO,
                true,
                DEFAULT_REPLY_TIMEOUT,
                VfioUserDevice.Options.DEFAULT_REPLY_POLL_MAX,
                Optional.empty(),
                false,
                Optional.empty());
    }

    static String defaultId(DeviceSource source) {
        return switch (source) {
            case DeviceSource.Host host -> host.name();
            case DeviceSource.SysfsDevice sysfs -> sysfs.path().getFileName().toString();
            case DeviceSource.Socket socket -> socket.path().getFileName().toString();
        };
    }
}
