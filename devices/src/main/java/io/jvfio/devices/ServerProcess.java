package io.jvfio.devices;

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
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A device model served over vfio-user by a child JVM running {@link ServeMain} on this JVM's class
 * path, as {@code jvfio serve} runs it: the device lives in another process, and killing that process
 * is a device crash. Closing stops the child, closes its output pipe and removes the socket.
 */
public final class ServerProcess implements AutoCloseable {
    /** How long a child may take to listen: a JVM starting under software emulation is slow. */
    private static final long READY_SECONDS = 120;

    private final Process process;
    private final Path socket;
    private final BufferedReader output;
    private final Thread drain;

    private ServerProcess(Process process, Path socket, BufferedReader output, Thread drain) {
        this.process = process;
        this.socket = socket;
        this.output = output;
        this.drain = drain;
    }

    /**
     * Starts {@code java JVM_OPTIONS -cp <this class path> ServeMain --socket SOCKET SERVE_ARGS} and
     * waits until it prints that it listens.
     */
    public static ServerProcess start(Path socket, List<String> jvmOptions, List<String> serveArgs) throws IOException {
        String java = ProcessHandle.current().info().command().orElse("java");
        List<String> command = new ArrayList<>(List.of(java));
        command.addAll(jvmOptions);
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), ServeMain.class.getName(),
                "--socket", socket.toString()));
        command.addAll(serveArgs);
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        BufferedReader output = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        CompletableFuture<Boolean> ready = new CompletableFuture<>();
        Thread drain = Thread.ofPlatform().daemon().name("served device output").start(() -> {
            try {
                String line;
                while ((line = output.readLine()) != null && !line.startsWith("serving ")) {
                    System.err.println("device: " + line);
                }
                ready.complete(line != null);
                output.transferTo(Writer.nullWriter());
            } catch (IOException e) {
                ready.complete(false);
            }
        });
        try {
            if (!ready.get(READY_SECONDS, TimeUnit.SECONDS)) {
                throw new IOException("the device server exited before it listened (exit " + process.waitFor() + ")");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
            throw new IOException("interrupted while the device server started", e);
        } catch (ExecutionException | TimeoutException e) {
            process.destroyForcibly();
            throw new IOException("the device server did not listen within " + READY_SECONDS + " s", e);
        }
        return new ServerProcess(process, socket, output, drain);
    }

    public Path socket() {
        return socket;
    }

    /** Kills the server as a crash would (SIGKILL) and waits for it to be gone. */
    public void kill() throws InterruptedException {
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
        drain.join(TimeUnit.SECONDS.toMillis(10));
        output.close();
        Files.deleteIfExists(socket);
    }
}
