package io.jvfio.machine.boot.linux;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jvfio.machine.boot.ElfImage;
import io.jvfio.machine.boot.InvalidGuestImageException;
import io.jvfio.machine.testing.StockKernel;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import org.assertj.core.groups.Tuple;
import org.junit.jupiter.api.Test;

class PvhKernelTest {
    private static final byte[] HLT = {(byte) 0xF4};
    private static final long ENTRY = SyntheticKernels.PVH_LOAD_ADDRESS + SyntheticKernels.PVH_ENTRY_OFFSET;
    /** Where the synthetic image's note starts: after the ELF header and two program headers. */
    private static final int NOTE = 64 + 2 * 56;

    @Test
    void entryComesFromTheEightBytePhys32EntryNoteNotFromTheElfEntry() throws Exception {
        PvhKernel kernel = PvhKernel.parse(SyntheticKernels.pvhElf(HLT));

        assertThat(kernel.entry()).isEqualTo(ENTRY);
        assertThat(kernel.elf().entry()).isEqualTo(SyntheticKernels.ELF_ENTRY);
        assertThat(kernel.elf().notes())
                .extracting(ElfImage.Note::name, ElfImage.Note::type)
                .containsExactly(Tuple.tuple("Xen", 18));
    }

    @Test
    void aFourByteEntryNoteIsReadToo() throws Exception {
        assertThat(PvhKernel.parse(SyntheticKernels.pvhElf(HLT, 18, 4)).entry()).isEqualTo(ENTRY);
    }

    @Test
    void aKernelWithoutTheNoteIsRefusedNamingConfigPvh() {
        assertThatThrownBy(() -> PvhKernel.parse(SyntheticKernels.pvhElf(HLT, 17, 8)))
                .isInstanceOf(InvalidGuestImageException.class)
                .hasMessage("vmlinux: no PVH entry note (Xen note 18, XEN_ELFNOTE_PHYS32_ENTRY): a kernel built without"
                        + " CONFIG_PVH; boot its bzImage instead");
    }

    @Test
    void aNoteOfAnotherSizeIsRefused() {
        assertThatThrownBy(() -> PvhKernel.parse(SyntheticKernels.pvhElf(HLT, 18, 2)))
                .hasMessage("vmlinux: the PVH entry note holds 2 bytes, not a 4- or 8-byte address");
    }

    @Test
    void anEntryOutsideTheSegmentsIsRefused() {
        byte[] image = SyntheticKernels.pvhElf(HLT);
        ByteBuffer.wrap(image).order(ByteOrder.LITTLE_ENDIAN).putLong(NOTE + 16, 0x200_0000);

        assertThatThrownBy(() -> PvhKernel.parse(image))
                .hasMessage("vmlinux: the PVH entry 0x2000000 lies in no loaded segment below 4 GiB");
    }

    @Test
    void aNoteRunningPastItsSegmentIsRefused() {
        byte[] image = SyntheticKernels.pvhElf(HLT);
        ByteBuffer.wrap(image).order(ByteOrder.LITTLE_ENDIAN).putInt(NOTE, 0x100);

        assertThatThrownBy(() -> PvhKernel.parse(image))
                .isInstanceOf(InvalidGuestImageException.class)
                .hasMessage(
                        "ELF: a note at file offset 176 (name 256 bytes, descriptor 8 bytes) ends beyond its segment 1");
    }

    @Test
    void debiansVmlinuxHasAPvhEntryInItsTextSegment() throws Exception {
        byte[] image = Files.readAllBytes(StockKernel.assumeVmlinux());

        PvhKernel kernel = PvhKernel.parse(image);

        assertThat(kernel.elf().segments().getFirst().physAddr()).isEqualTo(0x100_0000);
        assertThat(kernel.entry())
                .isBetween(
                        0x100_0000L,
                        kernel.elf().segments().getFirst().physAddr()
                                + kernel.elf().segments().getFirst().memSize());
        assertThat(kernel.elf().entry())
                .as("the ELF entry is the 64-bit startup_64")
                .isEqualTo(0x100_0000);
    }
}
