package io.jvfio.sys.kvm.vcpu;

/** struct kvm_segment: a segment register as KVM sees it (base, limit and the descriptor's bits). */
public record Segment(
        long base,
        int limit,
        int selector,
        int type,
        boolean present,
        int dpl,
        boolean db,
        boolean s,
        boolean l,
        boolean g,
        boolean avl,
        boolean unusable) {
    /** Descriptor type of code that executes and reads, accessed. */
    public static final int TYPE_CODE_EXECUTE_READ_ACCESSED = 0xB;
    /** Descriptor type of data that reads and writes, accessed. */
    public static final int TYPE_DATA_READ_WRITE_ACCESSED = 0x3;
    /** Descriptor type of a busy 32-bit TSS, what TR must hold. */
    public static final int TYPE_TSS_32_BUSY = 0xB;

    /**
     * A flat segment as boot code enters with it: base 0, a 4 GiB limit in pages, present, ring 0, a code
     * or data descriptor of {@code type}; {@code db} for 32-bit code and data, {@code l} for 64-bit code.
     */
    public static Segment flat(int selector, int type, boolean db, boolean l) {
        return new Segment(0, 0xFFFFFFFF, selector, type, true, 0, db, true, l, true, false, false);
    }

    /** A present, busy 32-bit TSS at base 0 with {@code limit}. */
    public static Segment busyTss32(int selector, int limit) {
        return new Segment(0, limit, selector, TYPE_TSS_32_BUSY, true, 0, false, false, false, false, false, false);
    }

    /** This segment with another base and selector, its descriptor's bits as they are. */
    public Segment withBaseAndSelector(long newBase, int newSelector) {
        return new Segment(newBase, limit, newSelector, type, present, dpl, db, s, l, g, avl, unusable);
    }
}
