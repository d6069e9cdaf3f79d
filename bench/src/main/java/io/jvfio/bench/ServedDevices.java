package io.jvfio.bench;

import io.jvfio.devices.ServerProcess;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The benchmarks' servers in child JVMs, with this JVM's options (bench/run's BENCH_JVM_ARGS reach every
 * JVM of a run): the test device as {@code jvfio serve} runs it, and the benchmarks' own servers.
 */
final class ServedDevices {
    /** A JVM starting under software emulation (the nested guest) is slow. */
    private static final Duration READY_TIMEOUT = Duration.ofMinutes(2);

    private static final String TIER_OPTION = "-XX:TieredStopAtLevel=";

    /** Which compilers a server's JVM runs with. */
    enum Jit {
        /**
         * {@link ServerProcess}'s choice: C1 alone inside the nested guest, where C2-compiled device servers
         * died now and then (tools/nested/README.md). For benchmarks that count survival, not time.
         */
        AS_TESTS_RUN,
        /**
         * C1 and then C2, as on any host and as the benchmark's own JVM has them in the nested guest too:
         * a ratio benchmark's server times what jvfio's server costs where it runs for real, and with C1
         * alone the device's Java was up to a fifth of the java raw loop's time there (bench/RESULTS.md).
         */
        FULL
    }

    private ServedDevices() {}

    /** Serves the test device with {@code irqs} lines (odd lines level) on {@code socket}. */
    static ServerProcess serve(Path socket, int irqs, Jit jit) throws IOException {
        return ServerProcess.start(socket, jvmOptions(jit), List.of("--irqs", Integer.toString(irqs)));
    }

    /** Starts {@code main SOCKET}, a server of the benchmarks that says "serving ..." once it listens. */
    static ServerProcess start(Class<?> main, Path socket, Jit jit) throws IOException {
        return ServerProcess.startMain(
                socket, READY_TIMEOUT, jvmOptions(jit), List.of(main.getName(), socket.toString()));
    }

    /** The {@code -XX:TieredStopAtLevel} option a server started with {@code jit} gets from this class. */
    static String tierOption(Jit jit) {
        return jvmOptions(jit).stream()
                .filter(option -> option.startsWith(TIER_OPTION))
                .findFirst()
                .orElse("no " + TIER_OPTION + " (ServerProcess's choice)");
    }

    private static List<String> jvmOptions(Jit jit) {
        List<String> options =
                new ArrayList<>(ManagementFactory.getRuntimeMXBean().getInputArguments());
        if (jit == Jit.FULL && options.stream().noneMatch(option -> option.startsWith(TIER_OPTION))) {
            options.add(TIER_OPTION + "4");
        }
        return options;
    }
}
