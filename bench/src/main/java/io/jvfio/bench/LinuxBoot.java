package io.jvfio.bench;

import io.jvfio.sys.testing.BusyboxInitramfs;
import io.jvfio.sys.testing.KernelImages;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * linux-boot: the time from starting a VMM process to a stock kernel's /init, {@code jvfio run --kernel}
 * against QEMU's microvm on the same KVM, the same kernel (the PVH vmlinux inside the prepared Debian
 * bzImage, which both enter through its PVH note) and the same busybox initramfs, whose /init writes a
 * marker to the kernel log (printed on the console even under {@code quiet}) and powers off. Each side's
 * time is from its process's start to the marker on its stdout; each process must then exit 0 (ACPI
 * power-off on both). Rounds alternate the two, after warm-up rounds (discarded: the page cache, the
 * first read of the kernel). Result: jvfio's median over QEMU's (issue 16's target: 1.2).
 *
 * <pre>LinuxBoot LAUNCHER QEMU [ROUNDS [WARMUP]]</pre>
 */
public final class LinuxBoot {
    static final String MARKER = "jvfio-linux-boot: init ran";
    private static final String APPEND = "console=ttyS0 earlyprintk=serial quiet panic=-1";
    private static final String RAM_MIB = "256";
    private static final long TIMEOUT_SECONDS = 600;
    private static final double TARGET = 1.2;

    private LinuxBoot() {}

    public static void main(String[] args) throws Exception {
        if (args.length < 2) {
            System.err.println("usage: LinuxBoot LAUNCHER QEMU [ROUNDS [WARMUP]]");
            System.exit(2);
        }
        String launcher = args[0];
        String qemu = args[1];
        int rounds = args.length > 2 ? Integer.parseInt(args[2]) : 3;
        int warmup = args.length > 3 ? Integer.parseInt(args[3]) : 1;
        Path bzImage = KernelImages.preparedBzImage()
                .orElseThrow(() -> new IOException("no stock kernel: run tools/nested/prepare.sh to fetch Debian's"));
        if (!BusyboxInitramfs.available()) {
            throw new IOException("no " + BusyboxInitramfs.BUSYBOX + " (apt-get install busybox-static)");
        }
        Path vmlinux = KernelImages.extractVmlinux(bzImage)
                .orElseThrow(() -> new IOException(
                        "the bzImage's payload " + bzImage + " is in a compression no tool here reads"));
        Path initramfs = Files.createTempFile("jvfio-bench-initramfs", ".cpio");
        try {
            Files.write(initramfs, BusyboxInitramfs.withInit("""
                    #!/bin/busybox sh
                    /bin/busybox mount -t devtmpfs dev /dev
                    echo "<2>%s" > /dev/kmsg
                    /bin/busybox poweroff -f
                    """.formatted(MARKER)));
            List<String> jvfio = List.of(
                    launcher,
                    "run",
                    "--kernel",
                    vmlinux.toString(),
                    "--initrd",
                    initramfs.toString(),
                    "--append",
                    APPEND,
                    "--ram",
                    RAM_MIB);
            List<String> microvm = List.of(
                    qemu,
                    "-M",
                    "microvm",
                    "-accel",
                    "kvm",
                    "-cpu",
                    "host",
                    "-m",
                    RAM_MIB,
                    "-nodefaults",
                    "-no-reboot",
                    "-serial",
                    "stdio",
                    "-display",
                    "none",
                    "-kernel",
                    vmlinux.toString(),
                    "-initrd",
                    initramfs.toString(),
                    "-append",
                    APPEND);
            System.out.println("kernel: " + bzImage + " (its PVH vmlinux for both); " + String.join(" ", microvm));
            Rounds jvfioRounds = new Rounds();
            Rounds qemuRounds = new Rounds();
            for (int round = -warmup; round < rounds; round++) {
                // Who goes first alternates, so a trend in the machine's load favours neither.
                boolean jvfioFirst = Math.floorMod(round, 2) == 0;
                double first = secondsToInit(jvfioFirst ? jvfio : microvm);
                double second = secondsToInit(jvfioFirst ? microvm : jvfio);
                double jvfioSeconds = jvfioFirst ? first : second;
                double qemuSeconds = jvfioFirst ? second : first;
                if (round >= 0) {
                    jvfioRounds.add(jvfioSeconds);
                    qemuRounds.add(qemuSeconds);
                }
                System.out.printf(
                        Locale.ROOT,
                        "%s: jvfio %.2f s, qemu microvm %.2f s, ratio %.2f%n",
                        round < 0 ? "warm-up (discarded)" : "round " + round,
                        jvfioSeconds,
                        qemuSeconds,
                        jvfioSeconds / qemuSeconds);
            }
            double ratio = jvfioRounds.median() / qemuRounds.median();
            System.out.printf(
                    Locale.ROOT,
                    "jvfio: median %.2f s (%.2f-%.2f); qemu microvm: median %.2f s (%.2f-%.2f); "
                            + "best-of-%d ratio %.2f; target %.1f%s%n",
                    jvfioRounds.median(),
                    jvfioRounds.min(),
                    jvfioRounds.max(),
                    qemuRounds.median(),
                    qemuRounds.min(),
                    qemuRounds.max(),
                    rounds,
                    jvfioRounds.min() / qemuRounds.min(),
                    TARGET,
                    ratio <= TARGET ? "" : " MISSED");
            System.out.printf(
                    Locale.ROOT,
                    "linux-boot: ratio=%.2f (jvfio %.1f s, qemu microvm %.1f s to init)%n",
                    ratio,
                    jvfioRounds.median(),
                    qemuRounds.median());
        } finally {
            Files.deleteIfExists(initramfs);
        }
    }

    /**
     * Starts {@code command} and returns the seconds until {@link #MARKER} appears on its stdout; it must
     * then exit 0, all within the timeout (past it, it is killed). Its stderr goes to ours.
     */
    private static double secondsToInit(List<String> command) throws IOException, InterruptedException {
        ProcessBuilder builder = new ProcessBuilder(command)
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .redirectError(ProcessBuilder.Redirect.INHERIT);
        long start = System.nanoTime();
        Process process = builder.start();
        Thread watchdog = Thread.ofVirtual().start(() -> {
            try {
                if (!process.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                }
            } catch (InterruptedException e) {
                process.destroyForcibly();
            }
        });
        try {
            long marker = awaitMarker(process.getInputStream());
            int code = process.waitFor();
            if (marker < 0) {
                throw new IOException(command.getFirst() + " exited with " + code + " without printing '" + MARKER
                        + "' (killed after " + TIMEOUT_SECONDS + " s if it ran that long)");
            }
            if (code != 0) {
                throw new IOException(command.getFirst() + " exited with " + code + " after init (killed after "
                        + TIMEOUT_SECONDS + " s if it ran that long)");
            }
            return (marker - start) / 1e9;
        } finally {
            process.destroyForcibly();
            watchdog.interrupt();
        }
    }

    /**
     * Reads {@code console} to its end; returns when the marker arrived (System.nanoTime), -1 if it never
     * did.
     */
    private static long awaitMarker(InputStream console) throws IOException {
        byte[] chunk = new byte[4096];
        StringBuilder seen = new StringBuilder();
        long marker = -1;
        int n;
        while ((n = console.read(chunk)) >= 0) {
            if (marker < 0) {
                seen.append(new String(chunk, 0, n, StandardCharsets.ISO_8859_1));
                if (seen.indexOf(MARKER) >= 0) {
                    marker = System.nanoTime();
                }
            }
        }
        return marker;
    }
}
