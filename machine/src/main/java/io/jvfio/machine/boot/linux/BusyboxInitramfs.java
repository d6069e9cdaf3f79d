package io.jvfio.machine.boot.linux;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A tiny initramfs: an uncompressed newc cpio with the host's static busybox as /bin/busybox, empty /dev
 * and /proc, and an /init script. What {@code jvfio demo --linux} boots the stock kernel with, and the same
 * image the linux tier and the linux-boot benchmark build (the tier's StockKernel adds its skips).
 */
public final class BusyboxInitramfs {
    /** Debian's busybox-static puts it here. */
    public static final Path BUSYBOX = Path.of("/bin/busybox");

    private BusyboxInitramfs() {}

    /** Whether the host has the static busybox the image is made of. */
    public static boolean available() {
        return Files.isReadable(BUSYBOX);
    }

    /** The image with {@code init} (a script for {@code /bin/busybox sh}) as /init. */
    public static byte[] withInit(String init) throws IOException {
        return withInit(init, Map.of());
    }

    /**
     * As {@link #withInit(String)}, with {@code files} (path in the initramfs to content) added as mode
     * 0644 files; their parent directories are made.
     */
    public static byte[] withInit(String init, Map<String, byte[]> files) throws IOException {
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
            String header = String.format(
                    "070701%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x",
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
