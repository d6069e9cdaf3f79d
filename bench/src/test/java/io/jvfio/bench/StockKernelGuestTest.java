package io.jvfio.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class StockKernelGuestTest {
    private final List<String> calls = new ArrayList<>();

    private StockKernelGuest.Side side(String name, double... figures) {
        AtomicInteger next = new AtomicInteger();
        return () -> {
            calls.add(name);
            return figures[next.getAndIncrement()];
        };
    }

    @Test
    void warmUpRoundsAreRunButLeftOutOfTheMedians() throws Exception {
        StockKernelGuest.Sides sides = StockKernelGuest.alternate(
                1, 3, "s", false, 1.2, side("jvfio", 1000, 10, 30, 20), side("qemu", 1, 5, 5, 5));
        assertThat(sides.jvfio().count()).isEqualTo(3);
        assertThat(sides.jvfio().median()).isEqualTo(20);
        assertThat(sides.qemu().median()).isEqualTo(5);
    }

    @Test
    void whoBootsFirstAlternatesFromTheWarmUpOn() throws Exception {
        StockKernelGuest.alternate(1, 3, "s", false, 1.2, side("jvfio", 1, 1, 1, 1), side("qemu", 1, 1, 1, 1));
        assertThat(calls).containsExactly("qemu", "jvfio", "jvfio", "qemu", "qemu", "jvfio", "jvfio", "qemu");
    }

    @Test
    void theResultLineIsJvfiosMedianOverQemusThenBothMedians() throws Exception {
        StockKernelGuest.Sides sides =
                StockKernelGuest.alternate(0, 2, "MB/s", true, 0.8, side("jvfio", 300, 500), side("qemu", 500, 500));
        assertThat(sides.result("virtio-blk: ratio=%.2f (jvfio %.0f MB/s, qemu microvm %.0f MB/s)"))
                .isEqualTo("virtio-blk: ratio=0.80 (jvfio 400 MB/s, qemu microvm 500 MB/s)");
    }

    @Test
    void aFailedBootEndsTheRun() {
        StockKernelGuest.Side fails = () -> {
            throw new IOException("qemu exited with 1");
        };
        assertThatThrownBy(() -> StockKernelGuest.alternate(0, 3, "s", false, 1.2, side("jvfio", 1, 1, 1), fails))
                .hasMessageContaining("exited with 1");
    }

    @Test
    void theMarkerIsFoundWhenItStraddlesTwoReads() throws IOException {
        String console = "booting...\njvfio-linux-boot: init ran\npower off\n";
        StringBuilder output = new StringBuilder();
        long at = StockKernelGuest.readConsole(trickling(console, 3), "jvfio-linux-boot: init ran", output);
        assertThat(at).isNotEqualTo(-1);
        assertThat(output.toString()).isEqualTo(console);
    }

    @Test
    void aConsoleWithoutTheMarkerGivesMinusOne() throws IOException {
        StringBuilder output = new StringBuilder();
        long at = StockKernelGuest.readConsole(
                trickling("jvfio-linux-boot: init ra\nKernel panic\n", 5), "jvfio-linux-boot: init ran", output);
        assertThat(at).isEqualTo(-1);
        assertThat(output.toString()).contains("Kernel panic");
    }

    /** A stream that hands out {@code text} at most {@code chunk} bytes a read, as a pipe may. */
    private static InputStream trickling(String text, int chunk) {
        return new ByteArrayInputStream(text.getBytes(StandardCharsets.ISO_8859_1)) {
            @Override
            public synchronized int read(byte[] b, int off, int len) {
                return super.read(b, off, Math.min(len, chunk));
            }
        };
    }
}
