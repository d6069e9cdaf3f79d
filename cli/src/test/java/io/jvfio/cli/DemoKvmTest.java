package io.jvfio.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.jvfio.sys.testing.Tiers;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import jdk.jfr.EventType;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** {@code jvfio demo} end to end: a child process serves the device, a KVM guest drives it twice. */
@Tag(Tiers.KVM)
@Tag(Tiers.PROCESS)
class DemoKvmTest {
    private static final Pattern LINE_COUNTS = Pattern.compile("  interrupts line (\\d): guest handled (\\d+), "
            + "device RAISE_COUNT (\\d+) ACK_COUNT (\\d+), device process raises (\\d+) acks (\\d+)(.*)");
    private static final Pattern INJECTIONS = Pattern.compile(", machine injections (\\d+) EOIs (\\d+) .*");

    @TempDir
    Path directory;

    /** On the irqchip the host gets by default, and on jvfio's own, with its EOIs exits or queued by KVM. */
    @ParameterizedTest(name = "--machine kernel-irqchip={0}")
    @ValueSource(strings = {"auto", "off", "off,x-coalesced-eoi=on"})
    void demoExitsZeroAndItsCountsAgreeWithTheDevicesCounters(String irqchip) throws Exception {
        Tiers.assumeKvm();
        int n = 5;
        Path trace = directory.resolve("demo.jfr");

        CliRunner demo = CliRunner.run(
                "--trace",
                trace.toString(),
                "demo",
                "--interrupts",
                Integer.toString(n),
                "--machine",
                "kernel-irqchip=" + irqchip);

        assertThat(demo.exitCode()).as(demo.out() + demo.err()).isZero();
        assertThat(demo.out()).contains("run 1: irqfd", "run 2: user side", "ok, every count agrees");
        assertThat(demo.outLines())
                .as("the header names the irqchip and why")
                .anyMatch(line -> line.startsWith("  irqchip: ") && line.contains("kernel-irqchip="));
        if (irqchip.startsWith("off")) {
            assertThat(demo.out()).contains("jvfio's own IOAPIC and LAPIC", "(kernel-irqchip=off)");
        }
        List<String> countLines = demo.outLines().stream()
                .filter(l -> l.startsWith("  interrupts line"))
                .toList();
        assertThat(countLines).as(demo.out()).hasSize(4);
        for (String line : countLines) {
            Matcher m = LINE_COUNTS.matcher(line);
            assertThat(m.matches()).as(line).isTrue();
            for (int group = 2; group <= 6; group++) {
                assertThat(Long.parseLong(m.group(group))).as(line).isEqualTo(n);
            }
        }
        List<String> userSide = countLines.subList(2, 4);
        for (String line : userSide) {
            Matcher m = LINE_COUNTS.matcher(line);
            assertThat(m.matches()).isTrue();
            Matcher injections = INJECTIONS.matcher(m.group(7));
            assertThat(injections.matches()).as(line).isTrue();
            assertThat(Long.parseLong(injections.group(1))).isEqualTo(n);
        }
        List<String> eventNames = RecordingFile.readAllEvents(trace).stream()
                .map(RecordedEvent::getEventType)
                .map(EventType::getName)
                .distinct()
                .toList();
        assertThat(eventNames)
                .as("the user-side run recorded jvfio's events")
                .contains("io.jvfio.IrqInjection", "io.jvfio.TrappedAccess")
                .allMatch(name -> name.startsWith("io.jvfio."));
    }
}
