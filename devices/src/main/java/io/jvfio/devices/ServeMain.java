package io.jvfio.devices;

import io.jvfio.vfio.DeviceTreeIdentity;
import io.jvfio.vfiouser.server.DeviceContext;
import io.jvfio.vfiouser.server.DeviceModel;
import io.jvfio.vfiouser.server.ModelIrqSpec;
import io.jvfio.vfiouser.server.PostedWrite;
import io.jvfio.vfiouser.server.RegionSpec;
import io.jvfio.vfiouser.server.VfioUserServer;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.LocalTime;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.function.ToIntFunction;
import java.util.stream.Collectors;

/**
 * Serving a device model over vfio-user until this JVM is told to stop: {@link #serveUntilStopped}, what
 * {@code jvfio serve}, this class's {@code main} and the benchmarks' servers all run. The {@code main}
 * serves the test device: {@code ServeMain --socket PATH [--irqs N] [--level-mask M]}. Prints
 * {@code serving test-device on PATH} once the socket listens (what tests and {@code jvfio} wait for). Exit
 * codes: 2 for a bad argument, 1 when the socket cannot be served; errors are one line on stderr. Stopped
 * by SIGTERM or SIGINT it exits as the JVM does after its shutdown hooks, with 143 or 130 (128 plus the
 * signal), not 0.
 */
public final class ServeMain {
    static final String USAGE = "usage: ServeMain --socket PATH [--irqs N] [--level-mask M]";
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("HH:mm:ss.SSS");

    private ServeMain() {}

    /** The parsed command line. */
    record Arguments(Path socket, DeviceOptions options) {}

    public static void main(String[] args) throws InterruptedException {
        if (args.length == 1 && (args[0].equals("-h") || args[0].equals("--help"))) {
            System.out.println(USAGE);
            return;
        }
        ModelledDevice device;
        Path socket;
        try {
            Arguments arguments = parse(args);
            socket = arguments.socket();
            device = DeviceCatalog.create(DeviceCatalog.TEST_DEVICE, arguments.options());
        } catch (IllegalArgumentException e) {
            System.err.println("jvfio serve: " + e.getMessage());
            System.exit(2);
            return;
        }
        try {
            serveUntilStopped(socket, device, new PrintWriter(System.out, true), new PrintWriter(System.err, true));
        } catch (IOException e) {
            System.err.println("jvfio serve: " + e.getMessage());
            System.exit(1);
        }
    }

    /**
     * Serves {@code device} on {@code socket} until the JVM shuts down (SIGTERM, Ctrl-C). Logs the model's
     * configuration, each client that connects and each that leaves with the model's counters ({@code
     * client N left; line0.raises=20 ...}, which {@link ServerProcess#awaitClientLeft} reads), and at the
     * end the clients served and the totals, on {@code log}; prints {@code serving KIND on PATH} on
     * {@code out} once the socket listens. Owns the device: closes it at the end, or at once when the
     * socket cannot be served, which is an {@link IOException} saying so.
     */
    public static void serveUntilStopped(Path socket, ModelledDevice device, PrintWriter out, PrintWriter log)
            throws IOException, InterruptedException {
        VfioUserServer server;
        try {
            server = VfioUserServer.start(socket, new ClientLog(device, log));
        } catch (IOException | RuntimeException e) {
            device.close();
            throw new IOException(
                    "cannot serve on " + socket + ": "
                            + Objects.requireNonNullElse(
                                    e.getMessage(), e.getClass().getSimpleName()),
                    e);
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Thread shutdown = Thread.ofPlatform().name("device server shutdown").unstarted(() -> {
            server.close();
            log.println(stamp() + " stopped after " + server.clientsServed() + " client(s); " + totals(device));
            log.flush();
            device.close();
            stopped.countDown();
        });
        try {
            Runtime.getRuntime().addShutdownHook(shutdown);
        } catch (IllegalStateException shuttingDown) {
            // SIGTERM came after the bind: the hooks already run, so the server closes (and its socket goes) here
            shutdown.run();
            return;
        }
        log.println(stamp() + " " + device.describe());
        log.flush();
        out.println("serving " + device.kind() + " on " + socket);
        out.flush();
        stopped.await();
    }

    /** The model's counters as {@code name=value} pairs separated by spaces. */
    static String totals(ModelledDevice device) {
        return device.totals().entrySet().stream()
                .map(e -> e.getKey() + "=" + e.getValue())
                .collect(Collectors.joining(" "));
    }

    private static String stamp() {
        return "[" + LocalTime.now().format(TIME) + "]";
    }

    /**
     * The model as served, logging each client that connects and leaves. Everything else is the model's:
     * every method of {@link DeviceModel} is passed on (a default left in place would silently serve the
     * default, as once its posted writes).
     */
    static final class ClientLog implements DeviceModel {
        private final ModelledDevice model;
        private final PrintWriter log;
        private int clients;

        ClientLog(ModelledDevice model, PrintWriter log) {
            this.model = model;
            this.log = log;
        }

        @Override
        public int deviceFlags() {
            return model.deviceFlags();
        }

        @Override
        public List<RegionSpec> regions() {
            return model.regions();
        }

        @Override
        public List<ModelIrqSpec> irqs() {
            return model.irqs();
        }

        @Override
        public List<PostedWrite> postedWrites() {
            return model.postedWrites();
        }

        @Override
        public void attach(DeviceContext context) {
            model.attach(context);
        }

        @Override
        public void reset() {
            model.reset();
        }

        @Override
        public Optional<DeviceTreeIdentity> deviceTreeIdentity() {
            return model.deviceTreeIdentity();
        }

        @Override
        public void dmaMapped(long iova, long size, boolean readable, boolean writable) {
            model.dmaMapped(iova, size, readable, writable);
        }

        @Override
        public void dmaUnmapped(long iova, long size) {
            model.dmaUnmapped(iova, size);
        }

        @Override
        public void clientConnected() {
            clients++;
            log.println(stamp() + " client " + clients + " connected");
            log.flush();
            model.clientConnected();
        }

        @Override
        public void clientDisconnected() {
            model.clientDisconnected();
            log.println(stamp() + " client " + clients + " left; " + totals(model));
            log.flush();
        }
    }

    /** Parses the command line; an {@link IllegalArgumentException} names the bad argument. */
    static Arguments parse(String[] args) {
        Path socket = null;
        DeviceOptions options = DeviceOptions.defaults();
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            switch (arg) {
                case "--socket" -> socket = Path.of(value(args, ++i, arg));
                case "--irqs" ->
                    options = options.withIrqs(number(value(args, ++i, arg), arg, OptionNumbers::parseInt));
                case "--level-mask" ->
                    options =
                            options.withLevelMask(number(value(args, ++i, arg), arg, OptionNumbers::parseUnsignedInt));
                case "-h", "--help" -> throw new IllegalArgumentException(USAGE);
                default -> throw new IllegalArgumentException("unknown argument '" + arg + "'; " + USAGE);
            }
        }
        if (socket == null) {
            throw new IllegalArgumentException("--socket PATH is required; " + USAGE);
        }
        return new Arguments(socket, options);
    }

    private static String value(String[] args, int i, String option) {
        if (i >= args.length) {
            throw new IllegalArgumentException(option + " needs a value");
        }
        return args[i];
    }

    /** A number read as {@link OptionNumbers} reads it, the option named in the error. */
    private static int number(String text, String option, ToIntFunction<String> parse) {
        try {
            return parse.applyAsInt(text);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(option + " " + e.getMessage(), e);
        }
    }
}
