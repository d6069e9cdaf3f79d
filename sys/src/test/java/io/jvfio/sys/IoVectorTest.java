package io.jvfio.sys;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** preadv and pwritev between a real file and pieces of real mappings, gathered in an {@link IoVector}. */
class IoVectorTest {
    @TempDir
    Path directory;

    private static byte[] pattern(int length) {
        byte[] bytes = new byte[length];
        for (int i = 0; i < length; i++) {
            bytes[i] = (byte) (i * 7 + 3);
        }
        return bytes;
    }

    private static byte[] bytesOf(Mapping mapping, long offset, int length) {
        byte[] bytes = new byte[length];
        mapping.copyTo(offset, bytes, 0, length);
        return bytes;
    }

    @Test
    void aReadScattersTheFileOverPiecesOfTwoMappingsInTheirOrder() throws Exception {
        byte[] file = pattern(8192);
        Path path = Files.write(directory.resolve("disk.img"), file);
        try (Fd fd = Fd.openReadOnly(path.toString());
                Mapping first = Mapping.anonymous(0x2000, "first");
                Mapping second = Mapping.anonymous(0x2000, "second");
                IoVector vector = new IoVector(8)) {
            vector.add(second, 0x100, 1000);
            vector.add(first, 0x1000, 24);
            vector.add(second, 0x1800, 2048);

            assertThat(fd.preadFully(vector, 512)).isEqualTo(3072);

            assertThat(vector.bytes()).isEqualTo(3072);
            assertThat(bytesOf(second, 0x100, 1000)).isEqualTo(Arrays.copyOfRange(file, 512, 1512));
            assertThat(bytesOf(first, 0x1000, 24)).isEqualTo(Arrays.copyOfRange(file, 1512, 1536));
            assertThat(bytesOf(second, 0x1800, 2048)).isEqualTo(Arrays.copyOfRange(file, 1536, 3584));
            assertThat(bytesOf(first, 0x1018, 8)).as("nothing past a piece").containsOnly(0);
        }
    }

    @Test
    void aReadPastTheFilesEndReturnsWhatItHadAndZerosTheRest() throws Exception {
        byte[] file = pattern(1000);
        Path path = Files.write(directory.resolve("short.img"), file);
        try (Fd fd = Fd.openReadOnly(path.toString());
                Mapping memory = Mapping.anonymous(0x2000, "memory");
                IoVector vector = new IoVector(4)) {
            memory.fill(0, 0x2000, (byte) 0x55);
            vector.add(memory, 0, 512);
            vector.add(memory, 0x1000, 1024);

            assertThat(fd.preadFully(vector, 0)).isEqualTo(1000);

            assertThat(bytesOf(memory, 0, 512)).isEqualTo(Arrays.copyOfRange(file, 0, 512));
            assertThat(bytesOf(memory, 0x1000, 488)).isEqualTo(Arrays.copyOfRange(file, 512, 1000));
            assertThat(bytesOf(memory, 0x1000 + 488, 536)).containsOnly(0);
            assertThat(bytesOf(memory, 0x1400, 16))
                    .as("past the pieces, untouched")
                    .containsOnly(0x55);
        }
    }

    @Test
    void aWriteGathersThePiecesIntoTheFileAtItsOffsetAndAClearedVectorServesAgain() throws Exception {
        Path path = Files.write(directory.resolve("out.img"), new byte[4096]);
        try (Fd fd = Fd.openReadWrite(path.toString());
                Mapping memory = Mapping.anonymous(0x2000, "memory");
                IoVector vector = new IoVector(2)) {
            memory.copyFrom(pattern(0x2000), 0, 0, 0x2000);
            vector.add(memory, 0x1000, 100);
            vector.add(memory, 0x10, 28);

            fd.pwriteFully(vector, 1024);
            vector.clear();
            vector.add(memory, 0, 4);
            fd.pwriteFully(vector, 0);
            fd.fdatasync();

            byte[] written = Files.readAllBytes(path);
            byte[] memoryBytes = pattern(0x2000);
            assertThat(Arrays.copyOfRange(written, 1024, 1124))
                    .isEqualTo(Arrays.copyOfRange(memoryBytes, 0x1000, 0x1064));
            assertThat(Arrays.copyOfRange(written, 1124, 1152)).isEqualTo(Arrays.copyOfRange(memoryBytes, 0x10, 0x2C));
            assertThat(Arrays.copyOfRange(written, 0, 4)).isEqualTo(Arrays.copyOfRange(memoryBytes, 0, 4));
            assertThat(Arrays.copyOfRange(written, 4, 1024)).containsOnly(0);
        }
    }

    @Test
    void piecesOutsideTheirMappingOrBeyondTheCapacityOrOfAnUnmappedMappingAreRefused() throws Exception {
        try (Mapping memory = Mapping.anonymous(0x1000, "memory");
                IoVector vector = new IoVector(1)) {
            assertThatThrownBy(() -> vector.add(memory, 0xF00, 0x200))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("[0xf00, +0x200) lies outside memory (0x1000 bytes)");
            assertThatThrownBy(() -> vector.add(memory, -1, 1)).isInstanceOf(IllegalArgumentException.class);
            vector.add(memory, 0, 0x1000);
            assertThatThrownBy(() -> vector.add(memory, 0, 1))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessage("the vector is full: 1 pieces");
            vector.clear();
            memory.close();
            assertThatThrownBy(() -> vector.add(memory, 0, 1))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessage("memory is unmapped");
        }
        assertThatThrownBy(() -> new IoVector(1025))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("IOV_MAX");
    }

    @Test
    void aFailedReadNamesTheCallAndTheFile() throws Exception {
        try (Fd fd = Fd.openReadOnly(directory.toString());
                Mapping memory = Mapping.anonymous(0x1000, "memory");
                IoVector vector = new IoVector(1)) {
            vector.add(memory, 0, 16);
            assertThatThrownBy(() -> fd.preadFully(vector, 0))
                    .isInstanceOf(ErrnoException.class)
                    .hasMessage("preadv " + directory + " failed: Is a directory (EISDIR)");
        }
    }
}
