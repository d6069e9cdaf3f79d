package io.jvfio.machine.boot.linux;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;

/** The bytes of boot_params and of the hvm_start_info block, read back at the documented offsets. */
class ZeroPageAndStartInfoTest {
    private static final List<MemoryMap.Entry> MAP =
            MemoryMap.layout(256L << 20, List.of(new MemoryMap.Entry(0xFEC00000L, 0x1000, MemoryMap.Type.RESERVED)));
    private static final long RSDP = 0xE0000;

    private static ByteBuffer zeroPage(long initrdAddress, long initrdSize) throws Exception {
        BzImage bz = BzImage.parse(SyntheticKernels.bzImage(new byte[] {(byte) 0xF4}));
        return ByteBuffer.wrap(BootParams.encode(bz, 0x20000, initrdAddress, initrdSize, MAP, RSDP))
                .order(ByteOrder.LITTLE_ENDIAN);
    }

    @Test
    void zeroPageCarriesTheKernelsOwnSetupHeader() throws Exception {
        ByteBuffer b = zeroPage(0, 0);

        assertThat(b.capacity()).isEqualTo(4096);
        assertThat(b.getInt(0x202)).isEqualTo(0x53726448);
        assertThat(b.getShort(0x206)).isEqualTo((short) 0x020F);
        assertThat(b.getLong(0x258)).isEqualTo(SyntheticKernels.LOAD_ADDRESS);
        assertThat(b.getInt(0x238)).isEqualTo(SyntheticKernels.CMDLINE_SIZE);
        assertThat(b.get(0x1EF)).as("sentinel").isZero();
        assertThat(b.get(0x26C)).as("past the header").isZero();
    }

    @Test
    void zeroPageSaysWhoLoadedItWhereTheCommandLineIsAndThatTheHeapIsUsable() throws Exception {
        ByteBuffer b = zeroPage(0, 0);

        assertThat(Byte.toUnsignedInt(b.get(0x210))).as("type_of_loader").isEqualTo(0xFF);
        assertThat(b.get(0x211)).as("loadflags").isEqualTo((byte) (BootParams.LOADED_HIGH | BootParams.CAN_USE_HEAP));
        assertThat(b.getShort(0x224)).as("heap_end_ptr").isEqualTo((short) 0xDE00);
        assertThat(b.getInt(0x228)).as("cmd_line_ptr").isEqualTo(0x20000);
        assertThat(b.getLong(0x070)).as("acpi_rsdp_addr").isEqualTo(RSDP);
    }

    @Test
    void zeroPageGivesTheInitrdOrNone() throws Exception {
        assertThat(zeroPage(0, 0).getInt(0x218)).isZero();
        assertThat(zeroPage(0, 0).getInt(0x21C)).isZero();
        ByteBuffer b = zeroPage(0x0F000000L, 0x123456);
        assertThat(b.getInt(0x218)).as("ramdisk_image").isEqualTo(0x0F000000);
        assertThat(b.getInt(0x21C)).as("ramdisk_size").isEqualTo(0x123456);
    }

    @Test
    void zeroPageE820TableListsTheMapInTwentyByteEntries() throws Exception {
        ByteBuffer b = zeroPage(0, 0);

        assertThat(b.get(0x1E8)).as("e820_entries").isEqualTo((byte) 4);
        assertThat(b.getLong(0x2D0)).isZero();
        assertThat(b.getLong(0x2D8)).isEqualTo(0x9FC00);
        assertThat(b.getInt(0x2E0)).isEqualTo(1);
        assertThat(b.getLong(0x2D0 + 20)).isEqualTo(0x9FC00);
        assertThat(b.getInt(0x2D0 + 20 + 16)).isEqualTo(2);
        assertThat(b.getLong(0x2D0 + 40)).isEqualTo(0x100000);
        assertThat(b.getLong(0x2D0 + 48)).isEqualTo((256L << 20) - 0x100000);
        assertThat(b.getLong(0x2D0 + 60)).isEqualTo(0xFEC00000L);
        assertThat(b.getInt(0x2D0 + 60 + 16)).isEqualTo(2);
        assertThat(b.getLong(0x2D0 + 80)).isZero();
    }

    @Test
    void startInfoWithAnInitrdPointsAtItsModuleThenItsMemoryMap() {
        ByteBuffer b = ByteBuffer.wrap(HvmStartInfo.encode(0x7000, 0x20000, 0x0F000000L, 0x4000, MAP, RSDP))
                .order(ByteOrder.LITTLE_ENDIAN);

        assertThat(b.getInt(0)).isEqualTo(0x336ec578);
        assertThat(b.getInt(4)).as("version").isEqualTo(1);
        assertThat(b.getInt(12)).as("nr_modules").isEqualTo(1);
        assertThat(b.getLong(16)).as("modlist_paddr").isEqualTo(0x7000 + 56);
        assertThat(b.getLong(24)).as("cmdline_paddr").isEqualTo(0x20000);
        assertThat(b.getLong(32)).as("rsdp_paddr").isEqualTo(RSDP);
        assertThat(b.getLong(40)).as("memmap_paddr").isEqualTo(0x7000 + 56 + 32);
        assertThat(b.getInt(48)).as("memmap_entries").isEqualTo(4);
        assertThat(b.getLong(56)).as("module paddr").isEqualTo(0x0F000000L);
        assertThat(b.getLong(64)).as("module size").isEqualTo(0x4000);
        assertThat(b.getLong(72)).as("module cmdline_paddr: none").isZero();
        assertThat(b.getLong(88 + 24 * 2)).as("third memmap entry's address").isEqualTo(0x100000);
        assertThat(b.getInt(88 + 24 * 3 + 16)).as("fourth memmap entry's type").isEqualTo(2);
        assertThat(b.capacity()).isEqualTo(56 + 32 + 4 * 24);
    }

    @Test
    void startInfoWithoutAnInitrdHasNoModuleList() {
        ByteBuffer b = ByteBuffer.wrap(HvmStartInfo.encode(0x7000, 0x20000, 0, 0, MAP, LinuxBoot.NO_RSDP))
                .order(ByteOrder.LITTLE_ENDIAN);

        assertThat(b.getInt(12)).isZero();
        assertThat(b.getLong(16)).isZero();
        assertThat(b.getLong(32)).isZero();
        assertThat(b.getLong(40)).isEqualTo(0x7000 + 56);
        assertThat(b.getLong(56)).isZero();
    }

    @Test
    void startInfoTakesAMemoryMapAsLongAsLinuxsE820TableAndRefusesALongerOne() {
        List<MemoryMap.Entry> full = pages(128);

        ByteBuffer b = ByteBuffer.wrap(HvmStartInfo.encode(0x7000, 0x20000, 0, 0, full, RSDP))
                .order(ByteOrder.LITTLE_ENDIAN);

        assertThat(b.getInt(48)).as("memmap_entries").isEqualTo(128);
        assertThatThrownBy(() -> HvmStartInfo.encode(0x7000, 0x20000, 0, 0, pages(129), RSDP))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("at most 128 memory map entries fit the e820 table a PVH Linux copies them into, got 129");
    }

    private static List<MemoryMap.Entry> pages(int count) {
        return LongStream.range(0, count)
                .mapToObj(i -> new MemoryMap.Entry(0x100000 + i * 0x2000, 0x1000, MemoryMap.Type.RAM))
                .toList();
    }
}
