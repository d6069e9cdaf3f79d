package io.jvfio.sys;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import io.jvfio.sys.libc.Libc;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.TimeUnit;

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

    /**
     * Returns the revents of poll(2) on {@code fd}, 0 on timeout. A signal does not end the wait, since a
     * vCPU thread kicked (SIGURG) while it waits for the rest of a reply would take the kick for the
     * timeout: it goes on for the timeout counted from the first signal, so it may last up to twice the
     * timeout. The clock is read only then: the calls that time out or find the fd ready read none.
     */
    public static int poll(Fd fd, int events, int timeoutMillis) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment pollfd = arena.allocate(8, 4);
            pollfd.set(JAVA_INT, 0, fd.beginUse());
            try {
                return poll(pollfd, events, timeoutMillis);
            } finally {
                fd.endUse();
            }
        }
    }

    private static int poll(MemorySegment pollfd, int events, int timeoutMillis) throws ErrnoException {
        pollfd.set(JAVA_SHORT, 4, (short) events);
        int wait = timeoutMillis;
        long deadline = 0;
        while (true) {
            int ready = Libc.poll(pollfd, 1, wait);
            if (ready >= 0) {
                return ready == 0 ? 0 : Short.toUnsignedInt(pollfd.get(JAVA_SHORT, 6));
            }
            if (timeoutMillis > 0) {
                long now = System.nanoTime();
                if (deadline == 0) {
                    deadline = now + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
                }
                if (deadline - now <= 0) {
                    return 0;
                }
                wait = (int) Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - now));
            }
        }
    }
}
