package io.jvfio.devices.ns16550a;

import io.jvfio.chips.serial.SerialInputPump;
import io.jvfio.chips.serial.Uart16550;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.lang.System.Logger.Level;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A UART's serial line as a Unix stream socket (mode 0600) that one peer at a time connects to: what the
 * peer writes arrives in the receiver no faster than the guest reads it, and what the UART transmits
 * goes to the peer. With no peer connected the line is a cable to nowhere: transmitted bytes are dropped
 * and counted. Another peer waits in the listen backlog until the current one hangs up.
 *
 * <p>The UART hands over bytes with its lock held, so {@link #transmit} only queues them; a writer
 * thread sends them and, if the queue had filled and a byte was refused, tells the UART it may send
 * again. One lock guards the queue and the current peer; it is never held while the UART's is taken.
 */
final class SerialSocket implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(SerialSocket.class.getName());
    /** Bytes queued for the peer before the UART is told to wait (its THRE stays clear meanwhile). */
    private static final int OUTPUT_QUEUE = 4096;

    private final Path path;
    private final ServerSocketChannel listening;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition outputQueued = lock.newCondition();
    private final byte[] output = new byte[OUTPUT_QUEUE];
    private int outputHead;
    private int outputCount;
    private boolean refusedByte;
    private SocketChannel peer;
    private SerialInputPump pump;
    private long sent;
    private long received;
    private long dropped;
    private boolean closed;
    private Uart16550 uart;
    private Thread acceptor;
    private Thread writer;

    private SerialSocket(Path path, ServerSocketChannel listening) {
        this.path = path;
        this.listening = listening;
    }

    /**
     * Listens at {@code path}, replacing a stale socket file there: bound inside a fresh directory only
     * this user can enter (a channel listens as it binds, so under the umask another user could connect
     * before a chmod), made 0600, then renamed into place.
     */
    static SerialSocket listen(Path path) throws IOException {
        Path target = path.toAbsolutePath();
        Path privateDirectory = Files.createTempDirectory(
                target.getParent(),
                "." + target.getFileName() + ".",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        Path temporary = privateDirectory.resolve("serial.sock");
        ServerSocketChannel channel = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            channel.bind(UnixDomainSocketAddress.of(temporary));
            Files.setPosixFilePermissions(temporary, PosixFilePermissions.fromString("rw-------"));
            Files.move(temporary, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            return new SerialSocket(target, channel);
        } catch (IOException | RuntimeException e) {
            channel.close();
            Files.deleteIfExists(temporary);
            throw e;
        } finally {
            Files.deleteIfExists(privateDirectory);
        }
    }

    Path path() {
        return path;
    }

    /** Starts serving the line of {@code serial}: the threads that accept peers and write to them. */
    void start(Uart16550 serial) {
        this.uart = serial;
        acceptor = Thread.ofPlatform()
                .daemon()
                .name("jvfio ns16550a serial accept " + path)
                .start(this::acceptPeers);
        writer = Thread.ofPlatform()
                .daemon()
                .name("jvfio ns16550a serial output " + path)
                .start(this::writeOutput);
    }

    /** The UART's transmitter (its lock held): queues the byte, or refuses it while the queue is full. */
    boolean transmit(byte value) {
        lock.lock();
        try {
            if (outputCount == OUTPUT_QUEUE) {
                refusedByte = true;
                return false;
            }
            output[(outputHead + outputCount) % OUTPUT_QUEUE] = value;
            outputCount++;
            outputQueued.signal();
            return true;
        } finally {
            lock.unlock();
        }
    }

    private void acceptPeers() {
        while (true) {
            SocketChannel connection;
            try {
                connection = listening.accept();
            } catch (ClosedChannelException e) {
                return;
            } catch (IOException e) {
                LOG.log(Level.WARNING, "ns16550a serial socket " + path + ": accept failed, no more peers: " + e);
                return;
            }
            SerialInputPump connectionPump;
            lock.lock();
            try {
                if (closed) {
                    closeQuietly(connection);
                    return;
                }
                peer = connection;
                connectionPump = SerialInputPump.start(
                        "jvfio ns16550a serial input " + path,
                        new CountingInput(Channels.newInputStream(connection)),
                        uart);
                pump = connectionPump;
            } finally {
                lock.unlock();
            }
            try {
                connectionPump.thread().join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } finally {
                lock.lock();
                try {
                    peer = null;
                    pump = null;
                } finally {
                    lock.unlock();
                }
                closeQuietly(connection);
            }
        }
    }

    private void writeOutput() {
        byte[] chunk = new byte[OUTPUT_QUEUE];
        while (true) {
            int length;
            boolean resume;
            SocketChannel target;
            lock.lock();
            try {
                while (outputCount == 0 && !closed) {
                    outputQueued.awaitUninterruptibly();
                }
                if (closed) {
                    return;
                }
                length = Math.min(outputCount, OUTPUT_QUEUE - outputHead);
                System.arraycopy(output, outputHead, chunk, 0, length);
                outputHead = (outputHead + length) % OUTPUT_QUEUE;
                outputCount -= length;
                resume = refusedByte;
                refusedByte = false;
                target = peer;
            } finally {
                lock.unlock();
            }
            boolean delivered = target != null && send(target, chunk, length);
            lock.lock();
            try {
                if (delivered) {
                    sent += length;
                } else {
                    dropped += length;
                }
            } finally {
                lock.unlock();
            }
            if (resume) {
                uart.transmitterReady();
            }
        }
    }

    /** Writes the bytes; false when the peer has gone (its reader ends the connection). */
    private static boolean send(SocketChannel target, byte[] chunk, int length) {
        ByteBuffer buffer = ByteBuffer.wrap(chunk, 0, length);
        try {
            while (buffer.hasRemaining()) {
                target.write(buffer);
            }
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** Whether a peer is connected now. */
    boolean hasPeer() {
        lock.lock();
        try {
            return peer != null;
        } finally {
            lock.unlock();
        }
    }

    long bytesSent() {
        lock.lock();
        try {
            return sent;
        } finally {
            lock.unlock();
        }
    }

    long bytesReceived() {
        lock.lock();
        try {
            return received;
        } finally {
            lock.unlock();
        }
    }

    long bytesDropped() {
        lock.lock();
        try {
            return dropped;
        } finally {
            lock.unlock();
        }
    }

    /** Stops accepting, hangs up on the peer, ends both threads and removes the socket file. */
    @Override
    public void close() {
        SocketChannel current;
        SerialInputPump currentPump;
        lock.lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            current = peer;
            currentPump = pump;
            outputQueued.signalAll();
        } finally {
            lock.unlock();
        }
        closeQuietly(listening);
        if (currentPump != null) {
            currentPump.close();
        }
        if (current != null) {
            closeQuietly(current);
        }
        join(acceptor);
        join(writer);
        try {
            Files.deleteIfExists(path);
        } catch (IOException e) {
            LOG.log(Level.DEBUG, "ns16550a serial socket " + path + ": not removed: " + e.getMessage());
        }
    }

    private static void join(Thread thread) {
        if (thread == null) {
            return;
        }
        try {
            thread.join(Duration.ofSeconds(5));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void closeQuietly(Closeable closeable) {
        try {
            closeable.close();
        } catch (IOException e) {
            LOG.log(Level.DEBUG, "ns16550a serial socket: close: " + e.getMessage());
        }
    }

    /** The peer's bytes, counted as they are read (the pump hands each to the UART before reading more). */
    private final class CountingInput extends InputStream {
        private final InputStream in;

        CountingInput(InputStream in) {
            this.in = in;
        }

        @Override
        public int read() throws IOException {
            int value = in.read();
            if (value >= 0) {
                count(1);
            }
            return value;
        }

        @Override
        public int read(byte[] buffer, int offset, int length) throws IOException {
            int n = in.read(buffer, offset, length);
            if (n > 0) {
                count(n);
            }
            return n;
        }

        private void count(int n) {
            lock.lock();
            try {
                received += n;
            } finally {
                lock.unlock();
            }
        }
    }
}
