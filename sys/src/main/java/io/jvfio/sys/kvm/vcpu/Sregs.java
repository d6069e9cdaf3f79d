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

    /** This state with {@code segment} as CS. */
    public Sregs withCs(Segment segment) {
        return new Sregs(
                segment,
                ds,
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

    /** This state with {@code segment} as DS. */
    public Sregs withDs(Segment segment) {
        return new Sregs(
                cs,
                segment,
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
}
