package io.jvfio.machine.boot.linux;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class KernelImagesTest {
    private static final int PAYLOAD_OFFSET = 0x248;
    private static final int PAYLOAD_LENGTH = 0x24C;

    @TempDir
    Path directory;

    @Test
    void aPayloadBeyondTheFileIsRefusedNamingIt() throws Exception {
        byte[] image = SyntheticKernels.bzImage(new byte[] {(byte) 0xF4});
        ByteBuffer.wrap(image)
                .order(ByteOrder.LITTLE_ENDIAN)
                .putInt(PAYLOAD_OFFSET, 0x1000)
                .putInt(PAYLOAD_LENGTH, 64);
        Path bzImage = Files.write(directory.resolve("vmlinuz"), image);

        assertThatThrownBy(() -> KernelImages.extractVmlinux(bzImage))
                .isInstanceOf(IOException.class)
                .hasMessage(bzImage + ": the payload (64 bytes at file offset 0x1400) lies outside the 1537-byte file");
    }

    @Test
    void aTruncatedBzImageIsRefusedAsTheLoaderRefusesIt() throws Exception {
        Path bzImage = Files.write(directory.resolve("vmlinuz"), new byte[0x100]);

        assertThatThrownBy(() -> KernelImages.extractVmlinux(bzImage))
                .isInstanceOf(IOException.class)
                .hasMessage(bzImage + ": bzImage: 256 bytes is shorter than a setup header (612)");
    }
}
