package io.jvfio.machine;

import static io.jvfio.machine.boot.linux.MemoryMap.Type.RAM;
import static io.jvfio.machine.boot.linux.MemoryMap.Type.RESERVED;
import static org.assertj.core.api.Assertions.assertThat;

import io.jvfio.machine.boot.linux.MemoryMap;
import io.jvfio.sys.kvm.vcpu.CpuidEntry;
import java.util.List;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;

/** What a Linux guest learns of the machine without devices: the hypervisor's CPUID leaves and the memory map. */
class HypervisorCpuidAndMemoryMapTest {
    private static final CpuidEntry LEAF1 = new CpuidEntry(1, 0, 0, 0x806F8, 0x800, 0x7ED8320B, 0x178BFBFF);
    /** KVM_GET_SUPPORTED_CPUID's signature leaf: max leaf 0x40000001, "KVMKVMKVM". */
    private static final CpuidEntry KVM_SIGNATURE =
            new CpuidEntry(0x40000000, 0, 0, 0x40000001, 0x4b4d564b, 0x564b4d56, 0x4d);

    private static final CpuidEntry KVM_FEATURES = new CpuidEntry(0x40000001, 0, 0, 0x01007AFB, 0, 0, 0);

    private static CpuidEntry leaf(List<CpuidEntry> entries, int function) {
        return entries.stream()
                .filter(e -> e.function() == function)
                .findFirst()
                .orElseThrow();
    }

    @Test
    void hypervisorBitIsSetSoLinuxLooksForKvmsSignature() {
        List<CpuidEntry> result = HypervisorCpuid.withKvmLeaves(List.of(LEAF1, KVM_SIGNATURE), OptionalInt.empty());

        assertThat(leaf(result, 1).ecx()).isEqualTo(0x7ED8320B | 0x80000000);
        assertThat(leaf(result, 1).edx()).isEqualTo(LEAF1.edx());
    }

    @Test
    void timingLeafGivesTheTscAndTheOneGigahertzLapicBusAndTheSignatureLeafAnnouncesIt() {
        List<CpuidEntry> result =
                HypervisorCpuid.withKvmLeaves(List.of(LEAF1, KVM_SIGNATURE, KVM_FEATURES), OptionalInt.of(2_596_128));

        assertThat(leaf(result, 0x40000010)).isEqualTo(new CpuidEntry(0x40000010, 0, 0, 2_596_128, 1_000_000, 0, 0));
        assertThat(leaf(result, 0x40000000))
                .isEqualTo(new CpuidEntry(0x40000000, 0, 0, 0x40000010, 0x4b4d564b, 0x564b4d56, 0x4d));
        assertThat(leaf(result, 0x40000001)).isEqualTo(KVM_FEATURES);
    }

    /**
     * On jvfio's irqchip: no x2APIC or TSC-deadline timer (its LAPIC is an xAPIC), and none of KVM's
     * features served by KVM's LAPIC (async PF and its interrupt, PV EOI, PV unhalt, PV IPIs, MSI extended
     * destination IDs); kvm-clock, steal time, PV TLB flush, poll control, sched yield and the stable-clock
     * bit stay.
     */
    @Test
    void userspaceIrqchipMasksWhatOnlyKvmsLapicServes() {
        CpuidEntry leaf1 = new CpuidEntry(1, 0, 0, 0x806F8, 0x800, 0x7FF8320B | (1 << 21) | (1 << 24), 0x178BFBFF);

        List<CpuidEntry> result = CpuidMask.forUserspaceIrqchip(List.of(leaf1, KVM_SIGNATURE, KVM_FEATURES));

        assertThat(leaf(result, 1).ecx() & ((1 << 21) | (1 << 24))).isZero();
        assertThat(leaf(result, 1).ecx()).isEqualTo(0x7ED8320B);
        assertThat(leaf(result, 0x40000001).eax()).isEqualTo(0x0100322B);
        assertThat(leaf(result, 0x40000000)).isEqualTo(KVM_SIGNATURE);
    }

    @Test
    void withoutAKnownTscKvmsLeavesStayAsKvmGaveThem() {
        List<CpuidEntry> result = HypervisorCpuid.withKvmLeaves(List.of(LEAF1, KVM_SIGNATURE), OptionalInt.empty());

        assertThat(leaf(result, 0x40000000)).isEqualTo(KVM_SIGNATURE);
        assertThat(result).noneMatch(e -> e.function() == 0x40000010);
    }

    @Test
    void aTimingLeafKvmGaveIsReplacedNotDuplicated() {
        CpuidEntry stale = new CpuidEntry(0x40000010, 0, 0, 1, 1, 0, 0);

        List<CpuidEntry> result =
                HypervisorCpuid.withKvmLeaves(List.of(KVM_SIGNATURE, stale), OptionalInt.of(3_000_000));

        assertThat(result)
                .filteredOn(e -> e.function() == 0x40000010)
                .containsExactly(new CpuidEntry(0x40000010, 0, 0, 3_000_000, 1_000_000, 0, 0));
    }

    @Test
    void aMissingSignatureLeafIsAddedWithKvmsSignature() {
        List<CpuidEntry> result = HypervisorCpuid.withKvmLeaves(List.of(LEAF1), OptionalInt.of(1_000_000));

        assertThat(leaf(result, 0x40000000))
                .isEqualTo(new CpuidEntry(0x40000000, 0, 0, 0x40000010, 0x4b4d564b, 0x564b4d56, 0x4d));
    }

    @Test
    void memoryMapReservesEveryRangeTheMachineDecodesAboveRam() {
        List<MemoryMap.Entry> map = Machine.memoryMap(256L << 20);

        assertThat(map)
                .containsExactly(
                        new MemoryMap.Entry(0, 0x9FC00, RAM),
                        new MemoryMap.Entry(0x9FC00, 0x60400, RESERVED),
                        new MemoryMap.Entry(0x100000, (256L << 20) - 0x100000, RAM),
                        new MemoryMap.Entry(0xD0000000L, 0x10000000L, RESERVED),
                        new MemoryMap.Entry(0xFEC00000L, 0x1000, RESERVED),
                        new MemoryMap.Entry(0xFEE00000L, 0x1000, RESERVED),
                        new MemoryMap.Entry(0xFFFBC000L, 0x4000, RESERVED));
    }
}
