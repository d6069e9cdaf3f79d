package io.jvfio.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.jvfio.devices.ServerProcess;
import io.jvfio.machine.boot.linux.KernelImages;
import io.jvfio.machine.testing.StockKernel;
import io.jvfio.sys.testing.Tiers;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Issue 17's virtio-blk: Debian's stock kernel drives, with its own virtio_mmio and virtio_blk modules, a
 * virtio block device that another process serves over vfio-user from a host file
 * ({@code jvfio serve virtio-blk --file}) and that {@code jvfio run --device} assigns. /init reads the
 * first sectors of the disk, which must be the pattern the test wrote into the file, and its serial
 * (GET_ID), writes another pattern at a known sector with {@code conv=fsync}, and powers off; the file
 * must then hold it. A second disk is served {@code --read-only}: the guest must see it read-only and be
 * refused a write, which must never reach its device or file. /init tells the two apart by their serials,
 * since which one becomes vda is the driver's business. On both injection paths, where the guest's, the
 * devices' and jvfio's interrupt counts must agree.
 */
@Tag(Tiers.LINUX)
class StockKernelVirtioBlkTest {
    private static final String REPORT_MARKER = "jvfio-blk: report";
    private static final String READ_PREFIX = "jvfio-blk: read: ";
    /** A 4 MiB disk: 8192 sectors. */
    private static final int SECTORS = 8192;
    /** The guest reads the first 4 sectors and writes 8 sectors at sector 1000. */
    private static final int READ_SECTORS = 4;

    private static final int WRITE_SECTOR = 1000;
    private static final int WRITE_SECTORS = 8;
    /** The read-only disk: 1 MiB, so that the kernel's lines about the two disks differ. */
    private static final int READ_ONLY_SECTORS = 2048;

    private static final List<String> MODULES = KernelImages.virtioModules("kernel/drivers/block/virtio_blk.ko");
    /**
     * The second pattern is /write.bin, which the test puts in the initramfs. Whatever of the disk the page
     * cache holds at the read came from the device (the partition scan), so the read shows the device's data.
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
              for m in virtio_ring virtio virtio_mmio virtio_blk; do
                /bin/busybox insmod /modules/$m.ko || echo "jvfio-blk: insmod $m failed"
              done
              tries=0
              until [ -b /dev/vda ] && [ -b /dev/vdb ] || [ $tries -ge 60 ]; do
                /bin/busybox sleep 1; tries=$((tries + 1))
              done
              for d in vda vdb; do
                case "$(/bin/busybox cat /sys/block/$d/serial)" in
                  disk.img) rw=$d ;;
                  read-only.img) ro=$d ;;
                esac
              done
              echo "jvfio-blk: read-only: $(/bin/busybox cat /sys/block/$ro/ro)"
              if /bin/busybox dd if=/write.bin of=/dev/$ro bs=512 count=%6$d conv=fsync 2>/ro-write.err; then
                echo "jvfio-blk: writing the read-only disk succeeded"
              else
                echo "jvfio-blk: writing the read-only disk: $(/bin/busybox head -n 1 /ro-write.err)"
              fi
              echo "jvfio-blk: size: $(/bin/busybox cat /sys/block/$rw/size)"
              echo "jvfio-blk: serial: $(/bin/busybox cat /sys/block/$rw/serial)"
              echo "jvfio-blk: virtio-mmio binds: $(/bin/busybox ls /sys/bus/platform/drivers/virtio-mmio | /bin/busybox grep LNRO | /bin/busybox tr '\\n' ' ')"
              if /bin/busybox dd if=/dev/$rw of=/read.bin bs=512 count=%3$d 2>/dev/null; then
                echo "%4$s$(/bin/busybox hexdump -v -e '1/1 "%%02x"' /read.bin)"
              else
                echo "jvfio-blk: reading the disk failed"
              fi
              /bin/busybox dd if=/write.bin of=/dev/$rw bs=512 seek=%5$d count=%6$d conv=fsync 2>/dev/null \\
                || echo "jvfio-blk: writing the disk failed"
              /bin/busybox sync
              /bin/busybox dmesg | /bin/busybox grep -iE "virtio|LNRO0005|vd[ab]"
              /bin/busybox grep virtio /proc/interrupts
              echo "jvfio-blk: done"
            } > /dev/ttyS0 2>&1
            /bin/busybox poweroff -f
            """.formatted(
                    StockKernel.INIT_MARKER, REPORT_MARKER, READ_SECTORS, READ_PREFIX, WRITE_SECTOR, WRITE_SECTORS);

    @TempDir
    Path directory;

    @BeforeEach
    void needsAKvmThatRunsLinux() throws Exception {
        StockKernelBootTest.assumeAKvmThatRunsLinux();
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"x-irqfd=on", "x-irqfd=off"})
    void theStockKernelsVirtioBlkReadsThePatternAndWritesAnotherIntoTheServedFile(String paths) throws Exception {
        Map<String, byte[]> files = AssignedDeviceBoot.modules(MODULES);
        byte[] second = pattern(WRITE_SECTORS * 512, 0xA5);
        files.put("write.bin", second);
        byte[] initramfs = StockKernel.busyboxInitramfs(INIT, files);
        byte[] first = pattern(SECTORS * 512, 0x17);
        Path disk = Files.write(directory.resolve("disk.img"), first);
        byte[] third = pattern(READ_ONLY_SECTORS * 512, 0x3C);
        Path readOnlyDisk = Files.write(directory.resolve("read-only.img"), third);
        try (ServerProcess blk = ServeCommand.startChild(
                        "virtio-blk",
                        directory.resolve("blk.sock"),
                        Duration.ofSeconds(120),
                        List.of(),
                        "--file",
                        disk.toString());
                ServerProcess readOnly = ServeCommand.startChild(
                        "virtio-blk",
                        directory.resolve("read-only.sock"),
                        Duration.ofSeconds(120),
                        List.of(),
                        "--file",
                        readOnlyDisk.toString(),
                        "--read-only")) {
            AssignedDeviceBoot.Boot boot = AssignedDeviceBoot.boot(
                    directory,
                    initramfs,
                    AssignedDeviceBoot.APPEND_LOGGING_BINDINGS,
                    List.of(blk, readOnly),
                    paths,
                    "booted, read and wrote one disk, failed to write the read-only one and powered off");
            String context = boot.context();
            Map<String, Long> device = boot.device();
            String report = boot.report(REPORT_MARKER);
            assertThat(boot.console())
                    .as(context)
                    .contains("jvfio-blk: done")
                    .doesNotContain(
                            "jvfio-blk: insmod",
                            "jvfio-blk: reading the disk failed",
                            "jvfio-blk: writing the disk failed");
            assertThat(report)
                    .as("virtio_mmio bound the DSDT's LNRO0005\n" + context)
                    .containsPattern(AssignedDeviceBoot.VIRTIO_MMIO_BOUND)
                    .contains("jvfio-blk: virtio-mmio binds: LNRO0005:00 LNRO0005:01");
            assertThat(report)
                    .as("virtio_blk saw the file's capacity\n" + context)
                    .contains("jvfio-blk: size: " + SECTORS)
                    .containsPattern("virtio_blk virtio\\d+: \\[vd[ab]\\] " + SECTORS + " 512-byte logical blocks")
                    .containsPattern(
                            "virtio_blk virtio\\d+: \\[vd[ab]\\] " + READ_ONLY_SECTORS + " 512-byte logical blocks");
            assertThat(report)
                    .as("GET_ID answered the file's name\n" + context)
                    .contains("jvfio-blk: serial: disk.img");
            byte[] read = boot.hexLine(report, READ_PREFIX);
            assertThat(read)
                    .as("the guest read the file's first sectors\n" + context)
                    .isEqualTo(Arrays.copyOf(first, READ_SECTORS * 512));
            byte[] after = Files.readAllBytes(disk);
            assertThat(Arrays.copyOfRange(after, WRITE_SECTOR * 512, (WRITE_SECTOR + WRITE_SECTORS) * 512))
                    .as("the guest's write reached the file\n" + context)
                    .isEqualTo(second);
            assertThat(Arrays.copyOf(after, WRITE_SECTOR * 512))
                    .as("the sectors before it are the first pattern")
                    .isEqualTo(Arrays.copyOf(first, WRITE_SECTOR * 512));
            assertThat(report)
                    .as("the read-only disk: virtio_blk marked it so and refused the write\n" + context)
                    .contains("jvfio-blk: read-only: 1")
                    .containsPattern("jvfio-blk: writing the read-only disk: .*Operation not permitted");
            assertThat(Files.readAllBytes(readOnlyDisk))
                    .as("the read-only file is unchanged")
                    .isEqualTo(third);
            assertThat(boot.devices().get(1))
                    .as("no write reached the read-only disk's device\n" + context)
                    .containsEntry("blk.writes", 0L)
                    .containsEntry("blk.ioerrs", 0L)
                    .containsEntry("device.needs-reset", 0L);
            String interrupts = boot.levelInterrupts(report, AssignedDeviceBoot.FIRST_GSI, "virtio\\d+", true);
            String readOnlyInterrupts =
                    boot.levelInterrupts(report, AssignedDeviceBoot.FIRST_GSI + 1, "virtio\\d+", true);
            assertThat(device)
                    .as(context)
                    .containsEntry("device.needs-reset", 0L)
                    .containsEntry("blk.ioerrs", 0L);
            assertThat(device.get("blk.flushes"))
                    .as("conv=fsync flushed\n" + context)
                    .isPositive();
            System.err.printf(
                    "%s: \"%s\"; /proc/interrupts: \"%s\", \"%s\"; jvfio: \"%s\", \"%s\"; the devices: %s%n",
                    paths,
                    report.lines()
                            .filter(line -> line.contains("jvfio-blk: writing the read-only disk"))
                            .findFirst()
                            .orElseThrow()
                            .strip(),
                    interrupts,
                    readOnlyInterrupts,
                    boot.irqSummary(AssignedDeviceBoot.FIRST_GSI),
                    boot.irqSummary(AssignedDeviceBoot.FIRST_GSI + 1),
                    boot.devices());
        }
    }

    /** Bytes that differ from sector to sector, so a sector read from the wrong place shows. */
    private static byte[] pattern(int length, int seed) {
        byte[] bytes = new byte[length];
        for (int i = 0; i < length; i++) {
            bytes[i] = (byte) (i * 31 + (i >> 9) * 7 + seed);
        }
        return bytes;
    }
}
