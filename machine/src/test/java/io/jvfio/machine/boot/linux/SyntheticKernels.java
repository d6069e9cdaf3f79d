package io.jvfio.machine.boot.linux;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** Hand-built kernel images: a bzImage and a PVH vmlinux whose entries run the code a test gives. */
final class SyntheticKernels {
    /** One setup sector after the boot sector: the protected-mode kernel starts at 0x400 in the file. */
    static final int SETUP_SECTS = 1;

    static final int KERNEL_OFFSET = (SETUP_SECTS + 1) * 512;
    static final long LOAD_ADDRESS = 0x100_0000;
    static final long INIT_SIZE = 0x20_0000;
    static final int CMDLINE_SIZE = 0x7FF;
    static final long INITRD_ADDR_MAX = 0x7FFF_FFFFL;
    /** Where the PVH image's one segment loads, and its virtual address (as a vmlinux's are). */
    static final long PVH_LOAD_ADDRESS = 0x100_0000;

    static final long PVH_VIRTUAL_ADDRESS = 0xFFFF_FFFF_8100_0000L;
    /** e_entry: the segment's start, where a vmlinux has its 64-bit startup code. */
    static final long ELF_ENTRY = PVH_LOAD_ADDRESS;

    static final int PVH_ENTRY_OFFSET = 0x40;

    private SyntheticKernels() {}

    /**
     * A bzImage of boot protocol 2.15 with a 64-bit entry (XLF_KERNEL_64), loading at 16 MiB with an
     * init_size of 2 MiB, whose protected-mode kernel is 0x200 bytes of hlt and then {@code entryCode}.
     */
    static byte[] bzImage(byte[] entryCode) {
        ByteBuffer b =
                ByteBuffer.allocate(KERNEL_OFFSET + 0x200 + entryCode.length).order(ByteOrder.LITTLE_ENDIAN);
        b.put(0x1F1, (byte) SETUP_SECTS);
        b.putShort(0x1FE, (short) 0xAA55);
        b.put(0x200, (byte) 0xEB).put(0x201, (byte) 0x6A); // jmp over the header, which ends at 0x26C
        b.putInt(0x202, 0x53726448);
        b.putShort(0x206, (short) 0x020F);
        b.put(0x211, (byte) 0x01); // LOADED_HIGH
        b.putInt(0x22C, (int) INITRD_ADDR_MAX);
        b.putInt(0x230, 0x20_0000); // kernel_alignment
        b.put(0x234, (byte) 1); // relocatable_kernel
        b.putShort(0x236, (short) 0x1); // XLF_KERNEL_64
        b.putInt(0x238, CMDLINE_SIZE);
        b.putLong(0x258, LOAD_ADDRESS);
        b.putInt(0x260, (int) INIT_SIZE);
        for (int i = KERNEL_OFFSET; i < KERNEL_OFFSET + 0x200; i++) {
            b.put(i, (byte) 0xF4);
        }
        b.put(KERNEL_OFFSET + 0x200, entryCode);
        return b.array();
    }

    /**
     * An ELF64 vmlinux-like image: one PT_LOAD at 16 MiB (virtual 0xffffffff81000000, as in a vmlinux) with
     * e_entry at its start, holding {@code entryCode} at +0x40, and a PT_NOTE whose Xen note of type
     * {@code noteType} holds the physical entry in {@code descriptorSize} bytes.
     */
    static byte[] pvhElf(byte[] entryCode, int noteType, int descriptorSize) {
        int phoff = 64;
        int notes = phoff + 2 * 56;
        int noteSize = 12 + 4 + ((descriptorSize + 3) & ~3);
        int code = notes + noteSize;
        int segmentSize = PVH_ENTRY_OFFSET + entryCode.length;
        ByteBuffer b = ByteBuffer.allocate(code + segmentSize).order(ByteOrder.LITTLE_ENDIAN);
        b.put(new byte[] {0x7f, 'E', 'L', 'F', 2, 1, 1});
        b.putShort(16, (short) 2)
                .putShort(18, (short) 62)
                .putInt(20, 1)
                .putLong(24, ELF_ENTRY)
                .putLong(32, phoff)
                .putShort(52, (short) 64)
                .putShort(54, (short) 56)
                .putShort(56, (short) 2);
        b.putInt(phoff, 1)
                .putInt(phoff + 4, 7)
                .putLong(phoff + 8, code)
                .putLong(phoff + 16, PVH_VIRTUAL_ADDRESS)
                .putLong(phoff + 24, PVH_LOAD_ADDRESS)
                .putLong(phoff + 32, segmentSize)
                .putLong(phoff + 40, segmentSize + 0x1000);
        b.putInt(phoff + 56, 4)
                .putLong(phoff + 64, notes)
                .putLong(phoff + 88, noteSize)
                .putLong(phoff + 96, noteSize);
        b.putInt(notes, 4).putInt(notes + 4, descriptorSize).putInt(notes + 8, noteType);
        b.put(notes + 12, new byte[] {'X', 'e', 'n', 0});
        long entry = PVH_LOAD_ADDRESS + PVH_ENTRY_OFFSET;
        if (descriptorSize == 8) {
            b.putLong(notes + 16, entry);
        } else if (descriptorSize == 4) {
            b.putInt(notes + 16, (int) entry);
        }
        b.put(code + PVH_ENTRY_OFFSET, entryCode);
        return b.array();
    }

    /**
     * {@code elf} with one more PT_LOAD (program header 2): {@code memSize} bytes at {@code physAddr}, its file
     * bytes those of segment 0. The program headers move to the end of the file, where there is room for three.
     */
    static byte[] withSecondLoad(byte[] elf, long physAddr, long memSize) {
        ByteBuffer original = ByteBuffer.wrap(elf).order(ByteOrder.LITTLE_ENDIAN);
        int phoff = (int) original.getLong(32);
        int phdrs = elf.length;
        ByteBuffer b = ByteBuffer.allocate(elf.length + 3 * 56).order(ByteOrder.LITTLE_ENDIAN);
        b.put(elf);
        b.put(phdrs, elf, phoff, 2 * 56);
        b.putLong(32, phdrs).putShort(56, (short) 3);
        int added = phdrs + 2 * 56;
        b.putInt(added, 1)
                .putInt(added + 4, 6)
                .putLong(added + 8, original.getLong(phoff + 8))
                .putLong(added + 24, physAddr)
                .putLong(added + 32, Math.min(memSize, original.getLong(phoff + 32)))
                .putLong(added + 40, memSize);
        return b.array();
    }

    /** {@link #pvhElf} with an 8-byte XEN_ELFNOTE_PHYS32_ENTRY: what Linux builds. */
    static byte[] pvhElf(byte[] entryCode) {
        return pvhElf(entryCode, PvhKernel.XEN_ELFNOTE_PHYS32_ENTRY, 8);
    }
}
