package io.jvfio.sys;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import io.jvfio.sys.libc.Libc;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Objects;

/**
 * The process's standard input (fd 0) as a stream whose blocked read ends when its thread is interrupted
 * or the stream is closed: it waits in poll(2) on fd 0 and on an eventfd that {@link #close} signals, in
 * short slices, and looks at the interrupt between them. {@code System.in} cannot do that: its read of a
 * terminal or of a pipe that stays open blocks in the kernel and ignores interrupts, so a thread feeding
 * it to a guest would outlive the guest. Reads the descriptor without owning it: fd 0 stays open.
 */
public final class StandardInput extends InputStream {
    private static final int STDIN = 0;
    /** How long an interrupted reader may take to notice; a thread that waits this long costs nothing. */
    private static final int SLICE_MILLIS = 100;
    /** How long {@link #close} waits for a read to leave poll(2). */
    private static final long CLOSE_WAIT_NANOS = 1_000_000_000L;

    private static final long POLLFD_SIZE = 8;

    /** Guards the fields below. */
    private final Object lock = new Object();
    /** Signalled by close; made by the first read, so that a process that never reads makes no system call. */
    private EventFd closing;

    private boolean closed;
    /** Reads inside poll(2) or read(2) now. */
    private int readersWaiting;

    /** The process's fd 0. */
    public StandardInput() {}

    @Override
    public int read() throws InterruptedIOException, ErrnoException {
        byte[] one = new byte[1];
        return read(one, 0, 1) < 0 ? -1 : Byte.toUnsignedInt(one[0]);
    }

    /**
     * Waits until fd 0 has bytes or is at its end, then reads what is there (at most {@code length}).
     * Returns -1 at the end of the input, when fd 0 is not open at all, and once the stream is closed.
     *
     * @throws InterruptedIOException when the thread is interrupted while it waits (the interrupt is taken)
     */
    @Override
    public int read(byte[] destination, int offset, int length) throws InterruptedIOException, ErrnoException {
        Objects.checkFromIndexSize(offset, length, destination.length);
        if (length == 0) {
            return 0;
        }
        EventFd closeSignal;
        synchronized (lock) {
            if (closed) {
                return -1;
            }
            if (closing == null) {
                closing = EventFd.create(true);
            }
            closeSignal = closing;
            readersWaiting++;
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment pollfds = arena.allocate(2 * POLLFD_SIZE, 4);
            while (true) {
                if (Thread.interrupted()) {
                    throw new InterruptedIOException("standard input: interrupted while waiting for input");
                }
                pollfds.set(JAVA_INT, 0, STDIN);
                pollfds.set(JAVA_SHORT, 4, (short) Libc.POLLIN);
                pollfds.set(JAVA_SHORT, 6, (short) 0);
                pollfds.set(JAVA_INT, POLLFD_SIZE, closeSignal.fd().get());
                pollfds.set(JAVA_SHORT, POLLFD_SIZE + 4, (short) Libc.POLLIN);
                pollfds.set(JAVA_SHORT, POLLFD_SIZE + 6, (short) 0);
                if (Libc.poll(pollfds, 2, SLICE_MILLIS) <= 0) {
                    continue;
                }
                if (pollfds.get(JAVA_SHORT, POLLFD_SIZE + 6) != 0) {
                    return -1;
                }
                if ((pollfds.get(JAVA_SHORT, 6) & Libc.POLLNVAL) != 0) {
                    return -1;
                }
                MemorySegment buffer = arena.allocate(length);
                long n;
                try {
                    n = Libc.read(STDIN, buffer, length, "read standard input");
                } catch (ErrnoException e) {
                    // Someone else (a shell sharing the terminal) made fd 0 non-blocking and took the bytes.
                    if (e.errno() == Errno.EAGAIN || e.errno() == Errno.EINTR) {
                        continue;
                    }
                    throw e;
                }
                if (n == 0) {
                    return -1;
                }
                MemorySegment.copy(buffer, 0, MemorySegment.ofArray(destination), offset, n);
                return (int) n;
            }
        } finally {
            synchronized (lock) {
                readersWaiting--;
                if (closed && readersWaiting == 0) {
                    closing.close();
                }
                lock.notifyAll();
            }
        }
    }

    /**
     * Ends a read that waits (it returns -1) and every later one, and returns once no read is inside a
     * system call any more (a second at most; a read still inside then releases the eventfd as it leaves):
     * the JVM's exit waits for threads in native code, and a reader left in its poll slice held up the end
     * of every {@code jvfio run} whose stdin was an open pipe by up to 100 ms. fd 0 stays open. Idempotent.
     */
    @Override
    public void close() {
        synchronized (lock) {
            if (closed) {
                return;
            }
            closed = true;
            if (closing == null) {
                return;
            }
            try {
                closing.signal();
            } catch (ErrnoException e) {
                // An eventfd's write fails only at a counter near 2^64; a waiting read then ends at its next
                // poll slice, as it would without the eventfd.
                return;
            }
            long deadline = System.nanoTime() + CLOSE_WAIT_NANOS;
            long left;
            while (readersWaiting > 0 && (left = deadline - System.nanoTime()) > 0) {
                try {
                    lock.wait(left / 1_000_000 + 1);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
            if (readersWaiting == 0) {
                closing.close();
            }
        }
    }
}
