package io.jvfio.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.jvfio.machine.boot.linux.BusyboxInitramfs;
import io.jvfio.machine.testing.StockKernel;
import io.jvfio.sys.testing.Tiers;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * {@code jvfio demo --linux} end to end, as a user runs it where Linux boots (the nested guest here): the
 * stock kernel's own drivers bind the served UART and virtio-rng, and the report's figures, read back from
 * its text, agree with each other and with the seed.
 */
@Tag(Tiers.LINUX)
class DemoLinuxTest {
    private static final Pattern ROW = Pattern.compile(
            " {2}(ns16550a|virtio-rng) +(\\d+) {2}(ttyS\\d+|virtio\\d+) (\\d+) +(\\d+) \\((\\d+)\\) +(.*)");
    private static final Pattern HWRNG = Pattern.compile(
            "/dev/hwrng: ([0-9a-f]{32})\\.\\.\\., 64 bytes at offset (\\d+) of the stream --seed (\\d+) defines");

    @Test
    void demoBootsTheStockKernelWhoseDriversBindBothDevicesAndEveryCountAgrees() throws Exception {
        StockKernelBootTest.assumeAKvmThatRunsLinux();
        StockKernel.assumeBzImage();
        Assumptions.assumeTrue(BusyboxInitramfs.available(), "no " + BusyboxInitramfs.BUSYBOX);

        CliRunner demo = CliRunner.run("demo", "--linux");
        if (AssignedDeviceBoot.bootOnceMore(demo.exitCode(), demo.out(), demo.err())) {
            System.err.printf(
                    "%s%n%s%n", AssignedDeviceBoot.ONCE_MORE, demo.err().strip());
            demo = CliRunner.run("demo", "--linux");
        }

        String context = demo.out() + "\nstderr:\n" + demo.err();
        System.err.println(demo.out());
        assertThat(demo.exitCode()).as(context).isZero();
        assertThat(demo.out())
                .as(context)
                .containsPattern("guest: \\[ *[0-9.]+\\] 00:\\d+: ttyS1 at MMIO 0xd0000000 \\(irq = \\d+, base_baud"
                        + " = 115200\\) is a 16550A")
                .containsPattern("guest: \\[ *[0-9.]+\\] driver: 'virtio-mmio': \\w+: bound to device 'LNRO0005:00'")
                .containsPattern("guest: \\[ *[0-9.]+\\] driver: 'virtio_rng': \\w+: bound to device 'virtio0'")
                .contains("ttyS1, guest to host: \"" + LinuxDemo.GUEST_LINE + "\" read at the serial socket")
                .contains("ttyS1, host to guest: \"" + LinuxDemo.HOST_LINE + "\" read by the guest")
                .contains("ok, every count agrees")
                .doesNotContain("MISMATCH");
        List<Matcher> rows = demo.outLines().stream()
                .map(ROW::matcher)
                .filter(Matcher::matches)
                .toList();
        assertThat(rows).as(context).hasSize(2);
        for (Matcher row : rows) {
            long taken = Long.parseLong(row.group(4));
            long signals = Long.parseLong(row.group(5));
            assertThat(taken).as(row.group()).isPositive();
            // Only jvfio's user side may end an interrupt before the guest's handler is done (LinuxDemo.checkIrq).
            if (row.group(7).startsWith("KVM irqfd")) {
                assertThat(taken)
                        .as("the guest took an interrupt per signal of the device's line: " + row.group())
                        .isEqualTo(signals);
            } else {
                assertThat(taken).as(row.group()).isLessThanOrEqualTo(signals);
            }
        }
        Matcher hwrng = demo.outLines().stream()
                .map(HWRNG::matcher)
                .filter(Matcher::matches)
                .findFirst()
                .orElseThrow(() -> new AssertionError("no /dev/hwrng line\n" + context));
        assertThat(hwrng.group(1))
                .as("the first bytes the guest read are the seeded stream's at the offset the demo names")
                .isEqualTo(seededHex(Long.parseLong(hwrng.group(3)), Integer.parseInt(hwrng.group(2)), 16));
    }

    /** {@code length} bytes, in hex, of the stream {@code --seed seed} defines (docs/devices/virtio-rng.md), from {@code offset}. */
    private static String seededHex(long seed, int offset, int length) {
        Random random = new Random(seed);
        ByteBuffer stream = ByteBuffer.allocate((offset + length + 7) / 8 * 8).order(ByteOrder.LITTLE_ENDIAN);
        while (stream.hasRemaining()) {
            stream.putLong(random.nextLong());
        }
        return HexFormat.of().formatHex(stream.array(), offset, offset + length);
    }
}
