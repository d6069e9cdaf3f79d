package io.jvfio.chips.serial;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;

/**
 * Copies a host stream (stdin, a pipe) into a UART's receiver on its own daemon thread, no faster than
 * the guest reads: each chunk is {@link Uart16550#offer offered}, and the pump waits for room rather than
 * overrun a guest that polls slowly or runs without FIFOs. Ends at the stream's end or at {@link #close}.
 */
public final class SerialInputPump implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(SerialInputPump.class.getName());
    private static final int CHUNK = 256;

    private final InputStream input;
    private final Uart16550 uart;
    private final Thread thread;
    /** Guarded by this: once set, no byte reaches the UART (its clock may already be gone). */
    private boolean closed;

    private SerialInputPump(String threadName, InputStream input, Uart16550 uart) {
        this.input = input;
        this.uart = uart;
        this.thread = Thread.ofPlatform().name(threadName).daemon(true).unstarted(this::pump);
    }

    /** Starts a thread named {@code threadName} that pumps {@code input} into {@code uart}. */
    public static SerialInputPump start(String threadName, InputStream input, Uart16550 uart) {
        SerialInputPump pump = new SerialInputPump(threadName, input, uart);
        pump.thread.start();
        return pump;
    }

    private void pump() {
        byte[] chunk = new byte[CHUNK];
        try {
            int length;
            while ((length = input.read(chunk)) >= 0) {
                int delivered = 0;
                while (delivered < length) {
                    synchronized (this) {
                        if (closed) {
                            return;
                        }
                        delivered += uart.offer(chunk, delivered, length - delivered);
                    }
                    if (delivered < length) {
                        uart.awaitReceiverRoom();
                    }
                }
            }
        } catch (InterruptedException | InterruptedIOException e) {
            // close() interrupted a wait for room or an interruptible read.
        } catch (IOException e) {
            if (!isClosed()) {
                LOG.log(
                        System.Logger.Level.WARNING,
                        thread.getName() + ": reading the serial input failed, the guest gets no more: " + e);
            }
        }
    }

    private synchronized boolean isClosed() {
        return closed;
    }

    /** The pump thread, for tests and thread reports. */
    public Thread thread() {
        return thread;
    }

    /**
     * Stops delivering and interrupts the thread, which ends at once if it waits for room. A read
     * blocked in a stream that ignores interrupts (a terminal's stdin) ends the thread at its next byte
     * or end of stream; nothing it reads then reaches the UART. Does not close the stream, which the
     * caller owns. Idempotent.
     */
    @Override
    public void close() {
        synchronized (this) {
            closed = true;
        }
        thread.interrupt();
    }
}
