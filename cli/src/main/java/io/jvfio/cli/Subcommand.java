package io.jvfio.cli;

import java.io.PrintWriter;

/**
 * A command of {@code jvfio}: what it accepts, and what it does with a command line parsed against that.
 * It throws {@link UsageException} for a bad argument it finds itself (exit 2) and anything else for a
 * runtime failure (exit 1); {@link Jvfio} prints either as one line.
 */
interface Subcommand {
    CommandSpec spec();

    /** Runs the command; returns its exit code. */
    int run(ParsedArgs args, PrintWriter out, PrintWriter err) throws Exception;
}
