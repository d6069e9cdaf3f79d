package io.jvfio.bench;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.List;

import io.jvfio.devices.ServerProcess;

/** The test device in a child JVM for the benchmarks, with this JVM's options (BENCH_JVM_ARGS reach it). */
final class ServedDevices {
    private ServedDevices() {
    }

    /** Serves the test device with {@code irqs} lines (odd lines level) on {@code socket}. */
    static ServerProcess serve(Path socket, int irqs) throws IOException {
        return ServerProcess.start(socket, ManagementFactory.getRuntimeMXBean().getInputArguments(),
                List.of("--irqs", Integer.toString(irqs)));
    }
}
