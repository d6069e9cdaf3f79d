package io.jvfio.machine.acpi;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.UUID;

/**
 * AML, the bytecode of ACPI definition blocks (ACPI 6.5 chapter 20), as immutable typed terms: each record
 * checks its arguments when it is built, so a term that exists encodes to valid AML. The types follow the
 * grammar: a body holds {@link TermObject}s; packages hold and methods return {@link Operand}s; names bind
 * {@link DataObject}s.
 */
public final class Aml {
    static final int ZERO_OP = 0x00;
    static final int ONE_OP = 0x01;
    static final int NAME_OP = 0x08;
    static final int BYTE_PREFIX = 0x0A;
    static final int WORD_PREFIX = 0x0B;
    static final int DWORD_PREFIX = 0x0C;
    static final int STRING_PREFIX = 0x0D;
    static final int QWORD_PREFIX = 0x0E;
    static final int SCOPE_OP = 0x10;
    static final int BUFFER_OP = 0x11;
    static final int PACKAGE_OP = 0x12;
    static final int METHOD_OP = 0x14;
    static final int EXT_OP_PREFIX = 0x5B;
    static final int DEVICE_OP = 0x82;
    static final int RETURN_OP = 0xA4;
    static final int ONES_OP = 0xFF;
    private static final int MAX_PACKAGE_ELEMENTS = 255;

    private Aml() {}

    /** Anything with an AML encoding. */
    public sealed interface Term permits TermObject, Operand {
        byte[] encode();
    }

    /** What a definition block, scope, device or method body holds (ACPI's TermObj). */
    public sealed interface TermObject extends Term permits Name, Scope, Device, Method, Return {}

    /** What a package holds or a method returns: data, or a reference to a named object. */
    public sealed interface Operand extends Term permits DataObject, NamePath {}

    /** A constant (ACPI's DataObject): what {@link Name} binds. */
    public sealed interface DataObject extends Operand
            permits IntegerConst, StringConst, EisaId, Buffer, Package, ResourceTemplate {}

    /**
     * An Integer, read as unsigned 64-bit ({@code -1} is all ones), in the shortest encoding: ZeroOp,
     * OneOp, OnesOp, or a Byte/Word/DWord/QWord prefix. OnesOp is all ones only in a definition block of
     * revision 2 or later (64-bit integers); jvfio's DSDT is revision 2.
     */
    public record IntegerConst(long value) implements DataObject {
        @Override
        public byte[] encode() {
            if (value == 0) {
                return new byte[] {ZERO_OP};
            }
            if (value == 1) {
                return new byte[] {ONE_OP};
            }
            if (value == -1) {
                return new byte[] {(byte) ONES_OP};
            }
            if (Long.compareUnsigned(value, 0xFF) <= 0) {
                return littleEndian(BYTE_PREFIX, value, 1);
            }
            if (Long.compareUnsigned(value, 0xFFFF) <= 0) {
                return littleEndian(WORD_PREFIX, value, 2);
            }
            if (Long.compareUnsigned(value, 0xFFFF_FFFFL) <= 0) {
                return littleEndian(DWORD_PREFIX, value, 4);
            }
            return littleEndian(QWORD_PREFIX, value, 8);
        }
    }

    /** A String: ASCII characters 0x01-0x7F, NUL-terminated in AML. */
    public record StringConst(String value) implements DataObject {
        public StringConst {
            for (int i = 0; i < value.length(); i++) {
                char c = value.charAt(i);
                if (c == 0 || c > 0x7F) {
                    throw new IllegalArgumentException(
                            "AML string \"" + value + "\" holds a character outside 0x01-0x7F at " + i);
                }
            }
        }

        @Override
        public byte[] encode() {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            out.write(STRING_PREFIX);
            out.writeBytes(value.getBytes(StandardCharsets.US_ASCII));
            out.write(0);
            return out.toByteArray();
        }
    }

    /**
     * ASL's {@code EisaId("PNP0501")}: three letters of five bits each (A = 1) and four hex digits, packed
     * big-endian into 32 bits and stored as an Integer, so PNP0501 is 0x0105D041.
     */
    public record EisaId(String id) implements DataObject {
        public EisaId {
            if (!id.matches("[A-Z]{3}[0-9A-F]{4}")) {
                throw new IllegalArgumentException(
                        "EISA ID \"" + id + "\" is not three letters A-Z and four hex digits 0-9A-F (like PNP0501)");
            }
        }

        /** The Integer the ID encodes to. */
        public int value() {
            int packed = (id.charAt(0) - '@') << 26
                    | (id.charAt(1) - '@') << 21
                    | (id.charAt(2) - '@') << 16
                    | Integer.parseInt(id.substring(3), 16);
            return Integer.reverseBytes(packed);
        }

        /** Always a DWord, as iasl writes it: ACPICA's disassembler shows only DWords as EisaId. */
        @Override
        public byte[] encode() {
            return littleEndian(DWORD_PREFIX, Integer.toUnsignedLong(value()), 4);
        }
    }

    /** A Buffer of bytes. */
    public record Buffer(byte[] bytes) implements DataObject {
        public Buffer {
            bytes = bytes.clone();
        }

        /** ASL's {@code ToUUID}: the first three fields little-endian, the last two in order (a GUID's layout). */
        public static Buffer uuid(UUID uuid) {
            long high = uuid.getMostSignificantBits();
            byte[] bytes = new byte[16];
            putLittleEndian(bytes, 0, high >>> 32, 4);
            putLittleEndian(bytes, 4, high >>> 16, 2);
            putLittleEndian(bytes, 6, high, 2);
            long low = uuid.getLeastSignificantBits();
            for (int i = 0; i < 8; i++) {
                bytes[8 + i] = (byte) (low >>> (56 - 8 * i));
            }
            return new Buffer(bytes);
        }

        @Override
        public byte[] bytes() {
            return bytes.clone();
        }

        @Override
        public byte[] encode() {
            ByteArrayOutputStream content = new ByteArrayOutputStream();
            content.writeBytes(new IntegerConst(bytes.length).encode());
            content.writeBytes(bytes);
            return opWithPkgLength(BUFFER_OP, content.toByteArray());
        }

        @Override
        public boolean equals(Object other) {
            return other instanceof Buffer buffer && Arrays.equals(bytes, buffer.bytes);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(bytes);
        }

        @Override
        public String toString() {
            return "Buffer[" + HexFormat.of().formatHex(bytes) + "]";
        }
    }

    /** A Package of at most 255 elements. */
    public record Package(List<Operand> elements) implements DataObject {
        public Package {
            elements = List.copyOf(elements);
            if (elements.size() > MAX_PACKAGE_ELEMENTS) {
                throw new IllegalArgumentException(
                        "an AML package holds at most " + MAX_PACKAGE_ELEMENTS + " elements, got " + elements.size());
            }
        }

        public Package(Operand... elements) {
            this(List.of(elements));
        }

        @Override
        public byte[] encode() {
            ByteArrayOutputStream content = new ByteArrayOutputStream();
            content.write(elements.size());
            elements.forEach(element -> content.writeBytes(element.encode()));
            return opWithPkgLength(PACKAGE_OP, content.toByteArray());
        }
    }

    /** {@code Name(name, value)}: binds a constant to a name in the current scope. */
    public record Name(NamePath name, DataObject value) implements TermObject {
        public Name(String name, DataObject value) {
            this(NamePath.of(name), value);
        }

        @Override
        public byte[] encode() {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            out.write(NAME_OP);
            out.writeBytes(name.encode());
            out.writeBytes(value.encode());
            return out.toByteArray();
        }
    }

    /** {@code Scope(name) { body }}: adds the body's objects to an existing scope such as {@code \_SB}. */
    public record Scope(NamePath name, List<TermObject> body) implements TermObject {
        public Scope {
            body = List.copyOf(body);
        }

        public Scope(String name, TermObject... body) {
            this(NamePath.of(name), List.of(body));
        }

        @Override
        public byte[] encode() {
            return opWithPkgLength(SCOPE_OP, concat(name, body));
        }
    }

    /** {@code Device(name) { body }}: a device object, described by the names in its body. */
    public record Device(NamePath name, List<TermObject> body) implements TermObject {
        public Device {
            body = List.copyOf(body);
        }

        public Device(String name, TermObject... body) {
            this(NamePath.of(name), List.of(body));
        }

        @Override
        public byte[] encode() {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            out.write(EXT_OP_PREFIX);
            out.writeBytes(opWithPkgLength(DEVICE_OP, concat(name, body)));
            return out.toByteArray();
        }
    }

    /**
     * {@code Method(name, argCount, Serialized|NotSerialized) { body }}: MethodFlags carry the argument
     * count (0-7) in bits 0-2 and the serialize flag in bit 3; the sync level (bits 4-7) stays 0.
     */
    public record Method(NamePath name, int argCount, boolean serialized, List<TermObject> body) implements TermObject {
        private static final int MAX_ARGS = 7;
        private static final int SERIALIZED = 1 << 3;

        public Method {
            if (argCount < 0 || argCount > MAX_ARGS) {
                throw new IllegalArgumentException(
                        "AML method " + name + " takes 0.." + MAX_ARGS + " arguments, got " + argCount);
            }
            body = List.copyOf(body);
        }

        public Method(String name, int argCount, boolean serialized, TermObject... body) {
            this(NamePath.of(name), argCount, serialized, List.of(body));
        }

        @Override
        public byte[] encode() {
            ByteArrayOutputStream content = new ByteArrayOutputStream();
            content.writeBytes(name.encode());
            content.write(argCount | (serialized ? SERIALIZED : 0));
            body.forEach(term -> content.writeBytes(term.encode()));
            return opWithPkgLength(METHOD_OP, content.toByteArray());
        }
    }

    /** {@code Return(value)}, inside a method. */
    public record Return(Operand value) implements TermObject {
        @Override
        public byte[] encode() {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            out.write(RETURN_OP);
            out.writeBytes(value.encode());
            return out.toByteArray();
        }
    }

    /** The bytes of all {@code terms}, in order: a definition block's body. */
    static byte[] encodeAll(List<? extends Term> terms) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        terms.forEach(term -> out.writeBytes(term.encode()));
        return out.toByteArray();
    }

    private static byte[] concat(NamePath name, List<TermObject> body) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(name.encode());
        out.writeBytes(encodeAll(body));
        return out.toByteArray();
    }

    private static byte[] opWithPkgLength(int opcode, byte[] content) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(opcode);
        out.writeBytes(PkgLength.prefixed(content));
        return out.toByteArray();
    }

    private static byte[] littleEndian(int prefix, long value, int width) {
        byte[] out = new byte[1 + width];
        out[0] = (byte) prefix;
        putLittleEndian(out, 1, value, width);
        return out;
    }

    static void putLittleEndian(byte[] into, int at, long value, int width) {
        for (int i = 0; i < width; i++) {
            into[at + i] = (byte) (value >>> (8 * i));
        }
    }
}
