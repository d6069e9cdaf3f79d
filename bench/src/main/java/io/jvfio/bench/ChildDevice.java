package io.jvfio.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.Writer;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import io.jvfio.devices.ServeMain;

/**
 * The test device served over vfio-user by a child JVM ({@link ServeMain}, as {@code jvfio serve} runs
 * it) with this JVM's options. Closing stops the child and removes the socket.
 */
final class ChildDevice implements AutoCloseable {
    private final Process process;
    private final Path socket;
    private final BufferedReader output;
    private final Thread drain;

    private ChildDevice(Process process, Path socket, BufferedReader output, Thread drain) {
        this.process = process;
        this.socket = socket;
        this.output = output;
        this.drain = drain;
    }

    /** Starts the server with {@code irqs} lines (odd lines level) and waits until it listens. */
    static ChildDevice start(Path socket, int irqs) throws IOException {
        String java = ProcessHandle.current().info().command().orElse("java");
        List<String> command = new ArrayList<>(List.of(java));
        command.addAll(ManagementFactory.getRuntimeMXBean().getInputArguments());
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), ServeMain.class.getName(),
                "--socket", socket.toString(), "--irqs", Integer.toString(irqs)));
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        BufferedReader output = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        String line;
        while ((line = output.readLine()) != null && !line.startsWith("serving test-device on")) {
            System.out.println("device: " + line);
        }
        if (line == null) {
            process.destroyForcibly();
            throw new IOException("the test-device server exited before it was ready");
        }
        Thread drain = Thread.ofPlatform().daemon().name("device output").start(() -> {
            try {
                output.transferTo(Writer.nullWriter());
            } catch (IOException ignored) {
                // the server is gone
            }
        });
        return new ChildDevice(process, socket, output, drain);
    }

    Path socket() {
        return socket;
    }

    /** Kills the server as a crash would (SIGKILL). */
    void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(30, TimeUnit.SECONDS);
    }

    /** Stops the child, and closes its output pipe once drained, so that no fd of it stays open. */
    @Override
    public void close() throws IOException, InterruptedException {
        process.destroy();
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            process.waitFor(30, TimeUnit.SECONDS);
        }
        drain.join(TimeUnit.SECONDS.toMillis(10));
        output.close();
        Files.deleteIfExists(socket);
    }
}
