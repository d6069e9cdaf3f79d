package io.jvfio.cli;

import io.jvfio.platform.DeviceOpener;
import io.jvfio.platform.config.DeviceSource;
import io.jvfio.platform.config.DeviceSpecException;
import io.jvfio.platform.config.DeviceType;
import io.jvfio.platform.config.PlatformDeviceConfig;
import io.jvfio.vfio.DeviceInfo;
import io.jvfio.vfio.DeviceTreeIdentity;
import io.jvfio.vfio.IrqInfo;
import io.jvfio.vfio.RegionCapability;
import io.jvfio.vfio.RegionInfo;
import io.jvfio.vfio.SparseArea;
import io.jvfio.vfio.VfioDevice;
import io.jvfio.vfiouser.Capabilities;
import io.jvfio.vfiouser.client.VfioUserDevice;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;

/**
 * {@code jvfio info}: what a VFIO device tells about itself (device flags, over vfio-user the negotiated
 * version and the server's capabilities, each region with its mmap areas, each IRQ index, the device-tree
 * identity), printed the way {@code lspci -vv} prints a PCI device.
 */
final class InfoCommand implements Subcommand {
    static final CommandSpec SPEC = CommandSpec.of(
            "info",
            "Show a device's regions, IRQs and device-tree identity.",
            "Show a VFIO device: flags, the vfio-user version and capabilities, regions (size, offset, flags, mmap "
                    + "areas), IRQs (count, flags, trigger) and its device-tree identity, like 'lspci -vv' for PCI. Give one "
                    + "of --socket, --host or --sysfsdev.",
            OptionSpec.value("PATH", "A vfio-user server's socket.", "--socket"),
            OptionSpec.value(
                    "NAME", "A kernel VFIO platform device, by its name under /sys/bus/platform/devices.", "--host"),
            OptionSpec.value(
                    "PATH",
                    "A kernel VFIO device's sysfs directory (any bus, e.g. " + "/sys/bus/pci/devices/0000:00:01.0).",
                    "--sysfsdev"));

    @Override
    public CommandSpec spec() {
        return SPEC;
    }

    @Override
    public int run(ParsedArgs args, PrintWriter out, PrintWriter err) throws IOException {
        PlatformDeviceConfig config = config(args);
        try (DeviceOpener opener = new DeviceOpener();
                VfioDevice device = opener.open(config)) {
            for (String line : describe(device, title(config))) {
                out.println(line);
            }
        }
        return 0;
    }

    private static PlatformDeviceConfig config(ParsedArgs args) {
        List<String> given =
                Stream.of("--socket", "--host", "--sysfsdev").filter(args::has).toList();
        if (given.size() != 1) {
            throw new UsageException(
                    given.isEmpty()
                            ? "Missing required option: one of --socket, --host or --sysfsdev"
                            : String.join(" and ", given) + " are mutually exclusive: give one");
        }
        DeviceSource from = switch (given.getFirst()) {
            case "--socket" -> new DeviceSource.Socket(path(args, "--socket"));
            case "--host" -> {
                String host = args.required("--host");
                if (host.isEmpty() || host.contains("/")) {
                    throw new UsageException("--host wants a device name without '/', got '" + host + "'");
                }
                yield new DeviceSource.Host(host);
            }
            default -> new DeviceSource.SysfsDevice(path(args, "--sysfsdev"));
        };
        try {
            return PlatformDeviceConfig.defaults(DeviceType.VFIO_PLATFORM, from);
        } catch (DeviceSpecException e) {
            throw new UsageException(e.getMessage());
        }
    }

    /** The option's path; an empty one, which Path.of makes the working directory, is refused. */
    private static Path path(ParsedArgs args, String option) {
        String value = args.required(option);
        if (value.isEmpty()) {
            throw new UsageException(option + " wants a path, got ''");
        }
        return Path.of(value);
    }

    private static String title(PlatformDeviceConfig config) {
        return switch (config.source()) {
            case DeviceSource.Socket socket -> "vfio-user device at " + socket.path();
            case DeviceSource.Host host -> "kernel VFIO device " + host.name();
            case DeviceSource.SysfsDevice sysfs -> "kernel VFIO device " + sysfs.path();
        };
    }

    /** The table: a title line, then tab-indented lines as {@code lspci -vv} prints them. */
    static List<String> describe(VfioDevice device, String title) throws IOException {
        List<String> lines = new ArrayList<>();
        DeviceInfo info = device.info();
        lines.add(title);
        lines.add("\tFlags: " + info.flagNames() + " (0x" + Integer.toHexString(info.flags()) + ")");
        if (device instanceof VfioUserDevice user) {
            lines.add("\tvfio-user: version " + VfioUserDevice.MAJOR + "." + user.minorVersion()
                    + ", server capabilities " + capabilities(user)
                    + (user.twinSocketMode() ? "; twin-socket mode" : ""));
        }
        Optional<DeviceTreeIdentity> identity = info.isPlatform() ? device.deviceTreeIdentity() : Optional.empty();
        if (identity.isPresent()) {
            DeviceTreeIdentity id = identity.get();
            lines.add("\tDevice tree: compatible "
                    + String.join(
                            ", ",
                            id.compatible().stream().map(c -> "\"" + c + "\"").toList()));
            for (Map.Entry<String, byte[]> property : id.properties().entrySet()) {
                lines.add("\t\t" + property.getKey() + " = " + propertyValue(property.getValue()));
            }
            for (DeviceTreeIdentity.IrqAck ack : id.irqAcks()) {
                lines.add("\t\tIRQ " + ack.irqIndex() + " precise EOI: status region " + ack.region() + " +0x"
                        + Long.toHexString(ack.statusOffset()) + " mask 0x" + Long.toHexString(ack.statusMask())
                        + ", ack +0x" + Long.toHexString(ack.ackOffset()) + " mask 0x"
                        + Long.toHexString(ack.ackMask()));
            }
        } else if (info.isPlatform()) {
            lines.add("\tDevice tree: no identity declared (give compat= when assigning it)");
        }
        lines.add("\tRegions: " + info.regionCount());
        for (int index = 0; index < info.regionCount(); index++) {
            RegionInfo region = device.regionInfo(index);
            if (region.size() == 0) {
                lines.add("\tRegion " + index + ": empty");
                continue;
            }
            lines.add("\tRegion " + index + ": size 0x" + Long.toHexString(region.size()) + " (" + bytes(region.size())
                    + "), offset 0x" + Long.toHexString(region.offset()) + ", flags " + region.flagNames()
                    + " (0x" + Integer.toHexString(region.flags()) + ")");
            List<SparseArea> areas = region.mappableAreas();
            // one area over the whole region is how libvfio-user (and jvfio's server) describe a region
            // mmap'able whole: not sparse. Compared field by field: a record's equals is bootstrapped at its
            // first call, which spun method handles for 10 ms of this command's start-up.
            boolean whole = areas.size() == 1
                    && areas.getFirst().offset() == 0
                    && areas.getFirst().size() == region.size();
            if (areas.isEmpty()) {
                lines.add("\t\tmmap: none (every access traps)");
            } else {
                for (SparseArea area : areas) {
                    lines.add("\t\tmmap: [0x" + Long.toHexString(area.offset()) + ", 0x" + Long.toHexString(area.end())
                            + ") " + bytes(area.size())
                            + (region.sparseAreas().isPresent() && !whole ? " (sparse)" : "")
                            + (area.readOnly() ? " (reads only: writes trap)" : ""));
                }
            }
            for (RegionCapability capability : region.otherCapabilities()) {
                lines.add("\t\tcapability id " + capability.id() + " version " + capability.version() + ", "
                        + capability.body().length + " bytes");
            }
        }
        lines.add("\tIRQs: " + info.irqCount());
        for (int index = 0; index < info.irqCount(); index++) {
            IrqInfo irq = device.irqInfo(index);
            lines.add("\tIRQ " + index + ": count " + irq.count() + ", flags " + irq.flagNames() + " (0x"
                    + Integer.toHexString(irq.flags()) + ")" + (irq.count() == 0 ? "" : ", " + trigger(info, irq)));
        }
        return lines;
    }

    /**
     * How an IRQ index triggers. On PCI the index says it (linux/vfio.h's VFIO_PCI_*_IRQ_INDEX): INTx is
     * level-triggered by the PCI specification whatever the flags say (libvfio-user does not set
     * AUTOMASKED on it), MSI and MSI-X are messages, ERR and REQ are notifications. On a platform device
     * AUTOMASKED marks the level-triggered lines (docs/vfio-user-platform.md).
     */
    static String trigger(DeviceInfo device, IrqInfo irq) {
        if (device.isPci()) {
            return switch (irq.index()) {
                case 0 -> "INTx, level";
                case 1 -> "MSI, edge";
                case 2 -> "MSI-X, edge";
                case 3 -> "ERR notification";
                case 4 -> "REQ notification";
                default -> irq.automasked() ? "level" : "edge";
            };
        }
        return irq.automasked() ? "level" : "edge";
    }

    /** The server's capabilities, each marked "(default)" when its VERSION reply left it out. */
    private static String capabilities(VfioUserDevice device) {
        Capabilities values = device.serverCapabilities();
        Set<String> named = device.serverCapabilityNames();
        List<String> parts = new ArrayList<>();
        for (String name : Capabilities.NAMES) {
            String value = switch (name) {
                case Capabilities.MAX_MSG_FDS -> Integer.toString(values.maxMsgFds());
                case Capabilities.MAX_DATA_XFER_SIZE -> bytes(values.maxDataXferSize());
                case Capabilities.MAX_DMA_MAPS -> Long.toString(values.maxDmaMaps());
                default -> "0x" + Long.toHexString(values.pgsizes());
            };
            parts.add(name + " " + value + (named.contains(name) ? "" : " (default)"));
        }
        return String.join(", ", parts);
    }

    static String bytes(long size) {
        if (size >= (1L << 30) && size % (1L << 30) == 0) {
            return (size >> 30) + " GiB";
        }
        if (size >= (1L << 20) && size % (1L << 20) == 0) {
            return (size >> 20) + " MiB";
        }
        if (size >= 1024 && size % 1024 == 0) {
            return (size >> 10) + " KiB";
        }
        return size + " bytes";
    }

    /** A property value as DTS writes it: strings when printable and NUL-terminated, else cells or bytes. */
    static String propertyValue(byte[] value) {
        if (value.length == 0) {
            return "(empty)";
        }
        if (value[value.length - 1] == 0 && printableStrings(value)) {
            List<String> strings = new ArrayList<>();
            int start = 0;
            for (int i = 0; i < value.length; i++) {
                if (value[i] == 0) {
                    strings.add("\"" + new String(value, start, i - start, StandardCharsets.US_ASCII) + "\"");
                    start = i + 1;
                }
            }
            return String.join(", ", strings);
        }
        StringBuilder text = new StringBuilder();
        if (value.length % 4 == 0) {
            text.append('<');
            for (int i = 0; i < value.length; i += 4) {
                int cell = (value[i] & 0xff) << 24
                        | (value[i + 1] & 0xff) << 16
                        | (value[i + 2] & 0xff) << 8
                        | value[i + 3] & 0xff;
                text.append(i == 0 ? "" : " ").append("0x").append(Integer.toHexString(cell));
            }
            return text.append('>').toString();
        }
        text.append('[');
        for (int i = 0; i < value.length; i++) {
            text.append(i == 0 ? "" : " ").append(String.format("%02x", value[i] & 0xff));
        }
        return text.append(']').toString();
    }

    private static boolean printableStrings(byte[] value) {
        boolean previousNul = true;
        for (byte b : value) {
            if (b == 0) {
                if (previousNul) {
                    return false;
                }
                previousNul = true;
            } else {
                if (b < 0x20 || b > 0x7e) {
                    return false;
                }
                previousNul = false;
            }
        }
        return true;
    }
}
