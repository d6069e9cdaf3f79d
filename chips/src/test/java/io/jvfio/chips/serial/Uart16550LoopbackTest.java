package io.jvfio.chips.serial;

import static io.jvfio.chips.serial.Uart16550Registers.*;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** MCR bit 4: the transmitter feeds the receiver, the line is disconnected, and MSR follows MCR. */
class Uart16550LoopbackTest {
    private final UartFixture f = new UartFixture();

    @Test
    void transmittedBytesComeBackAndDoNotGoOut() {
        f.write(FCR, FCR_FIFO_ENABLE);
        f.write(MCR, MCR_LOOPBACK);

        for (char c : "echo".toCharArray()) {
            f.write(THR, c);
        }

        assertThat(f.transmittedText()).isEmpty();
        StringBuilder echoed = new StringBuilder();
        while ((f.read(LSR) & LSR_DATA_READY) != 0) {
            echoed.append((char) f.read(RBR));
        }
        assertThat(echoed).hasToString("echo");
    }

    @Test
    void loopbackOverrunsLikeTheLineWhenTheReceiverIsFull() {
        f.write(FCR, FCR_FIFO_ENABLE);
        f.write(MCR, MCR_LOOPBACK);

        for (int i = 0; i < 256; i++) {
            f.write(THR, i);
        }

        int count = 0;
        while ((f.read(LSR) & LSR_DATA_READY) != 0) {
            assertThat(f.read(RBR)).isEqualTo(count);
            count++;
        }
        assertThat(count).as("Linux's size_fifo() counts 16, not a 16750's 64").isEqualTo(FIFO_DEPTH);
    }

    @Test
    void bytesTheHostEndRefusedGoRoundOnceLoopbackIsOn() {
        f.hostAccepts = false;
        f.write(THR, 'z');

        f.write(MCR, MCR_LOOPBACK);

        assertThat(f.read(RBR)).isEqualTo('z');
        assertThat(f.read(LSR) & LSR_TRANSMITTER_EMPTY).isEqualTo(LSR_TRANSMITTER_EMPTY);
    }

    @ParameterizedTest(name = "MCR 0x{0} reads as MSR 0x{1}")
    @CsvSource({"01, 20", "02, 10", "04, 40", "08, 80", "0A, 90", "0F, F0", "00, 00"})
    void msrFollowsTheModemControlOutputs(String mcr, String msrTop) {
        f.write(MCR, MCR_LOOPBACK | Integer.parseInt(mcr, 16));

        assertThat(f.read(MSR) & 0xF0).isEqualTo(Integer.parseInt(msrTop, 16));
    }

    @Test
    void modemControlChangesInLoopbackSetDeltaBits() {
        f.write(MCR, MCR_LOOPBACK | MCR_RTS | MCR_DTR | MCR_OUT1 | MCR_OUT2);
        f.read(MSR);

        f.write(MCR, MCR_LOOPBACK);

        assertThat(f.read(MSR)).isEqualTo(MSR_DELTA_CTS | MSR_DELTA_DSR | MSR_TRAILING_EDGE_RI | MSR_DELTA_DCD);
    }

    @Test
    void leavingLoopbackShowsTheFarEndsInputsAgain() {
        f.write(MCR, MCR_LOOPBACK);

        f.write(MCR, 0);

        assertThat(f.read(MSR) & 0xF0).isEqualTo(MSR_CTS | MSR_DSR | MSR_DCD);
    }

    @Test
    void theLineIsDisconnectedSoHostBytesAreLost() {
        f.write(MCR, MCR_LOOPBACK);
        byte[] bytes = "abc".getBytes(StandardCharsets.US_ASCII);

        f.receive("xyz");
        assertThat(f.uart.offer(bytes, 0, bytes.length)).isZero();

        assertThat(f.read(LSR) & LSR_DATA_READY).isZero();
    }
}
