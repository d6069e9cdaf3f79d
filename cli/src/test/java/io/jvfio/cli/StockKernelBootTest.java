package io.jvfio.cli;

import java.nio.file.Files;
import java.nio.file.Path;

import io.jvfio.kvm.GuestCodeProbe;
import io.jvfio.sys.testing.StockKernel;
import io.jvfio.sys.testing.Tiers;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code jvfio run --kernel}: Debian's stock kernel boots to a busybox /init, which prints on ttyS0 what
 * the kernel found (jvfio's ACPI tables, the 16550A through the DSDT, its interrupts) and ends the machine
 * through the exit port or an ACPI power-off. The console is jvfio's 16550A at 0x3F8: earlyprintk writes
 * there from the first messages on, then the ttyS0 console; {@code quiet} keeps the console short, since
 * every byte is a port exit (slow in the nested guest), and {@code panic=-1} turns a failed boot into a
 * quick triple fault instead of a wait for the timeout.
 */
@Tag(Tiers.LINUX)
class StockKernelBootTest {
    private static final String APPEND = "console=ttyS0 earlyprintk=serial quiet panic=-1";

    @TempDir
    Path directory;

    @BeforeEach
    void needsAKvmThatRunsLinux() {
        assumeAKvmThatRunsLinux();
    }

    /** Skips the calling test, loudly, unless /dev/kvm can run a stock kernel (the tier's probe). */
    static void assumeAKvmThatRunsLinux() {
        Tiers.assumeKvm();
        boolean runs = GuestCodeProbe.runsInt3();
        if (!runs) {
            System.err.println("SKIPPED (tier linux): this /dev/kvm does not run int3 in its guests (a software KVM's"
                    + " emulator), so a stock kernel cannot boot; tools/nested/tiers.sh linux runs this tier in the nested guest");
        }
        Assumptions.assumeTrue(runs, "this /dev/kvm cannot run a stock Linux kernel");
    }

    @Test
    void bzImageBootsToInitWhichExitsThroughTheExitPort() throws Exception {
        Path kernel = StockKernel.assumeBzImage();

        CliRunner run = boot(kernel, StockKernel.InitEnd.EXIT_PORT);

        assertThat(run.exitCode()).as("the console:\n%s\nstderr:\n%s", run.out(), run.err())
                .isEqualTo(StockKernel.INIT_EXIT_CODE);
        assertFoundItsDevicesThroughAcpi(run);
    }

    @Test
    void pvhVmlinuxBootsToInitAndPowersOffThroughAcpiWithStatusZero() throws Exception {
        Path vmlinux = StockKernel.assumeVmlinux();

        CliRunner run = boot(vmlinux, StockKernel.InitEnd.POWER_OFF);

        assertThat(run.exitCode()).as("the console:\n%s\nstderr:\n%s", run.out(), run.err()).isZero();
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
        assertThat(report).as(console).contains("ACPI: RSDP 0x00000000000E0000", "ACPI: XSDT", "ACPI: FACP", "ACPI: APIC",
                "ACPI: DSDT", "PnP ACPI: found 1 devices")
                .containsPattern("ttyS0 at I/O 0x3f8 \\(irq = \\d+, base_baud = 115200\\) is a 16550A");
        // Linux numbers its interrupts on its own (GSI 4 is not IRQ 4 without the 8259s); the chip column
        // names the IOAPIC pin.
        assertThat(report.lines().filter(line -> line.matches(" *\\d+:.* IO-APIC +4-edge +ttyS0")).findFirst())
                .as("ttyS0's line of /proc/interrupts\n" + report).hasValueSatisfying(line ->
                        assertThat(Long.parseLong(line.trim().split("\\s+")[1])).as(line).isPositive());
        assertThat(report).contains("vendor_id");
    }

    private CliRunner boot(Path kernel, StockKernel.InitEnd end) throws Exception {
        Path initramfs = Files.write(directory.resolve("initramfs.cpio"), StockKernel.busyboxInitramfs(end));
        return CliRunner.run("run", "--kernel", kernel.toString(), "--initrd", initramfs.toString(), "--append", APPEND,
                "--ram", "256", "--timeout", "240");
    }
}
