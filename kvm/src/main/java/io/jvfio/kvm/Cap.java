package io.jvfio.kvm;

import io.jvfio.sys.kvm.KvmAbi;

/**
 * The KVM capabilities jvfio asks about with KVM_CHECK_EXTENSION ({@link Kvm#hasCapability},
 * {@link Vm#hasCapability}), named as kvm.h names them without the {@code KVM_CAP_} prefix, as rust-vmm
 * kvm-ioctls' {@code Cap} does.
 */
public enum Cap {
    IRQCHIP(KvmAbi.KVM_CAP_IRQCHIP),
    USER_MEMORY(KvmAbi.KVM_CAP_USER_MEMORY),
    SET_TSS_ADDR(KvmAbi.KVM_CAP_SET_TSS_ADDR),
    EXT_CPUID(KvmAbi.KVM_CAP_EXT_CPUID),
    IRQ_ROUTING(KvmAbi.KVM_CAP_IRQ_ROUTING),
    IRQFD(KvmAbi.KVM_CAP_IRQFD),
    SET_IDENTITY_MAP_ADDR(KvmAbi.KVM_CAP_SET_IDENTITY_MAP_ADDR),
    SIGNAL_MSI(KvmAbi.KVM_CAP_SIGNAL_MSI),
    IRQFD_RESAMPLE(KvmAbi.KVM_CAP_IRQFD_RESAMPLE),
    IOEVENTFD(KvmAbi.KVM_CAP_IOEVENTFD),
    READONLY_MEM(KvmAbi.KVM_CAP_READONLY_MEM),
    IMMEDIATE_EXIT(KvmAbi.KVM_CAP_IMMEDIATE_EXIT);

    private final int number;

    Cap(int number) {
        this.number = number;
    }

    /** The number KVM_CHECK_EXTENSION takes. */
    int number() {
        return number;
    }

    /** kvm.h's name, e.g. {@code KVM_CAP_IRQFD}. */
    public String kernelName() {
        return "KVM_CAP_" + name();
    }
}
