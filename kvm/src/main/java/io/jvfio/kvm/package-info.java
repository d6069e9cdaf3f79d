/**
 * Typed owners of KVM's file descriptors: {@link io.jvfio.kvm.Kvm} (/dev/kvm), {@link io.jvfio.kvm.Vm}
 * (memory slots, in-kernel irqchip, GSI routing, KVM_IRQ_LINE, irqfd with resample, ioeventfd) and
 * {@link io.jvfio.kvm.Vcpu} (registers, CPUID, MSRs, KVM_RUN with exits as
 * {@link io.jvfio.kvm.VcpuExit} records, kicks from other threads). Everything native goes through
 * {@code io.jvfio.sys.kvm}; nothing here touches {@code java.lang.foreign}, and nothing here knows about
 * VFIO, devices, buses or guest images.
 */
package io.jvfio.kvm;
