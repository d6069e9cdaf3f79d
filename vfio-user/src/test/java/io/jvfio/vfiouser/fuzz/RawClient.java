package io.jvfio.vfiouser.fuzz;

import io.jvfio.sys.ErrnoException;
import io.jvfio.sys.UnixSocket;
import io.jvfio.vfiouser.Bytes;
import io.jvfio.vfiouser.Capabilities;
import io.jvfio.vfiouser.Channel;
import io.jvfio.vfiouser.Codec;
import io.jvfio.vfiouser.Command;
import io.jvfio.vfiouser.Header;
import io.jvfio.vfiouser.Payload;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;

/**
 * A client that writes whatever bytes and fds a test gives it and reads the server's replies as
 * messages: for tests of how a server takes bad or broken clients.
 */
public final class RawClient implements AutoCloseable {
    private final UnixSocket socket;
    private final Channel channel;
    private int nextId = 1;

    private RawClient(UnixSocket socket) throws ErrnoException {
        this.socket = socket;
        socket.setReceiveTimeout(Duration.ofSeconds(5));
        this.channel = new Channel(socket, 1 << 21, 16, 3000);
    }

    /** Connects without saying anything yet. */
    public static RawClient connect(Path path) throws ErrnoException {
        return new RawClient(UnixSocket.connect(path));
    }

    /** Connects and negotiates version 0.2 with default capabilities. */
    public static RawClient negotiated(Path path) throws IOException {
        RawClient client = connect(path);
        try {
            Channel.Incoming reply =
                    client.request(Command.VERSION, new Payload.Version(0, 2, Capabilities.defaults()));
            if (!(reply.payload() instanceof Payload.Version)) {
                throw new IOException("VERSION was answered with " + reply.header());
            }
            return client;
        } catch (IOException | RuntimeException e) {
            client.close();
            throw e;
        }
    }

    public UnixSocket socket() {
        return socket;
    }

    /** Writes raw bytes with these fds in one sendmsg. */
    public void send(byte[] bytes, int... fds) throws ErrnoException {
        ByteBuffer buffer = ByteBuffer.allocateDirect(Math.max(1, bytes.length));
        buffer.put(bytes).flip();
        socket.send(new ByteBuffer[] {buffer}, fds);
    }

    /** Sends a request with fds and returns the reply to it (null if the server closed). */
    public Channel.Incoming request(int command, Payload payload, int... fds) throws IOException {
        int id = nextId++;
        send(Codec.encode(id, command, Header.TYPE_COMMAND, 0, payload), fds);
        return receive();
    }

    /** The next message from the server (null if it closed); its fds are closed. */
    public Channel.Incoming receive() throws IOException {
        Channel.Incoming incoming = channel.receive();
        if (incoming != null) {
            incoming.closeFds();
        }
        return incoming;
    }

    /** Whether a message from the server is waiting, or comes within {@code millis}. */
    public boolean readable(int millis) throws ErrnoException {
        return channel.readable(millis);
    }

    /** Whether the server still serves: a register write and read back round trip. */
    public boolean serves() throws IOException {
        long value = 0x1234_0000L + nextId;
        Channel.Incoming written = request(
                Command.REGION_WRITE,
                Payload.RegionAccess.withData(FuzzDevice.SCRATCH, 0, Bytes.littleEndian(value, 8)));
        if (written == null || written.header().isError()) {
            return false;
        }
        Channel.Incoming read = request(Command.REGION_READ, Payload.RegionAccess.of(FuzzDevice.SCRATCH, 0, 8));
        return read != null
                && !read.header().isError()
                && read.payload()
                        .equals(Payload.RegionAccess.withData(FuzzDevice.SCRATCH, 0, Bytes.littleEndian(value, 8)));
    }

    @Override
    public void close() {
        channel.close();
    }
}
