package io.jvfio.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.jvfio.kvm.GuestCodeProbe;
import io.jvfio.machine.testing.StockKernel;
import io.jvfio.sys.testing.Tiers;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code jvfio run --kernel}: Debian's stock kernel boots to a busybox /init, which prints on ttyS0 what
 * the kernel found (jvfio's ACPI tables, the 16550A through the DSDT, its interrupts) and ends the machine
 * through the exit port or an ACPI power-off. The console is jvfio's 16550A at 0x3F8: earlyprintk writes
 * there from the first messages on, then the ttyS0 console; {@code quiet} keeps the console short, since
 * every byte is a port exit (slow in the nested guest), and {@code panic=-1} turns a failed boot into a
 * quick triple fault instead of a wait for the timeout. Each boot prints its {@code time to init}: from
 * {@code jvfio run}'s start to the INIT marker on the console. A boot that dies before its /init ran, or
 * triple-faults in the nested guest, is booted once more, as {@link AssignedDeviceBoot#ONCE_MORE} says why.
 */
@Tag(Tiers.LINUX)
class StockKernelBootTest {
    private static final String APPEND = "console=ttyS0 earlyprintk=serial quiet panic=-1";
    private static final Duration BOOT_TIMEOUT = Duration.ofSeconds(240);

    @TempDir
    Path directory;

    @BeforeEach
    void needsAKvmThatRunsLinux() throws Exception {
        assumeAKvmThatRunsLinux();
    }

    /** Skips the calling test, loudly, unless /dev/kvm can run a stock kernel (the tier's probe). */
    static void assumeAKvmThatRunsLinux() throws Exception {
        Tiers.assumeKvm();
        boolean runs = GuestCodeProbe.runsInt3();
        if (!runs) {
            System.err.println(
                    "SKIPPED (tier linux): this /dev/kvm does not run int3 in its guests (a software KVM's"
                            + " emulator), so a stock kernel cannot boot; tools/nested/tiers.sh linux runs this tier in the nested guest");
        }
        Assumptions.assumeTrue(runs, "this /dev/kvm cannot run a stock Linux kernel");
    }

    @Test
    void bzImageBootsToInitWhichExitsThroughTheExitPort() throws Exception {
        Path kernel = StockKernel.assumeBzImage();

        CliRunner run = boot(kernel, StockKernel.InitEnd.EXIT_PORT);

        assertThat(run.exitCode())
                .as("the console:\n%s\nstderr:\n%s", run.out(), run.err())
                .isEqualTo(StockKernel.INIT_EXIT_CODE);
        assertFoundItsDevicesThroughAcpi(run);
    }

    @Test
    void pvhVmlinuxBootsToInitAndPowersOffThroughAcpiWithStatusZero() throws Exception {
        Path vmlinux = StockKernel.assumeVmlinux();

        CliRunner run = boot(vmlinux, StockKernel.InitEnd.POWER_OFF);

        assertThat(run.exitCode())
                .as("the console:\n%s\nstderr:\n%s", run.out(), run.err())
                .isZero();
        assertFoundItsDevicesThroughAcpi(run);
    }

    /**
     * What /init printed on ttyS0: the kernel read jvfio's ACPI tables, found the 16550A through the
     * DSDT's PNP0501 device, took its interrupts on IOAPIC pin 4, and ran on KVM's CPU model.
     */
    private static void assertFoundItsDevicesThroughAcpi(CliRunner run) {
        String console = run.out();
        assertThat(console).as("the console").contains(StockKernel.INIT_MARKER, StockKernel.REPORT_MARKER);
        String report = console.substring(console.indexOf(StockKernel.REPORT_MARKER));
        assertThat(report)
                .as(console)
                .contains(
                        "ACPI: RSDP 0x00000000000E0000",
                        "ACPI: XSDT",
                        "ACPI: FACP",
                        "ACPI: APIC",
                        "ACPI: DSDT",
                        "PnP ACPI: found 1 devices")
                .containsPattern("ttyS0 at I/O 0x3f8 \\(irq = \\d+, base_baud = 115200\\) is a 16550A");
        // Linux numbers its interrupts on its own (GSI 4 is not IRQ 4 without the 8259s); the chip column
        // names the IOAPIC pin.
        assertThat(report.lines()
                        .filter(line -> line.matches(" *\\d+:.* IO-APIC +4-edge +ttyS0"))
                        .findFirst())
                .as("ttyS0's line of /proc/interrupts\n" + report)
                .hasValueSatisfying(
                        line -> assertThat(Long.parseLong(line.trim().split("\\s+")[1]))
                                .as(line)
                                .isPositive());
        assertThat(report).contains("vendor_id");
    }

    @Test
    void pvhVmlinuxBootsOnJvfiosOwnIrqchipWithTheConsoleOnIoApicPin4() throws Exception {
        Path vmlinux = StockKernel.assumeVmlinux();

        CliRunner run = boot(vmlinux, StockKernel.InitEnd.POWER_OFF, "--machine", "kernel-irqchip=off");

        assertThat(run.exitCode())
                .as("the console:\n%s\nstderr:\n%s", run.out(), run.err())
                .isZero();
        assertFoundItsDevicesThroughAcpi(run);
    }

    /**
     * {@code jvfio run} as a process: /init opens ttyS0, prompts on it, reads a line through the 8250
     * driver and prints it back in capitals; the test types the line on jvfio's stdin once it sees the
     * prompt (the driver's start-up clears the UART's FIFOs, so earlier bytes would be lost).
     */
    @Test
    void aLineTypedOnJvfiosStdinIsReadByTheGuestFromTtyS0() throws Exception {
        Path vmlinux = StockKernel.assumeVmlinux();
        String init = """
                #!/bin/busybox sh
                /bin/busybox mount -t devtmpfs dev /dev
                echo "<2>%s" > /dev/kmsg
                exec 3<>/dev/ttyS0
                echo "jvfio-linux-smoke: type a line" >&3
                read -r line <&3
                echo "jvfio-linux-smoke: read '$(echo "$line" | /bin/busybox tr a-z A-Z)'" >&3
                /bin/busybox poweroff -f
                """.formatted(StockKernel.INIT_MARKER);
        Path initramfs = Files.write(directory.resolve("initramfs.cpio"), StockKernel.busyboxInitramfs(init));

        String[] command = runArguments(vmlinux, initramfs).toArray(String[]::new);
        JvfioProcess started = JvfioProcess.start(ProcessBuilder.Redirect.PIPE, command);
        double toInit = started.awaitOut(StockKernel.INIT_MARKER, BOOT_TIMEOUT);
        if (toInit < 0 && started.awaitExit(Duration.ofSeconds(5)) > 0) {
            System.err.printf(
                    "%s%n%s%n", AssignedDeviceBoot.ONCE_MORE, started.err().strip());
            started.close();
            started = JvfioProcess.start(ProcessBuilder.Redirect.PIPE, command);
            toInit = started.awaitOut(StockKernel.INIT_MARKER, BOOT_TIMEOUT);
        }
        try (JvfioProcess run = started) {
            printTimeToInit(toInit, "--kernel " + vmlinux + ", a jvfio process");
            assertThat(run.awaitOut("jvfio-linux-smoke: type a line", BOOT_TIMEOUT))
                    .as(run.out() + run.err())
                    .isPositive();

            run.type("hello from the host\n");

            assertThat(run.awaitExit(BOOT_TIMEOUT)).as(run.out() + run.err()).isZero();
            assertThat(run.out()).contains("jvfio-linux-smoke: read 'HELLO FROM THE HOST'");
        }
    }

    /**
     * Boots {@code kernel} in this JVM with the test initramfs and prints the time from {@code jvfio run}'s
     * start to the INIT marker on its console.
     */
    private CliRunner boot(Path kernel, StockKernel.InitEnd end, String... more) throws Exception {
        Path initramfs = Files.write(directory.resolve("initramfs.cpio"), StockKernel.busyboxInitramfs(end));
        List<String> args = runArguments(kernel, initramfs);
        args.addAll(List.of(more));
        ConsoleClock console = new ConsoleClock(StockKernel.INIT_MARKER);
        StringWriter err = new StringWriter();
        long started = System.nanoTime();
        int code =
                Jvfio.execute(args.toArray(String[]::new), new PrintWriter(console, true), new PrintWriter(err, true));
        if (AssignedDeviceBoot.bootOnceMore(code, console.toString(), err.toString())) {
            System.err.printf(
                    "%s%n%s%n", AssignedDeviceBoot.ONCE_MORE, err.toString().strip());
            console = new ConsoleClock(StockKernel.INIT_MARKER);
            err = new StringWriter();
            started = System.nanoTime();
            code = Jvfio.execute(
                    args.toArray(String[]::new), new PrintWriter(console, true), new PrintWriter(err, true));
        }
        List<String> what = new ArrayList<>(args.subList(1, 3));
        what.addAll(List.of(more));
        printTimeToInit(console.secondsSince(started), String.join(" ", what));
        return new CliRunner(code, console.toString(), err.toString());
    }

    /** {@code jvfio run}'s arguments that boot {@code kernel} with {@code initramfs} as every test here does. */
    private static List<String> runArguments(Path kernel, Path initramfs) {
        return new ArrayList<>(List.of(
                "run",
                "--kernel",
                kernel.toString(),
                "--initrd",
                initramfs.toString(),
                "--append",
                APPEND,
                "--ram",
                "256",
                "--timeout",
                "240"));
    }

    /** The line the tier prints for each boot; a boot that never reached init says so. */
    private static void printTimeToInit(double seconds, String what) {
        System.out.println(
                seconds < 0
                        ? "time to init: never (" + what + ")"
                        : String.format(Locale.ROOT, "time to init: %.1f s (%s)", seconds, what));
    }

    /** The console's text, and when {@code marker} first appeared in it. */
    private static final class ConsoleClock extends Writer {
        private final StringBuilder text = new StringBuilder();
        private final String marker;
        private long markerNanos = -1;

        ConsoleClock(String marker) {
            this.marker = marker;
        }

        @Override
        public synchronized void write(char[] chars, int offset, int length) {
            text.append(chars, offset, length);
            if (markerNanos < 0 && text.indexOf(marker, Math.max(0, text.length() - length - marker.length())) >= 0) {
                markerNanos = System.nanoTime();
            }
        }

        @Override
        public void flush() {}

        @Override
        public void close() {}

        /** Seconds from {@code startNanos} to the marker, -1 if it never came. */
        synchronized double secondsSince(long startNanos) {
            return markerNanos < 0 ? -1 : (markerNanos - startNanos) / 1e9;
        }

        @Override
        public synchronized String toString() {
            return text.toString();
        }
    }
}
