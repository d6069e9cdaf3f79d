package io.jvfio.machine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jvfio.machine.boot.BootInfo;
import io.jvfio.machine.bus.MmioDevice;
import io.jvfio.machine.irqchip.IrqchipMode;
import io.jvfio.machine.irqchip.UserIrqchip;
import io.jvfio.sys.ErrnoException;
import io.jvfio.sys.EventFd;
import io.jvfio.sys.Mapping;
import io.jvfio.sys.testing.CapturedLog;
import io.jvfio.sys.testing.Resources;
import io.jvfio.sys.testing.ThreadReport;
import io.jvfio.sys.testing.Tiers;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Real guests on real KVM (the jvfio-guests images). Interrupt tests run on the irqchip the host gets by
 * default (auto) and on jvfio's own (off); where the default is KVM's in-kernel irqchip they use KVM
 * irqfds, on jvfio's own the line and its EOI notifications, which play the irqfd and resamplefd's part.
 */
@Tag(Tiers.KVM)
class MachineKvmTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(60);
    /**
     * A create/close cycle takes well under a second, even nested; the guest's own TIMEOUT fits inside, so a
     * guest that never exits fails with its console and only a hang gets the thread report.
     */
    private static final Duration CYCLE_LIMIT = TIMEOUT.plusSeconds(30);

    @BeforeEach
    void needsKvm() {
        Tiers.assumeKvm();
    }

    private static MachineConfig.Builder guest(String name, long... args) throws Exception {
        return MachineConfig.builder().guest(name).args(args);
    }

    /** A device backed by an array that records every access. */
    static final class RecordingDevice implements MmioDevice {
        final List<String> accesses = new CopyOnWriteArrayList<>();
        final byte[] memory = new byte[0x1000];

        @Override
        public synchronized long read(long offset, int size) {
            long value = 0;
            for (int i = size - 1; i >= 0; i--) {
                value = value << 8 | (memory[(int) offset + i] & 0xFF);
            }
            accesses.add("r " + offset + " " + size);
            return value;
        }

        @Override
        public synchronized void write(long offset, int size, long value) {
            for (int i = 0; i < size; i++) {
                memory[(int) offset + i] = (byte) (value >>> (8 * i));
            }
            accesses.add("w " + offset + " " + size + " " + Long.toHexString(value));
        }
    }

    @Test
    void helloGuestPrintsReportsAndExitsWithTheTestsCode() throws Exception {
        try (Machine machine = Machine.create(guest("hello", 42).build())) {
            machine.start();
            assertThat(machine.awaitExit(TIMEOUT)).isEqualTo(42);
            assertThat(machine.console()).isEqualTo("hello from guest\n");
            assertThat(machine.reports()).containsExactly(0xC0FFEE);
        }
    }

    @ParameterizedTest
    @EnumSource(
            value = IrqchipMode.class,
            names = {"AUTO", "OFF"})
    void aTripleFaultStopsTheMachineWithTheFaultingVcpusRegisters(IrqchipMode irqchip) throws Exception {
        try (Machine machine = Machine.create(guest("triple").irqchip(irqchip).build())) {
            machine.start();
            assertThatThrownBy(() -> machine.awaitExit(TIMEOUT))
                    .isInstanceOfSatisfying(GuestFailedException.class, failed -> {
                        String reason = failed.reason();
                        assertThat(reason).startsWith("the guest triple-faulted (KVM_EXIT_SHUTDOWN) on vcpu 0: ");
                        // KVM on Intel keeps the faulting registers; on AMD (the nested guest's) it resets the vCPU.
                        if (reason.contains("where is unknown")) {
                            assertThat(reason)
                                    .endsWith("KVM put the vCPU back in its reset state (as on AMD,"
                                            + " whose VMCB is undefined after a shutdown)");
                        } else {
                            assertThat(reason).contains("rip=0x", "cr0=0x8", "idt=0x0+0x0");
                        }
                    });
            assertThat(machine.console()).isEqualTo("triple\n");
        }
    }

    /**
     * CR8 and the LAPIC's TPR are one register to the guest: on jvfio's irqchip the machine hands KVM the
     * TPR's class as CR8 at each entry and takes back a CR8 the guest wrote at each exit, and a lowered
     * CR8 (KVM_EXIT_SET_TPR) lets the interrupt it held back in.
     */
    @ParameterizedTest(name = "kernel-irqchip={0}")
    @EnumSource(
            value = IrqchipMode.class,
            names = {"AUTO", "OFF"})
    void cr8IsTheTaskPriorityClassAndHoldsInterruptsBack(IrqchipMode irqchip) throws Exception {
        try (Machine machine = Machine.create(guest("tpr").irqchip(irqchip).build())) {
            machine.start();
            assertThat(machine.awaitExit(TIMEOUT)).as(machine::console).isZero();
            assertThat(machine.reports())
                    .as("TPR after CR8 = 5, taken while held, taken after CR8 = 0, CR8 after TPR 0x60 and 0")
                    .containsExactly(0x50, 0, 1, 6, 0);
        }
    }

    /**
     * A guest that does not get on can be asked where it is: waiting with interrupts on and the device's
     * vector nowhere, then stuck in its handler (the irq guest's ack mode 2: it acks and halts with interrupts off,
     * never sending the EOI) with the device's vector in service. On KVM's irqchip the vCPU's thread reads
     * its registers and KVM's LAPIC at the exit the kick makes; on jvfio's, a vCPU halted with interrupts
     * off waits in jvfio's irqchip for good, and unless the kick found it before its hlt the answer is
     * jvfio's LAPIC and where the thread waits.
     */
    @ParameterizedTest(name = "kernel-irqchip={0}")
    @EnumSource(
            value = IrqchipMode.class,
            names = {"AUTO", "OFF"})
    void aStuckGuestsVcpuSaysWhereItIsAndWhichVectorIsInService(IrqchipMode irqchip) throws Exception {
        CountDownLatch acked = new CountDownLatch(1);
        MmioDevice ackRegister = ackRegister(acked::countDown);
        int[] gsi = new int[1];
        try (Machine machine = irqMachine(irqchip, 1, 0, 2, ackRegister, gsi)) {
            machine.start();
            String waiting = awaitState(machine, "interrupts on");
            assertThat(waiting).as("waiting in sti; hlt: nothing raised yet").doesNotContain("0x30");

            machine.irqLine(gsi[0]).raise();
            assertThat(acked.await(TIMEOUT.toSeconds(), TimeUnit.SECONDS)).isTrue();
            String stuck = machine.vcpuState(0, Duration.ofSeconds(2));

            assertThat(stuck).as("stuck in the handler").contains("ISR {0x30}");
            if (stuck.startsWith("rip=")) {
                assertThat(stuck).contains("(interrupts off)");
            } else {
                assertThat(machine.irqchip().inKernel())
                        .as("only jvfio's irqchip keeps a halted vCPU's thread: " + stuck)
                        .isFalse();
                assertThat(stuck).contains("not read by its thread", "jvfio-vcpu-0 in " + UserIrqchip.class.getName());
            }
            machine.stop();
            assertThat(machine.vcpuState(0, TIMEOUT)).isEqualTo("the machine has ended: Stopped[]");
        }
    }

    /** The vCPU's state once it says {@code expected}: the guest may still be on its way to its wait. */
    private static String awaitState(Machine machine, String expected) throws InterruptedException {
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        String state;
        do {
            state = machine.vcpuState(0, TIMEOUT);
        } while (!state.contains(expected) && System.nanoTime() - deadline < 0);
        assertThat(state).contains(expected);
        return state;
    }

    /** A register whose accesses wait until the test lets them go: a device handler that does not return. */
    static final class HeldDevice implements MmioDevice {
        final CountDownLatch entered = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);

        @Override
        public long read(long offset, int size) {
            hold();
            return 0;
        }

        @Override
        public void write(long offset, int size, long value) {
            hold();
        }

        private void hold() {
            entered.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    @Test
    void closeSaysWhichHandlerHoldsAVcpuThreadItWaitsFor() throws Exception {
        HeldDevice device = new HeldDevice();
        Machine machine = Machine.create(guest("mmio", 1).build());
        Thread closer = null;
        try (CapturedLog logged = new CapturedLog(Machine.class)) {
            long base = machine.platformBus().allocateMmio(0x1000);
            machine.mmio().add("held", base, 0x1000, device);
            machine.addDevice(new BootInfo.Device("jvfio,held", List.of(new BootInfo.Region(base, 0x1000)), List.of()));
            machine.start();
            assertThat(device.entered.await(TIMEOUT.toSeconds(), TimeUnit.SECONDS))
                    .as("the guest's first access reached the handler")
                    .isTrue();

            closer = Thread.ofPlatform().name("closer").start(machine::close);
            long deadline = System.nanoTime() + TIMEOUT.toNanos();
            while (logged.count("closing the machine") == 0 && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }

            assertThat(logged.messages())
                    .filteredOn(message -> message.startsWith("closing the machine"))
                    .first()
                    .asString()
                    .contains("vCPU threads held outside KVM_RUN: jvfio-vcpu-0 in " + HeldDevice.class.getName() + ".");
            assertThat(closer.isAlive()).as("close still waits").isTrue();
        } finally {
            device.release.countDown();
            if (closer != null) {
                closer.join(TIMEOUT.toMillis());
                assertThat(closer.isAlive())
                        .as("close ends once the handler returns")
                        .isFalse();
            }
            machine.close();
        }
    }

    @Test
    void mmioGuestReachesTheTestDeviceWithAddressSizeAndData() throws Exception {
        try (Machine machine = Machine.create(guest("mmio", 1).build())) {
            long base = machine.platformBus().allocateMmio(0x1000);
            RecordingDevice device = new RecordingDevice();
            machine.mmio().add("test-device", base, 0x1000, device);
            machine.addDevice(
                    new BootInfo.Device("jvfio,test-device", List.of(new BootInfo.Region(base, 0x1000)), List.of()));
            machine.start();
            assertThat(machine.awaitExit(TIMEOUT)).isZero();
            assertThat(device.accesses)
                    .containsExactly(
                            "w 0 1 11",
                            "r 0 1",
                            "w 8 2 2222",
                            "r 8 2",
                            "w 16 4 33333333",
                            "r 16 4",
                            "w 24 8 4444444444444444",
                            "r 24 8");
            assertThat(machine.reports()).containsExactly(0x11, 0x2222, 0x33333333, 0x44444444, 0x44444444);
        }
    }

    /** What the irq guest's ack write does on the host; a failed line or eventfd call fails the access. */
    @FunctionalInterface
    interface AckAction {
        void acked() throws ErrnoException;
    }

    /** The irq guest's ack register: reads as 0, and each write runs {@code action}. */
    private static MmioDevice ackRegister(AckAction action) {
        return new MmioDevice() {
            @Override
            public long read(long offset, int size) {
                return 0;
            }

            @Override
            public void write(long offset, int size, long value) {
                try {
                    action.acked();
                } catch (ErrnoException e) {
                    throw new IllegalStateException(e);
                }
            }
        };
    }

    private static Machine irqMachine(
            IrqchipMode irqchip, long count, long level, long ack, MmioDevice device, int[] gsiOut) throws Exception {
        Machine machine = Machine.create(
                guest("irq", count, level, ack, 0).irqchip(irqchip).build());
        long base = machine.platformBus().allocateMmio(0x1000);
        int gsi = machine.platformBus().allocateGsi();
        gsiOut[0] = gsi;
        machine.mmio().add("irq-device", base, 0x1000, device);
        machine.addDevice(
                new BootInfo.Device("jvfio,irq-device", List.of(new BootInfo.Region(base, 0x1000)), List.of(gsi)));
        return machine;
    }

    @ParameterizedTest(name = "kernel-irqchip={0}")
    @EnumSource(
            value = IrqchipMode.class,
            names = {"AUTO", "OFF"})
    void levelInterruptsViaIrqLineAreCountedAlikeByGuestAndHost(IrqchipMode irqchip) throws Exception {
        int wanted = 20;
        AtomicInteger acks = new AtomicInteger();
        IrqLine[] line = new IrqLine[1];
        MmioDevice ackRegister = ackRegister(() -> {
            line[0].lower();
            if (acks.incrementAndGet() < wanted) {
                line[0].raise();
            }
        });
        int[] gsi = new int[1];
        try (Machine machine = irqMachine(irqchip, wanted, 1, 1, ackRegister, gsi)) {
            line[0] = machine.irqLine(gsi[0]);
            line[0].raise();
            machine.start();
            assertThat(machine.awaitExit(TIMEOUT)).isZero();
            assertThat(machine.reports()).containsExactly(wanted);
            assertThat(acks.get()).isEqualTo(wanted);
        }
    }

    @ParameterizedTest(name = "kernel-irqchip={0}")
    @EnumSource(
            value = IrqchipMode.class,
            names = {"AUTO", "OFF"})
    void edgeInterruptsViaIrqfdAreCountedAlikeByGuestAndHost(IrqchipMode irqchip) throws Exception {
        int wanted = 20;
        AtomicInteger fired = new AtomicInteger();
        try (EventFd trigger = EventFd.create()) {
            MmioDevice ackRegister = ackRegister(() -> {
                if (fired.get() < wanted) {
                    fired.incrementAndGet();
                    trigger.signal();
                }
            });
            int[] gsi = new int[1];
            try (Machine machine = irqMachine(irqchip, wanted, 0, 1, ackRegister, gsi)) {
                boolean inKernel = machine.irqchip().inKernel();
                IrqLine line = machine.irqLine(gsi[0]);
                if (inKernel) {
                    line.registerIrqfd(trigger, Optional.empty());
                } else {
                    machine.eventLoop().register(trigger, n -> pulse(line));
                }
                machine.start();
                waitUntilUnmasked(machine, gsi[0]);
                fired.incrementAndGet();
                trigger.signal();
                assertThat(machine.awaitExit(TIMEOUT)).isZero();
                assertThat(machine.reports()).containsExactly(wanted);
                assertThat(fired.get()).isEqualTo(wanted);
                if (inKernel) {
                    line.unregisterIrqfd(trigger);
                }
            }
        }
    }

    @ParameterizedTest(name = "kernel-irqchip={0}")
    @EnumSource(
            value = IrqchipMode.class,
            names = {"AUTO", "OFF"})
    void levelInterruptsViaIrqfdWithResampleReassertOnEachEoi(IrqchipMode irqchip) throws Exception {
        int wanted = 20;
        AtomicInteger fired = new AtomicInteger();
        AtomicInteger resamples = new AtomicInteger();
        try (EventFd trigger = EventFd.create();
                EventFd resample = EventFd.create()) {
            int[] gsi = new int[1];
            try (Machine machine = irqMachine(irqchip, wanted, 1, 0, new RecordingDevice(), gsi)) {
                if (machine.irqchip().inKernel()) {
                    machine.irqLine(gsi[0]).registerIrqfd(trigger, Optional.of(resample));
                } else {
                    IrqLine line = machine.irqLine(gsi[0]);
                    machine.eventLoop().register(trigger, n -> set(line, true));
                    line.resampleOnEndOfInterrupt(() -> signal(resample));
                }
                machine.eventLoop().register(resample, n -> {
                    resamples.addAndGet((int) n);
                    if (fired.get() < wanted) {
                        fired.incrementAndGet();
                        signal(trigger);
                    }
                });
                fired.incrementAndGet();
                trigger.signal();
                machine.start();
                assertThat(machine.awaitExit(TIMEOUT)).isZero();
                assertThat(machine.reports()).containsExactly(wanted);
                assertThat(fired.get()).isEqualTo(wanted);
                long deadline = System.nanoTime() + 5_000_000_000L;
                while (resamples.get() < wanted && System.nanoTime() < deadline) {
                    Thread.sleep(5);
                }
                assertThat(resamples.get()).isEqualTo(wanted);
            }
        }
    }

    private static void set(IrqLine line, boolean level) {
        try {
            line.set(level);
        } catch (ErrnoException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void pulse(IrqLine line) {
        try {
            line.pulse();
        } catch (ErrnoException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void signal(EventFd fd) {
        try {
            fd.signal();
        } catch (ErrnoException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void waitUntilUnmasked(Machine machine, int pin) throws Exception {
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        while ((machine.ioapicRedirectionEntry(pin) & (1L << 16)) != 0) {
            assertThat(System.nanoTime()).as("guest unmasks IOAPIC pin " + pin).isLessThan(deadline);
            Thread.sleep(1);
        }
    }

    @Test
    void subregionWritesTrapOnlyWhileUnmappedAndAllLandInSharedMemory() throws Exception {
        int rounds = 40;
        SubregionRun run = runSubregion(rounds, false);
        assertThat(run.errors).isEmpty();
        assertThat(run.round.get()).isEqualTo(rounds);
        // Off at start (round 1 traps); after round r the region is mapped iff r is even, so the even
        // rounds trap and the odd ones after the first go straight to memory.
        assertThat(run.trappedWrites.get()).isEqualTo((rounds / 2 + 1) * 16);
    }

    @Test
    void subregionTogglingFromAnotherThreadWhileTheGuestRunsLosesNoWrite() throws Exception {
        int rounds = 200;
        SubregionRun run = runSubregion(rounds, true);
        assertThat(run.errors).isEmpty();
        assertThat(run.round.get()).isEqualTo(rounds);
        assertThat(run.toggles.get()).as("a toggle before every round").isGreaterThanOrEqualTo(rounds);
    }

    @Test
    void subregionsThatComeAndGoReuseTheirSlotNumberInsteadOfRunningKvmOutOfSlots() throws Exception {
        try (Mapping memory = Mapping.anonymous(0x1000, "subregion memory");
                Machine machine = Machine.create(guest("hello").build())) {
            long first = machine.platformBus().allocateMmio(0x1000);
            long second = machine.platformBus().allocateMmio(0x1000);
            Set<Integer> numbers = new HashSet<>();
            // more than the 509 slots of older KVMs; each one mapped, so KVM holds it until its close
            for (int i = 0; i < 600; i++) {
                SwitchableRegion region = machine.addSubregion("sub" + i, i % 2 == 0 ? first : second, memory);
                region.setMapped(true);
                numbers.add(region.slot());
                region.close();
            }
            assertThat(numbers).hasSize(1);
        }
    }

    private static final class SubregionRun {
        final AtomicInteger trappedWrites = new AtomicInteger();
        final AtomicInteger round = new AtomicInteger();
        final AtomicInteger toggles = new AtomicInteger();
        final List<String> errors = new CopyOnWriteArrayList<>();
        /** The toggles there had been when the last round started; only the vCPU thread's. */
        int togglesAtLastRound;

        /**
         * Holds the guest's next round until the toggler has toggled since the last one: on a fast host
         * the 200 rounds would otherwise end within the toggler's first sleep, and no toggle would land
         * while the guest writes.
         */
        void awaitAToggleSinceTheLastRound() {
            long deadline = System.nanoTime() + TIMEOUT.toNanos();
            while (toggles.get() == togglesAtLastRound) {
                if (System.nanoTime() > deadline) {
                    errors.add("the toggler did not toggle within " + TIMEOUT + " before round " + (round.get() + 1));
                    return;
                }
                LockSupport.parkNanos(100_000);
            }
            togglesAtLastRound = toggles.get();
        }
    }

    private static SubregionRun runSubregion(int rounds, boolean concurrentToggler) throws Exception {
        SubregionRun run = new SubregionRun();
        try (Mapping shared = Mapping.anonymous(0x1000, "subregion memory")) {
            SwitchableRegion[] region = new SwitchableRegion[1];
            MmioDevice trapped = new MmioDevice() {
                @Override
                public long read(long offset, int size) {
                    return shared.read(offset, size);
                }

                @Override
                public void write(long offset, int size, long value) {
                    run.trappedWrites.incrementAndGet();
                    shared.write(offset, size, value);
                }
            };
            MmioDevice control = new MmioDevice() {
                @Override
                public long read(long offset, int size) {
                    if (offset != 0) {
                        return 0;
                    }
                    if (concurrentToggler) {
                        run.awaitAToggleSinceTheLastRound();
                    }
                    return run.round.incrementAndGet();
                }

                @Override
                public void write(long offset, int size, long value) {
                    for (int i = 0; i < 16; i++) {
                        int word = shared.getInt(4L * i);
                        if (word != (((int) value << 16) | i)) {
                            run.errors.add("round " + value + " word " + i + " = 0x" + Integer.toHexString(word));
                        }
                    }
                    if (!concurrentToggler) {
                        try {
                            region[0].setMapped(value % 2 == 0);
                        } catch (ErrnoException e) {
                            run.errors.add(e.getMessage());
                        }
                    }
                }
            };
            try (Machine machine = Machine.create(guest("subregion", rounds).build())) {
                long controlBase = machine.platformBus().allocateMmio(0x1000);
                long dataBase = machine.platformBus().allocateMmio(0x1000);
                machine.mmio().add("control", controlBase, 0x1000, control);
                region[0] = machine.addSwitchableRegion("data", dataBase, 0x1000, trapped, 0, shared);
                machine.addDevice(new BootInfo.Device(
                        "jvfio,subregion",
                        List.of(new BootInfo.Region(controlBase, 0x1000), new BootInfo.Region(dataBase, 0x1000)),
                        List.of()));
                machine.start();
                Thread toggler = null;
                if (concurrentToggler) {
                    toggler = Thread.ofPlatform().start(() -> {
                        try {
                            while (machine.outcomeIfEnded() == null) {
                                region[0].setMapped(!region[0].isMapped());
                                run.toggles.incrementAndGet();
                                Thread.sleep(1);
                            }
                        } catch (ErrnoException | InterruptedException e) {
                            run.errors.add("toggler: " + e);
                        }
                    });
                }
                assertThat(machine.awaitExit(TIMEOUT)).isZero();
                if (toggler != null) {
                    toggler.join();
                }
            }
        }
        return run;
    }

    @ParameterizedTest(name = "kernel-irqchip={0}")
    @EnumSource(
            value = IrqchipMode.class,
            names = {"AUTO", "OFF"})
    void twoHundredCreateCloseCyclesLeakNoFdMappingOrThread(IrqchipMode irqchip) throws Exception {
        MachineConfig config = guest("hello", 7).irqchip(irqchip).build();
        // The cycles run on one daemon thread so that a cycle that hangs (in create, the guest or close)
        // fails the test with where every thread waits, instead of stalling the run silently.
        ExecutorService cycles = Executors.newSingleThreadExecutor(
                Thread.ofPlatform().name("create-close-cycles").daemon(true).factory());
        try {
            runOnce(cycles, config, 0);
            int fds = Resources.openFds();
            int mappings = Resources.mappings();
            int guestRam = Resources.mappings("jvfio-guest-ram");
            int vcpuRuns = Resources.mappings("kvm-vcpu");
            Set<Thread> threads = Resources.liveThreads();
            long start = System.nanoTime();
            for (int i = 1; i <= 200; i++) {
                runOnce(cycles, config, i);
                if (i % 20 == 0) {
                    System.err.printf(
                            "create/close cycle %d: %d ms so far%n", i, (System.nanoTime() - start) / 1_000_000);
                }
            }
            assertThat(Resources.openFds()).isEqualTo(fds);
            assertThat(Resources.threadsStartedSince(threads))
                    .as("threads the cycles left")
                    .isEmpty();
            assertThat(Resources.mappings("jvfio-guest-ram"))
                    .as("guest RAM mappings")
                    .isEqualTo(guestRam);
            assertThat(Resources.mappings("kvm-vcpu")).as("kvm_run mappings").isEqualTo(vcpuRuns);
            // The JVM maps more as it runs (code cache, heap regions, malloc arenas), by a few dozen at
            // most; a mapping leaked per cycle would add 200.
            assertThat(Resources.mappings()).isLessThanOrEqualTo(mappings + 64);
        } finally {
            cycles.shutdownNow();
        }
    }

    /** One create/start/await/close cycle on {@code cycles}; one that outlasts CYCLE_LIMIT fails with a thread report. */
    private static void runOnce(ExecutorService cycles, MachineConfig config, int cycle) throws Exception {
        Future<?> done = cycles.submit(() -> {
            try (Machine machine = Machine.create(config)) {
                machine.start();
                assertThat(machine.awaitExit(TIMEOUT)).isEqualTo(7);
            }
            return null;
        });
        try {
            done.get(CYCLE_LIMIT.toSeconds(), TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            switch (e.getCause()) {
                case Exception cause -> throw cause;
                case Error cause -> throw cause;
                default -> throw e;
            }
        } catch (TimeoutException e) {
            String report = ThreadReport.now();
            System.err.println("create/close cycle " + cycle + " still runs after " + CYCLE_LIMIT + ":\n" + report);
            throw new AssertionError("create/close cycle " + cycle + " hangs (thread report on stderr)", e);
        }
    }

    @ParameterizedTest(name = "kernel-irqchip={0}")
    @EnumSource(
            value = IrqchipMode.class,
            names = {"AUTO", "OFF"})
    void closingARunningGuestStopsItsVcpuPromptly(IrqchipMode irqchip) throws Exception {
        Set<Thread> threads = Resources.liveThreads();
        Machine machine = Machine.create(guest("spin").irqchip(irqchip).build());
        machine.start();
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        while (!machine.console().contains("spin") && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        long start = System.nanoTime();
        machine.close();
        assertThat(System.nanoTime() - start).isLessThan(5_000_000_000L);
        assertThat(machine.awaitOutcome(Duration.ofSeconds(1))).isEqualTo(new MachineExit.Stopped());
        assertThat(Resources.threadsStartedSince(threads))
                .as("threads the machine left")
                .isEmpty();
    }
}
