package io.jvfio.sys;

import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;

import io.jvfio.sys.libc.Libc;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * An epoll(7) set. Each registered fd carries a caller-chosen {@code long} token that comes back with
 * its events. One thread waits; registrations may come from any thread. Not a selector framework:
 * the event loop that owns it decides what tokens mean.
 */
public final class Epoll implements AutoCloseable {
    public static final int EPOLLIN = 0x1;
    public static final int EPOLLOUT = 0x4;
    public static final int EPOLLERR = 0x8;
    public static final int EPOLLHUP = 0x10;
    public static final int EPOLLRDHUP = 0x2000;
    /** Edge-triggered: reported once per change of the fd's readiness (for an eventfd, per write). */
    public static final int EPOLLET = 0x80000000;

    private static final int EPOLL_CTL_ADD = 1;
    private static final int EPOLL_CTL_DEL = 2;
    /** struct epoll_event is packed on x86-64: u32 events, u64 data. */
    private static final int EVENT_SIZE = 12;
    /** epoll_wait refuses more (EINVAL): the kernel's EP_MAX_EVENTS, INT_MAX / sizeof(struct epoll_event). */
    private static final int MAX_CAPACITY = Integer.MAX_VALUE / EVENT_SIZE;

    private final Fd fd;
    /**
     * Where epoll_wait writes. Freed by the GC, not by {@link #close}: a close from another thread while
     * the owner waits must not free memory the kernel is about to write (the system call sees only its
     * address), and the waiting thread keeps this object reachable.
     */
    private final MemorySegment events;

    private final int capacity;
    private int ready;

    private Epoll(Fd fd, int capacity) {
        this.fd = fd;
        this.capacity = capacity;
        this.events = Arena.ofAuto().allocate((long) EVENT_SIZE * capacity, 8);
    }

    /**
     * An epoll set returning at most {@code capacity} events per {@link #await}: 1 to epoll_wait's limit,
     * checked before the fd is made, so a refused capacity leaves none behind.
     */
    public static Epoll create(int capacity) throws ErrnoException {
        if (capacity <= 0 || capacity > MAX_CAPACITY) {
            throw new IllegalArgumentException(
                    "an epoll set returns 1 to " + MAX_CAPACITY + " events, not " + capacity);
        }
        return new Epoll(Fd.adopt(Libc.epollCreate1(Libc.O_CLOEXEC), "epoll"), capacity);
    }

    public void add(Fd target, int eventMask, long token) throws ErrnoException {
        control(EPOLL_CTL_ADD, target, eventMask, token);
    }

    public void remove(Fd target) throws ErrnoException {
        control(EPOLL_CTL_DEL, target, 0, 0);
    }

    private void control(int operation, Fd target, int eventMask, long token) throws ErrnoException {
        try (Arena call = Arena.ofConfined()) {
            MemorySegment event = call.allocate(EVENT_SIZE, 8);
            event.set(JAVA_INT_UNALIGNED, 0, eventMask);
            event.set(JAVA_LONG_UNALIGNED, 4, token);
            int number = target.beginUse();
            try {
                Libc.epollCtl(fd.get(), operation, number, event);
            } finally {
                target.endUse();
            }
        }
    }

    /**
     * Waits up to {@code timeoutMillis} (-1: forever) and returns how many events are ready; read them
     * with {@link #token(int)} and {@link #events(int)}. Only the waiting thread may call these.
     */
    public int await(int timeoutMillis) throws ErrnoException {
        ready = Libc.epollWait(fd.get(), events, capacity, timeoutMillis);
        return ready;
    }

    public long token(int index) {
        checkIndex(index);
        return events.get(JAVA_LONG_UNALIGNED, (long) index * EVENT_SIZE + 4);
    }

    public int events(int index) {
        checkIndex(index);
        return events.get(JAVA_INT_UNALIGNED, (long) index * EVENT_SIZE);
    }

    private void checkIndex(int index) {
        if (index < 0 || index >= ready) {
            throw new IndexOutOfBoundsException("event " + index + " of " + ready);
        }
    }

    @Override
    public void close() {
        fd.close();
    }
}
