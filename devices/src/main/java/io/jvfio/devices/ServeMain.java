package io.jvfio.devices;

import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;

import io.jvfio.vfiouser.server.VfioUserServer;

/**
 * Serves the test device over vfio-user until the process is killed:
 * {@code ServeMain --socket PATH [--irqs N] [--level-mask M]}. Prints {@code serving test-device on PATH}
 * once the socket listens (what tests and {@code jvfio} wait for). Exit codes: 0 after SIGTERM/SIGINT,
 * 2 for a bad argument, 1 when the socket cannot be served; errors are one line on stderr.
 */
public final class ServeMain {
    static final String USAGE = "usage: ServeMain --socket PATH [--irqs N] [--level-mask M]";

    private ServeMain() {
    }

    /** The parsed command line. */
    record Arguments(Path socket, DeviceOptions options) {
    }

    public static void main(String[] args) {
        if (args.length == 1 && (args[0].equals("-h") || args[0].equals("--help"))) {
            System.out.println(USAGE);
            return;
        }
        Arguments arguments;
        try {
            arguments = parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("jvfio serve: " + e.getMessage());
            System.exit(2);
            return;
        }
        ModelledDevice device;
        try {
            device = DeviceCatalog.create(DeviceCatalog.TEST_DEVICE, arguments.options());
        } catch (IllegalArgumentException e) {
            System.err.println("jvfio serve: " + e.getMessage());
            System.exit(2);
            return;
        }
        VfioUserServer server;
        try {
            server = VfioUserServer.start(arguments.socket(), device);
        } catch (IOException | RuntimeException e) {
            device.close();
            System.err.println("jvfio serve: cannot serve on " + arguments.socket() + ": " + e.getMessage());
            System.exit(1);
            return;
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(Thread.ofPlatform().unstarted(() -> {
            server.close();
            device.close();
            stopped.countDown();
        }));
        System.out.println("serving " + device.kind() + " on " + arguments.socket());
        System.out.flush();
        try {
            stopped.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
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
                case "--irqs" -> options = options.withIrqs(number(value(args, ++i, arg), arg));
                case "--level-mask" -> options = options.withLevelMask(number(value(args, ++i, arg), arg));
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

    /** A decimal or 0x-prefixed hexadecimal int. */
    private static int number(String text, String option) {
        try {
            if (text.startsWith("0x") || text.startsWith("0X")) {
                return Integer.parseUnsignedInt(text.substring(2), 16);
            }
            return Integer.parseInt(text);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(option + " '" + text + "' is not a number");
        }
    }
}
