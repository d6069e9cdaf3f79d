package io.jvfio.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code jvfio}: the command line of jvfio. Each subcommand is a thin shell over the library: it parses,
 * calls the modules, and prints. Errors are one line on stderr naming what was wrong.
 */
@Command(name = "jvfio", mixinStandardHelpOptions = true, version = "jvfio 0.1.0-SNAPSHOT",
        description = "VFIO platform device assignment for KVM guests: serve a modelled device over vfio-user, "
                + "inspect a device, run a guest with devices assigned, write its device tree, check the host.",
        subcommands = {DemoCommand.class, RunCommand.class, ServeCommand.class, InfoCommand.class, DtCommand.class,
            BindCommand.class, UnbindCommand.class, HostCommand.class, CommandLine.HelpCommand.class},
        footerHeading = "%nExit codes:%n",
        footer = {"  0  success",
            "  1  runtime failure: a device, KVM, the guest or a file (the error line says which)",
            "  2  usage error: a bad option, argument or device string",
            "  N  'jvfio run': the guest's exit code (low 8 bits, as the shell sees it)",
            "",
            "Device strings (run, dt) take QEMU's -device syntax and property names:",
            "  vfio-platform,socket=/tmp/dev.sock,mmap-timeout-ms=500,x-irqfd=off",
            "",
            "Start with: jvfio demo"})
public final class Jvfio implements Callable<Integer> {
    /** A runtime failure: the device, KVM, the guest or a file. */
    public static final int EXIT_FAILURE = 1;
    /** A bad option, argument or device string. */
    public static final int EXIT_USAGE = 2;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--trace", paramLabel = "FILE", scope = CommandLine.ScopeType.INHERIT,
            description = "Write a JFR recording of jvfio's events (io.jvfio.*: IRQ states, injections, EOIs, "
                    + "unmasks, fast-path switches, trapped accesses) to FILE when the command ends.")
    Path trace;

    public static void main(String[] args) {
        // System.Logger messages of the library (warnings about a device, a client's arrival) on one line.
        if (System.getProperty("java.util.logging.SimpleFormatter.format") == null) {
            System.setProperty("java.util.logging.SimpleFormatter.format", "[%1$tT.%1$tL] %4$s: %5$s%6$s%n");
        }
        System.exit(execute(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
    }

    /** Runs {@code jvfio ARGS} writing to {@code out} and {@code err}; returns the exit code. */
    public static int execute(String[] args, PrintWriter out, PrintWriter err) {
        CommandLine commandLine = commandLine();
        commandLine.setOut(out);
        commandLine.setErr(err);
        return commandLine.execute(args);
    }

    /** The configured command line: one-line errors and the documented exit codes. */
    public static CommandLine commandLine() {
        CommandLine commandLine = new CommandLine(new Jvfio());
        commandLine.setExitCodeExceptionMapper(e -> EXIT_FAILURE);
        commandLine.setExecutionStrategy(Jvfio::executeTraced);
        commandLine.setParameterExceptionHandler((e, args) -> {
            CommandLine failed = e.getCommandLine();
            failed.getErr().println(failed.getCommandName().equals("jvfio") ? "jvfio: " + oneLine(e.getMessage())
                    + " (see 'jvfio --help')" : "jvfio " + failed.getCommandName() + ": " + oneLine(e.getMessage())
                    + " (see 'jvfio " + failed.getCommandName() + " --help')");
            return EXIT_USAGE;
        });
        commandLine.setExecutionExceptionHandler((e, failed, parseResult) -> {
            failed.getErr().println(prefix(failed) + describe(e));
            return EXIT_FAILURE;
        });
        return commandLine;
    }

    /** Runs the chosen subcommand inside a JFR recording when {@code --trace} was given. */
    private static int executeTraced(CommandLine.ParseResult parseResult) {
        Jvfio top = parseResult.commandSpec().commandLine().getCommand();
        Path file = top.trace;
        for (CommandLine.ParseResult sub = parseResult.subcommand(); sub != null; sub = sub.subcommand()) {
            if (sub.hasMatchedOption("--trace")) {
                file = sub.matchedOptionValue("--trace", file);
            }
        }
        if (file == null) {
            return new CommandLine.RunLast().execute(parseResult);
        }
        try (Trace recording = Trace.start(file)) {
            return new CommandLine.RunLast().execute(parseResult);
        }
    }

    @Override
    public Integer call() {
        spec.commandLine().usage(spec.commandLine().getOut());
        return EXIT_USAGE;
    }

    static String prefix(CommandLine command) {
        return command.getCommandName().equals("jvfio") ? "jvfio: " : "jvfio " + command.getCommandName() + ": ";
    }

    /** The first line of an exception's message, or its type when it has none. */
    static String describe(Throwable e) {
        String message = e.getMessage();
        if (message == null || message.isBlank()) {
            return e.getClass().getSimpleName();
        }
        return oneLine(message);
    }

    static String oneLine(String message) {
        int newline = message.indexOf('\n');
        return (newline < 0 ? message : message.substring(0, newline)).strip();
    }
}
