package io.jvfio.cli;

import io.jvfio.vfio.VfioException;
import io.jvfio.vfio.kernel.DriverBinding;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/** The host device that {@code bind} and {@code unbind} move between drivers: its name, its bus, and sysfs. */
record HostDevice(String name, String bus, Path sysfsRoot) {
    static final String DEFAULT_BUS = "platform";

    /** The options both commands take; {@code --sysfs-root} is for tests, which build a sysfs tree of plain files. */
    static final List<OptionSpec> OPTIONS = List.of(
            OptionSpec.value("BUS", "The device's bus (default " + DEFAULT_BUS + "; also pci, amba).", "--bus"),
            OptionSpec.value("DIR", "", "--sysfs-root").hiddenFromHelp());

    static final CommandSpec.Parameter NAME =
            new CommandSpec.Parameter("NAME", "The device's name, e.g. fff51000.ethernet.");

    static HostDevice from(ParsedArgs args) {
        return new HostDevice(
                args.parameter(0),
                args.value("--bus").orElse(DEFAULT_BUS),
                Path.of(args.value("--sysfs-root").orElse("/sys")));
    }

    /**
     * Hands the device to VFIO; says which driver it had before and has now. The kernel's re-probe succeeds
     * whether or not a driver takes the device, so a device that ends up without the bus's VFIO driver (not
     * loaded, or refusing it: vfio-platform refuses a device it has no reset for) is a failure saying so.
     */
    String bind() throws VfioException {
        DriverBinding.Result result = new DriverBinding(sysfsRoot).bind(bus, name);
        String vfio = DriverBinding.vfioDriverFor(bus);
        if (!result.driverNow().equals(Optional.of(vfio))) {
            String before = " (driver before: " + result.previousDriver().orElse("none") + ")";
            throw new VfioException(
                    name,
                    vfio + " did not take the device: "
                            + result.driverNow()
                                    .map(driver -> "it is bound to " + driver + " after the re-probe" + before)
                                    .orElse("no driver has it after the re-probe" + before + "; is " + vfio
                                            + " loaded (modprobe " + vfio + ")?" + resetHint()));
        }
        return describe(result);
    }

    /** vfio-platform (and vfio-amba, on the same core) refuses a device without a reset function by default. */
    private String resetHint() {
        return bus.equals("platform") || bus.equals("amba")
                ? " It refuses a device it has no reset function for unless loaded with reset_required=0."
                : "";
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
