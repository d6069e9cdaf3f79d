package io.jvfio.sys.testing;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * Debian's stock amd64 kernel as tools/nested/prepare.sh fetches it, and the ELF vmlinux inside its
 * bzImage. Plain Java without JUnit, for the linux-boot benchmark; {@link StockKernel} adds the tier's
 * skips.
 */
public final class KernelImages {
    private static final int PAYLOAD_OFFSET = 0x248;
    private static final int PAYLOAD_LENGTH = 0x24C;
    private static final int SETUP_SECTS = 0x1F1;

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
     * empty when the payload is in a compression none of them reads.
     */
    public static Optional<Path> extractVmlinux(Path bzImage) throws IOException, InterruptedException {
        byte[] image = Files.readAllBytes(bzImage);
        ByteBuffer b = ByteBuffer.wrap(image).order(ByteOrder.LITTLE_ENDIAN);
        int kernelOffset = (Byte.toUnsignedInt(image[SETUP_SECTS]) + 1) * 512;
        int offset = kernelOffset + b.getInt(PAYLOAD_OFFSET);
        int length = b.getInt(PAYLOAD_LENGTH);
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
