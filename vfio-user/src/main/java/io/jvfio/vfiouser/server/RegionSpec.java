package io.jvfio.vfiouser.server;

import io.jvfio.vfio.RegionInfo;
import io.jvfio.vfio.SparseArea;
import java.util.List;
import java.util.Optional;

/**
 * One region a device model declares: its index and size, whether the client may read and write it,
 * and what backs it: callbacks ({@link #callbacks}), shared memory the client may mmap
 * ({@link #shared}), or shared memory of which only some windows are mmap'able while the rest is
 * trapped to callbacks ({@link #sparse}). Read-only areas ({@link #readMapped}) are served by the callbacks
 * for every access that comes as a message; the model keeps in the memory what a read would return.
 */
public record RegionSpec(
        int index,
        long size,
        boolean readable,
        boolean writable,
        Optional<RegionHandler> handler,
        boolean sharedMemory,
        List<SparseArea> sparseAreas) {
    public RegionSpec {
        sparseAreas = List.copyOf(sparseAreas);
        if (index < 0 || size <= 0) {
            throw new IllegalArgumentException(
                    "region " + index + ": negative index or size " + size + " not positive");
        }
        if (!sharedMemory && handler.isEmpty()) {
            throw new IllegalArgumentException("region " + index + " has neither callbacks nor shared memory");
        }
        if (!sparseAreas.isEmpty() && !sharedMemory) {
            throw new IllegalArgumentException("region " + index + ": sparse areas need shared memory");
        }
        for (SparseArea area : sparseAreas) {
            if (area.end() > size || area.end() < area.offset()) {
                throw new IllegalArgumentException(
                        "region " + index + ": sparse area " + area + " exceeds size " + size);
            }
            if (area.readOnly() && handler.isEmpty()) {
                throw new IllegalArgumentException(
                        "region " + index + ": read-only area " + area + " needs callbacks for its writes");
            }
        }
    }

    /** A readable and writable region served by callbacks. */
    public static RegionSpec callbacks(int index, long size, RegionHandler handler) {
        return new RegionSpec(index, size, true, true, Optional.of(handler), false, List.of());
    }

    /** A readable and writable region of shared memory that the client may mmap whole. */
    public static RegionSpec shared(int index, long size) {
        return new RegionSpec(index, size, true, true, Optional.empty(), true, List.of());
    }

    /**
     * Shared memory of which only {@code areas} may be mmap'ed; accesses elsewhere go to
     * {@code trapped}.
     */
    public static RegionSpec sparse(int index, long size, List<SparseArea> areas, RegionHandler trapped) {
        return new RegionSpec(index, size, true, true, Optional.of(trapped), true, areas);
    }

    /**
     * Registers served by {@code handler} whose values the model keeps, for every read they could take,
     * in shared memory the client may map for reads only (jvfio's read-only mmap capability, which other
     * clients ignore): a guest then reads them from memory while its writes still come to the handler.
     */
    public static RegionSpec readMapped(int index, long size, RegionHandler handler) {
        return new RegionSpec(
                index, size, true, true, Optional.of(handler), true, List.of(SparseArea.forReads(0, size)));
    }

    /** The same region, read-only for the client. */
    public RegionSpec readOnly() {
        return new RegionSpec(index, size, true, false, handler, sharedMemory, sparseAreas);
    }

    /** VFIO_REGION_INFO_FLAG_* as the client sees them. */
    public int flags() {
        return (readable ? RegionInfo.FLAG_READ : 0)
                | (writable ? RegionInfo.FLAG_WRITE : 0)
                | (sharedMemory ? RegionInfo.FLAG_MMAP : 0)
                | (sparseAreas.isEmpty() ? 0 : RegionInfo.FLAG_CAPS);
    }

    /** Whether an access at [offset, offset+count) is served by the shared memory rather than callbacks. */
    boolean inMemory(long offset, long count) {
        if (!sharedMemory) {
            return false;
        }
        if (handler.isEmpty() || sparseAreas.isEmpty()) {
            return true;
        }
        for (SparseArea area : sparseAreas) {
            if (!area.readOnly() && offset >= area.offset() && count <= area.end() - offset) {
                return true;
            }
        }
        return false;
    }
}
