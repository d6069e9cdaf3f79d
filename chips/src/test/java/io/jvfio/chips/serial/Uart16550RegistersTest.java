package io.jvfio.chips.serial;

import static io.jvfio.chips.serial.Uart16550Registers.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** Each register's semantics and DLAB switching, against the PC16550D datasheet. */
class Uart16550RegistersTest {
    private final UartFixture f = new UartFixture();

    @Test
    void powerOnValuesAreTheDatasheetsResetValues() {
        assertThat(f.read(IER)).isZero();
        assertThat(f.read(IIR)).isEqualTo(IIR_NO_INTERRUPT);
        assertThat(f.read(LCR)).isZero();
        assertThat(f.read(MCR)).isZero();
        assertThat(f.read(LSR)).isEqualTo(LSR_THR_EMPTY | LSR_TRANSMITTER_EMPTY);
        assertThat(f.read(MSR)).isEqualTo(MSR_CTS | MSR_DSR | MSR_DCD);
        assertThat(f.levels).isEmpty();
    }

    @Test
    void writingThrWithoutAnyInitialisationTransmits() {
        for (char c : "hi\n".toCharArray()) {
            f.write(THR, c);
        }

        assertThat(f.transmittedText()).isEqualTo("hi\n");
        assertThat(f.read(LSR)).isEqualTo(LSR_THR_EMPTY | LSR_TRANSMITTER_EMPTY);
    }

    @Test
    void dlabTurnsOffsetsZeroAndOneIntoTheDivisorLatch() {
        f.write(IER, IER_RECEIVED_DATA);
        f.write(LCR, LCR_DLAB | LCR_WORD_LENGTH_8);
        f.write(DLL, 0x34);
        f.write(DLM, 0x12);

        assertThat(f.read(DLL)).isEqualTo(0x34);
        assertThat(f.read(DLM)).isEqualTo(0x12);
        assertThat(f.transmittedText()).isEmpty();
        f.write(LCR, LCR_WORD_LENGTH_8);
        assertThat(f.read(IER)).isEqualTo(IER_RECEIVED_DATA);
    }

    @Test
    void divisorLatchStartsAt9600Baud() {
        f.write(LCR, LCR_DLAB);

        assertThat(f.read(DLL) | f.read(DLM) << 8).isEqualTo(Uart16550.POWER_ON_DIVISOR);
    }

    @Test
    void dlabLeavesTheOtherOffsetsAlone() {
        f.write(LCR, LCR_DLAB);
        f.write(SCR, 0x5A);
        f.write(MCR, MCR_DTR);

        assertThat(f.read(SCR)).isEqualTo(0x5A);
        assertThat(f.read(MCR)).isEqualTo(MCR_DTR);
        assertThat(f.read(IIR)).isEqualTo(IIR_NO_INTERRUPT);
        assertThat(f.read(LCR)).isEqualTo(LCR_DLAB);
    }

    @Test
    void ierKeepsItsFourEnableBitsAndReadsZeroAbove() {
        f.write(IER, 0xFF);

        assertThat(f.read(IER)).isEqualTo(0x0F);
    }

    @Test
    void lcrStoresWordLengthStopBitsParityAndBreak() {
        int format = 0x02 | LCR_STOP_BITS | LCR_PARITY_ENABLE | LCR_EVEN_PARITY | LCR_STICK_PARITY | LCR_BREAK;
        f.write(LCR, format);

        assertThat(f.read(LCR)).isEqualTo(format);
    }

    @Test
    void mcrKeepsItsFiveBitsAndReadsZeroAbove() {
        f.write(MCR, 0xFF);

        assertThat(f.read(MCR)).isEqualTo(MCR_IMPLEMENTED);
    }

    @Test
    void scratchRegisterHoldsAnyByte() {
        for (int value : new int[] {0x00, 0xA5, 0x5A, 0xFF}) {
            f.write(SCR, value);
            assertThat(f.read(SCR)).isEqualTo(value);
        }
    }

    @Test
    void writesToLsrAndMsrAreIgnored() {
        f.write(LSR, 0x00);
        f.write(MSR, 0x00);

        assertThat(f.read(LSR)).isEqualTo(LSR_THR_EMPTY | LSR_TRANSMITTER_EMPTY);
        assertThat(f.read(MSR)).isEqualTo(MSR_CTS | MSR_DSR | MSR_DCD);
    }

    @Test
    void iirShowsTheFifoBitsOnlyWhileFifosAreEnabled() {
        f.write(FCR, FCR_FIFO_ENABLE);
        assertThat(f.read(IIR)).isEqualTo(IIR_FIFOS_ENABLED | IIR_NO_INTERRUPT);

        f.write(FCR, 0);
        assertThat(f.read(IIR)).isEqualTo(IIR_NO_INTERRUPT);
    }

    @Test
    void receivedByteIsReadFromRbrAndClearsDataReady() {
        f.receive("x");
        assertThat(f.read(LSR) & LSR_DATA_READY).isEqualTo(LSR_DATA_READY);

        assertThat(f.read(RBR)).isEqualTo('x');
        assertThat(f.read(LSR) & LSR_DATA_READY).isZero();
    }

    @Test
    void emptyRbrReadsTheLastCharacterAgain() {
        f.receive("q");
        f.read(RBR);

        assertThat(f.read(RBR)).isEqualTo('q');
    }

    @Test
    void modemInputChangesSetDeltaBitsThatAReadClears() {
        f.uart.setModemInputs(new Uart16550.ModemInputs(false, true, true, true));
        assertThat(f.read(MSR)).isEqualTo(MSR_DSR | MSR_RI | MSR_DCD | MSR_DELTA_CTS);
        assertThat(f.read(MSR)).isEqualTo(MSR_DSR | MSR_RI | MSR_DCD);

        f.uart.setModemInputs(new Uart16550.ModemInputs(false, false, false, false));
        assertThat(f.read(MSR)).isEqualTo(MSR_DELTA_DSR | MSR_TRAILING_EDGE_RI | MSR_DELTA_DCD);
    }

    @Test
    void ringIndicatorRisingSetsNoDelta() {
        f.uart.setModemInputs(new Uart16550.ModemInputs(true, true, true, true));

        assertThat(f.read(MSR) & MSR_DELTAS).isZero();
    }

    @Test
    void resetRestoresResetValuesButKeepsDivisorAndScratch() {
        f.write(LCR, LCR_DLAB);
        f.write(DLL, 1);
        f.write(LCR, LCR_WORD_LENGTH_8);
        f.write(IER, IER_THR_EMPTY);
        f.write(MCR, MCR_OUT2 | MCR_DTR);
        f.write(FCR, FCR_FIFO_ENABLE);
        f.write(SCR, 0x42);
        f.receive("abc");
        assertThat(f.line()).isTrue();

        f.uart.reset();

        assertThat(f.line()).isFalse();
        assertThat(f.read(IER)).isZero();
        assertThat(f.read(IIR)).isEqualTo(IIR_NO_INTERRUPT);
        assertThat(f.read(LCR)).isZero();
        assertThat(f.read(MCR)).isZero();
        assertThat(f.read(LSR)).isEqualTo(LSR_THR_EMPTY | LSR_TRANSMITTER_EMPTY);
        assertThat(f.read(SCR)).isEqualTo(0x42);
        f.write(LCR, LCR_DLAB);
        assertThat(f.read(DLL)).isEqualTo(1);
        assertThat(f.clock.pending()).isZero();
    }

    @Test
    void offsetsOutsideTheEightRegistersAreRefused() {
        assertThatThrownBy(() -> f.read(8))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("offset 8");
        assertThatThrownBy(() -> f.write(-1, 0)).isInstanceOf(IllegalArgumentException.class);
    }
}
