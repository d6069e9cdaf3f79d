package io.jvfio.sys.kvm.vcpu;

/** struct kvm_msr_entry: a model-specific register's index and value. */
public record MsrEntry(int index, long data) {}
