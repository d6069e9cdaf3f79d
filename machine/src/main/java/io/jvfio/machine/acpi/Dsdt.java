package io.jvfio.machine.acpi;

import java.nio.ByteBuffer;
import java.util.List;

/**
 * The Differentiated System Description Table (ACPI 6.5 section 5.2.11.1), revision 2 so that AML integers
 * are 64-bit: {@code Scope(\_SB)} with one Device per {@link AcpiDevice}, and {@code \_S5} whose sleep type
 * Linux writes to the sleep control register to power off.
 */
final class Dsdt {
    static final int REVISION = 2;

    private Dsdt() {}

    static byte[] build(List<AcpiDevice> devices) {
        List<Aml.TermObject> deviceObjects =
                devices.stream().<Aml.TermObject>map(AcpiDevice::toAml).toList();
        Aml.IntegerConst s5 = new Aml.IntegerConst(AcpiTables.S5_SLEEP_TYPE);
        byte[] aml = Aml.encodeAll(List.of(
                new Aml.Scope(NamePath.of("\\_SB"), deviceObjects),
                // SLP_TYPa and SLP_TYPb; a hardware-reduced machine uses only the first.
                new Aml.Name("_S5", new Aml.Package(s5, s5))));
        ByteBuffer b = SystemDescriptionTable.allocate(SystemDescriptionTable.HEADER_SIZE + aml.length);
        b.put(aml);
        return SystemDescriptionTable.seal(b, "DSDT", REVISION);
    }
}
