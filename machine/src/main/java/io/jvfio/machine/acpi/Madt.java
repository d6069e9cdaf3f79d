package io.jvfio.machine.acpi;

import java.nio.ByteBuffer;

/**
 * The Multiple APIC Description Table, revision 3 (ACPI 6.5 section 5.2.12): the LAPIC address, flags 0
 * (no PC-AT 8259s: jvfio has none), one enabled Processor Local APIC per vCPU (processor UID and APIC ID
 * both the vCPU's index, which is KVM's default APIC ID) and the one I/O APIC, ID 0, GSI base 0. No
 * Interrupt Source Overrides: ISA IRQs map one to one onto GSIs, and each device's _CRS gives its trigger.
 */
final class Madt {
    static final int REVISION = 3;
    static final long LOCAL_APIC_ADDRESS = 0xFEE0_0000L;
    static final long IO_APIC_ADDRESS = 0xFEC0_0000L;
    static final int IO_APIC_ID = 0;
    static final int IO_APIC_GSI_BASE = 0;

    static final int TYPE_PROCESSOR_LOCAL_APIC = 0;
    static final int TYPE_IO_APIC = 1;
    static final int PROCESSOR_LOCAL_APIC_LENGTH = 8;
    static final int IO_APIC_LENGTH = 12;
    static final int LOCAL_APIC_ENABLED = 1;

    private Madt() {}

    static byte[] build(int vcpus) {
        int length = SystemDescriptionTable.HEADER_SIZE + 8 + vcpus * PROCESSOR_LOCAL_APIC_LENGTH + IO_APIC_LENGTH;
        ByteBuffer b = SystemDescriptionTable.allocate(length);
        b.putInt((int) LOCAL_APIC_ADDRESS);
        b.putInt(0); // flags: PCAT_COMPAT clear
        for (int cpu = 0; cpu < vcpus; cpu++) {
            b.put((byte) TYPE_PROCESSOR_LOCAL_APIC).put((byte) PROCESSOR_LOCAL_APIC_LENGTH);
            b.put((byte) cpu).put((byte) cpu);
            b.putInt(LOCAL_APIC_ENABLED);
        }
        b.put((byte) TYPE_IO_APIC).put((byte) IO_APIC_LENGTH);
        b.put((byte) IO_APIC_ID).put((byte) 0);
        b.putInt((int) IO_APIC_ADDRESS);
        b.putInt(IO_APIC_GSI_BASE);
        return SystemDescriptionTable.seal(b, "APIC", REVISION);
    }
}
