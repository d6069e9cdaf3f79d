package io.jvfio.vfiouser.conformance;

import io.jvfio.sys.ErrnoException;
import io.jvfio.sys.Fd;
import io.jvfio.sys.UnixSocket;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * One end of a real vfio-user socket that a test drives frame by frame: it writes the bytes a test
 * gives (built by hand with {@link Bytes}, not by jvfio's codec) and reads whole frames back, with
 * their fds. Nothing of jvfio's protocol code runs on this end.
 */
final class Wire implements AutoCloseable {
    static final int HEADER = 16;
    static final int TYPE_REPLY = 1;
    static final int NO_REPLY = 1 << 4;
    static final int ERROR = 1 << 5;

    private final UnixSocket socket;
    private final ByteBuffer header = ByteBuffer.allocateDirect(HEADER).order(ByteOrder.nativeOrder());

    Wire(UnixSocket socket, Duration receiveTimeout) throws ErrnoException {
        this.socket = socket;
        socket.setReceiveTimeout(receiveTimeout);
    }

    /** A frame as it came: the header's fields, the body after it, and the fds that came with it. */
    record Frame(int msgId, int command, long size, int flags, int error, ByteBuffer body, List<Fd> fds) {
        boolean isReply() {
            return (flags & 0xF) == TYPE_REPLY;
        }

        boolean isError() {
            return (flags & ERROR) != 0;
        }

        void closeFds() {
            fds.forEach(Fd::close);
        }

        @Override
        public String toString() {
            return (isReply() ? "reply" : "command") + " " + command + " #" + msgId + " (" + size + " bytes"
                    + (isError() ? ", error " + error : "") + ", " + fds.size() + " fds)";
        }
    }

    /** Writes {@code bytes} with {@code fds} in one sendmsg. */
    void send(byte[] bytes, int... fds) throws ErrnoException {
        ByteBuffer buffer = ByteBuffer.allocateDirect(bytes.length);
        buffer.put(bytes).flip();
        socket.send(new ByteBuffer[] {buffer}, fds);
    }

    /** Writes a whole frame: the header, then {@code body}. */
    void send(int msgId, int command, int flags, byte[] body, int... fds) throws ErrnoException {
        send(frame(msgId, command, flags, 0, body), fds);
    }

    /** The bytes of a frame: header (msg_id, command, size, flags, error) then the body. */
    static byte[] frame(int msgId, int command, int flags, int error, byte[] body) {
        return new Bytes()
                .u16(msgId)
                .u16(command)
                .u32(HEADER + body.length)
                .u32(flags)
                .u32(error)
                .raw(body)
                .array();
    }

    /** The next frame, or null when the peer closed between frames; the receive timeout fails the test. */
    Frame receive() throws ErrnoException {
        List<Fd> fds = new ArrayList<>();
        header.clear();
        while (header.hasRemaining()) {
            UnixSocket.Received received = socket.receive(header, 16);
            fds.addAll(received.fds());
            if (received.bytes() == 0) {
                if (header.position() == 0 && fds.isEmpty()) {
                    return null;
                }
                fds.forEach(Fd::close);
                throw new IllegalStateException("the peer closed in the middle of a header");
            }
        }
        int msgId = Short.toUnsignedInt(header.getShort(0));
        int command = Short.toUnsignedInt(header.getShort(2));
        long size = Integer.toUnsignedLong(header.getInt(4));
        int flags = header.getInt(8);
        int error = header.getInt(12);
        ByteBuffer body =
                ByteBuffer.allocateDirect((int) Math.max(0, size - HEADER)).order(ByteOrder.nativeOrder());
        if (body.capacity() > 0 && !socket.receiveFully(body)) {
            fds.forEach(Fd::close);
            throw new IllegalStateException("the peer closed before the body of " + size + " bytes");
        }
        body.flip();
        return new Frame(msgId, command, size, flags, error, body, List.copyOf(fds));
    }

    /** Whether the peer closed: the next read finds the end of the stream. */
    boolean peerClosed() throws ErrnoException {
        Frame frame = receive();
        if (frame != null) {
            frame.closeFds();
            return false;
        }
        return true;
    }

    UnixSocket socket() {
        return socket;
    }

    @Override
    public void close() {
        socket.close();
    }

    /** A little builder of host-order bytes, for message bodies written by hand. */
    static final class Bytes {
        private ByteBuffer out = ByteBuffer.allocate(256).order(ByteOrder.nativeOrder());

        private Bytes room(int bytes) {
            if (out.remaining() < bytes) {
                ByteBuffer grown = ByteBuffer.allocate(Math.max(out.capacity() * 2, out.position() + bytes))
                        .order(ByteOrder.nativeOrder());
                out.flip();
                grown.put(out);
                out = grown;
            }
            return this;
        }

        Bytes u16(int value) {
            room(2).out.putShort((short) value);
            return this;
        }

        Bytes u32(long value) {
            room(4).out.putInt((int) value);
            return this;
        }

        Bytes u64(long value) {
            room(8).out.putLong(value);
            return this;
        }

        Bytes raw(byte[] bytes) {
            room(bytes.length).out.put(bytes);
            return this;
        }

        byte[] array() {
            byte[] bytes = new byte[out.position()];
            out.duplicate().flip().get(bytes);
            return bytes;
        }
    }
}
