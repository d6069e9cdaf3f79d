package io.jvfio.machine.irqchip;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The IOAPIC against the 82093AA datasheet (section 3: IOREGSEL/IOWIN, IOAPICID, IOAPICVER, IOAPICARB and
 * the IOREDTBL entries) and the EOI semantics KVM's in-kernel IOAPIC gives a level pin.
 */
class IoApicTest {
    private static final int PIN = 5;
    private static final int VECTOR = 0x41;

    /** A LAPIC side that records each message and accepts it unless told not to. */
    static final class Sink implements IoApic.MessageSink {
        record Message(int vector, int deliveryMode, boolean logical, int destination, boolean level) {}

        final List<Message> messages = new ArrayList<>();
        boolean accepting = true;

        @Override
        public boolean deliver(int vector, int deliveryMode, boolean logical, int destination, boolean level) {
            messages.add(new Message(vector, deliveryMode, logical, destination, level));
            return accepting;
        }

        List<Integer> vectors() {
            return messages.stream().map(Message::vector).toList();
        }
    }

    private final Sink sink = new Sink();
    private final IoApic ioApic = new IoApic(sink);

    private void writeRegister(int register, long value) {
        ioApic.write(IoApic.REGSEL, 4, register);
        ioApic.write(IoApic.WINDOW, 4, value & 0xFFFF_FFFFL);
    }

    private long readRegister(int register) {
        ioApic.write(IoApic.REGSEL, 4, register);
        return ioApic.read(IoApic.WINDOW, 4);
    }

    /** Writes the entry as a guest does: the high half (destination) first, then the low half. */
    private void program(int pin, long entry) {
        writeRegister(IoApic.REG_REDIRECTION + 2 * pin + 1, entry >>> 32);
        writeRegister(IoApic.REG_REDIRECTION + 2 * pin, entry);
    }

    private void programLevel(int pin, int vector) {
        program(pin, vector | IoApic.LEVEL_TRIGGERED);
    }

    private void programEdge(int pin, int vector) {
        program(pin, vector);
    }

    private List<Integer> endOfInterrupt(int vector) {
        List<Integer> ended = new ArrayList<>();
        ioApic.endOfInterrupt(vector, ended::add);
        return ended;
    }

    @Test
    void versionRegisterSays0x11And24Pins() {
        assertThat(readRegister(IoApic.REG_VERSION)).isEqualTo(0x0017_0011L);
    }

    @Test
    void idRegisterKeepsBits24To27AndArbitrationIdFollowsIt() {
        writeRegister(IoApic.REG_ID, 0xFFFF_FFFFL);

        assertThat(readRegister(IoApic.REG_ID)).isEqualTo(0x0F00_0000L);
        assertThat(readRegister(IoApic.REG_ARBITRATION)).isEqualTo(0x0F00_0000L);
    }

    @Test
    void readOnlyRegistersIgnoreWrites() {
        writeRegister(IoApic.REG_VERSION, 0);
        writeRegister(IoApic.REG_ARBITRATION, 0x0300_0000);

        assertThat(readRegister(IoApic.REG_VERSION)).isEqualTo(0x0017_0011L);
        assertThat(readRegister(IoApic.REG_ARBITRATION)).isZero();
    }

    @Test
    void ioregselReadsBackTheSelectedRegisterIndex() {
        ioApic.write(IoApic.REGSEL, 4, 0x1234_5612L);

        assertThat(ioApic.read(IoApic.REGSEL, 4)).isEqualTo(0x12);
        assertThat(ioApic.read(IoApic.WINDOW, 4)).as("pin 1's low half").isEqualTo(0x0001_0000L);
    }

    @Test
    void registersPastTheTableAndUnusedIndexesReadZero() {
        for (int register : new int[] {0x03, 0x0F, 0x40, 0xFF}) {
            writeRegister(register, 0xFFFF_FFFFL);
            assertThat(readRegister(register)).as("register 0x%x", register).isZero();
        }
    }

    @Test
    void accessesOtherThan32BitsAreIgnored() {
        ioApic.write(IoApic.REGSEL, 1, IoApic.REG_VERSION);
        ioApic.write(IoApic.REGSEL, 4, IoApic.REG_VERSION);

        assertThat(ioApic.read(IoApic.WINDOW, 2)).isZero();
        assertThat(ioApic.read(IoApic.WINDOW, 8)).isZero();
        assertThat(ioApic.read(IoApic.WINDOW, 4)).isEqualTo(0x0017_0011L);
    }

    @Test
    void everyEntryIsMaskedAfterReset() {
        for (int pin = 0; pin < IoApic.PINS; pin++) {
            assertThat(readRegister(IoApic.REG_REDIRECTION + 2 * pin)).isEqualTo(IoApic.MASKED);
            assertThat(readRegister(IoApic.REG_REDIRECTION + 2 * pin + 1)).isZero();
        }
    }

    @Test
    void lastEntryIsAtRegisters0x3eAnd0x3f() {
        program(23, 0xA5L << 56 | IoApic.MASKED | 0x77);

        assertThat(readRegister(0x3E)).isEqualTo(IoApic.MASKED | 0x77);
        assertThat(readRegister(0x3F)).isEqualTo(0xA500_0000L);
        assertThat(ioApic.redirectionEntry(23)).isEqualTo(0xA5L << 56 | IoApic.MASKED | 0x77);
    }

    @Test
    void reservedBitsReadZero() {
        writeRegister(IoApic.REG_REDIRECTION + 2 * PIN, 0xFFFF_FFFFL);
        writeRegister(IoApic.REG_REDIRECTION + 2 * PIN + 1, 0xFFFF_FFFFL);

        // vector, delivery mode, destination mode, polarity, trigger mode and mask; bits 17-55 reserved
        assertThat(readRegister(IoApic.REG_REDIRECTION + 2 * PIN)).isEqualTo(0x0001_AFFFL);
        assertThat(readRegister(IoApic.REG_REDIRECTION + 2 * PIN + 1)).isEqualTo(0xFF00_0000L);
    }

    @Test
    void readOnlyBitsIgnoreWrites() {
        programLevel(PIN, VECTOR);
        ioApic.setInput(PIN, true);
        assertThat(ioApic.remoteIrr(PIN)).isTrue();

        writeRegister(IoApic.REG_REDIRECTION + 2 * PIN, VECTOR | IoApic.LEVEL_TRIGGERED);
        assertThat(ioApic.remoteIrr(PIN)).as("remote IRR written 0").isTrue();

        programEdge(PIN + 1, VECTOR + 1);
        writeRegister(
                IoApic.REG_REDIRECTION + 2 * (PIN + 1),
                VECTOR + 1 | IoApic.DELIVERY_PENDING | IoApic.REMOTE_IRR | IoApic.MASKED);
        assertThat(readRegister(IoApic.REG_REDIRECTION + 2 * (PIN + 1))).isEqualTo(VECTOR + 1 | IoApic.MASKED);
    }

    @Test
    void entryFieldsMakeTheMessage() {
        program(PIN, 0x03L << 56 | IoApic.LOGICAL_DESTINATION | 1 << IoApic.DELIVERY_MODE_SHIFT | 0x99);

        ioApic.setInput(PIN, true);

        assertThat(sink.messages).containsExactly(new Sink.Message(0x99, 1, true, 0x03, false));
    }

    @Test
    void edgePinDeliversOnEachRisingEdgeOnly() {
        programEdge(PIN, VECTOR);

        ioApic.setInput(PIN, true);
        ioApic.setInput(PIN, true);
        ioApic.setInput(PIN, false);
        ioApic.setInput(PIN, true);

        assertThat(sink.vectors()).containsExactly(VECTOR, VECTOR);
        assertThat(ioApic.deliveries(PIN)).isEqualTo(2);
    }

    @Test
    void edgePinNeverSetsRemoteIrr() {
        programEdge(PIN, VECTOR);

        ioApic.setInput(PIN, true);

        assertThat(ioApic.remoteIrr(PIN)).isFalse();
        assertThat(endOfInterrupt(VECTOR)).isEmpty();
    }

    @Test
    void maskedEdgeIsLost() {
        program(PIN, VECTOR | IoApic.MASKED);
        ioApic.setInput(PIN, true);

        programEdge(PIN, VECTOR);

        assertThat(sink.messages).as("unmasking does not replay the edge").isEmpty();
        ioApic.setInput(PIN, false);
        ioApic.setInput(PIN, true);
        assertThat(sink.vectors()).containsExactly(VECTOR);
    }

    @Test
    void levelPinStaysInServiceUntilTheEoiBroadcast() {
        programLevel(PIN, VECTOR);

        ioApic.setInput(PIN, true);
        ioApic.setInput(PIN, false);
        ioApic.setInput(PIN, true);

        assertThat(sink.vectors()).containsExactly(VECTOR);
        assertThat(ioApic.remoteIrr(PIN)).isTrue();
        assertThat(readRegister(IoApic.REG_REDIRECTION + 2 * PIN) & IoApic.REMOTE_IRR)
                .isNotZero();
        assertThat(endOfInterrupt(VECTOR + 1)).as("EOI of another vector").isEmpty();
        assertThat(ioApic.remoteIrr(PIN)).isTrue();
    }

    @Test
    void eoiBroadcastClearsRemoteIrrAndReportsThePin() {
        programLevel(PIN, VECTOR);
        ioApic.setInput(PIN, true);
        ioApic.setInput(PIN, false);

        assertThat(endOfInterrupt(VECTOR)).containsExactly(PIN);

        assertThat(ioApic.remoteIrr(PIN)).isFalse();
        assertThat(sink.vectors()).as("a deasserted pin is not delivered again").containsExactly(VECTOR);
        assertThat(ioApic.endsOfInterrupt(PIN)).isEqualTo(1);
    }

    @Test
    void stillAssertedLevelPinIsDeliveredAgainAtEoi() {
        programLevel(PIN, VECTOR);
        ioApic.setInput(PIN, true);

        endOfInterrupt(VECTOR);

        assertThat(sink.vectors()).containsExactly(VECTOR, VECTOR);
        assertThat(ioApic.remoteIrr(PIN)).isTrue();
    }

    @Test
    void eoiEndsEveryLevelPinInServiceOnThatVector() {
        programLevel(PIN, VECTOR);
        programLevel(PIN + 1, VECTOR);
        ioApic.setInput(PIN, true);
        ioApic.setInput(PIN + 1, true);
        ioApic.setInput(PIN, false);
        ioApic.setInput(PIN + 1, false);

        assertThat(endOfInterrupt(VECTOR)).containsExactly(PIN, PIN + 1);
    }

    @Test
    void levelMessageNoLapicAcceptedLeavesRemoteIrrClear() {
        programLevel(PIN, VECTOR);
        sink.accepting = false;

        ioApic.setInput(PIN, true);

        assertThat(ioApic.remoteIrr(PIN)).isFalse();
        assertThat(ioApic.deliveries(PIN)).isZero();
    }

    @Test
    void levelPinAssertedWhileMaskedIsNotDelivered() {
        program(PIN, VECTOR | IoApic.LEVEL_TRIGGERED | IoApic.MASKED);

        ioApic.setInput(PIN, true);

        assertThat(sink.messages).isEmpty();
        assertThat(ioApic.remoteIrr(PIN)).isFalse();
    }

    @Test
    void unmaskingAnAssertedLevelPinDeliversIt() {
        program(PIN, VECTOR | IoApic.LEVEL_TRIGGERED | IoApic.MASKED);
        ioApic.setInput(PIN, true);

        programLevel(PIN, VECTOR);

        assertThat(sink.vectors()).containsExactly(VECTOR);
        assertThat(ioApic.remoteIrr(PIN)).isTrue();
    }

    @Test
    void unmaskingALevelPinWithRemoteIrrSetWaitsForTheEoi() {
        programLevel(PIN, VECTOR);
        ioApic.setInput(PIN, true);
        program(PIN, VECTOR | IoApic.LEVEL_TRIGGERED | IoApic.MASKED);

        programLevel(PIN, VECTOR);

        assertThat(sink.vectors()).containsExactly(VECTOR);
    }

    @Test
    void maskingAfterAcceptanceLeavesTheInterruptInService() {
        programLevel(PIN, VECTOR);
        ioApic.setInput(PIN, true);

        program(PIN, VECTOR | IoApic.LEVEL_TRIGGERED | IoApic.MASKED);
        assertThat(ioApic.remoteIrr(PIN)).isTrue();

        assertThat(endOfInterrupt(VECTOR)).containsExactly(PIN);
        assertThat(sink.vectors()).as("masked: not delivered again at EOI").containsExactly(VECTOR);
    }

    @Test
    void anActiveLowLevelPinIsAssertedByARaiseAsInKvm() {
        program(PIN, VECTOR | IoApic.LEVEL_TRIGGERED | IoApic.ACTIVE_LOW);
        assertThat(sink.messages).as("a line never raised: not asserted").isEmpty();

        ioApic.setInput(PIN, true);

        assertThat(sink.vectors()).containsExactly(VECTOR);
        assertThat(ioApic.remoteIrr(PIN)).isTrue();
        assertThat(readRegister(IoApic.REG_REDIRECTION + 2 * PIN) & IoApic.ACTIVE_LOW)
                .as("the polarity reads back")
                .isEqualTo(IoApic.ACTIVE_LOW);
    }

    @Test
    void anActiveLowEdgePinDeliversOnEachRaise() {
        program(PIN, VECTOR | IoApic.ACTIVE_LOW);

        ioApic.setInput(PIN, true);
        ioApic.setInput(PIN, false);
        ioApic.setInput(PIN, true);

        assertThat(sink.vectors()).containsExactly(VECTOR, VECTOR);
    }

    @Test
    void aResamplerDeassertsAnActiveLowPinAtItsEoi() {
        program(PIN, VECTOR | IoApic.LEVEL_TRIGGERED | IoApic.ACTIVE_LOW);
        ioApic.countResampler(PIN, 1);
        ioApic.setInput(PIN, true);

        assertThat(endOfInterrupt(VECTOR)).containsExactly(PIN);

        assertThat(sink.vectors())
                .as("de-asserted by the resampler: no delivery until the device raises it again")
                .containsExactly(VECTOR);
    }

    @Test
    void switchingToEdgeClearsRemoteIrr() {
        programLevel(PIN, VECTOR);
        ioApic.setInput(PIN, true);

        programEdge(PIN, VECTOR);

        assertThat(ioApic.remoteIrr(PIN)).isFalse();
        assertThat(endOfInterrupt(VECTOR)).isEmpty();
    }

    @Test
    void resamplerLowersTheInputAtEoi() {
        programLevel(PIN, VECTOR);
        ioApic.countResampler(PIN, 1);
        ioApic.setInput(PIN, true);

        assertThat(endOfInterrupt(VECTOR)).containsExactly(PIN);

        assertThat(sink.vectors())
                .as("input lowered before the IOAPIC looks again")
                .containsExactly(VECTOR);
        ioApic.setInput(PIN, true);
        assertThat(sink.vectors()).as("the resampled source raises it again").containsExactly(VECTOR, VECTOR);
    }

    @Test
    void removedResamplerNoLongerLowersTheInput() {
        programLevel(PIN, VECTOR);
        ioApic.countResampler(PIN, 1);
        ioApic.countResampler(PIN, -1);
        ioApic.setInput(PIN, true);

        endOfInterrupt(VECTOR);

        assertThat(sink.vectors()).containsExactly(VECTOR, VECTOR);
    }

    @Test
    void resetMasksEveryEntryAndLowersEveryInput() {
        programLevel(PIN, VECTOR);
        ioApic.setInput(PIN, true);
        writeRegister(IoApic.REG_ID, 0x0200_0000);

        ioApic.reset();
        programLevel(PIN, VECTOR);

        assertThat(readRegister(IoApic.REG_ID)).isZero();
        assertThat(sink.vectors()).as("input low after reset").containsExactly(VECTOR);
        assertThat(ioApic.remoteIrr(PIN)).isFalse();
    }
}
