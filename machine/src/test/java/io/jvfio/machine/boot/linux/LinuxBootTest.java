package io.jvfio.machine.boot.linux;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jvfio.machine.boot.InvalidGuestImageException;
import io.jvfio.machine.boot.LongMode;
import io.jvfio.sys.Mapping;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class LinuxBootTest {
    private static final long MIB = 1 << 20;
    private static final byte[] CODE = {(byte) 0x90, (byte) 0xF4};

    private static List<MemoryMap.Entry> map(Mapping ram) {
        return MemoryMap.layout(ram.size(), List.of());
    }

    private static KernelEntry load(Mapping ram, byte[] image, byte[] initrd, String commandLine) throws Exception {
        return LinuxBoot.load(new LinuxKernel(image, initrd, commandLine), ram, map(ram), LinuxBoot.NO_RSDP);
    }

    @Test
    void bzImageLoadsItsProtectedModeKernelAtThePreferredAddressAndEntersAt0x200InLongMode() throws Exception {
        try (Mapping ram = Mapping.anonymous(64 * MIB, "ram")) {
            KernelEntry entry = load(ram, SyntheticKernels.bzImage(CODE), null, "console=ttyS0");

            assertThat(entry).isEqualTo(new KernelEntry(KernelEntry.Mode.LONG_MODE, 0x100_0200, 0x7000));
            assertThat(ram.getByte(0x100_0000)).isEqualTo((byte) 0xF4);
            assertThat(ram.getByte(0x100_0200)).isEqualTo((byte) 0x90);
            assertThat(ram.getInt(0x7000 + BootParams.HEADER)).isEqualTo(BootParams.HEADER_MAGIC);
            assertThat(ram.getInt(0x7000 + BootParams.CMD_LINE_PTR)).isEqualTo(0x20000);
        }
    }

    @Test
    void commandLineIsWrittenNulTerminatedAt0x20000() throws Exception {
        try (Mapping ram = Mapping.anonymous(64 * MIB, "ram")) {
            ram.fill(0x20000, 64, (byte) 0x55);

            load(ram, SyntheticKernels.bzImage(CODE), null, "quiet panic=-1");

            byte[] text = new byte[15];
            ram.copyTo(0x20000, text, 0, 15);
            assertThat(new String(text, StandardCharsets.US_ASCII)).isEqualTo("quiet panic=-1\0");
        }
    }

    @Test
    void longModeEntryFindsIdentityPageTablesAndTheLinuxGdt() throws Exception {
        try (Mapping ram = Mapping.anonymous(64 * MIB, "ram")) {
            load(ram, SyntheticKernels.bzImage(CODE), null, "");

            assertThat(ram.getLong(LongMode.PML4_ADDRESS)).isEqualTo(LongMode.PDPT_ADDRESS | 3);
            assertThat(ram.getLong(0x500 + 0x10)).as("__BOOT_CS: 64-bit code").isEqualTo(0x00AF9B000000FFFFL);
            assertThat(ram.getLong(0x500 + 0x18)).as("__BOOT_DS: flat data").isEqualTo(0x00CF93000000FFFFL);
            assertThat(ram.getLong(0x500 + 0x08)).as("PVH's flat 32-bit code").isEqualTo(0x00CF9B000000FFFFL);
        }
    }

    @Test
    void initrdGoesPageAlignedAtTheTopOfRamBelowInitrdAddrMax() throws Exception {
        byte[] initrd = new byte[5000];
        initrd[0] = 0x37;
        try (Mapping ram = Mapping.anonymous(64 * MIB, "ram")) {
            load(ram, SyntheticKernels.bzImage(CODE), initrd, "");

            long expected = 64 * MIB - 8192;
            assertThat(Integer.toUnsignedLong(ram.getInt(0x7000 + BootParams.RAMDISK_IMAGE)))
                    .isEqualTo(expected);
            assertThat(ram.getInt(0x7000 + BootParams.RAMDISK_SIZE)).isEqualTo(5000);
            assertThat(ram.getByte(expected)).isEqualTo((byte) 0x37);
        }
    }

    @Test
    void initrdStaysBelowTheKernelsInitrdAddrMax() throws Exception {
        byte[] image = SyntheticKernels.bzImage(CODE);
        ByteBuffer.wrap(image).order(ByteOrder.LITTLE_ENDIAN).putInt(BootParams.INITRD_ADDR_MAX, (int) (32 * MIB - 1));
        try (Mapping ram = Mapping.anonymous(64 * MIB, "ram")) {
            load(ram, image, new byte[4096], "");

            assertThat(ram.getInt(0x7000 + BootParams.RAMDISK_IMAGE)).isEqualTo((int) (32 * MIB - 4096));
        }
    }

    @Test
    void pvhKernelLoadsItsSegmentsAndEntersIn32BitModeWithTheStartInfo() throws Exception {
        try (Mapping ram = Mapping.anonymous(64 * MIB, "ram")) {
            KernelEntry entry = load(ram, SyntheticKernels.pvhElf(CODE), new byte[100], "console=ttyS0");

            assertThat(entry).isEqualTo(new KernelEntry(KernelEntry.Mode.PROTECTED_MODE_32, 0x100_0040, 0x7000));
            assertThat(ram.getByte(0x100_0040)).isEqualTo((byte) 0x90);
            assertThat(ram.getInt(0x7000)).isEqualTo(HvmStartInfo.MAGIC_VALUE);
            assertThat(ram.getLong(0x7000 + HvmStartInfo.CMDLINE_PADDR)).isEqualTo(0x20000);
            assertThat(ram.getLong(0x7000 + HvmStartInfo.SIZE))
                    .as("the initrd module")
                    .isEqualTo(64 * MIB - 4096);
            assertThat(ram.getByte(0x20000)).isEqualTo((byte) 'c');
        }
    }

    @Test
    void aKernelThatDoesNotFitInRamSaysHowMuchItNeeds() throws Exception {
        try (Mapping ram = Mapping.anonymous(16 * MIB, "ram")) {
            assertThatThrownBy(() -> load(ram, SyntheticKernels.bzImage(CODE), null, ""))
                    .isInstanceOf(InvalidGuestImageException.class)
                    .hasMessage("bzImage: the kernel needs RAM up to 0x1200000 (18 MiB), the machine has 16 MiB");
        }
    }

    @Test
    void anInitrdThatDoesNotFitAboveTheKernelSaysHowMuchRamItNeeds() throws Exception {
        try (Mapping ram = Mapping.anonymous(20 * MIB, "ram")) {
            assertThatThrownBy(() -> load(ram, SyntheticKernels.bzImage(CODE), new byte[(int) (3 * MIB)], ""))
                    .hasMessage("initrd: 3145728 bytes do not fit between the kernel's end (0x1200000) and 0x1400000:"
                            + " give the machine 22 MiB of RAM or more");
        }
    }

    @Test
    void anInitrdTooLargeForTheKernelsInitrdAddrMaxSaysSoRatherThanAskingForMoreRam() throws Exception {
        byte[] image = SyntheticKernels.bzImage(CODE);
        ByteBuffer.wrap(image).order(ByteOrder.LITTLE_ENDIAN).putInt(BootParams.INITRD_ADDR_MAX, (int) (32 * MIB - 1));

        assertThatThrownBy(() -> LinuxBoot.check(new LinuxKernel(image, new byte[(int) (20 * MIB)], ""), 64 * MIB))
                .isInstanceOf(InvalidGuestImageException.class)
                .hasMessage("initrd: 20971520 bytes do not fit between the kernel's end (0x1200000) and 0x2000000,"
                        + " the end of what the kernel's initrd_addr_max (0x1ffffff) lets it reach");
    }

    @Test
    void anEmptyInitrdIsRefused() throws Exception {
        try (Mapping ram = Mapping.anonymous(64 * MIB, "ram")) {
            assertThatThrownBy(() -> load(ram, SyntheticKernels.bzImage(CODE), new byte[0], ""))
                    .hasMessage("initrd: the file is empty");
        }
    }

    @Test
    void aCommandLineLongerThanTheKernelTakesIsRefused() throws Exception {
        try (Mapping ram = Mapping.anonymous(64 * MIB, "ram")) {
            assertThatThrownBy(() -> load(ram, SyntheticKernels.bzImage(CODE), null, "x".repeat(2048)))
                    .hasMessage("kernel command line: 2048 characters, the kernel takes at most 2047");
            assertThatThrownBy(() -> load(ram, SyntheticKernels.pvhElf(CODE), null, "x".repeat(2048)))
                    .hasMessage("kernel command line: 2048 characters, the kernel takes at most 2047");
        }
    }

    @Test
    void aCommandLineBeyondTheRoomBelowTheBootStackIsRefusedWhateverTheKernelTakes() throws Exception {
        byte[] image = SyntheticKernels.bzImage(CODE);
        ByteBuffer.wrap(image).order(ByteOrder.LITTLE_ENDIAN).putInt(BootParams.CMDLINE_SIZE, -1);
        try (Mapping ram = Mapping.anonymous(64 * MIB, "ram")) {
            assertThatThrownBy(() -> load(ram, image, null, "x".repeat(0x5F000)))
                    .isInstanceOf(InvalidGuestImageException.class)
                    .hasMessage("kernel command line: 389120 characters, more than the 389119 that fit between"
                            + " 0x20000 and the boot stack's page at 0x7f000");

            assertThat(ram.getByte(0x20000)).isZero();
            load(ram, image, null, "x".repeat(0x5EFFF));
            assertThat(ram.getByte(0x7EFFF)).as("the NUL").isZero();
        }
    }

    @Test
    void aCommandLineWithAControlCharacterIsRefused() throws Exception {
        try (Mapping ram = Mapping.anonymous(64 * MIB, "ram")) {
            assertThatThrownBy(() -> load(ram, SyntheticKernels.bzImage(CODE), null, "a\nb"))
                    .hasMessage("kernel command line: character 1 is not printable ASCII (0xa)");
        }
    }

    @Test
    void anImageThatIsNeitherIsRefusedAsNotAKernel() throws Exception {
        try (Mapping ram = Mapping.anonymous(64 * MIB, "ram")) {
            assertThatThrownBy(() -> load(ram, new byte[4096], null, ""))
                    .hasMessage("bzImage: no \"HdrS\" at 0x202 (not a Linux kernel image)");
        }
    }

    @Test
    void checkRefusesWhatLoadWouldWithoutRam() throws Exception {
        LinuxBoot.check(new LinuxKernel(SyntheticKernels.pvhElf(CODE), new byte[1], "quiet"), 64 * MIB);

        assertThatThrownBy(() -> LinuxBoot.check(new LinuxKernel(SyntheticKernels.bzImage(CODE), null, ""), 16 * MIB))
                .hasMessage("bzImage: the kernel needs RAM up to 0x1200000 (18 MiB), the machine has 16 MiB");
        assertThatThrownBy(() ->
                        LinuxBoot.check(new LinuxKernel(SyntheticKernels.pvhElf(CODE), new byte[0], ""), 64 * MIB))
                .hasMessage("initrd: the file is empty");
    }

    @Test
    void checkRefusesAVmlinuxSegmentBelowOneMebibyteAsLoadDoes() throws Exception {
        byte[] image = SyntheticKernels.pvhElf(CODE);
        ByteBuffer b = ByteBuffer.wrap(image).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(24, 0x8000).putLong(64 + 24, 0x8000).putLong(64 + 2 * 56 + 16, 0x8040);

        assertThatThrownBy(() -> LinuxBoot.check(new LinuxKernel(image, null, ""), 64 * MIB))
                .isInstanceOf(InvalidGuestImageException.class)
                .hasMessage("ELF: segment 0 at 0x8000 lies below 0x100000, which the machine reserves");
    }

    @Test
    void checkAndLoadRefuseVmlinuxSegmentsThatOverlapNamingBoth() throws Exception {
        // Segment 0 holds 0x1000000-0x1001041 in memory; segment 2 starts inside it.
        byte[] image = SyntheticKernels.withSecondLoad(SyntheticKernels.pvhElf(CODE), 0x100_1000, 0x2000);
        String overlap = "ELF: segments 0 (0x1000000-0x1001041) and 2 (0x1001000-0x1002fff) overlap";

        assertThatThrownBy(() -> LinuxBoot.check(new LinuxKernel(image, null, ""), 64 * MIB))
                .isInstanceOf(InvalidGuestImageException.class)
                .hasMessage(overlap);
        try (Mapping ram = Mapping.anonymous(64 * MIB, "ram")) {
            assertThatThrownBy(() -> load(ram, image, null, ""))
                    .isInstanceOf(InvalidGuestImageException.class)
                    .hasMessage(overlap);
            assertThat(ram.getByte(0x100_0040)).isZero();
        }
    }

    @Test
    void vmlinuxSegmentsThatOnlyTouchAreLoaded() throws Exception {
        // Segment 0 holds 0x1000000-0x1001041 in memory; segment 2 starts right after it.
        byte[] image = SyntheticKernels.withSecondLoad(SyntheticKernels.pvhElf(CODE), 0x100_1042, 0x2000);

        LinuxBoot.check(new LinuxKernel(image, null, ""), 64 * MIB);
        try (Mapping ram = Mapping.anonymous(64 * MIB, "ram")) {
            load(ram, image, null, "");

            ByteBuffer elf = ByteBuffer.wrap(image).order(ByteOrder.LITTLE_ENDIAN);
            int second = (int) elf.getLong(32) + 2 * 56;
            int offset = (int) elf.getLong(second + 8);
            int size = (int) elf.getLong(second + 32);
            byte[] loaded = new byte[size];
            ram.copyTo(0x100_1042, loaded, 0, size);
            assertThat(loaded).as("segment 2's file bytes").isEqualTo(Arrays.copyOfRange(image, offset, offset + size));
            assertThat(ram.getByte(0x100_0000 + size - 1))
                    .as("segment 0's last file byte")
                    .isEqualTo(image[offset + size - 1]);
        }
    }

    @Test
    void nothingIsWrittenWhenTheInitrdDoesNotFit() throws Exception {
        try (Mapping ram = Mapping.anonymous(20 * MIB, "ram")) {
            assertThatThrownBy(() -> load(ram, SyntheticKernels.bzImage(CODE), new byte[(int) (3 * MIB)], "x"));

            assertThat(ram.getByte(0x100_0000)).isZero();
            assertThat(ram.getByte(0x20000)).isZero();
        }
    }
}
