package io.jvfio.devices;

/**
 * Command-line option values that may be decimal or {@code 0x}-prefixed hexadecimal, read alike by every
 * jvfio command and {@link ServeMain}; an {@link IllegalArgumentException} says what is wrong with the value.
 */
public final class OptionNumbers {
    private OptionNumbers() {}

    /** A 64-bit value, decimal or hex. */
    public static long parseLong(String text) {
        try {
            if (isHex(text)) {
                return Long.parseUnsignedLong(text.substring(2), 16);
            }
            return Long.parseLong(text);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("'" + text + "' is not a number (decimal or 0x hex)");
        }
    }

    /** An int, decimal or hex, in Integer.MIN_VALUE..MAX_VALUE: a count or size, never wrapped to another sign. */
    public static int parseInt(String text) {
        long parsed = parseLong(text);
        // Hex is read as 64 unsigned bits: a negative long is one beyond Long.MAX_VALUE, not a negative int.
        if (parsed < Integer.MIN_VALUE || parsed > Integer.MAX_VALUE || (isHex(text) && parsed < 0)) {
            throw new IllegalArgumentException(
                    "'" + text + "' is outside the int range (" + Integer.MIN_VALUE + ".." + Integer.MAX_VALUE + ")");
        }
        return (int) parsed;
    }

    private static boolean isHex(String text) {
        return text.startsWith("0x") || text.startsWith("0X");
    }

    /** 32 unsigned bits, decimal or hex (0..0xffffffff), as an int's bits: a bit mask, whose bit 31 may be set. */
    public static int parseUnsignedInt(String text) {
        long parsed = parseLong(text);
        if (parsed < 0 || parsed > 0xFFFF_FFFFL) {
            throw new IllegalArgumentException("'" + text + "' is outside 32 unsigned bits (0..0xffffffff)");
        }
        return (int) parsed;
    }
}
