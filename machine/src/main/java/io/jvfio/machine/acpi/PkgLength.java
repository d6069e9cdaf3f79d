package io.jvfio.machine.acpi;

import java.io.ByteArrayOutputStream;

/**
 * AML's PkgLength (ACPI 6.5 section 20.2.4): the length of a package-like term, counting the PkgLength
 * bytes themselves. Below 64 it is one byte; otherwise the lead byte's bits 7-6 say how many bytes follow
 * (1-3), its bits 3-0 carry the lowest nibble and each following byte the next eight bits, so the largest
 * length is 2^28 - 1.
 */
final class PkgLength {
    static final int MAX = (1 << 28) - 1;
    private static final int ONE_BYTE_LIMIT = 1 << 6;

    private PkgLength() {}

    /** The encoding of the length {@code length}, which already counts the encoding's own bytes. */
    static byte[] encode(int length) {
        if (length < 0 || length > MAX) {
            throw new IllegalArgumentException("AML PkgLength must be 0.." + MAX + ", got " + length);
        }
        if (length < ONE_BYTE_LIMIT) {
            return new byte[] {(byte) length};
        }
        int following = length < (1 << 12) ? 1 : length < (1 << 20) ? 2 : 3;
        byte[] encoded = new byte[1 + following];
        encoded[0] = (byte) (following << 6 | length & 0xF);
        for (int i = 1; i <= following; i++) {
            encoded[i] = (byte) (length >>> (4 + 8 * (i - 1)));
        }
        return encoded;
    }

    /**
     * {@code content} behind the PkgLength that covers it: the encoding's size depends on the total it
     * encodes, so the smallest size whose total still fits is chosen.
     */
    static byte[] prefixed(byte[] content) {
        for (int size = 1; size <= 4; size++) {
            long total = (long) content.length + size;
            if (total <= MAX && encode((int) total).length == size) {
                ByteArrayOutputStream out = new ByteArrayOutputStream((int) total);
                out.writeBytes(encode((int) total));
                out.writeBytes(content);
                return out.toByteArray();
            }
        }
        throw new IllegalArgumentException(
                "AML package of " + content.length + " bytes is longer than PkgLength's " + MAX);
    }
}
