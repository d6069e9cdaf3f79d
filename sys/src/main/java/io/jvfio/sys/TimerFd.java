package io.jvfio.sys;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

import io.jvfio.sys.libc.Libc;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/** A CLOCK_MONOTONIC timerfd(2): timers that an epoll set can wait on beside eventfds. */
public final class TimerFd implements AutoCloseable {
    private static final long NANOS_PER_SECOND = 1_000_000_000L;

    private final Fd fd;

    private TimerFd(Fd fd) {
        this.fd = fd;
    }

    /** A non-blocking timer, disarmed. */
    public static TimerFd create() throws ErrnoException {
        return new TimerFd(
                Fd.adopt(Libc.timerfdCreate(Libc.CLOCK_MONOTONIC, Libc.O_CLOEXEC | Libc.O_NONBLOCK), "timerfd"));
    }

    public Fd fd() {
        return fd;
    }

    /** Fires once after {@code delayNanos} (> 0), then every {@code intervalNanos} unless that is 0. */
    public void arm(long delayNanos, long intervalNanos) throws ErrnoException {
        if (delayNanos <= 0) {
            throw new IllegalArgumentException("timer delay must be positive: " + delayNanos);
        }
        set(delayNanos, intervalNanos);
    }

    public void disarm() throws ErrnoException {
        set(0, 0);
    }

    private void set(long delayNanos, long intervalNanos) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment spec = arena.allocate(JAVA_LONG, 4);
            spec.setAtIndex(JAVA_LONG, 0, intervalNanos / NANOS_PER_SECOND);
            spec.setAtIndex(JAVA_LONG, 1, intervalNanos % NANOS_PER_SECOND);
            spec.setAtIndex(JAVA_LONG, 2, delayNanos / NANOS_PER_SECOND);
            spec.setAtIndex(JAVA_LONG, 3, delayNanos % NANOS_PER_SECOND);
            Libc.timerfdSettime(fd.get(), 0, spec);
        }
    }

    /** Returns the expirations since the last call (0 if none, never blocking). */
    public long expirations() throws ErrnoException {
        return EventFd.readCounterOrZero(fd, "read timerfd");
    }

    @Override
    public void close() {
        fd.close();
    }
}
