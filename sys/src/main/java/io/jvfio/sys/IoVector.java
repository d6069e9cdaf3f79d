package io.jvfio.sys;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * Pieces of mappings as one array of {@code struct iovec}, for {@link Fd#preadFully} and {@link
 * Fd#pwriteFully}: a disk's request of a few hundred guest pages moves in one preadv or pwritev, straight
 * between the file and the mappings. One native array, reused from transfer to transfer, so a transfer
 * allocates nothing per piece. Filled and used by one thread at a time. The mappings must stay mapped
 * until the transfer that uses the vector returns: that is their owner's to ensure (a DMA window's lock).
 */
public final class IoVector implements AutoCloseable {
    private static final long IOVEC_SIZE = 16;

    private final Arena arena = Arena.ofShared();
    private final MemorySegment iovecs;
    private final Mapping[] mappings;
    private final long[] offsets;
    private final long[] lengths;
    private final int capacity;
    private int count;
    private long bytes;

    /** Room for {@code capacity} pieces. */
    public IoVector(int capacity) {
        if (capacity <= 0 || capacity > 1024) {
            throw new IllegalArgumentException("an iovec array holds 1 to 1024 (IOV_MAX) pieces, not " + capacity);
        }
        this.capacity = capacity;
        this.iovecs = arena.allocate(IOVEC_SIZE * capacity, 8);
        this.mappings = new Mapping[capacity];
        this.offsets = new long[capacity];
        this.lengths = new long[capacity];
    }

    public int capacity() {
        return capacity;
    }

    /** The pieces added since the last {@link #clear}. */
    public int count() {
        return count;
    }

    /** Their bytes in all. */
    public long bytes() {
        return bytes;
    }

    /** Empties the vector for the next transfer. */
    public void clear() {
        Arrays.fill(mappings, 0, count, null);
        count = 0;
        bytes = 0;
    }

    /**
     * Adds {@code length} bytes of {@code mapping} at {@code offset} as the next piece.
     *
     * @throws IllegalArgumentException when the range lies outside the mapping
     * @throws IllegalStateException when the vector is full or the mapping closed
     */
    public void add(Mapping mapping, long offset, long length) {
        if (offset < 0 || length < 0 || offset > mapping.size() - length) {
            throw new IllegalArgumentException("[0x" + Long.toHexString(offset) + ", +0x" + Long.toHexString(length)
                    + ") lies outside " + mapping.description() + " (0x" + Long.toHexString(mapping.size())
                    + " bytes)");
        }
        if (count == capacity) {
            throw new IllegalStateException("the vector is full: " + capacity + " pieces");
        }
        if (!mapping.isOpen()) {
            throw new IllegalStateException(mapping.description() + " is unmapped");
        }
        mappings[count] = mapping;
        offsets[count] = offset;
        lengths[count] = length;
        write(count, 0);
        count++;
        bytes += length;
    }

    /**
     * The iovecs from piece {@code first} on, with its first {@code skip} bytes left out: what a short
     * transfer left. Trims that piece's iovec in place; {@link #restore} puts it back.
     */
    MemorySegment from(int first, long skip) {
        write(first, skip);
        return iovecs.asSlice(first * IOVEC_SIZE, (count - first) * IOVEC_SIZE);
    }

    /** Puts piece {@code index}'s iovec back as added. */
    void restore(int index) {
        write(index, 0);
    }

    private void write(int index, long skip) {
        iovecs.set(JAVA_LONG, index * IOVEC_SIZE, mappings[index].address() + offsets[index] + skip);
        iovecs.set(JAVA_LONG, index * IOVEC_SIZE + 8, lengths[index] - skip);
    }

    long length(int index) {
        return lengths[index];
    }

    /** Zeros from byte {@code done} of the pieces on: what a read past a file's end leaves. */
    void zeroFrom(long done) {
        long skip = done;
        for (int i = 0; i < count; i++) {
            if (skip >= lengths[i]) {
                skip -= lengths[i];
                continue;
            }
            mappings[i].fill(offsets[i] + skip, lengths[i] - skip, (byte) 0);
            skip = 0;
        }
    }

    @Override
    public void close() {
        clear();
        arena.close();
    }
}
