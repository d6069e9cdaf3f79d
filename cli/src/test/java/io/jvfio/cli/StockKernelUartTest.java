package io.jvfio.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.jvfio.devices.ServerProcess;
import io.jvfio.machine.testing.StockKernel;
import io.jvfio.sys.testing.Tiers;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The point of issue 17: Debian's stock kernel drives, with its own 8250 driver, a 16550A that another
 * process serves over vfio-user ({@code jvfio serve ns16550a}) and that {@code jvfio run --device} assigns.
 * The kernel finds it in the DSDT as PNP0501 (8250_pnp), and /init talks to the host through it: it writes
 * a line the test reads at the UART's serial socket, reads the line the test writes back, and reports the
 * port's line of /proc/interrupts, while the port is open. On both injection paths.
 */
@Tag(Tiers.LINUX)
class StockKernelUartTest {
    private static final String APPEND = "console=ttyS0 earlyprintk=serial quiet panic=-1";
    private static final String REPORT_MARKER = "jvfio-uart: report";
    private static final String GUEST_LINE = "jvfio-guest-to-host";
    private static final String HOST_LINE = "jvfio-host-to-guest";
    /**
     * The assigned UART is the one that 8250 reports at an MMIO address; /init opens it read-write for the
     * whole exchange (closing a tty shuts the port down and its FIFOs are cleared at the next open).
     */
    private static final String INIT = """
            #!/bin/busybox sh
            /bin/busybox mount -t devtmpfs dev /dev
            /bin/busybox mount -t proc proc /proc
            echo "<2>%1$s" > /dev/kmsg
            tty=$(/bin/busybox dmesg | /bin/busybox grep -o 'ttyS[0-9]* at MMIO' | /bin/busybox head -n 1 | /bin/busybox cut -d' ' -f1)
            {
              echo "%2$s"
              /bin/busybox dmesg | /bin/busybox grep -E "PnP ACPI|ttyS[0-9]+ at"
              if [ -n "$tty" ]; then
                exec 3<>/dev/$tty
                /bin/busybox stty -F /dev/$tty 115200 -echo
                echo "%3$s" >&3
                if read -t 120 reply <&3; then echo "jvfio-uart: read: $reply"; else echo "jvfio-uart: read nothing"; fi
                /bin/busybox grep "$tty" /proc/interrupts
                exec 3>&-
              fi
            } > /dev/ttyS0 2>&1
            /bin/busybox poweroff -f
            """.formatted(StockKernel.INIT_MARKER, REPORT_MARKER, GUEST_LINE);

    @TempDir
    Path directory;

    @BeforeEach
    void needsAKvmThatRunsLinux() throws Exception {
        StockKernelBootTest.assumeAKvmThatRunsLinux();
    }

    @ParameterizedTest(name = "x-irqfd={0}")
    @ValueSource(strings = {"on", "off"})
    void theStockKernels8250DrivesTheServedUartBothWays(String irqfd) throws Exception {
        byte[] initramfs = StockKernel.busyboxInitramfs(INIT);
        Path serial = directory.resolve("serial.sock");
        try (ServerProcess uart = ServeCommand.startChild(
                        "ns16550a",
                        directory.resolve("uart.sock"),
                        Duration.ofSeconds(120),
                        List.of(),
                        "--serial-socket",
                        serial.toString());
                SerialHostEnd host = SerialHostEnd.connect(serial, GUEST_LINE, HOST_LINE)) {
            AssignedDeviceBoot.Boot boot = AssignedDeviceBoot.boot(
                    directory,
                    initramfs,
                    APPEND,
                    uart,
                    "x-irqfd=" + irqfd,
                    "booted, talked over the UART and powered off");
            String context = boot.context();
            Map<String, Long> device = boot.device();
            String report = boot.report(REPORT_MARKER);
            assertThat(boot.console()).as(context).contains("PnP ACPI: found 2 devices");
            Matcher bound = Pattern.compile(
                            "(ttyS\\d+) at MMIO 0xd0000000 \\(irq = \\d+, base_baud = 115200\\) is a 16550A")
                    .matcher(report);
            assertThat(bound.find())
                    .as("8250 bound the assigned UART through ACPI\n" + context)
                    .isTrue();
            String tty = bound.group(1);
            assertThat(host.received())
                    .as("what the guest wrote to " + tty + "\n" + context)
                    .contains(GUEST_LINE);
            assertThat(report).as(context).contains("jvfio-uart: read: " + HOST_LINE);
            // A 16550A has no ack register to declare: jvfio ends its IRQ at the first access.
            String interrupts = boot.levelInterrupts(report, AssignedDeviceBoot.FIRST_GSI, tty, false);
            assertThat(device.get("serial.sent")).as(context).isGreaterThanOrEqualTo(GUEST_LINE.length());
            assertThat(device.get("serial.received")).as(context).isEqualTo(HOST_LINE.length() + 1L);
            System.err.printf(
                    "x-irqfd=%s: \"%s\"; /proc/interrupts: \"%s\"; the device: %s%n",
                    irqfd,
                    report.lines()
                            .filter(line -> line.contains(tty + " at MMIO"))
                            .findFirst()
                            .orElseThrow()
                            .strip(),
                    interrupts,
                    device);
        }
    }
}
