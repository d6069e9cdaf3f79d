package io.jvfio.cli;

/** Option values that may be decimal or {@code 0x}-prefixed hexadecimal. */
final class Numbers {
    private Numbers() {}

    /** A 64-bit value, decimal or hex. */
    static long parseLong(String text) {
        try {
            if (text.startsWith("0x") || text.startsWith("0X")) {
                return Long.parseUnsignedLong(text.substring(2), 16);
            }
            return Long.parseLong(text);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("'" + text + "' is not a number (decimal or 0x hex)");
        }
    }

    /** An int, decimal or hex (hex may use all 32 bits). */
    static int parseInt(String text) {
        long parsed = parseLong(text);
        if (parsed < Integer.MIN_VALUE || parsed > 0xFFFF_FFFFL) {
            throw new IllegalArgumentException("'" + text + "' does not fit in 32 bits");
        }
        return (int) parsed;
    }
}
