package io.jvfio.chips.serial;

import static io.jvfio.chips.serial.Uart16550Registers.*;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * The model as Linux's 8250 driver sees it: autoconfig concludes "16550A" (the IER test, the loopback
 * MSR test, IIR bits 6-7 with FIFOs on, no EFR, not a SuperIO, 16750 or XScale, a 16-byte FIFO), startup
 * finds neither the THRE nor the TX-enable bug, and then bytes move both ways on interrupts.
 */
class Uart16550LinuxDriverTest {
    private final UartFixture f = new UartFixture();
    private final Linux8250Driver driver = new Linux8250Driver(f.uart, f.clock);

    /** Runs the interrupt handler while the line is asserted, as the IRQ would. */
    private void serviceInterrupts() {
        for (int runs = 0; f.line(); runs++) {
            assertThat(runs).as("interrupt storm").isLessThan(100);
            assertThat(driver.handleInterrupt())
                    .as("the line is up but IIR says no interrupt")
                    .isTrue();
        }
    }

    @Test
    void autoconfigDetectsA16550A() {
        assertThat(driver.autoconfig()).isEqualTo("16550A");
    }

    @Test
    void autoconfigLeavesThePortQuietAndItsLineControlAsItFoundIt() {
        f.write(LCR, LCR_WORD_LENGTH_8);
        f.write(SCR, 0x77);

        driver.autoconfig();

        assertThat(f.read(LCR)).isEqualTo(LCR_WORD_LENGTH_8);
        assertThat(f.read(IER)).isZero();
        assertThat(f.read(MCR)).isZero();
        assertThat(f.read(SCR)).isEqualTo(0x77);
        assertThat(f.read(IIR)).as("FIFOs off again").isEqualTo(IIR_NO_INTERRUPT);
        assertThat(f.levels).as("OUT2 was never on with an interrupt enabled").isEmpty();
        assertThat(f.transmittedText())
                .as("size_fifo() transmitted only in loopback")
                .isEmpty();
    }

    @Test
    void scratchRegisterTestOfTheFifolessBranchFindsA16450NotAn8250() {
        f.write(SCR, 0x11);

        assertThat(driver.autoconfig8250()).isEqualTo("16450");
        assertThat(f.read(SCR)).as("restored").isEqualTo(0x11);
    }

    @Test
    void startupFindsNeitherTheThreNorTheTxEnableBug() {
        driver.autoconfig();

        assertThat(driver.startup()).isTrue();

        assertThat(driver.threBug).isFalse();
        assertThat(driver.txenBug).isFalse();
        assertThat(f.line()).isFalse();
    }

    @Test
    void driverTransmitsOnThrEmptyInterrupts() {
        driver.autoconfig();
        driver.startup();
        driver.setTermios115200();
        String text = "Linux version 6.x (jvfio) on a 16550A, more than one FIFO's worth\n";

        driver.write(text.getBytes(StandardCharsets.US_ASCII));
        serviceInterrupts();

        assertThat(f.transmittedText()).isEqualTo(text);
        assertThat(f.read(IER) & IER_THR_EMPTY)
                .as("the driver stopped the transmitter")
                .isZero();
    }

    @Test
    void driverReceivesAtTheTriggerLevelAndTheRestOnTheCharacterTimeout() {
        driver.autoconfig();
        driver.startup();
        driver.setTermios115200();

        f.receive("0123456789");
        assertThat(f.line()).as("8 bytes reached the trigger").isTrue();
        serviceInterrupts();
        assertThat(driver.received.toString(StandardCharsets.US_ASCII)).isEqualTo("0123456789");

        f.receive("ls\n");
        assertThat(f.line()).as("3 bytes are below the trigger").isFalse();
        // 4 characters of 8N1 at 115200 baud.
        f.clock.advance(4 * 86_805L);
        assertThat(f.read(IIR)).isEqualTo(IIR_FIFOS_ENABLED | IIR_CHARACTER_TIMEOUT);
        serviceInterrupts();

        assertThat(driver.received.toString(StandardCharsets.US_ASCII)).isEqualTo("0123456789ls\n");
        assertThat(f.clock.pending()).isZero();
    }
}
