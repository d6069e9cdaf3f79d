package io.jvfio.machine.irqchip;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jvfio.machine.bus.BusDevice;
import io.jvfio.sys.ErrnoException;
import io.jvfio.sys.Mapping;
import io.jvfio.sys.kvm.ring.CoalescedMmioRing;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * EOIs that KVM queued in the coalesced MMIO ring instead of exiting: the ring is a real one over a page of
 * memory, filled the way KVM fills it, the clock is moved by hand, and a recorder stands in for KVM's side
 * of an injection. What must hold: a queued EOI takes effect before anything that came after it (the next
 * exit, a device's new interrupt), and within {@link UserIrqchip#QUEUED_EOI_DRAIN_NANOS} when it matters
 * and the guest never exits.
 */
class UserIrqchipQueuedEoiTest {
    private static final int PIN = 9;
    private static final int OTHER_PIN = 10;
    private static final int VECTOR = 0x41;
    private static final int HIGHER_VECTOR = 0x51;
    /** kvm.h's ring layout (KvmAbiTest pins it): first and last, then 24-byte entries of address, length, data. */
    private static final int RING_LAST = 4;

    private static final int RING_ENTRIES = 8;
    private static final int ENTRY_SIZE = 24;
    private static final int RING_SLOTS = (CoalescedMmioRing.PAGE_SIZE - RING_ENTRIES) / ENTRY_SIZE;

    private final UserIrqchipTest.ManualClock clock = new UserIrqchipTest.ManualClock();
    private final List<Integer> kicks = Collections.synchronizedList(new ArrayList<>());
    private final UserIrqchip chip = new UserIrqchip(1, clock, kicks::add, true);
    private final BusDevice ioApic = chip.ioApicDevice();
    private final RecordingInterruptEntry vcpu = new RecordingInterruptEntry();
    private Mapping ringPage;

    @BeforeEach
    void attachRing() throws ErrnoException {
        ringPage = Mapping.anonymous(CoalescedMmioRing.PAGE_SIZE, "coalesced MMIO ring");
        chip.queueEndsOfInterrupt(0, CoalescedMmioRing.inPage(ringPage, 0));
        chip.writeLocalApic(0, LocalApic.REG_SVR, 4, 0x1FF);
    }

    @AfterEach
    void stop() {
        chip.stop();
        ringPage.close();
    }

    /** The guest's EOI write as KVM queues it: the entry, then {@code last} published. */
    private void guestQueuesEoi() {
        int last = ringPage.getInt(RING_LAST);
        long entry = RING_ENTRIES + (long) last * ENTRY_SIZE;
        ringPage.putLong(entry, UserIrqchip.endOfInterruptRegister());
        ringPage.putInt(entry + 8, 4);
        ringPage.putLong(entry + 16, 0);
        ringPage.putIntRelease(RING_LAST, (last + 1) % RING_SLOTS);
    }

    private void program(int pin, int vector, boolean level) {
        long entry = vector | (level ? IoApic.LEVEL_TRIGGERED : 0);
        ioApic.write(IoApic.REGSEL, 4, IoApic.REG_REDIRECTION + 2 * pin + 1);
        ioApic.write(IoApic.WINDOW, 4, 0);
        ioApic.write(IoApic.REGSEL, 4, IoApic.REG_REDIRECTION + 2 * pin);
        ioApic.write(IoApic.WINDOW, 4, entry);
    }

    private void edge(int pin) {
        chip.setLevel(pin, true);
        chip.setLevel(pin, false);
    }

    /** KVM_RUN returned, then the vCPU enters again: what it was handed on the way in. */
    private List<Integer> exitAndEnter() throws ErrnoException {
        chip.afterExit(0, vcpu.cr8);
        vcpu.injected.clear();
        chip.beforeEntry(0, vcpu);
        return List.copyOf(vcpu.injected);
    }

    private boolean bit(int base, int vector) {
        return (chip.readLocalApic(0, base + 0x10 * (vector >> 5), 4) >>> (vector & 31) & 1) != 0;
    }

    /** Vector {@code VECTOR} on edge pin {@code PIN} in service, a second one waiting behind it in IRR. */
    private void edgeInServiceWithAnotherWaiting() throws ErrnoException {
        program(PIN, VECTOR, false);
        edge(PIN);
        assertThat(exitAndEnter()).containsExactly(VECTOR);
        edge(PIN);
        assertThat(kicks).as("blocked behind ISR: no kick").isEmpty();
    }

    @Test
    void queuedEoiTakesEffectAtTheNextExitBeforeItsHandling() throws ErrnoException {
        program(PIN, VECTOR, true);
        AtomicInteger ended = new AtomicInteger();
        chip.onEndOfInterrupt(PIN, ended::incrementAndGet);
        chip.setLevel(PIN, true);
        assertThat(exitAndEnter()).containsExactly(VECTOR);
        chip.setLevel(PIN, false);

        guestQueuesEoi();
        chip.afterExit(0, vcpu.cr8);

        assertThat(ended).as("listener ran on the vCPU's thread at the exit").hasValue(1);
        assertThat(chip.inService(PIN)).isFalse();
        assertThat(chip.counters().localApics().getFirst())
                .extracting(ApicCounters::endsOfInterrupt, ApicCounters::queuedEndsOfInterrupt)
                .containsExactly(1L, 1L);
    }

    @Test
    void vectorWaitingBehindAQueuedEoiIsDeliveredWithinTheDrainPeriodWithoutAnExit() throws ErrnoException {
        edgeInServiceWithAnotherWaiting();

        guestQueuesEoi();
        clock.advance(UserIrqchip.QUEUED_EOI_DRAIN_NANOS - 1);
        assertThat(kicks).as("not yet due").isEmpty();
        clock.advance(1);

        assertThat(kicks).as("the drain made the vector deliverable: kicked").containsExactly(0);
        assertThat(exitAndEnter()).containsExactly(VECTOR);
        assertThat(chip.counters().localApics().getFirst())
                .extracting(ApicCounters::drainTicks, ApicCounters::drainTickFinds)
                .containsExactly(1L, 1L);
    }

    @Test
    void deviceRaisingItsLineDrainsTheQueuedEoiFirstAndKicksAtOnce() throws ErrnoException {
        program(PIN, VECTOR, false);
        edge(PIN);
        assertThat(exitAndEnter()).containsExactly(VECTOR);
        guestQueuesEoi();

        edge(PIN);

        assertThat(kicks).as("deliverable at once, no drain period waited for").containsExactly(0);
        assertThat(bit(LocalApic.REG_ISR, VECTOR)).isFalse();
        assertThat(exitAndEnter()).containsExactly(VECTOR);
    }

    @Test
    void levelPinsQueuedEoiReachesItsResamplerWithinTheDrainPeriod() throws ErrnoException {
        program(PIN, VECTOR, true);
        AtomicInteger resampled = new AtomicInteger();
        chip.resampleOnEndOfInterrupt(PIN, resampled::incrementAndGet);
        chip.setLevel(PIN, true);
        assertThat(exitAndEnter()).containsExactly(VECTOR);

        guestQueuesEoi();
        clock.advance(UserIrqchip.QUEUED_EOI_DRAIN_NANOS);

        assertThat(resampled).hasValue(1);
        assertThat(chip.inService(PIN)).as("the resampler lowered the line").isFalse();
    }

    @Test
    void noDrainIsArmedWhileAQueuedEoiCouldChangeNothing() throws ErrnoException {
        program(PIN, VECTOR, false);
        edge(PIN);

        assertThat(exitAndEnter()).containsExactly(VECTOR);

        assertThat(clock.armed())
                .as("an edge vector in service, nothing waiting")
                .isZero();
    }

    @Test
    void listenersOfAnEoiDrainedForADeviceRunOnTheClockNotInsideTheDevicesCall() throws ErrnoException {
        program(PIN, VECTOR, true);
        program(OTHER_PIN, HIGHER_VECTOR, false);
        AtomicInteger ended = new AtomicInteger();
        chip.onEndOfInterrupt(PIN, ended::incrementAndGet);
        chip.setLevel(PIN, true);
        assertThat(exitAndEnter()).containsExactly(VECTOR);
        chip.setLevel(PIN, false);
        guestQueuesEoi();

        edge(OTHER_PIN);
        assertThat(ended).as("not inside setLevel").hasValue(0);
        assertThat(chip.inService(PIN)).as("but the EOI took effect").isFalse();
        clock.advance(0);

        assertThat(ended).hasValue(1);
    }

    @Test
    void eoiThatExitsAfterQueuedOnesEndsTheNextVectorInService() throws ErrnoException {
        program(PIN, VECTOR, false);
        program(OTHER_PIN, HIGHER_VECTOR, false);
        edge(PIN);
        assertThat(exitAndEnter()).containsExactly(VECTOR);
        edge(OTHER_PIN);
        chip.afterExit(0, vcpu.cr8);
        assertThat(exitAndEnter()).as("a higher class nests").containsExactly(HIGHER_VECTOR);

        guestQueuesEoi();
        chip.afterExit(0, vcpu.cr8);
        assertThat(bit(LocalApic.REG_ISR, HIGHER_VECTOR)).isFalse();
        assertThat(bit(LocalApic.REG_ISR, VECTOR)).isTrue();
        chip.writeLocalApic(0, LocalApic.REG_EOI, 4, 0);

        assertThat(bit(LocalApic.REG_ISR, VECTOR)).isFalse();
        assertThat(chip.counters().localApics().getFirst())
                .extracting(ApicCounters::endsOfInterrupt, ApicCounters::queuedEndsOfInterrupt)
                .containsExactly(2L, 1L);
    }

    @Test
    void irqchipOfTwoVcpusRefusesTheRingWhichNamesNone() {
        UserIrqchip two = new UserIrqchip(2, clock, kicks::add, true);

        assertThatThrownBy(() -> two.queueEndsOfInterrupt(0, CoalescedMmioRing.inPage(ringPage, 0)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("queued EOIs need a single vCPU (the coalesced MMIO ring names none), this irqchip has 2");
    }

    @Test
    void stoppedIrqchipNoLongerReadsTheRingWhoseMappingGoesAway() {
        program(PIN, VECTOR, false);
        chip.stop();
        ringPage.close();

        edge(PIN);

        assertThat(kicks).isEmpty();
    }
}
