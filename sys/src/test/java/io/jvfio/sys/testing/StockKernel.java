package io.jvfio.sys.testing;

import java.nio.file.StandardCopyOption;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Assumptions;

/**
 * Debian's stock amd64 kernel, as tools/nested/prepare.sh fetches it ({@code $JVFIO_NESTED_CACHE}, default
 * {@code ~/.cache/jvfio-nested}, then {@code current/vmlinuz}); the vmlinux inside it, extracted the way the
 * kernel's scripts/extract-vmlinux does; and a tiny busybox initramfs for boot tests.
 */
public final class StockKernel {
    /** The byte the test initramfs's /init writes to the exit port (0x501) through /dev/port. */
    public static final int INIT_EXIT_CODE = 42;
    /** The line the test initramfs's /init writes to the kernel log. */
    public static final String INIT_MARKER = "jvfio-linux-smoke: init ran";
    private static final Path BUSYBOX = Path.of("/bin/busybox");
    private static final int PAYLOAD_OFFSET = 0x248;
    private static final int PAYLOAD_LENGTH = 0x24C;
    private static final int SETUP_SECTS = 0x1F1;
    private static Path extracted;

    private StockKernel() {
    }

    /** The prepared kernel's bzImage, if tools/nested/prepare.sh has run here. */
    public static Optional<Path> bzImage() {
        String cache = System.getenv("JVFIO_NESTED_CACHE");
        Path dir = cache != null ? Path.of(cache) : Path.of(System.getProperty("user.home"), ".cache", "jvfio-nested");
        Path vmlinuz = dir.resolve("current").resolve("vmlinuz");
        return Files.isReadable(vmlinuz) ? Optional.of(vmlinuz) : Optional.empty();
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
     * The ELF vmlinux compressed inside the bzImage (its payload, at payload_offset in the protected-mode
     * kernel), decompressed once per JVM with the matching tool (xz, zstd, gzip) into a temporary file.
     */
    public static synchronized Path assumeVmlinux() throws IOException, InterruptedException {
        if (extracted != null) {
            return extracted;
        }
        byte[] bzImage = Files.readAllBytes(assumeBzImage());
        ByteBuffer b = ByteBuffer.wrap(bzImage).order(ByteOrder.LITTLE_ENDIAN);
        int kernelOffset = (Byte.toUnsignedInt(bzImage[SETUP_SECTS]) + 1) * 512;
        int offset = kernelOffset + b.getInt(PAYLOAD_OFFSET);
        int length = b.getInt(PAYLOAD_LENGTH);
        String[] decompressor = decompressor(bzImage, offset);
        Assumptions.assumeTrue(decompressor != null, "the bzImage's payload is in a compression no tool here reads");
        Process process = new ProcessBuilder(decompressor).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        Thread feeder = Thread.ofPlatform().start(() -> {
            try (var in = process.getOutputStream()) {
                in.write(bzImage, offset, length);
            } catch (IOException e) {
                // The decompressor stopped reading: its exit status tells why.
            }
        });
        Path vmlinux = Files.createTempFile("jvfio-vmlinux", ".elf");
        vmlinux.toFile().deleteOnExit();
        try (InputStream out = process.getInputStream()) {
            Files.copy(out, vmlinux, StandardCopyOption.REPLACE_EXISTING);
        }
        feeder.join();
        // The exit status is not checked: the kernel's build appends the decompressed size after the stream,
        // which xz reports ("Unexpected end of input", status 1) after writing all of it. Whoever parses the
        // ELF checks what came out.
        if (!process.waitFor(60, TimeUnit.SECONDS) || Files.size(vmlinux) == 0) {
            throw new IOException(String.join(" ", decompressor) + " gave no vmlinux from the bzImage's payload");
        }
        extracted = vmlinux;
        return vmlinux;
    }

    /** The tool for the compression whose magic starts at {@code at} (null: none of xz, zstd, gzip). */
    private static String[] decompressor(byte[] image, int at) {
        int magic = ByteBuffer.wrap(image, at, 4).order(ByteOrder.BIG_ENDIAN).getInt();
        if (magic == 0xFD377A58) {
            return new String[] {"xz", "-dc"};
        }
        if (magic == 0x28B52FFD) {
            return new String[] {"zstd", "-dcq"};
        }
        if ((magic >>> 16) == 0x1F8B) {
            return new String[] {"gzip", "-dc"};
        }
        return null;
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
        Assumptions.assumeTrue(Files.isReadable(BUSYBOX), "no " + BUSYBOX + " (apt-get install busybox-static)");
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
        Assumptions.assumeTrue(Files.isReadable(BUSYBOX), "no " + BUSYBOX + " (apt-get install busybox-static)");
        Cpio cpio = new Cpio();
        cpio.directory("bin");
        cpio.directory("dev");
        cpio.directory("proc");
        cpio.file("bin/busybox", Files.readAllBytes(BUSYBOX), 0755);
        cpio.file("init", init.getBytes(StandardCharsets.US_ASCII), 0755);
        return cpio.finish();
    }

    /**
     * The bytes of the prepared kernel's module {@code path} (relative to its {@code lib/modules/VERSION},
     * without the compression suffix, e.g. {@code kernel/drivers/virtio/virtio_mmio.ko}), decompressed if
     * the package ships it as {@code .ko.xz} or {@code .ko.zst}. Skips the calling test, saying so, when
     * there is no prepared kernel or no such module.
     */
    public static byte[] assumeModule(String path) throws IOException, InterruptedException {
        Path vmlinuz = assumeBzImage();
        Path modules = vmlinuz.getParent().resolve("root").resolve("lib").resolve("modules");
        Optional<Path> version;
        try (var versions = Files.list(modules)) {
            version = versions.filter(Files::isDirectory).findFirst();
        } catch (IOException e) {
            version = Optional.empty();
        }
        for (String suffix : new String[] {"", ".xz", ".zst"}) {
            Path module = version.map(v -> v.resolve(path + suffix)).filter(Files::isReadable).orElse(null);
            if (module == null) {
                continue;
            }
            if (suffix.isEmpty()) {
                return Files.readAllBytes(module);
            }
            Process process = new ProcessBuilder(suffix.equals(".xz") ? "xz" : "zstd", "-dc", module.toString())
                    .redirectError(ProcessBuilder.Redirect.DISCARD).start();
            byte[] bytes = process.getInputStream().readAllBytes();
            if (!process.waitFor(60, TimeUnit.SECONDS) || process.exitValue() != 0 || bytes.length == 0) {
                throw new IOException("cannot decompress " + module);
            }
            return bytes;
        }
        System.err.println("SKIPPED: the prepared kernel has no module " + path + " under " + modules);
        Assumptions.abort("no module " + path + " in the prepared kernel");
        throw new AssertionError("unreachable");
    }

    /**
     * As {@link #busyboxInitramfs(String)}, with {@code files} (path in the initramfs to content) added as
     * mode 0644 files; their parent directories are made.
     */
    public static byte[] busyboxInitramfs(String init, Map<String, byte[]> files) throws IOException {
        Assumptions.assumeTrue(Files.isReadable(BUSYBOX), "no " + BUSYBOX + " (apt-get install busybox-static)");
        Cpio cpio = new Cpio();
        cpio.directory("bin");
        cpio.directory("dev");
        cpio.directory("proc");
        cpio.file("bin/busybox", Files.readAllBytes(BUSYBOX), 0755);
        cpio.file("init", init.getBytes(StandardCharsets.US_ASCII), 0755);
        Set<String> made = new HashSet<>(List.of("bin", "dev", "proc"));
        for (var file : files.entrySet()) {
            String[] parts = file.getKey().split("/");
            StringBuilder parent = new StringBuilder();
            for (int i = 0; i < parts.length - 1; i++) {
                parent.append(i == 0 ? "" : "/").append(parts[i]);
                if (made.add(parent.toString())) {
                    cpio.directory(parent.toString());
                }
            }
            cpio.file(file.getKey(), file.getValue(), 0644);
        }
        return cpio.finish();
    }

    /** The "new ASCII" (newc) cpio format the kernel unpacks into its initramfs (Documentation/driver-api/early-userspace/buffer-format.rst). */
    private static final class Cpio {
        private static final int S_IFDIR = 0040000;
        private static final int S_IFREG = 0100000;
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();
        private int inode = 1;

        void directory(String name) {
            entry(name, S_IFDIR | 0755, new byte[0]);
        }

        void file(String name, byte[] content, int permissions) {
            entry(name, S_IFREG | permissions, content);
        }

        byte[] finish() {
            entry("TRAILER!!!", 0, new byte[0]);
            return out.toByteArray();
        }

        private void entry(String name, int mode, byte[] content) {
            byte[] nameBytes = (name + "\0").getBytes(StandardCharsets.US_ASCII);
            String header = String.format("070701%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x",
                    inode++, mode, 0, 0, 1, 0, content.length, 0, 0, 0, 0, nameBytes.length, 0);
            out.writeBytes(header.getBytes(StandardCharsets.US_ASCII));
            out.writeBytes(nameBytes);
            pad();
            out.writeBytes(content);
            pad();
        }

        private void pad() {
            while (out.size() % 4 != 0) {
                out.write(0);
            }
        }
    }
}
