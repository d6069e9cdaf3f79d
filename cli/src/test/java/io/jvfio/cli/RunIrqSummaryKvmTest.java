package io.jvfio.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.jvfio.devices.ServerProcess;
import io.jvfio.sys.testing.Tiers;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code jvfio run}'s IRQ summary on stderr at the guest's exit: the {@code testdev} guest takes N
 * interrupts on each of the served test device's two lines (0 edge, 1 level), and jvfio's counts per line
 * must be the guest's and the device process's.
 */
@Tag(Tiers.KVM)
@Tag(Tiers.PROCESS)
class RunIrqSummaryKvmTest {
    private static final int N = 20;
    private static final Pattern USER_SIDE = Pattern.compile(
            "jvfio run: vfio \\S+ IRQ (\\d) \\(GSI (\\d+), (level|edge)\\): user side, (\\d+) triggers, (\\d+) injections,"
                    + " (\\d+) coalesced, (\\d+) cancelled, (\\d+) EOIs, (\\d+) unmasks, 0 ended by a reset;"
                    + " jvfio's IOAPIC pin (\\d+): (\\d+) deliveries, (\\d+) EOIs");

    private static final Pattern REPLIES = Pattern.compile(
            "jvfio run: vfio \\S+: (\\d+) replies to region accesses found by polling, (\\d+) waited for blocked(?: \\(polling off: .*\\))?");

    @TempDir
    Path directory;

    /**
     * On the user-side path and jvfio's own irqchip, the one combination every KVM runs and the one where
     * jvfio sees every interrupt at both ends: its event loop and its IOAPIC.
     */
    @Test
    void theSummaryCountsEachLinesInterruptsAsTheGuestAndTheDeviceDo() throws Exception {
        Tiers.assumeKvm();
        try (ServerProcess device = ServeCommand.startChild(
                "test-device", directory.resolve("test-device.sock"), Duration.ofSeconds(120), List.of())) {
            CliRunner run = CliRunner.run(
                    "run",
                    "--guest",
                    "testdev",
                    "--machine",
                    "kernel-irqchip=off",
                    "--device",
                    "vfio-platform,socket=" + device.socket() + ",x-irqfd=off",
                    "--arg",
                    Integer.toString(N),
                    "--arg",
                    "3",
                    "--arg",
                    "1");
            Map<String, Long> served = device.awaitClientLeft(1, Duration.ofSeconds(60));
            String context = run.out() + run.err() + "\nthe device: " + served;

            assertThat(run.exitCode())
                    .as("the guest handled N on each line\n" + context)
                    .isZero();
            List<Matcher> lines = errLinesMatching(run, USER_SIDE);
            assertThat(lines)
                    .as("one line per IRQ of the device's four\n" + context)
                    .hasSize(4);
            for (Matcher line : lines) {
                int index = Integer.parseInt(line.group(1));
                boolean level = line.group(3).equals("level");
                String taken = Integer.toString(index < 2 ? N : 0);
                // The guest's mask (3) uses lines 0 and 1 alone.
                assertThat(served.get("line" + index + ".raises")).as(context).isEqualTo(Long.parseLong(taken));
                // Ping-pong: the guest raises the next only after the last was handled, so none coalesces.
                assertThat(List.of(line.group(4), line.group(5), line.group(8), line.group(11)))
                        .as("triggers, injections, EOIs and IOAPIC deliveries\n" + context)
                        .containsOnly(taken);
                assertThat(line.group(6) + " " + line.group(7)).as(context).isEqualTo("0 0");
                // Only a level line is unmasked, and only a level vector's LAPIC EOI reaches the IOAPIC.
                assertThat(List.of(line.group(9), line.group(12))).as(context).containsOnly(level ? taken : "0");
                assertThat(line.group(10)).isEqualTo(line.group(2));
            }
            List<Matcher> replies = errLinesMatching(run, REPLIES);
            assertThat(replies)
                    .as("one line for the device's replies\n" + context)
                    .hasSize(1);
            assertThat(Long.parseLong(replies.getFirst().group(1))
                            + Long.parseLong(replies.getFirst().group(2)))
                    .as("at least a STATUS read and an ACK write per interrupt\n" + context)
                    .isGreaterThanOrEqualTo(2 * 2 * N);
        }
    }

    private static List<Matcher> errLinesMatching(CliRunner run, Pattern pattern) {
        return run.errLines().stream()
                .map(pattern::matcher)
                .filter(Matcher::matches)
                .toList();
    }
}
