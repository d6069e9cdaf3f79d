package io.jvfio.machine;

import io.jvfio.sys.kvm.vcpu.CpuidEntry;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;

/**
 * The CPUID a guest uses to recognise KVM and learn its clocks (Documentation/virt/kvm/x86/cpuid.rst):
 * the hypervisor bit (leaf 1 ECX bit 31), without which Linux never looks at KVM's signature leaf
 * 0x40000000, and so never finds kvm-clock, from which it takes the TSC frequency (seen with Debian's 6.1:
 * "Hypervisor detected: KVM", "tsc: Detected 2596.118 MHz processor"); and the timing leaf 0x40000010 (EAX
 * the TSC in kHz, EBX the LAPIC bus in kHz), which QEMU adds for KVM guests (vmware-cpuid-freq) and
 * KVM_GET_SUPPORTED_CPUID does not return, for guests that read it instead. Without a known TSC frequency
 * and without a PIT (hardware-reduced ACPI), Linux can hang calibrating the LAPIC timer.
 */
public final class HypervisorCpuid {
    static final int LEAF1_ECX_HYPERVISOR = 1 << 31;
    static final int SIGNATURE_LEAF = 0x4000_0000;
    static final int TIMING_LEAF = 0x4000_0010;
    /** "KVMKVMKVM\0\0\0" in EBX, ECX, EDX. */
    static final int KVM_SIGNATURE_EBX = 0x4b4d564b;

    static final int KVM_SIGNATURE_ECX = 0x564b4d56;
    static final int KVM_SIGNATURE_EDX = 0x4d;
    /** KVM's LAPIC timer counts at 1 GHz (1 ns a tick), and so does jvfio's own LAPIC. */
    static final int LAPIC_BUS_KHZ = 1_000_000;

    private HypervisorCpuid() {}

    /**
     * {@code entries} with the hypervisor bit set, KVM's signature leaf (kept if KVM gave it, added if not)
     * announcing leaves up to 0x40000010 where {@code tscKhz} is known, and the timing leaf with it.
     */
    public static List<CpuidEntry> withKvmLeaves(List<CpuidEntry> entries, OptionalInt tscKhz) {
        List<CpuidEntry> result = new ArrayList<>(entries.size() + 2);
        boolean signature = false;
        for (CpuidEntry e : entries) {
            switch (e.function()) {
                case 1 -> result.add(e.withRegisters(e.eax(), e.ebx(), e.ecx() | LEAF1_ECX_HYPERVISOR, e.edx()));
                case SIGNATURE_LEAF -> {
                    signature = true;
                    result.add(
                            tscKhz.isPresent()
                                    ? e.withRegisters(Math.max(e.eax(), TIMING_LEAF), e.ebx(), e.ecx(), e.edx())
                                    : e);
                }
                case TIMING_LEAF -> {}
                default -> result.add(e);
            }
        }
        if (!signature) {
            result.add(new CpuidEntry(
                    SIGNATURE_LEAF,
                    0,
                    0,
                    tscKhz.isPresent() ? TIMING_LEAF : SIGNATURE_LEAF,
                    KVM_SIGNATURE_EBX,
                    KVM_SIGNATURE_ECX,
                    KVM_SIGNATURE_EDX));
        }
        tscKhz.ifPresent(khz -> result.add(new CpuidEntry(TIMING_LEAF, 0, 0, khz, LAPIC_BUS_KHZ, 0, 0)));
        return result;
    }
}
