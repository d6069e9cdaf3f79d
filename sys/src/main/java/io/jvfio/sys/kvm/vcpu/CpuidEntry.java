package io.jvfio.sys.kvm.vcpu;

/** struct kvm_cpuid_entry2: one CPUID leaf (function) and subleaf (index) with its four registers. */
public record CpuidEntry(int function, int index, int flags, int eax, int ebx, int ecx, int edx) {
    public CpuidEntry withRegisters(int newEax, int newEbx, int newEcx, int newEdx) {
        return new CpuidEntry(function, index, flags, newEax, newEbx, newEcx, newEdx);
    }
}
