package io.jvfio.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.jvfio.sys.testing.Tiers;
import java.io.File;
import java.time.Duration;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code jvfio run}'s standard input reaches the guest's console 16550A: a child {@code jvfio run} process
 * whose stdin the test types into, as a user's terminal or a pipe would. The {@code serial} guest sets
 * the UART up as Linux's 8250 driver does and echoes each line it receives on IRQ 4.
 */
@Tag(Tiers.KVM)
@Tag(Tiers.PROCESS)
class RunConsoleInputKvmTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    @BeforeEach
    void needsKvm() {
        Tiers.assumeKvm();
    }

    @ParameterizedTest(name = "--machine kernel-irqchip={0}")
    @ValueSource(strings = {"auto", "off"})
    void linesTypedOnStdinReachTheGuestWhichEchoesThem(String irqchip) throws Exception {
        try (JvfioProcess run = JvfioProcess.start(
                ProcessBuilder.Redirect.PIPE,
                "run",
                "--guest",
                "serial",
                "--arg",
                "2",
                "--machine",
                "kernel-irqchip=" + irqchip)) {
            // Like a UART, the guest's FIFO setup clears what arrived before it was ready.
            assertThat(run.awaitOut("serial: ready\n", TIMEOUT))
                    .as(run.out() + run.err())
                    .isPositive();

            run.type("hello\nworld\n");

            assertThat(run.awaitExit(TIMEOUT)).as(run.out() + run.err()).isZero();
            assertThat(run.out()).isEqualTo("serial: ready\necho: hello\necho: world\n");
        }
    }

    @Test
    void stdinFromDevNullChangesNothingForAGuestThatReadsNone() throws Exception {
        try (JvfioProcess run = JvfioProcess.start(
                ProcessBuilder.Redirect.from(new File("/dev/null")), "run", "--guest", "hello", "--arg", "7")) {
            assertThat(run.awaitExit(TIMEOUT)).as(run.out() + run.err()).isEqualTo(7);
            assertThat(run.out()).isEqualTo("hello from guest\n");
        }
    }

    @Test
    void stdinLeftOpenAndSilentDoesNotKeepTheProcessAfterTheGuestExits() throws Exception {
        try (JvfioProcess run = JvfioProcess.start(ProcessBuilder.Redirect.PIPE, "run", "--guest", "hello")) {
            assertThat(run.awaitExit(TIMEOUT)).as(run.out() + run.err()).isZero();
            assertThat(run.out()).isEqualTo("hello from guest\n");
        }
    }
}
