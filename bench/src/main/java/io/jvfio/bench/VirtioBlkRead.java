package io.jvfio.bench;

import io.jvfio.devices.ServerProcess;
import io.jvfio.machine.boot.linux.KernelImages;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * virtio-blk: sequential read throughput of a virtio block device in Debian's stock kernel, its own
 * virtio_mmio and virtio_blk modules driving it. jvfio's side: {@code jvfio run --kernel} with the
 * {@code virtio-blk} model that {@code jvfio serve virtio-blk --file IMAGE} serves in another process over
 * vfio-user, assigned with {@code --device vfio-platform,socket=...} (one server for the whole run, as a
 * user keeps one). QEMU's side: its microvm with its own {@code virtio-blk-device} on the same image. Same
 * kernel, initramfs and KVM on both.
 *
 * <p>/init reads the whole 64 MiB disk with {@code dd bs=1M iflag=direct} (O_DIRECT: every pass goes to the
 * device, not the guest's page cache) {@code PASSES} times, a line in the kernel log before and after each
 * pass; the kernel log's timestamps (microseconds) time the pass. A boot's figure is the median of its
 * passes in MB/s (10^6 bytes). The boot must show that the device read every pass's sectors
 * ({@code /sys/block/vda/stat}), and on jvfio's side the model must count the bytes and no I/O error.
 * Rounds alternate the two after warm-up rounds (discarded: the page cache, the server's JIT). Result:
 * jvfio's median over QEMU's (issue 17's target: at least 0.8).
 *
 * <pre>VirtioBlkRead LAUNCHER QEMU [ROUNDS [WARMUP [PASSES]]]</pre>
 */
public final class VirtioBlkRead {
    private static final String PREFIX = "jvfio-blk-bench: ";
    private static final String DONE = PREFIX + "done";
    private static final int DISK_MIB = 64;
    private static final long DISK_BYTES = DISK_MIB << 20;
    private static final long DISK_SECTORS = DISK_BYTES / 512;
    private static final double TARGET = 0.8;
    private static final Duration SERVER_TIMEOUT = Duration.ofMinutes(2);
    private static final List<String> MODULES = KernelImages.virtioModules("kernel/drivers/block/virtio_blk.ko");
    /** A line of the kernel log as busybox's dmesg prints it: {@code [   12.345678] jvfio-blk-bench: pass 1 start}. */
    private static final Pattern PASS =
            Pattern.compile("\\[\\s*(\\d+\\.\\d+)\\] " + PREFIX + "pass (\\d+) (start|end)");

    private static final Pattern SECTORS_READ = Pattern.compile(PREFIX + "sectors read: (\\d+)");

    private VirtioBlkRead() {}

    public static void main(String[] args) throws Exception {
        StockKernelGuest.Arguments arguments =
                StockKernelGuest.Arguments.parse(args, "VirtioBlkRead LAUNCHER QEMU [ROUNDS [WARMUP [PASSES]]]");
        int passes = arguments.number(4, 3);
        Path directory = Files.createTempDirectory("jvfio-bench-blk");
        try {
            Path image = writeImage(directory.resolve("disk.img"));
            Map<String, byte[]> files = new LinkedHashMap<>();
            // Numbered, so that /init's glob loads each after those it needs.
            for (int i = 0; i < MODULES.size(); i++) {
                String module = MODULES.get(i);
                files.put("modules/" + i + "-" + Path.of(module).getFileName(), StockKernelGuest.module(module));
            }
            Path socket = directory.resolve("blk.sock");
            try (StockKernelGuest guest = StockKernelGuest.prepare(init(passes), files);
                    ServerProcess server = ServerProcess.startCommand(
                            socket,
                            SERVER_TIMEOUT,
                            List.of(
                                    arguments.launcher(),
                                    "serve",
                                    "virtio-blk",
                                    "--socket",
                                    socket.toString(),
                                    "--file",
                                    image.toString()))) {
                List<String> jvfio = guest.jvfio(
                        arguments.launcher(),
                        "--device",
                        "vfio-platform,socket=" + socket + ",x-reply-timeout-ms=60000");
                List<String> microvm = guest.microvm(
                        arguments.qemu(),
                        "-drive",
                        "id=disk,file=" + image + ",format=raw,if=none",
                        "-device",
                        "virtio-blk-device,drive=disk");
                System.out.println("kernel: " + guest.bzImage() + " (its PVH vmlinux for both); " + DISK_MIB
                        + " MiB image; " + passes + " passes of dd bs=1M iflag=direct a boot");
                System.out.println("jvfio: " + String.join(" ", jvfio));
                System.out.println("qemu: " + String.join(" ", microvm));
                // The server's counters add up over its clients: a boot's are the difference from the last.
                int[] clients = {0};
                long[] before = {0, 0};
                StockKernelGuest.Sides sides = StockKernelGuest.alternate(
                        arguments.warmup(),
                        arguments.rounds(),
                        "MB/s",
                        true,
                        TARGET,
                        () -> {
                            double figure = megabytesPerSecond("jvfio", jvfio, passes);
                            Map<String, Long> device = server.awaitClientLeft(++clients[0], Duration.ofSeconds(60));
                            long bytes = device.getOrDefault("blk.bytes-read", 0L) - before[0];
                            long errors = device.getOrDefault("blk.ioerrs", 0L) - before[1];
                            before[0] += bytes;
                            before[1] += errors;
                            if (bytes < passes * DISK_BYTES || errors != 0) {
                                throw new IOException("the served virtio-blk read " + bytes + " bytes with " + errors
                                        + " I/O errors in this boot, not the " + passes + " x " + DISK_BYTES
                                        + " bytes of its passes without error: " + device);
                            }
                            System.out.println("  the model (totals over the run): " + device);
                            return figure;
                        },
                        () -> megabytesPerSecond("qemu microvm", microvm, passes));
                System.out.println(sides.result("virtio-blk: ratio=%.2f (jvfio %.0f MB/s, qemu microvm %.0f MB/s)"));
            }
        } finally {
            try (Stream<Path> paths = Files.walk(directory)) {
                for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(path);
                }
            }
        }
    }

    /**
     * The /init: load the modules, wait for /dev/vda, {@code passes} timed reads of the whole disk, then the
     * kernel log's pass lines and the disk's sectors read on the console, and power off. Its numbers are
     * for busybox to read, so they are formatted in {@link Locale#ROOT}, whatever the JVM's locale.
     */
    static String init(int passes) {
        return String.format(Locale.ROOT, """
                #!/bin/busybox sh
                /bin/busybox mount -t devtmpfs dev /dev
                /bin/busybox mount -t proc proc /proc
                /bin/busybox mkdir -p /sys
                /bin/busybox mount -t sysfs sys /sys
                {
                  for m in /modules/*.ko; do /bin/busybox insmod $m || echo "%1$sinsmod $m failed"; done
                  for second in $(/bin/busybox seq 60); do [ -b /dev/vda ] && break; /bin/busybox sleep 1; done
                  for pass in $(/bin/busybox seq 1 %2$d); do
                    echo "<6>%1$spass $pass start" > /dev/kmsg
                    /bin/busybox dd if=/dev/vda of=/dev/null bs=1M count=%3$d iflag=direct 2>/dev/null \\
                      || echo "%1$sdd failed"
                    echo "<6>%1$spass $pass end" > /dev/kmsg
                  done
                  /bin/busybox dmesg | /bin/busybox grep "%1$spass"
                  echo "%1$ssectors read: $(/bin/busybox awk '{print $3}' /sys/block/vda/stat)"
                  echo "%4$s"
                } > /dev/ttyS0 2>&1
                /bin/busybox poweroff -f
                """, PREFIX, passes, DISK_MIB, DONE);
    }

    /** One boot of {@code command}: its passes' median throughput in MB/s, after checking the device read them. */
    private static double megabytesPerSecond(String side, List<String> command, int passes)
            throws IOException, InterruptedException {
        String console = StockKernelGuest.boot(command, DONE).output();
        Rounds figures = new Rounds();
        StringBuilder each = new StringBuilder();
        for (double figure : passFigures(side, console, passes)) {
            figures.add(figure);
            each.append(String.format(Locale.ROOT, " %.1f", figure));
        }
        System.out.println("  " + side + " passes (MB/s):" + each);
        return figures.median();
    }

    /**
     * The throughput of each of a boot's {@code passes} in MB/s, from the kernel-log times on its {@code
     * console}; an exception if the guest could not read the disk, the device read fewer sectors than the
     * passes need, or a pass lacks a start or an end.
     */
    static double[] passFigures(String side, String console, int passes) throws IOException {
        for (String failure : List.of(PREFIX + "insmod", PREFIX + "dd failed")) {
            if (console.contains(failure)) {
                throw new IOException(side + ": the guest could not read /dev/vda: " + lineWith(console, failure));
            }
        }
        Matcher sectors = SECTORS_READ.matcher(console);
        if (!sectors.find() || Long.parseLong(sectors.group(1)) < passes * DISK_SECTORS) {
            throw new IOException(side + ": /dev/vda read fewer than " + passes + " x " + DISK_SECTORS
                    + " sectors from the device: " + lineWith(console, PREFIX + "sectors read"));
        }
        double[] start = new double[passes + 1];
        double[] end = new double[passes + 1];
        Matcher pass = PASS.matcher(console);
        while (pass.find()) {
            int n = Integer.parseInt(pass.group(2));
            if (n >= 1 && n <= passes) {
                (pass.group(3).equals("start") ? start : end)[n] = Double.parseDouble(pass.group(1));
            }
        }
        double[] figures = new double[passes];
        for (int n = 1; n <= passes; n++) {
            double seconds = end[n] - start[n];
            if (start[n] == 0 || end[n] == 0 || seconds <= 0) {
                throw new IOException(side + ": no kernel-log times for pass " + n + " on the console");
            }
            figures[n - 1] = DISK_BYTES / 1e6 / seconds;
        }
        return figures;
    }

    /** The first line of {@code console} that holds {@code text}, or a note that none does. */
    private static String lineWith(String console, String text) {
        return console.lines()
                .filter(line -> line.contains(text))
                .findFirst()
                .map(String::strip)
                .orElse("(no line with '" + text + "')");
    }

    /**
     * A disk of pseudo-random bytes (a xorshift stream): no sector reads as a hole or compresses, on either
     * side.
     */
    private static Path writeImage(Path path) throws IOException {
        byte[] chunk = new byte[1 << 20];
        long state = 0x9E3779B97F4A7C15L;
        try (OutputStream out = Files.newOutputStream(path)) {
            for (int mib = 0; mib < DISK_MIB; mib++) {
                for (int i = 0; i < chunk.length; i += 8) {
                    state ^= state << 13;
                    state ^= state >>> 7;
                    state ^= state << 17;
                    for (int b = 0; b < 8; b++) {
                        chunk[i + b] = (byte) (state >>> (8 * b));
                    }
                }
                out.write(chunk);
            }
        }
        return path;
    }
}
