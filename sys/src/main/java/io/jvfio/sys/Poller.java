package io.jvfio.sys;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import io.jvfio.sys.libc.Libc;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/** poll(2) on one descriptor: the simple wait used where an epoll set would be overkill. */
public final class Poller {
    private Poller() {}

    /**
     * Waits until {@code fd} is readable (or hung up) for at most {@code timeoutMillis} (-1: forever).
     * Returns false on timeout.
     */
    public static boolean readable(Fd fd, int timeoutMillis) throws ErrnoException {
        return (poll(fd, Libc.POLLIN, timeoutMillis) & (Libc.POLLIN | Libc.POLLHUP | Libc.POLLERR)) != 0;
    }

    /** Returns the revents of one poll(2) on {@code fd}, 0 on timeout. */
    public static int poll(Fd fd, int events, int timeoutMillis) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment pollfd = arena.allocate(8, 4);
            pollfd.set(JAVA_INT, 0, fd.get());
            pollfd.set(JAVA_SHORT, 4, (short) events);
            int n = Libc.poll(pollfd, 1, timeoutMillis);
            return n == 0 ? 0 : Short.toUnsignedInt(pollfd.get(JAVA_SHORT, 6));
        }
    }
}
