package io.jvfio.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.jvfio.devices.ServerProcess;
import io.jvfio.machine.boot.linux.KernelImages;
import io.jvfio.machine.testing.StockKernel;
import io.jvfio.sys.testing.Tiers;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Issue 17's virtio part: Debian's stock kernel drives, with its own virtio_mmio and virtio-rng modules, a
 * virtio entropy device that another process serves over vfio-user ({@code jvfio serve virtio-rng --seed})
 * and that {@code jvfio run --device} assigns. The kernel finds it in the DSDT as LNRO0005; its virtqueue
 * lives in guest RAM, which the device reaches only through the DMA windows jvfio mapped for it. /init
 * reads 64 bytes from /dev/hwrng, and they must be the seeded stream's. On both injection paths.
 */
@Tag(Tiers.LINUX)
class StockKernelVirtioRngTest {
    private static final String REPORT_MARKER = "jvfio-rng: report";
    private static final String BYTES_PREFIX = "jvfio-rng: bytes: ";
    private static final long SEED = 20261203;
    private static final int READ = 64;
    private static final List<String> MODULES =
            KernelImages.virtioModules("kernel/drivers/char/hw_random/virtio-rng.ko");
    /**
     * One read(2) of 64 bytes (dd bs=64 count=1): rng-core fills its 64-byte buffer with one call into the
     * driver while it holds its reading lock, so the bytes are one contiguous run of the device's stream
     * even if rng-core's own kthread takes entropy between reads.
     */
    private static final String INIT = """
            #!/bin/busybox sh
            /bin/busybox mount -t devtmpfs dev /dev
            /bin/busybox mount -t proc proc /proc
            /bin/busybox mkdir -p /sys
            /bin/busybox mount -t sysfs sys /sys
            echo "<2>%1$s" > /dev/kmsg
            {
              echo "%2$s"
              for m in virtio_ring virtio virtio_mmio virtio-rng; do
                /bin/busybox insmod /modules/$m.ko || echo "jvfio-rng: insmod $m failed"
              done
              tries=0
              until [ "$(/bin/busybox cat /sys/class/misc/hw_random/rng_current 2>/dev/null)" != "none" ] || [ $tries -ge 60 ]; do
                /bin/busybox sleep 1; tries=$((tries + 1))
              done
              echo "jvfio-rng: rng_current: $(/bin/busybox cat /sys/class/misc/hw_random/rng_current)"
              echo "jvfio-rng: virtio-mmio binds: $(/bin/busybox ls /sys/bus/platform/drivers/virtio-mmio | /bin/busybox grep LNRO)"
              if /bin/busybox dd if=/dev/hwrng of=/rng.bin bs=%3$d count=1 2>/dev/null; then
                echo "%4$s$(/bin/busybox hexdump -v -e '1/1 "%%02x"' /rng.bin)"
              else
                echo "jvfio-rng: reading /dev/hwrng failed"
              fi
              /bin/busybox dmesg | /bin/busybox grep -iE "virtio|LNRO0005|hwrng|hw_random"
              /bin/busybox grep virtio /proc/interrupts
            } > /dev/ttyS0 2>&1
            /bin/busybox poweroff -f
            """.formatted(StockKernel.INIT_MARKER, REPORT_MARKER, READ, BYTES_PREFIX);

    @TempDir
    Path directory;

    @BeforeEach
    void needsAKvmThatRunsLinux() throws Exception {
        StockKernelBootTest.assumeAKvmThatRunsLinux();
    }

    /**
     * Both injection paths, and on the user-side one both ways of ending an injection: at the guest's write
     * to InterruptACK (the device's declared ack, precise EOI) and at its first trapped access (the seed's).
     */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"x-irqfd=on", "x-irqfd=off", "x-irqfd=off,x-precise-eoi=off"})
    void theStockKernelsVirtioRngReadsTheSeededBytesFromTheServedDevice(String paths) throws Exception {
        byte[] initramfs = StockKernel.busyboxInitramfs(INIT, AssignedDeviceBoot.modules(MODULES));
        try (ServerProcess rng = ServeCommand.startChild(
                "virtio-rng",
                directory.resolve("rng.sock"),
                Duration.ofSeconds(120),
                List.of(),
                "--seed",
                Long.toString(SEED))) {
            AssignedDeviceBoot.Boot boot = AssignedDeviceBoot.boot(
                    directory,
                    initramfs,
                    AssignedDeviceBoot.APPEND_LOGGING_BINDINGS,
                    rng,
                    paths,
                    "booted, read /dev/hwrng and powered off");
            String context = boot.context();
            Map<String, Long> device = boot.device();
            String report = boot.report(REPORT_MARKER);
            assertThat(boot.console())
                    .as(context)
                    .doesNotContain("jvfio-rng: insmod", "jvfio-rng: reading /dev/hwrng failed");
            assertThat(report)
                    .as("virtio_mmio bound the DSDT's LNRO0005\n" + context)
                    .containsPattern(AssignedDeviceBoot.VIRTIO_MMIO_BOUND)
                    .contains("jvfio-rng: virtio-mmio binds: LNRO0005:00");
            assertThat(report)
                    .as("virtio-rng became the current hwrng\n" + context)
                    .containsPattern("jvfio-rng: rng_current: virtio_rng\\.\\d+");
            byte[] read = boot.hexLine(report, BYTES_PREFIX);
            assertThat(read).as(context).hasSize(READ);
            long served = device.get("queue0.bytes");
            int offset = offsetInSeededStream(read, (int) served);
            // rng-core takes up to 32 bytes when the device registers and its kthread 64 at a time: whatever the
            // kernel took before the read, the read is the stream's next run, at a multiple of 32.
            assertThat(offset)
                    .as(
                            "the 64 bytes /dev/hwrng gave are a run of the seeded stream (%d bytes served)\n%s",
                            served, context)
                    .isNotNegative();
            String interrupts = boot.levelInterrupts(
                    report, AssignedDeviceBoot.FIRST_GSI, "virtio\\d+", !paths.contains("x-precise-eoi=off"));
            assertThat(device).as(context).containsEntry("device.needs-reset", 0L);
            System.err.printf(
                    "%s: \"%s\"; %d bytes at offset %d of the seeded stream; /proc/interrupts: \"%s\"; "
                            + "the device: %s%n",
                    paths,
                    report.lines()
                            .filter(line -> AssignedDeviceBoot.VIRTIO_MMIO_BOUND
                                    .matcher(line)
                                    .find())
                            .findFirst()
                            .orElseThrow()
                            .strip(),
                    read.length,
                    offset,
                    interrupts,
                    device);
        }
    }

    /**
     * Where {@code read} starts in the first {@code served} bytes of the stream {@code --seed} defines
     * (docs/devices/virtio-rng.md: the little-endian bytes of {@code java.util.Random(seed).nextLong()}s),
     * looking at multiples of 32; -1 if nowhere.
     */
    private static int offsetInSeededStream(byte[] read, int served) {
        Random random = new Random(SEED);
        ByteBuffer stream =
                ByteBuffer.allocate((Math.max(served, read.length) + 7) / 8 * 8).order(ByteOrder.LITTLE_ENDIAN);
        while (stream.hasRemaining()) {
            stream.putLong(random.nextLong());
        }
        byte[] bytes = stream.array();
        for (int offset = 0; offset + read.length <= bytes.length; offset += 32) {
            if (Arrays.equals(bytes, offset, offset + read.length, read, 0, read.length)) {
                return offset;
            }
        }
        return -1;
    }
}
