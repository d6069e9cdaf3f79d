package io.jvfio.sys.iommufd;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import io.jvfio.sys.ErrnoException;
import io.jvfio.sys.Fd;
import io.jvfio.sys.iommufd.IommufdAbi.iommu_destroy;
import io.jvfio.sys.iommufd.IommufdAbi.iommu_ioas_alloc;
import io.jvfio.sys.iommufd.IommufdAbi.iommu_ioas_map;
import io.jvfio.sys.iommufd.IommufdAbi.iommu_ioas_unmap;
import io.jvfio.sys.libc.Libc;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * One static function per iommufd ioctl on a {@code /dev/iommu} fd, each building its struct in a
 * confined arena; failures are {@link ErrnoException}s naming the ioctl.
 */
public final class IommufdIoctls {
    private IommufdIoctls() {}

    /** IOMMU_IOAS_ALLOC: a new, empty I/O address space; returns its id. */
    public static int ioasAlloc(Fd iommufd) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = arena.allocate(iommu_ioas_alloc.SIZE, 8);
            s.set(JAVA_INT, iommu_ioas_alloc.size, iommu_ioas_alloc.SIZE);
            Libc.ioctl(iommufd, IommufdAbi.IOMMU_IOAS_ALLOC, s, "IOMMU_IOAS_ALLOC");
            return s.get(JAVA_INT, iommu_ioas_alloc.out_ioas_id);
        }
    }

    /**
     * IOMMU_IOAS_MAP: {@code length} bytes at this process's {@code userVa} appear at {@code iova} (with
     * IOMMU_IOAS_MAP_FIXED_IOVA in {@code flags}) or where the kernel chooses; returns the IOVA used.
     */
    public static long ioasMap(Fd iommufd, int ioasId, int flags, long userVa, long length, long iova)
            throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = arena.allocate(iommu_ioas_map.SIZE, 8);
            s.set(JAVA_INT, iommu_ioas_map.size, iommu_ioas_map.SIZE);
            s.set(JAVA_INT, iommu_ioas_map.flags, flags);
            s.set(JAVA_INT, iommu_ioas_map.ioas_id, ioasId);
            s.set(JAVA_LONG, iommu_ioas_map.user_va, userVa);
            s.set(JAVA_LONG, iommu_ioas_map.length, length);
            s.set(JAVA_LONG, iommu_ioas_map.iova, iova);
            Libc.ioctl(iommufd, IommufdAbi.IOMMU_IOAS_MAP, s, "IOMMU_IOAS_MAP");
            return s.get(JAVA_LONG, iommu_ioas_map.iova);
        }
    }

    /** IOMMU_IOAS_UNMAP: returns the number of bytes unmapped. */
    public static long ioasUnmap(Fd iommufd, int ioasId, long iova, long length) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = arena.allocate(iommu_ioas_unmap.SIZE, 8);
            s.set(JAVA_INT, iommu_ioas_unmap.size, iommu_ioas_unmap.SIZE);
            s.set(JAVA_INT, iommu_ioas_unmap.ioas_id, ioasId);
            s.set(JAVA_LONG, iommu_ioas_unmap.iova, iova);
            s.set(JAVA_LONG, iommu_ioas_unmap.length, length);
            Libc.ioctl(iommufd, IommufdAbi.IOMMU_IOAS_UNMAP, s, "IOMMU_IOAS_UNMAP");
            return s.get(JAVA_LONG, iommu_ioas_unmap.length);
        }
    }

    /** IOMMU_DESTROY: destroys any iommufd object by id. */
    public static void destroy(Fd iommufd, int id) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = arena.allocate(iommu_destroy.SIZE, 8);
            s.set(JAVA_INT, iommu_destroy.size, iommu_destroy.SIZE);
            s.set(JAVA_INT, iommu_destroy.id, id);
            Libc.ioctl(iommufd, IommufdAbi.IOMMU_DESTROY, s, "IOMMU_DESTROY");
        }
    }
}
