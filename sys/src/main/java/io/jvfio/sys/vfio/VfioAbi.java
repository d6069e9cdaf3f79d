package io.jvfio.sys.vfio;

import io.jvfio.sys.Ioctl;

/**
 * The linux/vfio.h ABI as jvfio uses it: ioctl numbers, flag and index values, and the sizes and field
 * offsets of the structs the ioctls take. Names are the header's, verbatim, so they grep against
 * {@code linux/vfio.h}; a struct's fields live in a nested class named after the struct
 * ({@code vfio_region_info.cap_offset} is {@code offsetof(struct vfio_region_info, cap_offset)}).
 * {@code VfioAbiTest} compiles a C program against the installed headers and compares every value.
 *
 * <p>The iommufd cdev structs ({@code vfio_device_bind_iommufd}, {@code vfio_device_attach_iommufd_pt},
 * {@code vfio_device_detach_iommufd_pt}) are laid out as Linux 6.6 introduced them; later kernels
 * extend them at the end and accept the 6.6 {@code argsz}.
 */
public final class VfioAbi {
    /** {@code VFIO_TYPE}: the ioctl type character {@code ';'}. */
    public static final int VFIO_TYPE = ';';

    public static final int VFIO_BASE = 100;
    /** The only API version there is. */
    public static final int VFIO_API_VERSION = 0;

    // Container (/dev/vfio/vfio) ioctls.
    public static final long VFIO_GET_API_VERSION = Ioctl.io(VFIO_TYPE, VFIO_BASE);
    public static final long VFIO_CHECK_EXTENSION = Ioctl.io(VFIO_TYPE, VFIO_BASE + 1);
    public static final long VFIO_SET_IOMMU = Ioctl.io(VFIO_TYPE, VFIO_BASE + 2);
    // Group (/dev/vfio/N) ioctls.
    public static final long VFIO_GROUP_GET_STATUS = Ioctl.io(VFIO_TYPE, VFIO_BASE + 3);
    public static final long VFIO_GROUP_SET_CONTAINER = Ioctl.io(VFIO_TYPE, VFIO_BASE + 4);
    public static final long VFIO_GROUP_UNSET_CONTAINER = Ioctl.io(VFIO_TYPE, VFIO_BASE + 5);
    public static final long VFIO_GROUP_GET_DEVICE_FD = Ioctl.io(VFIO_TYPE, VFIO_BASE + 6);
    // Device ioctls.
    public static final long VFIO_DEVICE_GET_INFO = Ioctl.io(VFIO_TYPE, VFIO_BASE + 7);
    public static final long VFIO_DEVICE_GET_REGION_INFO = Ioctl.io(VFIO_TYPE, VFIO_BASE + 8);
    public static final long VFIO_DEVICE_GET_IRQ_INFO = Ioctl.io(VFIO_TYPE, VFIO_BASE + 9);
    public static final long VFIO_DEVICE_SET_IRQS = Ioctl.io(VFIO_TYPE, VFIO_BASE + 10);
    public static final long VFIO_DEVICE_RESET = Ioctl.io(VFIO_TYPE, VFIO_BASE + 11);
    // Type1 IOMMU ioctls (on the container).
    public static final long VFIO_IOMMU_GET_INFO = Ioctl.io(VFIO_TYPE, VFIO_BASE + 12);
    public static final long VFIO_IOMMU_MAP_DMA = Ioctl.io(VFIO_TYPE, VFIO_BASE + 13);
    public static final long VFIO_IOMMU_UNMAP_DMA = Ioctl.io(VFIO_TYPE, VFIO_BASE + 14);
    // Device cdev + iommufd ioctls (Linux 6.6+).
    public static final long VFIO_DEVICE_BIND_IOMMUFD = Ioctl.io(VFIO_TYPE, VFIO_BASE + 18);
    public static final long VFIO_DEVICE_ATTACH_IOMMUFD_PT = Ioctl.io(VFIO_TYPE, VFIO_BASE + 19);
    public static final long VFIO_DEVICE_DETACH_IOMMUFD_PT = Ioctl.io(VFIO_TYPE, VFIO_BASE + 20);

    // VFIO_CHECK_EXTENSION / VFIO_SET_IOMMU arguments.
    public static final int VFIO_TYPE1_IOMMU = 1;
    public static final int VFIO_SPAPR_TCE_IOMMU = 2;
    public static final int VFIO_TYPE1v2_IOMMU = 3;
    public static final int VFIO_DMA_CC_IOMMU = 4;
    public static final int VFIO_EEH = 5;
    public static final int VFIO_TYPE1_NESTING_IOMMU = 6;
    public static final int VFIO_SPAPR_TCE_v2_IOMMU = 7;
    public static final int VFIO_NOIOMMU_IOMMU = 8;
    public static final int VFIO_UNMAP_ALL = 9;
    public static final int VFIO_UPDATE_VADDR = 10;

    public static final int VFIO_GROUP_FLAGS_VIABLE = 1;
    public static final int VFIO_GROUP_FLAGS_CONTAINER_SET = 1 << 1;

    public static final int VFIO_DEVICE_FLAGS_RESET = 1;
    public static final int VFIO_DEVICE_FLAGS_PCI = 1 << 1;
    public static final int VFIO_DEVICE_FLAGS_PLATFORM = 1 << 2;
    public static final int VFIO_DEVICE_FLAGS_AMBA = 1 << 3;
    public static final int VFIO_DEVICE_FLAGS_CCW = 1 << 4;
    public static final int VFIO_DEVICE_FLAGS_AP = 1 << 5;
    public static final int VFIO_DEVICE_FLAGS_FSL_MC = 1 << 6;
    public static final int VFIO_DEVICE_FLAGS_CAPS = 1 << 7;

    public static final int VFIO_REGION_INFO_FLAG_READ = 1;
    public static final int VFIO_REGION_INFO_FLAG_WRITE = 1 << 1;
    public static final int VFIO_REGION_INFO_FLAG_MMAP = 1 << 2;
    public static final int VFIO_REGION_INFO_FLAG_CAPS = 1 << 3;

    public static final int VFIO_REGION_INFO_CAP_SPARSE_MMAP = 1;
    public static final int VFIO_REGION_INFO_CAP_TYPE = 2;
    public static final int VFIO_REGION_INFO_CAP_MSIX_MAPPABLE = 3;

    public static final int VFIO_IRQ_INFO_EVENTFD = 1;
    public static final int VFIO_IRQ_INFO_MASKABLE = 1 << 1;
    public static final int VFIO_IRQ_INFO_AUTOMASKED = 1 << 2;
    public static final int VFIO_IRQ_INFO_NORESIZE = 1 << 3;

    public static final int VFIO_IRQ_SET_DATA_NONE = 1;
    public static final int VFIO_IRQ_SET_DATA_BOOL = 1 << 1;
    public static final int VFIO_IRQ_SET_DATA_EVENTFD = 1 << 2;
    public static final int VFIO_IRQ_SET_ACTION_MASK = 1 << 3;
    public static final int VFIO_IRQ_SET_ACTION_UNMASK = 1 << 4;
    public static final int VFIO_IRQ_SET_ACTION_TRIGGER = 1 << 5;

    public static final int VFIO_DMA_MAP_FLAG_READ = 1;
    public static final int VFIO_DMA_MAP_FLAG_WRITE = 1 << 1;

    public static final int VFIO_IOMMU_INFO_PGSIZES = 1;

    // vfio-pci's fixed region and IRQ indexes.
    public static final int VFIO_PCI_BAR0_REGION_INDEX = 0;
    public static final int VFIO_PCI_BAR5_REGION_INDEX = 5;
    public static final int VFIO_PCI_ROM_REGION_INDEX = 6;
    public static final int VFIO_PCI_CONFIG_REGION_INDEX = 7;
    public static final int VFIO_PCI_VGA_REGION_INDEX = 8;
    public static final int VFIO_PCI_INTX_IRQ_INDEX = 0;
    public static final int VFIO_PCI_MSI_IRQ_INDEX = 1;
    public static final int VFIO_PCI_MSIX_IRQ_INDEX = 2;
    public static final int VFIO_PCI_ERR_IRQ_INDEX = 3;
    public static final int VFIO_PCI_REQ_IRQ_INDEX = 4;

    private VfioAbi() {}

    /** struct vfio_info_cap_header: heads every capability in a chain. */
    public static final class vfio_info_cap_header {
        public static final int SIZE = 8;
        public static final int id = 0;
        public static final int version = 2;
        public static final int next = 4;

        private vfio_info_cap_header() {}
    }

    /** struct vfio_group_status (VFIO_GROUP_GET_STATUS). */
    public static final class vfio_group_status {
        public static final int SIZE = 8;
        public static final int argsz = 0;
        public static final int flags = 4;

        private vfio_group_status() {}
    }

    /**
     * struct vfio_device_info (VFIO_DEVICE_GET_INFO), up to and including {@code cap_offset}; newer
     * headers append a {@code pad} word that jvfio does not send.
     */
    public static final class vfio_device_info {
        public static final int SIZE = 20;
        public static final int argsz = 0;
        public static final int flags = 4;
        public static final int num_regions = 8;
        public static final int num_irqs = 12;
        public static final int cap_offset = 16;

        private vfio_device_info() {}
    }

    /** struct vfio_region_info (VFIO_DEVICE_GET_REGION_INFO); a capability chain may follow. */
    public static final class vfio_region_info {
        public static final int SIZE = 32;
        public static final int argsz = 0;
        public static final int flags = 4;
        public static final int index = 8;
        public static final int cap_offset = 12;
        public static final int size = 16;
        public static final int offset = 24;

        private vfio_region_info() {}
    }

    /** struct vfio_region_sparse_mmap_area. */
    public static final class vfio_region_sparse_mmap_area {
        public static final int SIZE = 16;
        public static final int offset = 0;
        public static final int size = 8;

        private vfio_region_sparse_mmap_area() {}
    }

    /** struct vfio_region_info_cap_sparse_mmap: header, area count, then the areas. */
    public static final class vfio_region_info_cap_sparse_mmap {
        public static final int SIZE = 16;
        public static final int header = 0;
        public static final int nr_areas = 8;
        public static final int reserved = 12;
        public static final int areas = 16;

        private vfio_region_info_cap_sparse_mmap() {}
    }

    /** struct vfio_region_info_cap_type. */
    public static final class vfio_region_info_cap_type {
        public static final int SIZE = 16;
        public static final int header = 0;
        public static final int type = 8;
        public static final int subtype = 12;

        private vfio_region_info_cap_type() {}
    }

    /** struct vfio_irq_info (VFIO_DEVICE_GET_IRQ_INFO). */
    public static final class vfio_irq_info {
        public static final int SIZE = 16;
        public static final int argsz = 0;
        public static final int flags = 4;
        public static final int index = 8;
        public static final int count = 12;

        private vfio_irq_info() {}
    }

    /** struct vfio_irq_set (VFIO_DEVICE_SET_IRQS): header, then one bool byte or one s32 fd per IRQ. */
    public static final class vfio_irq_set {
        public static final int SIZE = 20;
        public static final int argsz = 0;
        public static final int flags = 4;
        public static final int index = 8;
        public static final int start = 12;
        public static final int count = 16;
        public static final int data = 20;

        private vfio_irq_set() {}
    }

    /** struct vfio_iommu_type1_info (VFIO_IOMMU_GET_INFO), up to and including {@code cap_offset}. */
    public static final class vfio_iommu_type1_info {
        public static final int SIZE = 24;
        public static final int argsz = 0;
        public static final int flags = 4;
        public static final int iova_pgsizes = 8;
        public static final int cap_offset = 16;

        private vfio_iommu_type1_info() {}
    }

    /** struct vfio_iommu_type1_dma_map (VFIO_IOMMU_MAP_DMA). */
    public static final class vfio_iommu_type1_dma_map {
        public static final int SIZE = 32;
        public static final int argsz = 0;
        public static final int flags = 4;
        public static final int vaddr = 8;
        public static final int iova = 16;
        public static final int size = 24;

        private vfio_iommu_type1_dma_map() {}
    }

    /** struct vfio_iommu_type1_dma_unmap (VFIO_IOMMU_UNMAP_DMA), without the dirty-bitmap data. */
    public static final class vfio_iommu_type1_dma_unmap {
        public static final int SIZE = 24;
        public static final int argsz = 0;
        public static final int flags = 4;
        public static final int iova = 8;
        public static final int size = 16;

        private vfio_iommu_type1_dma_unmap() {}
    }

    /** struct vfio_device_bind_iommufd (VFIO_DEVICE_BIND_IOMMUFD), 6.6 layout. */
    public static final class vfio_device_bind_iommufd {
        public static final int SIZE = 16;
        public static final int argsz = 0;
        public static final int flags = 4;
        public static final int iommufd = 8;
        public static final int out_devid = 12;

        private vfio_device_bind_iommufd() {}
    }

    /** struct vfio_device_attach_iommufd_pt (VFIO_DEVICE_ATTACH_IOMMUFD_PT), 6.6 layout. */
    public static final class vfio_device_attach_iommufd_pt {
        public static final int SIZE = 12;
        public static final int argsz = 0;
        public static final int flags = 4;
        public static final int pt_id = 8;

        private vfio_device_attach_iommufd_pt() {}
    }

    /** struct vfio_device_detach_iommufd_pt (VFIO_DEVICE_DETACH_IOMMUFD_PT), 6.6 layout. */
    public static final class vfio_device_detach_iommufd_pt {
        public static final int SIZE = 8;
        public static final int argsz = 0;
        public static final int flags = 4;

        private vfio_device_detach_iommufd_pt() {}
    }
}
