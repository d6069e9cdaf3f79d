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
        boolean unusable) {}
