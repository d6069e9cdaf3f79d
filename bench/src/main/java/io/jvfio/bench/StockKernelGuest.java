package io.jvfio.bench;

import io.jvfio.machine.boot.linux.BusyboxInitramfs;
import io.jvfio.machine.boot.linux.KernelImages;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * What the benchmarks that boot Debian's stock kernel under both VMMs share: the PVH vmlinux inside the
 * prepared bzImage (which {@code jvfio run --kernel} and QEMU's microvm both enter through its PVH note), a
 * busybox initramfs with the benchmark's /init, the two command lines, and one boot run to its end. Owns the
 * initramfs's temporary file.
 *
 * @param bzImage   the prepared kernel
 * @param vmlinux   the ELF vmlinux extracted from it, which both VMMs boot
 * @param initramfs the initramfs's temporary file, deleted on close
 */
record StockKernelGuest(Path bzImage, Path vmlinux, Path initramfs) implements AutoCloseable {
    static final String APPEND = "console=ttyS0 earlyprintk=serial quiet panic=-1";
    private static final String RAM_MIB = "256";
    /** QEMU's microvm on KVM with the host's CPU, RAM_MIB, nothing but the serial console on stdio. */
    private static final String MICROVM =
            "-M microvm -accel kvm -cpu host -m " + RAM_MIB + " -nodefaults -no-reboot -serial stdio -display none";

    private static final long TIMEOUT_SECONDS = 600;

    /**
     * What both benchmarks take, {@code LAUNCHER QEMU [ROUNDS [WARMUP ...]]}: the {@code ./jvfio} launcher,
     * QEMU's binary, the rounds (default 3) and warm-up rounds (default 1), then the benchmark's own numbers.
     */
    record Arguments(String launcher, String qemu, int rounds, int warmup, String[] all) {
        /** Parses {@code args}; with fewer than two, prints {@code usage} and exits 2. */
        static Arguments parse(String[] args, String usage) {
            if (args.length < 2) {
                System.err.println("usage: " + usage);
                System.exit(2);
            }
            return new Arguments(args[0], args[1], number(args, 2, 3), number(args, 3, 1), args);
        }

        /** Argument {@code index} as a number, {@code fallback} when it is not given. */
        int number(int index, int fallback) {
            return number(all, index, fallback);
        }

        private static int number(String[] args, int index, int fallback) {
            return args.length > index ? Integer.parseInt(args[index]) : fallback;
        }
    }

    /** The prepared kernel's bzImage, or an exception saying how to get one. */
    static Path preparedBzImage() throws IOException {
        return KernelImages.preparedBzImage()
                .orElseThrow(() -> new IOException("no stock kernel: run tools/nested/prepare.sh to fetch Debian's"));
    }

    /** The prepared kernel's module {@code path} ({@link KernelImages#module}), or an exception naming it. */
    static byte[] module(String path) throws IOException, InterruptedException {
        Path vmlinuz = preparedBzImage();
        return KernelImages.module(vmlinuz, path)
                .orElseThrow(() -> new IOException(
                        "the prepared kernel has no module " + path + " under " + KernelImages.moduleTree(vmlinuz)));
    }

    /**
     * The prepared kernel's vmlinux and an initramfs of the host's static busybox with {@code init} as /init
     * and {@code files} (path in the initramfs to content).
     */
    static StockKernelGuest prepare(String init, Map<String, byte[]> files) throws IOException, InterruptedException {
        Path bzImage = preparedBzImage();
        if (!BusyboxInitramfs.available()) {
            throw new IOException("no " + BusyboxInitramfs.BUSYBOX + " (apt-get install busybox-static)");
        }
        Path vmlinux = KernelImages.extractVmlinux(bzImage)
                .orElseThrow(() -> new IOException(
                        "the bzImage's payload " + bzImage + " is in a compression no tool here reads"));
        Path initramfs = Files.createTempFile("jvfio-bench-initramfs", ".cpio");
        try {
            Files.write(initramfs, BusyboxInitramfs.withInit(init, files));
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(initramfs);
            throw e;
        }
        return new StockKernelGuest(bzImage, vmlinux, initramfs);
    }

    /** {@code LAUNCHER run --kernel ... --ram 256} and then {@code extra} (e.g. {@code --device ...}). */
    List<String> jvfio(String launcher, String... extra) {
        List<String> command = new ArrayList<>(List.of(launcher, "run", "--kernel", vmlinux.toString()));
        command.addAll(List.of("--initrd", initramfs.toString(), "--append", APPEND, "--ram", RAM_MIB));
        command.addAll(List.of(extra));
        return command;
    }

    /** {@code QEMU -M microvm -accel kvm ... -append ...} and then {@code extra} (e.g. {@code -device ...}). */
    List<String> microvm(String qemu, String... extra) {
        List<String> command = new ArrayList<>(List.of(qemu));
        command.addAll(List.of(MICROVM.split(" ")));
        command.addAll(List.of("-kernel", vmlinux.toString(), "-initrd", initramfs.toString(), "-append", APPEND));
        command.addAll(List.of(extra));
        return command;
    }

    /** One boot of one side; returns its figure. */
    @FunctionalInterface
    interface Side {
        double run() throws Exception;
    }

    /** Both sides' per-round figures. */
    record Sides(Rounds jvfio, Rounds qemu) {
        /**
         * The result line: {@code format} with the ratio of the medians, jvfio's median and QEMU's, in that
         * order.
         */
        String result(String format) {
            return String.format(Locale.ROOT, format, jvfio.median() / qemu.median(), jvfio.median(), qemu.median());
        }
    }

    /**
     * {@code warmup} rounds (discarded) and then {@code rounds} rounds of one boot a side, who goes first
     * alternating so that a trend in the machine's load favours neither; prints each round's figures (in
     * {@code unit}) and their ratio, and after the last both sides' medians and ranges, the best-of ratio
     * (the best figure is the smallest, or with {@code higherIsBetter} the largest) and whether the median
     * ratio met {@code target}.
     */
    static Sides alternate(
            int warmup, int rounds, String unit, boolean higherIsBetter, double target, Side jvfio, Side qemu)
            throws Exception {
        Rounds jvfioRounds = new Rounds();
        Rounds qemuRounds = new Rounds();
        for (int round = -warmup; round < rounds; round++) {
            boolean jvfioFirst = Math.floorMod(round, 2) == 0;
            double first = (jvfioFirst ? jvfio : qemu).run();
            double second = (jvfioFirst ? qemu : jvfio).run();
            double jvfioFigure = jvfioFirst ? first : second;
            double qemuFigure = jvfioFirst ? second : first;
            if (round >= 0) {
                jvfioRounds.add(jvfioFigure);
                qemuRounds.add(qemuFigure);
            }
            System.out.printf(
                    Locale.ROOT,
                    "%s: jvfio %.2f %s, qemu microvm %.2f %s, ratio %.2f%n",
                    round < 0 ? "warm-up (discarded)" : "round " + round,
                    jvfioFigure,
                    unit,
                    qemuFigure,
                    unit,
                    jvfioFigure / qemuFigure);
        }
        double ratio = jvfioRounds.median() / qemuRounds.median();
        double bestRatio = higherIsBetter ? jvfioRounds.max() / qemuRounds.max() : jvfioRounds.min() / qemuRounds.min();
        boolean met = higherIsBetter ? ratio >= target : ratio <= target;
        System.out.printf(
                Locale.ROOT,
                "jvfio: median %.2f %s (%.2f-%.2f); qemu microvm: median %.2f %s (%.2f-%.2f); "
                        + "best-of-%d ratio %.2f; target %.1f%s%n",
                jvfioRounds.median(),
                unit,
                jvfioRounds.min(),
                jvfioRounds.max(),
                qemuRounds.median(),
                unit,
                qemuRounds.min(),
                qemuRounds.max(),
                rounds,
                bestRatio,
                target,
                met ? "" : " MISSED");
        return new Sides(jvfioRounds, qemuRounds);
    }

    /** A finished boot: the seconds from its process's start to the marker on its console, and the console. */
    record Console(double secondsToMarker, String output) {}

    /**
     * Runs {@code command} to its end: its console (stdout) must show {@code marker}, and it must then exit 0,
     * all within the timeout (past it, it is killed). Its stderr goes to ours.
     */
    static Console boot(List<String> command, String marker) throws IOException, InterruptedException {
        ProcessBuilder builder = new ProcessBuilder(command)
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .redirectError(ProcessBuilder.Redirect.INHERIT);
        long start = System.nanoTime();
        Process process = builder.start();
        Thread watchdog = Thread.ofVirtual().start(() -> {
            try {
                if (!process.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                    ProcessTree.destroy(process);
                }
            } catch (InterruptedException e) {
                ProcessTree.destroy(process);
            }
        });
        try {
            StringBuilder console = new StringBuilder();
            long markerAt = readConsole(process.getInputStream(), marker, console);
            int code = process.waitFor();
            String last = console.toString().strip().lines().reduce((a, b) -> b).orElse("");
            if (markerAt < 0) {
                throw new IOException(command.getFirst() + " exited with " + code + " without printing '" + marker
                        + "' (killed after " + TIMEOUT_SECONDS + " s if it ran that long); its last line: " + last);
            }
            if (code != 0) {
                throw new IOException(command.getFirst() + " exited with " + code + " after '" + marker
                        + "' (killed after " + TIMEOUT_SECONDS + " s if it ran that long); its last line: " + last);
            }
            return new Console((markerAt - start) / 1e9, console.toString());
        } finally {
            ProcessTree.destroy(process);
            watchdog.interrupt();
        }
    }

    /**
     * Reads {@code console} to its end into {@code output}; returns when {@code marker} arrived
     * (System.nanoTime), -1 if it never did.
     */
    static long readConsole(InputStream console, String marker, StringBuilder output) throws IOException {
        byte[] chunk = new byte[4096];
        long markerAt = -1;
        int n;
        while ((n = console.read(chunk)) >= 0) {
            output.append(new String(chunk, 0, n, StandardCharsets.ISO_8859_1));
            // The marker may straddle two reads: look again from just before this chunk.
            if (markerAt < 0 && output.indexOf(marker, Math.max(0, output.length() - n - marker.length())) >= 0) {
                markerAt = System.nanoTime();
            }
        }
        return markerAt;
    }

    @Override
    public void close() throws IOException {
        Files.deleteIfExists(initramfs);
    }
}
