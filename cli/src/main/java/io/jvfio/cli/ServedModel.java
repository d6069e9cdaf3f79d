package io.jvfio.cli;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import io.jvfio.devices.ServerProcess;

/**
 * A device model served by a child JVM running {@code jvfio serve} from this JVM's own code (jvfio's module
 * path, or the build's classes in tests), as users run it. The server logs a line per client that left with the
 * model's counters, which the demo compares with what the guest saw. Closing stops the child and removes
 * the socket.
 */
final class ServedModel implements AutoCloseable {
    private static final Pattern CLIENT_LEFT = Pattern.compile(".*client (\\d+) left; (.*)");

    private final ServerProcess server;

    private ServedModel(ServerProcess server) {
        this.server = server;
    }

    /** Starts {@code jvfio serve MODEL --socket SOCKET ARGS...} and waits until it listens. */
    static ServedModel start(String model, Path socket, Duration readyTimeout, List<String> jvmOptions, String... args)
            throws IOException {
        List<String> mainAndArgs = new ArrayList<>(List.of(Jvfio.class.getName(), "serve", model,
                "--socket", socket.toString()));
        mainAndArgs.addAll(List.of(args));
        return new ServedModel(ServerProcess.startMain(socket, readyTimeout, jvmOptions, mainAndArgs));
    }

    long pid() {
        return server.pid();
    }

    Path socket() {
        return server.socket();
    }

    /**
     * The model's counters the server printed when client {@code client} (1 for the first) left, e.g.
     * {@code line0.raises=20}.
     */
    Map<String, Long> awaitClientLeft(int client, Duration timeout) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        Optional<Matcher> left;
        while ((left = server.awaitLine(CLIENT_LEFT, Duration.ofNanos(deadline - System.nanoTime()))).isPresent()) {
            Matcher matcher = left.get();
            if (Integer.parseInt(matcher.group(1)) == client) {
                Map<String, Long> totals = new LinkedHashMap<>();
                for (String pair : matcher.group(2).trim().split(" ")) {
                    int equals = pair.indexOf('=');
                    if (equals > 0) {
                        totals.put(pair.substring(0, equals), Long.parseLong(pair.substring(equals + 1)));
                    }
                }
                return totals;
            }
        }
        throw new IOException("the device server did not report client " + client + " leaving within "
                + timeout.toSeconds() + " s" + server.lastOutput());
    }

    @Override
    public void close() throws IOException, InterruptedException {
        server.close();
    }
}
