package io.jvfio.chips.serial;

import static io.jvfio.chips.serial.Uart16550Registers.*;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** FIFO enable, clear and trigger levels; overruns; the transmitter against a host end that is full. */
class Uart16550FifoTest {
    private final UartFixture f = new UartFixture();

    private String readAll() {
        StringBuilder text = new StringBuilder();
        while ((f.read(LSR) & LSR_DATA_READY) != 0) {
            text.append((char) f.read(RBR));
        }
        return text.toString();
    }

    @Test
    void fifoReturnsReceivedBytesInOrder() {
        f.write(FCR, FCR_FIFO_ENABLE);
        f.receive("0123456789abcdef");

        assertThat(readAll()).isEqualTo("0123456789abcdef");
        assertThat(f.read(LSR) & LSR_OVERRUN).isZero();
    }

    @Test
    void fullFifoOverrunsAndKeepsItsSixteenCharacters() {
        f.write(FCR, FCR_FIFO_ENABLE);
        f.receive("0123456789abcdefXY");

        assertThat(f.read(LSR) & (LSR_OVERRUN | LSR_DATA_READY)).isEqualTo(LSR_OVERRUN | LSR_DATA_READY);
        assertThat(readAll()).isEqualTo("0123456789abcdef");
        assertThat(f.read(LSR) & LSR_OVERRUN).as("OE clears on the LSR read").isZero();
    }

    @Test
    void withoutFifosASecondCharacterOverrunsTheFirst() {
        f.receive("ab");

        assertThat(f.read(LSR)).isEqualTo(LSR_DATA_READY | LSR_OVERRUN | LSR_THR_EMPTY | LSR_TRANSMITTER_EMPTY);
        assertThat(f.read(RBR)).isEqualTo('b');
        assertThat(f.read(LSR) & (LSR_DATA_READY | LSR_OVERRUN)).isZero();
    }

    @Test
    void clearingTheReceiverFifoEmptiesIt() {
        f.write(FCR, FCR_FIFO_ENABLE);
        f.receive("abc");

        f.write(FCR, FCR_FIFO_ENABLE | FCR_CLEAR_RECEIVER);

        assertThat(f.read(LSR) & LSR_DATA_READY).isZero();
        assertThat(f.clock.pending()).as("no timeout check for an empty FIFO").isZero();
    }

    @Test
    void switchingBetweenFifoAnd16450ModeEmptiesTheReceiver() {
        f.write(FCR, FCR_FIFO_ENABLE);
        f.receive("abc");

        f.write(FCR, 0);

        assertThat(f.read(LSR) & LSR_DATA_READY).isZero();
    }

    @Test
    void fcrBitsAreProgrammedOnlyWithTheEnableBit() {
        f.receive("a");

        f.write(FCR, FCR_TRIGGER_14 | FCR_CLEAR_RECEIVER);

        assertThat(f.read(IIR) & IIR_FIFOS_ENABLED).isZero();
        assertThat(f.read(RBR)).as("the clear was not programmed").isEqualTo('a');
    }

    @ParameterizedTest(name = "FCR 0x{0} interrupts at {1} bytes")
    @CsvSource({"01, 1", "41, 4", "81, 8", "C1, 14"})
    void receivedDataInterruptComesAtTheTriggerLevel(String fcr, int level) {
        f.write(FCR, Integer.parseInt(fcr, 16));
        f.write(IER, IER_RECEIVED_DATA);
        f.write(MCR, MCR_OUT2);

        f.receive("x".repeat(level - 1));
        assertThat(f.read(IIR)).isEqualTo(IIR_FIFOS_ENABLED | IIR_NO_INTERRUPT);
        assertThat(f.line()).isFalse();

        f.receive("x");
        assertThat(f.read(IIR)).isEqualTo(IIR_FIFOS_ENABLED | IIR_RECEIVED_DATA);
        assertThat(f.line()).isTrue();
    }

    @Test
    void receivedDataInterruptEndsWhenTheFifoDropsBelowTheTrigger() {
        f.write(FCR, FCR_FIFO_ENABLE | FCR_TRIGGER_4);
        f.write(IER, IER_RECEIVED_DATA);
        f.write(MCR, MCR_OUT2);
        f.receive("abcd");
        assertThat(f.line()).isTrue();

        f.read(RBR);

        assertThat(f.line()).isFalse();
        assertThat(f.read(IIR)).isEqualTo(IIR_FIFOS_ENABLED | IIR_NO_INTERRUPT);
    }

    @Test
    void transmitFifoHoldsSixteenCharactersBehindTheShiftRegisterWhileTheHostEndIsFull() {
        f.write(FCR, FCR_FIFO_ENABLE);
        f.hostAccepts = false;

        for (char c : "0123456789abcdefgh".toCharArray()) {
            f.write(THR, c);
        }

        assertThat(f.read(LSR) & (LSR_THR_EMPTY | LSR_TRANSMITTER_EMPTY)).isZero();
        f.hostAccepts = true;
        f.uart.transmitterReady();
        assertThat(f.transmittedText())
                .as("the shift register's and the FIFO's; the 18th was lost")
                .isEqualTo("0123456789abcdefg");
        assertThat(f.read(LSR) & (LSR_THR_EMPTY | LSR_TRANSMITTER_EMPTY))
                .isEqualTo(LSR_THR_EMPTY | LSR_TRANSMITTER_EMPTY);
    }

    @Test
    void holdingRegisterEmptiesIntoTheShiftRegisterBeforeTheCharacterIsSent() {
        f.hostAccepts = false;

        f.write(THR, 'a');
        assertThat(f.read(LSR) & (LSR_THR_EMPTY | LSR_TRANSMITTER_EMPTY)).isEqualTo(LSR_THR_EMPTY);

        f.write(THR, 'b');
        assertThat(f.read(LSR) & (LSR_THR_EMPTY | LSR_TRANSMITTER_EMPTY)).isZero();
    }

    @Test
    void clearingTheTransmitFifoDropsQueuedCharactersButNotTheShiftRegister() {
        f.write(FCR, FCR_FIFO_ENABLE);
        f.hostAccepts = false;
        for (char c : "abc".toCharArray()) {
            f.write(THR, c);
        }

        f.write(FCR, FCR_FIFO_ENABLE | FCR_CLEAR_TRANSMITTER);
        f.hostAccepts = true;
        f.uart.transmitterReady();

        assertThat(f.transmittedText()).isEqualTo("a");
    }

    @Test
    void offerTakesOnlyWhatFitsWithoutAnOverrun() {
        f.write(FCR, FCR_FIFO_ENABLE);
        byte[] text = "0123456789abcdefghij".getBytes(StandardCharsets.US_ASCII);

        assertThat(f.uart.offer(text, 0, text.length)).isEqualTo(16);
        assertThat(f.uart.offer(text, 16, 4)).isZero();
        f.read(RBR);
        assertThat(f.uart.offer(text, 16, 4)).isEqualTo(1);
        assertThat(f.read(LSR) & LSR_OVERRUN).isZero();
    }

    @Test
    void offerIn16450ModeTakesOneCharacterAtATime() {
        byte[] text = "ab".getBytes(StandardCharsets.US_ASCII);

        assertThat(f.uart.offer(text, 0, 2)).isEqualTo(1);
        assertThat(f.uart.offer(text, 1, 1)).isZero();
        assertThat(f.read(RBR)).isEqualTo('a');
        assertThat(f.uart.offer(text, 1, 1)).isEqualTo(1);
    }

    @Test
    void awaitingReceiverRoomReturnsOnceTheGuestReads() throws Exception {
        f.uart.offer(new byte[] {'a'}, 0, 1);
        CompletableFuture<Void> waiter = CompletableFuture.runAsync(() -> {
            try {
                f.uart.awaitReceiverRoom();
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        Thread.sleep(50);
        assertThat(waiter).isNotDone();

        f.read(RBR);

        waiter.get(5, TimeUnit.SECONDS);
    }

    @Test
    void enablingFifosWakesAWaiterThatFoundTheHoldingRegisterFull() throws Exception {
        f.uart.offer(new byte[] {'a'}, 0, 1);
        CompletableFuture<Void> waiter = CompletableFuture.runAsync(() -> {
            try {
                f.uart.awaitReceiverRoom();
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        Thread.sleep(50);
        assertThat(waiter).as("waiting on the full holding register").isNotDone();

        f.write(FCR, FCR_FIFO_ENABLE);

        waiter.get(5, TimeUnit.SECONDS);
    }
}
