package io.jvfio.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;

import io.jvfio.vfio.VfioException;
import io.jvfio.vfio.kernel.DriverBinding;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code jvfio bind NAME}: hands a host device to its bus's VFIO driver (driver_override, unbind, re-probe). */
@Command(name = "bind", mixinStandardHelpOptions = true,
        description = "Bind a host device to VFIO (vfio-platform for platform devices): writes driver_override, "
                + "unbinds it from its driver and re-probes it. Needs root.")
final class BindCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Parameters(index = "0", paramLabel = "NAME", description = "The device's name, e.g. fff51000.ethernet.")
    String name;

    @Option(names = "--bus", paramLabel = "BUS", defaultValue = "platform",
            description = "The device's bus (default ${DEFAULT-VALUE}; also pci, amba).")
    String bus;

    @Option(names = "--sysfs-root", hidden = true, defaultValue = "/sys")
    Path sysfsRoot;

    @Override
    public Integer call() throws VfioException {
        DriverBinding.Result result = new DriverBinding(sysfsRoot).bind(bus, name);
        spec.commandLine().getOut().println(UnbindCommand.describe(name, result));
        return 0;
    }
}
