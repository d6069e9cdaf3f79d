package io.jvfio.vfio;

/**
 * One mmap'able window of a region (VFIO_REGION_INFO_CAP_SPARSE_MMAP), relative to the region's start.
 * A {@code readOnly} window (jvfio's read-only mmap capability, docs/vfio-user-platform.md) holds what
 * reads of it return, so it may back guest reads; every write to it must still reach the device trapped.
 */
public record SparseArea(long offset, long size, boolean readOnly) {
    public SparseArea {
        if (offset < 0 || size < 0) {
            throw new IllegalArgumentException(
                    "sparse area offset and size must be non-negative: " + offset + ", " + size);
        }
    }

    /** A window the client may map for reads and writes. */
    public SparseArea(long offset, long size) {
        this(offset, size, false);
    }

    /** A window the client may map for reads only. */
    public static SparseArea forReads(long offset, long size) {
        return new SparseArea(offset, size, true);
    }

    public long end() {
        return offset + size;
    }
}
