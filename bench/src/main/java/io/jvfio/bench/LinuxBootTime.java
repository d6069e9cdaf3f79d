package io.jvfio.bench;

import java.util.List;
import java.util.Map;

/**
 * linux-boot: the time from starting a VMM process to a stock kernel's /init, {@code jvfio run --kernel}
 * against QEMU's microvm on the same KVM, the same kernel (the PVH vmlinux inside the prepared Debian
 * bzImage, which both enter through its PVH note) and the same busybox initramfs, whose /init writes a
 * marker to the kernel log (printed on the console even under {@code quiet}) and powers off. Each side's
 * time is from its process's start to the marker on its stdout; each process must then exit 0 (ACPI
 * power-off on both). Rounds alternate the two, after warm-up rounds (discarded: the page cache, the
 * first read of the kernel). Result: jvfio's median over QEMU's (issue 16's target: 1.2).
 *
 * <pre>LinuxBootTime LAUNCHER QEMU [ROUNDS [WARMUP]]</pre>
 */
public final class LinuxBootTime {
    static final String MARKER = "jvfio-linux-boot: init ran";
    private static final double TARGET = 1.2;

    private LinuxBootTime() {}

    public static void main(String[] args) throws Exception {
        StockKernelGuest.Arguments arguments =
                StockKernelGuest.Arguments.parse(args, "LinuxBootTime LAUNCHER QEMU [ROUNDS [WARMUP]]");
        try (StockKernelGuest guest = StockKernelGuest.prepare("""
                #!/bin/busybox sh
                /bin/busybox mount -t devtmpfs dev /dev
                echo "<2>%s" > /dev/kmsg
                /bin/busybox poweroff -f
                """.formatted(MARKER), Map.of())) {
            List<String> jvfio = guest.jvfio(arguments.launcher());
            List<String> microvm = guest.microvm(arguments.qemu());
            System.out.println(
                    "kernel: " + guest.bzImage() + " (its PVH vmlinux for both); " + String.join(" ", microvm));
            StockKernelGuest.Sides sides = StockKernelGuest.alternate(
                    arguments.warmup(),
                    arguments.rounds(),
                    "s",
                    false,
                    TARGET,
                    () -> StockKernelGuest.boot(jvfio, MARKER).secondsToMarker(),
                    () -> StockKernelGuest.boot(microvm, MARKER).secondsToMarker());
            System.out.println(sides.result("linux-boot: ratio=%.2f (jvfio %.1f s, qemu microvm %.1f s to init)"));
        }
    }
}
