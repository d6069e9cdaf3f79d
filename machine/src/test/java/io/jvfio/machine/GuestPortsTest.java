package io.jvfio.machine;

import static org.assertj.core.api.Assertions.assertThat;

import io.jvfio.machine.bus.PioDevice;
import org.junit.jupiter.api.Test;

class GuestPortsTest {
    private final GuestPorts ports = new GuestPorts(null);

    @Test
    void consoleKeepsItsLatestBytesWithinABoundHoweverMuchTheGuestPrints() {
        PioDevice console = ports.outputPortConsole();
        long written = 3L * GuestPorts.CONSOLE_KEPT_BYTES;
        for (long i = 0; i < written; i++) {
            console.write(0, 1, 'a' + (int) (i % 26));
        }
        for (char c : "the end".toCharArray()) {
            console.write(0, 1, c);
        }

        String text = ports.consoleText();
        assertThat(text.length()).isLessThanOrEqualTo(GuestPorts.CONSOLE_KEPT_BYTES + 100);
        assertThat(text).startsWith("[console: ").endsWith("the end");
    }

    @Test
    void reportsStopBeingKeptAtTheirBoundAndTheFirstStay() {
        PioDevice report = ports.report();
        for (int i = 0; i < GuestPorts.REPORTS_KEPT + 1000; i++) {
            report.write(0, 4, i);
        }

        assertThat(ports.reports()).hasSize(GuestPorts.REPORTS_KEPT);
        assertThat(ports.reports().getFirst()).isZero();
        assertThat(ports.droppedReports()).isEqualTo(1000);
    }
}
