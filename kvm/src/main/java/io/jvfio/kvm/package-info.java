/**
 * Typed owners of KVM's file descriptors: {@link io.jvfio.kvm.Kvm} (/dev/kvm), {@link io.jvfio.kvm.Vm}
 * (memory slots, in-kernel irqchip and its IOAPIC entries, GSI routing, KVM_IRQ_LINE, KVM_SIGNAL_MSI, irqfd
 * with resample, ioeventfds as {@link io.jvfio.kvm.Ioeventfd} owners; its capabilities as {@link io.jvfio.kvm.Cap}) and {@link io.jvfio.kvm.Vcpu} (registers, CPUID, MSRs, the in-kernel LAPIC as a
 * {@link io.jvfio.kvm.LapicState}, KVM_RUN with exits as {@link io.jvfio.kvm.VcpuExit} records, kicks from
 * other threads); and {@link io.jvfio.kvm.IrqchipProbe}, which runs a tiny guest to learn whether this
 * host's in-kernel irqchip keeps an interrupt in service until the guest's EOI as KVM documents (no
 * capability tells, and a software KVM does not), and {@link io.jvfio.kvm.IrqWindowProbe}, which learns
 * whether KVM's interrupt-window exit comes as soon as the guest can take an interrupt (a software KVM
 * serves it between batches of emulated instructions). Everything native goes through {@code io.jvfio.sys.kvm};
 * nothing here touches {@code java.lang.foreign}, and nothing here knows about VFIO, devices, buses or
 * guest images.
 */
package io.jvfio.kvm;
