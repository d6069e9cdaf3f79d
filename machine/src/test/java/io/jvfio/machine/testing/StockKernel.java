package io.jvfio.machine.testing;

import io.jvfio.machine.boot.linux.BusyboxInitramfs;
import io.jvfio.machine.boot.linux.KernelImages;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Assumptions;

/**
 * Debian's stock amd64 kernel, as tools/nested/prepare.sh fetches it ({@code $JVFIO_NESTED_CACHE}, default
 * {@code ~/.cache/jvfio-nested}, then {@code current/vmlinuz}); the vmlinux inside it, extracted the way the
 * kernel's scripts/extract-vmlinux does; and a tiny busybox initramfs for boot tests. The tier's view of
 * {@link KernelImages} and {@link BusyboxInitramfs}: what is missing skips the test, loudly.
 */
public final class StockKernel {
    /** The byte the test initramfs's /init writes to the exit port (0x501) through /dev/port. */
    public static final int INIT_EXIT_CODE = 42;
    /** The line the test initramfs's /init writes to the kernel log. */
    public static final String INIT_MARKER = "jvfio-linux-smoke: init ran";

    private static Path extracted;

    private StockKernel() {}

    /** The prepared kernel's bzImage, if tools/nested/prepare.sh has run here. */
    public static Optional<Path> bzImage() {
        return KernelImages.preparedBzImage();
    }

    /** Skips the calling test, saying so on stderr, when there is no prepared kernel. */
    public static Path assumeBzImage() {
        Optional<Path> path = bzImage();
        if (path.isEmpty()) {
            System.err.println("SKIPPED: no stock kernel (run tools/nested/prepare.sh to fetch Debian's)");
        }
        Assumptions.assumeTrue(path.isPresent(), "no stock kernel: run tools/nested/prepare.sh");
        return path.get();
    }

    /**
     * The ELF vmlinux compressed inside the bzImage ({@link KernelImages#extractVmlinux}), extracted once
     * per JVM; skips when its compression is one no tool here reads.
     */
    public static synchronized Path assumeVmlinux() throws IOException, InterruptedException {
        if (extracted != null) {
            return extracted;
        }
        Optional<Path> vmlinux = KernelImages.extractVmlinux(assumeBzImage());
        Assumptions.assumeTrue(vmlinux.isPresent(), "the bzImage's payload is in a compression no tool here reads");
        extracted = vmlinux.get();
        return extracted;
    }

    /** How the test initramfs's /init ends the machine. */
    public enum InitEnd {
        /** {@link #INIT_EXIT_CODE} to port 0x501 through /dev/port (jvfio's exit port). */
        EXIT_PORT,
        /** busybox {@code poweroff -f}: the kernel's ACPI power-off, through the FADT's sleep registers. */
        POWER_OFF
    }

    /** The line the test initramfs's /init prints before the lines of the kernel log it checks. */
    public static final String REPORT_MARKER = "jvfio-linux-smoke: report";

    /**
     * An uncompressed newc cpio with the host's static busybox as /bin/busybox and an /init that mounts
     * devtmpfs and proc, writes {@link #INIT_MARKER} to the kernel log at KERN_CRIT (printed even under
     * {@code quiet}), prints on ttyS0 (so through the 8250 driver and its interrupt) {@link #REPORT_MARKER}
     * and then the kernel log's lines about ACPI tables, PnP and ttyS0, ttyS0's line of /proc/interrupts
     * and the CPU's vendor, and ends as {@code end} says; if the exit port does nothing, it powers off.
     */
    public static byte[] busyboxInitramfs(InitEnd end) throws IOException {
        Assumptions.assumeTrue(
                BusyboxInitramfs.available(), "no " + BusyboxInitramfs.BUSYBOX + " (apt-get install busybox-static)");
        String exitPort = """
                /bin/busybox printf '\\%03o' | /bin/busybox dd of=/dev/port bs=1 seek=%d count=1 2>/dev/null
                """.formatted(INIT_EXIT_CODE, 0x501);
        String init = """
                #!/bin/busybox sh
                /bin/busybox mount -t devtmpfs dev /dev
                /bin/busybox mount -t proc proc /proc
                echo "<2>%s" > /dev/kmsg
                {
                  echo "%s"
                  /bin/busybox dmesg | /bin/busybox grep -E "ACPI: (RSDP|XSDT|FACP|APIC|DSDT) |PnP ACPI|ttyS0 at"
                  /bin/busybox grep ttyS0 /proc/interrupts
                  /bin/busybox grep -m1 vendor_id /proc/cpuinfo
                } > /dev/ttyS0 2>&1
                %s/bin/busybox poweroff -f
                """.formatted(INIT_MARKER, REPORT_MARKER, end == InitEnd.EXIT_PORT ? exitPort : "");
        return busyboxInitramfs(init);
    }

    /**
     * An uncompressed newc cpio with the host's static busybox as /bin/busybox, empty /dev and /proc, and
     * {@code init} (a script for {@code /bin/busybox sh}) as /init.
     */
    public static byte[] busyboxInitramfs(String init) throws IOException {
        Assumptions.assumeTrue(
                BusyboxInitramfs.available(), "no " + BusyboxInitramfs.BUSYBOX + " (apt-get install busybox-static)");
        return BusyboxInitramfs.withInit(init);
    }

    /**
     * The bytes of the prepared kernel's module {@code path} (relative to its {@code lib/modules/VERSION},
     * without the compression suffix, e.g. {@code kernel/drivers/virtio/virtio_mmio.ko}), decompressed if
     * the package ships it as {@code .ko.xz} or {@code .ko.zst}. Skips the calling test, saying so, when
     * there is no prepared kernel or no such module.
     */
    public static byte[] assumeModule(String path) throws IOException, InterruptedException {
        Path vmlinuz = assumeBzImage();
        Optional<byte[]> module = KernelImages.module(vmlinuz, path);
        if (module.isEmpty()) {
            System.err.println("SKIPPED: the prepared kernel has no module " + path + " under "
                    + KernelImages.moduleTree(vmlinuz));
            Assumptions.abort("no module " + path + " in the prepared kernel");
        }
        return module.get();
    }

    /**
     * As {@link #busyboxInitramfs(String)}, with {@code files} (path in the initramfs to content) added as
     * mode 0644 files; their parent directories are made.
     */
    public static byte[] busyboxInitramfs(String init, Map<String, byte[]> files) throws IOException {
        Assumptions.assumeTrue(
                BusyboxInitramfs.available(), "no " + BusyboxInitramfs.BUSYBOX + " (apt-get install busybox-static)");
        return BusyboxInitramfs.withInit(init, files);
    }
}
