package io.jvfio.machine.acpi;

/** ACPI's checksums: the byte that makes a range's bytes sum to zero modulo 256. */
final class AcpiChecksum {
    private AcpiChecksum() {}

    /** The byte to add to {@code bytes[from..to)} so that all of them sum to zero. */
    static int of(byte[] bytes, int from, int to) {
        int sum = 0;
        for (int i = from; i < to; i++) {
            sum += bytes[i];
        }
        return -sum & 0xFF;
    }
}
