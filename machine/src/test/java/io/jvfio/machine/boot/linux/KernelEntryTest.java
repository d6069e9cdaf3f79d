package io.jvfio.machine.boot.linux;

import static org.assertj.core.api.Assertions.assertThat;

import io.jvfio.machine.boot.LongMode;
import io.jvfio.sys.kvm.vcpu.DescriptorTable;
import io.jvfio.sys.kvm.vcpu.Regs;
import io.jvfio.sys.kvm.vcpu.Segment;
import io.jvfio.sys.kvm.vcpu.Sregs;
import org.junit.jupiter.api.Test;

class KernelEntryTest {
    /** What KVM gives a new vCPU: TR a busy 32-bit TSS of limit 0xFFFF, the APIC at its default base. */
    private static final Sregs RESET = new Sregs(
            segment(0xF000),
            segment(0),
            segment(0),
            segment(0),
            segment(0),
            segment(0),
            new Segment(0, 0xFFFF, 0, 11, true, 0, false, false, false, false, false, false),
            new Segment(0, 0xFFFF, 0, 2, true, 0, false, false, false, false, false, false),
            new DescriptorTable(0, 0xFFFF),
            new DescriptorTable(0, 0xFFFF),
            0x60000010L,
            0,
            0,
            0,
            0,
            0,
            0xFEE00900L,
            new long[4]);

    private static Segment segment(int selector) {
        return new Segment(selector << 4, 0xFFFF, selector, 3, true, 0, false, true, false, false, false, false);
    }

    @Test
    void bzImageEntryIsLongModeWithBootCsAndBootDsAndRsiAtTheZeroPage() {
        KernelEntry entry = new KernelEntry(KernelEntry.Mode.LONG_MODE, 0x100_0200, 0x7000);

        Sregs s = entry.sregs(RESET);
        Regs r = entry.regs();

        assertThat(s.cs().selector()).isEqualTo(0x10);
        assertThat(s.cs().l()).isTrue();
        assertThat(s.ds().selector()).isEqualTo(0x18);
        assertThat(s.ss().selector()).isEqualTo(0x18);
        assertThat(s.gdt()).isEqualTo(new DescriptorTable(0x500, 4 * 8 - 1));
        assertThat(s.cr0() & LongMode.CR0_PG).isNotZero();
        assertThat(s.efer() & LongMode.EFER_LMA).isNotZero();
        assertThat(s.cr3()).isEqualTo(LongMode.PML4_ADDRESS);
        assertThat(r.rip()).isEqualTo(0x100_0200);
        assertThat(r.rsi()).isEqualTo(0x7000);
        assertThat(r.rflags()).as("interrupts off").isEqualTo(0x2);
    }

    @Test
    void pvhEntryIs32BitProtectedModeWithoutPagingAndEbxAtTheStartInfo() {
        KernelEntry entry = new KernelEntry(KernelEntry.Mode.PROTECTED_MODE_32, 0x100_0850, 0x7000);

        Sregs s = entry.sregs(RESET);
        Regs r = entry.regs();

        assertThat(s.cr0()).isEqualTo(LongMode.CR0_PE | LongMode.CR0_ET);
        assertThat(s.cr4()).isZero();
        assertThat(s.efer()).isZero();
        assertThat(s.cs())
                .isEqualTo(new Segment(0, 0xFFFFFFFF, 0x08, 0xB, true, 0, true, true, false, true, false, false));
        assertThat(s.ds())
                .isEqualTo(new Segment(0, 0xFFFFFFFF, 0x18, 0x3, true, 0, true, true, false, true, false, false));
        assertThat(s.es()).isEqualTo(s.ds());
        assertThat(s.ss()).isEqualTo(s.ds());
        assertThat(s.tr().base()).isZero();
        assertThat(s.tr().limit()).isEqualTo(0x67);
        assertThat(s.tr().type()).as("busy 32-bit TSS").isEqualTo(11);
        assertThat(s.apicBase()).isEqualTo(0xFEE00900L);
        assertThat(r.rip()).isEqualTo(0x100_0850);
        assertThat(r.rbx()).isEqualTo(0x7000);
        assertThat(r.rflags()).as("interrupts off").isEqualTo(0x2);
    }
}
