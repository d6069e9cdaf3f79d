package io.jvfio.vfio.kernel;

import io.jvfio.vfio.VfioException;
import io.jvfio.vfio.kernel.DiscoveryException.Problem;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Optional;

/**
 * Hands a host device to its bus's VFIO driver and back, as users do by hand: {@code driver_override},
 * unbind from the current driver, {@code drivers_probe}. Works against any sysfs root, so tests run it
 * on a built tree whose attributes are regular files.
 */
public final class DriverBinding {
    private final SysfsDiscovery sysfs;

    public DriverBinding(Path sysfsRoot) {
        this.sysfs = new SysfsDiscovery(sysfsRoot);
    }

    /** What a bind or unbind did: the driver before, and the driver bound once the kernel re-probed. */
    public record Result(Optional<String> previousDriver, Optional<String> driverNow) {}

    /** The VFIO driver of a bus: {@code vfio-platform}, {@code vfio-pci}, {@code vfio-amba}. */
    public static String vfioDriverFor(String bus) {
        return switch (bus) {
            case "pci" -> "vfio-pci";
            case "amba" -> "vfio-amba";
            case "fsl-mc" -> "vfio-fsl-mc";
            default -> "vfio-" + bus;
        };
    }

    /** Binds a platform device to vfio-platform. */
    public Result bind(String name) throws VfioException {
        return bind(SysfsDiscovery.PLATFORM_BUS, name);
    }

    /**
     * Writes the bus's VFIO driver to {@code driver_override}, unbinds the device from its current driver,
     * and asks the bus to probe it again (which picks the override).
     */
    public Result bind(String bus, String name) throws VfioException {
        Path device = existingDevice(bus, name);
        Optional<String> previous = currentDriver(device);
        write(name, device.resolve("driver_override"), vfioDriverFor(bus));
        if (previous.isPresent() && !previous.get().equals(vfioDriverFor(bus))) {
            write(name, device.resolve("driver").resolve("unbind"), name);
        }
        if (previous.isEmpty() || !previous.get().equals(vfioDriverFor(bus))) {
            write(name, sysfs.sysfsRoot().resolve("bus").resolve(bus).resolve("drivers_probe"), name);
        }
        return new Result(previous, currentDriver(device));
    }

    /** Gives a platform device back: clears the override, unbinds from VFIO, and re-probes. */
    public Result unbind(String name) throws VfioException {
        return unbind(SysfsDiscovery.PLATFORM_BUS, name);
    }

    /** Clears {@code driver_override}, unbinds the device from its driver, and re-probes it. */
    public Result unbind(String bus, String name) throws VfioException {
        Path device = existingDevice(bus, name);
        Optional<String> previous = currentDriver(device);
        write(name, device.resolve("driver_override"), "\n");
        if (previous.isPresent()) {
            write(name, device.resolve("driver").resolve("unbind"), name);
        }
        write(name, sysfs.sysfsRoot().resolve("bus").resolve(bus).resolve("drivers_probe"), name);
        return new Result(previous, currentDriver(device));
    }

    /** The driver a device is bound to now ({@code driver} link's name). */
    public Optional<String> currentDriver(String bus, String name) throws VfioException {
        return currentDriver(existingDevice(bus, name));
    }

    private Path existingDevice(String bus, String name) throws DiscoveryException {
        Path device = sysfs.devicePath(bus, name);
        if (!Files.isDirectory(device)) {
            throw new DiscoveryException(
                    name, Problem.NO_DEVICE, device, "no such host device: " + device + " does not exist");
        }
        return device;
    }

    private static Optional<String> currentDriver(Path device) {
        Path link = device.resolve("driver");
        if (!Files.isSymbolicLink(link)) {
            return Optional.empty();
        }
        try {
            Path target = Files.readSymbolicLink(link).getFileName();
            return Optional.ofNullable(target).map(Path::toString);
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    private static void write(String name, Path attribute, String value) throws VfioException {
        try {
            Files.write(
                    attribute,
                    value.getBytes(StandardCharsets.US_ASCII),
                    StandardOpenOption.WRITE,
                    StandardOpenOption.TRUNCATE_EXISTING);
        } catch (IOException e) {
            throw new VfioException(name, "cannot write '" + value.strip() + "' to " + attribute + ": " + e);
        }
    }
}
