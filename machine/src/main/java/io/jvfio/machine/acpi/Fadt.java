package io.jvfio.machine.acpi;

import java.nio.ByteBuffer;

/**
 * The Fixed ACPI Description Table (ACPI 6.5 section 5.2.9) of a hardware-reduced machine, like QEMU's
 * microvm: no PM1/GPE blocks, no SCI, no FACS; the DSDT at X_DSDT; power-off through the sleep control and
 * status registers, two byte-wide I/O ports the machine owns ({@link AcpiTables#SLEEP_CONTROL_PORT},
 * {@link AcpiTables#SLEEP_STATUS_PORT}). Revision 6.5: microvm's 5.1 layout plus the hypervisor vendor
 * identity (left 0), which iasl expects after the sleep registers (it calls a 5.1 FADT truncated).
 */
final class Fadt {
    static final int REVISION = 6;
    static final int MINOR_VERSION = 5;
    static final int LENGTH = 276;

    static final int IAPC_BOOT_ARCH = 109;
    static final int FLAGS = 112;
    static final int MINOR_VERSION_OFFSET = 131;
    static final int X_DSDT = 140;
    static final int SLEEP_CONTROL_REG = 244;
    static final int SLEEP_STATUS_REG = 256;

    /** FADT flag bit 20: no fixed hardware; everything is described in the namespace. */
    static final int HW_REDUCED_ACPI = 1 << 20;
    /** IA-PC boot flag bit 2: do not probe for VGA (Linux then leaves the legacy VGA ranges alone). */
    static final int VGA_NOT_PRESENT = 1 << 2;
    /** IA-PC boot flag bit 5: there is no RTC at ports 0x70/0x71 (Linux takes the wall clock from kvmclock). */
    static final int CMOS_RTC_NOT_PRESENT = 1 << 5;
    /** Flags 8042 (bit 1) and LEGACY_DEVICES (bit 0) stay clear: Linux then registers no i8042 or PNPBIOS. */
    static final int BOOT_ARCH = VGA_NOT_PRESENT | CMOS_RTC_NOT_PRESENT;

    static final int GAS_SYSTEM_IO = 1;
    static final int GAS_ACCESS_BYTE = 1;

    private Fadt() {}

    static byte[] build(long dsdtAddress) {
        ByteBuffer b = SystemDescriptionTable.allocate(LENGTH);
        b.putShort(IAPC_BOOT_ARCH, (short) BOOT_ARCH);
        b.putInt(FLAGS, HW_REDUCED_ACPI);
        b.put(MINOR_VERSION_OFFSET, (byte) MINOR_VERSION);
        b.putLong(X_DSDT, dsdtAddress);
        putBytePort(b, SLEEP_CONTROL_REG, AcpiTables.SLEEP_CONTROL_PORT);
        putBytePort(b, SLEEP_STATUS_REG, AcpiTables.SLEEP_STATUS_PORT);
        return SystemDescriptionTable.seal(b, "FACP", REVISION);
    }

    /** A Generic Address Structure (ACPI 6.5 section 5.2.3.2) for an 8-bit register at an I/O port. */
    private static void putBytePort(ByteBuffer b, int at, int port) {
        b.put(at, (byte) GAS_SYSTEM_IO);
        b.put(at + 1, (byte) 8);
        b.put(at + 2, (byte) 0);
        b.put(at + 3, (byte) GAS_ACCESS_BYTE);
        b.putLong(at + 4, port);
    }
}
