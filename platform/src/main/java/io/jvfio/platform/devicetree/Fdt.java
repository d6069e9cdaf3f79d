package io.jvfio.platform.devicetree;

/**
 * The DTB format's constants, named as libfdt's {@code fdt.h} names them. All multi-byte fields are
 * big-endian. The header is ten u32 fields in this order: magic, totalsize, off_dt_struct, off_dt_strings,
 * off_mem_rsvmap, version, last_comp_version, boot_cpuid_phys, size_dt_strings, size_dt_struct.
 */
public final class Fdt {
    public static final int FDT_MAGIC = 0xd00dfeed;
    public static final int FDT_BEGIN_NODE = 0x1;
    public static final int FDT_END_NODE = 0x2;
    public static final int FDT_PROP = 0x3;
    public static final int FDT_NOP = 0x4;
    public static final int FDT_END = 0x9;

    /** The version jvfio writes. */
    public static final int FDT_VERSION = 17;
    /** The oldest version a reader of jvfio's DTBs must understand. */
    public static final int FDT_LAST_COMP_VERSION = 16;

    /** Size of a version-17 header (ten u32). */
    public static final int FDT_V17_SIZE = 40;
    /** Size of a version-16 header (nine u32: no size_dt_struct). */
    public static final int FDT_V16_SIZE = 36;
    /** Alignment of the structure block's tokens and property values. */
    public static final int FDT_TAGSIZE = 4;
    /** Size of one memory-reservation entry (address, size: two u64). */
    public static final int FDT_RESERVE_ENTRY_SIZE = 16;

    /** Header field offsets. */
    public static final int OFF_MAGIC = 0;

    public static final int OFF_TOTALSIZE = 4;
    public static final int OFF_OFF_DT_STRUCT = 8;
    public static final int OFF_OFF_DT_STRINGS = 12;
    public static final int OFF_OFF_MEM_RSVMAP = 16;
    public static final int OFF_VERSION = 20;
    public static final int OFF_LAST_COMP_VERSION = 24;
    public static final int OFF_BOOT_CPUID_PHYS = 28;
    public static final int OFF_SIZE_DT_STRINGS = 32;
    public static final int OFF_SIZE_DT_STRUCT = 36;

    private Fdt() {}

    static int align(int value, int alignment) {
        return Math.addExact(value, alignment - 1) & -alignment;
    }
}
