package io.jvfio.machine.irqchip;

import static io.jvfio.machine.irqchip.LocalApic.*;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.PriorityQueue;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The xAPIC against the Intel SDM vol. 3A chapter 11 (section numbers as in the editions that call it
 * chapter 11; older ones number it 10): the register map (Table 11-1), reset state (11.4.7.1), software
 * disable (11.4.7.2), the LVT (11.5.1, Figure 11-8), ESR (11.5.3), the timer (11.5.4), ICR (11.6.1),
 * logical destinations (11.6.2.2), TPR/PPR (11.8.3.1), IRR/ISR/TMR (11.8.4) and EOI (11.8.5).
 */
class LocalApicTest {
    private static final int TIMER_VECTOR = 0x30;

    /** The rest of the irqchip, recorded; its timers run when the test moves the clock. */
    static final class ManualBus implements LocalApic.ApicBus {
        record Ipi(LocalApic source, int icrLow, int destination) {}

        private record Timer(long due, long generation, LocalApic apic) {}

        final List<Ipi> ipis = new ArrayList<>();
        final List<Integer> eoiBroadcasts = new ArrayList<>();
        /** Every expiry the LAPIC asked for, as an absolute time. */
        final List<Long> scheduledDues = new ArrayList<>();

        private final PriorityQueue<Timer> timers = new PriorityQueue<>(Comparator.comparingLong(Timer::due));
        /** Not zero, so that code taking 0 for "the start" shows. */
        long now = 7_000_000;

        @Override
        public void sendIpi(LocalApic source, int icrLow, int destination) {
            ipis.add(new Ipi(source, icrLow, destination));
        }

        @Override
        public void broadcastEndOfInterrupt(int vector) {
            eoiBroadcasts.add(vector);
        }

        /** Stale callbacks are not cancelled, as with a real event loop: the LAPIC must ignore them. */
        @Override
        public void scheduleTimer(LocalApic apic, long delayNanos, long generation) {
            timers.add(new Timer(now + delayNanos, generation, apic));
            scheduledDues.add(now + delayNanos);
        }

        @Override
        public long nanoTime() {
            return now;
        }

        /** Moves the clock by {@code nanos}, running each timer callback exactly at its due time. */
        void advance(long nanos) {
            long target = now + nanos;
            while (!timers.isEmpty() && timers.peek().due() <= target) {
                Timer timer = timers.poll();
                now = timer.due();
                timer.apic().timerExpired(timer.generation());
            }
            now = target;
        }

        /** Moves the clock by {@code nanos} first, so the callbacks due by then run late. */
        void advanceLate(long nanos) {
            now += nanos;
            while (!timers.isEmpty() && timers.peek().due() <= now) {
                Timer timer = timers.poll();
                timer.apic().timerExpired(timer.generation());
            }
        }
    }

    private final ManualBus bus = new ManualBus();
    private final LocalApic apic = new LocalApic(0, bus);

    private long read(int register) {
        return apic.read(register, 4);
    }

    private void write(int register, long value) {
        apic.write(register, 4, value);
    }

    private void enable() {
        write(REG_SVR, 0x1FF);
    }

    /** The vCPU takes the interrupt the LAPIC offers (interrupt acknowledge); -1 if none. */
    private int take() {
        int vector = apic.deliverableVector();
        if (vector >= 0) {
            apic.acknowledge(vector);
        }
        return vector;
    }

    private void eoi() {
        write(REG_EOI, 0);
    }

    private int latchedEsr() {
        write(REG_ESR, 0);
        return (int) read(REG_ESR);
    }

    private void startTimer(int lvt, int divideConfig, long initialCount) {
        write(REG_LVT_TIMER, lvt);
        write(REG_TIMER_DIVIDE, divideConfig);
        write(REG_TIMER_INITIAL, initialCount);
    }

    private long timerFires() {
        return apic.timerFires();
    }

    // Register map and reset state

    @Test
    void resetStateIsTheSdmsPowerUpState() {
        LocalApic third = new LocalApic(3, bus);

        assertThat(third.read(REG_ID, 4)).as("ID").isEqualTo(0x0300_0000L);
        assertThat(third.read(REG_DFR, 4)).as("DFR all ones").isEqualTo(0xFFFF_FFFFL);
        assertThat(third.read(REG_SVR, 4)).as("SVR 0xFF, software-disabled").isEqualTo(0xFFL);
        for (int lvt = REG_LVT_TIMER; lvt <= REG_LVT_ERROR; lvt += 0x10) {
            assertThat(third.read(lvt, 4)).as("LVT 0x%x masked", lvt).isEqualTo(0x0001_0000L);
        }
        for (int register : new int[] {
            REG_TPR,
            REG_PPR,
            REG_LDR,
            REG_ESR,
            REG_ICR_LOW,
            REG_ICR_HIGH,
            REG_TIMER_INITIAL,
            REG_TIMER_CURRENT,
            REG_TIMER_DIVIDE
        }) {
            assertThat(third.read(register, 4)).as("register 0x%x", register).isZero();
        }
        for (int register = REG_ISR; register < REG_ESR; register += 0x10) {
            assertThat(third.read(register, 4)).as("ISR/TMR/IRR 0x%x", register).isZero();
        }
    }

    @Test
    void versionRegisterSays0x14AndSixLvtEntries() {
        assertThat(read(REG_VERSION)).isEqualTo(0x0005_0014L);
    }

    @Test
    void apicIdIsInBits24To31AndWritable() {
        write(REG_ID, 0x5A12_3456L);

        assertThat(read(REG_ID)).isEqualTo(0x5A00_0000L);
        assertThat(apic.id()).isEqualTo(0x5A);
    }

    @Test
    void readOnlyRegistersIgnoreWrites() {
        enable();
        apic.accept(0x41, true);
        take();
        apic.accept(0x42, false);
        long[] before = new long[0x400 >> 4];
        for (int register = 0; register < 0x400; register += 0x10) {
            before[register >> 4] = read(register);
        }

        for (int register : new int[] {REG_VERSION, REG_APR, REG_PPR, REG_RRD, REG_TIMER_CURRENT}) {
            write(register, 0xFFFF_FFFFL);
        }
        for (int register = REG_ISR; register < REG_ESR; register += 0x10) {
            write(register, 0xFFFF_FFFFL);
        }

        for (int register = 0; register < 0x400; register += 0x10) {
            assertThat(read(register)).as("register 0x%x", register).isEqualTo(before[register >> 4]);
        }
    }

    @Test
    void reservedBitsReadZero() {
        write(REG_TPR, 0xFFFF_FFFFL);
        write(REG_LDR, 0xFFFF_FFFFL);
        write(REG_DFR, 0);
        write(REG_SVR, 0xFFFF_FFFFL);
        write(REG_ICR_HIGH, 0xFFFF_FFFFL);
        write(REG_TIMER_DIVIDE, 0xFFFF_FFFFL);

        assertThat(read(REG_TPR)).as("TPR bits 0-7").isEqualTo(0xFFL);
        assertThat(read(REG_LDR)).as("LDR bits 24-31").isEqualTo(0xFF00_0000L);
        assertThat(read(REG_DFR)).as("DFR bits 0-27 read as ones").isEqualTo(0x0FFF_FFFFL);
        assertThat(read(REG_SVR)).as("SVR vector and enable").isEqualTo(0x1FFL);
        assertThat(read(REG_ICR_HIGH)).as("ICR destination bits 56-63").isEqualTo(0xFF00_0000L);
        assertThat(read(REG_TIMER_DIVIDE))
                .as("divide configuration bits 0, 1, 3")
                .isEqualTo(0xBL);
    }

    /** Figure 11-8: which bits each LVT entry has; delivery status (12) and remote IRR (14) are read-only. */
    @ParameterizedTest(name = "LVT at 0x{0} keeps 0x{1}")
    @CsvSource({
        "320, 000300FF", // timer: vector, mask, mode bit 17 (bit 18 is reserved without TSC-deadline)
        "330, 000107FF", // thermal: vector, delivery mode, mask
        "340, 000107FF", // performance counters: vector, delivery mode, mask
        "350, 0001A7FF", // LINT0: vector, delivery mode, polarity, trigger mode, mask
        "360, 0001A7FF", // LINT1: the same
        "370, 000100FF", // error: vector, mask
    })
    void lvtReservedAndReadOnlyBitsReadZero(String register, String kept) {
        enable();

        write(Integer.parseInt(register, 16), 0xFFFF_FFFFL);

        assertThat(read(Integer.parseInt(register, 16))).isEqualTo(Long.parseLong(kept, 16));
    }

    @Test
    void unalignedAndNon32BitAccessesReadZeroAndAreIgnored() {
        write(REG_TPR + 4, 0x50);
        apic.write(REG_TPR, 1, 0x60);

        assertThat(read(REG_TPR)).isZero();
        assertThat(read(REG_VERSION + 4)).isZero();
        assertThat(apic.read(REG_VERSION, 2)).isZero();
    }

    // Software enable

    @Test
    void softwareDisabledApicDropsFixedInterrupts() {
        assertThat(apic.accept(0x41, false)).isFalse();

        assertThat(apic.requested(0x41)).isFalse();
        assertThat(apic.deliverableVector()).isEqualTo(-1);
    }

    @Test
    void softwareDisablingMasksEveryLvtAndUnmaskingIsIgnoredUntilEnabled() {
        enable();
        for (int lvt = REG_LVT_TIMER; lvt <= REG_LVT_ERROR; lvt += 0x10) {
            write(lvt, 0x40);
        }

        write(REG_SVR, 0xFF);
        write(REG_LVT_ERROR, 0x33);

        for (int lvt = REG_LVT_TIMER; lvt < REG_LVT_ERROR; lvt += 0x10) {
            assertThat(read(lvt)).as("LVT 0x%x", lvt).isEqualTo(0x0001_0040L);
        }
        assertThat(read(REG_LVT_ERROR)).isEqualTo(0x0001_0033L);
        enable();
        assertThat(read(REG_LVT_ERROR))
                .as("enabling leaves the masks to software")
                .isEqualTo(0x0001_0033L);
    }

    @Test
    void softwareDisabledApicHoldsWhatIsPendingInIrr() {
        enable();
        apic.accept(0x41, false);

        write(REG_SVR, 0xFF);

        assertThat(apic.deliverableVector()).isEqualTo(-1);
        assertThat(apic.requested(0x41)).isTrue();
        enable();
        assertThat(apic.deliverableVector()).isEqualTo(0x41);
    }

    // Priorities

    @Test
    void highestVectorInIrrIsDeliveredFirst() {
        enable();
        apic.accept(0x31, false);
        apic.accept(0x92, false);
        apic.accept(0x55, false);

        assertThat(take()).isEqualTo(0x92);
        assertThat(apic.inService(0x92)).isTrue();
        assertThat(apic.requested(0x92)).isFalse();
    }

    @Test
    void vectorInServiceBlocksItsClassAndBelow() {
        enable();
        apic.accept(0x45, false);
        take();

        apic.accept(0x4F, false);
        apic.accept(0x40, false);
        apic.accept(0x3F, false);

        assertThat(apic.deliverableVector()).isEqualTo(-1);
    }

    @Test
    void higherClassPreemptsWhileInService() {
        enable();
        apic.accept(0x45, false);
        take();

        apic.accept(0x50, false);

        assertThat(take()).isEqualTo(0x50);
        assertThat(apic.inService(0x45)).isTrue();
        assertThat(read(REG_PPR)).isEqualTo(0x50);
    }

    @Test
    void tprRaisesProcessorPriority() {
        enable();
        write(REG_TPR, 0x50);

        apic.accept(0x5F, false);
        assertThat(apic.deliverableVector()).isEqualTo(-1);
        apic.accept(0x60, false);
        assertThat(apic.deliverableVector()).isEqualTo(0x60);
        assertThat(read(REG_PPR)).isEqualTo(0x50);
    }

    @Test
    void loweringTprReleasesWhatItHeldBack() {
        enable();
        write(REG_TPR, 0xF0);
        apic.accept(0x80, false);

        write(REG_TPR, 0x70);

        assertThat(apic.deliverableVector()).isEqualTo(0x80);
    }

    /** 11.8.3.1: PPR[7:4] = max(TPR[7:4], ISRV[7:4]); PPR[3:0] = TPR[3:0] if TPR[7:4] >= ISRV[7:4], else 0. */
    @ParameterizedTest(name = "TPR 0x{0}, in service 0x{1}: PPR 0x{2}")
    @CsvSource({
        "00, -, 00",
        "32, -, 32",
        "32, 45, 40",
        "3F, 45, 40",
        "45, 45, 45",
        "4A, 45, 4A",
        "40, 4F, 40",
        "51, 45, 51",
        "FF, 45, FF",
    })
    void processorPriorityIsTheHigherOfTprAndTheInServiceClass(String tpr, String inService, String ppr) {
        enable();
        if (!inService.equals("-")) {
            apic.accept(Integer.parseInt(inService, 16), false);
            take();
        }

        write(REG_TPR, Integer.parseInt(tpr, 16));

        assertThat(read(REG_PPR)).isEqualTo(Integer.parseInt(ppr, 16));
    }

    // IRR, ISR, TMR

    @Test
    void sameVectorAcceptedTwiceIsOneRequest() {
        enable();
        apic.accept(0x41, false);
        apic.accept(0x41, false);

        take();

        assertThat(apic.deliverableVector()).isEqualTo(-1);
    }

    @Test
    void vectorCanBeRequestedAgainWhileInService() {
        enable();
        apic.accept(0x41, false);
        take();

        apic.accept(0x41, false);

        assertThat(apic.requested(0x41)).isTrue();
        assertThat(apic.deliverableVector()).as("same class as in service").isEqualTo(-1);
        eoi();
        assertThat(apic.deliverableVector()).isEqualTo(0x41);
    }

    @Test
    void isrTmrIrrRegistersMirrorTheBits() {
        enable();
        apic.accept(0x20, false);
        apic.accept(0x3F, true);
        apic.accept(0x41, false);
        apic.accept(0xFF, true);
        take();
        Set<Integer> inService = Set.of(0xFF);
        Set<Integer> level = Set.of(0x3F, 0xFF);
        Set<Integer> requested = Set.of(0x20, 0x3F, 0x41);

        for (int i = 0; i < 8; i++) {
            assertThat(read(REG_ISR + 0x10 * i)).as("ISR %d", i).isEqualTo(word(inService, i));
            assertThat(read(REG_TMR + 0x10 * i)).as("TMR %d", i).isEqualTo(word(level, i));
            assertThat(read(REG_IRR + 0x10 * i)).as("IRR %d", i).isEqualTo(word(requested, i));
        }
        assertThat(read(REG_IRR + 0x10)).as("vectors 0x20 and 0x3F").isEqualTo(0x8000_0001L);
        assertThat(read(REG_ISR + 0x70)).as("vector 0xFF").isEqualTo(0x8000_0000L);
    }

    /** Register {@code index} of a 256-bit ISR/TMR/IRR: vectors 32 * index to 32 * index + 31. */
    private static long word(Set<Integer> vectors, int index) {
        long word = 0;
        for (int vector : vectors) {
            if (vector >> 5 == index) {
                word |= 1L << (vector & 31);
            }
        }
        return word;
    }

    @Test
    void edgeAcceptanceClearsTheTmrBitALevelOneSet() {
        enable();
        apic.accept(0x41, true);
        take();

        apic.accept(0x41, false);

        assertThat(apic.levelTriggered(0x41)).isFalse();
    }

    // EOI

    @Test
    void eoiEndsTheHighestInService() {
        enable();
        apic.accept(0x41, false);
        take();
        apic.accept(0x61, false);
        take();

        eoi();

        assertThat(apic.inService(0x61)).isFalse();
        assertThat(apic.inService(0x41)).isTrue();
        eoi();
        assertThat(apic.inService(0x41)).isFalse();
    }

    @Test
    void eoiWithNothingInServiceDoesNothing() {
        enable();

        eoi();

        assertThat(apic.endsOfInterrupt()).isZero();
        assertThat(bus.eoiBroadcasts).isEmpty();
    }

    @Test
    void eoiLetsAWaitingVectorOfTheSameClassThrough() {
        enable();
        apic.accept(0x45, false);
        take();
        apic.accept(0x43, false);

        eoi();

        assertThat(apic.deliverableVector()).isEqualTo(0x43);
    }

    @Test
    void eoiOfLevelVectorIsBroadcast() {
        enable();
        apic.accept(0x41, true);
        take();

        eoi();

        assertThat(bus.eoiBroadcasts).containsExactly(0x41);
    }

    @Test
    void eoiOfEdgeVectorIsNotBroadcast() {
        enable();
        apic.accept(0x41, false);
        take();

        eoi();

        assertThat(bus.eoiBroadcasts).isEmpty();
    }

    @Test
    void eoiRegisterReadsZero() {
        enable();
        apic.accept(0x41, false);
        take();

        assertThat(read(REG_EOI)).isZero();
        assertThat(apic.inService(0x41)).as("a read is no EOI").isTrue();
    }

    // ESR

    @Test
    void vectorsBelow16AreIllegalAndSetEsr() {
        enable();

        assertThat(apic.accept(15, false)).isFalse();

        assertThat(apic.requested(15)).isFalse();
        assertThat(latchedEsr()).isEqualTo(ESR_RECEIVE_ILLEGAL_VECTOR).isEqualTo(0x40);
        assertThat(apic.accept(16, false))
                .as("vector 16 is the first legal one")
                .isTrue();
    }

    @Test
    void esrShowsErrorsOnlyAfterAWrite() {
        enable();
        apic.accept(3, false);

        assertThat(read(REG_ESR)).as("before the write").isZero();
        write(REG_ESR, 0);
        assertThat(read(REG_ESR)).isEqualTo(0x40);
        assertThat(read(REG_ESR)).as("reads do not clear it").isEqualTo(0x40);
    }

    @Test
    void esrWriteClearsErrorsLatchedByThePreviousWrite() {
        enable();
        apic.accept(3, false);
        write(REG_ESR, 0);

        write(REG_ESR, 0);

        assertThat(read(REG_ESR)).isZero();
    }

    @Test
    void sendErrorsLatchIntoBit5() {
        apic.signalError(ESR_SEND_ILLEGAL_VECTOR);
        apic.accept(2, false);

        assertThat(latchedEsr()).isEqualTo(0x60);
    }

    /** 11.5.3: a detected error is signalled through the LVT error entry. */
    @Test
    void anErrorRequestsTheLvtErrorVector() {
        enable();
        write(REG_LVT_ERROR, 0xFE);

        apic.accept(3, false);
        assertThat(take()).isEqualTo(0xFE);
        eoi();
        apic.signalError(ESR_SEND_ILLEGAL_VECTOR);

        assertThat(take()).isEqualTo(0xFE);
        assertThat(latchedEsr()).isEqualTo(0x60);
    }

    @Test
    void aMaskedOrIllegalLvtErrorEntryOnlyLatchesTheError() {
        enable();
        write(REG_LVT_ERROR, LVT_MASKED | 0xFE);
        apic.accept(3, false);
        write(REG_LVT_ERROR, 0x05);
        apic.accept(3, false);

        assertThat(apic.deliverableVector()).isEqualTo(-1);
        assertThat(latchedEsr()).isEqualTo(ESR_RECEIVE_ILLEGAL_VECTOR);
    }

    // ICR and logical destinations

    @Test
    void icrLowWriteSendsTheIpiToTheHighHalfsDestination() {
        write(REG_ICR_HIGH, 0x0300_0000);

        write(REG_ICR_LOW, 0x0000_4841);

        assertThat(bus.ipis).containsExactly(new ManualBus.Ipi(apic, 0x4841, 3));
        assertThat(read(REG_ICR_LOW)).isEqualTo(0x4841);
        assertThat(read(REG_ICR_HIGH)).isEqualTo(0x0300_0000L);
    }

    @Test
    void icrHighWriteSendsNothing() {
        write(REG_ICR_HIGH, 0x0100_0000);

        assertThat(bus.ipis).isEmpty();
    }

    @Test
    void icrDeliveryStatusReadsIdle() {
        write(REG_ICR_LOW, 0x1041);

        assertThat(read(REG_ICR_LOW)).isEqualTo(0x41);
        assertThat(bus.ipis.getFirst().icrLow()).isEqualTo(0x41);
    }

    @Test
    void logicalFlatDestinationMatchesAnyCommonBit() {
        write(REG_LDR, 0x0400_0000);

        assertThat(apic.matchesLogical(0x04)).isTrue();
        assertThat(apic.matchesLogical(0x0C)).isTrue();
        assertThat(apic.matchesLogical(0xFF)).isTrue();
        assertThat(apic.matchesLogical(0x03)).isFalse();
    }

    @Test
    void logicalIdZeroMatchesNoDestination() {
        assertThat(apic.matchesLogical(0xFF)).isFalse();
    }

    // Timer

    /** 11.5.4, Figure 11-10: bits 0, 1 and 3 of the divide configuration register. */
    @ParameterizedTest(name = "divide configuration 0x{0} divides by {1}")
    @CsvSource({"0, 2", "1, 4", "2, 8", "3, 16", "8, 32", "9, 64", "A, 128", "B, 1"})
    void divideConfigurationEncodings(String config, int divisor) {
        enable();

        startTimer(TIMER_VECTOR, Integer.parseInt(config, 16), 1000);

        assertThat(apic.divisor()).isEqualTo(divisor);
        bus.advance(1000L * divisor - 1);
        assertThat(read(REG_TIMER_CURRENT)).isEqualTo(1);
        assertThat(apic.requested(TIMER_VECTOR)).isFalse();
        bus.advance(1);
        assertThat(apic.requested(TIMER_VECTOR)).isTrue();
    }

    @Test
    void oneShotTimerFiresOnceAndCurrentCountCountsDownThenReadsZero() {
        enable();
        startTimer(TIMER_VECTOR, 0, 100);
        assertThat(read(REG_TIMER_CURRENT)).isEqualTo(100);

        bus.advance(50);
        assertThat(read(REG_TIMER_CURRENT)).isEqualTo(75);
        bus.advance(150);
        assertThat(read(REG_TIMER_CURRENT)).isZero();
        assertThat(take()).isEqualTo(TIMER_VECTOR);
        eoi();
        bus.advance(10_000);

        assertThat(timerFires()).isEqualTo(1);
        assertThat(apic.requested(TIMER_VECTOR)).isFalse();
        assertThat(read(REG_TIMER_CURRENT)).isZero();
        assertThat(read(REG_TIMER_INITIAL)).as("the initial count stays").isEqualTo(100);
    }

    @Test
    void periodicTimerReloadsTheCountEachPeriod() {
        enable();
        startTimer(TIMER_VECTOR | 1 << TIMER_MODE_SHIFT, 0, 100_000);

        bus.advance(200_000);
        assertThat(read(REG_TIMER_CURRENT)).isEqualTo(100_000);
        bus.advance(60_000);

        assertThat(read(REG_TIMER_CURRENT)).isEqualTo(70_000);
        assertThat(timerFires()).isEqualTo(1);
    }

    @Test
    void periodicTimerFiresEveryPeriodWithoutDrift() {
        enable();
        long start = bus.now;
        startTimer(TIMER_VECTOR | 1 << TIMER_MODE_SHIFT, 0, 500_000);

        bus.advanceLate(1_300_000);
        assertThat(read(REG_TIMER_CURRENT)).as("300 us into the second period").isEqualTo(350_000);
        bus.advanceLate(800_000);
        bus.advanceLate(950_000);

        assertThat(timerFires()).isEqualTo(3);
        assertThat(bus.scheduledDues)
                .containsExactly(start + 1_000_000, start + 2_000_000, start + 3_000_000, start + 4_000_000);
        assertThat(read(REG_TIMER_CURRENT)).isEqualTo(475_000);
    }

    /** 11.5.4: a periodic count is reloaded when it reaches 0, whenever the expiry's callback runs. */
    @Test
    void periodicCountReadBeforeALateCallbackIsInTheNextPeriod() {
        enable();
        startTimer(TIMER_VECTOR | 1 << TIMER_MODE_SHIFT, 0x0B, 300_000);

        bus.now += 300_000 + 100;

        assertThat(read(REG_TIMER_CURRENT)).isEqualTo(300_000 - 100);
        assertThat(timerFires()).as("the callback has not run yet").isZero();
    }

    /**
     * 11.5.4: the interrupt is raised when the count reaches 0. A write to the timer's registers after
     * that, while the expiry's callback is still late on the event loop (the count already reads 0, or
     * has been reloaded), cannot take it back: not a new count, a stop, a divider, a mask or a disable.
     */
    @ParameterizedTest(name = "mode {0}, then 0x{1} = 0x{2}")
    @CsvSource({
        "0, 380, 1000",
        "0, 380, 0",
        "0, 320, 10030",
        "0, 0F0, 0FF",
        "1, 380, 300000",
        "1, 380, 0",
        "1, 3E0, 0B",
        "1, 320, 30030",
    })
    void anExpiryDueBeforeATimerWriteIsDeliveredThoughItsCallbackIsLate(int mode, String register, String value) {
        enable();
        startTimer(TIMER_VECTOR | mode << TIMER_MODE_SHIFT, 0x0B, 300_000);
        bus.now += 300_000 + 100;

        write(Integer.parseInt(register, 16), Long.parseLong(value, 16));
        bus.advanceLate(0);

        assertThat(timerFires()).isEqualTo(1);
        assertThat(apic.requested(TIMER_VECTOR)).isTrue();
    }

    @Test
    void periodicTimerRunsNoFasterThanKvmsMinimumPeriod() {
        enable();
        long start = bus.now;
        startTimer(TIMER_VECTOR | 1 << TIMER_MODE_SHIFT, 0x0B, 1);

        bus.advance(3 * MIN_PERIODIC_NANOS + 1_000);

        assertThat(timerFires()).isEqualTo(3);
        assertThat(bus.scheduledDues)
                .containsExactly(
                        start + MIN_PERIODIC_NANOS,
                        start + 2 * MIN_PERIODIC_NANOS,
                        start + 3 * MIN_PERIODIC_NANOS,
                        start + 4 * MIN_PERIODIC_NANOS);
        assertThat(read(REG_TIMER_CURRENT))
                .as("1 us into the fourth period: the count ran out after 1 ns and waits for the period's end")
                .isZero();
    }

    @Test
    void aOneShotTimerHasNoMinimumPeriod() {
        enable();
        long start = bus.now;
        startTimer(TIMER_VECTOR, 0x0B, 1);

        bus.advance(10);

        assertThat(timerFires()).isEqualTo(1);
        assertThat(bus.scheduledDues).containsExactly(start + 1);
    }

    @ParameterizedTest(name = "timer mode {0}")
    @ValueSource(ints = {TIMER_ONE_SHOT, TIMER_PERIODIC})
    void writingInitialCountZeroStopsTheTimer(int mode) {
        enable();
        startTimer(TIMER_VECTOR | mode << TIMER_MODE_SHIFT, 0, 100);
        bus.advance(100);

        write(REG_TIMER_INITIAL, 0);
        bus.advance(10_000);

        assertThat(read(REG_TIMER_CURRENT)).isZero();
        assertThat(timerFires()).isZero();
        assertThat(apic.requested(TIMER_VECTOR)).isFalse();
    }

    @Test
    void rewritingTheInitialCountRestartsTheCount() {
        enable();
        startTimer(TIMER_VECTOR, 0, 100);
        bus.advance(150);

        write(REG_TIMER_INITIAL, 100);

        assertThat(read(REG_TIMER_CURRENT)).isEqualTo(100);
        bus.advance(199);
        assertThat(timerFires()).as("the first count's expiry is stale").isZero();
        bus.advance(1);
        assertThat(timerFires()).isEqualTo(1);
    }

    @Test
    void maskedLvtTimerCountsButDeliversNothing() {
        enable();
        startTimer(LVT_MASKED | 1 << TIMER_MODE_SHIFT | TIMER_VECTOR, 0, 100_000);

        bus.advance(100_000);
        assertThat(read(REG_TIMER_CURRENT)).isEqualTo(50_000);
        bus.advance(100_000);

        assertThat(timerFires()).isEqualTo(1);
        assertThat(read(REG_TIMER_CURRENT)).as("reloaded").isEqualTo(100_000);
        assertThat(apic.requested(TIMER_VECTOR)).isFalse();
        assertThat(apic.deliverableVector()).isEqualTo(-1);
    }

    @Test
    void unmaskingTheLvtTimerKeepsItCounting() {
        enable();
        startTimer(LVT_MASKED | TIMER_VECTOR, 0, 100);
        bus.advance(100);

        write(REG_LVT_TIMER, TIMER_VECTOR + 1);
        bus.advance(100);

        assertThat(apic.requested(TIMER_VECTOR + 1)).isTrue();
    }

    /** 11.5.4.1: "A write to the LVT Timer Register that changes the timer mode disarms the local APIC timer." */
    @Test
    void changingTimerModeStopsIt() {
        enable();
        startTimer(TIMER_VECTOR, 0, 100);
        bus.advance(50);

        write(REG_LVT_TIMER, TIMER_VECTOR | 1 << TIMER_MODE_SHIFT);
        bus.advance(10_000);

        assertThat(read(REG_TIMER_CURRENT)).isZero();
        assertThat(timerFires()).isZero();
    }

    /** 11.5.4.1: without TSC-deadline in CPUID, bit 17 alone selects the mode and bit 18 is reserved. */
    @Test
    void timerModeBit18IsReservedWithoutTscDeadline() {
        enable();

        startTimer(TIMER_VECTOR | 2 << TIMER_MODE_SHIFT, 0, 100);

        assertThat(read(REG_LVT_TIMER)).isEqualTo(TIMER_VECTOR);
        bus.advance(200);
        assertThat(apic.requested(TIMER_VECTOR)).as("runs one-shot").isTrue();
    }

    @Test
    void changingTheDividerKeepsTheCurrentCount() {
        enable();
        startTimer(TIMER_VECTOR, 0, 1000);
        bus.advance(1000);

        write(REG_TIMER_DIVIDE, 0xB);

        assertThat(read(REG_TIMER_CURRENT)).isEqualTo(500);
        bus.advance(499);
        assertThat(timerFires()).isZero();
        bus.advance(1);
        assertThat(timerFires()).isEqualTo(1);
    }

    @Test
    void changingTheDividerOfACountAbove2To31KeepsTheExpiry() {
        enable();
        startTimer(TIMER_VECTOR, 0, 0xFFFF_FFFFL);
        bus.advance(1L << 32);
        assertThat(read(REG_TIMER_CURRENT)).isEqualTo(0x7FFF_FFFFL);

        write(REG_TIMER_DIVIDE, 0xB);

        assertThat(read(REG_TIMER_CURRENT)).isEqualTo(0x7FFF_FFFFL);
        bus.advance(0x7FFF_FFFEL);
        assertThat(timerFires()).isZero();
        bus.advance(1);
        assertThat(timerFires()).isEqualTo(1);
    }

    @Test
    void largestInitialCountAtDivideBy128IsCountedUnsigned() {
        enable();

        startTimer(TIMER_VECTOR, 0xA, 0xFFFF_FFFFL);

        assertThat(read(REG_TIMER_CURRENT)).isEqualTo(0xFFFF_FFFFL);
        assertThat(bus.scheduledDues).containsExactly(bus.now + 0xFFFF_FFFFL * 128);
    }

    @Test
    void resetStopsTheTimer() {
        enable();
        startTimer(TIMER_VECTOR, 0, 100);

        apic.reset();
        enable();
        bus.advance(10_000);

        assertThat(timerFires()).isZero();
        assertThat(read(REG_TIMER_INITIAL)).isZero();
    }
}
