package io.jvfio.machine.boot.linux;

import io.jvfio.machine.boot.InvalidGuestImageException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * Debian's stock amd64 kernel as tools/nested/prepare.sh fetches it, and the ELF vmlinux inside its
 * bzImage, and its modules: what {@code jvfio demo --linux} and the benchmarks boot (the linux tier's
 * StockKernel adds its skips).
 */
public final class KernelImages {
    /** hdr.payload_offset (protocol 2.08): where the compressed kernel starts in the protected-mode kernel. */
    private static final int PAYLOAD_OFFSET = 0x248;
    /** hdr.payload_length (protocol 2.08). */
    private static final int PAYLOAD_LENGTH = 0x24C;

    private static final int MAGIC_LENGTH = 4;

    private KernelImages() {}

    /**
     * The prepared kernel's bzImage ({@code $JVFIO_NESTED_CACHE}, default {@code ~/.cache/jvfio-nested},
     * then {@code current/vmlinuz}), if tools/nested/prepare.sh has run here.
     */
    public static Optional<Path> preparedBzImage() {
        String cache = System.getenv("JVFIO_NESTED_CACHE");
        Path dir = cache != null ? Path.of(cache) : Path.of(System.getProperty("user.home"), ".cache", "jvfio-nested");
        Path vmlinuz = dir.resolve("current").resolve("vmlinuz");
        return Files.isReadable(vmlinuz) ? Optional.of(vmlinuz) : Optional.empty();
    }

    /**
     * The ELF vmlinux compressed inside {@code bzImage} (its payload, at payload_offset in the protected-mode
     * kernel), decompressed with the matching tool (xz, zstd, gzip) into a temporary file deleted at exit;
     * empty when the payload is in a compression none of them reads. A file that is no bzImage BzImage
     * accepts, or whose payload lies outside it (a truncated copy), is an IOException naming it.
     */
    public static Optional<Path> extractVmlinux(Path bzImage) throws IOException, InterruptedException {
        byte[] image = Files.readAllBytes(bzImage);
        int kernelOffset;
        try {
            kernelOffset = BzImage.parse(image).kernelOffset();
        } catch (InvalidGuestImageException e) {
            throw new IOException(bzImage + ": " + e.getMessage(), e);
        }
        ByteBuffer b = ByteBuffer.wrap(image).order(ByteOrder.LITTLE_ENDIAN);
        long payload = kernelOffset + Integer.toUnsignedLong(b.getInt(PAYLOAD_OFFSET));
        long payloadLength = Integer.toUnsignedLong(b.getInt(PAYLOAD_LENGTH));
        if (payload + Math.max(payloadLength, MAGIC_LENGTH) > image.length) {
            throw new IOException(bzImage + ": the payload (" + payloadLength + " bytes at file offset 0x"
                    + Long.toHexString(payload) + ") lies outside the " + image.length + "-byte file");
        }
        int offset = (int) payload;
        int length = (int) payloadLength;
        String[] decompressor = decompressor(image, offset);
        if (decompressor == null) {
            return Optional.empty();
        }
        Process process = new ProcessBuilder(decompressor)
                .redirectError(ProcessBuilder.Redirect.DISCARD)
                .start();
        Thread feeder = Thread.ofPlatform().start(() -> {
            try (var in = process.getOutputStream()) {
                in.write(image, offset, length);
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
        return Optional.of(vmlinux);
    }

    /**
     * The modules a virtio device needs (Debian builds them =m and the nested guest's own initramfs has
     * none): the virtio-mmio transport's, then {@code driver}, each relative to the kernel's module tree.
     */
    public static List<String> virtioModules(String driver) {
        return List.of(
                "kernel/drivers/virtio/virtio_ring.ko",
                "kernel/drivers/virtio/virtio.ko",
                "kernel/drivers/virtio/virtio_mmio.ko",
                driver);
    }

    /**
     * Where tools/nested/prepare.sh unpacked the modules of the kernel whose bzImage is {@code vmlinuz}:
     * {@code root/lib/modules} beside it, one directory per kernel version.
     */
    public static Path moduleTree(Path vmlinuz) {
        return vmlinuz.getParent().resolve("root").resolve("lib").resolve("modules");
    }

    /**
     * The bytes of the module {@code path} of the kernel whose bzImage is {@code vmlinuz} (relative to its
     * {@code lib/modules/VERSION}, without the compression suffix, e.g.
     * {@code kernel/drivers/virtio/virtio_mmio.ko}), decompressed if the package ships it as {@code .ko.xz}
     * or {@code .ko.zst}; empty when there is no such module.
     */
    public static Optional<byte[]> module(Path vmlinuz, String path) throws IOException, InterruptedException {
        Optional<Path> version;
        try (var versions = Files.list(moduleTree(vmlinuz))) {
            version = versions.filter(Files::isDirectory).findFirst();
        } catch (IOException e) {
            version = Optional.empty();
        }
        for (String suffix : new String[] {"", ".xz", ".zst"}) {
            Path module = version.map(v -> v.resolve(path + suffix))
                    .filter(Files::isReadable)
                    .orElse(null);
            if (module == null) {
                continue;
            }
            if (suffix.isEmpty()) {
                return Optional.of(Files.readAllBytes(module));
            }
            Process process = new ProcessBuilder(suffix.equals(".xz") ? "xz" : "zstd", "-dc", module.toString())
                    .redirectError(ProcessBuilder.Redirect.DISCARD)
                    .start();
            byte[] bytes = process.getInputStream().readAllBytes();
            if (!process.waitFor(60, TimeUnit.SECONDS) || process.exitValue() != 0 || bytes.length == 0) {
                throw new IOException("cannot decompress " + module);
            }
            return Optional.of(bytes);
        }
        return Optional.empty();
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
}
