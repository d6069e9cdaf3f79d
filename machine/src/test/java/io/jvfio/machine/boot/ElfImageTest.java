package io.jvfio.machine.boot;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jvfio.machine.MachineConfig;
import io.jvfio.sys.Mapping;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

class ElfImageTest {
    static final long ENTRY = 0x100000;

    /** A minimal ELF64 executable: one PT_LOAD of 16 file bytes (0x90...) and 32 memory bytes at 1 MiB. */
    static byte[] tinyElf() {
        ByteBuffer b = ByteBuffer.allocate(64 + 56 + 16).order(ByteOrder.LITTLE_ENDIAN);
        b.put(new byte[] {0x7f, 'E', 'L', 'F', 2, 1, 1});
        b.putShort(16, (short) 2)
                .putShort(18, (short) 62)
                .putInt(20, 1)
                .putLong(24, ENTRY)
                .putLong(32, 64)
                .putShort(52, (short) 64)
                .putShort(54, (short) 56)
                .putShort(56, (short) 1);
        b.putInt(64, 1)
                .putInt(68, 5)
                .putLong(72, 120)
                .putLong(80, ENTRY)
                .putLong(88, ENTRY)
                .putLong(96, 16)
                .putLong(104, 32)
                .putLong(112, 0x1000);
        for (int i = 0; i < 16; i++) {
            b.put(120 + i, (byte) 0x90);
        }
        return b.array();
    }

    @Test
    void handBuiltElfParsesToItsEntryAndSegment() throws Exception {
        ElfImage elf = ElfImage.parse(tinyElf());
        assertThat(elf.entry()).isEqualTo(ENTRY);
        assertThat(elf.segments()).containsExactly(new ElfImage.LoadSegment(ENTRY, 120, 16, 32, 5));
    }

    @Test
    void loadCopiesFileBytesAndZeroesTheBss() throws Exception {
        byte[] image = tinyElf();
        try (Mapping ram = Mapping.anonymous(2 << 20, "ram")) {
            ram.fill(ENTRY, 64, (byte) 0x55);
            ElfImage.parse(image).loadInto(image, ram, LongMode.IMAGE_LOWEST);
            assertThat(ram.getByte(ENTRY)).isEqualTo((byte) 0x90);
            assertThat(ram.getByte(ENTRY + 15)).isEqualTo((byte) 0x90);
            assertThat(ram.getLong(ENTRY + 16)).isZero();
            assertThat(ram.getLong(ENTRY + 24)).isZero();
            assertThat(ram.getByte(ENTRY + 32)).isEqualTo((byte) 0x55);
        }
    }

    @Test
    void guestsHelloImageParsesWithEntryAtOneMegabyte() throws Exception {
        ElfImage elf = ElfImage.parse(MachineConfig.guestResource("hello"));
        assertThat(elf.entry()).isEqualTo(0x100000);
        assertThat(elf.segments())
                .isNotEmpty()
                .allSatisfy(s -> assertThat(s.physAddr()).isGreaterThanOrEqualTo(0x100000));
    }

    private static byte[] with(Consumer<ByteBuffer> change) {
        byte[] image = tinyElf();
        change.accept(ByteBuffer.wrap(image).order(ByteOrder.LITTLE_ENDIAN));
        return image;
    }

    @Test
    void malformedImagesAreRefusedWithTheReason() {
        assertThatThrownBy(() -> ElfImage.parse(new byte[10])).hasMessageContaining("shorter than the ELF header");
        assertThatThrownBy(() -> ElfImage.parse(with(b -> b.put(0, (byte) 0)))).hasMessageContaining("bad magic");
        assertThatThrownBy(() -> ElfImage.parse(with(b -> b.put(4, (byte) 1)))).hasMessageContaining("not ELFCLASS64");
        assertThatThrownBy(() -> ElfImage.parse(with(b -> b.put(5, (byte) 2)))).hasMessageContaining("little-endian");
        assertThatThrownBy(() -> ElfImage.parse(with(b -> b.putShort(16, (short) 3))))
                .hasMessageContaining("not ET_EXEC");
        assertThatThrownBy(() -> ElfImage.parse(with(b -> b.putShort(18, (short) 183))))
                .hasMessageContaining("not EM_X86_64");
        assertThatThrownBy(() -> ElfImage.parse(with(b -> b.putShort(54, (short) 32))))
                .hasMessageContaining("program header size");
        assertThatThrownBy(() -> ElfImage.parse(with(b -> b.putShort(56, (short) 0))))
                .hasMessageContaining("0 program headers");
        assertThatThrownBy(() -> ElfImage.parse(with(b -> b.putLong(32, 1000)))).hasMessageContaining("outside the");
        assertThatThrownBy(() -> ElfImage.parse(with(b -> b.putLong(72, 1L << 40))))
                .hasMessageContaining("beyond the");
        assertThatThrownBy(() -> ElfImage.parse(with(b -> b.putLong(96, 100)))).hasMessageContaining("beyond the");
        assertThatThrownBy(() -> ElfImage.parse(with(b -> b.putLong(104, 8)))).hasMessageContaining("more file bytes");
        assertThatThrownBy(() -> ElfImage.parse(with(b -> b.putLong(88, -4096))))
                .hasMessageContaining("wraps");
        assertThatThrownBy(() -> ElfImage.parse(with(b -> b.putInt(64, 6)))).hasMessageContaining("no PT_LOAD");
        assertThatThrownBy(() -> ElfImage.parse(with(b -> b.putLong(24, 0x200000))))
                .hasMessageContaining("entry 0x200000");
    }

    @Test
    void segmentOutsideRamOrInTheReservedLowAreaIsRefusedBeforeWriting() throws Exception {
        try (Mapping ram = Mapping.anonymous(1 << 20, "small ram")) {
            byte[] image = tinyElf();
            assertThatThrownBy(() -> ElfImage.parse(image).loadInto(image, ram, LongMode.IMAGE_LOWEST))
                    .isInstanceOf(InvalidGuestImageException.class)
                    .hasMessageContaining("ends beyond RAM");
            byte[] low = with(b -> b.putLong(88, 0x8000).putLong(24, 0x8000));
            assertThatThrownBy(() -> ElfImage.parse(low).loadInto(low, ram, LongMode.IMAGE_LOWEST))
                    .hasMessageContaining("below 0x100000");
        }
    }
}
