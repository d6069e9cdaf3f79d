package io.jvfio.sys;

import io.jvfio.sys.libc.Libc;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The one owner of a file descriptor: closes it exactly once, and refuses use after close so a
 * recycled fd number is never touched by mistake. A system call that may race with another thread's
 * {@link #close} holds the number between {@link #beginUse} and {@link #endUse} (this class's own I/O
 * does): a close meanwhile refuses new uses at once, and the last use in flight closes the number, so
 * no call can reach a file that took the number over (the JDK's channels, too, close a number only once
 * no thread is in a call on it).
 */
public final class Fd implements AutoCloseable {
    private static final long CLOSED = 1;
    private static final long ONE_USE = 2;

    private final int number;
    /** Uses in flight times {@link #ONE_USE}, plus {@link #CLOSED} once closed. */
    private final AtomicLong state = new AtomicLong();

    private final String description;

    private Fd(int number, String description) {
        this.number = number;
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

    /**
     * The raw descriptor number; fails once closed. For calls no other thread's close can race with (the
     * owner's own, or ones made before the owner can close): others use {@link #beginUse}.
     */
    public int get() {
        if ((state.get() & CLOSED) != 0) {
            throw closed();
        }
        return number;
    }

    /**
     * The descriptor number, kept open until the matching {@link #endUse} even if another thread closes
     * this meanwhile; fails once closed. Call {@code endUse} in a {@code finally}.
     */
    public int beginUse() {
        while (true) {
            long current = state.get();
            if ((current & CLOSED) != 0) {
                throw closed();
            }
            if (state.compareAndSet(current, current + ONE_USE)) {
                return number;
            }
        }
    }

    /** Ends a {@link #beginUse}; the last one after a {@link #close} closes the number. */
    public void endUse() {
        if (state.addAndGet(-ONE_USE) == CLOSED) {
            closeNumber();
        }
    }

    public boolean isOpen() {
        return (state.get() & CLOSED) == 0;
    }

    public String description() {
        return description;
    }

    /**
     * The open file as the kernel names it in /proc/self/fd ("anon_inode:[eventfd]", "socket:[4711]", a
     * path), or "an fd of unknown kind" where it cannot say (closed, or no /proc).
     */
    public String fileName() {
        int fd;
        try {
            fd = beginUse();
        } catch (IllegalStateException closed) {
            return "an fd of unknown kind";
        }
        try {
            return Files.readSymbolicLink(Path.of("/proc/self/fd/" + fd)).toString();
        } catch (IOException e) {
            return "an fd of unknown kind";
        } finally {
            endUse();
        }
    }

    /** A new owner of a duplicate of this descriptor (F_DUPFD_CLOEXEC). */
    public Fd duplicate() throws ErrnoException {
        return new Fd((int) use(n -> Libc.fcntl(n, Libc.F_DUPFD_CLOEXEC, 0)), description);
    }

    /** read(2) into a byte array; returns the count read (0 at end of file). */
    public int read(byte[] destination, int offset, int length) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buffer = arena.allocate(Math.max(1, length));
            int n = (int) use(fd -> Libc.read(fd, buffer, length, "read " + description));
            MemorySegment.copy(buffer, 0, MemorySegment.ofArray(destination), offset, n);
            return n;
        }
    }

    /** write(2) from a byte array; returns the count written. */
    public int write(byte[] source, int offset, int length) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buffer = arena.allocate(Math.max(1, length));
            MemorySegment.copy(MemorySegment.ofArray(source), offset, buffer, 0, length);
            return (int) use(fd -> Libc.write(fd, buffer, length, "write " + description));
        }
    }

    /** pread(2) into a buffer's remaining space (direct or heap); advances its position. */
    public int pread(ByteBuffer destination, long fileOffset) throws ErrnoException {
        int length = destination.remaining();
        if (destination.isDirect()) {
            MemorySegment target = MemorySegment.ofBuffer(destination);
            int n = (int) use(fd -> Libc.pread(fd, target, length, fileOffset, "pread " + description));
            destination.position(destination.position() + n);
            return n;
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buffer = arena.allocate(Math.max(1, length));
            int n = (int) use(fd -> Libc.pread(fd, buffer, length, fileOffset, "pread " + description));
            destination.put(buffer.asSlice(0, n).asByteBuffer());
            return n;
        }
    }

    /** pwrite(2) from a buffer's remaining bytes (direct or heap); advances its position. */
    public int pwrite(ByteBuffer source, long fileOffset) throws ErrnoException {
        int length = source.remaining();
        if (source.isDirect()) {
            MemorySegment from = MemorySegment.ofBuffer(source);
            int n = (int) use(fd -> Libc.pwrite(fd, from, length, fileOffset, "pwrite " + description));
            source.position(source.position() + n);
            return n;
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buffer = arena.allocate(Math.max(1, length));
            buffer.asByteBuffer().put(source.duplicate());
            int n = (int) use(fd -> Libc.pwrite(fd, buffer, length, fileOffset, "pwrite " + description));
            source.position(source.position() + n);
            return n;
        }
    }

    /** fdatasync(2): the file's data (and what reading it back needs) reaches its storage. */
    public void fdatasync() throws ErrnoException {
        use(fd -> {
            Libc.fdatasync(fd, "fdatasync " + description);
            return 0;
        });
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
                long at = fileOffset + done;
                n = use(fd -> write
                        ? Libc.pwritev(fd, rest, pieces, at, "pwritev " + description)
                        : Libc.preadv(fd, rest, pieces, at, "preadv " + description));
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

    /**
     * Closes the descriptor once; later calls do nothing. New uses fail at once; where uses are in flight
     * on other threads, the last of them closes the number when it ends.
     */
    @Override
    public void close() {
        long before = state.getAndUpdate(current -> current | CLOSED);
        if (before == 0) {
            closeNumber();
        }
    }

    private void closeNumber() {
        try {
            Libc.close(number);
        } catch (ErrnoException e) {
            // Linux releases the descriptor even when close reports an error; nothing to retry.
            System.getLogger(Fd.class.getName()).log(System.Logger.Level.DEBUG, e.getMessage());
        }
    }

    /** A system call on the descriptor's number. */
    @FunctionalInterface
    private interface Call {
        long on(int fd) throws ErrnoException;
    }

    private long use(Call call) throws ErrnoException {
        int n = beginUse();
        try {
            return call.on(n);
        } finally {
            endUse();
        }
    }

    private IllegalStateException closed() {
        return new IllegalStateException(description + " is closed");
    }

    @Override
    public String toString() {
        return "Fd[" + number + (isOpen() ? " " : " closed ") + description + "]";
    }
}
