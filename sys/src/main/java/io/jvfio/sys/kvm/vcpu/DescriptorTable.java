package io.jvfio.sys.kvm.vcpu;

/** struct kvm_dtable: the GDTR or IDTR (base and limit). */
public record DescriptorTable(long base, int limit) {}
