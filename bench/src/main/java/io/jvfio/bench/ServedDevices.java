package io.jvfio.bench;

import io.jvfio.devices.ServerProcess;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * The benchmarks' servers in child JVMs, with this JVM's options (bench/run's BENCH_JVM_ARGS reach every
 * JVM of a run): the test device as {@code jvfio serve} runs it, and the benchmarks' own servers.
 */
final class ServedDevices {
    /** A JVM starting under software emulation (the nested guest) is slow. */
    private static final Duration READY_TIMEOUT = Duration.ofMinutes(2);

    private ServedDevices() {}

    /** Serves the test device with {@code irqs} lines (odd lines level) on {@code socket}. */
    static ServerProcess serve(Path socket, int irqs) throws IOException {
        return ServerProcess.start(socket, jvmOptions(), List.of("--irqs", Integer.toString(irqs)));
    }

    /** Starts {@code main SOCKET}, a server of the benchmarks that says "serving ..." once it listens. */
    static ServerProcess start(Class<?> main, Path socket) throws IOException {
        return ServerProcess.startMain(socket, READY_TIMEOUT, jvmOptions(), List.of(main.getName(), socket.toString()));
    }

    private static List<String> jvmOptions() {
        return ManagementFactory.getRuntimeMXBean().getInputArguments();
    }
}
