package io.jvfio.devices.testdevice;

import static io.jvfio.devices.testdevice.ServedTestDevice.eventually;
import static io.jvfio.devices.testdevice.TestDeviceRegisters.*;
import static org.assertj.core.api.Assertions.assertThat;

import io.jvfio.sys.testing.Resources;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Serving, using and closing the device leaves no fds, mappings or threads behind. */
class TestDeviceLifetimeTest {
    @TempDir
    Path directory;

    @Test
    void servingTimersDmaAndIrqsThenClosingLeaksNothing() throws Exception {
        // Warm up once so lazily created JDK threads and classes do not count as leaks.
        runOnce();
        int fds = Resources.openFds();
        long memfdMappings = memfdMappings();
        Set<Thread> threads = Resources.liveThreads();

        runOnce();

        assertThat(Resources.threadsStillAliveAfter(threads, Duration.ofSeconds(2)))
                .as("threads left")
                .isEmpty();
        assertThat(Resources.openFds()).isEqualTo(fds);
        assertThat(memfdMappings())
                .as("memfd mappings (the JVM's own come and go)")
                .isEqualTo(memfdMappings);
    }

    /** Mappings of memfds: the regions' shared memory on both sides. */
    private static long memfdMappings() throws IOException {
        try (var lines = Files.lines(Path.of("/proc/self/maps"))) {
            return lines.filter(line -> line.contains("/memfd:")).count();
        }
    }

    private void runOnce() throws Exception {
        try (ServedTestDevice served = ServedTestDevice.start(directory, 2, 0b10)) {
            served.trigger(0);
            served.trigger(1);
            served.writeLine(0, TIMER_PERIOD_US, 1_000);
            served.writeLine(0, TIMER_CTRL, TIMER_ENABLE | TIMER_PERIODIC);
            served.write(RAISE, 0b10);
            try (var ram = served.client.map(RAM_REGION, 0, RAM_MMAP_SIZE)) {
                ram.putInt(0, 1);
            }
            assertThat(eventually(2000, () -> served.device.counters().raises(0) >= 2))
                    .isTrue();
        }
    }
}
