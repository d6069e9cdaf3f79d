package io.jvfio.sys;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jvfio.sys.testing.Resources;
import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;

class MappingTest {
    @Test
    void twoMappingsOfOneMemfdShareBytes() throws Exception {
        try (Fd memory = MemFd.create("shared", 8192);
                Mapping first = Mapping.map(memory, 0, 8192, true, "first");
                Mapping second = Mapping.map(memory, 4096, 4096, true, "second")) {
            first.putLong(4096 + 8, 0x1122334455667788L);
            assertThat(second.getLong(8)).isEqualTo(0x1122334455667788L);
            assertThat(second.read(8, 1)).isEqualTo(0x88);
            assertThat(second.read(8, 2)).isEqualTo(0x7788);
            assertThat(second.read(8, 4)).isEqualTo(0x55667788L);
        }
    }

    @Test
    void unalignedAccessesAreLittleEndian() throws Exception {
        try (Mapping mapping = Mapping.anonymous(4096, "scratch")) {
            mapping.write(3, 4, 0xAABBCCDDL);
            assertThat(mapping.getByte(3)).isEqualTo((byte) 0xDD);
            assertThat(mapping.read(3, 4)).isEqualTo(0xAABBCCDDL);
        }
    }

    @Test
    void accessAfterCloseFailsAndTheRangeIsUnmapped() throws Exception {
        // The range itself, not the count of every mapping: the JVM maps and unmaps on its own threads
        // (code cache, malloc arenas, a downcall linked on its first call), so a count moves by itself.
        Mapping mapping = Mapping.anonymous(1 << 20, "scratch");
        long address = mapping.address();
        long last = address + (1 << 20) - 1;
        mapping.putInt(0, 1);
        assertThat(Resources.mapped(address)).as("mapped while open").isTrue();
        mapping.close();
        mapping.close();
        assertThat(Resources.mapped(address))
                .as("the range's first byte is unmapped")
                .isFalse();
        assertThat(Resources.mapped(last))
                .as("the range's last byte is unmapped")
                .isFalse();
        assertThatThrownBy(() -> mapping.getInt(0)).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void badAccessSizeIsRefused() throws Exception {
        try (Mapping mapping = Mapping.anonymous(4096, "scratch")) {
            assertThatThrownBy(() -> mapping.read(0, 3)).hasMessage("access size 3 is not 1, 2, 4 or 8");
        }
    }

    @Test
    void copiesABuffersRemainingBytesWithoutMovingIt() throws Exception {
        try (Mapping mapping = Mapping.anonymous(4096, "scratch")) {
            ByteBuffer source = ByteBuffer.wrap(new byte[] {9, 1, 2, 3}).asReadOnlyBuffer();
            source.get();

            mapping.copyFrom(source, 100);

            assertThat(source.position()).isEqualTo(1);
            assertThat(mapping.read(99, 4)).isEqualTo(0x03_02_01_00L);
            assertThat(mapping.getByte(103)).isZero();
            assertThatThrownBy(() -> mapping.copyFrom(ByteBuffer.allocate(8), 4092))
                    .isInstanceOf(IndexOutOfBoundsException.class);
        }
    }
}
