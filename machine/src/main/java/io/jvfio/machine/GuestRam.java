package io.jvfio.machine;

import io.jvfio.sys.ErrnoException;
import io.jvfio.sys.Fd;
import io.jvfio.sys.Mapping;
import io.jvfio.sys.MemFd;

/**
 * Guest RAM: a memfd (so another process, a vfio-user server, can map the same pages) mapped shared
 * into this process. Guest-physical address = offset, starting at 0. Closing unmaps, then closes the fd.
 */
public final class GuestRam implements AutoCloseable {
    public static final long PAGE_SIZE = 4096;

    private final Fd fd;
    private final Mapping mapping;

    private GuestRam(Fd fd, Mapping mapping) {
        this.fd = fd;
        this.mapping = mapping;
    }

    /** {@code size} bytes of zeroed RAM (a positive multiple of the page size). */
    public static GuestRam create(long size) throws ErrnoException {
        if (size <= 0 || size % PAGE_SIZE != 0) {
            throw new IllegalArgumentException("guest RAM size must be a positive multiple of 4096, got " + size);
        }
        Fd fd = MemFd.create("jvfio-guest-ram", size);
        try {
            return new GuestRam(fd, Mapping.map(fd, 0, size, true, "guest RAM"));
        } catch (ErrnoException | RuntimeException e) {
            fd.close();
            throw e;
        }
    }

    /** The memfd, for sharing with another process (this object keeps ownership). */
    public Fd fd() {
        return fd;
    }

    public Mapping mapping() {
        return mapping;
    }

    public long size() {
        return mapping.size();
    }

    public void write(long address, byte[] bytes) {
        mapping.copyFrom(bytes, 0, address, bytes.length);
    }

    public byte[] read(long address, int length) {
        byte[] bytes = new byte[length];
        mapping.copyTo(address, bytes, 0, length);
        return bytes;
    }

    @Override
    public void close() {
        mapping.close();
        fd.close();
    }
}
