package io.jvfio.platform;

import io.jvfio.devices.ServerProcess;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The test device served over vfio-user by a child JVM, as users run it ({@code jvfio serve}): the
 * fixture of the platform tests. Closing kills the child and removes the socket.
 */
final class ServedTestDevice implements AutoCloseable {
    private final ServerProcess process;

    private ServedTestDevice(ServerProcess process) {
        this.process = process;
    }

    /** Starts the server with {@code irqs} lines (odd lines level) and waits until it listens. */
    static ServedTestDevice start(Path directory, int irqs, String... extraArgs) throws IOException {
        List<String> serveArgs = new ArrayList<>(List.of("--irqs", Integer.toString(irqs)));
        serveArgs.addAll(List.of(extraArgs));
        // C1 only: under software emulation C2 compiles for minutes on the CPUs the guest needs.
        return new ServedTestDevice(ServerProcess.start(
                directory.resolve("test-device.sock"), List.of("-XX:TieredStopAtLevel=1"), serveArgs));
    }

    Path socket() {
        return process.socket();
    }

    /** Kills the server as a crash would (SIGKILL). */
    void kill() throws InterruptedException {
        process.kill();
    }

    @Override
    public void close() throws IOException {
        process.close();
    }
}
