package io.jvfio.vfio;

/** One mmap'able window of a region (VFIO_REGION_INFO_CAP_SPARSE_MMAP), relative to the region's start. */
public record SparseArea(long offset, long size) {
    public SparseArea {
        if (offset < 0 || size < 0) {
            throw new IllegalArgumentException(
                    "sparse area offset and size must be non-negative: " + offset + ", " + size);
        }
    }

    public long end() {
        return offset + size;
    }
}
