package io.jvfio.machine;

import io.jvfio.sys.kvm.vcpu.CpuidEntry;
import java.util.ArrayList;
import java.util.List;

/**
 * Masks the CPUID that KVM supports down to what a software KVM's instruction emulator can run
 * (DESIGN.md, "Guests"): SSE3 and later vector extensions, AVX*, FMA, AES, XSAVE, popcnt, lzcnt/ABM,
 * BMI1/2, ADX, movbe, cmpxchg16b, monitor/mwait, rdtscp, rdpid, RDRAND/RDSEED, SHA and friends are
 * cleared. x87, MMX and SSE/SSE2 stay advertised (baseline x86-64 requires them); guests must not use them.
 */
public final class CpuidMask {
    /** Leaf 1 ECX: SSE3 0, PCLMULQDQ 1, MONITOR 3, SSSE3 9, FMA 12, CX16 13, SSE4.1 19, SSE4.2 20,
     * MOVBE 22, POPCNT 23, AES 25, XSAVE 26, OSXSAVE 27, AVX 28, F16C 29, RDRAND 30. */
    static final int LEAF1_ECX_CLEAR = bits(0, 1, 3, 9, 12, 13, 19, 20, 22, 23, 25, 26, 27, 28, 29, 30);
    /** Leaf 7.0 EBX: BMI1 3, HLE 4, AVX2 5, BMI2 8, RTM 11, AVX512F 16, DQ 17, RDSEED 18, ADX 19,
     * IFMA 21, PF 26, ER 27, CD 28, SHA 29, BW 30, VL 31. */
    static final int LEAF7_EBX_CLEAR = bits(3, 4, 5, 8, 11, 16, 17, 18, 19, 21, 26, 27, 28, 29, 30, 31);
    /** Leaf 7.0 ECX: AVX512_VBMI 1, VBMI2 6, GFNI 8, VAES 9, VPCLMULQDQ 10, VNNI 11, BITALG 12,
     * VPOPCNTDQ 14, RDPID 22, MOVDIRI 27, MOVDIR64B 28. */
    static final int LEAF7_ECX_CLEAR = bits(1, 6, 8, 9, 10, 11, 12, 14, 22, 27, 28);
    /** Leaf 7.0 EDX: AVX512_4VNNIW 2, 4FMAPS 3, VP2INTERSECT 8, SERIALIZE 14, AMX-BF16 22, AVX512_FP16 23,
     * AMX-TILE 24, AMX-INT8 25. */
    static final int LEAF7_EDX_CLEAR = bits(2, 3, 8, 14, 22, 23, 24, 25);
    /** Leaf 7.1 EAX: AVX-VNNI 4, AVX512_BF16 5. */
    static final int LEAF7_1_EAX_CLEAR = bits(4, 5);
    /** Leaf 0x80000001 ECX: ABM/LZCNT 5, SSE4A 6, MISALIGNSSE 7, XOP 11, FMA4 16, TBM 21, MONITORX 29. */
    static final int EXT1_ECX_CLEAR = bits(5, 6, 7, 11, 16, 21, 29);
    /** Leaf 0x80000001 EDX: RDTSCP 27. */
    static final int EXT1_EDX_CLEAR = bits(27);

    private CpuidMask() {}

    private static int bits(int... positions) {
        int mask = 0;
        for (int p : positions) {
            mask |= 1 << p;
        }
        return mask;
    }

    /** Leaf 1 ECX: x2APIC 21, TSC-deadline timer 24: what jvfio's own LAPIC does not model. */
    static final int LEAF1_ECX_USER_LAPIC_CLEAR = bits(21, 24);
    /** KVM's feature leaf (Documentation/virt/kvm/x86/cpuid.rst). */
    static final int KVM_FEATURES_LEAF = 0x4000_0001;
    /**
     * KVM's features (leaf 0x40000001 EAX) that KVM serves from its in-kernel LAPIC: ASYNC_PF 4, PV_EOI 6,
     * PV_UNHALT 7, ASYNC_PF_VMEXIT 10, PV_SEND_IPI 11, ASYNC_PF_INT 14, MSI_EXT_DEST_ID 15. Without that
     * LAPIC KVM refuses their MSRs (Debian's 6.1 logged "unchecked MSR access error: WRMSR to 0x4b564d06"
     * at boot on jvfio's irqchip) or its hypercalls have no LAPIC to deliver to; QEMU clears PV_UNHALT for
     * the same reason.
     */
    static final int KVM_FEATURES_IN_KERNEL_LAPIC = bits(4, 6, 7, 10, 11, 14, 15);

    /**
     * The entries for a machine on jvfio's own irqchip: without x2APIC and the TSC-deadline timer, which
     * its LAPIC does not model, and without KVM's paravirtual features that need KVM's LAPIC.
     */
    public static List<CpuidEntry> forUserspaceIrqchip(List<CpuidEntry> entries) {
        List<CpuidEntry> masked = new ArrayList<>(entries.size());
        for (CpuidEntry e : entries) {
            masked.add(
                    switch (e.function()) {
                        case 1 -> e.withRegisters(e.eax(), e.ebx(), e.ecx() & ~LEAF1_ECX_USER_LAPIC_CLEAR, e.edx());
                        case KVM_FEATURES_LEAF ->
                            e.withRegisters(e.eax() & ~KVM_FEATURES_IN_KERNEL_LAPIC, e.ebx(), e.ecx(), e.edx());
                        default -> e;
                    });
        }
        return masked;
    }

    /** The entries with the features above cleared (other leaves unchanged). */
    public static List<CpuidEntry> apply(List<CpuidEntry> supported) {
        List<CpuidEntry> masked = new ArrayList<>(supported.size());
        for (CpuidEntry e : supported) {
            masked.add(
                    switch (e.function()) {
                        case 1 -> e.withRegisters(e.eax(), e.ebx(), e.ecx() & ~LEAF1_ECX_CLEAR, e.edx());
                        case 7 ->
                            e.index() == 0
                                    ? e.withRegisters(
                                            e.eax(),
                                            e.ebx() & ~LEAF7_EBX_CLEAR,
                                            e.ecx() & ~LEAF7_ECX_CLEAR,
                                            e.edx() & ~LEAF7_EDX_CLEAR)
                                    : e.index() == 1
                                            ? e.withRegisters(e.eax() & ~LEAF7_1_EAX_CLEAR, e.ebx(), e.ecx(), e.edx())
                                            : e;
                        case 0x80000001 ->
                            e.withRegisters(e.eax(), e.ebx(), e.ecx() & ~EXT1_ECX_CLEAR, e.edx() & ~EXT1_EDX_CLEAR);
                        default -> e;
                    });
        }
        return masked;
    }
}
