package io.jvfio.platform.config;

import io.jvfio.machine.acpi.HardwareId;
import io.jvfio.vfio.IommufdMode;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Parses QEMU-style device strings: {@code TYPE,prop=value,prop=value}, e.g.
 * {@code vfio-platform,socket=/tmp/dev.sock,mmap-timeout-ms=500,x-irqfd=off}. Booleans accept
 * on/off, true/false, yes/no and y/n, as QEMU's qapi_bool_parse does (and, unlike it, in any case). A
 * comma inside a value is written {@code ,,}.
 */
public final class DeviceSpecParser {
    private static final Set<String> PROPERTIES = Set.of(
            "host",
            "sysfsdev",
            "socket",
            "id",
            "x-no-mmap",
            "mmap-timeout-ms",
            "x-irqfd",
            "compat",
            "iommufd",
            "x-precise-eoi",
            "x-reply-timeout-ms",
            "x-reply-poll-max-us",
            "x-dt-node",
            "x-acpi-hid");

    /** The property names a {@code -device} spec may give, for help texts that must list them all. */
    public static Set<String> propertyNames() {
        return PROPERTIES;
    }

    /** A second of polling for one reply: anything longer is a wait that blocking serves better. */
    private static final long MAX_REPLY_POLL_MICROS = 1_000_000;

    private DeviceSpecParser() {}

    public static PlatformDeviceConfig parse(String spec) {
        if (spec == null || spec.isBlank()) {
            throw new DeviceSpecException("empty device string (expected TYPE,prop=value,...)");
        }
        var fields = split(spec);
        DeviceType type = DeviceType.fromName(fields.getFirst());
        Map<String, String> properties = new LinkedHashMap<>();
        for (String field : fields.subList(1, fields.size())) {
            int equals = field.indexOf('=');
            if (equals <= 0) {
                throw new DeviceSpecException(type.typeName() + ": '" + field + "' is not prop=value");
            }
            String name = field.substring(0, equals);
            String value = field.substring(equals + 1);
            if (!PROPERTIES.contains(name)) {
                throw new DeviceSpecException(type.typeName() + ": unknown property '" + name + "'");
            }
            if (properties.put(name, value) != null) {
                throw new DeviceSpecException(type.typeName() + ": property '" + name + "' given twice");
            }
        }
        return build(type, properties);
    }

    private static List<String> split(String spec) {
        var fields = new ArrayList<String>();
        StringBuilder current = new StringBuilder();
        for (int i = 0; i < spec.length(); i++) {
            char c = spec.charAt(i);
            if (c == ',') {
                if (i + 1 < spec.length() && spec.charAt(i + 1) == ',') {
                    current.append(',');
                    i++;
                } else {
                    fields.add(current.toString());
                    current.setLength(0);
                }
            } else {
                current.append(c);
            }
        }
        fields.add(current.toString());
        return fields;
    }

    private static PlatformDeviceConfig build(DeviceType type, Map<String, String> properties) {
        String typeName = type.typeName();
        DeviceSource source = source(typeName, properties);
        PlatformDeviceConfig defaults = PlatformDeviceConfig.defaults(type, source);
        Optional<String> compat = type.fixedCompat();
        if (properties.containsKey("compat")) {
            if (compat.isPresent()) {
                throw new DeviceSpecException(
                        typeName + ": property 'compat' is fixed to '" + compat.get() + "' by this type");
            }
            String value = properties.get("compat");
            if (value.isEmpty() || value.chars().anyMatch(ch -> ch < 0x20 || ch > 0x7e)) {
                throw new DeviceSpecException(
                        typeName + ": property 'compat' wants a printable compatible string, got '" + value + "'");
            }
            compat = Optional.of(value);
        }
        String id = properties.getOrDefault("id", defaults.id());
        if (id.isEmpty()) {
            throw new DeviceSpecException(typeName + ": property 'id' is empty");
        }
        Duration replyTimeout = millis(typeName, properties, "x-reply-timeout-ms", defaults.replyTimeout());
        Duration replyPollMax = replyPollMax(typeName, properties, source, defaults.replyPollMax());
        if (replyPollMax.compareTo(replyTimeout) >= 0) {
            throw new DeviceSpecException(
                    typeName + ": property 'x-reply-poll-max-us' (" + replyPollMax.toNanos() / 1000
                            + " us) must be shorter than the reply timeout (" + replyTimeout.toMillis() + " ms)");
        }
        return new PlatformDeviceConfig(
                type,
                source,
                id,
                bool(typeName, properties, "x-no-mmap", defaults.noMmap()),
                millis(typeName, properties, "mmap-timeout-ms", defaults.mmapTimeout()),
                bool(typeName, properties, "x-irqfd", defaults.irqfd()),
                compat,
                iommufd(typeName, properties, source),
                bool(typeName, properties, "x-precise-eoi", defaults.preciseEoi()),
                replyTimeout,
                replyPollMax,
                properties.containsKey("x-dt-node")
                        ? Optional.of(path(typeName, "x-dt-node", properties.get("x-dt-node")))
                        : Optional.empty(),
                properties.containsKey("id"),
                acpiHid(typeName, properties.get("x-acpi-hid")));
    }

    /** A _HID Linux can read: a PNP ID (three letters, four hex digits) or an ACPI ID (four, four). */
    private static Optional<String> acpiHid(String typeName, String value) {
        if (value == null) {
            return Optional.empty();
        }
        try {
            return Optional.of(HardwareId.string(value).id());
        } catch (IllegalArgumentException e) {
            throw new DeviceSpecException(typeName + ": property 'x-acpi-hid' wants a PNP ID (e.g. PNP0501) or an "
                    + "ACPI ID (e.g. LNRO0005), got '" + value + "'");
        }
    }

    private static DeviceSource source(String typeName, Map<String, String> properties) {
        int given = 0;
        DeviceSource source = null;
        if (properties.containsKey("host")) {
            given++;
            String host = properties.get("host");
            if (host.isEmpty() || host.contains("/") || host.equals(".") || host.equals("..")) {
                throw new DeviceSpecException(
                        typeName + ": property 'host' wants a device name without '/', got '" + host + "'");
            }
            source = new DeviceSource.Host(host);
        }
        if (properties.containsKey("sysfsdev")) {
            given++;
            source = new DeviceSource.SysfsDevice(path(typeName, "sysfsdev", properties.get("sysfsdev")));
        }
        if (properties.containsKey("socket")) {
            given++;
            source = new DeviceSource.Socket(path(typeName, "socket", properties.get("socket")));
        }
        if (given != 1) {
            throw new DeviceSpecException(typeName + ": give exactly one of 'host', 'sysfsdev' or 'socket'"
                    + (given == 0 ? "" : " (got " + given + ")"));
        }
        return source;
    }

    /**
     * {@code value} as a path that ends in a name: a device's sysfs directory, a socket or a DTB file, whose
     * name is also the device's default {@code id} ("/" has none).
     */
    private static Path path(String typeName, String property, String value) {
        if (value.isEmpty() || value.indexOf('\0') >= 0) {
            throw new DeviceSpecException(typeName + ": property '" + property + "' wants a path, got '" + value + "'");
        }
        Path path = Path.of(value);
        if (path.getFileName() == null) {
            throw new DeviceSpecException(
                    typeName + ": property '" + property + "' wants a path that ends in a name, got '" + value + "'");
        }
        return path;
    }

    private static boolean bool(String typeName, Map<String, String> properties, String name, boolean fallback) {
        String value = properties.get(name);
        if (value == null) {
            return fallback;
        }
        return switch (value.toLowerCase(Locale.ROOT)) {
            case "on", "true", "yes", "y" -> true;
            case "off", "false", "no", "n" -> false;
            default ->
                throw new DeviceSpecException(typeName + ": property '" + name
                        + "' wants on/off (or true/false, yes/no, y/n), got '" + value + "'");
        };
    }

    private static Duration millis(String typeName, Map<String, String> properties, String name, Duration fallback) {
        String value = properties.get(name);
        if (value == null) {
            return fallback;
        }
        return Duration.ofMillis(number(
                typeName, name, value, 1, 0xFFFF_FFFFL, "a positive number of milliseconds (at most 4294967295)"));
    }

    /** {@code value} as a number from {@code min} to {@code max}, or an error saying it {@code wants} one. */
    private static long number(String typeName, String name, String value, long min, long max, String wants) {
        long number;
        try {
            number = Long.parseLong(value);
        } catch (NumberFormatException e) {
            number = min - 1;
        }
        if (number < min || number > max) {
            throw new DeviceSpecException(
                    typeName + ": property '" + name + "' wants " + wants + ", got '" + value + "'");
        }
        return number;
    }

    private static Duration replyPollMax(
            String typeName, Map<String, String> properties, DeviceSource source, Duration fallback) {
        String value = properties.get("x-reply-poll-max-us");
        if (value == null) {
            return fallback;
        }
        if (!(source instanceof DeviceSource.Socket)) {
            throw new DeviceSpecException(typeName
                    + ": property 'x-reply-poll-max-us' applies to 'socket' (vfio-user) devices, not kernel ones");
        }
        long micros = number(
                typeName,
                "x-reply-poll-max-us",
                value,
                0,
                MAX_REPLY_POLL_MICROS,
                "microseconds from 0 (off) to " + MAX_REPLY_POLL_MICROS);
        return Duration.ofNanos(micros * 1000);
    }

    private static IommufdMode iommufd(String typeName, Map<String, String> properties, DeviceSource source) {
        String value = properties.get("iommufd");
        if (value == null) {
            return IommufdMode.AUTO;
        }
        if (source instanceof DeviceSource.Socket) {
            throw new DeviceSpecException(typeName + ": property 'iommufd' applies to kernel devices, not 'socket'");
        }
        return switch (value.toLowerCase(Locale.ROOT)) {
            case "on" -> IommufdMode.ON;
            case "off" -> IommufdMode.OFF;
            case "auto" -> IommufdMode.AUTO;
            default ->
                throw new DeviceSpecException(
                        typeName + ": property 'iommufd' wants on, off or auto, got '" + value + "'");
        };
    }
}
