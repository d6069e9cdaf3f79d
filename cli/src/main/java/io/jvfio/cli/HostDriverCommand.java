package io.jvfio.cli;

import io.jvfio.vfio.VfioException;
import java.io.PrintWriter;
import java.util.List;

/**
 * {@code jvfio bind NAME} hands a host device to its bus's VFIO driver (driver_override, unbind, re-probe);
 * {@code jvfio unbind NAME} gives it back to its own driver.
 */
final class HostDriverCommand implements Subcommand {
    static final CommandSpec BIND = new CommandSpec(
            "bind",
            "Hand a host device to VFIO.",
            "Bind a host device to VFIO (vfio-platform for platform devices): writes driver_override, unbinds it "
                    + "from its driver and re-probes it; fails if the VFIO driver did not take it. Needs root.",
            HostDevice.OPTIONS,
            List.of(HostDevice.NAME),
            List.of());
    static final CommandSpec UNBIND = new CommandSpec(
            "unbind",
            "Give a host device back to its own driver.",
            "Give a host device back: clears driver_override, unbinds it from VFIO and re-probes it. Needs root.",
            HostDevice.OPTIONS,
            List.of(HostDevice.NAME),
            List.of());

    private final CommandSpec spec;

    /** {@code spec} is {@link #BIND} or {@link #UNBIND}. */
    HostDriverCommand(CommandSpec spec) {
        this.spec = spec;
    }

    @Override
    public CommandSpec spec() {
        return spec;
    }

    @Override
    public int run(ParsedArgs args, PrintWriter out, PrintWriter err) throws VfioException {
        HostDevice device = HostDevice.from(args);
        out.println(spec == BIND ? device.bind() : device.unbind());
        return 0;
    }
}
