package io.jvfio.vfiouser;

import io.jvfio.sys.Errno;
import io.jvfio.sys.ErrnoException;
import io.jvfio.sys.Fd;
import io.jvfio.sys.Poller;
import io.jvfio.sys.UnixSocket;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One vfio-user connection's byte stream: sends each message with its fds in one sendmsg, and reads
 * messages back with as few recvmsg calls as the stream allows (one per message when the peer sends
 * whole messages). Received fds belong to the message whose bytes they came with: the kernel ends a
 * read right after the data segment that carried them.
 *
 * <p>One thread receives at a time; sends may come from any thread.
 */
public final class Channel implements AutoCloseable {
    private static final int INITIAL_BUFFER = 64 * 1024;

    private final UnixSocket socket;
    private final int maxMessageSize;
    private final int maxFds;
    private final int partialTimeoutMillis;
    private final ReentrantLock sendLock = new ReentrantLock();
    /** Set by {@link #close}, which does not wait for a send in progress on another thread. */
    private volatile boolean closed;

    private ByteBuffer sendBuffer = ByteBuffer.allocateDirect(INITIAL_BUFFER).order(Codec.ORDER);
    /** {@link #sendBuffer} as the one-element array sendmsg takes, reused for every send. */
    private ByteBuffer[] sendBuffers = {sendBuffer};

    private ByteBuffer buffer = ByteBuffer.allocateDirect(INITIAL_BUFFER).order(Codec.ORDER);
    /** A view of {@link #buffer} that recvmsg reads into, reused for every read. */
    private ByteBuffer readView = buffer.duplicate();
    /** A view of {@link #buffer} over the body being decoded, reused for every message. */
    private ByteBuffer bodyView = buffer.duplicate().order(Codec.ORDER);

    private int start;
    private int end;
    /** Stream offset of buffer index 0. */
    private long base;

    private boolean endOfStream;
    private final ArrayDeque<FdBatch> batches = new ArrayDeque<>();

    private record FdBatch(long chunkEnd, List<Fd> fds, int refused) {}

    /** A received message: its header, its payload or why it could not be decoded, and its fds. */
    public record Incoming(Header header, Payload payload, ProtocolException error, List<Fd> fds, int refusedFds) {
        public void closeFds() {
            fds.forEach(Fd::close);
        }
    }

    /**
     * @param maxMessageSize the largest message accepted, header included
     * @param maxFds the most fds accepted with one message
     * @param partialTimeoutMillis how long the rest of a started message may take to arrive
     */
    public Channel(UnixSocket socket, int maxMessageSize, int maxFds, int partialTimeoutMillis) {
        this.socket = socket;
        this.maxMessageSize = maxMessageSize;
        this.maxFds = maxFds;
        this.partialTimeoutMillis = partialTimeoutMillis > 0 ? partialTimeoutMillis : 1000;
    }

    public UnixSocket socket() {
        return socket;
    }

    /** Sends one message, header and payload and fds, in one sendmsg. */
    public void send(int msgId, int command, int flags, int error, Payload payload, int[] fds) throws ErrnoException {
        sendLock.lock();
        try {
            int size = Header.SIZE + payload.encodedSize();
            if (msgId < 0 || msgId > 0xFFFF || command < 0 || command > 0xFFFF) {
                throw new IllegalArgumentException("message id " + msgId + " or command " + command + " is not a u16");
            }
            if (sendBuffer.capacity() < size) {
                sendBuffer = ByteBuffer.allocateDirect(Math.max(size, sendBuffer.capacity() * 2))
                        .order(Codec.ORDER);
                sendBuffers = new ByteBuffer[] {sendBuffer};
            }
            sendBuffer.clear();
            Header.encodeTo(sendBuffer, msgId, command, size, flags, error);
            payload.encodeTo(sendBuffer);
            sendBuffer.flip();
            socket.send(sendBuffers, fds);
        } catch (IllegalStateException e) {
            if (closed) {
                // A sender on another thread (a model's DMA, say) that lost the race with the connection's end
                throw new ErrnoException("send on a closed vfio-user channel", Errno.EPIPE);
            }
            throw e;
        } finally {
            sendLock.unlock();
        }
    }

    /** Sends an error reply: the header alone with ERROR and the errno. */
    public void sendError(int msgId, int command, int errno) throws ErrnoException {
        send(
                msgId & 0xFFFF,
                command & 0xFFFF,
                Header.TYPE_REPLY | Header.ERROR,
                errno,
                Payload.Empty.INSTANCE,
                new int[0]);
    }

    /** Whether a receive would find a message without reading the socket. */
    public boolean hasBuffered() {
        return end > start;
    }

    /** Whether the socket has bytes (or a hang-up) waiting, within {@code timeoutMillis}. */
    public boolean readable(int timeoutMillis) throws ErrnoException {
        return hasBuffered() || Poller.readable(socket.fd(), timeoutMillis);
    }

    /**
     * Reads the next message; blocks for its first byte as long as the socket's receive timeout
     * allows (EAGAIN when it expires), then at most the partial timeout for the rest. Returns null
     * when the peer closed between messages.
     *
     * @throws FramingException when the stream held no well-formed message; its bytes are dropped
     * @throws PeerClosedException when the peer closed the connection in the middle of a message
     */
    public Incoming receive() throws IOException {
        return receive(true);
    }

    /**
     * Like {@link #receive}, where nothing the peer sends now may carry fds: the socket is read with
     * recv(2), which costs less than recvmsg(2). Fds a peer attaches anyway are closed by the kernel.
     */
    public Incoming receiveWithoutFds() throws IOException {
        return receive(false);
    }

    /**
     * One read that never blocks, of bytes that come without fds (as {@link #receiveWithoutFds} reads
     * them): true when the channel has bytes buffered or the peer closed, so that a receive need not
     * wait for the socket's first byte.
     */
    public boolean pollWithoutFds() throws ErrnoException {
        if (hasBuffered() || endOfStream) {
            return true;
        }
        makeRoom(Header.SIZE);
        int received =
                socket.receiveBytesIfReady(readView.limit(buffer.capacity()).position(end));
        if (received == UnixSocket.NOTHING_WAITING) {
            return false;
        }
        if (received == 0) {
            endOfStream = true;
        } else {
            end += received;
        }
        return true;
    }

    private Incoming receive(boolean fdsMayArrive) throws IOException {
        // Read only once a message is found incomplete: a whole one, the common case, costs no clock read.
        long restDeadline = 0;
        while (true) {
            int available = end - start;
            if (available >= Header.SIZE) {
                Header header;
                try {
                    header = Header.decodeAt(buffer, start);
                } catch (ProtocolException e) {
                    int msgId = Short.toUnsignedInt(buffer.getShort(start));
                    int command = Short.toUnsignedInt(buffer.getShort(start + 2));
                    dropEverything();
                    throw new FramingException(e.getMessage(), e.errno(), msgId, command);
                }
                long size = Integer.toUnsignedLong(header.size());
                if (size > maxMessageSize) {
                    // Refused at once, with EINVAL as libvfio-user, without waiting for a body that may never come
                    dropOversize(size);
                    throw new FramingException(
                            "message of " + size + " bytes exceeds the limit of " + maxMessageSize
                                    + " (max_data_xfer_size + headers)",
                            Errno.EINVAL,
                            header.msgId(),
                            header.command());
                }
                if (available >= size) {
                    return take(header, (int) size);
                }
                makeRoom((int) size);
            } else {
                makeRoom(Header.SIZE);
            }
            if (endOfStream) {
                return endOfStreamMidway(available);
            }
            if (available > 0 && restDeadline == 0) {
                restDeadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(partialTimeoutMillis);
            }
            if (available > 0 && !restArrivesInTime(restDeadline)) {
                int msgId = available >= 2 ? Short.toUnsignedInt(buffer.getShort(start)) : -1;
                int command = available >= 4 ? Short.toUnsignedInt(buffer.getShort(start + 2)) : -1;
                String message = available < Header.SIZE
                        ? "short header: " + available + " of " + Header.SIZE + " bytes"
                        : "incomplete message: " + available + " of "
                                + Integer.toUnsignedString(buffer.getInt(start + 4)) + " bytes";
                dropEverything();
                throw new FramingException(
                        message + " arrived within " + partialTimeoutMillis + " ms", Errno.EINVAL, msgId, command);
            }
            if (!(fdsMayArrive ? readMore(false) : readBytes())) {
                if (available == 0) {
                    return null;
                }
                return endOfStreamMidway(available);
            }
        }
    }

    /**
     * Whether more of a started message arrives before {@code deadline}: the partial timeout bounds the
     * whole rest of a message, so a peer that trickles a byte at a time cannot hold a receive for longer.
     */
    private boolean restArrivesInTime(long deadline) throws ErrnoException {
        long left = deadline - System.nanoTime();
        return left > 0 && Poller.readable(socket.fd(), (int) Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
    }

    private Incoming endOfStreamMidway(int available) throws IOException {
        if (available == 0) {
            return null;
        }
        dropEverything();
        throw new PeerClosedException(
                "the peer closed the connection in the middle of a message, after " + available + " bytes");
    }

    private Incoming take(Header header, int size) {
        long messageEnd = base + start + size;
        long messageStart = base + start;
        List<Fd> fds = List.of();
        int refused = 0;
        while (!batches.isEmpty() && batches.peekFirst().chunkEnd() <= messageEnd) {
            FdBatch batch = batches.pollFirst();
            if (batch.chunkEnd() <= messageStart) {
                batch.fds().forEach(Fd::close);
                continue;
            }
            if (!batch.fds().isEmpty()) {
                if (fds.isEmpty()) {
                    fds = new ArrayList<>(batch.fds().size());
                }
                fds.addAll(batch.fds());
            }
            refused += batch.refused();
        }
        ByteBuffer body = bodyView.limit(start + size).position(start + Header.SIZE);
        Payload payload = null;
        ProtocolException error = null;
        try {
            payload = Codec.decodeOwned(header, body);
        } catch (ProtocolException e) {
            error = e;
        }
        consume(size);
        return new Incoming(header, payload, error, fds, refused);
    }

    private void consume(int bytes) {
        start += bytes;
        if (start == end) {
            base += end;
            start = 0;
            end = 0;
        }
    }

    /** Ensures the buffer can hold {@code needed} bytes from {@code start}. */
    private void makeRoom(int needed) {
        if (buffer.capacity() - start >= needed && end < buffer.capacity()) {
            return;
        }
        if (start > 0) {
            ByteBuffer moving = buffer.duplicate().position(start).limit(end);
            buffer.clear();
            buffer.put(0, moving, start, end - start);
            base += start;
            end -= start;
            start = 0;
        }
        if (buffer.capacity() < needed || end == buffer.capacity()) {
            ByteBuffer grown = ByteBuffer.allocateDirect(
                            Math.max(needed, Math.min(buffer.capacity() * 2, maxMessageSize)))
                    .order(Codec.ORDER);
            grown.put(0, buffer, 0, end);
            buffer = grown;
            readView = buffer.duplicate();
            bodyView = buffer.duplicate().order(Codec.ORDER);
        }
    }

    /** One recvmsg into the free part of the buffer; false at end of stream. */
    private boolean readMore(boolean nonBlocking) throws ErrnoException {
        ByteBuffer free = readView.limit(buffer.capacity()).position(end);
        UnixSocket.Received received = nonBlocking ? socket.receiveIfReady(free, maxFds) : socket.receive(free, maxFds);
        if (received == null) {
            return false;
        }
        if (received.bytes() == 0) {
            endOfStream = true;
            received.closeFds();
            return false;
        }
        end += received.bytes();
        if (!received.fds().isEmpty() || received.refused()) {
            int refused = received.refused() ? Math.max(1, received.refusedFds()) : 0;
            batches.addLast(new FdBatch(base + end, received.fds(), refused));
        }
        return true;
    }

    /** One recv into the free part of the buffer, for bytes that come without fds; false at end of stream. */
    private boolean readBytes() throws ErrnoException {
        int received = socket.receiveBytes(readView.limit(buffer.capacity()).position(end));
        if (received == 0) {
            endOfStream = true;
            return false;
        }
        end += received;
        return true;
    }

    /**
     * Drops up to {@code size} bytes of an oversize message: what is buffered and what the socket
     * holds now, without waiting. A body sent in the same write goes; a sender that sent the header
     * alone and then waits for the error reply has its next request read as it should be. Bytes of the
     * body that arrive later are read as messages of their own (libvfio-user reads all of it so).
     */
    private void dropOversize(long size) throws ErrnoException {
        long left = size;
        while (true) {
            int dropped = (int) Math.min(left, end - start);
            consume(dropped);
            left -= dropped;
            closeBatchesUpTo(base + start);
            if (left == 0 || endOfStream) {
                return;
            }
            makeRoom(Math.min(buffer.capacity(), INITIAL_BUFFER));
            if (!readMore(true)) {
                return;
            }
        }
    }

    /** Drops what is buffered and whatever is waiting on the socket now: the rest of a bad message. */
    private void dropEverything() throws ErrnoException {
        consume(end - start);
        closeBatchesUpTo(Long.MAX_VALUE);
        while (!endOfStream) {
            makeRoom(1);
            if (!readMore(true)) {
                break;
            }
            consume(end - start);
            closeBatchesUpTo(Long.MAX_VALUE);
        }
    }

    private void closeBatchesUpTo(long streamOffset) {
        while (!batches.isEmpty() && batches.peekFirst().chunkEnd() <= streamOffset) {
            batches.pollFirst().fds().forEach(Fd::close);
        }
    }

    /** Shuts the socket down, waking a receiver; the channel's fds are closed by {@link #close}. */
    public void shutdown() {
        socket.shutdown();
    }

    @Override
    public void close() {
        closed = true;
        socket.close();
        closeBatchesUpTo(Long.MAX_VALUE);
    }
}
