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
    /** This segment with another base and selector, its descriptor's bits as they are. */
    public Segment withBaseAndSelector(long newBase, int newSelector) {
        return new Segment(newBase, limit, newSelector, type, present, dpl, db, s, l, g, avl, unusable);
    }
}
