package io.jvfio.cli;

import java.util.concurrent.Callable;

import io.jvfio.vfio.VfioException;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code jvfio unbind NAME}: gives a host device back to its own driver. */
@Command(name = "unbind", mixinStandardHelpOptions = true,
        description = "Give a host device back: clears driver_override, unbinds it from VFIO and re-probes it. Needs root.")
final class UnbindCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Mixin
    HostDevice device;

    @Override
    public Integer call() throws VfioException {
        spec.commandLine().getOut().println(device.unbind());
        return 0;
    }
}
