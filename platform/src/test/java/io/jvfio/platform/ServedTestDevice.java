package io.jvfio.platform;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import io.jvfio.devices.ServeMain;

/**
 * The test device served over vfio-user by a child JVM, as users run it ({@code jvfio serve}): the
 * fixture of the platform tests. Closing kills the child and removes the socket.
 */
final class ServedTestDevice implements AutoCloseable {
    private final Process process;
    private final Path socket;

    private ServedTestDevice(Process process, Path socket) {
        this.process = process;
        this.socket = socket;
    }

    /** Starts the server with {@code irqs} lines (odd lines level) and waits until it listens. */
    static ServedTestDevice start(Path directory, int irqs, String... extraArgs) throws IOException, InterruptedException {
        Path socket = directory.resolve("test-device.sock");
        String java = ProcessHandle.current().info().command().orElse("java");
        List<String> command = new ArrayList<>(List.of(java, "--enable-native-access=ALL-UNNAMED", "-XX:TieredStopAtLevel=1",
                "-cp", System.getProperty("java.class.path"), ServeMain.class.getName(),
                "--socket", socket.toString(), "--irqs", Integer.toString(irqs)));
        command.addAll(List.of(extraArgs));
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        BufferedReader output = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        CompletableFuture<String> ready = CompletableFuture.supplyAsync(() -> {
            try {
                String line;
                while ((line = output.readLine()) != null) {
                    if (line.startsWith("serving test-device on")) {
                        return line;
                    }
                }
                return null;
            } catch (IOException e) {
                return null;
            }
        });
        try {
            String line = ready.get(120, TimeUnit.SECONDS);
            if (line == null) {
                throw new IllegalStateException("the device server exited before it was ready (exit "
                        + process.waitFor() + ")");
            }
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            process.destroyForcibly();
            throw new IllegalStateException("the device server did not become ready", e);
        }
        Thread.ofVirtual().start(() -> {
            try {
                output.transferTo(Writer.nullWriter());
            } catch (IOException ignored) {
                // the child is gone
            }
        });
        return new ServedTestDevice(process, socket);
    }

    Path socket() {
        return socket;
    }

    /** Kills the server as a crash would (SIGKILL). */
    void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(30, TimeUnit.SECONDS);
    }

    @Override
    public void close() throws IOException, InterruptedException {
        process.destroy();
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            process.waitFor(30, TimeUnit.SECONDS);
        }
        Files.deleteIfExists(socket);
    }
}
