package io.jvfio.cli;

import java.util.concurrent.Callable;

import io.jvfio.vfio.VfioException;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code jvfio bind NAME}: hands a host device to its bus's VFIO driver (driver_override, unbind, re-probe). */
@Command(name = "bind", mixinStandardHelpOptions = true,
        description = "Bind a host device to VFIO (vfio-platform for platform devices): writes driver_override, "
                + "unbinds it from its driver and re-probes it. Needs root.")
final class BindCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Mixin
    HostDevice device;

    @Override
    public Integer call() throws VfioException {
        spec.commandLine().getOut().println(device.bind());
        return 0;
    }
}
