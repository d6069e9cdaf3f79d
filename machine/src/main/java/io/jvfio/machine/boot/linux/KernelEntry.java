package io.jvfio.machine.boot.linux;

import io.jvfio.machine.boot.LongMode;
import io.jvfio.sys.kvm.vcpu.DescriptorTable;
import io.jvfio.sys.kvm.vcpu.Regs;
import io.jvfio.sys.kvm.vcpu.Segment;
import io.jvfio.sys.kvm.vcpu.Sregs;

/**
 * How the boot vCPU enters a loaded kernel, with interrupts off (RFLAGS = 0x2) and RSP in low RAM that
 * nothing else uses, for a kernel that pushes before it sets its own stack.
 *
 * @param mode     the CPU mode at entry
 * @param address  the entry's physical address
 * @param bootData the zero page's address (RSI, 64-bit boot protocol) or the hvm_start_info's (EBX, PVH)
 */
public record KernelEntry(Mode mode, long address, long bootData) {
    public enum Mode {
        /** boot.rst, "64-bit Boot Protocol": long mode with paging, CS = __BOOT_CS (0x10), the data segments __BOOT_DS (0x18). */
        LONG_MODE,
        /**
         * Xen's docs/misc/pvh.pandoc: 32-bit protected mode, paging off (CR0 = PE, CR4 = 0), CS a flat 32-bit
         * code segment, DS/ES/SS flat data, TR a 32-bit TSS of base 0 and limit 0x67.
         */
        PROTECTED_MODE_32
    }

    /** The flat 32-bit code segment's selector in {@link LinuxBoot#GDT}. */
    public static final int CODE32_SELECTOR = 0x08;
    /** __BOOT_CS. */
    public static final int BOOT_CS = 0x10;
    /** __BOOT_DS. */
    public static final int BOOT_DS = 0x18;

    static final int PVH_TSS_LIMIT = 0x67;

    /** The general registers at entry. */
    public Regs regs() {
        Regs regs = Regs.initial().withRip(address).withRsp(LongMode.STACK_TOP).withRflags(LongMode.RFLAGS_RESERVED);
        return mode == Mode.LONG_MODE ? regs.withRsi(bootData) : regs.withRbx(bootData);
    }

    /** The special registers at entry, keeping what KVM set for the rest (LDT, APIC base, ...). */
    public Sregs sregs(Sregs initial) {
        if (mode == Mode.LONG_MODE) {
            return LongMode.sregs(initial, LinuxBoot.GDT.length, BOOT_CS, BOOT_DS);
        }
        // CR0.ET is not writable (it reads 1) on every CPU KVM runs on, so PE is the only bit PVH's "cleared" leaves.
        return initial.entering(
                Segment.flat(CODE32_SELECTOR, Segment.TYPE_CODE_EXECUTE_READ_ACCESSED, true, false),
                Segment.flat(BOOT_DS, Segment.TYPE_DATA_READ_WRITE_ACCESSED, true, false),
                Segment.busyTss32(initial.tr().selector(), PVH_TSS_LIMIT),
                new DescriptorTable(LongMode.GDT_ADDRESS, LinuxBoot.GDT.length * 8 - 1),
                new DescriptorTable(0, 0),
                LongMode.CR0_PE | LongMode.CR0_ET,
                0,
                0,
                0);
    }
}
