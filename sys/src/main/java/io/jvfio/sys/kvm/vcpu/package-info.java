/**
 * What KVM's vCPU ioctls take and return, as plain records with kvm.h's field names: struct kvm_regs
 * ({@link io.jvfio.sys.kvm.vcpu.Regs}), kvm_sregs with its segments and descriptor tables, a CPUID leaf
 * (kvm_cpuid_entry2) and an MSR (kvm_msr_entry). Exported to every module, since they are the types of
 * the {@code kvm} module's API; no native memory and no ioctl here ({@link io.jvfio.sys.kvm.KvmIoctls}
 * converts them).
 */
package io.jvfio.sys.kvm.vcpu;
