package io.jvfio.cli;

import io.jvfio.vfio.VfioException;
import java.io.PrintWriter;
import java.util.List;

/** {@code jvfio unbind NAME}: gives a host device back to its own driver. */
final class UnbindCommand implements Subcommand {
    static final CommandSpec SPEC = new CommandSpec(
            "unbind",
            "Give a host device back to its own driver.",
            "Give a host device back: clears driver_override, unbinds it from VFIO and re-probes it. Needs root.",
            HostDevice.OPTIONS,
            List.of(HostDevice.NAME),
            List.of());

    @Override
    public CommandSpec spec() {
        return SPEC;
    }

    @Override
    public int run(ParsedArgs args, PrintWriter out, PrintWriter err) throws VfioException {
        out.println(HostDevice.from(args).unbind());
        return 0;
    }
}
