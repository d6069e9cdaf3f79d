package io.jvfio.vfio.kernel;

import io.jvfio.sys.ErrnoException;
import io.jvfio.sys.EventFd;
import io.jvfio.sys.Fd;
import io.jvfio.sys.Mapping;
import io.jvfio.sys.vfio.VfioIoctls;
import io.jvfio.vfio.DeviceInfo;
import io.jvfio.vfio.DeviceTreeIdentity;
import io.jvfio.vfio.DmaRegion;
import io.jvfio.vfio.IrqInfo;
import io.jvfio.vfio.IrqSet;
import io.jvfio.vfio.RegionInfo;
import io.jvfio.vfio.SparseArea;
import io.jvfio.vfio.VfioDevice;
import io.jvfio.vfio.VfioException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;

/**
 * A device opened through kernel VFIO: its fd (from the group, or its cdev bound to iommufd), region
 * accesses by pread/pwrite at the region's offset in that fd, mmap of mappable regions, IRQ signalling,
 * reset, and DMA through the I/O address space it shares with the VM's other devices. Region accesses
 * are safe from several threads. Closing drops the DMA maps this device made, closes the fd, and lets
 * {@link KernelVfio} release the group and container if no other device uses them.
 */
public final class KernelVfioDevice implements VfioDevice {
    private static final ThreadLocal<ByteBuffer> SCRATCH =
            ThreadLocal.withInitial(() -> ByteBuffer.allocateDirect(8).order(ByteOrder.LITTLE_ENDIAN));

    private record DmaRange(long iova, long size) {}

    private final KernelVfio owner;
    private final SysfsDevice sysfs;
    private final Fd fd;
    private final KernelVfio.Backend backend;
    private final DmaSpace dmaSpace;
    private final KernelVfio.Group group;
    private final Set<DmaRange> dmaMaps = new LinkedHashSet<>();
    private final AtomicBoolean closed = new AtomicBoolean();
    private volatile DeviceInfo info;
    /** Filled as regions are asked for: the kernel's region count sizes nothing, a bound only. */
    private final Map<Integer, RegionInfo> regions = new ConcurrentHashMap<>();

    KernelVfioDevice(
            KernelVfio owner,
            SysfsDevice sysfs,
            Fd fd,
            KernelVfio.Backend backend,
            DmaSpace dmaSpace,
            KernelVfio.Group group) {
        this.owner = owner;
        this.sysfs = sysfs;
        this.fd = fd;
        this.backend = backend;
        this.dmaSpace = dmaSpace;
        this.group = group;
    }

    @Override
    public String name() {
        return sysfs.name();
    }

    /** What sysfs said about the device. */
    public SysfsDevice sysfs() {
        return sysfs;
    }

    public KernelVfio.Backend backend() {
        return backend;
    }

    /** The I/O address space's kind, e.g. {@code type1v2 container} or {@code iommufd IOAS 2}. */
    public String dmaSpace() {
        return dmaSpace.describe();
    }

    /** The IOMMU group the device came through (-1 on the iommufd path, where no group fd is used). */
    public int iommuGroup() {
        return group == null ? -1 : group.id;
    }

    /** What every call after {@link #close} gets, as from a vfio-user device: not the closed fd's state. */
    private void checkOpen() throws VfioException {
        if (closed.get()) {
            throw new VfioException(name(), "device is closed");
        }
    }

    /** One or a few system calls on the device fd, for {@link #onFd}. */
    @FunctionalInterface
    private interface FdCall<T> {
        T on(Fd fd) throws ErrnoException, VfioException;
    }

    /**
     * Runs {@code call} on the device fd: a system call that fails becomes the {@link VfioException}
     * {@code failure} describes, with the call and its errno. A call that passed {@link #checkOpen} while
     * another thread closed the device finds the fd closed, and gets the same answer as a call after
     * close. The message is built only on failure, since region accesses come through here on the vCPU's
     * path.
     */
    private <T> T onFd(Supplier<String> failure, FdCall<T> call) throws VfioException {
        try {
            return call.on(fd);
        } catch (ErrnoException e) {
            throw new VfioException(name(), failure.get(), e);
        } catch (IllegalStateException e) {
            if (!closed.get()) {
                throw e;
            }
            throw new VfioException(name(), "device is closed");
        }
    }

    @Override
    public DeviceInfo info() throws VfioException {
        checkOpen();
        DeviceInfo cached = info;
        if (cached != null) {
            return cached;
        }
        VfioIoctls.DeviceInfoReply reply = onFd(() -> "failed to get device info", VfioIoctls::deviceGetInfo);
        try {
            cached = new DeviceInfo(reply.flags(), reply.numRegions(), reply.numIrqs());
        } catch (IllegalArgumentException e) {
            throw new VfioException(name(), "device info out of range: " + e.getMessage());
        }
        info = cached;
        return cached;
    }

    @Override
    public RegionInfo regionInfo(int region) throws VfioException {
        checkOpen();
        int count = info().regionCount();
        if (region < 0 || region >= count) {
            throw new VfioException(name(), "no region " + region + " (the device has " + count + ")");
        }
        RegionInfo cached = regions.get(region);
        if (cached != null) {
            return cached;
        }
        VfioIoctls.RegionInfoReply reply = onFd(
                () -> "failed to get region " + region + " info", fd -> VfioIoctls.deviceGetRegionInfo(fd, region));
        RegionInfo parsed = RegionInfoParser.parse(name(), reply.raw());
        if (parsed.index() != region) {
            throw new VfioException(
                    name(), "asked for region " + region + " info, the kernel answered region " + parsed.index());
        }
        RegionInfo first = regions.putIfAbsent(region, parsed);
        return first != null ? first : parsed;
    }

    @Override
    public IrqInfo irqInfo(int index) throws VfioException {
        checkOpen();
        if (index < 0 || index >= info().irqCount()) {
            throw new VfioException(name(), "no IRQ index " + index + " (the device has " + info().irqCount() + ")");
        }
        VfioIoctls.IrqInfoReply reply =
                onFd(() -> "failed to get IRQ " + index + " info", fd -> VfioIoctls.deviceGetIrqInfo(fd, index));
        try {
            return new IrqInfo(index, reply.flags(), reply.count());
        } catch (IllegalArgumentException e) {
            throw new VfioException(name(), "IRQ " + index + " info out of range: " + e.getMessage());
        }
    }

    private RegionInfo checkAccess(int region, long offset, long length, boolean write) throws VfioException {
        RegionInfo info = regionInfo(region);
        if (write ? !info.writable() : !info.readable()) {
            throw new VfioException(name(), "region " + region + " is not " + (write ? "writable" : "readable"));
        }
        if (offset < 0 || length < 0 || offset + length > info.size() || offset + length < 0) {
            throw new VfioException(
                    name(),
                    (write ? "write" : "read") + " of " + length + " bytes at 0x" + Long.toHexString(offset)
                            + " is outside region " + region + " of size 0x" + Long.toHexString(info.size()));
        }
        return info;
    }

    private static void checkSize(int size) {
        if (size != 1 && size != 2 && size != 4 && size != 8) {
            throw new IllegalArgumentException("access size " + size + " is not 1, 2, 4 or 8");
        }
    }

    @Override
    public long read(int region, long offset, int size) throws VfioException {
        checkSize(size);
        RegionInfo info = checkAccess(region, offset, size, false);
        ByteBuffer buffer = SCRATCH.get().clear().limit(size);
        int n = onFd(
                () -> "failed to read region " + region + " at 0x" + Long.toHexString(offset),
                fd -> fd.pread(buffer, info.offset() + offset));
        if (n != size) {
            throw new VfioException(
                    name(),
                    "short read of region " + region + " at 0x" + Long.toHexString(offset) + ": " + n + " of " + size
                            + " bytes");
        }
        return switch (size) {
            case 1 -> Byte.toUnsignedLong(buffer.get(0));
            case 2 -> Short.toUnsignedLong(buffer.getShort(0));
            case 4 -> Integer.toUnsignedLong(buffer.getInt(0));
            default -> buffer.getLong(0);
        };
    }

    @Override
    public void write(int region, long offset, int size, long value) throws VfioException {
        checkSize(size);
        RegionInfo info = checkAccess(region, offset, size, true);
        ByteBuffer buffer = SCRATCH.get().clear().putLong(0, value).limit(size);
        int n = onFd(
                () -> "failed to write region " + region + " at 0x" + Long.toHexString(offset),
                fd -> fd.pwrite(buffer, info.offset() + offset));
        if (n != size) {
            throw new VfioException(
                    name(),
                    "short write of region " + region + " at 0x" + Long.toHexString(offset) + ": " + n + " of " + size
                            + " bytes");
        }
    }

    @Override
    public void read(int region, long offset, byte[] destination) throws VfioException {
        RegionInfo info = checkAccess(region, offset, destination.length, false);
        ByteBuffer buffer = ByteBuffer.wrap(destination);
        while (buffer.hasRemaining()) {
            long at = offset + buffer.position();
            int n = onFd(
                    () -> "failed to read region " + region + " at 0x" + Long.toHexString(offset),
                    fd -> fd.pread(buffer, info.offset() + at));
            if (n <= 0) {
                throw new VfioException(name(), "short read of region " + region + " at 0x" + Long.toHexString(at));
            }
        }
    }

    @Override
    public void write(int region, long offset, byte[] source) throws VfioException {
        RegionInfo info = checkAccess(region, offset, source.length, true);
        ByteBuffer buffer = ByteBuffer.wrap(source);
        while (buffer.hasRemaining()) {
            long at = offset + buffer.position();
            int n = onFd(
                    () -> "failed to write region " + region + " at 0x" + Long.toHexString(offset),
                    fd -> fd.pwrite(buffer, info.offset() + at));
            if (n <= 0) {
                throw new VfioException(name(), "short write of region " + region + " at 0x" + Long.toHexString(at));
            }
        }
    }

    @Override
    public Mapping map(int region, long offset, long size) throws VfioException {
        RegionInfo info = regionInfo(region);
        if (!info.mappable()) {
            throw new VfioException(name(), "region " + region + " cannot be mmap'ed (flags " + info.flagNames() + ")");
        }
        boolean inside = false;
        for (SparseArea area : info.mappableAreas()) {
            inside |= offset >= area.offset() && size > 0 && offset + size <= area.end() && offset + size > offset;
        }
        if (!inside) {
            throw new VfioException(
                    name(),
                    "[0x" + Long.toHexString(offset) + ", +0x" + Long.toHexString(size)
                            + ") is not within a mappable area of region " + region + ": " + info.mappableAreas());
        }
        return onFd(
                () -> "failed to mmap region " + region + " at 0x" + Long.toHexString(offset),
                fd -> Mapping.map(
                        fd,
                        info.offset() + offset,
                        size,
                        info.writable(),
                        "vfio " + name() + " region " + region + " +0x" + Long.toHexString(offset)));
    }

    @Override
    public void setIrqs(IrqSet request) throws VfioException {
        checkOpen();
        int action = request.action().flag();
        onFd(
                () -> "failed to " + request.action().name().toLowerCase(Locale.ROOT) + " IRQ index " + request.index()
                        + " [" + request.start() + ", +" + request.count() + ")",
                fd -> {
                    switch (request.data()) {
                        case IrqSet.Data.None none ->
                            VfioIoctls.deviceSetIrqs(fd, action, request.index(), request.start(), request.count());
                        case IrqSet.Data.Bools bools ->
                            VfioIoctls.deviceSetIrqsBool(fd, action, request.index(), request.start(), bools.values());
                        case IrqSet.Data.EventFds eventFds -> {
                            int[] fds = new int[eventFds.fds().size()];
                            for (int i = 0; i < fds.length; i++) {
                                fds[i] = eventFds.fds()
                                        .get(i)
                                        .map(EventFd::fd)
                                        .map(Fd::get)
                                        .orElse(-1);
                            }
                            VfioIoctls.deviceSetIrqsEventFd(fd, action, request.index(), request.start(), fds);
                        }
                    }
                    return null;
                });
    }

    @Override
    public void reset() throws VfioException {
        if (!info().supportsReset()) {
            throw new VfioException(name(), "the device does not support reset (no VFIO_DEVICE_FLAGS_RESET)");
        }
        onFd(() -> "failed to reset the device", fd -> {
            VfioIoctls.deviceReset(fd);
            return null;
        });
    }

    @Override
    public void mapDma(DmaRegion region) throws VfioException {
        synchronized (dmaMaps) {
            // under the lock close() takes its snapshot under: a map either lands in it or is refused
            checkOpen();
            DmaRange range = new DmaRange(region.iova(), region.size());
            if (dmaMaps.contains(range)) {
                throw new VfioException(
                        name(),
                        "DMA range [0x" + Long.toHexString(region.iova()) + ", +0x" + Long.toHexString(region.size())
                                + ") is already mapped for this device");
            }
            dmaSpace.map(name(), region);
            dmaMaps.add(range);
        }
    }

    @Override
    public void unmapDma(long iova, long size) throws VfioException {
        synchronized (dmaMaps) {
            checkOpen();
            DmaRange range = new DmaRange(iova, size);
            if (!dmaMaps.contains(range)) {
                throw new VfioException(
                        name(),
                        "no DMA mapping [0x" + Long.toHexString(iova) + ", +0x" + Long.toHexString(size)
                                + ") to unmap");
            }
            try {
                dmaSpace.unmap(name(), iova, size);
            } catch (DmaSpace.UnmapRefusedException e) {
                // Still mapped in the kernel: kept, so that a retry or close() unmaps it.
                throw e;
            } catch (VfioException e) {
                dmaMaps.remove(range);
                throw e;
            }
            dmaMaps.remove(range);
        }
    }

    /** The I/O address space this device's DMA maps go to: for tests that change it behind the device. */
    DmaSpace space() {
        return dmaSpace;
    }

    /** From sysfs {@code of_node/compatible}. */
    @Override
    public Optional<DeviceTreeIdentity> deviceTreeIdentity() {
        return sysfs.deviceTreeIdentity();
    }

    /**
     * Unmaps this device's DMA, closes the device fd, then releases its group and container (or IOAS)
     * if no other device of the VM uses them. Never throws.
     */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        List<DmaRange> leftover;
        synchronized (dmaMaps) {
            leftover = new ArrayList<>(dmaMaps);
            dmaMaps.clear();
        }
        for (DmaRange range : leftover) {
            try {
                dmaSpace.unmap(name(), range.iova(), range.size());
            } catch (VfioException e) {
                System.getLogger(KernelVfioDevice.class.getName()).log(System.Logger.Level.WARNING, e.getMessage());
            }
        }
        fd.close();
        owner.released(this, group, dmaSpace);
    }

    @Override
    public String toString() {
        return "KernelVfioDevice[" + name() + ", " + backend + ", " + (closed.get() ? "closed" : "open") + "]";
    }
}
