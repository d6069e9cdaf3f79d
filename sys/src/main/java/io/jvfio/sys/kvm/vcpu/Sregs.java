package io.jvfio.sys.kvm.vcpu;

import io.jvfio.sys.kvm.KvmAbi;

/**
 * struct kvm_sregs: segment registers, descriptor tables, control registers, EFER and the APIC base
 * (KVM_GET_SREGS / KVM_SET_SREGS). {@code interruptBitmap} is the 4-word pending-interrupt bitmap.
 */
public record Sregs(
        Segment cs,
        Segment ds,
        Segment es,
        Segment fs,
        Segment gs,
        Segment ss,
        Segment tr,
        Segment ldt,
        DescriptorTable gdt,
        DescriptorTable idt,
        long cr0,
        long cr2,
        long cr3,
        long cr4,
        long cr8,
        long efer,
        long apicBase,
        long[] interruptBitmap) {
    public Sregs {
        if (interruptBitmap.length != KvmAbi.kvm_sregs.INTERRUPT_BITMAP_WORDS) {
            throw new IllegalArgumentException("interrupt bitmap must have 4 words, got " + interruptBitmap.length);
        }
        interruptBitmap = interruptBitmap.clone();
    }

    @Override
    public long[] interruptBitmap() {
        return interruptBitmap.clone();
    }

    /**
     * This state with {@code newCs} as CS and {@code newDs} as DS, everything else as it is: what a guest
     * that starts in real mode at another address, or with a larger data limit, changes.
     */
    public Sregs withCsAndDs(Segment newCs, Segment newDs) {
        return new Sregs(
                newCs,
                newDs,
                es,
                fs,
                gs,
                ss,
                tr,
                ldt,
                gdt,
                idt,
                cr0,
                cr2,
                cr3,
                cr4,
                cr8,
                efer,
                apicBase,
                interruptBitmap);
    }

    /**
     * The state boot code is entered in: CS = {@code code}; DS, ES, FS, GS and SS = {@code data}; TR =
     * {@code tr}; the given descriptor tables, CR0, CR3, CR4 and EFER; CR2 = CR8 = 0 and no interrupt
     * pending. The LDT and the APIC base stay as KVM set them.
     */
    public Sregs entering(
            Segment code,
            Segment data,
            Segment newTr,
            DescriptorTable newGdt,
            DescriptorTable newIdt,
            long newCr0,
            long newCr3,
            long newCr4,
            long newEfer) {
        return new Sregs(
                code,
                data,
                data,
                data,
                data,
                data,
                newTr,
                ldt,
                newGdt,
                newIdt,
                newCr0,
                0,
                newCr3,
                newCr4,
                0,
                newEfer,
                apicBase,
                new long[KvmAbi.kvm_sregs.INTERRUPT_BITMAP_WORDS]);
    }
}
