package io.jvfio.cli;

import io.jvfio.vfio.VfioException;
import java.io.PrintWriter;
import java.util.List;

/** {@code jvfio bind NAME}: hands a host device to its bus's VFIO driver (driver_override, unbind, re-probe). */
final class BindCommand implements Subcommand {
    static final CommandSpec SPEC = new CommandSpec(
            "bind",
            "Hand a host device to VFIO.",
            "Bind a host device to VFIO (vfio-platform for platform devices): writes driver_override, unbinds it "
                    + "from its driver and re-probes it. Needs root.",
            HostDevice.OPTIONS,
            List.of(HostDevice.NAME),
            List.of());

    @Override
    public CommandSpec spec() {
        return SPEC;
    }

    @Override
    public int run(ParsedArgs args, PrintWriter out, PrintWriter err) throws VfioException {
        out.println(HostDevice.from(args).bind());
        return 0;
    }
}
