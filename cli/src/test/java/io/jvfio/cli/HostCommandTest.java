package io.jvfio.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.jvfio.kvm.GuestCodeProbe;
import io.jvfio.kvm.IrqWindowProbe;
import io.jvfio.kvm.IrqchipProbe;
import io.jvfio.kvm.IrqchipSemantics;
import io.jvfio.sys.testing.Tiers;
import java.time.Duration;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** {@code jvfio host}: one aligned line per check, and an irqchip line that says what the probe finds. */
class HostCommandTest {
    private static final Pattern LINE =
            Pattern.compile("(KVM|VFIO|Nested): (\\S.*?) \\.+ (PASS|WARN|FAIL)( \\((.+)\\))?");

    @Test
    void everyLineIsAnAreaANameDotsAndAStatusInOneColumnWithAReasonUnlessItPasses() {
        CliRunner host = CliRunner.run("host");

        List<String> lines = host.outLines();
        assertThat(lines).as(host.out() + host.err()).isNotEmpty();
        assertThat(host.err()).isEmpty();
        int statusColumn = -1;
        for (String line : lines) {
            Matcher m = LINE.matcher(line);
            assertThat(m.matches()).as("line shape: %s", line).isTrue();
            if (statusColumn < 0) {
                statusColumn = m.start(3);
            }
            assertThat(m.start(3)).as("status column of: %s", line).isEqualTo(statusColumn);
            assertThat(m.group(4) != null)
                    .as("a reason unless PASS: %s", line)
                    .isEqualTo(!m.group(3).equals("PASS")
                            || m.group(2).equals(HostCommand.IRQCHIP_CHECK)
                            || m.group(2).equals(HostCommand.WINDOW_CHECK));
        }
        assertThat(lines)
                .anyMatch(line -> line.startsWith("KVM: /dev/kvm opens "))
                .anyMatch(line -> line.startsWith("VFIO: vfio-platform driver "))
                .anyMatch(line -> line.startsWith("Nested: qemu-system-x86_64 "));
        boolean failed = lines.stream()
                .anyMatch(line -> LINE.matcher(line).replaceFirst("$3").equals("FAIL"));
        assertThat(host.exitCode()).isEqualTo(failed ? Jvfio.EXIT_FAILURE : 0);
    }

    @Test
    void aWindowProbeThatCouldNotRunIsUnknownNotALateExit() {
        HostCommand.Check check = HostCommand.windowCheck(new IrqWindowProbe.Timing(
                false, "probe failed: KVM_CREATE_VM: Too many open files (EMFILE)", Duration.ofMillis(1)));

        assertThat(check.status()).isEqualTo(HostCommand.Status.WARN);
        assertThat(check.reason()).startsWith("unknown: probe failed: KVM_CREATE_VM");
    }

    @Test
    @Tag(Tiers.KVM)
    void guestCodeLineAgreesWithTheProbe() throws Exception {
        Tiers.assumeKvm();
        boolean runs = GuestCodeProbe.runsInt3();

        CliRunner host = CliRunner.run("host");

        String line = host.outLines().stream()
                .filter(candidate -> candidate.contains(HostCommand.GUEST_CODE_CHECK))
                .findFirst()
                .orElseThrow(() -> new AssertionError("no int3 line in:\n" + host.out()));
        Matcher m = LINE.matcher(line);
        assertThat(m.matches()).as(line).isTrue();
        assertThat(m.group(3)).isEqualTo(runs ? "PASS" : "WARN");
    }

    @Test
    @Tag(Tiers.KVM)
    void irqchipLineAgreesWithAFreshProbe() {
        Tiers.assumeKvm();
        IrqchipSemantics fresh = IrqchipProbe.run();

        CliRunner host = CliRunner.run("host");

        assertThat(fresh.verdict()).as(fresh.toString()).isNotEqualTo(IrqchipSemantics.Verdict.PROBE_FAILED);
        String irqchip = host.outLines().stream()
                .filter(line -> line.contains(HostCommand.IRQCHIP_CHECK))
                .findFirst()
                .orElseThrow(() -> new AssertionError("no irqchip line in:\n" + host.out()));
        Matcher m = LINE.matcher(irqchip);
        assertThat(m.matches()).as(irqchip).isTrue();
        assertThat(m.group(3)).as(fresh.toString()).isEqualTo(fresh.keepsInServiceUntilEoi() ? "PASS" : "WARN");
        assertThat(m.group(5)).startsWith(fresh.keepsInServiceUntilEoi() ? "yes" : "no");
    }

    @Test
    @Tag(Tiers.KVM)
    void interruptWindowLineAgreesWithAFreshProbe() {
        Tiers.assumeKvm();
        IrqWindowProbe.Timing fresh = IrqWindowProbe.run();

        CliRunner host = CliRunner.run("host");

        assertThat(fresh.probeFailed()).as(fresh.toString()).isFalse();
        String window = host.outLines().stream()
                .filter(line -> line.contains(HostCommand.WINDOW_CHECK))
                .findFirst()
                .orElseThrow(() -> new AssertionError("no interrupt-window line in:\n" + host.out()));
        Matcher m = LINE.matcher(window);
        assertThat(m.matches()).as(window).isTrue();
        assertThat(m.group(3)).as(fresh.toString()).isEqualTo(fresh.prompt() ? "PASS" : "WARN");
        assertThat(m.group(5)).startsWith(fresh.prompt() ? "yes" : "no");
    }
}
