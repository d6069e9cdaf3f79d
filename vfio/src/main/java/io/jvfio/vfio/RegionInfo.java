package io.jvfio.vfio;

import java.util.List;
import java.util.Optional;

/**
 * One region as VFIO_DEVICE_GET_REGION_INFO reports it. {@code offset} is where the region lives in the
 * device's address space (the device fd for kernel VFIO; the region fd for vfio-user). When
 * {@code sparseAreas} is present, only those windows may be mmap'ed (the read-only ones for reads
 * alone); otherwise a mappable region maps whole.
 */
public record RegionInfo(
        int index,
        int flags,
        long size,
        long offset,
        Optional<List<SparseArea>> sparseAreas,
        List<RegionCapability> otherCapabilities) {
    public static final int FLAG_READ = 1;
    public static final int FLAG_WRITE = 1 << 1;
    public static final int FLAG_MMAP = 1 << 2;
    public static final int FLAG_CAPS = 1 << 3;

    public RegionInfo {
        if (index < 0 || size < 0) {
            throw new IllegalArgumentException("region " + index + ": negative index or size " + size);
        }
        sparseAreas = sparseAreas.map(List::copyOf);
        otherCapabilities = List.copyOf(otherCapabilities);
        for (SparseArea area : sparseAreas.orElse(List.of())) {
            if (area.end() > size || area.end() < area.offset()) {
                throw new IllegalArgumentException("region " + index + ": sparse area [0x"
                        + Long.toHexString(area.offset()) + ", 0x" + Long.toHexString(area.end())
                        + ") exceeds the region's size 0x" + Long.toHexString(size));
            }
        }
    }

    /** A region with no capabilities. */
    public static RegionInfo of(int index, int flags, long size, long offset) {
        return new RegionInfo(index, flags, size, offset, Optional.empty(), List.of());
    }

    public boolean readable() {
        return (flags & FLAG_READ) != 0;
    }

    public boolean writable() {
        return (flags & FLAG_WRITE) != 0;
    }

    public boolean mappable() {
        return (flags & FLAG_MMAP) != 0 && size > 0;
    }

    /** The windows that may be mmap'ed: the sparse areas, or the whole region if mappable, or none. */
    public List<SparseArea> mappableAreas() {
        if (!mappable()) {
            return List.of();
        }
        return sparseAreas.orElse(List.of(new SparseArea(0, size)));
    }

    public String flagNames() {
        return Flags.names(flags, new String[] {"READ", "WRITE", "MMAP", "CAPS"});
    }
}
