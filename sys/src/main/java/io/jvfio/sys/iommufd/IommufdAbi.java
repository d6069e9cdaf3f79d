package io.jvfio.sys.iommufd;

import io.jvfio.sys.Ioctl;

/**
 * The linux/iommufd.h ABI as jvfio uses it ({@code /dev/iommu}): ioctl numbers, flags, and the sizes and
 * field offsets of the structs, with the header's names verbatim. {@code VfioAbiTest} compares every
 * value with gcc (against the installed header when there is one, else against the definitions Linux
 * 6.2 introduced, which later kernels keep).
 */
public final class IommufdAbi {
    /** {@code IOMMUFD_TYPE}: the ioctl type character {@code ';'}, shared with VFIO. */
    public static final int IOMMUFD_TYPE = ';';

    public static final int IOMMUFD_CMD_BASE = 0x80;
    public static final int IOMMUFD_CMD_DESTROY = IOMMUFD_CMD_BASE;
    public static final int IOMMUFD_CMD_IOAS_ALLOC = IOMMUFD_CMD_BASE + 1;
    public static final int IOMMUFD_CMD_IOAS_MAP = IOMMUFD_CMD_BASE + 5;
    public static final int IOMMUFD_CMD_IOAS_UNMAP = IOMMUFD_CMD_BASE + 6;

    public static final long IOMMU_DESTROY = Ioctl.io(IOMMUFD_TYPE, IOMMUFD_CMD_DESTROY);
    public static final long IOMMU_IOAS_ALLOC = Ioctl.io(IOMMUFD_TYPE, IOMMUFD_CMD_IOAS_ALLOC);
    public static final long IOMMU_IOAS_MAP = Ioctl.io(IOMMUFD_TYPE, IOMMUFD_CMD_IOAS_MAP);
    public static final long IOMMU_IOAS_UNMAP = Ioctl.io(IOMMUFD_TYPE, IOMMUFD_CMD_IOAS_UNMAP);

    public static final int IOMMU_IOAS_MAP_FIXED_IOVA = 1;
    public static final int IOMMU_IOAS_MAP_WRITEABLE = 1 << 1;
    public static final int IOMMU_IOAS_MAP_READABLE = 1 << 2;

    private IommufdAbi() {}

    /** struct iommu_destroy (IOMMU_DESTROY). */
    public static final class iommu_destroy {
        public static final int SIZE = 8;
        public static final int size = 0;
        public static final int id = 4;

        private iommu_destroy() {}
    }

    /** struct iommu_ioas_alloc (IOMMU_IOAS_ALLOC). */
    public static final class iommu_ioas_alloc {
        public static final int SIZE = 12;
        public static final int size = 0;
        public static final int flags = 4;
        public static final int out_ioas_id = 8;

        private iommu_ioas_alloc() {}
    }

    /** struct iommu_ioas_map (IOMMU_IOAS_MAP). */
    public static final class iommu_ioas_map {
        public static final int SIZE = 40;
        public static final int size = 0;
        public static final int flags = 4;
        public static final int ioas_id = 8;
        public static final int __reserved = 12;
        public static final int user_va = 16;
        public static final int length = 24;
        public static final int iova = 32;

        private iommu_ioas_map() {}
    }

    /** struct iommu_ioas_unmap (IOMMU_IOAS_UNMAP). */
    public static final class iommu_ioas_unmap {
        public static final int SIZE = 24;
        public static final int size = 0;
        public static final int ioas_id = 4;
        public static final int iova = 8;
        public static final int length = 16;

        private iommu_ioas_unmap() {}
    }
}
