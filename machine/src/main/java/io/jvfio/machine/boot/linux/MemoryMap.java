package io.jvfio.machine.boot.linux;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * The guest-physical memory map a Linux kernel gets, as e820 entries (boot_params' e820_table, or the
 * memmap of hvm_start_info, which uses the same types), laid out as Firecracker and qboot lay it out for a
 * PC: RAM [0, 0x9FC00), the Extended BIOS Data Area and the BIOS area reserved [0x9FC00, 0x100000), RAM
 * from 1 MiB to the end of RAM, then the machine's MMIO ranges reserved, so that Linux places nothing of
 * its own (a PCI BAR, hot-added memory) over them.
 */
public final class MemoryMap {
    /** Where PC firmware's Extended BIOS Data Area starts, and so where low RAM ends (639 KiB). */
    public static final long EBDA_START = 0x9FC00;
    /**
     * The BIOS area [0xE0000, 0x100000): reserved, so firmware tables written there stay intact. Linux
     * searches it for the ACPI RSDP when the loader gives no address.
     */
    public static final long BIOS_AREA_START = 0xE0000;

    public static final long BIOS_AREA_END = 0x100000;
    /** RAM above the legacy hole starts at 1 MiB. */
    public static final long HIGH_RAM_START = 0x100000;

    /** The e820 types jvfio's map uses (arch/x86/include/uapi/asm/bootparam.h, E820_TYPE_*). */
    public enum Type {
        RAM(1),
        RESERVED(2);

        private final int code;

        Type(int code) {
            this.code = code;
        }

        /** The value of the e820 and hvm_memmap_table_entry type fields. */
        public int code() {
            return code;
        }
    }

    /** One range of the map: [address, address + size) of a type. */
    public record Entry(long address, long size, Type type) {
        public Entry {
            if (address < 0 || size <= 0 || address + size < address) {
                throw new IllegalArgumentException("memory map entry 0x" + Long.toHexString(address) + "+0x"
                        + Long.toHexString(size) + " is empty or wraps");
            }
        }

        public long end() {
            return address + size;
        }
    }

    private MemoryMap() {}

    /**
     * The map of a machine with {@code ramSize} bytes of RAM at 0 and the MMIO ranges {@code reserved}
     * (each above RAM, none overlapping another), sorted by address.
     */
    public static List<Entry> layout(long ramSize, List<Entry> reserved) {
        if (ramSize <= HIGH_RAM_START) {
            throw new IllegalArgumentException(
                    "Linux needs RAM above 1 MiB, the machine has 0x" + Long.toHexString(ramSize) + " bytes");
        }
        List<Entry> map = new ArrayList<>(List.of(
                new Entry(0, EBDA_START, Type.RAM),
                new Entry(EBDA_START, HIGH_RAM_START - EBDA_START, Type.RESERVED),
                new Entry(HIGH_RAM_START, ramSize - HIGH_RAM_START, Type.RAM)));
        List<Entry> holes = new ArrayList<>(reserved);
        holes.sort(Comparator.comparingLong(Entry::address));
        long previousEnd = ramSize;
        for (Entry hole : holes) {
            if (hole.address() < previousEnd) {
                throw new IllegalArgumentException("reserved range 0x" + Long.toHexString(hole.address()) + "+0x"
                        + Long.toHexString(hole.size()) + " overlaps RAM or another reserved range (below 0x"
                        + Long.toHexString(previousEnd) + ")");
            }
            map.add(new Entry(hole.address(), hole.size(), Type.RESERVED));
            previousEnd = hole.end();
        }
        return List.copyOf(map);
    }
}
