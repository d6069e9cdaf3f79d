package io.jvfio.chips.serial;

import static io.jvfio.chips.serial.Uart16550Registers.*;

import java.util.Objects;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A 16550A UART at register level, after the National (now TI) PC16550D datasheet: the eight registers
 * by offset ({@link #read}, {@link #write}), 16-byte receive and transmit FIFOs or one-byte holding
 * registers, the prioritised interrupt identification, loopback, and modem control and status. It knows
 * nothing of ports, MMIO or KVM: the caller maps an address to an offset (port - base, or MMIO offset
 * shifted right by the register shift) and wires the three host-side ends:
 * <ul>
 * <li>{@link InterruptSink}: the interrupt level, to raise or lower an IRQ line with;</li>
 * <li>{@link Transmitter}: each byte the guest sends, which the host end may refuse while it is full;</li>
 * <li>{@link #receive}, {@link #offer}, {@link #receiveBreak}, {@link #setModemInputs}: what the far end
 * sends.</li>
 * </ul>
 * Characters take no line time: a byte written to THR is transmitted at once if the host end takes it,
 * and received bytes are in the RX FIFO at once. The divisor and the line format only set the length of
 * a character time, which the receiver's character timeout counts on the injected {@link Clock}.
 *
 * <p>Thread-safe: one lock guards every register. The sink, the transmitter and the clock are called with
 * that lock held (so levels reach the line in the order they changed) and must not call back into the
 * UART; the clock's tasks run on the clock's own thread and take the lock then.
 */
public final class Uart16550 {
    /** A level output: the UART's interrupt as the caller's IRQ line should see it. */
    @FunctionalInterface
    public interface InterruptSink {
        void setLevel(boolean asserted);
    }

    /** Where transmitted bytes go (stdout, a socket). */
    @FunctionalInterface
    public interface Transmitter {
        /**
         * Sends {@code value} to the host end; false if the host end cannot take it now, in which case the
         * byte stays in the transmitter (THRE and TEMT read 0) until {@link #transmitterReady()}.
         */
        boolean transmit(byte value);
    }

    /** Time for the receiver's character timeout: the machine's event loop, or a fake clock in tests. */
    public interface Clock {
        /** The time the delays count from: the JVM's monotonic clock, unless a test's fake clock says otherwise. */
        default long nanoTime() {
            return System.nanoTime();
        }

        /** Runs {@code task} after {@code delayNanos}; the result cancels it if it has not run yet. */
        Runnable schedule(long delayNanos, Runnable task);
    }

    /** How the chip's INTR output reaches the caller's line. */
    public enum InterruptOutput {
        /**
         * As on a PC's serial port: the board drives the ISA IRQ from INTR only while the OUT2 pin is
         * active, which is why Linux's 8250 driver sets MCR.OUT2 on ports with an IRQ.
         */
        GATED_BY_OUT2,
        /** INTR straight to the interrupt controller, as on most SoCs (a device-tree ns16550a). */
        DIRECT
    }

    /** The modem control inputs from the far end, as the MSR shows them (true: asserted). */
    public record ModemInputs(
            boolean clearToSend, boolean dataSetReady, boolean ringIndicator, boolean dataCarrierDetect) {
        /** A terminal that is attached and ready: CTS, DSR and DCD asserted, no ring. */
        public static final ModemInputs CONNECTED = new ModemInputs(true, true, false, true);

        int msrBits() {
            return (clearToSend ? MSR_CTS : 0)
                    | (dataSetReady ? MSR_DSR : 0)
                    | (ringIndicator ? MSR_RI : 0)
                    | (dataCarrierDetect ? MSR_DCD : 0);
        }
    }

    /** The divisor before the guest programs one (the chip's is undefined): 9600 baud, as PC firmware sets. */
    public static final int POWER_ON_DIVISOR = 12;

    private static final int NO_CHARACTER = -1;
    private static final int[] TRIGGER_LEVELS = {1, 4, 8, 14};
    /** Character timeout after this many character times without a receive or an RBR read. */
    private static final int TIMEOUT_CHARACTER_TIMES = 4;

    private final ReentrantLock lock = new ReentrantLock();
    /** Signalled when the receiver may have room for a character it can take without an overrun. */
    private final Condition receiverHasRoom = lock.newCondition();

    private final InterruptSink interruptSink;
    private final Transmitter transmitter;
    private final Clock clock;
    private final InterruptOutput interruptOutput;

    // Registers and their hidden state, all guarded by lock.
    private int divisor = POWER_ON_DIVISOR;
    private int interruptEnable;
    private int lineControl;
    private int modemControl;
    private int scratch;
    private boolean fifosEnabled;
    private int triggerLevel = 1;
    /** RX FIFO (one slot used outside FIFO mode: the RBR), with a break flag per character. */
    private final byte[] receivedData = new byte[FIFO_DEPTH];

    private final boolean[] receivedBreak = new boolean[FIFO_DEPTH];
    private int receiveHead;
    private int receiveCount;
    /** What RBR reads when nothing was received since: the last character read. */
    private int lastReadCharacter;
    /** TX FIFO (one slot used outside FIFO mode: the THR). */
    private final byte[] transmitData = new byte[FIFO_DEPTH];

    private int transmitHead;
    private int transmitCount;
    /** The transmitter shift register: a character the host end has not taken yet, or NO_CHARACTER. */
    private int shiftRegister = NO_CHARACTER;
    /** LSR's overrun and break bits: set by the receiver, cleared by reading LSR. */
    private int lineStatusErrors;

    private boolean receiverFifoError;
    private ModemInputs modemInputs = ModemInputs.CONNECTED;
    /** MSR bits 4-7 as the chip sees them: the far end's inputs, or MCR's outputs in loopback. */
    private int modemStatus;

    private int modemStatusDeltas;
    private boolean thrEmptyInterrupt;
    private boolean characterTimeout;
    private long lastReceiverActivityNanos;
    private Runnable cancelTimeoutCheck;
    /** Tells a timeout check that runs after it was cancelled (it may already wait for the lock) to do nothing. */
    private long timeoutCheckGeneration;

    private boolean lineAsserted;

    private Uart16550(Builder builder) {
        this.interruptSink = Objects.requireNonNull(builder.interruptSink, "interruptSink");
        this.transmitter = Objects.requireNonNull(builder.transmitter, "transmitter");
        this.clock = Objects.requireNonNull(builder.clock, "clock");
        this.interruptOutput = Objects.requireNonNull(builder.interruptOutput, "interruptOutput");
        this.modemStatus = modemInputs.msrBits();
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Reads register {@code offset} (0-7), with the read's side effects; returns a byte. */
    public int read(int offset) {
        checkOffset(offset);
        lock.lock();
        try {
            int value = switch (offset) {
                case RBR -> isDivisorLatchAccess() ? divisor & 0xFF : readReceiverBuffer();
                case IER -> isDivisorLatchAccess() ? divisor >>> 8 : interruptEnable;
                case IIR -> readInterruptIdentification();
                case LCR -> lineControl;
                case MCR -> modemControl;
                case LSR -> readLineStatus();
                case MSR -> readModemStatus();
                default -> scratch;
            };
            updateInterruptLine();
            return value;
        } finally {
            lock.unlock();
        }
    }

    /** Writes the low byte of {@code value} to register {@code offset} (0-7). */
    public void write(int offset, int value) {
        checkOffset(offset);
        int data = value & 0xFF;
        lock.lock();
        try {
            switch (offset) {
                case THR -> {
                    if (isDivisorLatchAccess()) {
                        divisor = (divisor & 0xFF00) | data;
                    } else {
                        writeTransmitterHolding((byte) data);
                    }
                }
                case IER -> {
                    if (isDivisorLatchAccess()) {
                        divisor = (divisor & 0x00FF) | data << 8;
                    } else {
                        writeInterruptEnable(data);
                    }
                }
                case FCR -> writeFifoControl(data);
                case LCR -> lineControl = data;
                case MCR -> writeModemControl(data);
                // LSR and MSR are read-only; the datasheet reserves writes to LSR for factory test.
                case LSR, MSR -> {}
                default -> scratch = data;
            }
            updateInterruptLine();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Bytes arriving on the serial line: each goes into the RX FIFO (or RBR); one that finds no room is
     * an overrun (LSR.OE), lost as on the wire. In loopback the line is disconnected and they are lost.
     * A host end that can wait should use {@link #offer} instead.
     */
    public void receive(byte[] bytes) {
        lock.lock();
        try {
            if (!isLoopback()) {
                for (byte b : bytes) {
                    receiveCharacter(b, false);
                }
            }
            updateInterruptLine();
        } finally {
            lock.unlock();
        }
    }

    /**
     * As many of {@code bytes[offset, offset + length)} as the receiver takes without an overrun; returns
     * how many that was (0 in loopback, where the line is disconnected). With {@link #awaitReceiverRoom}
     * this is flow control a wire does not have: a pasted line never overruns a guest that reads slowly.
     */
    public int offer(byte[] bytes, int offset, int length) {
        Objects.checkFromIndexSize(offset, length, bytes.length);
        lock.lock();
        try {
            int taken = Math.min(receiverRoom(), length);
            for (int i = 0; i < taken; i++) {
                receiveCharacter(bytes[offset + i], false);
            }
            updateInterruptLine();
            return taken;
        } finally {
            lock.unlock();
        }
    }

    /** Waits until {@link #offer} would take at least one byte. */
    public void awaitReceiverRoom() throws InterruptedException {
        lock.lockInterruptibly();
        try {
            while (receiverRoom() == 0) {
                receiverHasRoom.await();
            }
        } finally {
            lock.unlock();
        }
    }

    /**
     * The far end held the line at 0 for longer than a character: one 0 character with LSR.BI, which the
     * guest sees when that character reaches the top of the FIFO. Lost in loopback.
     */
    public void receiveBreak() {
        lock.lock();
        try {
            if (!isLoopback()) {
                receiveCharacter((byte) 0, true);
            }
            updateInterruptLine();
        } finally {
            lock.unlock();
        }
    }

    /** The host end can take bytes again after {@link Transmitter#transmit} refused one. */
    public void transmitterReady() {
        lock.lock();
        try {
            drainTransmitter();
            updateInterruptLine();
        } finally {
            lock.unlock();
        }
    }

    /** Sets the far end's modem control inputs; changes show as MSR delta bits (outside loopback). */
    public void setModemInputs(ModemInputs inputs) {
        Objects.requireNonNull(inputs, "inputs");
        lock.lock();
        try {
            modemInputs = inputs;
            refreshModemStatus();
            updateInterruptLine();
        } finally {
            lock.unlock();
        }
    }

    /**
     * The chip's master reset (a device reset): every register to its datasheet reset value, FIFOs empty,
     * the character-timeout check cancelled, the line lowered. The divisor and the scratch register keep
     * their values, as the reset does not touch them.
     */
    public void reset() {
        lock.lock();
        try {
            interruptEnable = 0;
            lineControl = 0;
            modemControl = 0;
            fifosEnabled = false;
            triggerLevel = 1;
            clearReceiver();
            clearTransmitter();
            shiftRegister = NO_CHARACTER;
            lineStatusErrors = 0;
            thrEmptyInterrupt = false;
            modemStatus = modemInputs.msrBits();
            modemStatusDeltas = 0;
            updateInterruptLine();
            signalReceiverRoom();
        } finally {
            lock.unlock();
        }
    }

    // ---- register behaviour (lock held) ----

    private static void checkOffset(int offset) {
        if (offset < 0 || offset >= REGISTER_COUNT) {
            throw new IllegalArgumentException(
                    "16550 register offset " + offset + " is not 0.." + (REGISTER_COUNT - 1));
        }
    }

    private boolean isDivisorLatchAccess() {
        return (lineControl & LCR_DLAB) != 0;
    }

    private boolean isLoopback() {
        return (modemControl & MCR_LOOPBACK) != 0;
    }

    private int readReceiverBuffer() {
        if (receiveCount == 0) {
            return lastReadCharacter;
        }
        lastReadCharacter = receivedData[receiveHead] & 0xFF;
        receiveHead = (receiveHead + 1) % FIFO_DEPTH;
        receiveCount--;
        // PC16550D, "FIFO Interrupt Mode Operation": a read clears a character timeout and restarts its timer.
        characterTimeout = false;
        if (receiveCount == 0) {
            cancelTimeoutCheck();
        } else {
            if (receivedBreak[receiveHead]) {
                // The datasheet reveals a character's error bits in LSR when it reaches the top of the FIFO.
                lineStatusErrors |= LSR_BREAK;
            }
            noteReceiverActivity();
        }
        signalReceiverRoom();
        return lastReadCharacter;
    }

    private int readInterruptIdentification() {
        int id = pendingInterrupt();
        if (id == IIR_THR_EMPTY) {
            // Table "Interrupt Control Functions": reading IIR resets the THRE interrupt only when it is
            // the source, so a pending higher-priority interrupt does not swallow it.
            thrEmptyInterrupt = false;
        }
        return id | (fifosEnabled ? IIR_FIFOS_ENABLED : 0);
    }

    private int readLineStatus() {
        int value = (receiveCount > 0 ? LSR_DATA_READY : 0) | lineStatusErrors;
        if (transmitCount == 0) {
            value |= LSR_THR_EMPTY;
            if (shiftRegister == NO_CHARACTER) {
                value |= LSR_TRANSMITTER_EMPTY;
            }
        }
        if (fifosEnabled && receiverFifoError) {
            value |= LSR_RECEIVER_FIFO_ERROR;
        }
        lineStatusErrors = 0;
        // LSR bit 7 is cleared by this read only if no more errored characters wait in the FIFO.
        receiverFifoError = breakInReceiveFifo();
        return value;
    }

    private int readModemStatus() {
        int value = modemStatus | modemStatusDeltas;
        modemStatusDeltas = 0;
        return value;
    }

    private void writeTransmitterHolding(byte value) {
        thrEmptyInterrupt = false;
        // A write to a full THR or TX FIFO is lost: only a host end that refused bytes can fill it.
        if (transmitCount < transmitCapacity()) {
            transmitData[(transmitHead + transmitCount) % FIFO_DEPTH] = value;
            transmitCount++;
        }
        drainTransmitter();
    }

    private void writeInterruptEnable(int value) {
        boolean enablingThrEmpty = (interruptEnable & IER_THR_EMPTY) == 0 && (value & IER_THR_EMPTY) != 0;
        interruptEnable = value & IER_IMPLEMENTED;
        // Enabling the THRE interrupt while THR is empty interrupts at once: Linux's 8250 startup tests
        // for exactly this ("Real 16550s should always reassert this interrupt whenever the transmitter
        // is idle and the interrupt is enabled") and otherwise falls back to polling with a timer.
        if (enablingThrEmpty && transmitCount == 0) {
            thrEmptyInterrupt = true;
        }
    }

    private void writeFifoControl(int value) {
        boolean enable = (value & FCR_FIFO_ENABLE) != 0;
        if (enable != fifosEnabled) {
            // FCR bit 0: switching between 16450 and FIFO mode empties both FIFOs, and the THRE
            // interrupt after the change is immediate if enabled.
            fifosEnabled = enable;
            clearReceiver();
            clearTransmitter();
            thrEmptyInterrupt = true;
        }
        // FCR bit 0 must be 1 for the other bits to be programmed.
        if (!enable) {
            return;
        }
        if ((value & FCR_CLEAR_RECEIVER) != 0) {
            clearReceiver();
        }
        if ((value & FCR_CLEAR_TRANSMITTER) != 0) {
            clearTransmitter();
        }
        triggerLevel = TRIGGER_LEVELS[(value & FCR_TRIGGER_MASK) >>> 6];
    }

    private void writeModemControl(int value) {
        modemControl = value & MCR_IMPLEMENTED;
        refreshModemStatus();
        // Bytes the host end refused go out internally once loopback is on.
        drainTransmitter();
        signalReceiverRoom();
    }

    /**
     * MCR bit 4: in loopback the modem inputs are disconnected and MSR's top bits follow DTR->DSR,
     * RTS->CTS, OUT1->RI, OUT2->DCD; the datasheet keeps modem status interrupts working with MCR as their
     * source, so changes set the delta bits either way.
     */
    private void refreshModemStatus() {
        int next = isLoopback()
                ? (modemControl & MCR_DTR) << 5
                        | (modemControl & MCR_RTS) << 3
                        | (modemControl & MCR_OUT1) << 4
                        | (modemControl & MCR_OUT2) << 4
                : modemInputs.msrBits();
        int changed = next ^ modemStatus;
        if ((changed & MSR_CTS) != 0) {
            modemStatusDeltas |= MSR_DELTA_CTS;
        }
        if ((changed & MSR_DSR) != 0) {
            modemStatusDeltas |= MSR_DELTA_DSR;
        }
        if ((changed & MSR_RI) != 0 && (next & MSR_RI) == 0) {
            modemStatusDeltas |= MSR_TRAILING_EDGE_RI;
        }
        if ((changed & MSR_DCD) != 0) {
            modemStatusDeltas |= MSR_DELTA_DCD;
        }
        modemStatus = next;
    }

    // ---- receiver ----

    private int receiverRoom() {
        if (isLoopback()) {
            return 0;
        }
        return receiveCapacity() - receiveCount;
    }

    private int receiveCapacity() {
        return fifosEnabled ? FIFO_DEPTH : 1;
    }

    private int transmitCapacity() {
        return fifosEnabled ? FIFO_DEPTH : 1;
    }

    /** A character the receiver shift register completed: from the line, or from the transmitter in loopback. */
    private void receiveCharacter(byte value, boolean isBreak) {
        if (receiveCount == receiveCapacity()) {
            lineStatusErrors |= LSR_OVERRUN;
            if (fifosEnabled) {
                // FIFO mode: the FIFO keeps its contents and the character in the shift register is lost.
                return;
            }
            // 16450 mode: the new character overwrites the unread one in RBR.
            receiveCount = 0;
        }
        int slot = (receiveHead + receiveCount) % FIFO_DEPTH;
        receivedData[slot] = value;
        receivedBreak[slot] = isBreak;
        receiveCount++;
        if (isBreak) {
            receiverFifoError = true;
            if (receiveCount == 1) {
                lineStatusErrors |= LSR_BREAK;
            }
        }
        if (fifosEnabled) {
            noteReceiverActivity();
        }
    }

    private boolean breakInReceiveFifo() {
        for (int i = 0; i < receiveCount; i++) {
            if (receivedBreak[(receiveHead + i) % FIFO_DEPTH]) {
                return true;
            }
        }
        return false;
    }

    private void clearReceiver() {
        receiveHead = 0;
        receiveCount = 0;
        characterTimeout = false;
        receiverFifoError = false;
        cancelTimeoutCheck();
        signalReceiverRoom();
    }

    /** Wakes {@link #awaitReceiverRoom} after anything that may have made room (a read, a clear, loopback off). */
    private void signalReceiverRoom() {
        if (receiverRoom() > 0) {
            receiverHasRoom.signalAll();
        }
    }

    // ---- character timeout ----

    /**
     * PC16550D, "FIFO Interrupt Mode Operation": a timeout interrupt needs at least one character in the
     * RX FIFO and neither a received character nor a read of the FIFO for 4 character times. Rather than
     * re-arming a timer per character, the check runs once per period and re-arms for what remains.
     */
    private void noteReceiverActivity() {
        lastReceiverActivityNanos = clock.nanoTime();
        if (cancelTimeoutCheck == null) {
            scheduleTimeoutCheck(timeoutNanos());
        }
    }

    private void scheduleTimeoutCheck(long delayNanos) {
        long generation = ++timeoutCheckGeneration;
        cancelTimeoutCheck = clock.schedule(delayNanos, () -> checkCharacterTimeout(generation));
    }

    private void cancelTimeoutCheck() {
        if (cancelTimeoutCheck != null) {
            cancelTimeoutCheck.run();
            cancelTimeoutCheck = null;
            timeoutCheckGeneration++;
        }
    }

    private void checkCharacterTimeout(long generation) {
        lock.lock();
        try {
            if (generation != timeoutCheckGeneration) {
                return;
            }
            cancelTimeoutCheck = null;
            if (!fifosEnabled || receiveCount == 0) {
                return;
            }
            long remaining = lastReceiverActivityNanos + timeoutNanos() - clock.nanoTime();
            if (remaining > 0) {
                scheduleTimeoutCheck(remaining);
                return;
            }
            characterTimeout = true;
            updateInterruptLine();
        } finally {
            lock.unlock();
        }
    }

    /**
     * 4 character times at the programmed rate: start bit, 5-8 data bits, parity, and 1, 1.5 or 2 stop
     * bits (the datasheet counts the second stop bit in), each bit 16 clocks of input clock / divisor.
     */
    private long timeoutNanos() {
        int wordLength = 5 + (lineControl & LCR_WORD_LENGTH_MASK);
        int stopHalfBits = (lineControl & LCR_STOP_BITS) == 0 ? 2 : wordLength == 5 ? 3 : 4;
        int halfBits = 2 + 2 * wordLength + ((lineControl & LCR_PARITY_ENABLE) != 0 ? 2 : 0) + stopHalfBits;
        // Divisor 0 is outside the datasheet's 1..65535; it is timed as 1, the fastest rate.
        long effectiveDivisor = Math.max(divisor, 1);
        long characterNanos = halfBits * effectiveDivisor * 16 * 1_000_000_000L / (2 * INPUT_CLOCK_HZ);
        return TIMEOUT_CHARACTER_TIMES * characterNanos;
    }

    // ---- transmitter ----

    /**
     * Moves characters from THR or the TX FIFO through the shift register to the host end (or, in
     * loopback, into the receiver) until the host end refuses one or nothing is left.
     */
    private void drainTransmitter() {
        while (true) {
            if (shiftRegister == NO_CHARACTER) {
                if (transmitCount == 0) {
                    return;
                }
                shiftRegister = transmitData[transmitHead] & 0xFF;
                transmitHead = (transmitHead + 1) % FIFO_DEPTH;
                transmitCount--;
                if (transmitCount == 0) {
                    thrEmptyInterrupt = true;
                }
            }
            if (isLoopback()) {
                receiveCharacter((byte) shiftRegister, false);
            } else if (!transmitter.transmit((byte) shiftRegister)) {
                return;
            }
            shiftRegister = NO_CHARACTER;
        }
    }

    /** Empties THR or the TX FIFO; the shift register keeps its character, as FCR bit 2 leaves it. */
    private void clearTransmitter() {
        if (transmitCount > 0) {
            thrEmptyInterrupt = true;
        }
        transmitHead = 0;
        transmitCount = 0;
    }

    // ---- interrupts ----

    /**
     * The highest-priority enabled interrupt, by the datasheet's table "Interrupt Control Functions":
     * receiver line status, then received data (trigger level reached) or character timeout, then THR
     * empty, then modem status.
     */
    private int pendingInterrupt() {
        if ((interruptEnable & IER_LINE_STATUS) != 0 && (lineStatusErrors & LSR_ERRORS) != 0) {
            return IIR_LINE_STATUS;
        }
        if ((interruptEnable & IER_RECEIVED_DATA) != 0) {
            if (receiveCount > 0 && (!fifosEnabled || receiveCount >= triggerLevel)) {
                return IIR_RECEIVED_DATA;
            }
            if (characterTimeout) {
                return IIR_CHARACTER_TIMEOUT;
            }
        }
        if ((interruptEnable & IER_THR_EMPTY) != 0 && thrEmptyInterrupt) {
            return IIR_THR_EMPTY;
        }
        if ((interruptEnable & IER_MODEM_STATUS) != 0 && modemStatusDeltas != 0) {
            return IIR_MODEM_STATUS;
        }
        return IIR_NO_INTERRUPT;
    }

    private void updateInterruptLine() {
        boolean intr = pendingInterrupt() != IIR_NO_INTERRUPT;
        boolean asserted = switch (interruptOutput) {
            case DIRECT -> intr;
            // Loopback forces the modem control output pins inactive, OUT2 among them, so on a PC the
            // board's gate closes while the chip is in loopback whatever MCR.OUT2 says.
            case GATED_BY_OUT2 -> intr && (modemControl & MCR_OUT2) != 0 && !isLoopback();
        };
        if (asserted != lineAsserted) {
            lineAsserted = asserted;
            interruptSink.setLevel(asserted);
        }
    }

    /** Builds a UART; the sink, the transmitter and the clock are required. */
    public static final class Builder {
        private InterruptSink interruptSink;
        private Transmitter transmitter;
        private Clock clock;
        private InterruptOutput interruptOutput = InterruptOutput.GATED_BY_OUT2;

        private Builder() {}

        public Builder interruptSink(InterruptSink sink) {
            this.interruptSink = sink;
            return this;
        }

        public Builder transmitter(Transmitter value) {
            this.transmitter = value;
            return this;
        }

        public Builder clock(Clock value) {
            this.clock = value;
            return this;
        }

        /** How INTR reaches the line; {@link InterruptOutput#GATED_BY_OUT2} (a PC's COM port) by default. */
        public Builder interruptOutput(InterruptOutput value) {
            this.interruptOutput = value;
            return this;
        }

        public Uart16550 build() {
            return new Uart16550(this);
        }
    }
}
