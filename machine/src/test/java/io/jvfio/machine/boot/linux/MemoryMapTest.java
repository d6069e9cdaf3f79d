package io.jvfio.machine.boot.linux;

import static io.jvfio.machine.boot.linux.MemoryMap.Type.RAM;
import static io.jvfio.machine.boot.linux.MemoryMap.Type.RESERVED;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class MemoryMapTest {
    private static final long MIB = 1 << 20;

    @Test
    void lowRamEndsAtTheEbdaTheBiosAreaIsReservedAndHighRamRunsToTheEnd() {
        List<MemoryMap.Entry> map = MemoryMap.layout(256 * MIB, List.of());

        assertThat(map)
                .containsExactly(
                        new MemoryMap.Entry(0, 0x9FC00, RAM),
                        new MemoryMap.Entry(0x9FC00, 0x100000 - 0x9FC00, RESERVED),
                        new MemoryMap.Entry(0x100000, 255 * MIB, RAM));
    }

    @Test
    void mmioRangesFollowRamReservedAndSorted() {
        List<MemoryMap.Entry> map = MemoryMap.layout(
                64 * MIB,
                List.of(
                        new MemoryMap.Entry(0xFEC00000L, 0x1000, RESERVED),
                        new MemoryMap.Entry(0xD0000000L, 0x10000000, RAM)));

        assertThat(map.subList(3, 5))
                .containsExactly(
                        new MemoryMap.Entry(0xD0000000L, 0x10000000, RESERVED),
                        new MemoryMap.Entry(0xFEC00000L, 0x1000, RESERVED));
    }

    @Test
    void theRsdpsSearchAreaLiesInTheReservedBiosArea() {
        MemoryMap.Entry bios = MemoryMap.layout(64 * MIB, List.of()).get(1);

        assertThat(MemoryMap.BIOS_AREA_START).isGreaterThanOrEqualTo(bios.address());
        assertThat(MemoryMap.BIOS_AREA_END).isEqualTo(bios.end());
    }

    @Test
    void aReservedRangeOverRamOrAnotherIsRefused() {
        assertThatThrownBy(() -> MemoryMap.layout(64 * MIB, List.of(new MemoryMap.Entry(32 * MIB, MIB, RESERVED))))
                .hasMessage(
                        "reserved range 0x2000000+0x100000 overlaps RAM or another reserved range (below 0x4000000)");
        assertThatThrownBy(() -> MemoryMap.layout(
                        64 * MIB,
                        List.of(
                                new MemoryMap.Entry(0xD0000000L, 0x2000, RESERVED),
                                new MemoryMap.Entry(0xD0001000L, 0x1000, RESERVED))))
                .hasMessageContaining("0xd0001000+0x1000 overlaps");
    }

    @Test
    void ramThatEndsBelowOneMebibyteIsRefused() {
        assertThatThrownBy(() -> MemoryMap.layout(MIB, List.of())).hasMessageContaining("Linux needs RAM above 1 MiB");
    }
}
