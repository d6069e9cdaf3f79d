package io.jvfio.vfio.kernel;

import io.jvfio.sys.Errno;
import io.jvfio.sys.ErrnoException;
import io.jvfio.sys.Fd;
import io.jvfio.sys.iommufd.IommufdAbi;
import io.jvfio.sys.iommufd.IommufdIoctls;
import io.jvfio.sys.vfio.VfioAbi;
import io.jvfio.sys.vfio.VfioIoctls;
import io.jvfio.vfio.DmaRegion;
import io.jvfio.vfio.VfioException;
import java.util.HashMap;
import java.util.Map;

/**
 * An I/O address space that devices of one VM share: a type1 container or an iommufd IOAS. Mappings are
 * counted per exact range, so every device sharing the space may map the same guest RAM and the kernel
 * sees one map and one unmap. Users (groups, or iommufd devices) are counted too; the last release
 * closes it. Guarded by its own monitor.
 */
abstract sealed class DmaSpace permits DmaSpace.Type1Container, DmaSpace.IommufdIoas {
    private record Range(long iova, long size) {}

    /** The kernel refused an unmap: the range stays mapped, and recorded, for a retry or the space's close. */
    static final class UnmapRefusedException extends VfioException {
        UnmapRefusedException(String device, String message, ErrnoException cause) {
            super(device, message, cause);
        }
    }

    private record Entry(long vaddr, boolean readable, boolean writable, int count) {}

    private final Map<Range, Entry> mappings = new HashMap<>();
    private int users;

    abstract void doMap(long vaddr, long iova, long size, boolean readable, boolean writable) throws ErrnoException;

    abstract long doUnmap(long iova, long size) throws ErrnoException;

    /** The ioctl {@link #doUnmap} makes, for messages about what it did. */
    abstract String unmapCall();

    /** Whether an unmap that failed so may have left something of the range mapped. */
    abstract boolean mayStillBeMapped(ErrnoException failure);

    abstract void doClose();

    abstract String describe();

    synchronized void map(String device, DmaRegion region) throws VfioException {
        Range range = new Range(region.iova(), region.size());
        Entry entry = mappings.get(range);
        if (entry != null) {
            if (entry.vaddr != region.hostAddress()
                    || entry.readable != region.readable()
                    || entry.writable != region.writable()) {
                throw new VfioException(device, "DMA range " + show(range) + " is already mapped to other memory");
            }
            mappings.put(range, new Entry(entry.vaddr, entry.readable, entry.writable, entry.count + 1));
            return;
        }
        try {
            doMap(region.hostAddress(), region.iova(), region.size(), region.readable(), region.writable());
        } catch (ErrnoException e) {
            throw new VfioException(device, "failed to map DMA " + show(range) + " in the " + describe(), e);
        }
        mappings.put(range, new Entry(region.hostAddress(), region.readable(), region.writable(), 1));
    }

    /**
     * Drops one reference to the range and unmaps it from the kernel with the last. Throws {@link
     * UnmapRefusedException}, the reference kept, if the kernel refuses and may have kept the range;
     * any other failure comes when nothing of the range is left mapped, and the reference is gone.
     */
    synchronized void unmap(String device, long iova, long size) throws VfioException {
        Range range = new Range(iova, size);
        Entry entry = mappings.get(range);
        if (entry == null) {
            throw new VfioException(device, "no DMA mapping " + show(range) + " to unmap");
        }
        if (entry.count > 1) {
            mappings.put(range, new Entry(entry.vaddr, entry.readable, entry.writable, entry.count - 1));
            return;
        }
        long unmapped;
        try {
            unmapped = doUnmap(iova, size);
        } catch (ErrnoException e) {
            String message = "failed to unmap DMA " + show(range) + " from the " + describe();
            if (mayStillBeMapped(e)) {
                throw new UnmapRefusedException(device, message, e);
            }
            mappings.remove(range);
            throw new VfioException(device, message, e);
        }
        // A successful unmap leaves nothing mapped within the range, whatever size it reports.
        mappings.remove(range);
        if (unmapped != size) {
            throw new VfioException(
                    device,
                    unmapCall() + " of DMA " + show(range) + " in the " + describe() + " unmapped 0x"
                            + Long.toHexString(unmapped) + " bytes, not 0x" + Long.toHexString(size));
        }
    }

    synchronized int mappingCount() {
        return mappings.size();
    }

    synchronized void retain() {
        users++;
    }

    /** Drops one user; closes the space when none is left. Returns whether it closed. */
    synchronized boolean release() {
        if (--users > 0) {
            return false;
        }
        doClose();
        return true;
    }

    synchronized int users() {
        return users;
    }

    private static String show(Range range) {
        return "[0x" + Long.toHexString(range.iova) + ", +0x" + Long.toHexString(range.size) + ")";
    }

    /** {@code /dev/vfio/vfio} with a type1 IOMMU set. */
    static final class Type1Container extends DmaSpace {
        final Fd fd;
        final int iommuType;

        Type1Container(Fd fd, int iommuType) {
            this.fd = fd;
            this.iommuType = iommuType;
        }

        @Override
        void doMap(long vaddr, long iova, long size, boolean readable, boolean writable) throws ErrnoException {
            int flags =
                    (readable ? VfioAbi.VFIO_DMA_MAP_FLAG_READ : 0) | (writable ? VfioAbi.VFIO_DMA_MAP_FLAG_WRITE : 0);
            VfioIoctls.iommuMapDma(fd, flags, vaddr, iova, size);
        }

        @Override
        long doUnmap(long iova, long size) throws ErrnoException {
            return VfioIoctls.iommuUnmapDma(fd, iova, size);
        }

        @Override
        String unmapCall() {
            return "VFIO_IOMMU_UNMAP_DMA";
        }

        @Override
        boolean mayStillBeMapped(ErrnoException failure) {
            return true;
        }

        @Override
        void doClose() {
            fd.close();
        }

        @Override
        String describe() {
            return (iommuType == VfioAbi.VFIO_TYPE1v2_IOMMU ? "type1v2" : "type1") + " container";
        }
    }

    /** An I/O address space of a {@code /dev/iommu} fd. */
    static final class IommufdIoas extends DmaSpace {
        final Fd iommufd;
        final int ioasId;

        IommufdIoas(Fd iommufd, int ioasId) {
            this.iommufd = iommufd;
            this.ioasId = ioasId;
        }

        @Override
        void doMap(long vaddr, long iova, long size, boolean readable, boolean writable) throws ErrnoException {
            int flags = IommufdAbi.IOMMU_IOAS_MAP_FIXED_IOVA
                    | (readable ? IommufdAbi.IOMMU_IOAS_MAP_READABLE : 0)
                    | (writable ? IommufdAbi.IOMMU_IOAS_MAP_WRITEABLE : 0);
            IommufdIoctls.ioasMap(iommufd, ioasId, flags, vaddr, size, iova);
        }

        @Override
        long doUnmap(long iova, long size) throws ErrnoException {
            return IommufdIoctls.ioasUnmap(iommufd, ioasId, iova, size);
        }

        @Override
        String unmapCall() {
            return "IOMMU_IOAS_UNMAP";
        }

        /** iommufd answers ENOENT when nothing in the range was mapped. */
        @Override
        boolean mayStillBeMapped(ErrnoException failure) {
            return failure.errno() != Errno.ENOENT;
        }

        @Override
        void doClose() {
            try {
                IommufdIoctls.destroy(iommufd, ioasId);
            } catch (ErrnoException e) {
                // Closing the iommufd destroys the IOAS as well.
                System.getLogger(DmaSpace.class.getName()).log(System.Logger.Level.DEBUG, e.getMessage());
            }
            iommufd.close();
        }

        @Override
        String describe() {
            return "iommufd IOAS " + ioasId;
        }
    }
}
