package io.jvfio.cli;

import io.jvfio.sys.NativeCalls;
import io.jvfio.sys.StandardInput;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * {@code jvfio}: the command line of jvfio. Each subcommand is a thin shell over the library: it parses,
 * calls the modules, and prints. Errors are one line on stderr naming what was wrong.
 *
 * <p>A command's classes load only when it runs: test rigs start jvfio hundreds of times, and what a
 * JVM loads, links and initializes at start-up is most of what {@code jvfio --version} or {@code jvfio
 * info} costs.
 */
public final class Jvfio {
    /** A runtime failure: the device, KVM, the guest or a file. */
    public static final int EXIT_FAILURE = 1;
    /** A bad option, argument or device string. */
    public static final int EXIT_USAGE = 2;

    /** The commands, in the order the help lists them. */
    private static final List<String> COMMANDS =
            List.of("demo", "run", "serve", "info", "dt", "bind", "unbind", "host", "help");

    private static final String DESCRIPTION = "VFIO platform device assignment for KVM guests: serve a modelled "
            + "device over vfio-user, inspect a device, run a guest with devices assigned, write its device tree, "
            + "check the host.";

    private static final List<String> EXIT_CODES = List.of(
            "Exit codes:",
            "  0  success",
            "  1  runtime failure: a device, KVM, the guest or a file (the error line says which)",
            "  2  usage error: a bad option, argument or device string",
            "  N  'jvfio run': the guest's exit code (low 8 bits, as the shell sees it)",
            "",
            "Device strings (run, dt) take QEMU's -device syntax and property names:",
            "  vfio-platform,socket=/tmp/dev.sock,mmap-timeout-ms=500,x-irqfd=off",
            "",
            "Start with: jvfio demo");

    private Jvfio() {}

    public static void main(String[] args) {
        int code;
        // Closed before the exit, which would otherwise wait for a console input pump still in its read.
        try (StandardInput in = new StandardInput()) {
            code = execute(args, in, new PrintWriter(System.out, true), new PrintWriter(System.err, true));
        }
        System.exit(code);
    }

    /**
     * Runs {@code jvfio ARGS} writing to {@code out} and {@code err}, with nothing on its standard input
     * (this JVM's own stdin may belong to someone else: a test runner's commands, a user's terminal);
     * returns the exit code.
     */
    public static int execute(String[] args, PrintWriter out, PrintWriter err) {
        return execute(args, null, out, err);
    }

    /**
     * Runs {@code jvfio ARGS} reading {@code in} (null: no input; {@code jvfio run} feeds it to the
     * guest's console) and writing to {@code out} and {@code err}; returns the exit code.
     */
    public static int execute(String[] args, InputStream in, PrintWriter out, PrintWriter err) {
        int index = commandIndex(args);
        ParsedArgs top;
        try {
            top = ParsedArgs.parse(spec(), Arrays.asList(args).subList(0, index));
        } catch (UsageException e) {
            return usageError("jvfio", e, err);
        }
        if (top.has(CommandSpec.HELP.key())) {
            out.print(help());
            out.flush();
            return 0;
        }
        if (top.has(CommandSpec.VERSION_OPTION.key())) {
            out.println(CommandSpec.VERSION);
            return 0;
        }
        if (index == args.length) {
            out.print(help());
            out.flush();
            return EXIT_USAGE;
        }
        String name = args[index];
        Optional<Subcommand> command = command(name, in);
        if (command.isEmpty()) {
            return usageError("jvfio", new UsageException("Unknown command: '" + name + "'"), err);
        }
        List<String> rest = Arrays.asList(args).subList(index + 1, args.length);
        try {
            ParsedArgs parsed = ParsedArgs.parse(command.get().spec(), rest);
            if (parsed.has(CommandSpec.HELP.key())) {
                out.print(command.get().spec().help("jvfio " + name));
                out.flush();
                return 0;
            }
            if (parsed.has(CommandSpec.VERSION_OPTION.key())) {
                out.println(CommandSpec.VERSION);
                return 0;
            }
            warmUpInBackground(name.equals("run") || name.equals("demo"));
            Optional<Path> trace = parsed.value(CommandSpec.TRACE.key())
                    .or(() -> top.value(CommandSpec.TRACE.key()))
                    .map(Path::of);
            if (trace.isEmpty()) {
                return command.get().run(parsed, out, err);
            }
            try (Trace recording = Trace.start(trace.get())) {
                return command.get().run(parsed, out, err);
            }
        } catch (UsageException e) {
            return usageError("jvfio " + name, e, err);
        } catch (Exception e) {
            out.flush();
            err.println("jvfio " + name + ": " + describe(e));
            return EXIT_FAILURE;
        }
    }

    /**
     * Starts, on two daemon threads, what a command would otherwise wait for on its own thread, so that
     * it runs on the second core while the command parses its arguments and reads its files: one links the
     * downcalls (vCPU's too with {@code forVcpus}; a command without vCPUs leaves them, which would take the
     * CPU from it and from a device server it talks to), the other looks up the logger finder, which the
     * JVM's exit looks up even when nothing was logged and whose lookup opens every module's jar (10 ms).
     * Two threads, because neither waits for the other.
     */
    private static void warmUpInBackground(boolean forVcpus) {
        Thread.ofPlatform().name("jvfio-warm-up").daemon().start(() -> NativeCalls.link(forVcpus));
        Thread.ofPlatform().name("jvfio-warm-up-logger").daemon().start(System.LoggerFinder::getLoggerFinder);
    }

    /** Where the command's name is: the first argument that is neither an option nor {@code --trace}'s value. */
    private static int commandIndex(String[] args) {
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals(CommandSpec.TRACE.key())) {
                i++;
            } else if (!args[i].startsWith("-")) {
                return i;
            }
        }
        return args.length;
    }

    /** The command of that name, its classes loaded now. */
    static Optional<Subcommand> command(String name) {
        return command(name, null);
    }

    /** The command of that name reading {@code in} (null: nothing), its classes loaded now. */
    private static Optional<Subcommand> command(String name, InputStream in) {
        return Optional.ofNullable(
                switch (name) {
                    case "demo" -> new DemoCommand();
                    case "run" -> new RunCommand(in);
                    case "serve" -> new ServeCommand();
                    case "info" -> new InfoCommand();
                    case "dt" -> new DtCommand();
                    case "bind" -> new HostDriverCommand(HostDriverCommand.BIND);
                    case "unbind" -> new HostDriverCommand(HostDriverCommand.UNBIND);
                    case "host" -> new HostCommand();
                    case "help" -> new HelpCommand();
                    default -> null;
                });
    }

    private static CommandSpec spec() {
        return new CommandSpec("jvfio", "", DESCRIPTION, List.of(), List.of(), List.of());
    }

    /** {@code jvfio --help}: the usage, each command with its summary, the options and the exit codes. */
    static String help() {
        StringBuilder commands = new StringBuilder();
        List<String[]> rows = new ArrayList<>();
        for (String name : COMMANDS) {
            rows.add(new String[] {name, command(name).orElseThrow().spec().summary()});
        }
        CommandSpec.appendTable(commands, rows);
        List<String> footer = new ArrayList<>(List.of("Commands:"));
        footer.addAll(commands.toString().lines().toList());
        footer.add("");
        footer.addAll(EXIT_CODES);
        return spec().withParameters(new CommandSpec.Parameter(
                        "COMMAND [ARGS...]", "The command to run; " + "'jvfio COMMAND --help' describes it."))
                .withFooter(footer.toArray(String[]::new))
                .help("jvfio");
    }

    private static int usageError(String command, UsageException e, PrintWriter err) {
        err.println(command + ": " + oneLine(e.getMessage()) + " (see '" + command + " --help')");
        return EXIT_USAGE;
    }

    /**
     * The first line of an exception's message, or its type when it has none. A file exception without a
     * reason ({@code NoSuchFileException}: its message is the path alone) gets what went wrong added.
     */
    static String describe(Throwable e) {
        String message = e.getMessage();
        if (message == null || message.isBlank()) {
            return e.getClass().getSimpleName();
        }
        if (e instanceof FileSystemException file && file.getReason() == null) {
            return oneLine(message + ": " + fileProblem(file));
        }
        return oneLine(message);
    }

    /** What went wrong with a file, without its name: the reason, or what the exception's type says. */
    static String fileProblem(FileSystemException e) {
        if (e.getReason() != null) {
            return e.getReason();
        }
        return switch (e) {
            case NoSuchFileException missing -> "no such file or directory";
            case AccessDeniedException denied -> "permission denied";
            case FileAlreadyExistsException exists -> "file exists";
            case NotDirectoryException notDirectory -> "not a directory";
            case DirectoryNotEmptyException notEmpty -> "directory not empty";
            default -> e.getClass().getSimpleName();
        };
    }

    static String oneLine(String message) {
        int newline = message.indexOf('\n');
        return (newline < 0 ? message : message.substring(0, newline)).strip();
    }

    /** {@code jvfio help [COMMAND]}: the help of jvfio or of one command. */
    private static final class HelpCommand implements Subcommand {
        private static final CommandSpec SPEC = CommandSpec.of(
                        "help", "Show the help of jvfio or of a command.", "Show the help of jvfio, or of COMMAND.")
                .withParameters(new CommandSpec.Parameter("COMMAND", "The command to describe.", false));

        @Override
        public CommandSpec spec() {
            return SPEC;
        }

        @Override
        public int run(ParsedArgs args, PrintWriter out, PrintWriter err) {
            Optional<String> name = args.optionalParameter(0);
            if (name.isEmpty()) {
                out.print(help());
            } else {
                Subcommand command = command(name.get())
                        .orElseThrow(() -> new UsageException("Unknown command: '" + name.get() + "'"));
                out.print(command.spec().help("jvfio " + name.get()));
            }
            out.flush();
            return 0;
        }
    }
}
