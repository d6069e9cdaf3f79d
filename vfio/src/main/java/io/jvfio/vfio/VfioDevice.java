package io.jvfio.vfio;

import io.jvfio.sys.Mapping;
import java.io.IOException;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * A VFIO device, whichever backend serves it (kernel VFIO, vfio-user). Region accesses may come from
 * several vCPU threads at once; implementations are thread-safe. Closing releases the device and every
 * eventfd registration it holds; mappings it returned stay owned by the caller.
 */
public interface VfioDevice extends AutoCloseable {
    /** The name used in error messages: the sysfs name, or the socket path. */
    String name();

    /** VFIO_DEVICE_GET_INFO. */
    DeviceInfo info() throws IOException;

    /** VFIO_DEVICE_GET_REGION_INFO, with its capability chain parsed. */
    RegionInfo regionInfo(int region) throws IOException;

    /** VFIO_DEVICE_GET_IRQ_INFO. */
    IrqInfo irqInfo(int index) throws IOException;

    /** Reads 1, 2, 4 or 8 bytes at {@code offset} of a region, little-endian, zero-extended. */
    long read(int region, long offset, int size) throws IOException;

    /** Writes the low 1, 2, 4 or 8 bytes of {@code value} at {@code offset} of a region. */
    void write(int region, long offset, int size, long value) throws IOException;

    /** Reads {@code destination.length} bytes at {@code offset} of a region. */
    void read(int region, long offset, byte[] destination) throws IOException;

    /** Writes all of {@code source} at {@code offset} of a region. */
    void write(int region, long offset, byte[] source) throws IOException;

    /**
     * Maps {@code size} bytes at {@code offset} of a mappable region (or of one of its sparse areas)
     * into this process, shared with the device. The caller owns the mapping.
     */
    Mapping map(int region, long offset, long size) throws IOException;

    /** VFIO_DEVICE_SET_IRQS. The eventfds in the request stay owned by the caller. */
    void setIrqs(IrqSet request) throws IOException;

    /** VFIO_DEVICE_RESET; fails if the device does not offer reset. */
    void reset() throws IOException;

    /**
     * Lets the device access guest memory: {@code size} bytes at I/O virtual address {@code iova} are
     * {@code memory}'s bytes from {@code memoryOffset}. Kernel backends map by host address; vfio-user
     * sends the memory's fd.
     */
    void mapDma(DmaRegion region) throws IOException;

    /** Undoes a {@link #mapDma} of exactly that range. */
    void unmapDma(long iova, long size) throws IOException;

    /**
     * The device-tree identity a platform device declares (jvfio's vfio-user extension, or sysfs
     * {@code of_node} for kernel devices), if any.
     */
    default Optional<DeviceTreeIdentity> deviceTreeIdentity() throws IOException {
        return Optional.empty();
    }

    /**
     * The ioeventfds the device offers for a region (vfio-user's DEVICE_GET_REGION_IO_FDS), each a fresh
     * eventfd the caller owns; none by default, and none from kernel VFIO, which has no such query.
     */
    default List<RegionIoEventFd> regionIoEventFds(int region) throws IOException {
        return List.of();
    }

    /**
     * {@code listener} hears once that the backend lost the device, on whichever thread found out: the
     * one whose call failed, or one that watches the connection between calls (vfio-user). A device
     * whose guest writes bypass its calls (posted through ioeventfds) is otherwise never found gone. It
     * must not block or call back into the device. Kernel devices never say so: nothing by default.
     */
    default void onGone(Consumer<DeviceGoneException> listener) {}

    /** Releases the device; never throws. */
    @Override
    void close();
}
