package io.jvfio.platform.devicetree;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;

/**
 * One device-tree property: a name and its raw big-endian value, as the DTB stores it. The factories
 * build the usual kinds (empty, u32, u64, cells, string, string list, bytes); the {@code as...} views
 * read them back. Equality is by name and value bytes.
 *
 * <p>Names use dtc's property characters {@code [a-zA-Z0-9,._+*#?-]}. The specification's 31-character
 * limit is not enforced for properties, because Linux bindings exceed it (for example
 * {@code snps,dis-u2-freeclk-exists-quirk}, 32) and jvfio copies host properties; dtc does not check it
 * either.
 */
public final class Property {
    private final String name;
    private final byte[] value;

    private Property(String name, byte[] value) {
        this.name = Names.checkPropertyName(name);
        this.value = value;
    }

    /** A property with no value, such as {@code interrupt-controller;} or {@code ranges;}. */
    public static Property empty(String name) {
        return new Property(name, new byte[0]);
    }

    /** One 32-bit cell; {@code value} is taken as unsigned. */
    public static Property u32(String name, int value) {
        return cells(name, value);
    }

    /** A 64-bit value as two cells, most significant first. */
    public static Property u64(String name, long value) {
        return new Property(name, ByteBuffer.allocate(8).putLong(value).array());
    }

    /** A list of 32-bit cells ({@code <a b c>} in DTS). */
    public static Property cells(String name, int... cells) {
        ByteBuffer buffer = ByteBuffer.allocate(Math.multiplyExact(cells.length, 4));
        for (int cell : cells) {
            buffer.putInt(cell);
        }
        return new Property(name, buffer.array());
    }

    /** A list of 32-bit cells ({@code <a b c>} in DTS). */
    public static Property cells(String name, List<Integer> cells) {
        return cells(name, cells.stream().mapToInt(Integer::intValue).toArray());
    }

    /** One NUL-terminated string; it must not itself contain NUL. */
    public static Property string(String name, String value) {
        return strings(name, List.of(value));
    }

    /** Strings, each NUL-terminated, one after another ({@code "a", "b"} in DTS); none may contain NUL. */
    public static Property strings(String name, String... values) {
        return strings(name, List.of(values));
    }

    /** Strings, each NUL-terminated, one after another ({@code "a", "b"} in DTS); none may contain NUL. */
    public static Property strings(String name, List<String> values) {
        if (values.isEmpty()) {
            throw new IllegalArgumentException("property \"" + name + "\": a string list needs at least one string");
        }
        var out = new ByteArrayOutputStream();
        for (String value : values) {
            if (value.indexOf('\0') >= 0) {
                throw new IllegalArgumentException(
                        "property \"" + name + "\": string contains NUL: " + value.replace("\0", "\\0"));
            }
            out.writeBytes(value.getBytes(StandardCharsets.UTF_8));
            out.write(0);
        }
        return new Property(name, out.toByteArray());
    }

    /** Raw bytes, copied ({@code [01 02]} in DTS). */
    public static Property bytes(String name, byte[] value) {
        return new Property(name, value.clone());
    }

    public String name() {
        return name;
    }

    /** A copy of the raw value. */
    public byte[] value() {
        return value.clone();
    }

    /** The value's length in bytes. */
    public int length() {
        return value.length;
    }

    public boolean isEmpty() {
        return value.length == 0;
    }

    /** The value as one cell. */
    public int asU32() {
        requireLength(4, "u32");
        return ByteBuffer.wrap(value).getInt();
    }

    /** The value as a 64-bit number (two cells). */
    public long asU64() {
        requireLength(8, "u64");
        return ByteBuffer.wrap(value).getLong();
    }

    /** The value as cells; its length must be a multiple of 4. */
    public int[] asCells() {
        if (value.length % 4 != 0) {
            throw new IllegalStateException(
                    "property \"" + name + "\": " + value.length + " bytes is not a whole number of cells");
        }
        int[] cells = new int[value.length / 4];
        ByteBuffer.wrap(value).asIntBuffer().get(cells);
        return cells;
    }

    /** The value as one string; it must be exactly one NUL-terminated string. */
    public String asString() {
        List<String> strings = asStrings();
        if (strings.size() != 1) {
            throw new IllegalStateException("property \"" + name + "\": holds " + strings.size() + " strings, not one");
        }
        return strings.getFirst();
    }

    /** The value as NUL-terminated strings; it must end with NUL. */
    public List<String> asStrings() {
        if (value.length == 0 || value[value.length - 1] != 0) {
            throw new IllegalStateException("property \"" + name + "\": not a NUL-terminated string list");
        }
        List<String> strings = new ArrayList<>();
        int start = 0;
        for (int i = 0; i < value.length; i++) {
            if (value[i] == 0) {
                strings.add(new String(value, start, i - start, StandardCharsets.UTF_8));
                start = i + 1;
            }
        }
        return List.copyOf(strings);
    }

    private void requireLength(int expected, String kind) {
        if (value.length != expected) {
            throw new IllegalStateException("property \"" + name + "\": " + value.length + " bytes is not a " + kind);
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Property other && name.equals(other.name) && Arrays.equals(value, other.value);
    }

    @Override
    public int hashCode() {
        return name.hashCode() * 31 + Arrays.hashCode(value);
    }

    /** The property roughly as dtc would print it in DTS, for diagnostics. */
    @Override
    public String toString() {
        if (value.length == 0) {
            return name + ";";
        }
        if (looksLikeStrings()) {
            StringBuilder text = new StringBuilder(name).append(" = ");
            List<String> strings = asStrings();
            for (int i = 0; i < strings.size(); i++) {
                text.append(i == 0 ? "" : ", ")
                        .append('"')
                        .append(strings.get(i))
                        .append('"');
            }
            return text.append(';').toString();
        }
        if (value.length % 4 == 0) {
            StringBuilder text = new StringBuilder(name).append(" = <");
            int[] cells = asCells();
            for (int i = 0; i < cells.length; i++) {
                text.append(i == 0 ? "" : " ").append("0x").append(Integer.toHexString(cells[i]));
            }
            return text.append(">;").toString();
        }
        return name + " = [" + HexFormat.ofDelimiter(" ").formatHex(value) + "];";
    }

    private boolean looksLikeStrings() {
        if (value[value.length - 1] != 0 || value[0] == 0) {
            return false;
        }
        for (int i = 0; i < value.length; i++) {
            int b = value[i] & 0xff;
            boolean printable = b >= 0x20 && b < 0x7f;
            if (b == 0 ? value[i - 1] == 0 : !printable) {
                return false;
            }
        }
        return true;
    }
}
