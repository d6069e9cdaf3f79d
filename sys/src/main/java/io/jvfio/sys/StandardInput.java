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
 * The process's standard input (fd 0) as a stream whose blocked read ends when its thread is interrupted:
 * it waits in poll(2) in short slices and looks at the interrupt between them. {@code System.in} cannot
 * do that: its read of a terminal or of a pipe that stays open blocks in the kernel and ignores interrupts,
 * so a thread feeding it to a guest would outlive the guest. Reads the descriptor without owning it: close
 * does nothing, fd 0 stays open.
 */
public final class StandardInput extends InputStream {
    private static final int STDIN = 0;
    /** How long an interrupted reader may take to notice; a thread that waits this long costs nothing. */
    private static final int SLICE_MILLIS = 100;

    /** The process's fd 0. */
    public StandardInput() {}

    @Override
    public int read() throws InterruptedIOException, ErrnoException {
        byte[] one = new byte[1];
        return read(one, 0, 1) < 0 ? -1 : Byte.toUnsignedInt(one[0]);
    }

    /**
     * Waits until fd 0 has bytes or is at its end, then reads what is there (at most {@code length}).
     * Returns -1 at the end of the input, and when fd 0 is not open at all.
     *
     * @throws InterruptedIOException when the thread is interrupted while it waits (the interrupt is taken)
     */
    @Override
    public int read(byte[] destination, int offset, int length) throws InterruptedIOException, ErrnoException {
        Objects.checkFromIndexSize(offset, length, destination.length);
        if (length == 0) {
            return 0;
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment pollfd = arena.allocate(8, 4);
            while (true) {
                if (Thread.interrupted()) {
                    throw new InterruptedIOException("standard input: interrupted while waiting for input");
                }
                pollfd.set(JAVA_INT, 0, STDIN);
                pollfd.set(JAVA_SHORT, 4, (short) Libc.POLLIN);
                pollfd.set(JAVA_SHORT, 6, (short) 0);
                if (Libc.poll(pollfd, 1, SLICE_MILLIS) == 0) {
                    continue;
                }
                if ((pollfd.get(JAVA_SHORT, 6) & Libc.POLLNVAL) != 0) {
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
        }
    }
}
