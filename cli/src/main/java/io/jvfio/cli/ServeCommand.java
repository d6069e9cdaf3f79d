package io.jvfio.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.LocalTime;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.stream.Collectors;

import io.jvfio.devices.DeviceCatalog;
import io.jvfio.devices.DeviceOptions;
import io.jvfio.devices.ModelledDevice;
import io.jvfio.vfio.DeviceTreeIdentity;
import io.jvfio.vfiouser.server.DeviceContext;
import io.jvfio.vfiouser.server.DeviceModel;
import io.jvfio.vfiouser.server.IrqSpec;
import io.jvfio.vfiouser.server.RegionSpec;
import io.jvfio.vfiouser.server.VfioUserServer;

/**
 * {@code jvfio serve MODEL --socket PATH}: serves a device model of the catalog over vfio-user until
 * Ctrl-C (or SIGTERM), logging each client. Prints {@code serving MODEL on PATH} once the socket listens,
 * the same line {@code ServeMain} prints, which is what scripts and the demo wait for.
 */
final class ServeCommand implements Subcommand {
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("HH:mm:ss.SSS");

    static final CommandSpec SPEC = CommandSpec.of("serve", "Serve a device model over vfio-user until Ctrl-C.",
            "Serve a device model over vfio-user until Ctrl-C; logs each client on stderr. Prints 'serving MODEL on "
                    + "PATH' once the socket listens, and the model's counters at the end.",
            OptionSpec.value("PATH", "The UNIX socket to listen on.", "--socket").mustBeGiven(),
            OptionSpec.value("N", "test-device: IRQ lines (1..8, default " + DeviceOptions.DEFAULT_IRQS + ").", "--irqs"),
            OptionSpec.value("M", "test-device: bit i set: line i is level-triggered (decimal or 0x hex; default: "
                    + "odd lines level).", "--level-mask"),
            OptionSpec.value("PATH", "ns16550a: the serial line's far end, a UNIX socket to listen on (one peer at "
                    + "a time; e.g. socat - UNIX-CONNECT:PATH). Without it the line goes nowhere.", "--serial-socket"),
            OptionSpec.value("N", "virtio-rng: serve a reproducible stream seeded with N (decimal or 0x hex; for "
                    + "tests, NOT random) instead of the host's entropy.", "--seed"))
            .withParameters(new CommandSpec.Parameter("MODEL", "The device model: "
                    + String.join(", ", DeviceCatalog.names()) + "."));

    @Override
    public CommandSpec spec() {
        return SPEC;
    }

    @Override
    public int run(ParsedArgs args, PrintWriter out, PrintWriter err) throws IOException, InterruptedException {
        String model = args.parameter(0);
        Path socket = Path.of(args.required("--socket"));
        Optional<Integer> irqs = args.value("--irqs", Numbers::parseInt);
        Optional<Integer> levelMask = args.value("--level-mask", Numbers::parseInt);
        Optional<String> serialSocket = args.value("--serial-socket");
        Optional<Long> seed = args.value("--seed", Numbers::parseLong);
        ModelledDevice device;
        try {
            DeviceOptions options = DeviceOptions.defaults();
            options = irqs.isPresent() ? options.withIrqs(irqs.get()) : options;
            options = levelMask.isPresent() ? options.withLevelMask(levelMask.get()) : options;
            options = serialSocket.isPresent() ? options.withSerialSocket(Path.of(serialSocket.get())) : options;
            options = seed.isPresent() ? options.withSeed(seed.get()) : options;
            device = DeviceCatalog.create(model, options);
        } catch (IllegalArgumentException e) {
            throw new UsageException(Jvfio.oneLine(e.getMessage()));
        }
        VfioUserServer server;
        try {
            server = VfioUserServer.start(socket, new ClientLog(device, err));
        } catch (IOException | RuntimeException e) {
            device.close();
            throw new IOException("cannot serve on " + socket + ": " + Jvfio.describe(e), e);
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Thread hook = Thread.ofPlatform().name("jvfio serve shutdown").unstarted(() -> {
            server.close();
            err.println(stamp() + " stopped after " + server.clientsServed() + " client(s); " + totals(device));
            device.close();
            stopped.countDown();
        });
        Runtime.getRuntime().addShutdownHook(hook);
        err.println(stamp() + " " + device.describe());
        out.println("serving " + device.kind() + " on " + socket);
        out.flush();
        stopped.await();
        return 0;
    }

    static String totals(ModelledDevice device) {
        return device.totals().entrySet().stream().map(e -> e.getKey() + "=" + e.getValue())
                .collect(Collectors.joining(" "));
    }

    private static String stamp() {
        return "[" + LocalTime.now().format(TIME) + "]";
    }

    /** The model as served, logging each client that connects and leaves. Everything else is the model's. */
    private static final class ClientLog implements DeviceModel {
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
        public List<IrqSpec> irqs() {
            return model.irqs();
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
            model.clientConnected();
        }

        @Override
        public void clientDisconnected() {
            model.clientDisconnected();
            Map<String, Long> totals = model.totals();
            log.println(stamp() + " client " + clients + " left; " + totals.entrySet().stream()
                    .map(e -> e.getKey() + "=" + e.getValue()).collect(Collectors.joining(" ")));
        }
    }
}
