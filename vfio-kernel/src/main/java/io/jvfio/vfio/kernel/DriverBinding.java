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

    /**
     * What a bind or unbind did: the driver before, and the driver bound at the end (for a bind that no
     * driver took, the driver before again).
     */
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
     * and asks the bus to probe it again (which picks the override). Where a write fails, or the probe
     * leaves the device without a driver (the VFIO driver not loaded, or refusing it), the device gets its
     * override back and, if it had one, its driver before: a bind that did not work leaves no device unbound.
     */
    public Result bind(String bus, String name) throws VfioException {
        Path device = existingDevice(bus, name);
        String vfio = vfioDriverFor(bus);
        Optional<String> previous = currentDriver(device);
        Path override = device.resolve("driver_override");
        Optional<String> overrideBefore = readOverride(name, override);
        write(name, override, vfio);
        if (previous.equals(Optional.of(vfio))) {
            return new Result(previous, currentDriver(device));
        }
        try {
            if (previous.isPresent()) {
                write(name, device.resolve("driver").resolve("unbind"), name);
            }
            write(name, sysfs.sysfsRoot().resolve("bus").resolve(bus).resolve("drivers_probe"), name);
        } catch (VfioException e) {
            try {
                giveBack(bus, name, device, previous, overrideBefore);
            } catch (VfioException notGivenBack) {
                e.addSuppressed(notGivenBack);
            }
            throw e;
        }
        if (currentDriver(device).isEmpty()) {
            giveBack(bus, name, device, previous, overrideBefore);
        }
        return new Result(previous, currentDriver(device));
    }

    /**
     * Undoes a bind that did not work: the override first, since a bus matches a device that has one to
     * that driver alone, then the device to its driver before if none has it now.
     */
    private void giveBack(
            String bus, String name, Path device, Optional<String> previous, Optional<String> overrideBefore)
            throws VfioException {
        write(name, device.resolve("driver_override"), overrideBefore.orElse("\n"));
        if (previous.isPresent() && currentDriver(device).isEmpty()) {
            write(
                    name,
                    sysfs.sysfsRoot()
                            .resolve("bus")
                            .resolve(bus)
                            .resolve("drivers")
                            .resolve(previous.get())
                            .resolve("bind"),
                    name);
        }
    }

    /** {@code driver_override}'s value; the kernel shows an unset one as {@code (null)}. */
    private static Optional<String> readOverride(String name, Path override) throws VfioException {
        String value;
        try {
            value = Files.readString(override, StandardCharsets.US_ASCII).strip();
        } catch (IOException e) {
            throw new VfioException(name, "cannot read " + override + ": " + e);
        }
        return value.isEmpty() || value.equals("(null)") ? Optional.empty() : Optional.of(value);
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
