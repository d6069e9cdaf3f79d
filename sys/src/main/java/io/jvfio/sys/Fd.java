package io.jvfio.sys;

import io.jvfio.sys.libc.Libc;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The one owner of a file descriptor: closes it exactly once, and refuses use after close so a
 * recycled fd number is never touched by mistake.
 */
public final class Fd implements AutoCloseable {
    private static final int CLOSED = -1;

    private final AtomicInteger fd;
    private final String description;

    private Fd(int fd, String description) {
        this.fd = new AtomicInteger(fd);
        this.description = description;
    }

    /** Takes ownership of a descriptor the caller obtained; {@code description} names it in errors. */
    public static Fd adopt(int fd, String description) {
        if (fd < 0) {
            throw new IllegalArgumentException("not a file descriptor: " + fd + " (" + description + ")");
        }
        return new Fd(fd, description);
    }

    /** open(2) with O_RDWR | O_CLOEXEC: a device node such as /dev/kvm or a VFIO group. */
    public static Fd openReadWrite(String path) throws ErrnoException {
        return new Fd(Libc.open(path, Libc.O_RDWR | Libc.O_CLOEXEC, 0), path);
    }

    /** open(2) with O_RDONLY | O_CLOEXEC. */
    public static Fd openReadOnly(String path) throws ErrnoException {
        return new Fd(Libc.open(path, Libc.O_RDONLY | Libc.O_CLOEXEC, 0), path);
    }

    /** The raw descriptor number; fails once closed. */
    public int get() {
        int value = fd.get();
        if (value == CLOSED) {
            throw new IllegalStateException(description + " is closed");
        }
        return value;
    }

    public boolean isOpen() {
        return fd.get() != CLOSED;
    }

    public String description() {
        return description;
    }

    /** A new owner of a duplicate of this descriptor (F_DUPFD_CLOEXEC). */
    public Fd duplicate() throws ErrnoException {
        return new Fd(Libc.fcntl(get(), Libc.F_DUPFD_CLOEXEC, 0), description);
    }

    /** Gives up ownership without closing: the caller now owns the number (e.g. it was sent away). */
    public int release() {
        int value = fd.getAndSet(CLOSED);
        if (value == CLOSED) {
            throw new IllegalStateException(description + " is closed");
        }
        return value;
    }

    /** read(2) into a byte array; returns the count read (0 at end of file). */
    public int read(byte[] destination, int offset, int length) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buffer = arena.allocate(Math.max(1, length));
            int n = (int) Libc.read(get(), buffer, length, "read " + description);
            MemorySegment.copy(buffer, 0, MemorySegment.ofArray(destination), offset, n);
            return n;
        }
    }

    /** write(2) from a byte array; returns the count written. */
    public int write(byte[] source, int offset, int length) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buffer = arena.allocate(Math.max(1, length));
            MemorySegment.copy(MemorySegment.ofArray(source), offset, buffer, 0, length);
            return (int) Libc.write(get(), buffer, length, "write " + description);
        }
    }

    /** pread(2) into a buffer's remaining space (direct or heap); advances its position. */
    public int pread(ByteBuffer destination, long fileOffset) throws ErrnoException {
        int length = destination.remaining();
        if (destination.isDirect()) {
            int n = (int)
                    Libc.pread(get(), MemorySegment.ofBuffer(destination), length, fileOffset, "pread " + description);
            destination.position(destination.position() + n);
            return n;
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buffer = arena.allocate(Math.max(1, length));
            int n = (int) Libc.pread(get(), buffer, length, fileOffset, "pread " + description);
            destination.put(buffer.asSlice(0, n).asByteBuffer());
            return n;
        }
    }

    /** pwrite(2) from a buffer's remaining bytes (direct or heap); advances its position. */
    public int pwrite(ByteBuffer source, long fileOffset) throws ErrnoException {
        int length = source.remaining();
        if (source.isDirect()) {
            int n = (int)
                    Libc.pwrite(get(), MemorySegment.ofBuffer(source), length, fileOffset, "pwrite " + description);
            source.position(source.position() + n);
            return n;
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buffer = arena.allocate(Math.max(1, length));
            buffer.asByteBuffer().put(source.duplicate());
            int n = (int) Libc.pwrite(get(), buffer, length, fileOffset, "pwrite " + description);
            source.position(source.position() + n);
            return n;
        }
    }

    /** fdatasync(2): the file's data (and what reading it back needs) reaches its storage. */
    public void fdatasync() throws ErrnoException {
        Libc.fdatasync(get(), "fdatasync " + description);
    }

    /**
     * Reads the file from {@code fileOffset} on into {@code vector}'s pieces, in order, with preadv(2) (more
     * than one where the kernel returns less, EINTR retried); past the file's end the pieces are zeroed.
     * Returns the bytes the file had for them.
     */
    public long preadFully(IoVector vector, long fileOffset) throws ErrnoException {
        return transferFully(vector, fileOffset, false);
    }

    /** Writes {@code vector}'s pieces, in order, to the file from {@code fileOffset} on with pwritev(2). */
    public void pwriteFully(IoVector vector, long fileOffset) throws ErrnoException {
        transferFully(vector, fileOffset, true);
    }

    private long transferFully(IoVector vector, long fileOffset, boolean write) throws ErrnoException {
        long done = 0;
        int first = 0;
        long skip = 0;
        while (done < vector.bytes()) {
            long n;
            try {
                MemorySegment rest = vector.from(first, skip);
                int pieces = vector.count() - first;
                n = write
                        ? Libc.pwritev(get(), rest, pieces, fileOffset + done, "pwritev " + description)
                        : Libc.preadv(get(), rest, pieces, fileOffset + done, "preadv " + description);
            } catch (ErrnoException e) {
                if (e.errno() != Errno.EINTR) {
                    throw e;
                }
                continue;
            } finally {
                vector.restore(first);
            }
            if (n == 0) {
                if (write) {
                    throw new ErrnoException("pwritev " + description + ": wrote nothing", Errno.EIO);
                }
                vector.zeroFrom(done);
                return done;
            }
            done += n;
            skip += n;
            while (first < vector.count() && skip >= vector.length(first)) {
                skip -= vector.length(first);
                first++;
            }
        }
        return done;
    }

    /** Closes the descriptor once; later calls do nothing. */
    @Override
    public void close() {
        int value = fd.getAndSet(CLOSED);
        if (value != CLOSED) {
            try {
                Libc.close(value);
            } catch (ErrnoException e) {
                // Linux releases the descriptor even when close reports an error; nothing to retry.
                System.getLogger(Fd.class.getName()).log(System.Logger.Level.DEBUG, e.getMessage());
            }
        }
    }

    @Override
    public String toString() {
        return "Fd[" + fd.get() + " " + description + "]";
    }
}
