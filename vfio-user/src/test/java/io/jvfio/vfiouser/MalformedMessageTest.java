package io.jvfio.vfiouser;

import static io.jvfio.vfiouser.testing.ModelBuilder.model;
import static org.assertj.core.api.Assertions.assertThat;

import io.jvfio.sys.Errno;
import io.jvfio.sys.EventFd;
import io.jvfio.sys.UnixSocket;
import io.jvfio.sys.testing.Resources;
import io.jvfio.vfio.IrqSet;
import io.jvfio.vfiouser.server.DeviceModel;
import io.jvfio.vfiouser.server.ModelIrqSpec;
import io.jvfio.vfiouser.server.RegionSpec;
import io.jvfio.vfiouser.server.VfioUserServer;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Feeds the server malformed messages over a raw socket: each gets an error reply, then a valid request works. */
class MalformedMessageTest {
    private static final int MAX_XFER = 64 * 1024;

    @TempDir
    Path dir;

    private VfioUserServer server;
    private UnixSocket socket;
    private Channel channel;
    private int fdsBefore;
    private int nextId = 100;

    @BeforeEach
    void start() throws Exception {
        fdsBefore = Resources.openFds();
        DeviceModel model = model().regions(RegionSpec.shared(0, 0x100))
                .irqs(ModelIrqSpec.edge(0, 4))
                .build();
        VfioUserServer.Options options = new VfioUserServer.Options(
                16, MAX_XFER, 16, Duration.ofMillis(100), Duration.ofSeconds(1), Duration.ofSeconds(1));
        Path path = dir.resolve("dev.sock");
        server = VfioUserServer.start(path, model, options);
        socket = UnixSocket.connect(path);
        socket.setReceiveTimeout(Duration.ofSeconds(3));
        channel = new Channel(socket, 1 << 20, 16, 3000);
    }

    @AfterEach
    void stop() throws Exception {
        channel.close();
        server.close();
        assertThat(Resources.openFds()).as("fds back to where they were").isLessThanOrEqualTo(fdsBefore);
    }

    private void negotiate() throws Exception {
        send(Codec.encode(nextId++, Command.VERSION, 0, 0, new Payload.Version(0, 2, Capabilities.defaults())));
        assertThat(channel.receive().payload()).isInstanceOf(Payload.Version.class);
    }

    private void send(byte[] bytes, int... fds) throws Exception {
        ByteBuffer buffer = ByteBuffer.allocateDirect(bytes.length);
        buffer.put(bytes).flip();
        socket.send(new ByteBuffer[] {buffer}, fds);
    }

    private void expectError(int errno) throws Exception {
        Channel.Incoming reply = channel.receive();
        assertThat(reply).isNotNull();
        assertThat(reply.header().isReply()).isTrue();
        assertThat(reply.header().isError()).as("error reply").isTrue();
        assertThat(reply.header().size()).isEqualTo(Header.SIZE);
        assertThat(reply.header().error())
                .as(Errno.name(reply.header().error()))
                .isEqualTo(errno);
    }

    /** A valid request after the bad one succeeds: the server kept serving. */
    private void expectStillServing() throws Exception {
        int id = nextId++;
        send(Codec.encode(id, Command.REGION_READ, 0, 0, Payload.RegionAccess.of(0, 0, 4)));
        Channel.Incoming reply = channel.receive();
        assertThat(reply.header().isError()).isFalse();
        assertThat(reply.header().msgId()).isEqualTo(id);
        assertThat(reply.payload()).isEqualTo(Payload.RegionAccess.withData(0, 0, Bytes.copyOf(new byte[4])));
    }

    /** The first message must be a VERSION: anything else is refused and the connection closed (libvfio-user does so). */
    @Test
    void requestBeforeVersionIsRefusedAndTheConnectionClosed() throws Exception {
        send(Codec.encode(1, Command.DEVICE_GET_INFO, 0, 0, new Payload.DeviceGetInfo(16, 0, 0, 0)));
        expectError(Errno.EINVAL);
        assertThat(channel.receive()).as("the server closed the connection").isNull();
    }

    /** A VERSION after the negotiated one is refused; the connection goes on. */
    @Test
    void secondVersionGetsEinvalAndTheConnectionGoesOn() throws Exception {
        negotiate();
        send(Codec.encode(2, Command.VERSION, 0, 0, new Payload.Version(0, 2, Capabilities.defaults())));
        expectError(Errno.EINVAL);
        send(Arrays2.truncated(
                Codec.encode(3, Command.VERSION, 0, 0, new Payload.Version(0, 2, Capabilities.defaults())), 20));
        expectError(Errno.EINVAL);
        expectStillServing();
    }

    @Test
    void shortHeaderGetsAnErrorReply() throws Exception {
        negotiate();
        send(new byte[] {5, 0, 9, 0, 32, 0, 0, 0});
        expectError(Errno.EINVAL);
        expectStillServing();
    }

    @Test
    void sizeLargerThanTheBytesSentGetsAnErrorReply() throws Exception {
        negotiate();
        byte[] bytes = Codec.encode(5, Command.REGION_READ, 0, 0, Payload.RegionAccess.of(0, 0, 4));
        ByteBuffer.wrap(bytes).order(Codec.ORDER).putInt(4, 40);
        send(bytes);
        expectError(Errno.EINVAL);
        expectStillServing();
    }

    @Test
    void sizeSmallerThanTheHeaderGetsAnErrorReply() throws Exception {
        negotiate();
        byte[] bytes = Codec.encode(5, Command.REGION_READ, 0, 0, Payload.RegionAccess.of(0, 0, 4));
        ByteBuffer.wrap(bytes).order(Codec.ORDER).putInt(4, 8);
        send(bytes);
        expectError(Errno.EINVAL);
        expectStillServing();
    }

    @Test
    void unknownCommandGetsEinval() throws Exception {
        negotiate();
        send(Codec.encode(5, 0x4242, 0, 0, Payload.Empty.INSTANCE));
        expectError(Errno.EINVAL);
        send(Codec.encode(
                6, Command.REGION_WRITE_MULTI, 0, 0, new Payload.DeviceFeature(0, 0, Bytes.copyOf(new byte[8]))));
        expectError(Errno.EINVAL);
        expectStillServing();
    }

    @Test
    void badRegionIndexGetsEinval() throws Exception {
        negotiate();
        send(Codec.encode(5, Command.REGION_READ, 0, 0, Payload.RegionAccess.of(0, 9, 4)));
        expectError(Errno.EINVAL);
        send(Codec.encode(6, Command.DEVICE_GET_REGION_INFO, 0, 0, Payload.DeviceGetRegionInfo.request(64, -1)));
        expectError(Errno.EINVAL);
        expectStillServing();
    }

    @Test
    void accessPastTheEndGetsEinval() throws Exception {
        negotiate();
        send(Codec.encode(5, Command.REGION_READ, 0, 0, Payload.RegionAccess.of(0xFC, 0, 8)));
        expectError(Errno.EINVAL);
        send(Codec.encode(
                6, Command.REGION_WRITE, 0, 0, Payload.RegionAccess.withData(-8, 0, Bytes.copyOf(new byte[8]))));
        expectError(Errno.EINVAL);
        send(Codec.encode(7, Command.REGION_READ, 0, 0, Payload.RegionAccess.of(0x101, 0, 0)));
        expectError(Errno.EINVAL);
        expectStillServing();
    }

    @Test
    void tooManyFdsAreClosedAndRefused() throws Exception {
        negotiate();
        List<EventFd> eventFds = new ArrayList<>();
        for (int i = 0; i < 17; i++) {
            eventFds.add(EventFd.create());
        }
        try {
            int[] raw = eventFds.stream().mapToInt(e -> e.fd().get()).toArray();
            send(Codec.encode(5, Command.REGION_READ, 0, 0, Payload.RegionAccess.of(0, 0, 4)), raw);
            expectError(Errno.EINVAL);
            send(Codec.encode(6, Command.REGION_READ, 0, 0, Payload.RegionAccess.of(0, 0, 4)), raw[0]);
            expectError(Errno.EINVAL);
            send(
                    Codec.encode(
                            7,
                            Command.DEVICE_SET_IRQS,
                            0,
                            0,
                            Payload.DeviceSetIrqs.of(IrqSet.DATA_EVENTFD | (1 << 5), 0, 0, 2, Bytes.EMPTY)),
                    raw[0],
                    raw[1],
                    raw[2]);
            expectError(Errno.EINVAL);
        } finally {
            eventFds.forEach(EventFd::close);
        }
        expectStillServing();
    }

    @Test
    void tooFewFdsAreRefused() throws Exception {
        negotiate();
        try (EventFd one = EventFd.create();
                EventFd two = EventFd.create()) {
            send(
                    Codec.encode(
                            5,
                            Command.DEVICE_SET_IRQS,
                            0,
                            0,
                            Payload.DeviceSetIrqs.of(IrqSet.DATA_EVENTFD | (1 << 5), 0, 0, 3, Bytes.EMPTY)),
                    one.fd().get(),
                    two.fd().get());
            expectError(Errno.EINVAL);
        }
        send(Codec.encode(
                6,
                Command.DEVICE_SET_IRQS,
                0,
                0,
                Payload.DeviceSetIrqs.of(IrqSet.DATA_EVENTFD | (1 << 5), 0, 3, 2, Bytes.EMPTY)));
        expectError(Errno.EINVAL);
        expectStillServing();
    }

    @Test
    void oversizePayloadGetsEinval() throws Exception {
        negotiate();
        send(Codec.encode(
                5,
                Command.REGION_WRITE,
                0,
                0,
                Payload.RegionAccess.withData(0, 0, Bytes.copyOf(new byte[MAX_XFER + 4096]))));
        expectError(Errno.EINVAL);
        expectStillServing();
    }

    @Test
    void dmaMapOfUnalignedOrWrappingRangesIsRefused() throws Exception {
        negotiate();
        send(Codec.encode(5, Command.DMA_MAP, 0, 0, new Payload.DmaMap(32, 3, 0, 0x1001, 0x1000)));
        expectError(Errno.EINVAL);
        send(Codec.encode(6, Command.DMA_MAP, 0, 0, new Payload.DmaMap(32, 3, 0, -4096, 0x2000)));
        expectError(Errno.EINVAL);
        send(Codec.encode(7, Command.DMA_UNMAP, 0, 0, new Payload.DmaUnmap(24, 0, 0x1000, 0x1000)));
        expectError(Errno.ENOENT);
        expectStillServing();
    }

    /** Tiny helper kept here: a prefix of a byte array. */
    private static final class Arrays2 {
        static byte[] truncated(byte[] bytes, int length) {
            return Arrays.copyOf(bytes, length);
        }
    }
}
