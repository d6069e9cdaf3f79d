package io.jvfio.machine.irqchip;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jvfio.machine.bus.BusDevice;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.PriorityQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * jvfio's irqchip without KVM: two LAPICs and the IOAPIC driven through the guest's MMIO accesses, a clock
 * the test moves by hand and a kicker that records. {@code beforeEntry} needs a real {@code Vcpu}; its
 * part in delivery is left to MachineKvmTest, and {@link UserIrqchip#acknowledge} stands in for it here.
 */
class UserIrqchipTest {
    private static final int PIN = 9;
    private static final int VECTOR = 0x41;
    private static final long WAIT_SECONDS = 10;

    /** The machine's event loop by hand: callbacks run, in due order, when the test advances the time. */
    static final class ManualClock implements UserIrqchip.Clock {
        private static final class Task {
            final long due;
            final long sequence;
            final Runnable runnable;
            volatile boolean cancelled;

            Task(long due, long sequence, Runnable runnable) {
                this.due = due;
                this.sequence = sequence;
                this.runnable = runnable;
            }
        }

        private final PriorityQueue<Task> tasks =
                new PriorityQueue<>(Comparator.comparingLong((Task t) -> t.due).thenComparingLong(t -> t.sequence));
        private long now = 3_000_000;
        private long sequence;

        @Override
        public synchronized long nanoTime() {
            return now;
        }

        @Override
        public synchronized Runnable schedule(long delayNanos, Runnable runnable) {
            Task task = new Task(now + delayNanos, sequence++, runnable);
            tasks.add(task);
            return () -> task.cancelled = true;
        }

        /** Moves the time by {@code nanos}; each callback runs at its due time, outside this clock's monitor. */
        void advance(long nanos) {
            long target;
            synchronized (this) {
                target = now + nanos;
            }
            while (true) {
                Task task;
                synchronized (this) {
                    if (tasks.isEmpty() || tasks.peek().due > target) {
                        now = target;
                        return;
                    }
                    task = tasks.poll();
                    now = task.due;
                }
                if (!task.cancelled) {
                    task.runnable.run();
                }
            }
        }

        synchronized long armed() {
            return tasks.stream().filter(t -> !t.cancelled).count();
        }
    }

    private final ManualClock clock = new ManualClock();
    private final List<Integer> kicks = Collections.synchronizedList(new ArrayList<>());
    private final UserIrqchip chip = new UserIrqchip(2, clock, kicks::add, true);
    private final BusDevice ioApic = chip.ioApicDevice();

    @AfterEach
    void stopChip() {
        chip.stop();
    }

    private void enable(int vcpu) {
        enable(chip, vcpu);
    }

    private static void enable(UserIrqchip on, int vcpu) {
        on.writeLocalApic(vcpu, LocalApic.REG_SVR, 4, 0x1FF);
    }

    private void program(int pin, long entry) {
        program(chip, pin, entry);
    }

    private static void program(UserIrqchip on, int pin, long entry) {
        BusDevice device = on.ioApicDevice();
        device.write(IoApic.REGSEL, 4, IoApic.REG_REDIRECTION + 2 * pin + 1);
        device.write(IoApic.WINDOW, 4, entry >>> 32);
        device.write(IoApic.REGSEL, 4, IoApic.REG_REDIRECTION + 2 * pin);
        device.write(IoApic.WINDOW, 4, entry & 0xFFFF_FFFFL);
    }

    private void programLevel(int pin, int vector, int apicId) {
        program(pin, (long) apicId << IoApic.DESTINATION_SHIFT | IoApic.LEVEL_TRIGGERED | vector);
    }

    private boolean bit(int vcpu, int base, int vector) {
        return (chip.readLocalApic(vcpu, base + 0x10 * (vector >> 5), 4) >>> (vector & 31) & 1) != 0;
    }

    private boolean requested(int vcpu, int vector) {
        return bit(vcpu, LocalApic.REG_IRR, vector);
    }

    private boolean inService(int vcpu, int vector) {
        return bit(vcpu, LocalApic.REG_ISR, vector);
    }

    private void eoi(int vcpu) {
        chip.writeLocalApic(vcpu, LocalApic.REG_EOI, 4, 0);
    }

    /** Vector {@code VECTOR} on level pin {@code PIN} delivered to vCPU 0 and taken by it. */
    private void levelInterruptInService() {
        enable(0);
        programLevel(PIN, VECTOR, 0);
        chip.setLevel(PIN, true);
        assertThat(chip.acknowledge(0)).isEqualTo(VECTOR);
    }

    private void sendIpi(int vcpu, int destination, int icrLow) {
        chip.writeLocalApic(vcpu, LocalApic.REG_ICR_HIGH, 4, (long) destination << 24);
        chip.writeLocalApic(vcpu, LocalApic.REG_ICR_LOW, 4, icrLow);
    }

    private CompletableFuture<Void> halt(int vcpu, boolean interruptsEnabled) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        Thread thread = Thread.ofPlatform().name("halt-" + vcpu).start(() -> {
            try {
                chip.halt(vcpu, interruptsEnabled);
                done.complete(null);
            } catch (Throwable t) {
                done.completeExceptionally(t);
            }
        });
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_SECONDS);
        while (!done.isDone() && thread.getState() != Thread.State.WAITING && System.nanoTime() < deadline) {
            Thread.onSpinWait();
        }
        return done;
    }

    private static void awaitReturn(CompletableFuture<Void> halt) throws Exception {
        halt.get(WAIT_SECONDS, TimeUnit.SECONDS);
    }

    /** A negative can only be sampled: the halt is still waiting 200 ms on. */
    private static void assertStillHalted(CompletableFuture<Void> halt) {
        assertThatThrownBy(() -> halt.get(200, TimeUnit.MILLISECONDS)).isInstanceOf(TimeoutException.class);
    }

    // IOAPIC to LAPIC

    @Test
    void ioApicPageReadsItsVersionThroughTheBusDevice() {
        ioApic.write(IoApic.REGSEL, 4, IoApic.REG_VERSION);

        assertThat(ioApic.read(IoApic.WINDOW, 4)).isEqualTo(0x0017_0011L);
    }

    @Test
    void levelPinReachesTheLapicItsPhysicalDestinationNames() {
        enable(0);
        enable(1);
        programLevel(PIN, VECTOR, 1);

        chip.setLevel(PIN, true);

        assertThat(requested(1, VECTOR)).isTrue();
        assertThat(bit(1, LocalApic.REG_TMR, VECTOR)).as("TMR: level").isTrue();
        assertThat(requested(0, VECTOR)).isFalse();
    }

    @Test
    void physicalDestination0xffReachesEveryLapic() {
        enable(0);
        enable(1);

        program(PIN, 0xFFL << IoApic.DESTINATION_SHIFT | VECTOR);
        chip.setLevel(PIN, true);

        assertThat(requested(0, VECTOR)).isTrue();
        assertThat(requested(1, VECTOR)).isTrue();
    }

    @Test
    void logicalFlatDestinationFromTheIoApic() {
        enable(0);
        enable(1);
        chip.writeLocalApic(0, LocalApic.REG_LDR, 4, 0x0100_0000);
        chip.writeLocalApic(1, LocalApic.REG_LDR, 4, 0x0200_0000);

        program(PIN, 0x02L << IoApic.DESTINATION_SHIFT | IoApic.LOGICAL_DESTINATION | VECTOR);
        chip.setLevel(PIN, true);

        assertThat(requested(1, VECTOR)).isTrue();
        assertThat(requested(0, VECTOR)).isFalse();
    }

    @Test
    void lowestPriorityMessageFromTheIoApicReachesOneLapic() {
        enable(0);
        enable(1);

        program(PIN, 0xFFL << IoApic.DESTINATION_SHIFT | 1 << IoApic.DELIVERY_MODE_SHIFT | VECTOR);
        chip.setLevel(PIN, true);

        assertThat(requested(0, VECTOR) ^ requested(1, VECTOR)).isTrue();
    }

    @Test
    void levelPinToASoftwareDisabledLapicStaysOutOfService() {
        programLevel(PIN, VECTOR, 0);

        chip.setLevel(PIN, true);

        assertThat(chip.inService(PIN)).isFalse();
        assertThat(requested(0, VECTOR)).isFalse();
    }

    /**
     * SDM 11.5.3: a message with an illegal vector (0-15) is refused, and the error it raises is an
     * interrupt through the LVT error entry, which must reach the vCPU as any other arriving one does.
     */
    @Test
    void illegalVectorFromTheIoApicWakesTheHaltedVcpuWithTheErrorInterrupt() throws Exception {
        enable(0);
        chip.writeLocalApic(0, LocalApic.REG_LVT_ERROR, 4, 0xFE);
        program(PIN, 0x05);
        CompletableFuture<Void> halted = halt(0, true);
        assertThat(halted).isNotDone();

        chip.setLevel(PIN, true);

        awaitReturn(halted);
        assertThat(requested(0, 0xFE)).isTrue();
        assertThat(requested(0, 0x05)).isFalse();
    }

    @Test
    void unmodelledIoApicDeliveryModesAreDropped() {
        enable(0);

        program(PIN, 4 << IoApic.DELIVERY_MODE_SHIFT | IoApic.LEVEL_TRIGGERED | VECTOR);
        chip.setLevel(PIN, true);

        assertThat(chip.inService(PIN)).isFalse();
        assertThat(requested(0, VECTOR)).isFalse();
    }

    @Test
    void pinOutsideTheIoApicIsRefused() {
        assertThatThrownBy(() -> chip.setLevel(UserIrqchip.pins(), true))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("IOAPIC pin 24 is not 0..23");
        assertThatThrownBy(() -> chip.inService(-1)).isInstanceOf(IllegalArgumentException.class);
    }

    // EOI

    @Test
    void inServiceMirrorsRemoteIrr() {
        levelInterruptInService();
        assertThat(chip.inService(PIN)).isTrue();
        assertThat(chip.redirectionEntry(PIN) & IoApic.REMOTE_IRR).isNotZero();
        chip.setLevel(PIN, false);

        eoi(0);

        assertThat(chip.inService(PIN)).isFalse();
        assertThat(chip.redirectionEntry(PIN) & IoApic.REMOTE_IRR).isZero();
    }

    @Test
    void stillAssertedLevelPinIsDeliveredAgainAtTheLapicsEoi() {
        levelInterruptInService();

        eoi(0);

        assertThat(chip.inService(PIN)).isTrue();
        assertThat(requested(0, VECTOR)).isTrue();
        assertThat(inService(0, VECTOR)).isFalse();
    }

    @Test
    void eoiListenersRunAfterTheLockIsReleased() throws Exception {
        levelInterruptInService();
        chip.setLevel(PIN, false);
        List<Boolean> seenFromAnotherThread = new ArrayList<>();
        chip.onEndOfInterrupt(PIN, () -> {
            CompletableFuture<Boolean> other = CompletableFuture.supplyAsync(
                    () -> chip.inService(PIN), r -> Thread.ofPlatform().start(r));
            try {
                seenFromAnotherThread.add(other.get(WAIT_SECONDS, TimeUnit.SECONDS));
            } catch (InterruptedException | ExecutionException | TimeoutException e) {
                throw new AssertionError("another thread could not take the irqchip's lock", e);
            }
            chip.setLevel(PIN, true);
        });

        eoi(0);

        assertThat(seenFromAnotherThread).as("remote IRR already clear").containsExactly(false);
        assertThat(chip.inService(PIN))
                .as("the listener's setLevel delivered it again")
                .isTrue();
        assertThat(requested(0, VECTOR)).isTrue();
    }

    @Test
    void eoiListenerRunsOnlyForItsPin() {
        levelInterruptInService();
        AtomicInteger other = new AtomicInteger();
        AtomicInteger own = new AtomicInteger();
        chip.onEndOfInterrupt(PIN + 1, other::incrementAndGet);
        chip.onEndOfInterrupt(PIN, own::incrementAndGet);
        chip.setLevel(PIN, false);

        eoi(0);

        assertThat(own).hasValue(1);
        assertThat(other).hasValue(0);
    }

    @Test
    void closedEoiListenerNoLongerRuns() throws Exception {
        levelInterruptInService();
        chip.setLevel(PIN, false);
        AtomicInteger runs = new AtomicInteger();

        chip.onEndOfInterrupt(PIN, runs::incrementAndGet).close();
        eoi(0);

        assertThat(runs).hasValue(0);
    }

    @Test
    void eoiOfAnEdgeVectorRunsNoListener() {
        enable(0);
        program(PIN, VECTOR);
        AtomicInteger runs = new AtomicInteger();
        chip.onEndOfInterrupt(PIN, runs::incrementAndGet);
        chip.setLevel(PIN, true);
        chip.acknowledge(0);

        eoi(0);

        assertThat(runs).hasValue(0);
        assertThat(inService(0, VECTOR)).isFalse();
    }

    @Test
    void resamplerLowersTheLineAtEoiAndItsListenerMayRaiseItAgain() {
        levelInterruptInService();
        AtomicInteger stillAsserting = new AtomicInteger(1);
        chip.resampleOnEndOfInterrupt(PIN, () -> {
            if (stillAsserting.getAndDecrement() > 0) {
                chip.setLevel(PIN, true);
            }
        });

        eoi(0);
        assertThat(chip.inService(PIN)).as("raised again by the listener").isTrue();
        assertThat(chip.acknowledge(0)).isEqualTo(VECTOR);
        eoi(0);

        assertThat(chip.inService(PIN)).as("the source stopped asserting").isFalse();
        assertThat(requested(0, VECTOR)).isFalse();
    }

    @Test
    void closedResamplerNoLongerLowersTheLine() throws Exception {
        levelInterruptInService();

        chip.resampleOnEndOfInterrupt(PIN, () -> {}).close();
        eoi(0);

        assertThat(chip.inService(PIN)).as("line still high: delivered again").isTrue();
    }

    @Test
    void countersCountDeliveriesAndEndsOfInterruptPerPin() {
        levelInterruptInService();
        eoi(0);
        chip.acknowledge(0);
        chip.setLevel(PIN, false);
        eoi(0);

        IrqchipCounters counters = chip.counters();

        assertThat(counters.deliveries(PIN)).isEqualTo(2);
        assertThat(counters.endsOfInterrupt(PIN)).isEqualTo(2);
        assertThat(counters.localApics().getFirst())
                .extracting(ApicCounters::accepted, ApicCounters::injected, ApicCounters::endsOfInterrupt)
                .containsExactly(2L, 2L, 2L);
    }

    // IPIs

    @Test
    void selfIpiThroughIcr() {
        enable(0);
        enable(1);

        sendIpi(0, 1, 1 << LocalApic.ICR_SHORTHAND_SHIFT | 0x50);

        assertThat(requested(0, 0x50)).as("destination field ignored").isTrue();
        assertThat(requested(1, 0x50)).isFalse();
    }

    @Test
    void icrShorthandAllIncludingSelf() {
        enable(0);
        enable(1);

        sendIpi(0, 0, 2 << LocalApic.ICR_SHORTHAND_SHIFT | 0x51);

        assertThat(requested(0, 0x51)).isTrue();
        assertThat(requested(1, 0x51)).isTrue();
    }

    @Test
    void icrShorthandAllExcludingSelf() {
        enable(0);
        enable(1);

        sendIpi(0, 0, 3 << LocalApic.ICR_SHORTHAND_SHIFT | 0x52);

        assertThat(requested(0, 0x52)).isFalse();
        assertThat(requested(1, 0x52)).isTrue();
    }

    @Test
    void physicalDestinationIpiReachesThatApicId() {
        enable(0);
        enable(1);
        chip.writeLocalApic(1, LocalApic.REG_ID, 4, 0x0700_0000);

        sendIpi(0, 7, 0x53);

        assertThat(requested(1, 0x53)).isTrue();
        assertThat(requested(0, 0x53)).isFalse();
    }

    @Test
    void logicalFlatDestination() {
        enable(0);
        enable(1);
        chip.writeLocalApic(0, LocalApic.REG_LDR, 4, 0x0100_0000);
        chip.writeLocalApic(1, LocalApic.REG_LDR, 4, 0x0200_0000);

        sendIpi(0, 0x02, LocalApic.ICR_LOGICAL_DESTINATION | 0x54);
        sendIpi(1, 0x03, LocalApic.ICR_LOGICAL_DESTINATION | 0x55);

        assertThat(requested(0, 0x54)).isFalse();
        assertThat(requested(1, 0x54)).isTrue();
        assertThat(requested(0, 0x55)).isTrue();
        assertThat(requested(1, 0x55)).isTrue();
    }

    @Test
    void lowestPriorityIpiReachesOneLapic() {
        enable(0);
        enable(1);
        chip.writeLocalApic(0, LocalApic.REG_LDR, 4, 0x0100_0000);
        chip.writeLocalApic(1, LocalApic.REG_LDR, 4, 0x0200_0000);

        sendIpi(0, 0x03, 1 << LocalApic.ICR_DELIVERY_MODE_SHIFT | LocalApic.ICR_LOGICAL_DESTINATION | 0x56);

        assertThat(requested(0, 0x56) ^ requested(1, 0x56)).isTrue();
    }

    @Test
    void ipiWithAnIllegalVectorSetsSendIllegalVector() {
        enable(0);

        sendIpi(0, 0, 1 << LocalApic.ICR_SHORTHAND_SHIFT | 0x0F);
        chip.writeLocalApic(0, LocalApic.REG_ESR, 4, 0);

        assertThat(chip.readLocalApic(0, LocalApic.REG_ESR, 4)).isEqualTo(LocalApic.ESR_SEND_ILLEGAL_VECTOR);
        assertThat(requested(0, 0x0F)).isFalse();
    }

    @Test
    void ipiToASoftwareDisabledLapicIsDropped() {
        enable(0);

        sendIpi(0, 1, 0x57);

        assertThat(requested(1, 0x57)).isFalse();
    }

    @Test
    void unmodelledIpiDeliveryModesAreDropped() {
        enable(0);
        enable(1);

        sendIpi(0, 1, 5 << LocalApic.ICR_DELIVERY_MODE_SHIFT | 0x58);

        assertThat(requested(1, 0x58)).isFalse();
    }

    // Timers

    @Test
    void lapicTimerFiresOnTheClock() {
        enable(0);
        chip.writeLocalApic(0, LocalApic.REG_LVT_TIMER, 4, 0x30);

        chip.writeLocalApic(0, LocalApic.REG_TIMER_INITIAL, 4, 100);
        clock.advance(199);
        assertThat(requested(0, 0x30)).isFalse();
        clock.advance(1);

        assertThat(requested(0, 0x30)).isTrue();
        assertThat(chip.counters().localApics().getFirst().timerFires()).isEqualTo(1);
        assertThat(clock.armed()).isZero();
    }

    @Test
    void periodicTimerKeepsOneCallbackArmed() {
        enable(1);
        chip.writeLocalApic(1, LocalApic.REG_LVT_TIMER, 4, 1 << LocalApic.TIMER_MODE_SHIFT | 0x30);
        chip.writeLocalApic(1, LocalApic.REG_TIMER_INITIAL, 4, 100_000);

        clock.advance(10 * 200_000);

        assertThat(chip.counters().localApics().get(1).timerFires()).isEqualTo(10);
        assertThat(clock.armed()).isEqualTo(1);
    }

    @Test
    void restartingTheTimerCancelsTheEarlierCallback() {
        enable(0);
        chip.writeLocalApic(0, LocalApic.REG_LVT_TIMER, 4, 0x30);
        chip.writeLocalApic(0, LocalApic.REG_TIMER_INITIAL, 4, 100);

        chip.writeLocalApic(0, LocalApic.REG_TIMER_INITIAL, 4, 1000);

        assertThat(clock.armed()).isEqualTo(1);
    }

    @Test
    void stopCancelsTheTimers() {
        enable(0);
        chip.writeLocalApic(0, LocalApic.REG_LVT_TIMER, 4, 1 << LocalApic.TIMER_MODE_SHIFT | 0x30);
        chip.writeLocalApic(0, LocalApic.REG_TIMER_INITIAL, 4, 100);

        chip.stop();
        clock.advance(10_000);

        assertThat(clock.armed()).isZero();
        assertThat(chip.counters().localApics().getFirst().timerFires()).isZero();
    }

    // CR8, the task priority's class

    @Test
    void eachEntryGivesKvmTheTaskPriorityClassAsCr8() throws Exception {
        enable(0);
        RecordingInterruptEntry vcpu = new RecordingInterruptEntry();
        chip.writeLocalApic(0, LocalApic.REG_TPR, 4, 0x65);

        chip.beforeEntry(0, vcpu);
        chip.afterExit(0, vcpu.cr8);

        assertThat(vcpu.cr8).isEqualTo(6);
        assertThat(chip.readLocalApic(0, LocalApic.REG_TPR, 4))
                .as("CR8 unchanged in the guest: the TPR keeps its low bits")
                .isEqualTo(0x65);
    }

    @Test
    void aCr8TheGuestWroteIsItsTaskPriorityBeforeTheExitIsHandled() throws Exception {
        enable(0);
        RecordingInterruptEntry vcpu = new RecordingInterruptEntry();
        chip.writeLocalApic(0, LocalApic.REG_TPR, 4, 0x23);
        chip.beforeEntry(0, vcpu);

        chip.afterExit(0, 5);

        assertThat(chip.readLocalApic(0, LocalApic.REG_TPR, 4)).isEqualTo(0x50);
    }

    @Test
    void aRaisedCr8HoldsAnInterruptBackUntilTheGuestLowersIt() throws Exception {
        enable(0);
        RecordingInterruptEntry vcpu = new RecordingInterruptEntry();
        chip.beforeEntry(0, vcpu);
        chip.afterExit(0, 5);
        sendIpi(0, 0, 1 << LocalApic.ICR_SHORTHAND_SHIFT | 0x40);

        chip.beforeEntry(0, vcpu);
        assertThat(vcpu.injected).as("class 4 under CR8 5").isEmpty();
        chip.afterExit(0, 0);
        chip.beforeEntry(0, vcpu);

        assertThat(vcpu.injected).containsExactly(0x40);
    }

    // Halt and kicks

    @Test
    void haltReturnsAtOnceWhenAnInterruptIsDeliverable() throws Exception {
        enable(0);
        sendIpi(0, 0, 1 << LocalApic.ICR_SHORTHAND_SHIFT | 0x50);

        awaitReturn(halt(0, true));
        ApicCounters counters = chip.counters().localApics().getFirst();
        assertThat(counters.halts()).isEqualTo(1);
        assertThat(counters.haltWaits()).isZero();
    }

    @Test
    void haltReturnsWhenAnInterruptBecomesDeliverableFromAnotherThread() throws Exception {
        enable(0);
        programLevel(PIN, VECTOR, 0);
        CompletableFuture<Void> halted = halt(0, true);
        assertThat(halted).isNotDone();

        chip.setLevel(PIN, true);

        awaitReturn(halted);
        ApicCounters counters = chip.counters().localApics().getFirst();
        assertThat(counters.halts()).isEqualTo(1);
        assertThat(counters.haltWaits()).isEqualTo(1);
    }

    @Test
    void haltReturnsWhenTheTimerFires() throws Exception {
        enable(0);
        chip.writeLocalApic(0, LocalApic.REG_LVT_TIMER, 4, 0x30);
        chip.writeLocalApic(0, LocalApic.REG_TIMER_INITIAL, 4, 100);
        CompletableFuture<Void> halted = halt(0, true);
        assertThat(halted).as("halted before the timer fires").isNotDone();

        clock.advance(200);

        awaitReturn(halted);
        ApicCounters counters = chip.counters().localApics().getFirst();
        assertThat(counters.halts()).isEqualTo(1);
        assertThat(counters.haltWaits()).as("the halt waited for the timer").isEqualTo(1);
    }

    @Test
    void haltReturnsWhenStopIsCalled() throws Exception {
        CompletableFuture<Void> halted = halt(1, true);
        assertThat(halted).isNotDone();

        chip.stop();

        awaitReturn(halted);
    }

    @Test
    void haltWithInterruptsDisabledIsEndedOnlyByStop() throws Exception {
        enable(0);
        CompletableFuture<Void> halted = halt(0, false);

        sendIpi(0, 0, 1 << LocalApic.ICR_SHORTHAND_SHIFT | 0x50);
        assertStillHalted(halted);
        chip.stop();

        awaitReturn(halted);
    }

    @Test
    void interruptBelowTheProcessorPriorityDoesNotEndHalt() throws Exception {
        enable(0);
        chip.writeLocalApic(0, LocalApic.REG_TPR, 4, 0xF0);
        CompletableFuture<Void> halted = halt(0, true);

        sendIpi(1, 0, 0x50);

        assertStillHalted(halted);
        chip.stop();
        awaitReturn(halted);
    }

    @Test
    void noKickWhileTheVcpuIsNotInTheGuest() {
        enable(0);
        enable(1);
        programLevel(PIN, VECTOR, 1);

        chip.setLevel(PIN, true);
        chip.afterExit(1, 0);
        sendIpi(0, 1, 0x50);

        assertThat(kicks).isEmpty();
        assertThat(chip.counters().localApics().get(1).kicks()).isZero();
    }

    /** An edge on {@code PIN}, then KVM_RUN returns and the vCPU enters again: what KVM was asked. */
    private List<String> edgeThenExitAndEnter(RecordingInterruptEntry vcpu) throws Exception {
        chip.setLevel(PIN, true);
        chip.setLevel(PIN, false);
        return exitAndEnter(vcpu);
    }

    private List<String> exitAndEnter(RecordingInterruptEntry vcpu) throws Exception {
        vcpu.asked.clear();
        chip.afterExit(0, vcpu.cr8);
        chip.beforeEntry(0, vcpu);
        return List.copyOf(vcpu.asked);
    }

    @Test
    void whereKvmsWindowExitIsPromptAWaitingVectorOnlyAsksForTheWindow() throws Exception {
        UserIrqchip prompt = new UserIrqchip(1, clock, kicks::add, false);
        enable(prompt, 0);
        program(prompt, PIN, VECTOR);
        RecordingInterruptEntry vcpu = new RecordingInterruptEntry();
        vcpu.interruptsEnabled = false;
        prompt.setLevel(PIN, true);
        prompt.setLevel(PIN, false);

        for (int run = 0; run < 3; run++) {
            vcpu.asked.clear();
            prompt.beforeEntry(0, vcpu);
            prompt.afterExit(0, vcpu.cr8);
            assertThat(vcpu.asked).as("run " + run).containsExactly("window true");
        }
        vcpu.interruptsEnabled = true;
        prompt.beforeEntry(0, vcpu);
        assertThat(vcpu.injected).containsExactly(VECTOR);
        assertThat(prompt.counters().localApics().getFirst().windowLookedRuns()).isZero();
        prompt.stop();
    }

    @Test
    void aVectorWaitingForTheWindowIsLookedAtUntilTakenAndAfterAWaitThatEndedAtAHltOnlyOnceTheGuestExitsAgain()
            throws Exception {
        enable(0);
        program(PIN, VECTOR);
        RecordingInterruptEntry vcpu = new RecordingInterruptEntry();
        vcpu.interruptsEnabled = false;
        String first = "exit after " + WindowLooks.FIRST_LOOK_NANOS + " then every " + WindowLooks.LOOK_NANOS;
        String later = "exit after " + WindowLooks.LOOK_NANOS + " then every " + WindowLooks.LOOK_NANOS;

        assertThat(exitAndEnter(vcpu)).as("nothing waits: a plain run").containsExactly("window false");
        assertThat(edgeThenExitAndEnter(vcpu)).containsExactly("window true", first);
        assertThat(exitAndEnter(vcpu)).as("the window still closed").containsExactly("window true", later);
        vcpu.interruptsEnabled = true;
        assertThat(exitAndEnter(vcpu)).containsExactly("window false");
        assertThat(vcpu.injected).containsExactly(VECTOR);
        eoi(0);

        vcpu.interruptsEnabled = false;
        assertThat(edgeThenExitAndEnter(vcpu))
                .as("the last wait ended at an open window: looked at from the start")
                .containsExactly("window true", first);
        chip.afterExit(0, vcpu.cr8);
        chip.halt(0, true);
        vcpu.interruptsEnabled = true;
        chip.beforeEntry(0, vcpu);
        assertThat(vcpu.injected).containsExactly(VECTOR, VECTOR);
        eoi(0);

        vcpu.interruptsEnabled = false;
        assertThat(edgeThenExitAndEnter(vcpu))
                .as("the last wait ended at a hlt: this guest waits halted")
                .containsExactly("window true");
        assertThat(exitAndEnter(vcpu))
                .as("but it exited again with the window closed")
                .containsExactly("window true", later);
    }
}
