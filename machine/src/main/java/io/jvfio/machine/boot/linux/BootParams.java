package io.jvfio.machine.boot.linux;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;

/**
 * struct boot_params, the "zero page" a bzImage's 64-bit entry finds at RSI (Documentation/arch/x86/
 * zero-page.rst and boot.rst; arch/x86/include/uapi/asm/bootparam.h). Offsets are from the start of the
 * struct; the setup header's fields lie at the same offsets in the bzImage file, whose first sector has
 * the struct's layout.
 */
public final class BootParams {
    public static final int SIZE = 0x1000;
    public static final int ACPI_RSDP_ADDR = 0x070;
    public static final int E820_ENTRIES = 0x1E8;
    /** boot_params.hdr: the setup header, copied from the bzImage. */
    public static final int HDR = 0x1F1;
    /** edd_mbr_sig_buffer: the first field after the room the setup header may grow into. */
    public static final int HDR_ROOM_END = 0x290;

    public static final int E820_TABLE = 0x2D0;
    public static final int E820_ENTRY_SIZE = 20;
    public static final int E820_MAX_ENTRIES_ZEROPAGE = 128;

    /** hdr.setup_sects (u8): 512-byte sectors of real-mode setup code after the boot sector; 0 means 4. */
    public static final int SETUP_SECTS = 0x1F1;
    /** hdr.boot_flag (u16): 0xAA55. */
    public static final int BOOT_FLAG = 0x1FE;
    /** hdr.jump (u16): a short jump whose displacement (the byte at 0x201) says where the header ends. */
    public static final int JUMP = 0x200;
    /** hdr.header (u32): "HdrS". */
    public static final int HEADER = 0x202;

    public static final int VERSION = 0x206;
    public static final int TYPE_OF_LOADER = 0x210;
    public static final int LOADFLAGS = 0x211;
    public static final int RAMDISK_IMAGE = 0x218;
    public static final int RAMDISK_SIZE = 0x21C;
    public static final int HEAP_END_PTR = 0x224;
    public static final int CMD_LINE_PTR = 0x228;
    public static final int INITRD_ADDR_MAX = 0x22C;
    public static final int KERNEL_ALIGNMENT = 0x230;
    public static final int XLOADFLAGS = 0x236;
    public static final int CMDLINE_SIZE = 0x238;
    public static final int PREF_ADDRESS = 0x258;
    public static final int INIT_SIZE = 0x260;

    public static final int BOOT_FLAG_MAGIC = 0xAA55;
    /** "HdrS", little-endian. */
    public static final int HEADER_MAGIC = 0x53726448;
    /** type_of_loader 0xFF: a boot loader without an assigned id. */
    public static final int LOADER_UNDEFINED = 0xFF;

    public static final int LOADED_HIGH = 1;
    public static final int CAN_USE_HEAP = 0x80;
    public static final int XLF_KERNEL_64 = 1;
    /**
     * heap_end_ptr as boot.rst's sample boot loader sets it (heap end 0xE000 less 0x200). Only the real-mode
     * setup code, which the 64-bit entry skips, uses the heap; CAN_USE_HEAP says the field is valid.
     */
    public static final int HEAP_END = 0xE000 - 0x200;

    private BootParams() {}

    /**
     * The zero page for {@code kernel}: all zero (boot.rst: "clear it all to zero"), then the kernel's own
     * setup header, then what the loader sets: type_of_loader, loadflags with CAN_USE_HEAP, heap_end_ptr,
     * cmd_line_ptr, the initrd (0/0 for none), the e820 table, and acpi_rsdp_addr (0: none given).
     */
    public static byte[] encode(
            BzImage kernel,
            long commandLineAddress,
            long initrdAddress,
            long initrdSize,
            List<MemoryMap.Entry> memoryMap,
            long rsdpAddress) {
        if (memoryMap.size() > E820_MAX_ENTRIES_ZEROPAGE) {
            throw new IllegalArgumentException("at most " + E820_MAX_ENTRIES_ZEROPAGE
                    + " e820 entries fit the zero page, got " + memoryMap.size());
        }
        requireBelow4G("command line", commandLineAddress);
        requireBelow4G("initrd", initrdAddress + initrdSize);
        ByteBuffer b = ByteBuffer.allocate(SIZE).order(ByteOrder.LITTLE_ENDIAN);
        b.put(HDR, kernel.setupHeader());
        b.put(TYPE_OF_LOADER, (byte) LOADER_UNDEFINED);
        b.put(LOADFLAGS, (byte) (kernel.loadflags() | CAN_USE_HEAP));
        b.putShort(HEAP_END_PTR, (short) HEAP_END);
        b.putInt(CMD_LINE_PTR, (int) commandLineAddress);
        b.putInt(RAMDISK_IMAGE, (int) initrdAddress);
        b.putInt(RAMDISK_SIZE, (int) initrdSize);
        b.putLong(ACPI_RSDP_ADDR, rsdpAddress);
        b.put(E820_ENTRIES, (byte) memoryMap.size());
        for (int i = 0; i < memoryMap.size(); i++) {
            MemoryMap.Entry e = memoryMap.get(i);
            int at = E820_TABLE + i * E820_ENTRY_SIZE;
            b.putLong(at, e.address())
                    .putLong(at + 8, e.size())
                    .putInt(at + 16, e.type().code());
        }
        return b.array();
    }

    /** The 32-bit fields (and their ext_ high halves, which jvfio leaves 0) must hold the address. */
    private static void requireBelow4G(String what, long end) {
        if (end > 0x1_0000_0000L) {
            throw new IllegalArgumentException(what + " ends at 0x" + Long.toHexString(end) + ", above 4 GiB");
        }
    }
}
