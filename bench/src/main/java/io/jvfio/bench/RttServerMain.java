package io.jvfio.bench;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;

import io.jvfio.vfiouser.server.DeviceModel;
import io.jvfio.vfiouser.server.RegionHandler;
import io.jvfio.vfiouser.server.RegionSpec;
import io.jvfio.vfiouser.server.VfioUserServer;

/**
 * The server side of vfio-user-rtt, run in a child JVM: serves a small register device (region 0, 0x100
 * bytes of callbacks) on the socket path given as the only argument, prints "ready" once listening, and
 * serves until stdin closes.
 */
public final class RttServerMain {
    private RttServerMain() {
    }

    /** Register: reads return how many counter reads came before; what the benchmark reads. */
    static final int COUNTER_OFFSET = 0;
    /** Register: the bytes the serving thread has allocated so far (a diagnostic of the benchmark). */
    static final int ALLOCATED_OFFSET = 8;

    /** Region 0: the two registers above; writes are dropped. */
    static final class CounterDevice implements DeviceModel {
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
                public void write(long offset, int size, long value) {
                }
            }));
        }
    }

    @SuppressWarnings("try") // the server serves on its own threads until closed
    public static void main(String[] args) throws Exception {
        try (VfioUserServer server = VfioUserServer.start(Path.of(args[0]), new CounterDevice())) {
            System.out.println("ready");
            System.out.flush();
            BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
            while (in.readLine() != null) {
                // serve until the parent closes our stdin
            }
        }
    }
}
