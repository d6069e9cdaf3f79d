package io.jvfio.cli;

import io.jvfio.devices.DeviceCatalog;
import io.jvfio.devices.DeviceOptions;
import io.jvfio.devices.ModelledDevice;
import io.jvfio.devices.OptionNumbers;
import io.jvfio.devices.ServeMain;
import io.jvfio.devices.ServerProcess;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * {@code jvfio serve MODEL --socket PATH}: serves a device model of the catalog over vfio-user until
 * Ctrl-C (or SIGTERM), logging each client: the options as a command, the serving itself is
 * {@link ServeMain#serveUntilStopped}, as in every other server jvfio starts. Prints {@code serving MODEL
 * on PATH} once the socket listens, which is what scripts and the demo wait for.
 */
final class ServeCommand implements Subcommand {
    static final CommandSpec SPEC = CommandSpec.of(
                    "serve",
                    "Serve a device model over vfio-user until Ctrl-C.",
                    "Serve a device model over vfio-user until Ctrl-C; logs each client on stderr. Prints 'serving MODEL on "
                            + "PATH' once the socket listens, and the model's counters at the end.",
                    OptionSpec.value("PATH", "The UNIX socket to listen on.", "--socket")
                            .mustBeGiven(),
                    OptionSpec.value(
                            "N",
                            "test-device: IRQ lines (1..8, default " + DeviceOptions.DEFAULT_IRQS + ").",
                            "--irqs"),
                    OptionSpec.value(
                            "M",
                            "test-device: bit i set: line i is level-triggered (decimal or 0x hex; default: "
                                    + "odd lines level).",
                            "--level-mask"),
                    OptionSpec.value(
                            "PATH",
                            "ns16550a: the serial line's far end, a UNIX socket to listen on (one peer at "
                                    + "a time; e.g. socat - UNIX-CONNECT:PATH). Without it the line goes nowhere.",
                            "--serial-socket"),
                    OptionSpec.value(
                            "N",
                            "virtio-rng: serve a reproducible stream seeded with N (decimal or 0x hex; for "
                                    + "tests, NOT random) instead of the host's entropy.",
                            "--seed"),
                    OptionSpec.value(
                            "PATH",
                            "virtio-blk: the host file that backs the disk (its whole 512-byte sectors).",
                            "--file"),
                    OptionSpec.flag("virtio-blk: serve the file read-only (VIRTIO_BLK_F_RO).", "--read-only"))
            .withParameters(new CommandSpec.Parameter(
                    "MODEL", "The device model: " + String.join(", ", DeviceCatalog.names()) + "."));

    @Override
    public CommandSpec spec() {
        return SPEC;
    }

    @Override
    public int run(ParsedArgs args, PrintWriter out, PrintWriter err) throws IOException, InterruptedException {
        String model = args.parameter(0);
        Path socket = Path.of(args.required("--socket"));
        Optional<Integer> irqs = args.value("--irqs", OptionNumbers::parseInt);
        Optional<Integer> levelMask = args.value("--level-mask", OptionNumbers::parseUnsignedInt);
        Optional<String> serialSocket = args.value("--serial-socket");
        Optional<Long> seed = args.value("--seed", OptionNumbers::parseLong);
        Optional<String> file = args.value("--file");
        boolean readOnly = args.has("--read-only");
        ModelledDevice device;
        try {
            DeviceOptions options = DeviceOptions.defaults();
            options = irqs.isPresent() ? options.withIrqs(irqs.get()) : options;
            options = levelMask.isPresent() ? options.withLevelMask(levelMask.get()) : options;
            options = serialSocket.isPresent() ? options.withSerialSocket(Path.of(serialSocket.get())) : options;
            options = seed.isPresent() ? options.withSeed(seed.get()) : options;
            options = file.isPresent() ? options.withFile(Path.of(file.get())) : options;
            options = readOnly ? options.withReadOnly() : options;
            device = DeviceCatalog.create(model, options);
        } catch (IllegalArgumentException e) {
            throw new UsageException(Jvfio.oneLine(e.getMessage()));
        }
        ServeMain.serveUntilStopped(socket, device, out, err);
        return 0;
    }

    /**
     * Starts {@code jvfio serve MODEL --socket SOCKET ARGS...} in a child JVM on this very class path (the
     * jvfio jar, or the build's classes in tests), as users run it, and waits until it listens.
     */
    static ServerProcess startChild(
            String model, Path socket, Duration readyTimeout, List<String> jvmOptions, String... args)
            throws IOException {
        List<String> mainAndArgs =
                new ArrayList<>(List.of(Jvfio.class.getName(), "serve", model, "--socket", socket.toString()));
        mainAndArgs.addAll(List.of(args));
        return ServerProcess.startMain(socket, readyTimeout, jvmOptions, mainAndArgs);
    }
}
