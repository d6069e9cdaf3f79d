package io.jvfio.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;

import io.jvfio.vfio.VfioException;
import io.jvfio.vfio.kernel.DriverBinding;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code jvfio unbind NAME}: gives a host device back to its own driver. */
@Command(name = "unbind", mixinStandardHelpOptions = true,
        description = "Give a host device back: clears driver_override, unbinds it from VFIO and re-probes it. Needs root.")
final class UnbindCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Parameters(index = "0", paramLabel = "NAME", description = "The device's name.")
    String name;

    @Option(names = "--bus", paramLabel = "BUS", defaultValue = "platform",
            description = "The device's bus (default ${DEFAULT-VALUE}; also pci, amba).")
    String bus;

    @Option(names = "--sysfs-root", hidden = true, defaultValue = "/sys")
    Path sysfsRoot;

    @Override
    public Integer call() throws VfioException {
        DriverBinding.Result result = new DriverBinding(sysfsRoot).unbind(bus, name);
        spec.commandLine().getOut().println(describe(name, result));
        return 0;
    }

    static String describe(String name, DriverBinding.Result result) {
        return name + ": driver " + result.previousDriver().orElse("(none)") + " -> " + result.driverNow().orElse("(none)");
    }
}
