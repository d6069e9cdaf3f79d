package io.jvfio.sys;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED;

import io.jvfio.sys.libc.Libc;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The one owner of an mmap'ed range: guest RAM, a device region, KVM's run structure. Unmapped when
 * closed; accesses after that fail instead of touching freed memory. Accessors are little-endian and
 * allow unaligned offsets, as a guest's accesses may be.
 */
public final class Mapping implements AutoCloseable {
    /** An aligned int with memory-order access modes, for indexes shared with another producer or consumer. */
    private static final VarHandle ORDERED_INT = JAVA_INT.varHandle();

    private final Arena arena;
    private final MemorySegment segment;
    private final String description;
    private final AtomicBoolean closed = new AtomicBoolean();

    private Mapping(Arena arena, MemorySegment segment, String description) {
        this.arena = arena;
        this.segment = segment;
        this.description = description;
    }

    /** mmap(2) of {@code size} bytes of {@code fd} at {@code offset}, shared. */
    public static Mapping map(Fd fd, long offset, long size, boolean writable, String description)
            throws ErrnoException {
        int prot = Libc.PROT_READ | (writable ? Libc.PROT_WRITE : 0);
        long address;
        int number = fd.beginUse();
        try {
            address = Libc.mmap(0, size, prot, Libc.MAP_SHARED, number, offset, "mmap " + description);
        } finally {
            fd.endUse();
        }
        return create(address, size, description);
    }

    /** Private anonymous zeroed memory, page-aligned (for memory slots that no other process shares). */
    public static Mapping anonymous(long size, String description) throws ErrnoException {
        long address = Libc.mmap(
                0,
                size,
                Libc.PROT_READ | Libc.PROT_WRITE,
                Libc.MAP_PRIVATE | Libc.MAP_ANONYMOUS | Libc.MAP_NORESERVE,
                -1,
                0,
                "mmap " + description);
        return create(address, size, description);
    }

    private static Mapping create(long address, long size, String description) {
        Arena arena = Arena.ofShared();
        MemorySegment segment = MemorySegment.ofAddress(address).reinterpret(size, arena, unmapped -> {
            try {
                Libc.munmap(address, size);
            } catch (ErrnoException e) {
                throw new IllegalStateException("munmap of " + description + " failed", e);
            }
        });
        return new Mapping(arena, segment, description);
    }

    /** The mapping's address in this process: what KVM memory slots and DMA maps are given. */
    public long address() {
        return segment.address();
    }

    public long size() {
        return segment.byteSize();
    }

    public String description() {
        return description;
    }

    public boolean isOpen() {
        return segment.scope().isAlive();
    }

    /** Internal to sys: the segment for downcalls that take this memory. */
    MemorySegment segment() {
        return segment;
    }

    public byte getByte(long offset) {
        return segment.get(JAVA_BYTE, offset);
    }

    public short getShort(long offset) {
        return segment.get(JAVA_SHORT_UNALIGNED, offset);
    }

    public int getInt(long offset) {
        return segment.get(JAVA_INT_UNALIGNED, offset);
    }

    public long getLong(long offset) {
        return segment.get(JAVA_LONG_UNALIGNED, offset);
    }

    /**
     * Reads the aligned int at {@code offset} with acquire order: memory the writer filled before its
     * release store of that int is seen filled after this read (another process's, or KVM's, ring index).
     */
    public int getIntAcquire(long offset) {
        return (int) ORDERED_INT.getAcquire(segment, offset);
    }

    /** Writes the aligned int at {@code offset} with release order: reads made before it are done first. */
    public void putIntRelease(long offset, int value) {
        ORDERED_INT.setRelease(segment, offset, value);
    }

    public void putByte(long offset, byte value) {
        segment.set(JAVA_BYTE, offset, value);
    }

    public void putShort(long offset, short value) {
        segment.set(JAVA_SHORT_UNALIGNED, offset, value);
    }

    public void putInt(long offset, int value) {
        segment.set(JAVA_INT_UNALIGNED, offset, value);
    }

    public void putLong(long offset, long value) {
        segment.set(JAVA_LONG_UNALIGNED, offset, value);
    }

    /** Reads 1, 2, 4 or 8 bytes as an unsigned little-endian value (8 bytes: all 64 bits). */
    public long read(long offset, int size) {
        return switch (size) {
            case 1 -> Byte.toUnsignedLong(getByte(offset));
            case 2 -> Short.toUnsignedLong(getShort(offset));
            case 4 -> Integer.toUnsignedLong(getInt(offset));
            case 8 -> getLong(offset);
            default -> throw new IllegalArgumentException("access size " + size + " is not 1, 2, 4 or 8");
        };
    }

    /** Writes the low 1, 2, 4 or 8 bytes of {@code value}, little-endian. */
    public void write(long offset, int size, long value) {
        switch (size) {
            case 1 -> putByte(offset, (byte) value);
            case 2 -> putShort(offset, (short) value);
            case 4 -> putInt(offset, (int) value);
            case 8 -> putLong(offset, value);
            default -> throw new IllegalArgumentException("access size " + size + " is not 1, 2, 4 or 8");
        }
    }

    public void copyTo(long offset, byte[] destination, int destinationOffset, int length) {
        MemorySegment.copy(segment, JAVA_BYTE, offset, destination, destinationOffset, length);
    }

    public void copyFrom(byte[] source, int sourceOffset, long offset, int length) {
        MemorySegment.copy(source, sourceOffset, segment, JAVA_BYTE, offset, length);
    }

    /** Copies the buffer's remaining bytes to {@code offset}; the buffer's position does not move. */
    public void copyFrom(ByteBuffer source, long offset) {
        MemorySegment.copy(MemorySegment.ofBuffer(source), 0, segment, offset, source.remaining());
    }

    /** Copies between two mappings (e.g. a device's DMA from guest RAM into its own memory). */
    public static void copy(Mapping from, long fromOffset, Mapping to, long toOffset, long length) {
        MemorySegment.copy(from.segment, fromOffset, to.segment, toOffset, length);
    }

    public void fill(long offset, long length, byte value) {
        segment.asSlice(offset, length).fill(value);
    }

    /** A little-endian view of part of this mapping; valid only while the mapping is open. */
    public ByteBuffer asByteBuffer(long offset, int length) {
        return segment.asSlice(offset, length).asByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
    }

    /** Unmaps; later accesses throw {@link IllegalStateException}. Idempotent. */
    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            arena.close();
        }
    }

    @Override
    public String toString() {
        return "Mapping[" + description + ", " + size() + " bytes at 0x" + Long.toHexString(address()) + "]";
    }
}
