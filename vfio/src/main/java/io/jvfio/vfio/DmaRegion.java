package io.jvfio.vfio;

import io.jvfio.sys.Fd;
import io.jvfio.sys.Mapping;

/**
 * Guest memory offered to a device for DMA: {@code size} bytes at I/O virtual address {@code iova},
 * which are the bytes of {@code mapping} (host side, for kernel IOMMUs) and of {@code memoryFd} at
 * {@code fdOffset} (for vfio-user peers that map it themselves). Neither is owned by the region.
 */
public record DmaRegion(
        long iova,
        long size,
        Mapping mapping,
        long mappingOffset,
        Fd memoryFd,
        long fdOffset,
        boolean readable,
        boolean writable) {
    public DmaRegion {
        if (size <= 0 || iova < 0 || mappingOffset < 0 || fdOffset < 0 || mappingOffset + size > mapping.size()) {
            throw new IllegalArgumentException(
                    "DMA region [0x" + Long.toHexString(iova) + ", +0x" + Long.toHexString(size)
                            + ") does not fit its memory of 0x" + Long.toHexString(mapping.size()) + " bytes");
        }
    }

    /** The host address of the region's first byte. */
    public long hostAddress() {
        return mapping.address() + mappingOffset;
    }
}
