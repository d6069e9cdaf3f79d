package io.jvfio.vfiouser.server;

import io.jvfio.sys.Errno;
import io.jvfio.sys.ErrnoException;
import io.jvfio.sys.Fd;
import io.jvfio.sys.IoVector;
import io.jvfio.sys.Mapping;
import io.jvfio.vfiouser.FdSize;
import io.jvfio.vfiouser.Payload;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * The DMA windows one client mapped, as the server sees them: [iova, iova+size) with read/write
 * permission, mmap'ed from the client's fd when it sent one (the kernel backend's IOMMU address space
 * is vfio-kernel's {@code DmaSpace}). Unmapping waits for accesses in progress (a read-write lock), as the
 * specification asks before the DMA_UNMAP reply.
 */
final class ClientDmaWindows implements AutoCloseable {
    static final long PAGE = 4096;

    /** One mapped window; {@code memory} is null where the client gave no fd (message path). */
    record Window(long iova, long size, boolean readable, boolean writable, Mapping memory) {
        long end() {
            return iova + size;
        }

        /** Whether [address, +length) lies inside this window. */
        boolean holds(long address, int length) {
            return length >= 0 && address >= iova && address - iova <= size - length;
        }
    }

    /** Where a DMA access goes: a window and, for the mmap path, its memory. */
    record Target(Window window, long offset) {}

    private final TreeMap<Long, Window> windows = new TreeMap<>();
    private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
    private final long maxWindows;

    ClientDmaWindows(long maxWindows) {
        this.maxWindows = maxWindows;
    }

    /**
     * Validates and adds a window; mmaps {@code fd} if given (the caller still closes the fd).
     * {@code pageSize} is the smallest of the negotiated pgsizes, the granule of every map and unmap.
     */
    Window map(Payload.DmaMap request, Fd fd, String device, long pageSize) throws RequestError {
        long address = request.address();
        long size = request.size();
        if ((request.flags() & ~(Payload.DmaMap.FLAG_READ | Payload.DmaMap.FLAG_WRITE)) != 0) {
            throw new RequestError(
                    Errno.EINVAL,
                    "DMA_MAP flags 0x" + Integer.toHexString(request.flags())
                            + " has bits other than readable (1) and writeable (2)");
        }
        if (request.flags() == 0) {
            // the kernel's type1 IOMMU refuses such a map too; kept, every DMA into it would fail later
            // with a reason that names one of the two permissions as given
            throw new RequestError(Errno.EINVAL, "DMA_MAP flags 0x0 allow neither reading (1) nor writing (2)");
        }
        if (size == 0) {
            throw new RequestError(Errno.EINVAL, "DMA_MAP [0x" + Long.toHexString(address) + ", +0x0) is empty");
        }
        if (address < 0 || size < 0 || address + size < 0) {
            // Windows are kept by signed address; no client's IOMMU space (48 or 57 bits) reaches that far
            throw new RequestError(
                    Errno.EINVAL,
                    "DMA_MAP [0x" + Long.toHexString(address) + ", +0x" + Long.toHexString(size)
                            + ") ends past 0x7fffffffffffffff, above the DMA addresses this server takes");
        }
        checkAligned("DMA_MAP", "address", address, pageSize);
        checkAligned("DMA_MAP", "size", size, pageSize);
        if (fd != null) {
            // the offset is where the window starts in the client's file, mmap'ed page by page
            checkAligned("DMA_MAP", "offset", request.offset(), pageSize);
        }
        if (fd == null && request.offset() != 0) {
            throw new RequestError(
                    Errno.EINVAL,
                    "DMA_MAP without an fd must have offset 0, not 0x" + Long.toHexString(request.offset()));
        }
        if (fd != null) {
            long fileSize = FdSize.regularFileSize(fd);
            if (fileSize >= 0 && request.offset() > fileSize - size) {
                // mmap would succeed, and the first DMA past the end would take SIGBUS
                throw new RequestError(
                        Errno.EINVAL,
                        "DMA_MAP [0x" + Long.toHexString(address) + ", +0x"
                                + Long.toHexString(size) + ") at fd offset 0x" + Long.toHexString(request.offset())
                                + " lies past the end of the client's fd (0x" + Long.toHexString(fileSize) + " bytes)");
            }
        }
        boolean readable = (request.flags() & Payload.DmaMap.FLAG_READ) != 0;
        boolean writable = (request.flags() & Payload.DmaMap.FLAG_WRITE) != 0;
        lock.writeLock().lock();
        try {
            Map.Entry<Long, Window> below = windows.floorEntry(address + size - 1);
            if (below != null && below.getValue().end() > address) {
                Window other = below.getValue();
                throw new RequestError(
                        Errno.EEXIST,
                        "DMA_MAP [0x" + Long.toHexString(address) + ", +0x"
                                + Long.toHexString(size) + ") overlaps the mapping [0x" + Long.toHexString(other.iova())
                                + ", +0x"
                                + Long.toHexString(other.size()) + ")");
            }
            if (windows.size() >= maxWindows) {
                throw new RequestError(Errno.ENOSPC, "DMA_MAP: already " + windows.size() + " mappings (max_dma_maps)");
            }
            Mapping memory = null;
            if (fd != null) {
                try {
                    memory = Mapping.map(
                            fd,
                            request.offset(),
                            size,
                            writable,
                            "vfio-user " + device + " DMA 0x" + Long.toHexString(address));
                } catch (ErrnoException e) {
                    throw new RequestError(e.errno(), "DMA_MAP: cannot mmap the client's fd: " + e.getMessage());
                }
            }
            Window window = new Window(address, size, readable, writable, memory);
            windows.put(address, window);
            return window;
        } finally {
            lock.writeLock().unlock();
        }
    }

    /**
     * The kernel's type1 IOMMU refuses a map or unmap off its smallest page size with EINVAL, and so does
     * this: pgsizes is what the client agreed its maps would keep to, and a range off it is malformed, not
     * merely absent.
     */
    static void checkAligned(String what, String field, long value, long pageSize) throws RequestError {
        if ((value & (pageSize - 1)) != 0) {
            throw new RequestError(
                    Errno.EINVAL,
                    what + ": " + field + " 0x" + Long.toHexString(value) + " is not a multiple of the page size 0x"
                            + Long.toHexString(pageSize) + " (the smallest of the negotiated pgsizes)");
        }
    }

    /**
     * Removes exactly [address, address+size), waiting for accesses in progress; a range off the page
     * size is refused as malformed (EINVAL), a well-formed one that matches no window is ENOENT.
     */
    Window unmap(long address, long size, long pageSize) throws RequestError {
        checkAligned("DMA_UNMAP", "address", address, pageSize);
        checkAligned("DMA_UNMAP", "size", size, pageSize);
        lock.writeLock().lock();
        try {
            Window window = windows.get(address);
            if (window == null || window.size() != size) {
                // ENOENT, as libvfio-user: the range is well-formed, there is just no such mapping
                throw new RequestError(
                        Errno.ENOENT,
                        "DMA_UNMAP [0x" + Long.toHexString(address) + ", +0x" + Long.toHexString(size)
                                + ") matches no mapping exactly");
            }
            windows.remove(address);
            if (window.memory() != null) {
                window.memory().close();
            }
            return window;
        } finally {
            lock.writeLock().unlock();
        }
    }

    /** Removes every window, waiting for accesses in progress; returns what was mapped. */
    List<Window> unmapAll() {
        lock.writeLock().lock();
        try {
            List<Window> all = new ArrayList<>(windows.values());
            windows.clear();
            for (Window window : all) {
                if (window.memory() != null) {
                    window.memory().close();
                }
            }
            return all;
        } finally {
            lock.writeLock().unlock();
        }
    }

    /**
     * Copies between client memory and {@code data} if the range lies in one mmap'ed window; returns
     * the window when it has no memory (the caller then uses DMA messages).
     */
    Window access(long iova, byte[] data, int offset, int length, boolean write) throws DmaException {
        lock.readLock().lock();
        try {
            Window window = windowFor(iova, length, write);
            if (window.memory() == null) {
                return window;
            }
            long at = iova - window.iova();
            try {
                if (write) {
                    window.memory().copyFrom(data, offset, at, length);
                } else {
                    window.memory().copyTo(at, data, offset, length);
                }
            } catch (InternalError e) {
                throw memoryGone(iova, length, write, e);
            }
            return null;
        } finally {
            lock.readLock().unlock();
        }
    }

    /** Checks that [iova, +length) lies in one window that allows the access, moving nothing. */
    void check(long iova, int length, boolean write) throws DmaException {
        lock.readLock().lock();
        try {
            windowFor(iova, length, write);
        } finally {
            lock.readLock().unlock();
        }
    }

    /**
     * Gathers client memory over [iovas[i], +lengths[i]) into {@code vector} and runs {@code transfer}
     * while no DMA_UNMAP can take it away; returns false, running nothing, when a range lies in a window
     * without memory (the client gave no fd) or the ranges are more than the vector holds. Every range is
     * checked before anything runs.
     */
    boolean direct(long[] iovas, int[] lengths, boolean write, IoVector vector, DeviceContext.DirectTransfer transfer)
            throws IOException {
        if (iovas.length != lengths.length) {
            throw new IllegalArgumentException(iovas.length + " addresses but " + lengths.length + " lengths");
        }
        if (iovas.length > vector.capacity()) {
            return false;
        }
        lock.readLock().lock();
        try {
            vector.clear();
            Window window = null;
            for (int i = 0; i < iovas.length; i++) {
                // A request's buffers mostly lie in one window (guest RAM): look it up once.
                if (window == null || !window.holds(iovas[i], lengths[i])) {
                    window = windowFor(iovas[i], lengths[i], write);
                }
                if (window.memory() == null) {
                    vector.clear();
                    return false;
                }
                vector.add(window.memory(), iovas[i] - window.iova(), lengths[i]);
            }
            try {
                transfer.run(vector);
            } catch (InternalError e) {
                throw memoryGone(iovas[0], lengths[0], write, e);
            } finally {
                vector.clear();
            }
            return true;
        } finally {
            lock.readLock().unlock();
        }
    }

    /** The window that holds the whole range and allows the access; the caller holds the read lock. */
    private Window windowFor(long iova, int length, boolean write) throws DmaException {
        Map.Entry<Long, Window> entry = windows.floorEntry(iova);
        Window window = entry == null ? null : entry.getValue();
        if (window == null || !window.holds(iova, length)) {
            throw new DmaException(
                    DmaException.Reason.OUTSIDE_MAPPINGS,
                    "a DMA " + (write ? "write" : "read")
                            + " of " + length + " bytes at 0x" + Long.toHexString(iova)
                            + " does not lie inside one DMA mapping of the client");
        }
        if (write ? !window.writable() : !window.readable()) {
            throw new DmaException(
                    DmaException.Reason.NOT_PERMITTED,
                    "a DMA " + (write ? "write" : "read")
                            + " at 0x" + Long.toHexString(iova) + " is not allowed: the client mapped it "
                            + (write ? "read-only" : "write-only"));
        }
        return window;
    }

    /** SIGBUS on the mapping: the client shrank the file behind it after DMA_MAP. */
    private static DmaException memoryGone(long iova, int length, boolean write, InternalError e) {
        return new DmaException(
                DmaException.Reason.MEMORY_GONE,
                "a DMA " + (write ? "write" : "read") + " of "
                        + length + " bytes at 0x" + Long.toHexString(iova)
                        + " failed: the client's memory behind the mapping is gone (" + e.getMessage() + ")");
    }

    @Override
    public void close() {
        unmapAll();
    }
}
