package io.jvfio.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.jvfio.platform.IrqPath;
import io.jvfio.platform.irq.IrqController;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * How {@code jvfio demo --linux} reads what its /init printed and what the devices counted, and when it
 * says MISMATCH. The console is the shape of a real boot's in the nested guest (its kernel-log lines as
 * Debian's 6.1 printed them there); the boot itself runs in {@link DemoLinuxTest}.
 */
class LinuxDemoReportTest {
    private static final int OFFSET = 128;
    private static final List<LinuxDemo.AssignedIrq> IRQS = List.of(
            new LinuxDemo.AssignedIrq("ns16550a", 0xd0000000L, 16, IrqPath.IRQFD, Optional.empty()),
            new LinuxDemo.AssignedIrq("virtio-rng", 0xd0001000L, 17, IrqPath.IRQFD, Optional.empty()));
    private static final String HOST_RECEIVED = LinuxDemo.GUEST_LINE + "\r\n";

    @Test
    void countsThatAgreeGiveNoProblemAndTheReportShowsEachSource() {
        StringWriter text = new StringWriter();

        List<String> problems = LinuxDemo.report(
                new PrintWriter(text, true), boot(seeded(OFFSET), 6, 4), HOST_RECEIVED, uart(6), rng(4, 256));

        assertThat(problems).isEmpty();
        assertThat(text.toString())
                .contains("guest: [   36.903905] 00:01: ttyS1 at MMIO 0xd0000000")
                .contains("guest: [   44.448033] driver: 'virtio-mmio': driver_bound: bound to device 'LNRO0005:00'")
                .contains("ttyS1, guest to host: \"" + LinuxDemo.GUEST_LINE + "\" read at the serial socket")
                .contains("ttyS1, host to guest: \"" + LinuxDemo.HOST_LINE + "\" read by the guest")
                .contains("64 bytes at offset " + OFFSET + " of the stream --seed " + LinuxDemo.SEED)
                .containsPattern("ns16550a +16  ttyS1 6 +6 \\(18\\)")
                .containsPattern("virtio-rng +17  virtio0 4 +4 \\(4\\)")
                .contains("used 4 buffers of its virtqueue and wrote 256 bytes");
    }

    @Test
    void guestCountOtherThanTheDevicesSignalsIsAMismatchNamingBoth() {
        List<String> problems = LinuxDemo.report(
                new PrintWriter(new StringWriter()), boot(seeded(OFFSET), 5, 4), HOST_RECEIVED, uart(6), rng(4, 256));

        assertThat(problems).containsExactly("ns16550a (GSI 16): the guest took 5 interrupts, the device signalled 6");
    }

    @Test
    void hwrngBytesOutsideTheSeededStreamAreAMismatch() {
        byte[] other = seeded(OFFSET);
        other[0] ^= 1;

        List<String> problems = LinuxDemo.report(
                new PrintWriter(new StringWriter()), boot(other, 6, 4), HOST_RECEIVED, uart(6), rng(4, 256));

        assertThat(problems).containsExactly("the bytes from /dev/hwrng are not the seeded stream's");
    }

    @Test
    void guestLineThatNeverReachedTheSerialSocketIsAMismatch() {
        List<String> problems = LinuxDemo.report(
                new PrintWriter(new StringWriter()), boot(seeded(OFFSET), 6, 4), "", uart(6), rng(4, 256));

        assertThat(problems).containsExactly("the guest's line did not reach the serial socket");
    }

    @Test
    void guestThatNeverReportedIsAMismatchQuotingItsConsole() {
        LinuxDemo.Boot boot = new LinuxDemo.Boot(0, "Kernel panic - not syncing: VFS\n", IRQS, 30, "");

        List<String> problems =
                LinuxDemo.report(new PrintWriter(new StringWriter()), boot, HOST_RECEIVED, uart(6), rng(4, 256));

        assertThat(problems)
                .containsExactly("the guest's /init did not report (its console: Kernel panic - not syncing: VFS)");
    }

    @Test
    void userSideMayLetTheGuestCountFewerThanJvfioInjectedButNotMore() {
        LinuxDemo.AssignedIrq uart = userSide(5, 5);

        assertThat(LinuxDemo.checkIrq(uart, 4, 5)).isEmpty();
        assertThat(LinuxDemo.checkIrq(uart, 6, 5))
                .containsExactly("ns16550a (GSI 16): the guest took 6 interrupts, jvfio injected 5");
    }

    @Test
    void userSideInjectionsOtherThanTheDevicesSignalsAreAMismatch() {
        assertThat(LinuxDemo.checkIrq(userSide(5, 4), 4, 5))
                .containsExactly("ns16550a (GSI 16): jvfio's triggers, injections, EOIs, unmasks [5, 4, 5, 5] are not"
                        + " the device's 5 signals");
    }

    /** 64 bytes of the stream {@code --seed} defines, from {@code offset}. */
    private static byte[] seeded(int offset) {
        Random random = new Random(LinuxDemo.SEED);
        ByteBuffer stream = ByteBuffer.allocate(offset + 64).order(ByteOrder.LITTLE_ENDIAN);
        while (stream.hasRemaining()) {
            stream.putLong(random.nextLong());
        }
        byte[] bytes = new byte[64];
        System.arraycopy(stream.array(), offset, bytes, 0, 64);
        return bytes;
    }

    private static LinuxDemo.AssignedIrq userSide(long triggers, long injections) {
        return new LinuxDemo.AssignedIrq(
                "ns16550a",
                0xd0000000L,
                16,
                IrqPath.USER_SIDE,
                Optional.of(new IrqController.IrqCounters(triggers, triggers, injections, 0, 5, 5, 0, 0)));
    }

    private static LinuxDemo.Boot boot(byte[] hwrng, long uartTaken, long rngTaken) {
        String console = """
                jvfio-demo: report
                jvfio-demo: rng_current: virtio_rng.0
                jvfio-demo: hwrng: %s
                jvfio-demo: read: %s
                [   28.513159] driver: 'serial': driver_bound: bound to device '00:00'
                [   36.903905] 00:01: ttyS1 at MMIO 0xd0000000 (irq = 26, base_baud = 115200) is a 16550A
                [   36.989400] driver: 'serial': driver_bound: bound to device '00:01'
                [   44.448033] driver: 'virtio-mmio': driver_bound: bound to device 'LNRO0005:00'
                [   46.646034] driver: 'virtio_rng': driver_bound: bound to device 'virtio0'
                jvfio-demo: interrupts
                  4:        212   IO-APIC   4-edge      ttyS0
                  9:          0   IO-APIC   9-fasteoi   acpi
                 26:         %d   IO-APIC  16-fasteoi   ttyS1
                 27:          %d   IO-APIC  17-fasteoi   virtio0
                jvfio-demo: end
                """.formatted(HexFormat.of().formatHex(hwrng), LinuxDemo.HOST_LINE, uartTaken, rngTaken);
        return new LinuxDemo.Boot(0, "[    0.000000] Linux version 6.1\n" + console, IRQS, 82.3, "");
    }

    private static Map<String, Long> uart(long signals) {
        return Map.of("line0.raises", 18L, "line0.signals", signals, "serial.sent", 48L, "serial.received", 42L);
    }

    private static Map<String, Long> rng(long signals, long bytes) {
        return Map.of(
                "line0.raises",
                signals,
                "line0.signals",
                signals,
                "queue0.buffers",
                4L,
                "queue0.bytes",
                bytes,
                "device.needs-reset",
                0L);
    }
}
