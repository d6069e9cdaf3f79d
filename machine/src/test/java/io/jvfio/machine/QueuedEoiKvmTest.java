package io.jvfio.machine;

import static org.assertj.core.api.Assertions.assertThat;

import io.jvfio.machine.bus.PioDevice;
import io.jvfio.machine.irqchip.ApicCounters;
import io.jvfio.machine.irqchip.IrqchipMode;
import io.jvfio.sys.ErrnoException;
import io.jvfio.sys.testing.Tiers;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The guest ends an interrupt and runs on without a single exit while a second interrupt waits behind
 * the first and the first's level line waits for its EOI ({@code eoi-spin}), on jvfio's irqchip with the
 * guest's EOIs queued in KVM's coalesced MMIO ring and, for comparison, with each EOI an exit: switched
 * off, or with two vCPUs, which the ring cannot tell apart. All must give the same exact counts, the queued EOI must reach the level line's resampler once, and the waiting
 * interrupt must arrive within a bounded time: without the irqchip's own drain of the ring the guest
 * would spin until the test's timeout.
 */
@Tag(Tiers.KVM)
class QueuedEoiKvmTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(60);
    private static final int LEVEL_GSI = 20;
    private static final int EDGE_GSI = 21;
    private static final int HOST_PORT = 0x510;
    /**
     * Far above the drain period (1 ms) and a kick (tens of us): what a loaded 2-core host adds to
     * an event-loop timer and a signal, while an EOI nobody drains would leave the guest spinning for good.
     */
    private static final Duration DELIVERY_BOUND = Duration.ofMillis(250);

    @BeforeEach
    void needsKvm() {
        Tiers.assumeKvm();
    }

    @ParameterizedTest(name = "x-coalesced-eoi={0}, {1} vCPU(s)")
    @CsvSource({"true, 1", "false, 1", "true, 2"})
    void interruptWaitingBehindAnEoiIsDeliveredToAGuestThatNeverExitsAgain(boolean coalescedEoi, int vcpus)
            throws Exception {
        AtomicLong edgeRaised = new AtomicLong();
        AtomicLong edgeTaken = new AtomicLong();
        AtomicInteger resamples = new AtomicInteger();
        MachineConfig config = MachineConfig.builder()
                .guest("eoi-spin")
                .args(LEVEL_GSI, EDGE_GSI, HOST_PORT)
                .irqchip(IrqchipMode.OFF)
                .coalescedEoi(coalescedEoi)
                .vcpus(vcpus)
                .build();
        try (Machine machine = Machine.create(config)) {
            IrqLine level = machine.irqLine(LEVEL_GSI);
            IrqLine edge = machine.irqLine(EDGE_GSI);
            level.resampleOnEndOfInterrupt(resamples::incrementAndGet);
            machine.pio().add("eoi-spin host", HOST_PORT, 1, new PioDevice() {
                @Override
                public long read(long offset, int size) {
                    return 0;
                }

                @Override
                public void write(long offset, int size, long value) {
                    try {
                        switch ((int) value) {
                            case 0 -> level.raise();
                            case 1 -> {
                                edgeRaised.set(System.nanoTime());
                                edge.pulse();
                            }
                            default -> edgeTaken.set(System.nanoTime());
                        }
                    } catch (ErrnoException e) {
                        throw new IllegalStateException(e);
                    }
                }
            });

            machine.start();

            assertThat(machine.awaitExit(TIMEOUT)).isZero();
            assertThat(machine.reports()).as("L, then E, each once").containsExactly(1, 1);
            // An EOI drained from the ring reaches its listeners on the event loop, which may come after
            // the guest's exit.
            long listenersDeadline = System.nanoTime() + 5_000_000_000L;
            while (resamples.get() == 0 && System.nanoTime() < listenersDeadline) {
                Thread.sleep(1);
            }
            assertThat(resamples).as("L's EOI reached its line once").hasValue(1);
            Duration waited = Duration.ofNanos(edgeTaken.get() - edgeRaised.get());
            assertThat(waited).as("E from its raise to its handler").isLessThan(DELIVERY_BOUND);
            ApicCounters lapic =
                    machine.irqchipCounters().orElseThrow().localApics().getFirst();
            if (coalescedEoi && vcpus == 1) {
                assertThat(lapic.queuedEndsOfInterrupt())
                        .as("L's EOI came through the ring, not as an exit")
                        .isGreaterThanOrEqualTo(1);
                assertThat(lapic.kicks())
                        .as("the drain kicked the spinning vCPU")
                        .isGreaterThanOrEqualTo(1);
            } else {
                assertThat(lapic.queuedEndsOfInterrupt()).isZero();
            }
        }
    }
}
