package io.jvfio.machine.acpi;

import java.nio.ByteBuffer;
import java.util.List;

/** The Extended System Description Table (ACPI 6.5 section 5.2.8): 64-bit addresses of the tables but the DSDT. */
final class Xsdt {
    static final int REVISION = 1;

    private Xsdt() {}

    static int length(int tables) {
        return SystemDescriptionTable.HEADER_SIZE + 8 * tables;
    }

    static byte[] build(List<Long> tableAddresses) {
        ByteBuffer b = SystemDescriptionTable.allocate(length(tableAddresses.size()));
        tableAddresses.forEach(b::putLong);
        return SystemDescriptionTable.seal(b, "XSDT", REVISION);
    }
}
