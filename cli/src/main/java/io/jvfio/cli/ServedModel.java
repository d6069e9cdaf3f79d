package io.jvfio.cli;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A device model served by a child JVM running {@code jvfio serve} from this very classpath (the jvfio jar,
 * or the build's classes in tests), as users run it. Its output is collected: the readiness line, and a
 * line per client that left with the model's counters, which the demo compares with what the guest saw.
 * Closing stops the child (SIGTERM, then SIGKILL) and removes the socket.
 */
final class ServedModel implements AutoCloseable {
    private static final Pattern CLIENT_LEFT = Pattern.compile(".*client (\\d+) left; (.*)");
    private static final String READY = "serving ";

    private final Process process;
    private final Path socket;
    private final LinkedBlockingQueue<String> lines = new LinkedBlockingQueue<>();
    private final List<String> transcript = new ArrayList<>();

    private ServedModel(Process process, Path socket) {
        this.process = process;
        this.socket = socket;
    }

    /** Starts {@code jvfio serve MODEL --socket SOCKET ARGS...} and waits until it listens. */
    static ServedModel start(String model, Path socket, Duration readyTimeout, List<String> jvmOptions, String... args)
            throws IOException, InterruptedException {
        String java = ProcessHandle.current().info().command().orElse("java");
        List<String> command = new ArrayList<>(List.of(java, "--enable-native-access=ALL-UNNAMED"));
        command.addAll(jvmOptions);
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), Jvfio.class.getName(), "serve", model,
                "--socket", socket.toString()));
        command.addAll(List.of(args));
        Process process = new ProcessBuilder(command).start();
        ServedModel served = new ServedModel(process, socket);
        served.drain(process.getInputStream());
        served.drain(process.getErrorStream());
        long deadline = System.nanoTime() + readyTimeout.toNanos();
        while (true) {
            String line = served.lines.poll(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            if (line != null && line.startsWith(READY)) {
                return served;
            }
            if (line == null && (!process.isAlive() || System.nanoTime() >= deadline)) {
                String why = process.isAlive() ? "did not listen within " + readyTimeout.toSeconds() + " s"
                        : "exited with " + process.waitFor();
                served.close();
                throw new IOException("the device server (jvfio serve " + model + ") " + why + served.lastOutput());
            }
        }
    }

    private void drain(InputStream stream) {
        Thread.ofVirtual().start(() -> {
            try (BufferedReader reader = new BufferedReader(new InputStreamReader(stream, StandardCharsets.UTF_8))) {
                String line;
                while ((line = reader.readLine()) != null) {
                    synchronized (transcript) {
                        transcript.add(line);
                    }
                    lines.add(line);
                }
            } catch (IOException e) {
                // the child is gone
            }
        });
    }

    long pid() {
        return process.pid();
    }

    Path socket() {
        return socket;
    }

    /**
     * The model's counters the server printed when client {@code client} (1 for the first) left, e.g.
     * {@code line0.raises=20}.
     */
    Map<String, Long> awaitClientLeft(int client, Duration timeout) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            String line = lines.poll(deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
            if (line == null) {
                break;
            }
            Matcher matcher = CLIENT_LEFT.matcher(line);
            if (matcher.matches() && Integer.parseInt(matcher.group(1)) == client) {
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
                + timeout.toSeconds() + " s" + lastOutput());
    }

    /** The child's last lines, for an error message. */
    String lastOutput() {
        synchronized (transcript) {
            if (transcript.isEmpty()) {
                return "";
            }
            return "; its last output: " + Jvfio.oneLine(transcript.getLast());
        }
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(20, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            process.waitFor(20, TimeUnit.SECONDS);
        }
        try {
            Files.deleteIfExists(socket);
        } catch (IOException e) {
            // a temporary directory; nothing to do
        }
    }
}
