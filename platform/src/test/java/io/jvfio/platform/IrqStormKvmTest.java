package io.jvfio.platform;

import static org.assertj.core.api.Assertions.assertThat;

import io.jvfio.machine.Machine;
import io.jvfio.machine.MachineConfig;
import io.jvfio.machine.irqchip.IrqchipMode;
import io.jvfio.platform.config.DeviceSpecParser;
import io.jvfio.platform.config.PlatformDeviceConfig;
import io.jvfio.platform.irq.IrqController;
import io.jvfio.sys.testing.Tiers;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * An interrupt storm on both paths: an edge and a level line each raised again by the device on every
 * ACK (testdev's echo mode), so interrupts arrive back to back, the next often before the guest ended
 * the last. The guest's and the device's counts agree exactly, and (user-side) the machine's add up
 * (see the test for why they may fall short of the guest's on an emulated host); with the
 * seed's EOI heuristic on the in-kernel irqchip the level line may add spurious interrupts, and every
 * raise is still handled once. Each case runs on the irqchip the host gets by default and on jvfio's own,
 * where a level line is unmasked only at the guest's EOI and nothing is spurious.
 * The count per line is {@code jvfio.storm.interrupts} (default 1,000: under nested emulation an
 * interrupt costs milliseconds; on hardware KVM run it with 500,000 for the 1,000,000 of the reliability
 * figures). A guest that waits running instead of halted gets the same counts: the interrupt that arrives
 * while its handler runs waits for its interrupt window, which on jvfio's irqchip ends KVM_RUN
 * periodically until the window is open.
 */
@Tag(Tiers.KVM)
@Tag(Tiers.PROCESS)
@Tag(Tiers.STORM)
class IrqStormKvmTest {
    private static final int INTERRUPTS = Integer.getInteger("jvfio.storm.interrupts", 1_000);
    /** Whether this JVM runs in tools/nested's guest, whose KVM runs on TCG's emulation of SVM. */
    private static final boolean NESTED = "1".equals(System.getenv("JVFIO_NESTED"));

    private static final int BOTH_LINES = 0b11;
    private static final int MODE_ECHO = 3;
    /** testdev's flag: wait for interrupts running, with interrupts on only around a few nops. */
    private static final int FLAG_WAIT_RUNNING = 8;

    @TempDir
    static Path directory;

    private static ServedTestDevice served;

    @BeforeAll
    static void serve() throws Exception {
        Tiers.assumeKvm();
        served = ServedTestDevice.start(directory, 2);
    }

    @AfterAll
    static void stop() throws Exception {
        if (served != null) {
            served.close();
        }
    }

    static Stream<Arguments> cases() {
        return Stream.of(IrqchipMode.AUTO, IrqchipMode.OFF)
                .flatMap(irqchip -> Stream.of("", ",x-irqfd=off", ",x-irqfd=off,x-precise-eoi=off")
                        .map(properties -> Arguments.of(irqchip, properties)));
    }

    @ParameterizedTest(name = "kernel-irqchip={0}, device properties \"{1}\"")
    @MethodSource("cases")
    void everyInterruptIsDeliveredOnceAndCountedAlikeEverywhere(IrqchipMode irqchip, String properties)
            throws Exception {
        PlatformDeviceConfig config = DeviceSpecParser.parse(
                "vfio-platform,socket=" + served.socket() + ",x-reply-timeout-ms=120000" + properties);
        MachineConfig machineConfig = MachineConfig.builder()
                .guest("testdev")
                .args(INTERRUPTS, BOTH_LINES, MODE_ECHO)
                .irqchip(irqchip)
                .build();
        for (int attempt = 1; ; attempt++) {
            try (AssignedMachine assembly = AssignedMachine.create(machineConfig, List.of(config))) {
                Machine machine = assembly.machine();
                machine.start();
                int code = machine.awaitExit(Duration.ofMinutes(15));
                if (attempt == 1
                        && !properties.endsWith("x-precise-eoi=off")
                        && deliveredOnceMoreByTheNestedGuestsKvm(machine)) {
                    continue;
                }
                checkCounts(machine, code, assembly.devices().getFirst(), properties);
                return;
            }
        }
    }

    private static void checkCounts(Machine machine, int code, VfioPlatformDevice device, String properties) {
        List<Integer> reports = machine.reports();
        if (properties.endsWith("x-precise-eoi=off") && machine.irqchip().inKernel()) {
            // The seed's EOI comes with the handler's STATUS read, before its ACK, so the unmask
            // re-fires the level line the device still asserts. Most re-fires are ended by the ACK's
            // own trapped access; one that lands after it reaches the guest as a spurious interrupt,
            // which the guest acks and counts and then calls a failure. QEMU's heuristic pays the
            // same (docs/irq-state-machine.md); what must hold is that every raise is handled once.
            int spurious = reports.get(6);
            assertThat(code).as(machine.console()).isEqualTo(spurious == 0 ? 0 : 1);
            assertThat(reports.get(1)).as("line 0 raised").isEqualTo(INTERRUPTS);
            assertThat(reports.get(4)).as("line 1 raised").isEqualTo(INTERRUPTS);
            assertThat(reports.get(2)).as("line 0 acked as often as handled").isEqualTo(reports.get(0));
            assertThat(reports.get(5)).as("line 1 acked as often as handled").isEqualTo(reports.get(3));
            assertThat(reports.get(0) + reports.get(3))
                    .as("both lines' handled: every raise, plus the spurious")
                    .isEqualTo(2 * INTERRUPTS + spurious);
            return;
        }
        assertThat(code).as(machine.console()).isZero();
        assertThat(reports)
                .as("per line handled, raised, acked; then spurious")
                .containsExactly(INTERRUPTS, INTERRUPTS, INTERRUPTS, INTERRUPTS, INTERRUPTS, INTERRUPTS, 0);
        if (properties.equals(",x-irqfd=off")) {
            // jvfio's counts add up, and it read and injected every raise but those a guest handled
            // without it: under TCG's emulated SVM the nested guest's KVM now and then delivers one
            // injection twice (traced with kvm_inj_virq: the guest handled 1,000 interrupts of the edge
            // line for 999 fresh injections of its vector, the 1,000th a "reinjection"), and the guest's
            // ACK of the repeat consumes a raise early: an edge's next signal then finds the line still
            // in service and is coalesced, or comes in one read with the one after it; a level line's
            // raise is taken before its line is unmasked, and never signals. The guest's counts above
            // are exact on every host; these fall short by the repeats, bounded here by 1%: a signal
            // jvfio lost or never injected would have stopped the echo chain.
            long atLeast = INTERRUPTS - INTERRUPTS / 100;
            IrqController controller = device.irqController().orElseThrow();
            for (int line : List.of(0, 1)) {
                IrqController.IrqCounters counters = controller.counters(line);
                assertThat(counters.signals())
                        .as("line %d signals (%s)", line, counters)
                        .isBetween(atLeast, (long) INTERRUPTS);
                assertThat(counters.injections())
                        .as("line %d injections (%s)", line, counters)
                        .isBetween(atLeast, (long) INTERRUPTS);
                assertThat(counters.eois())
                        .as("line %d EOIs (%s)", line, counters)
                        .isEqualTo(counters.injections());
                assertThat(counters.triggers())
                        .as("line %d triggers (%s)", line, counters)
                        .isEqualTo(counters.injections() + counters.coalesced() + counters.cancelledByReset());
            }
            assertThat(controller.pendingQueue()).isEmpty();
            assertThat(controller.deviceCounters().pendingPeak())
                    .as("an IRQ queues at most once")
                    .isLessThanOrEqualTo(2);
        }
    }

    /**
     * Whether this run, in tools/nested's guest on KVM's own irqchip, failed the one way that guest's KVM
     * makes a storm fail now and then: it delivered an injection twice (under TCG's emulated SVM, traced with
     * kvm_inj_virq; tools/nested/README.md), and the repeat found no next raise in STATUS to take as its own:
     * one line handled and acked once more than raised, that one delivery spurious, all else exact. Such a
     * run is said and run once more; twice fails. Never on any other host, nor on jvfio's irqchip, which
     * injects each interrupt itself.
     */
    private static boolean deliveredOnceMoreByTheNestedGuestsKvm(Machine machine) {
        if (!NESTED || !machine.irqchip().inKernel()) {
            return false;
        }
        List<Integer> reports = machine.reports();
        List<Integer> exact = List.of(INTERRUPTS, INTERRUPTS, INTERRUPTS);
        List<Integer> onceMore = List.of(INTERRUPTS + 1, INTERRUPTS, INTERRUPTS + 1);
        boolean repeated = reports.size() == 7
                && reports.get(6) == 1
                && ((reports.subList(0, 3).equals(onceMore)
                                && reports.subList(3, 6).equals(exact))
                        || (reports.subList(0, 3).equals(exact)
                                && reports.subList(3, 6).equals(onceMore)));
        if (repeated) {
            System.err.println("one interrupt delivered twice by the nested guest's KVM (" + reports
                    + "; tools/nested/README.md): running the case once more, which must be exact");
        }
        return repeated;
    }

    static Stream<Arguments> runningGuestCases() {
        return Stream.of(IrqchipMode.AUTO, IrqchipMode.OFF)
                .flatMap(irqchip -> Stream.of("", ",x-irqfd=off").map(properties -> Arguments.of(irqchip, properties)));
    }

    @ParameterizedTest(name = "kernel-irqchip={0}, device properties \"{1}\"")
    @MethodSource("runningGuestCases")
    void aGuestThatWaitsRunningTakesEveryInterruptOnce(IrqchipMode irqchip, String properties) throws Exception {
        PlatformDeviceConfig config = DeviceSpecParser.parse(
                "vfio-platform,socket=" + served.socket() + ",x-reply-timeout-ms=120000" + properties);
        MachineConfig machineConfig = MachineConfig.builder()
                .guest("testdev")
                .args(INTERRUPTS, BOTH_LINES, MODE_ECHO, 0, FLAG_WAIT_RUNNING)
                .irqchip(irqchip)
                .build();
        for (int attempt = 1; ; attempt++) {
            try (AssignedMachine assembly = AssignedMachine.create(machineConfig, List.of(config))) {
                Machine machine = assembly.machine();
                machine.start();
                int code = machine.awaitExit(Duration.ofMinutes(15));
                if (attempt == 1 && deliveredOnceMoreByTheNestedGuestsKvm(machine)) {
                    continue;
                }

                assertThat(code).as(machine.console()).isZero();
                assertThat(machine.reports())
                        .as("per line handled, raised, acked; then spurious")
                        .containsExactly(INTERRUPTS, INTERRUPTS, INTERRUPTS, INTERRUPTS, INTERRUPTS, INTERRUPTS, 0);
                return;
            }
        }
    }
}
