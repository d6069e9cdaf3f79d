package io.jvfio.machine.acpi;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * The 36-byte header every ACPI table but the RSDP starts with (ACPI 6.5 section 5.2.6): signature,
 * length, revision, checksum (all bytes of the table sum to zero), OEM ID, OEM table ID, OEM revision,
 * creator ID and creator revision. Tables are little-endian.
 */
final class SystemDescriptionTable {
    static final int HEADER_SIZE = 36;
    static final String OEM_ID = "JVFIO ";
    static final String OEM_TABLE_ID = "JVFIOVM ";
    static final int OEM_REVISION = 1;
    static final String CREATOR_ID = "JVFI";
    static final int CREATOR_REVISION = 1;

    static final int SIGNATURE = 0;
    static final int LENGTH = 4;
    static final int REVISION = 8;
    static final int CHECKSUM = 9;
    static final int OEM_ID_OFFSET = 10;
    static final int OEM_TABLE_ID_OFFSET = 16;
    static final int OEM_REVISION_OFFSET = 24;
    static final int CREATOR_ID_OFFSET = 28;
    static final int CREATOR_REVISION_OFFSET = 32;

    private SystemDescriptionTable() {}

    /** A zeroed little-endian table of {@code length} bytes, positioned after the header. */
    static ByteBuffer allocate(int length) {
        return ByteBuffer.allocate(length).order(ByteOrder.LITTLE_ENDIAN).position(HEADER_SIZE);
    }

    /** Fills in {@code table}'s header, checksum last, and returns its bytes. */
    static byte[] seal(ByteBuffer table, String signature, int revision) {
        byte[] bytes = table.array();
        table.put(SIGNATURE, ascii(signature, 4));
        table.putInt(LENGTH, bytes.length);
        table.put(REVISION, (byte) revision);
        table.put(OEM_ID_OFFSET, ascii(OEM_ID, 6));
        table.put(OEM_TABLE_ID_OFFSET, ascii(OEM_TABLE_ID, 8));
        table.putInt(OEM_REVISION_OFFSET, OEM_REVISION);
        table.put(CREATOR_ID_OFFSET, ascii(CREATOR_ID, 4));
        table.putInt(CREATOR_REVISION_OFFSET, CREATOR_REVISION);
        table.put(CHECKSUM, (byte) AcpiChecksum.of(bytes, 0, bytes.length));
        return bytes;
    }

    static byte[] ascii(String text, int length) {
        byte[] bytes = text.getBytes(StandardCharsets.US_ASCII);
        if (bytes.length != length) {
            throw new IllegalArgumentException("\"" + text + "\" must be " + length + " ASCII characters");
        }
        return bytes;
    }
}
