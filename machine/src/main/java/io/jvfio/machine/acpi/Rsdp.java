package io.jvfio.machine.acpi;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The Root System Description Pointer, revision 2 (ACPI 6.5 section 5.2.5.3): 36 bytes pointing at the
 * XSDT. The first checksum covers the 20 bytes of ACPI 1.0's RSDP, the extended one all 36. The RSDT
 * address stays 0: Linux uses the XSDT of a revision-2 RSDP unless booted with {@code acpi=rsdt}.
 */
final class Rsdp {
    static final int LENGTH = 36;
    static final int REVISION = 2;
    static final String SIGNATURE = "RSD PTR ";
    static final int CHECKSUM = 8;
    static final int OEM_ID = 9;
    static final int REVISION_OFFSET = 15;
    static final int RSDT_ADDRESS = 16;
    static final int LENGTH_OFFSET = 20;
    static final int XSDT_ADDRESS = 24;
    static final int EXTENDED_CHECKSUM = 32;
    static final int ACPI_1_LENGTH = 20;

    private Rsdp() {}

    static byte[] build(long xsdtAddress) {
        ByteBuffer b = ByteBuffer.allocate(LENGTH).order(ByteOrder.LITTLE_ENDIAN);
        b.put(0, SystemDescriptionTable.ascii(SIGNATURE, 8));
        b.put(OEM_ID, SystemDescriptionTable.ascii(SystemDescriptionTable.OEM_ID, 6));
        b.put(REVISION_OFFSET, (byte) REVISION);
        b.putInt(RSDT_ADDRESS, 0);
        b.putInt(LENGTH_OFFSET, LENGTH);
        b.putLong(XSDT_ADDRESS, xsdtAddress);
        byte[] bytes = b.array();
        b.put(CHECKSUM, (byte) AcpiChecksum.of(bytes, 0, ACPI_1_LENGTH));
        b.put(EXTENDED_CHECKSUM, (byte) AcpiChecksum.of(bytes, 0, LENGTH));
        return bytes;
    }
}
