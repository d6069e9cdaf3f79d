package io.jvfio.machine;

import static org.assertj.core.api.Assertions.assertThat;

import io.jvfio.machine.irqchip.IrqchipMode;
import io.jvfio.sys.testing.Tiers;
import java.io.PipedInputStream;
import java.io.PipedOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The console 16550A with a real guest: the {@code serial} guest sets it up as Linux's 8250 driver does,
 * takes its receive interrupts on IRQ 4 and echoes lines fed from {@link MachineConfig#consoleInput()}.
 */
@Tag(Tiers.KVM)
class SerialConsoleKvmTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    @BeforeEach
    void needsKvm() {
        Tiers.assumeKvm();
    }

    /**
     * Runs the serial guest and types {@code input} once it is ready: like a UART, the guest's FIFO setup
     * clears what arrived before.
     */
    private static Machine runSerialGuest(IrqchipMode irqchip, int lines, String input) throws Exception {
        PipedOutputStream keyboard = new PipedOutputStream();
        Machine machine = Machine.create(MachineConfig.builder()
                .guest("serial")
                .args(lines)
                .irqchip(irqchip)
                .consoleInput(new PipedInputStream(keyboard, 64 * 1024))
                .build());
        try {
            machine.start();
            long deadline = System.nanoTime() + TIMEOUT.toNanos();
            while (!machine.console().contains("serial: ready\n")) {
                if (machine.outcomeIfEnded() != null) {
                    // A guest that failed says why as GuestFailedException, which awaitExit throws.
                    int code = machine.awaitExit(TIMEOUT);
                    throw new AssertionError(
                            "the guest exited with " + code + " before it was ready; console: " + machine.console());
                }
                assertThat(System.nanoTime())
                        .as("guest not ready; console: " + machine.console())
                        .isLessThan(deadline);
                Thread.sleep(1);
            }
            keyboard.write(input.getBytes(StandardCharsets.US_ASCII));
            keyboard.flush();
            return machine;
        } catch (Exception | AssertionError e) {
            machine.close();
            throw e;
        }
    }

    @ParameterizedTest(name = "kernel-irqchip={0}")
    @EnumSource(
            value = IrqchipMode.class,
            names = {"AUTO", "OFF"})
    void guestReceivesConsoleInputOnIrq4AndEchoesIt(IrqchipMode irqchip) throws Exception {
        try (Machine machine = runSerialGuest(irqchip, 2, "hello\nworld\n")) {
            assertThat(machine.awaitExit(TIMEOUT)).isZero();
            assertThat(machine.console()).isEqualTo("serial: ready\necho: hello\necho: world\n");
            assertThat(machine.reports()).hasSize(2);
            assertThat(machine.reports().get(0)).as("interrupts").isPositive();
            assertThat(machine.reports().get(1)).as("bytes").isEqualTo(12);
        }
    }

    @ParameterizedTest(name = "kernel-irqchip={0}")
    @EnumSource(
            value = IrqchipMode.class,
            names = {"AUTO", "OFF"})
    void inputFarLargerThanTheFifoArrivesWithoutAnOverrun(IrqchipMode irqchip) throws Exception {
        String input = IntStream.range(0, 20)
                .mapToObj(i -> ("line " + i + " ").repeat(15) + "\n")
                .collect(Collectors.joining());
        try (Machine machine = runSerialGuest(irqchip, 20, input)) {
            assertThat(machine.awaitExit(TIMEOUT)).isZero();
            String echoed = input.lines().map(line -> "echo: " + line + "\n").collect(Collectors.joining());
            assertThat(machine.console()).isEqualTo("serial: ready\n" + echoed);
            assertThat(machine.reports().get(1)).isEqualTo(input.length());
        }
    }

    @Test
    void closingTheMachineEndsTheConsoleInputThread() throws Exception {
        PipedOutputStream host = new PipedOutputStream();
        PipedInputStream input = new PipedInputStream(host);
        try (Machine machine = Machine.create(
                MachineConfig.builder().guest("spin").consoleInput(input).build())) {
            machine.start();
            assertThat(inputThreadAlive()).isTrue();
        }

        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (inputThreadAlive() && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertThat(inputThreadAlive()).isFalse();
        host.close();
    }

    private static boolean inputThreadAlive() {
        return Thread.getAllStackTraces().keySet().stream()
                .anyMatch(thread -> thread.getName().equals("jvfio-console-input") && thread.isAlive());
    }

    @Test
    void outputPortConsoleStillCollectsWhatTheGuestWrites() throws Exception {
        try (Machine machine = Machine.create(MachineConfig.builder()
                .guest("hello")
                .args(7)
                .console(ConsoleDevice.OUTPUT_PORT)
                .build())) {
            machine.start();

            assertThat(machine.awaitExit(TIMEOUT)).isEqualTo(7);
            assertThat(machine.console()).isEqualTo("hello from guest\n");
        }
    }
}
