package io.jvfio.machine.boot.linux;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;

/**
 * struct hvm_start_info, version 1, which a PVH entry finds at EBX (Xen's public
 * arch-x86/hvm/start_info.h, also include/xen/interface/hvm/start_info.h in Linux), followed in the
 * same block by its module list (the initrd, if any) and its memory map:
 * <pre>
 * hvm_start_info        { u32 magic, version, flags, nr_modules; u64 modlist_paddr, cmdline_paddr,
 *                         rsdp_paddr, memmap_paddr; u32 memmap_entries, reserved; }   // 56 bytes
 * hvm_modlist_entry     { u64 paddr, size, cmdline_paddr, reserved; }                 // 32 bytes
 * hvm_memmap_table_entry{ u64 addr, size; u32 type, reserved; }                        // 24 bytes, e820 types
 * </pre>
 * An address field of 0 means "not present" (the header says nothing is loaded at 0).
 */
public final class HvmStartInfo {
    public static final int MAGIC_VALUE = 0x336ec578;
    public static final int VERSION = 1;

    public static final int SIZE = 56;
    public static final int MAGIC = 0x00;
    public static final int VERSION_FIELD = 0x04;
    public static final int NR_MODULES = 0x0C;
    public static final int MODLIST_PADDR = 0x10;
    public static final int CMDLINE_PADDR = 0x18;
    public static final int RSDP_PADDR = 0x20;
    public static final int MEMMAP_PADDR = 0x28;
    public static final int MEMMAP_ENTRIES = 0x30;

    public static final int MODLIST_ENTRY_SIZE = 32;
    public static final int MODLIST_ENTRY_PADDR = 0x00;
    public static final int MODLIST_ENTRY_SIZE_FIELD = 0x08;

    public static final int MEMMAP_ENTRY_SIZE = 24;
    public static final int MEMMAP_ENTRY_ADDR = 0x00;
    public static final int MEMMAP_ENTRY_SIZE_FIELD = 0x08;
    public static final int MEMMAP_ENTRY_TYPE = 0x10;
    /**
     * The longest memory map a PVH Linux takes: its pvh_start_xen path (arch/x86/platform/pvh/enlighten.c)
     * copies memmap_entries entries into its boot_params' e820 table, which holds this many, without a bound.
     */
    public static final int MAX_MEMMAP_ENTRIES = BootParams.E820_MAX_ENTRIES_ZEROPAGE;

    private HvmStartInfo() {}

    /**
     * The block to place at {@code address}: the start info, then one module entry for an initrd of
     * {@code initrdSize} bytes at {@code initrdAddress} (none when the size is 0), then the memory map.
     * {@code rsdpAddress} 0 gives no RSDP. A map longer than {@link #MAX_MEMMAP_ENTRIES} is refused.
     */
    public static byte[] encode(
            long address,
            long commandLineAddress,
            long initrdAddress,
            long initrdSize,
            List<MemoryMap.Entry> memoryMap,
            long rsdpAddress) {
        if (memoryMap.size() > MAX_MEMMAP_ENTRIES) {
            throw new IllegalArgumentException("at most " + MAX_MEMMAP_ENTRIES
                    + " memory map entries fit the e820 table a PVH Linux copies them into, got " + memoryMap.size());
        }
        int modules = initrdSize > 0 ? 1 : 0;
        long modlist = address + SIZE;
        long memmap = modlist + (long) modules * MODLIST_ENTRY_SIZE;
        ByteBuffer b = ByteBuffer.allocate(SIZE + modules * MODLIST_ENTRY_SIZE + memoryMap.size() * MEMMAP_ENTRY_SIZE)
                .order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(MAGIC, MAGIC_VALUE)
                .putInt(VERSION_FIELD, VERSION)
                .putInt(NR_MODULES, modules)
                .putLong(MODLIST_PADDR, modules > 0 ? modlist : 0)
                .putLong(CMDLINE_PADDR, commandLineAddress)
                .putLong(RSDP_PADDR, rsdpAddress)
                .putLong(MEMMAP_PADDR, memmap)
                .putInt(MEMMAP_ENTRIES, memoryMap.size());
        if (modules > 0) {
            b.putLong(SIZE + MODLIST_ENTRY_PADDR, initrdAddress).putLong(SIZE + MODLIST_ENTRY_SIZE_FIELD, initrdSize);
        }
        int at = (int) (memmap - address);
        for (MemoryMap.Entry e : memoryMap) {
            b.putLong(at + MEMMAP_ENTRY_ADDR, e.address())
                    .putLong(at + MEMMAP_ENTRY_SIZE_FIELD, e.size())
                    .putInt(at + MEMMAP_ENTRY_TYPE, e.type().code());
            at += MEMMAP_ENTRY_SIZE;
        }
        return b.array();
    }
}
