package io.jvfio.vfiouser;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Objects;

/**
 * Bytes that never change: the data a payload carries (a region or DMA access's, DEVICE_SET_IRQS's
 * bools, a feature's, a capability's body). Payload records hold these rather than a {@code byte[]}
 * so that they compare, hash and print by value, and so that a message cannot change after it was
 * built or decoded. Nothing outside writes to the array: it is a copy, or one handed over with
 * {@link #adopt}.
 */
public final class Bytes {
    /** No bytes. */
    public static final Bytes EMPTY = new Bytes(new byte[0]);

    private final byte[] array;

    private Bytes(byte[] array) {
        this.array = array;
    }

    /** A copy of {@code array}. */
    public static Bytes copyOf(byte[] array) {
        return adopt(array.clone());
    }

    /** A copy of {@code array} from index {@code from} up to {@code to}, which must lie within it. */
    public static Bytes copyOfRange(byte[] array, int from, int to) {
        Objects.checkFromToIndex(from, to, array.length);
        return adopt(Arrays.copyOfRange(array, from, to));
    }

    /**
     * {@code array} itself, not a copy: the caller hands it over and neither it nor anyone it shared the
     * array with may write to it afterwards. For an array just filled (decoded from a message, read
     * from a device model or from memory), which a copy would only duplicate: a region access's round
     * trip must not pay for one.
     */
    public static Bytes adopt(byte[] array) {
        return array.length == 0 ? EMPTY : new Bytes(array);
    }

    /** The low {@code length} bytes (0 to 8) of {@code value}, least significant first. */
    public static Bytes littleEndian(long value, int length) {
        if (length < 0 || length > 8) {
            throw new IllegalArgumentException(length + " bytes do not fit a long");
        }
        byte[] array = new byte[length];
        for (int i = 0; i < length; i++) {
            array[i] = (byte) (value >>> (8 * i));
        }
        return adopt(array);
    }

    public int length() {
        return array.length;
    }

    /** The byte at {@code index}, without copying the rest. */
    public byte at(int index) {
        return array[index];
    }

    /** A read-only view of the bytes to read in place, without a copy (big-endian, as every new buffer). */
    public ByteBuffer asReadOnlyBuffer() {
        return ByteBuffer.wrap(array).asReadOnlyBuffer();
    }

    /** A copy of the bytes, which the caller may change. */
    public byte[] toArray() {
        return array.length == 0 ? array : array.clone();
    }

    /** The bytes (at most 8) as a little-endian value, without copying them. */
    public long littleEndianValue() {
        if (array.length > 8) {
            throw new IllegalStateException(array.length + " bytes do not fit a long");
        }
        long value = 0;
        for (int i = array.length - 1; i >= 0; i--) {
            value = (value << 8) | (array[i] & 0xFF);
        }
        return value;
    }

    /** Writes the bytes at the buffer's position. */
    public void copyTo(ByteBuffer out) {
        if (array.length <= 8) {
            // a register's few bytes: a bulk put's copy set-up costs more than the bytes
            for (byte b : array) {
                out.put(b);
            }
        } else {
            out.put(array);
        }
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof Bytes bytes && Arrays.equals(bytes.array, array);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(array);
    }

    /** The bytes in hex, two digits each, without separators. */
    @Override
    public String toString() {
        return HexFormat.of().formatHex(array);
    }
}
