package io.jvfio.vfio.kernel;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A directory tree laid out like sysfs, for discovery and binding tests: devices live under
 * {@code devices/...}, {@code bus/<bus>/devices/<name>} links to them, {@code iommu_group} links to
 * {@code kernel/iommu_groups/<n>}, and attributes are regular files.
 */
final class FakeSysfs {
    final Path root;

    FakeSysfs(Path root) {
        this.root = root;
    }

    /** A device directory under {@code devices/<bus>/<name>} with its {@code bus/<bus>/devices/<name>} link. */
    Path device(String bus, String name) throws IOException {
        Path dir = Files.createDirectories(root.resolve("devices").resolve(bus).resolve(name));
        Path busDevices =
                Files.createDirectories(root.resolve("bus").resolve(bus).resolve("devices"));
        Files.createSymbolicLink(busDevices.resolve(name), busDevices.relativize(dir));
        Files.writeString(dir.resolve("driver_override"), "(null)\n");
        Path probe = root.resolve("bus").resolve(bus).resolve("drivers_probe");
        if (!Files.exists(probe)) {
            Files.writeString(probe, "");
        }
        return dir;
    }

    /** {@code iommu_group -> ../../../kernel/iommu_groups/<group>}. */
    void iommuGroup(Path device, String group) throws IOException {
        Path groupDir = Files.createDirectories(
                root.resolve("kernel").resolve("iommu_groups").resolve(group));
        Files.createSymbolicLink(device.resolve("iommu_group"), device.relativize(groupDir));
    }

    /** {@code vfio-dev/<cdev>}, as a device bound to a VFIO driver has on Linux 6.6+. */
    void vfioCdev(Path device, String cdev) throws IOException {
        Files.createDirectories(device.resolve("vfio-dev").resolve(cdev));
    }

    /** {@code of_node/compatible}: the strings, each NUL-terminated. */
    void compatible(Path device, String... strings) throws IOException {
        Path ofNode = Files.createDirectories(device.resolve("of_node"));
        StringBuilder b = new StringBuilder();
        for (String s : strings) {
            b.append(s).append('\0');
        }
        Files.write(ofNode.resolve("compatible"), b.toString().getBytes(StandardCharsets.US_ASCII));
    }

    /** {@code driver -> bus/<bus>/drivers/<driver>}, whose {@code bind} and {@code unbind} attributes are regular files. */
    void driver(Path device, String bus, String driver) throws IOException {
        Path driverDir = Files.createDirectories(
                root.resolve("bus").resolve(bus).resolve("drivers").resolve(driver));
        for (String attribute : new String[] {"bind", "unbind"}) {
            if (!Files.exists(driverDir.resolve(attribute))) {
                Files.writeString(driverDir.resolve(attribute), "");
            }
        }
        Files.createSymbolicLink(device.resolve("driver"), device.relativize(driverDir));
    }

    /** The usual platform device: group 7, cdev vfio0, two compatible strings, bound to its own driver. */
    Path xgmac() throws IOException {
        Path dev = device("platform", "fff51000.ethernet");
        iommuGroup(dev, "7");
        vfioCdev(dev, "vfio0");
        compatible(dev, "calxeda,hb-xgmac", "snps,dwmac");
        driver(dev, "platform", "calxedaxgmac");
        return dev;
    }
}
