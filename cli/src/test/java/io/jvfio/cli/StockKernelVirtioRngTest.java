package io.jvfio.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.jvfio.devices.ServerProcess;
import io.jvfio.sys.testing.StockKernel;
import io.jvfio.sys.testing.Tiers;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.regex.Pattern;
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
    /**
     * The driver core's debug messages (dynamic debug, on in Debian's kernels) put each binding in the
     * kernel log, which virtio_mmio itself does not; under {@code quiet} they reach the log, not the console.
     */
    private static final String APPEND =
            "console=ttyS0 earlyprintk=serial quiet panic=-1 dyndbg=\"file drivers/base/dd.c +p\"";
    /** What the driver core logs when virtio_mmio has bound the DSDT's device. */
    private static final Pattern BOUND = Pattern.compile("driver: 'virtio-mmio': \\w+: bound to device 'LNRO0005:00'");

    private static final String REPORT_MARKER = "jvfio-rng: report";
    private static final String BYTES_PREFIX = "jvfio-rng: bytes: ";
    private static final long SEED = 20261203;
    private static final int READ = 64;
    /** The platform bus's first GSI, which the only assigned device gets. */
    private static final int GSI = 16;
    /** Debian builds these =m; the nested guest's own initramfs has none of them, so they come from the package. */
    private static final List<String> MODULES = List.of(
            "kernel/drivers/virtio/virtio_ring.ko",
            "kernel/drivers/virtio/virtio.ko",
            "kernel/drivers/virtio/virtio_mmio.ko",
            "kernel/drivers/char/hw_random/virtio-rng.ko");
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
    void needsAKvmThatRunsLinux() {
        StockKernelBootTest.assumeAKvmThatRunsLinux();
    }

    /**
     * Both injection paths, and on the user-side one both ways of ending an injection: at the guest's write
     * to InterruptACK (the device's declared ack, precise EOI) and at its first trapped access (the seed's).
     */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"x-irqfd=on", "x-irqfd=off", "x-irqfd=off,x-precise-eoi=off"})
    void theStockKernelsVirtioRngReadsTheSeededBytesFromTheServedDevice(String paths) throws Exception {
        Path kernel = StockKernel.assumeBzImage();
        Map<String, byte[]> modules = new LinkedHashMap<>();
        for (String module : MODULES) {
            modules.put("modules/" + Path.of(module).getFileName(), StockKernel.assumeModule(module));
        }
        Path initramfs = Files.write(directory.resolve("initramfs.cpio"), StockKernel.busyboxInitramfs(INIT, modules));
        try (ServerProcess rng = ServeCommand.startChild(
                "virtio-rng",
                directory.resolve("rng.sock"),
                Duration.ofSeconds(120),
                List.of(),
                "--seed",
                Long.toString(SEED))) {
            long started = System.nanoTime();
            CliRunner run = CliRunner.run(
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
                    "300",
                    "--device",
                    "vfio-platform,socket=" + rng.socket() + "," + paths + ",x-reply-timeout-ms=60000");
            System.err.printf(
                    "%s: booted, read /dev/hwrng and powered off in %.1f s%n",
                    paths, (System.nanoTime() - started) / 1e9);
            Map<String, Long> device = rng.awaitClientLeft(1, Duration.ofSeconds(60));

            String console = run.out();
            String context = "the console:\n" + console + "\nstderr:\n" + run.err() + "\nthe device: " + device;
            assertThat(run.exitCode()).as(context).isZero();
            assertThat(console)
                    .as(context)
                    .contains(REPORT_MARKER)
                    .doesNotContain("jvfio-rng: insmod", "jvfio-rng: reading /dev/hwrng failed");
            String report = console.substring(console.indexOf(REPORT_MARKER));
            assertThat(report)
                    .as("virtio_mmio bound the DSDT's LNRO0005\n" + context)
                    .containsPattern(BOUND)
                    .contains("jvfio-rng: virtio-mmio binds: LNRO0005:00");
            assertThat(report)
                    .as("virtio-rng became the current hwrng\n" + context)
                    .containsPattern("jvfio-rng: rng_current: virtio_rng\\.\\d+");
            byte[] read = HexFormat.of()
                    .parseHex(report.lines()
                            .filter(line -> line.startsWith(BYTES_PREFIX))
                            .findFirst()
                            .orElseThrow(() -> new AssertionError("no bytes read\n" + context))
                            .substring(BYTES_PREFIX.length())
                            .strip());
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
            String interrupts = report.lines()
                    .filter(line -> line.matches(" *\\d+:.* IO-APIC +" + GSI + "-fasteoi +virtio\\d+"))
                    .findFirst()
                    .orElseThrow(() -> new AssertionError("virtio on IO-APIC pin " + GSI
                            + " (level: fasteoi) is missing from /proc/interrupts\n" + context));
            long guestInterrupts = Long.parseLong(interrupts.trim().split("\\s+")[1]);
            assertThat(guestInterrupts).as(interrupts).isPositive();
            assertThat(device.get("line0.signals")).as(context).isGreaterThanOrEqualTo(guestInterrupts);
            assertThat(device).as(context).containsEntry("device.needs-reset", 0L);
            System.err.printf(
                    "%s: \"%s\"; %d bytes at offset %d of the seeded stream; /proc/interrupts: \"%s\"; "
                            + "the device: %s%n",
                    paths,
                    report.lines()
                            .filter(line -> BOUND.matcher(line).find())
                            .findFirst()
                            .orElseThrow()
                            .strip(),
                    read.length,
                    offset,
                    interrupts.strip(),
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
