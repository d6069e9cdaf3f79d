package io.jvfio.chips.serial;

import static io.jvfio.chips.serial.Uart16550Registers.*;
import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * Interrupt identification and its priorities, each source's set and clear conditions, the character
 * timeout on a fake clock, and how INTR reaches the line (OUT2 on a PC).
 */
class Uart16550InterruptTest {
    /** 4 character times of 8N1 at the power-on 9600 baud: 4 x 10 bits x 12 x 16 / 1.8432 MHz. */
    private static final long TIMEOUT_9600_8N1 = 4 * 1_041_666L;

    private final UartFixture f = new UartFixture();

    private void fifoWithTrigger8() {
        f.write(LCR, LCR_WORD_LENGTH_8);
        f.write(FCR, FCR_FIFO_ENABLE | FCR_TRIGGER_8);
    }

    private void enable(int interrupts) {
        f.write(IER, interrupts);
        f.write(MCR, MCR_OUT2);
    }

    @Test
    void thrEmptyInterruptComesWhenTheTransmitterDrainsAndAnIirReadClearsIt() {
        f.write(FCR, FCR_FIFO_ENABLE);
        f.hostAccepts = false;
        f.write(THR, 'a');
        f.write(THR, 'b');
        enable(IER_THR_EMPTY);
        assertThat(f.line()).as("'b' waits in the FIFO").isFalse();

        f.hostAccepts = true;
        f.uart.transmitterReady();

        assertThat(f.line()).isTrue();
        assertThat(f.read(IIR)).isEqualTo(IIR_FIFOS_ENABLED | IIR_THR_EMPTY);
        assertThat(f.line()).isFalse();
        assertThat(f.read(IIR)).isEqualTo(IIR_FIFOS_ENABLED | IIR_NO_INTERRUPT);
    }

    @Test
    void everyWriteOfThrEndsWithAThrEmptyInterruptWhenTheHostTakesTheByte() {
        enable(IER_THR_EMPTY);
        f.read(IIR);
        assertThat(f.line()).isFalse();

        f.write(THR, 'x');

        assertThat(f.line()).isTrue();
        assertThat(f.read(IIR)).isEqualTo(IIR_THR_EMPTY);
    }

    @Test
    void writingThrClearsAPendingThrEmptyInterrupt() {
        f.write(FCR, FCR_FIFO_ENABLE);
        f.hostAccepts = false;
        f.write(THR, 'a');
        enable(IER_THR_EMPTY);
        assertThat(f.line()).isTrue();

        f.write(THR, 'b');

        assertThat(f.line()).isFalse();
        assertThat(f.read(IIR)).isEqualTo(IIR_FIFOS_ENABLED | IIR_NO_INTERRUPT);
    }

    @Test
    void enablingThrEmptyInterruptWhileIdleInterruptsAgainAfterAnIirRead() {
        f.write(IER, IER_THR_EMPTY);
        int first = f.read(IIR);
        f.write(IER, 0);
        f.write(IER, IER_THR_EMPTY);

        assertThat(first).isEqualTo(IIR_THR_EMPTY);
        assertThat(f.read(IIR)).as("Linux's UART_BUG_THRE test").isEqualTo(IIR_THR_EMPTY);
    }

    @Test
    void iirReportsSourcesInPriorityOrderAsEachIsCleared() {
        f.write(FCR, FCR_FIFO_ENABLE);
        enable(IER_RECEIVED_DATA | IER_THR_EMPTY | IER_LINE_STATUS | IER_MODEM_STATUS);
        f.uart.setModemInputs(new Uart16550.ModemInputs(false, true, false, true));
        f.receive("0123456789abcdefX");

        assertThat(f.read(IIR) & IIR_ID_MASK).isEqualTo(IIR_LINE_STATUS);
        f.read(LSR);
        assertThat(f.read(IIR) & IIR_ID_MASK).isEqualTo(IIR_RECEIVED_DATA);
        while ((f.read(LSR) & LSR_DATA_READY) != 0) {
            f.read(RBR);
        }
        assertThat(f.read(IIR) & IIR_ID_MASK).as("this read clears it").isEqualTo(IIR_THR_EMPTY);
        assertThat(f.read(IIR) & IIR_ID_MASK).isEqualTo(IIR_MODEM_STATUS);
        assertThat(f.line()).isTrue();
        f.read(MSR);
        assertThat(f.read(IIR) & IIR_ID_MASK).isEqualTo(IIR_NO_INTERRUPT);
        assertThat(f.line()).isFalse();
    }

    @Test
    void interruptsNotEnabledInIerDoNotShowInIir() {
        f.write(IER, IER_MODEM_STATUS);
        f.receive("ab");

        assertThat(f.read(IIR)).isEqualTo(IIR_NO_INTERRUPT);
    }

    @Test
    void overrunIsALineStatusInterruptThatReadingLsrClears() {
        enable(IER_LINE_STATUS);
        f.receive("ab");
        assertThat(f.line()).isTrue();

        assertThat(f.read(LSR) & LSR_OVERRUN).isEqualTo(LSR_OVERRUN);

        assertThat(f.line()).isFalse();
    }

    @Test
    void breakArrivesAsAZeroCharacterWithTheBreakBit() {
        enable(IER_LINE_STATUS);
        f.uart.receiveBreak();

        assertThat(f.read(IIR)).isEqualTo(IIR_LINE_STATUS);
        assertThat(f.read(LSR) & (LSR_BREAK | LSR_DATA_READY)).isEqualTo(LSR_BREAK | LSR_DATA_READY);
        assertThat(f.read(RBR)).isZero();
    }

    @Test
    void breakInTheFifoShowsWhenItsCharacterReachesTheTop() {
        f.write(FCR, FCR_FIFO_ENABLE);
        f.receive("a");
        f.uart.receiveBreak();

        assertThat(f.read(LSR) & (LSR_BREAK | LSR_RECEIVER_FIFO_ERROR)).isEqualTo(LSR_RECEIVER_FIFO_ERROR);
        assertThat(f.read(RBR)).isEqualTo('a');
        assertThat(f.read(LSR) & (LSR_BREAK | LSR_RECEIVER_FIFO_ERROR)).isEqualTo(LSR_BREAK | LSR_RECEIVER_FIFO_ERROR);
        f.read(RBR);
        f.read(LSR);
        assertThat(f.read(LSR) & LSR_RECEIVER_FIFO_ERROR)
                .as("cleared by an LSR read with no errored character left")
                .isZero();
    }

    @Test
    void modemStatusInterruptFollowsAnInputChangeUntilMsrIsRead() {
        enable(IER_MODEM_STATUS);

        f.uart.setModemInputs(new Uart16550.ModemInputs(true, true, false, false));

        assertThat(f.read(IIR)).isEqualTo(IIR_MODEM_STATUS);
        assertThat(f.line()).isTrue();
        assertThat(f.read(MSR) & MSR_DELTAS).isEqualTo(MSR_DELTA_DCD);
        assertThat(f.line()).isFalse();
    }

    @Test
    void characterTimeoutAfterFourCharacterTimesBelowTheTrigger() {
        fifoWithTrigger8();
        enable(IER_RECEIVED_DATA);
        f.receive("abc");

        f.clock.advance(TIMEOUT_9600_8N1 - 1);
        assertThat(f.read(IIR)).isEqualTo(IIR_FIFOS_ENABLED | IIR_NO_INTERRUPT);
        f.clock.advance(1);

        assertThat(f.read(IIR)).isEqualTo(IIR_FIFOS_ENABLED | IIR_CHARACTER_TIMEOUT);
        assertThat(f.line()).isTrue();
    }

    @Test
    void readingRbrClearsTheTimeoutAndStartsItsTimerAgain() {
        fifoWithTrigger8();
        enable(IER_RECEIVED_DATA);
        f.receive("abc");
        f.clock.advance(TIMEOUT_9600_8N1);

        assertThat(f.read(RBR)).isEqualTo('a');
        assertThat(f.line()).isFalse();
        f.clock.advance(TIMEOUT_9600_8N1);
        assertThat(f.read(IIR)).isEqualTo(IIR_FIFOS_ENABLED | IIR_CHARACTER_TIMEOUT);
        f.read(RBR);
        f.read(RBR);

        assertThat(f.line()).isFalse();
        assertThat(f.clock.pending()).as("no check left once the FIFO is empty").isZero();
    }

    @Test
    void eachReceivedCharacterPutsTheTimeoutOff() {
        fifoWithTrigger8();
        enable(IER_RECEIVED_DATA);
        f.receive("a");
        f.clock.advance(TIMEOUT_9600_8N1 / 2);
        f.receive("b");

        f.clock.advance(TIMEOUT_9600_8N1 / 2 + 1);
        assertThat(f.line()).isFalse();
        f.clock.advance(TIMEOUT_9600_8N1 / 2);

        assertThat(f.line()).isTrue();
    }

    @Test
    void characterTimeCountsDivisorWordLengthParityAndStopBits() {
        f.write(LCR, LCR_DLAB);
        f.write(DLL, 1);
        f.write(LCR, LCR_WORD_LENGTH_8 | LCR_PARITY_ENABLE | LCR_STOP_BITS);
        f.write(FCR, FCR_FIFO_ENABLE | FCR_TRIGGER_8);
        enable(IER_RECEIVED_DATA);
        f.receive("a");
        // 12 bits a character at 115200 baud: 104166 ns.
        long timeout = 4 * 104_166L;

        f.clock.advance(timeout - 1);
        assertThat(f.line()).isFalse();
        f.clock.advance(1);
        assertThat(f.line()).isTrue();
    }

    @Test
    void noCharacterTimeoutIn16450Mode() {
        enable(IER_RECEIVED_DATA);
        f.receive("a");
        f.read(IIR);

        f.clock.advance(10 * TIMEOUT_9600_8N1);

        assertThat(f.read(IIR)).isEqualTo(IIR_RECEIVED_DATA);
        assertThat(f.clock.pending()).isZero();
    }

    @Test
    void onAPcTheLineFollowsInterruptsOnlyWhileOut2IsSet() {
        f.write(IER, IER_THR_EMPTY);
        assertThat(f.read(IIR) & IIR_NO_INTERRUPT).isZero();
        f.write(IER, 0);
        f.write(IER, IER_THR_EMPTY);
        assertThat(f.line()).as("INTR is pending but OUT2 is off").isFalse();

        f.write(MCR, MCR_OUT2);
        assertThat(f.line()).isTrue();

        f.write(MCR, 0);
        assertThat(f.line()).isFalse();
    }

    @Test
    void loopbackForcesTheOut2PinInactiveSoAPcSeesNoInterrupt() {
        enable(IER_THR_EMPTY);
        assertThat(f.line()).isTrue();

        f.write(MCR, MCR_OUT2 | MCR_LOOPBACK);

        assertThat(f.line()).isFalse();
        assertThat(f.read(IIR)).as("the chip's own interrupt logic still works").isEqualTo(IIR_THR_EMPTY);
    }

    @Test
    void directOutputIgnoresOut2() {
        UartFixture direct = new UartFixture(Uart16550.InterruptOutput.DIRECT);

        direct.write(IER, IER_THR_EMPTY);

        assertThat(direct.line()).isTrue();
        direct.read(IIR);
        assertThat(direct.line()).isFalse();
    }

    @Test
    void theLineChangesOnlyWhenTheLevelDoes() {
        f.write(FCR, FCR_FIFO_ENABLE);
        enable(IER_RECEIVED_DATA);

        f.receive("a");
        f.receive("b");
        f.read(RBR);
        f.read(RBR);

        assertThat(f.levels).containsExactly(true, false);
    }
}
