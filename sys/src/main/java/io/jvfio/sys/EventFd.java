package io.jvfio.sys;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

import io.jvfio.sys.libc.Libc;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * An eventfd(2): the doorbell between a device and an interrupt consumer (KVM irqfd, the event loop).
 */
public final class EventFd implements AutoCloseable {
    public static final int EFD_SEMAPHORE = 1;
    public static final int EFD_NONBLOCK = Libc.O_NONBLOCK;
    public static final int EFD_CLOEXEC = Libc.O_CLOEXEC;

    private static final ThreadLocal<MemorySegment> COUNTER =
            ThreadLocal.withInitial(() -> Arena.ofAuto().allocate(JAVA_LONG));

    private final Fd fd;
    /** Known to be non-blocking (created so here), so {@link #drain} can read without polling first. */
    private final boolean nonBlocking;

    private EventFd(Fd fd, boolean nonBlocking) {
        this.fd = fd;
        this.nonBlocking = nonBlocking;
    }

    /** A blocking eventfd. */
    public static EventFd create() throws ErrnoException {
        return create(false);
    }

    public static EventFd create(boolean nonBlocking) throws ErrnoException {
        int flags = EFD_CLOEXEC | (nonBlocking ? EFD_NONBLOCK : 0);
        return new EventFd(Fd.adopt(Libc.eventfd(0, flags), "eventfd"), nonBlocking);
    }

    /** Adopts an eventfd received from elsewhere (a vfio-user peer). */
    public static EventFd adopt(Fd fd) {
        return new EventFd(fd, false);
    }

    /**
     * Adopts an eventfd received from a peer that only writes it, such as a vfio-user client's unmask
     * eventfd, and makes its file non-blocking. A drain of a blocking eventfd polls before it reads, and
     * anyone else who reads it in between (a peer holds the same file) would leave that read blocked and
     * this thread with it. O_NONBLOCK belongs to the file, so the peer's writes see it too: an eventfd write
     * could block only at a counter of 0xfffffffffffffffe, where it now fails with EAGAIN instead.
     */
    public static EventFd adoptForReading(Fd fd) throws ErrnoException {
        int number = fd.beginUse();
        try {
            int flags = Libc.fcntl(number, Libc.F_GETFL, 0);
            Libc.fcntl(number, Libc.F_SETFL, flags | Libc.O_NONBLOCK);
        } finally {
            fd.endUse();
        }
        return new EventFd(fd, true);
    }

    public Fd fd() {
        return fd;
    }

    /** Adds one to the counter, waking whoever waits on it. */
    public void signal() throws ErrnoException {
        add(1);
    }

    /**
     * Adds one unless the counter is at its maximum (0xfffffffffffffffe), where a write would block until
     * a reader takes it; returns whether it added. For an eventfd another process reads, or never does:
     * between the check and the write only that process can fill the counter, so only it can make this
     * block.
     */
    public boolean signalIfRoom() throws ErrnoException {
        if ((Poller.poll(fd, Libc.POLLOUT, 0) & Libc.POLLOUT) == 0) {
            return false;
        }
        signal();
        return true;
    }

    /** Whether {@code fd} is an eventfd, as /proc names it (a pipe or a socket passed for one is not). */
    public static boolean isEventFd(Fd fd) {
        return fd.fileName().equals("anon_inode:[eventfd]");
    }

    public void add(long value) throws ErrnoException {
        MemorySegment counter = COUNTER.get();
        counter.set(JAVA_LONG, 0, value);
        int number = fd.beginUse();
        try {
            Libc.write(number, counter, 8, "write eventfd");
        } finally {
            fd.endUse();
        }
    }

    /** Reads and resets the counter; blocks while it is zero unless non-blocking (then EAGAIN throws). */
    public long read() throws ErrnoException {
        MemorySegment counter = COUNTER.get();
        int number = fd.beginUse();
        try {
            Libc.read(number, counter, 8, "read eventfd");
        } finally {
            fd.endUse();
        }
        return counter.get(JAVA_LONG, 0);
    }

    /** Reads and resets the counter if it is non-zero; returns 0 instead of blocking or failing with EAGAIN. */
    public long drain() throws ErrnoException {
        // A read of a non-blocking eventfd says EAGAIN by itself: the poll would cost a second system call
        // per signal on the event loop, which drains every trigger of a user-side interrupt.
        if (!nonBlocking && !Poller.readable(fd, 0)) {
            return 0;
        }
        return readCounterOrZero(fd, "read eventfd");
    }

    /**
     * Reads and resets the 8-byte counter of an eventfd or a timerfd; 0 where the fd is non-blocking and
     * the counter zero (EAGAIN).
     */
    static long readCounterOrZero(Fd counterFd, String operation) throws ErrnoException {
        MemorySegment counter = COUNTER.get();
        int number = counterFd.beginUse();
        try {
            Libc.read(number, counter, 8, operation);
        } catch (ErrnoException e) {
            if (e.errno() == Errno.EAGAIN) {
                return 0;
            }
            throw e;
        } finally {
            counterFd.endUse();
        }
        return counter.get(JAVA_LONG, 0);
    }

    @Override
    public void close() {
        fd.close();
    }

    @Override
    public String toString() {
        return "EventFd[" + fd + "]";
    }
}
