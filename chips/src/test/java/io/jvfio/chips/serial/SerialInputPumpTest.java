package io.jvfio.chips.serial;

import static io.jvfio.chips.serial.Uart16550Registers.*;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.PipedInputStream;
import java.io.PipedOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** A host stream into the receiver at the guest's pace: nothing overruns, close ends the thread. */
class SerialInputPumpTest {
    private final UartFixture f = new UartFixture();

    /** Reads like a polling guest in 16450 mode, the slowest receiver there is: one byte of room at a time. */
    private String readPolling(int count) throws InterruptedException {
        StringBuilder text = new StringBuilder();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (text.length() < count && System.nanoTime() < deadline) {
            int lsr = f.read(LSR);
            assertThat(lsr & LSR_OVERRUN)
                    .as("overrun after " + text.length() + " bytes")
                    .isZero();
            if ((lsr & LSR_DATA_READY) != 0) {
                text.append((char) f.read(RBR));
            } else {
                Thread.sleep(1);
            }
        }
        return text.toString();
    }

    @Test
    void streamReachesA16450ModeGuestWithoutOverrun() throws Exception {
        String input = "a pasted line much longer than any FIFO, ".repeat(20);
        try (SerialInputPump pump = SerialInputPump.start(
                "test-serial-input", new ByteArrayInputStream(input.getBytes(StandardCharsets.US_ASCII)), f.uart)) {

            assertThat(readPolling(input.length())).isEqualTo(input);

            pump.thread().join(TimeUnit.SECONDS.toMillis(10));
            assertThat(pump.thread().isAlive())
                    .as("ends at the end of the stream")
                    .isFalse();
        }
    }

    @Test
    void closeEndsAThreadWaitingForRoom() throws Exception {
        SerialInputPump pump = SerialInputPump.start(
                "test-serial-input",
                new ByteArrayInputStream("more than one byte".getBytes(StandardCharsets.US_ASCII)),
                f.uart);
        while (pump.thread().getState() != Thread.State.WAITING) {
            Thread.sleep(1);
        }

        pump.close();

        pump.thread().join(TimeUnit.SECONDS.toMillis(10));
        assertThat(pump.thread().isAlive()).isFalse();
        assertThat(f.read(RBR)).isEqualTo('m');
        assertThat(f.read(LSR) & LSR_DATA_READY)
                .as("nothing delivered after close")
                .isZero();
    }

    @Test
    void closeEndsAThreadBlockedInAnInterruptibleRead() throws Exception {
        try (PipedOutputStream host = new PipedOutputStream()) {
            SerialInputPump pump = SerialInputPump.start("test-serial-input", new PipedInputStream(host), f.uart);

            pump.close();

            pump.thread().join(TimeUnit.SECONDS.toMillis(10));
            assertThat(pump.thread().isAlive()).isFalse();
        }
    }
}
