package io.jvfio.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.jvfio.machine.IrqchipSelection;
import io.jvfio.machine.irqchip.IrqchipMode;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * How {@code jvfio demo} refuses a bad option and reports a testdev run that went wrong; the runs themselves
 * are {@link DemoKvmTest}'s.
 */
class DemoReportTest {
    private static final int N = 500;

    @Test
    void aGuestThatPanickedBeforeItReportedShowsItsConsoleAndAMismatch() {
        DemoCommand.RunResult panicked = run(255, "panic: testdev: region 1 RAM check failed at 0x40", List.of());
        StringWriter text = new StringWriter();

        DemoCommand.report(new PrintWriter(text, true), 1, panicked, N);
        List<String> problems = DemoCommand.check(panicked, N);

        assertThat(text.toString())
                .contains("guest exit 255")
                .contains("  guest: panic: testdev: region 1 RAM check failed at 0x40")
                .contains("  the guest reported 0 values, not the 7 of a finished run");
        assertThat(problems).containsExactly("irqfd: guest exit 255", "irqfd: guest reported 0 values, expected 7");
    }

    @Test
    void interruptsBelowOneAreAUsageErrorWithOrWithoutKvm() {
        CliRunner demo = CliRunner.run("demo", "-n", "0");

        assertThat(demo.exitCode()).isEqualTo(Jvfio.EXIT_USAGE);
        assertThat(demo.errLines())
                .singleElement()
                .asString()
                .startsWith("jvfio demo: --interrupts: wants at least 1, got 0");
    }

    private static DemoCommand.RunResult run(int exitCode, String console, List<Integer> reports) {
        return new DemoCommand.RunResult(
                "irqfd",
                exitCode,
                console,
                reports,
                List.of(),
                List.of(),
                List.of(),
                List.of(),
                Optional.empty(),
                0.5,
                new IrqchipSelection(IrqchipMode.ON, true, "requested", ""),
                Optional.empty(),
                Map.of(),
                Map.of());
    }
}
