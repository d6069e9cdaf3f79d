package io.jvfio.vfio.kernel;

import io.jvfio.vfio.kernel.DiscoveryException.Problem;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * Finds a host device in sysfs the way the seed does, from a name ({@code host=NAME}, looked up under
 * {@code <sysfs>/bus/<bus>/devices/}) or a path ({@code sysfsdev=PATH}), and checks that the name (and the
 * bus) has no {@code /}, the device exists, and it has an {@code iommu_group} link whose name is a number. Each
 * failure is a {@link DiscoveryException} naming the path it looked at. The sysfs root is a parameter so
 * that the same code runs against a directory tree built by a test.
 */
public final class SysfsDiscovery {
    public static final Path DEFAULT_SYSFS_ROOT = Path.of("/sys");
    public static final String PLATFORM_BUS = "platform";

    private static final Pattern CANONICAL_DECIMAL = Pattern.compile("0|[1-9][0-9]*");

    private final Path sysfsRoot;

    public SysfsDiscovery(Path sysfsRoot) {
        this.sysfsRoot = sysfsRoot;
    }

    public SysfsDiscovery() {
        this(DEFAULT_SYSFS_ROOT);
    }

    public Path sysfsRoot() {
        return sysfsRoot;
    }

    /** {@code host=NAME}: a platform device. */
    public SysfsDevice byHost(String name) throws DiscoveryException {
        return byHost(PLATFORM_BUS, name);
    }

    /** {@code NAME} on a bus ({@code platform}, {@code pci}, {@code amba}...). */
    public SysfsDevice byHost(String bus, String name) throws DiscoveryException {
        return inspect(name, devicePath(bus, name));
    }

    /**
     * {@code sysfsdev=PATH}: the device's sysfs directory, named by its last path element as QEMU names it.
     * A path that ends in {@code .} or {@code ..}, or is the root, is refused: sysfs' bus entries are links,
     * so removing {@code ..} without following them names a directory other than the one the path reaches.
     */
    public SysfsDevice bySysfsPath(Path sysfsdev) throws DiscoveryException {
        Path fileName = sysfsdev.getFileName();
        String name = fileName == null ? "" : fileName.toString();
        if (!isOneDirectory(name)) {
            throw new DiscoveryException(
                    sysfsdev.toString(),
                    Problem.INVALID_NAME,
                    sysfsdev,
                    "sysfsdev " + sysfsdev + " does not end in a device's name (its last element names the device)");
        }
        return inspect(name, sysfsdev);
    }

    /**
     * Where a named device of a bus lives: {@code <sysfs>/bus/<bus>/devices/<name>}. A name or bus that is
     * not one directory there ({@code ..}, {@code a/b}) is refused: the path, and the attributes written
     * next to it, would leave that tree.
     */
    public Path devicePath(String bus, String name) throws DiscoveryException {
        if (!isOneDirectory(name)) {
            throw new DiscoveryException(
                    name,
                    Problem.INVALID_NAME,
                    null,
                    "host name '" + name + "' is not a device name (it must be non-empty and contain no '/')");
        }
        if (!isOneDirectory(bus)) {
            throw new DiscoveryException(
                    name,
                    Problem.INVALID_NAME,
                    null,
                    "bus '" + bus
                            + "' is not a bus name (it must be non-empty and contain no '/', as platform or pci)");
        }
        return sysfsRoot.resolve("bus").resolve(bus).resolve("devices").resolve(name);
    }

    private static boolean isOneDirectory(String name) {
        return !name.isEmpty() && !name.contains("/") && !name.equals(".") && !name.equals("..");
    }

    private static SysfsDevice inspect(String name, Path path) throws DiscoveryException {
        if (!Files.isDirectory(path)) {
            throw new DiscoveryException(
                    name, Problem.NO_DEVICE, path, "no such host device: " + path + " does not exist");
        }
        Path realPath;
        try {
            realPath = path.toRealPath();
        } catch (IOException e) {
            throw new DiscoveryException(
                    name, Problem.NO_DEVICE, path, "cannot resolve host device " + path + ": " + e);
        }
        Path groupLink = path.resolve("iommu_group");
        if (!Files.isSymbolicLink(groupLink) && !Files.exists(groupLink, LinkOption.NOFOLLOW_LINKS)) {
            throw new DiscoveryException(
                    name,
                    Problem.NO_IOMMU_GROUP,
                    groupLink,
                    "no iommu_group for device: " + groupLink + " does not exist (is an IOMMU present and enabled?)");
        }
        int group = groupNumber(name, groupLink);
        return new SysfsDevice(name, path, realPath, group, vfioCdev(path), compatible(path), ofNodeProperties(path));
    }

    private static int groupNumber(String name, Path groupLink) throws DiscoveryException {
        Path target;
        try {
            target = Files.isSymbolicLink(groupLink) ? Files.readSymbolicLink(groupLink) : groupLink.toRealPath();
        } catch (IOException e) {
            throw new DiscoveryException(
                    name, Problem.BAD_IOMMU_GROUP, groupLink, "cannot read " + groupLink + ": " + e);
        }
        Path last = target.getFileName();
        String groupName = last == null ? "" : last.toString();
        try {
            // Only what the kernel's %d writes: parseInt alone takes "+7", "07" and non-ASCII digits as 7.
            if (!CANONICAL_DECIMAL.matcher(groupName).matches()) {
                throw new NumberFormatException();
            }
            return Integer.parseInt(groupName);
        } catch (NumberFormatException e) {
            throw new DiscoveryException(
                    name,
                    Problem.BAD_IOMMU_GROUP,
                    groupLink,
                    "cannot parse the iommu group number of " + groupLink + " -> " + target + ": '" + groupName
                            + "' is not a number");
        }
    }

    /** The device's VFIO cdev name from {@code vfio-dev/} (e.g. {@code vfio0}), if it is bound and the kernel has cdevs. */
    private static Optional<String> vfioCdev(Path path) {
        Path dir = path.resolve("vfio-dev");
        if (!Files.isDirectory(dir)) {
            return Optional.empty();
        }
        List<String> names = new ArrayList<>();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir, "vfio*")) {
            entries.forEach(p -> names.add(p.getFileName().toString()));
        } catch (IOException e) {
            return Optional.empty();
        }
        return names.stream().sorted().findFirst();
    }

    /**
     * Properties of the host's {@code of_node} that mean the same in the guest, raw as sysfs gives them
     * (big-endian cells, NUL-terminated strings). Left out: what the guest's node gets anew (compatible,
     * reg, interrupts and their parent) and what names other host nodes by phandle or by host bus
     * (clocks, resets, DMA channels, IOMMUs, pin control, power domains), which the guest has not got.
     */
    private static Map<String, byte[]> ofNodeProperties(Path path) {
        Path ofNode = path.resolve("of_node");
        if (!Files.isDirectory(ofNode)) {
            return Map.of();
        }
        Map<String, byte[]> properties = new TreeMap<>();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(ofNode)) {
            for (Path entry : entries) {
                String property = entry.getFileName().toString();
                if (Files.isRegularFile(entry, LinkOption.NOFOLLOW_LINKS) && copiedToTheGuest(property)) {
                    properties.put(property, Files.readAllBytes(entry));
                }
            }
        } catch (IOException e) {
            return Map.of();
        }
        return properties;
    }

    private static final Set<String> NOT_COPIED = Set.of(
            "name",
            "compatible",
            "reg",
            "reg-names",
            "interrupts",
            "interrupts-extended",
            "interrupt-parent",
            "phandle",
            "linux,phandle",
            "#address-cells",
            "#size-cells",
            "ranges",
            "status",
            "clocks",
            "clock-names",
            "assigned-clocks",
            "assigned-clock-parents",
            "assigned-clock-rates",
            "resets",
            "reset-names",
            "dmas",
            "dma-names",
            "iommus",
            "iommu-map",
            "power-domains",
            "power-domain-names",
            "msi-parent",
            "dma-coherent");

    static boolean copiedToTheGuest(String property) {
        return !NOT_COPIED.contains(property)
                && !property.startsWith("pinctrl-")
                && !property.endsWith("-supply")
                && !property.endsWith("-gpios")
                && !property.equals("gpios");
    }

    /** {@code of_node/compatible}: NUL-separated strings. */
    private static List<String> compatible(Path path) {
        Path file = path.resolve("of_node").resolve("compatible");
        if (!Files.isRegularFile(file)) {
            return List.of();
        }
        try {
            return parseCompatible(Files.readAllBytes(file));
        } catch (IOException e) {
            return List.of();
        }
    }

    static List<String> parseCompatible(byte[] bytes) {
        List<String> strings = new ArrayList<>();
        int start = 0;
        for (int i = 0; i <= bytes.length; i++) {
            if (i == bytes.length || bytes[i] == 0) {
                if (i > start) {
                    strings.add(new String(bytes, start, i - start, StandardCharsets.UTF_8));
                }
                start = i + 1;
            }
        }
        return strings;
    }
}
