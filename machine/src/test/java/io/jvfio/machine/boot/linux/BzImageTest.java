package io.jvfio.machine.boot.linux;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jvfio.machine.boot.InvalidGuestImageException;
import io.jvfio.machine.testing.StockKernel;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

class BzImageTest {
    private static final byte[] HLT = {(byte) 0xF4};

    @Test
    void setupHeaderFieldsAreReadWhereBootRstPutsThem() throws Exception {
        BzImage bz = BzImage.parse(SyntheticKernels.bzImage(HLT));

        assertThat(bz.loadflags()).isEqualTo(BootParams.LOADED_HIGH);
        assertThat(bz.initrdAddrMax()).isEqualTo(SyntheticKernels.INITRD_ADDR_MAX);
        assertThat(bz.cmdlineSize()).isEqualTo(SyntheticKernels.CMDLINE_SIZE);
        assertThat(bz.loadAddress()).isEqualTo(SyntheticKernels.LOAD_ADDRESS);
        assertThat(bz.initSize()).isEqualTo(SyntheticKernels.INIT_SIZE);
        assertThat(bz.kernelOffset()).isEqualTo(SyntheticKernels.KERNEL_OFFSET);
        assertThat(bz.kernelSize()).isEqualTo(0x201);
        assertThat(bz.entry64()).isEqualTo(SyntheticKernels.LOAD_ADDRESS + 0x200);
    }

    @Test
    void setupHeaderBytesRunFrom0x1f1ToTheEndTheJumpGives() throws Exception {
        byte[] image = SyntheticKernels.bzImage(HLT);

        byte[] header = BzImage.parse(image).setupHeader();

        assertThat(header).hasSize(0x26C - 0x1F1);
        assertThat(header[BootParams.HEADER - BootParams.HDR]).isEqualTo((byte) 'H');
        assertThat(header[header.length - 1]).isEqualTo(image[0x26B]);
    }

    @Test
    void zeroPreferredAddressLoadsAtSixteenMebibytes() throws Exception {
        BzImage bz = BzImage.parse(with(b -> b.putLong(BootParams.PREF_ADDRESS, 0)));

        assertThat(bz.loadAddress()).isEqualTo(0x100_0000);
    }

    @Test
    void kernelEndIsTheLargerOfInitSizeAndTheFile() throws Exception {
        assertThat(BzImage.parse(SyntheticKernels.bzImage(HLT)).end())
                .isEqualTo(SyntheticKernels.LOAD_ADDRESS + SyntheticKernels.INIT_SIZE);
        assertThat(BzImage.parse(with(b -> b.putInt(BootParams.INIT_SIZE, 0x10)))
                        .end())
                .isEqualTo(SyntheticKernels.LOAD_ADDRESS + 0x201);
    }

    @Test
    void malformedImagesAreRefusedWithOneLineNamingTheField() {
        assertRefused(new byte[0x100], "bzImage: 256 bytes is shorter than a setup header (612)");
        assertRefused(
                with(b -> b.putInt(BootParams.HEADER, 0)), "bzImage: no \"HdrS\" at 0x202 (not a Linux kernel image)");
        assertRefused(
                with(b -> b.putShort(BootParams.BOOT_FLAG, (short) 0)),
                "bzImage: boot_flag at 0x1FE is 0x0, not 0xaa55");
        assertRefused(
                with(b -> b.putShort(BootParams.VERSION, (short) 0x020B)),
                "bzImage: boot protocol 2.11 is older than 2.12, the first that can declare a 64-bit entry");
        assertRefused(
                with(b -> b.put(BootParams.JUMP + 1, (byte) 0x10)),
                "bzImage: the setup header ends at 0x212 (the jump at 0x200), outside 0x264-0x290");
        assertRefused(
                with(b -> b.put(BootParams.LOADFLAGS, (byte) 0)),
                "bzImage: loadflags lack LOADED_HIGH: a zImage, which loads at 64 KiB");
        assertRefused(
                with(b -> b.putShort(BootParams.XLOADFLAGS, (short) 0x2)),
                "bzImage: xloadflags 0x2 lack XLF_KERNEL_64: the kernel has no 64-bit entry");
        assertRefused(
                with(b -> b.put(BootParams.SETUP_SECTS, (byte) 2)),
                "bzImage: 1537 bytes end before the 64-bit entry (setup_sects 2 puts the kernel at 0x600)");
        assertRefused(
                with(b -> b.putLong(BootParams.PREF_ADDRESS, 0x100_1000)),
                "bzImage: pref_address 0x1001000 is not a multiple of kernel_alignment 0x200000");
        assertRefused(
                with(b -> b.putLong(BootParams.PREF_ADDRESS, 0x1_0000_0000L)),
                "bzImage: pref_address 0x100000000 lies outside 1 MiB-4 GiB");
    }

    @Test
    void debiansStockKernelParsesToItsMeasuredHeader() throws Exception {
        byte[] image = Files.readAllBytes(StockKernel.assumeBzImage());

        BzImage bz = BzImage.parse(image);

        assertThat(bz.loadAddress()).isEqualTo(0x100_0000);
        assertThat(bz.cmdlineSize()).isEqualTo(0x7FF);
        assertThat(bz.initrdAddrMax()).isEqualTo(0x7FFF_FFFFL);
        assertThat(bz.loadflags() & BootParams.LOADED_HIGH).isNotZero();
        assertThat(bz.initSize()).as("init_size covers the decompressed kernel").isGreaterThan(bz.kernelSize());
        assertThat(bz.kernelOffset() + bz.kernelSize()).isEqualTo(image.length);
        assertThat(image[bz.kernelOffset() + 0x200])
                .as("the 64-bit entry is code, not padding")
                .isNotZero();
    }

    private static byte[] with(Consumer<ByteBuffer> change) {
        byte[] image = SyntheticKernels.bzImage(HLT);
        change.accept(ByteBuffer.wrap(image).order(ByteOrder.LITTLE_ENDIAN));
        return image;
    }

    private static void assertRefused(byte[] image, String message) {
        assertThatThrownBy(() -> BzImage.parse(image))
                .isInstanceOf(InvalidGuestImageException.class)
                .hasMessage(message);
    }
}
