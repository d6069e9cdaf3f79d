package io.jvfio.sys.vfio;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import io.jvfio.sys.Errno;
import io.jvfio.sys.ErrnoException;
import io.jvfio.sys.Fd;
import io.jvfio.sys.libc.Libc;
import io.jvfio.sys.vfio.VfioAbi.vfio_device_attach_iommufd_pt;
import io.jvfio.sys.vfio.VfioAbi.vfio_device_bind_iommufd;
import io.jvfio.sys.vfio.VfioAbi.vfio_device_info;
import io.jvfio.sys.vfio.VfioAbi.vfio_group_status;
import io.jvfio.sys.vfio.VfioAbi.vfio_iommu_type1_dma_map;
import io.jvfio.sys.vfio.VfioAbi.vfio_iommu_type1_dma_unmap;
import io.jvfio.sys.vfio.VfioAbi.vfio_irq_info;
import io.jvfio.sys.vfio.VfioAbi.vfio_irq_set;
import io.jvfio.sys.vfio.VfioAbi.vfio_region_info;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * One static function per VFIO ioctl, on the container, group or device fd it belongs to. Each builds its
 * struct in a confined arena, calls the kernel, and returns plain values or a record; a failure is an
 * {@link ErrnoException} naming the ioctl ({@code VFIO_DEVICE_GET_REGION_INFO failed: Invalid argument
 * (EINVAL)}). No device or VM logic lives here.
 */
public final class VfioIoctls {
    /** The largest region-info reply jvfio accepts (a capability chain is a few hundred bytes). */
    public static final int MAX_REGION_INFO_SIZE = 64 * 1024;

    private VfioIoctls() {}

    /** VFIO_DEVICE_GET_INFO's reply. */
    public record DeviceInfoReply(int flags, int numRegions, int numIrqs, int capOffset) {}

    /**
     * VFIO_DEVICE_GET_REGION_INFO's reply: the fixed fields, and {@code raw}, the whole
     * {@code vfio_region_info} with its capability chain ({@code argsz} bytes, little-endian) as the
     * kernel filled it.
     */
    public record RegionInfoReply(int index, int flags, int capOffset, long size, long offset, byte[] raw) {
        public RegionInfoReply {
            raw = raw.clone();
        }

        @Override
        public byte[] raw() {
            return raw.clone();
        }
    }

    /** VFIO_DEVICE_GET_IRQ_INFO's reply. */
    public record IrqInfoReply(int index, int flags, int count) {}

    /** VFIO_GET_API_VERSION on a container fd. */
    public static int getApiVersion(Fd container) throws ErrnoException {
        return Libc.ioctl(container, VfioAbi.VFIO_GET_API_VERSION, 0L, "VFIO_GET_API_VERSION");
    }

    /** VFIO_CHECK_EXTENSION on a container fd: non-zero when the extension (an IOMMU type) is supported. */
    public static int checkExtension(Fd container, int extension) throws ErrnoException {
        return Libc.ioctl(container, VfioAbi.VFIO_CHECK_EXTENSION, extension, "VFIO_CHECK_EXTENSION");
    }

    /** VFIO_SET_IOMMU on a container fd that has at least one group. */
    public static void setIommu(Fd container, int iommuType) throws ErrnoException {
        Libc.ioctl(container, VfioAbi.VFIO_SET_IOMMU, iommuType, "VFIO_SET_IOMMU");
    }

    /** VFIO_GROUP_GET_STATUS: the group's VFIO_GROUP_FLAGS_* word. */
    public static int groupGetStatus(Fd group) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = arena.allocate(vfio_group_status.SIZE, 8);
            s.set(JAVA_INT, vfio_group_status.argsz, vfio_group_status.SIZE);
            Libc.ioctl(group, VfioAbi.VFIO_GROUP_GET_STATUS, s, "VFIO_GROUP_GET_STATUS");
            return s.get(JAVA_INT, vfio_group_status.flags);
        }
    }

    /** VFIO_GROUP_SET_CONTAINER: adds the group to the container. */
    public static void groupSetContainer(Fd group, Fd container) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment fd = arena.allocate(JAVA_INT);
            fd.set(JAVA_INT, 0, container.get());
            Libc.ioctl(group, VfioAbi.VFIO_GROUP_SET_CONTAINER, fd, "VFIO_GROUP_SET_CONTAINER");
        }
    }

    /** VFIO_GROUP_UNSET_CONTAINER: removes the group from its container. */
    public static void groupUnsetContainer(Fd group) throws ErrnoException {
        Libc.ioctl(group, VfioAbi.VFIO_GROUP_UNSET_CONTAINER, 0L, "VFIO_GROUP_UNSET_CONTAINER");
    }

    /** VFIO_GROUP_GET_DEVICE_FD: opens the group's device of that name; the caller owns the fd. */
    public static Fd groupGetDeviceFd(Fd group, String deviceName) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            int fd = Libc.ioctl(
                    group,
                    VfioAbi.VFIO_GROUP_GET_DEVICE_FD,
                    arena.allocateFrom(deviceName),
                    "VFIO_GROUP_GET_DEVICE_FD");
            return Fd.adopt(fd, "vfio device " + deviceName);
        }
    }

    /** VFIO_DEVICE_GET_INFO. */
    public static DeviceInfoReply deviceGetInfo(Fd device) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = arena.allocate(vfio_device_info.SIZE, 8);
            s.set(JAVA_INT, vfio_device_info.argsz, vfio_device_info.SIZE);
            Libc.ioctl(device, VfioAbi.VFIO_DEVICE_GET_INFO, s, "VFIO_DEVICE_GET_INFO");
            return new DeviceInfoReply(
                    s.get(JAVA_INT, vfio_device_info.flags),
                    s.get(JAVA_INT, vfio_device_info.num_regions),
                    s.get(JAVA_INT, vfio_device_info.num_irqs),
                    s.get(JAVA_INT, vfio_device_info.cap_offset));
        }
    }

    /**
     * VFIO_DEVICE_GET_REGION_INFO, capability chain included: when the kernel answers with a larger
     * {@code argsz} than was offered, the call is repeated with that size (once; a kernel asking for
     * more than {@link #MAX_REGION_INFO_SIZE} is refused with EOVERFLOW).
     */
    public static RegionInfoReply deviceGetRegionInfo(Fd device, int index) throws ErrnoException {
        int argsz = vfio_region_info.SIZE;
        for (int attempt = 0; ; attempt++) {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment s = arena.allocate(argsz, 8);
                s.set(JAVA_INT, vfio_region_info.argsz, argsz);
                s.set(JAVA_INT, vfio_region_info.index, index);
                Libc.ioctl(device, VfioAbi.VFIO_DEVICE_GET_REGION_INFO, s, "VFIO_DEVICE_GET_REGION_INFO");
                int wanted = s.get(JAVA_INT, vfio_region_info.argsz);
                if (Integer.compareUnsigned(wanted, argsz) > 0) {
                    if (attempt > 0 || Integer.compareUnsigned(wanted, MAX_REGION_INFO_SIZE) > 0) {
                        throw new ErrnoException(
                                "VFIO_DEVICE_GET_REGION_INFO (argsz " + Integer.toUnsignedString(wanted)
                                        + " asked for)",
                                Errno.EOVERFLOW);
                    }
                    argsz = wanted;
                    continue;
                }
                int flags = s.get(JAVA_INT, vfio_region_info.flags);
                int capOffset = s.get(JAVA_INT, vfio_region_info.cap_offset);
                if ((flags & VfioAbi.VFIO_REGION_INFO_FLAG_CAPS) == 0) {
                    capOffset = 0;
                }
                return new RegionInfoReply(
                        index,
                        flags,
                        capOffset,
                        s.get(JAVA_LONG, vfio_region_info.size),
                        s.get(JAVA_LONG, vfio_region_info.offset),
                        s.asSlice(0, argsz).toArray(JAVA_BYTE));
            }
        }
    }

    /** VFIO_DEVICE_GET_IRQ_INFO. */
    public static IrqInfoReply deviceGetIrqInfo(Fd device, int index) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = arena.allocate(vfio_irq_info.SIZE, 8);
            s.set(JAVA_INT, vfio_irq_info.argsz, vfio_irq_info.SIZE);
            s.set(JAVA_INT, vfio_irq_info.index, index);
            Libc.ioctl(device, VfioAbi.VFIO_DEVICE_GET_IRQ_INFO, s, "VFIO_DEVICE_GET_IRQ_INFO");
            return new IrqInfoReply(
                    s.get(JAVA_INT, vfio_irq_info.index),
                    s.get(JAVA_INT, vfio_irq_info.flags),
                    s.get(JAVA_INT, vfio_irq_info.count));
        }
    }

    /** VFIO_DEVICE_SET_IRQS with VFIO_IRQ_SET_DATA_NONE: {@code actionFlag} applies to the whole range. */
    public static void deviceSetIrqs(Fd device, int actionFlag, int index, int start, int count) throws ErrnoException {
        setIrqs(device, VfioAbi.VFIO_IRQ_SET_DATA_NONE | actionFlag, index, start, count, 0, (s, at) -> {});
    }

    /** VFIO_DEVICE_SET_IRQS with VFIO_IRQ_SET_DATA_BOOL: one byte per IRQ. */
    public static void deviceSetIrqsBool(Fd device, int actionFlag, int index, int start, boolean[] values)
            throws ErrnoException {
        setIrqs(
                device,
                VfioAbi.VFIO_IRQ_SET_DATA_BOOL | actionFlag,
                index,
                start,
                values.length,
                values.length,
                (s, at) -> {
                    for (int i = 0; i < values.length; i++) {
                        s.set(JAVA_BYTE, at + i, (byte) (values[i] ? 1 : 0));
                    }
                });
    }

    /** VFIO_DEVICE_SET_IRQS with VFIO_IRQ_SET_DATA_EVENTFD: one s32 fd per IRQ, -1 to de-assign. */
    public static void deviceSetIrqsEventFd(Fd device, int actionFlag, int index, int start, int[] fds)
            throws ErrnoException {
        setIrqs(
                device,
                VfioAbi.VFIO_IRQ_SET_DATA_EVENTFD | actionFlag,
                index,
                start,
                fds.length,
                4L * fds.length,
                (s, at) -> {
                    for (int i = 0; i < fds.length; i++) {
                        s.set(JAVA_INT, at + 4L * i, fds[i]);
                    }
                });
    }

    private interface DataWriter {
        void write(MemorySegment struct, long at);
    }

    private static void setIrqs(Fd device, int flags, int index, int start, int count, long dataSize, DataWriter data)
            throws ErrnoException {
        long size = vfio_irq_set.SIZE + dataSize;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = arena.allocate(size, 8);
            s.set(JAVA_INT, vfio_irq_set.argsz, (int) size);
            s.set(JAVA_INT, vfio_irq_set.flags, flags);
            s.set(JAVA_INT, vfio_irq_set.index, index);
            s.set(JAVA_INT, vfio_irq_set.start, start);
            s.set(JAVA_INT, vfio_irq_set.count, count);
            data.write(s, vfio_irq_set.data);
            Libc.ioctl(device, VfioAbi.VFIO_DEVICE_SET_IRQS, s, "VFIO_DEVICE_SET_IRQS");
        }
    }

    /** VFIO_DEVICE_RESET. */
    public static void deviceReset(Fd device) throws ErrnoException {
        Libc.ioctl(device, VfioAbi.VFIO_DEVICE_RESET, 0L, "VFIO_DEVICE_RESET");
    }

    /** VFIO_IOMMU_MAP_DMA: {@code size} bytes at this process's {@code vaddr} appear to devices at {@code iova}. */
    public static void iommuMapDma(Fd container, int flags, long vaddr, long iova, long size) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = arena.allocate(vfio_iommu_type1_dma_map.SIZE, 8);
            s.set(JAVA_INT, vfio_iommu_type1_dma_map.argsz, vfio_iommu_type1_dma_map.SIZE);
            s.set(JAVA_INT, vfio_iommu_type1_dma_map.flags, flags);
            s.set(JAVA_LONG, vfio_iommu_type1_dma_map.vaddr, vaddr);
            s.set(JAVA_LONG, vfio_iommu_type1_dma_map.iova, iova);
            s.set(JAVA_LONG, vfio_iommu_type1_dma_map.size, size);
            Libc.ioctl(container, VfioAbi.VFIO_IOMMU_MAP_DMA, s, "VFIO_IOMMU_MAP_DMA");
        }
    }

    /** VFIO_IOMMU_UNMAP_DMA: returns the number of bytes the kernel unmapped. */
    public static long iommuUnmapDma(Fd container, long iova, long size) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = arena.allocate(vfio_iommu_type1_dma_unmap.SIZE, 8);
            s.set(JAVA_INT, vfio_iommu_type1_dma_unmap.argsz, vfio_iommu_type1_dma_unmap.SIZE);
            s.set(JAVA_LONG, vfio_iommu_type1_dma_unmap.iova, iova);
            s.set(JAVA_LONG, vfio_iommu_type1_dma_unmap.size, size);
            Libc.ioctl(container, VfioAbi.VFIO_IOMMU_UNMAP_DMA, s, "VFIO_IOMMU_UNMAP_DMA");
            return s.get(JAVA_LONG, vfio_iommu_type1_dma_unmap.size);
        }
    }

    /** VFIO_DEVICE_BIND_IOMMUFD on a device cdev fd: returns the device's id within the iommufd. */
    public static int deviceBindIommufd(Fd device, Fd iommufd) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = arena.allocate(vfio_device_bind_iommufd.SIZE, 8);
            s.set(JAVA_INT, vfio_device_bind_iommufd.argsz, vfio_device_bind_iommufd.SIZE);
            s.set(JAVA_INT, vfio_device_bind_iommufd.iommufd, iommufd.get());
            Libc.ioctl(device, VfioAbi.VFIO_DEVICE_BIND_IOMMUFD, s, "VFIO_DEVICE_BIND_IOMMUFD");
            return s.get(JAVA_INT, vfio_device_bind_iommufd.out_devid);
        }
    }

    /** VFIO_DEVICE_ATTACH_IOMMUFD_PT: attaches a bound device to an IOAS or HWPT; returns the attached id. */
    public static int deviceAttachIommufdPt(Fd device, int ptId) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = arena.allocate(vfio_device_attach_iommufd_pt.SIZE, 8);
            s.set(JAVA_INT, vfio_device_attach_iommufd_pt.argsz, vfio_device_attach_iommufd_pt.SIZE);
            s.set(JAVA_INT, vfio_device_attach_iommufd_pt.pt_id, ptId);
            Libc.ioctl(device, VfioAbi.VFIO_DEVICE_ATTACH_IOMMUFD_PT, s, "VFIO_DEVICE_ATTACH_IOMMUFD_PT");
            return s.get(JAVA_INT, vfio_device_attach_iommufd_pt.pt_id);
        }
    }
}
