package io.jvfio.platform;

import static org.assertj.core.api.Assertions.assertThat;

import io.jvfio.devices.testdevice.TestDeviceRegisters;
import io.jvfio.machine.Machine;
import io.jvfio.machine.MachineConfig;
import io.jvfio.platform.config.DeviceSpecParser;
import io.jvfio.platform.config.PlatformDeviceConfig;
import io.jvfio.platform.irq.IrqController;
import io.jvfio.platform.irq.IrqState;
import io.jvfio.sys.testing.CapturedLog;
import io.jvfio.sys.testing.Resources;
import io.jvfio.sys.testing.Tiers;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The device process dies (SIGKILL) while a guest runs with the device's IRQs in flight: the machine
 * keeps running and sees absent hardware. The guest is {@code spin} (it halts with interrupts on and
 * no IOAPIC pin routed), so the run is deterministic: the test itself raises the IRQs through the
 * device's RAISE register and, after the kill, makes the accesses a guest driver would, through the
 * machine's MMIO bus, exactly as a vCPU's exit would.
 */
@Tag(Tiers.KVM)
@Tag(Tiers.PROCESS)
class DeviceFaultKvmTest {
    /** As in PlatformAssignmentKvmTest: a fresh JVM answers slowly under software emulation. */
    private static final String REPLY_TIMEOUT = ",x-reply-timeout-ms=120000";

    private static final Duration BOUND = Duration.ofSeconds(60);
    private static final long ALL_ONES_32 = 0xFFFF_FFFFL;

    @TempDir
    Path directory;

    @Test
    @Timeout(value = 10, unit = TimeUnit.MINUTES)
    void killedDeviceProcessLeavesTheMachineRunningWithAbsentHardwareAndFreesEverythingOnClose() throws Exception {
        Tiers.assumeKvm();
        ServedTestDevice served = ServedTestDevice.start(directory, 2);
        CapturedLog logged = new CapturedLog(VfioPlatformDevice.class, PlatformRegion.class);
        int fdsBefore = Resources.openFdsOtherThanJars();
        Set<Thread> threadsBefore = Resources.liveThreads();
        try {
            PlatformDeviceConfig config =
                    DeviceSpecParser.parse("vfio-platform,socket=" + served.socket() + REPLY_TIMEOUT + ",x-irqfd=off");
            AssignedMachine assembly =
                    AssignedMachine.create(MachineConfig.builder().guest("spin").build(), List.of(config));
            Machine machine = assembly.machine();
            VfioPlatformDevice device = assembly.devices().getFirst();
            try {
                machine.start();
                awaitConsole(machine, "spin");
                long registers =
                        device.regions().get(TestDeviceRegisters.REGS_REGION).guestBase();
                IrqController controller = device.irqController().orElseThrow();
                assertThat(within(() -> machine.mmio().read(registers + TestDeviceRegisters.ID, 4)))
                        .as("the device answers before the kill")
                        .isEqualTo((long) TestDeviceRegisters.ID_VALUE);
                assertThat(device.regions().get(TestDeviceRegisters.RAM_REGION).fastPathMapped())
                        .as("RAM is mapped before any IRQ")
                        .isTrue();

                within(() -> {
                    machine.mmio().write(registers + TestDeviceRegisters.RAISE, 4, 0b11);
                    return null;
                });
                awaitActive(controller);

                served.kill();
                long killed = System.nanoTime();
                assertThat(within(() -> machine.mmio().read(registers + TestDeviceRegisters.STATUS, 4)))
                        .as("a read of a dead device's register")
                        .isEqualTo(ALL_ONES_32);
                long detectMillis = (System.nanoTime() - killed) / 1_000_000L;
                assertThat(detectMillis)
                        .as("a killed peer is seen at once (closed socket), not by the 120 s reply" + " timeout")
                        .isLessThan(30_000L);
                within(() -> {
                    machine.mmio().write(registers + TestDeviceRegisters.ACK, 4, 0b11);
                    return null;
                });
                for (int size : new int[] {1, 2, 4, 8}) {
                    long expected = size == 8 ? -1L : (1L << (8 * size)) - 1;
                    assertThat(within(() -> machine.mmio().read(registers + TestDeviceRegisters.ID, size)))
                            .as("%d-byte read after the kill", size)
                            .isEqualTo(expected);
                }

                assertThat(device.gone()).as("the device says it is gone").isPresent();
                assertThat(device.gone().orElseThrow()).isNotBlank();
                VfioPlatformDevice.PlacedRegion regs = device.regions().get(TestDeviceRegisters.REGS_REGION);
                assertThat(regs.failedAccesses())
                        .as("accesses answered without the device")
                        .isGreaterThanOrEqualTo(6);
                assertThat(device.regions().get(TestDeviceRegisters.RAM_REGION).fastPathMapped())
                        .as("the dead device's RAM is unmapped")
                        .isFalse();
                for (int irq = 0; irq < controller.irqCount(); irq++) {
                    assertThat(controller.state(irq))
                            .as("IRQ %d after the kill", irq)
                            .isEqualTo(IrqState.INACTIVE);
                }
                assertThat(controller.pendingQueue()).isEmpty();
                long endedByTheDeath = 0;
                for (int irq = 0; irq < controller.irqCount(); irq++) {
                    IrqController.IrqCounters counts = controller.counters(irq);
                    assertThat(counts.triggers())
                            .as("IRQ %d: each trigger injected, coalesced or cancelled (%s)", irq, counts)
                            .isEqualTo(counts.injections() + counts.coalesced() + counts.cancelledByReset());
                    assertThat(counts.injections())
                            .as("IRQ %d: each injection ended, at an EOI or by the death's reset (%s)", irq, counts)
                            .isEqualTo(counts.eois() + counts.endedByReset());
                    endedByTheDeath += counts.endedByReset();
                }
                assertThat(endedByTheDeath)
                        .as("the IRQ in service when the first access found the device gone is ended by the reset")
                        .isPositive();

                Thread.sleep(1500);
                assertThat(machine.outcomeIfEnded())
                        .as("the machine keeps running")
                        .isNull();
                assertThat(device.regions().get(TestDeviceRegisters.RAM_REGION).fastPathMapped())
                        .as("past the mmap timer the dead device's RAM stays unmapped")
                        .isFalse();
                assertThat(logged.count("the device is gone"))
                        .as("the loss is logged once, however many accesses follow: " + logged.messages())
                        .isEqualTo(1);
                assertThat(logged.count("reads answer all-ones, writes are dropped"))
                        .as("accesses to the dead device are counted, not logged one by one")
                        .isZero();
            } finally {
                within(() -> {
                    assembly.close();
                    return null;
                });
            }
        } finally {
            logged.close();
            served.close();
        }
        assertThat(Resources.openFdsOtherThanJars())
                .as("fds after closing the machine and the device")
                .isLessThanOrEqualTo(fdsBefore);
        assertThat(Resources.threadsStillAliveAfter(threadsBefore, Duration.ofSeconds(10)))
                .as("threads still alive after closing the machine and the device")
                .isEmpty();
    }

    /** Runs {@code call} on another thread and fails (rather than hangs) if it takes longer than the bound. */
    private static <T> T within(Callable<T> call) throws Exception {
        CompletableFuture<T> future = new CompletableFuture<>();
        Thread thread = Thread.ofPlatform().name("bounded call").start(() -> {
            try {
                future.complete(call.call());
            } catch (Throwable t) {
                future.completeExceptionally(t);
            }
        });
        try {
            return future.get(BOUND.toSeconds(), TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            throw new AssertionError("a call hung for " + BOUND + ": " + List.of(thread.getStackTrace()), e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof Exception cause) {
                throw cause;
            }
            throw new AssertionError(e.getCause());
        }
    }

    private static void awaitConsole(Machine machine, String text) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
        while (!machine.console().contains(text) && System.nanoTime() < deadline) {
            assertThat(machine.outcomeIfEnded())
                    .as("the guest ended early: " + machine.console())
                    .isNull();
            Thread.sleep(10);
        }
        assertThat(machine.console()).contains(text);
    }

    private static void awaitActive(IrqController controller) throws InterruptedException {
        long deadline = System.nanoTime() + BOUND.toNanos();
        while (System.nanoTime() < deadline) {
            for (int irq = 0; irq < controller.irqCount(); irq++) {
                if (controller.state(irq) != IrqState.INACTIVE) {
                    return;
                }
            }
            Thread.sleep(5);
        }
        throw new AssertionError("no IRQ became ACTIVE or PENDING after RAISE");
    }
}
