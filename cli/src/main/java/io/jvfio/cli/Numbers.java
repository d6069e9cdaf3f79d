package io.jvfio.cli;

import picocli.CommandLine;

/** Option values that may be decimal or {@code 0x}-prefixed hexadecimal. */
final class Numbers {
    private Numbers() {
    }

    static long parseLong(String text) {
        try {
            if (text.startsWith("0x") || text.startsWith("0X")) {
                return Long.parseUnsignedLong(text.substring(2), 16);
            }
            return Long.parseLong(text);
        } catch (NumberFormatException e) {
            throw new CommandLine.TypeConversionException("'" + text + "' is not a number (decimal or 0x hex)");
        }
    }

    /** An int, decimal or hex (hex may use all 32 bits). */
    static final class IntConverter implements CommandLine.ITypeConverter<Integer> {
        @Override
        public Integer convert(String value) {
            long parsed = parseLong(value);
            if (parsed < Integer.MIN_VALUE || parsed > 0xFFFF_FFFFL) {
                throw new CommandLine.TypeConversionException("'" + value + "' does not fit in 32 bits");
            }
            return (int) parsed;
        }
    }

    /** A 64-bit value, decimal or hex. */
    static final class LongConverter implements CommandLine.ITypeConverter<Long> {
        @Override
        public Long convert(String value) {
            return parseLong(value);
        }
    }
}
