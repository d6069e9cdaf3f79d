package io.jvfio.bench;

import io.jvfio.devices.ModelledDevice;
import io.jvfio.devices.ServeMain;
import io.jvfio.vfiouser.server.RegionHandler;
import io.jvfio.vfiouser.server.RegionSpec;
import java.io.PrintWriter;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * The server side of vfio-user-rtt, run in a child JVM: serves a small register device (region 0, 0x100
 * bytes of callbacks) on the socket path given as the only argument, as {@code jvfio serve} serves a
 * model ({@link ServeMain#serveUntilStopped}), until it is told to stop.
 */
public final class RttServerMain {
    private RttServerMain() {}

    /** Register: reads return how many counter reads came before; what the benchmark reads. */
    static final int COUNTER_OFFSET = 0;
    /** Register: the bytes the serving thread has allocated so far (a diagnostic of the benchmark). */
    static final int ALLOCATED_OFFSET = 8;

    /** Region 0: the two registers above; writes are dropped. */
    static final class CounterDevice implements ModelledDevice {
        private static final com.sun.management.ThreadMXBean THREADS =
                (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        private long reads;

        @Override
        public List<RegionSpec> regions() {
            return List.of(RegionSpec.callbacks(0, 0x100, new RegionHandler() {
                @Override
                public long read(long offset, int size) {
                    return offset == ALLOCATED_OFFSET ? THREADS.getCurrentThreadAllocatedBytes() : reads++;
                }

                @Override
                public void write(long offset, int size, long value) {}
            }));
        }

        @Override
        public String kind() {
            return "rtt-counter";
        }

        @Override
        public String describe() {
            return "rtt-counter: region 0 of 0x100 bytes, a read counter at +0x0 and the serving thread's "
                    + "allocated bytes at +0x8";
        }

        @Override
        public Map<String, Long> totals() {
            return Map.of("counter.reads", reads);
        }

        @Override
        public void close() {}
    }

    public static void main(String[] args) throws Exception {
        ServeMain.serveUntilStopped(
                Path.of(args[0]),
                new CounterDevice(),
                new PrintWriter(System.out, true),
                new PrintWriter(System.err, true));
    }
}
