package io.jvfio.machine.boot.linux;

import io.jvfio.machine.boot.InvalidGuestImageException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * A validated bzImage with a 64-bit entry (boot protocol 2.12 or later, XLF_KERNEL_64): its setup header's
 * bytes (copied into the zero page) and the fields the loader needs, and where the protected-mode kernel
 * lies in the file. The protected-mode kernel is loaded at {@link #loadAddress()} and entered at
 * {@code loadAddress() + 0x200}.
 *
 * @param setupHeader      the header's bytes, from 0x1F1 to its end (0x202 + the byte at 0x201)
 * @param loadflags        hdr.loadflags
 * @param initrdAddrMax    hdr.initrd_addr_max: the highest address the initrd may occupy
 * @param cmdlineSize      hdr.cmdline_size: the longest command line without its NUL
 * @param loadAddress      hdr.pref_address, or 16 MiB (Linux's default LOAD_PHYSICAL_ADDR) where it is 0
 * @param initSize         hdr.init_size: the bytes from the load address the kernel needs to decompress
 * @param kernelOffset     the protected-mode kernel's offset in the file: (setup_sects + 1) * 512
 * @param kernelSize       its size: the rest of the file
 */
public record BzImage(
        byte[] setupHeader,
        int loadflags,
        long initrdAddrMax,
        long cmdlineSize,
        long loadAddress,
        long initSize,
        int kernelOffset,
        int kernelSize) {
    /** Protocol 2.12 added xloadflags, and with it XLF_KERNEL_64: the first that can say it has a 64-bit entry. */
    public static final int MIN_VERSION = 0x020C;
    /** The 64-bit entry's offset in the protected-mode kernel. */
    public static final long ENTRY_64_OFFSET = 0x200;

    public static final long DEFAULT_LOAD_ADDRESS = 0x100_0000;
    /** setup_sects 0 means 4, for kernels older than any jvfio accepts; boot.rst keeps the rule. */
    private static final int LEGACY_SETUP_SECTS = 4;

    private static final int SECTOR = 512;
    /** The header must reach init_size (protocol 2.10), the last field jvfio reads. */
    private static final int INIT_SIZE_END = BootParams.INIT_SIZE + 4;

    public BzImage {
        setupHeader = setupHeader.clone();
    }

    @Override
    public byte[] setupHeader() {
        return setupHeader.clone();
    }

    /** Where the 64-bit entry is, once the kernel is at its load address. */
    public long entry64() {
        return loadAddress + ENTRY_64_OFFSET;
    }

    /** The end of the memory the kernel occupies from its load address until it reads the memory map. */
    public long end() {
        return loadAddress + Math.max(initSize, kernelSize);
    }

    /** Parses and validates {@code image}; the bytes are not kept beyond the setup header's. */
    public static BzImage parse(byte[] image) throws InvalidGuestImageException {
        ByteBuffer b = ByteBuffer.wrap(image).order(ByteOrder.LITTLE_ENDIAN);
        if (image.length < INIT_SIZE_END) {
            throw new InvalidGuestImageException(
                    "bzImage: " + image.length + " bytes is shorter than a setup header (" + INIT_SIZE_END + ")");
        }
        if (b.getInt(BootParams.HEADER) != BootParams.HEADER_MAGIC) {
            throw new InvalidGuestImageException("bzImage: no \"HdrS\" at 0x202 (not a Linux kernel image)");
        }
        if (Short.toUnsignedInt(b.getShort(BootParams.BOOT_FLAG)) != BootParams.BOOT_FLAG_MAGIC) {
            throw new InvalidGuestImageException("bzImage: boot_flag at 0x1FE is 0x"
                    + Integer.toHexString(Short.toUnsignedInt(b.getShort(BootParams.BOOT_FLAG))) + ", not 0xaa55");
        }
        int version = Short.toUnsignedInt(b.getShort(BootParams.VERSION));
        if (version < MIN_VERSION) {
            throw new InvalidGuestImageException("bzImage: boot protocol " + (version >> 8) + "." + (version & 0xFF)
                    + " is older than 2.12, the first that can declare a 64-bit entry");
        }
        int headerEnd = BootParams.JUMP + 2 + Byte.toUnsignedInt(image[BootParams.JUMP + 1]);
        if (headerEnd < INIT_SIZE_END || headerEnd > BootParams.HDR_ROOM_END) {
            throw new InvalidGuestImageException("bzImage: the setup header ends at 0x" + Integer.toHexString(headerEnd)
                    + " (the jump at 0x200), outside 0x" + Integer.toHexString(INIT_SIZE_END) + "-0x"
                    + Integer.toHexString(BootParams.HDR_ROOM_END));
        }
        int loadflags = Byte.toUnsignedInt(image[BootParams.LOADFLAGS]);
        if ((loadflags & BootParams.LOADED_HIGH) == 0) {
            throw new InvalidGuestImageException(
                    "bzImage: loadflags lack LOADED_HIGH: a zImage, which loads at 64 KiB");
        }
        int xloadflags = Short.toUnsignedInt(b.getShort(BootParams.XLOADFLAGS));
        if ((xloadflags & BootParams.XLF_KERNEL_64) == 0) {
            throw new InvalidGuestImageException("bzImage: xloadflags 0x" + Integer.toHexString(xloadflags)
                    + " lack XLF_KERNEL_64: the kernel has no 64-bit entry");
        }
        int setupSects = Byte.toUnsignedInt(image[BootParams.SETUP_SECTS]);
        int kernelOffset = ((setupSects == 0 ? LEGACY_SETUP_SECTS : setupSects) + 1) * SECTOR;
        if (kernelOffset + ENTRY_64_OFFSET >= image.length) {
            throw new InvalidGuestImageException(
                    "bzImage: " + image.length + " bytes end before the 64-bit entry (setup_sects " + setupSects
                            + " puts the kernel at 0x" + Integer.toHexString(kernelOffset) + ")");
        }
        long prefAddress = b.getLong(BootParams.PREF_ADDRESS);
        long loadAddress = prefAddress != 0 ? prefAddress : DEFAULT_LOAD_ADDRESS;
        long alignment = Integer.toUnsignedLong(b.getInt(BootParams.KERNEL_ALIGNMENT));
        if (alignment != 0 && loadAddress % alignment != 0) {
            throw new InvalidGuestImageException("bzImage: pref_address 0x" + Long.toHexString(loadAddress)
                    + " is not a multiple of kernel_alignment 0x" + Long.toHexString(alignment));
        }
        if (loadAddress < MemoryMap.HIGH_RAM_START || loadAddress >= 0x1_0000_0000L) {
            throw new InvalidGuestImageException(
                    "bzImage: pref_address 0x" + Long.toHexString(loadAddress) + " lies outside 1 MiB-4 GiB");
        }
        byte[] setupHeader = new byte[headerEnd - BootParams.HDR];
        b.get(BootParams.HDR, setupHeader);
        return new BzImage(
                setupHeader,
                loadflags,
                Integer.toUnsignedLong(b.getInt(BootParams.INITRD_ADDR_MAX)),
                Integer.toUnsignedLong(b.getInt(BootParams.CMDLINE_SIZE)),
                loadAddress,
                Integer.toUnsignedLong(b.getInt(BootParams.INIT_SIZE)),
                kernelOffset,
                image.length - kernelOffset);
    }
}
