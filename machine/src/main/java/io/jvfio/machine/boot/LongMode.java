package io.jvfio.machine.boot;

import io.jvfio.sys.Mapping;
import io.jvfio.sys.kvm.vcpu.DescriptorTable;
import io.jvfio.sys.kvm.vcpu.Regs;
import io.jvfio.sys.kvm.vcpu.Segment;
import io.jvfio.sys.kvm.vcpu.Sregs;

/**
 * The 64-bit long mode the machine enters guests in: a GDT, identity-mapped page tables for the first
 * 4 GiB with 2 MiB pages, and the registers at entry (guests/README.md, "The machine's contract").
 * Everything lives below 0x10000: GDT at 0x500, PML4 at 0x1000, PDPT at 0x2000, four page directories at
 * 0x3000-0x6FFF, the boot info at 0x9000; the stack starts at 0x80000 and grows down.
 */
public final class LongMode {
    public static final long GDT_ADDRESS = 0x500;
    public static final long PML4_ADDRESS = 0x1000;
    public static final long PDPT_ADDRESS = 0x2000;
    public static final long PD_ADDRESS = 0x3000;
    public static final int PD_COUNT = 4;
    public static final long BOOT_INFO_ADDRESS = 0x9000;
    public static final long STACK_TOP = 0x80000;
    /** Guest images load at or above this address; below it is the machine's. */
    public static final long IMAGE_LOWEST = 0x100000;

    public static final int CODE_SELECTOR = 0x08;
    public static final int DATA_SELECTOR = 0x10;
    /** Null, 64-bit code (L=1, P, DPL 0, execute/read), data (read/write, 4 GiB, D/B=1). */
    public static final long[] GDT = {0, 0x00AF9B000000FFFFL, 0x00CF93000000FFFFL};

    static final long PAGE_PRESENT = 1;
    static final long PAGE_WRITABLE = 2;
    static final long PAGE_SIZE_2M = 0x80;

    public static final long CR0_PE = 1;
    public static final long CR0_MP = 1L << 1;
    public static final long CR0_ET = 1L << 4;
    public static final long CR0_NE = 1L << 5;
    public static final long CR0_WP = 1L << 16;
    public static final long CR0_PG = 1L << 31;
    public static final long CR4_PAE = 1L << 5;
    public static final long EFER_LME = 1L << 8;
    public static final long EFER_LMA = 1L << 10;
    public static final long RFLAGS_RESERVED = 0x2;

    private LongMode() {}

    /** Writes the GDT and the page tables into guest RAM (which must hold at least the first 0x10000 bytes). */
    public static void writeTables(Mapping ram) {
        writeGdt(ram, GDT);
        writePageTables(ram);
    }

    /** Writes {@code descriptors} as the GDT at {@link #GDT_ADDRESS} (at most 16 of them: 0x500-0x57F). */
    public static void writeGdt(Mapping ram, long[] descriptors) {
        if (descriptors.length > 16) {
            throw new IllegalArgumentException(
                    "at most 16 GDT descriptors fit below the PML4, got " + descriptors.length);
        }
        for (int i = 0; i < descriptors.length; i++) {
            ram.putLong(GDT_ADDRESS + 8L * i, descriptors[i]);
        }
    }

    /** Writes page tables at 0x1000-0x6FFF that identity-map the first 4 GiB with 2 MiB pages. */
    public static void writePageTables(Mapping ram) {
        ram.fill(PML4_ADDRESS, PD_ADDRESS + PD_COUNT * 0x1000L - PML4_ADDRESS, (byte) 0);
        ram.putLong(PML4_ADDRESS, PDPT_ADDRESS | PAGE_PRESENT | PAGE_WRITABLE);
        for (int i = 0; i < PD_COUNT; i++) {
            long pd = PD_ADDRESS + 0x1000L * i;
            ram.putLong(PDPT_ADDRESS + 8L * i, pd | PAGE_PRESENT | PAGE_WRITABLE);
            for (int j = 0; j < 512; j++) {
                long physical = ((long) i * 512 + j) << 21;
                ram.putLong(pd + 8L * j, physical | PAGE_PRESENT | PAGE_WRITABLE | PAGE_SIZE_2M);
            }
        }
    }

    /** The special registers at entry, keeping what KVM set for the rest (TR, LDT, APIC base, ...). */
    public static Sregs sregs(Sregs initial) {
        return sregs(initial, GDT.length, CODE_SELECTOR, DATA_SELECTOR);
    }

    /**
     * The special registers of long mode with the page tables of {@link #writePageTables}, a GDT of
     * {@code gdtEntries} descriptors at {@link #GDT_ADDRESS}, CS = {@code codeSelector} (64-bit code) and
     * the data segments = {@code dataSelector} (flat read/write), keeping what KVM set for the rest.
     */
    public static Sregs sregs(Sregs initial, int gdtEntries, int codeSelector, int dataSelector) {
        return initial.entering(
                Segment.flat(codeSelector, Segment.TYPE_CODE_EXECUTE_READ_ACCESSED, false, true),
                Segment.flat(dataSelector, Segment.TYPE_DATA_READ_WRITE_ACCESSED, true, false),
                initial.tr(),
                new DescriptorTable(GDT_ADDRESS, gdtEntries * 8 - 1),
                new DescriptorTable(0, 0),
                CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP | CR0_PG,
                PML4_ADDRESS,
                CR4_PAE,
                EFER_LME | EFER_LMA);
    }

    /** The general registers at entry: RIP = entry, RSP = 0x80000, RDI = boot info, RFLAGS = 0x2. */
    public static Regs regs(long entry) {
        return Regs.initial()
                .withRip(entry)
                .withRsp(STACK_TOP)
                .withRdi(BOOT_INFO_ADDRESS)
                .withRflags(RFLAGS_RESERVED);
    }
}
