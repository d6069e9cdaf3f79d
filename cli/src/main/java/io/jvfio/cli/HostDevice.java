package io.jvfio.cli;

import java.nio.file.Path;

import io.jvfio.vfio.VfioException;
import io.jvfio.vfio.kernel.DriverBinding;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** The host device that {@code bind} and {@code unbind} move between drivers: its name, its bus, and sysfs. */
final class HostDevice {
    @Parameters(index = "0", paramLabel = "NAME", description = "The device's name, e.g. fff51000.ethernet.")
    String name;

    @Option(names = "--bus", paramLabel = "BUS", defaultValue = "platform",
            description = "The device's bus (default ${DEFAULT-VALUE}; also pci, amba).")
    String bus;

    @Option(names = "--sysfs-root", hidden = true, defaultValue = "/sys")
    Path sysfsRoot;

    /** Hands the device to VFIO; says which driver it had before and has now. */
    String bind() throws VfioException {
        return describe(new DriverBinding(sysfsRoot).bind(bus, name));
    }

    /** Gives the device back to its own driver; says which driver it had before and has now. */
    String unbind() throws VfioException {
        return describe(new DriverBinding(sysfsRoot).unbind(bus, name));
    }

    private String describe(DriverBinding.Result result) {
        return name + ": driver " + result.previousDriver().orElse("(none)") + " -> "
                + result.driverNow().orElse("(none)");
    }
}
