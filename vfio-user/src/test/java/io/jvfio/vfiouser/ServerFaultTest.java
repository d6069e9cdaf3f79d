package io.jvfio.vfiouser;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jvfio.sys.Errno;
import io.jvfio.sys.ErrnoException;
import io.jvfio.sys.EventFd;
import io.jvfio.sys.Fd;
import io.jvfio.sys.MemFd;
import io.jvfio.sys.UnixSocket;
import io.jvfio.sys.testing.Resources;
import io.jvfio.vfio.DeviceGoneException;
import io.jvfio.vfio.IrqSet;
import io.jvfio.vfiouser.client.ReplyTimeoutException;
import io.jvfio.vfiouser.client.VfioUserDevice;
import io.jvfio.vfiouser.fuzz.FuzzDevice;
import io.jvfio.vfiouser.fuzz.RawClient;
import io.jvfio.vfiouser.server.DmaException;
import io.jvfio.vfiouser.server.VfioUserServer;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Broken peers on both sides of a connection: clients that vanish mid-message or say nothing, servers
 * that never answer, and the DMA map rules a server enforces against a client and its device. What
 * MalformedMessageTest and ClientServerTest already show (bad headers, overlapping maps, unaligned or
 * wrapping maps, unmapping nothing, a silent server on a socketpair) is not repeated here.
 *
 * <p>What the server does with a client that connects and stays silent: nothing. It has no idle
 * timeout; the client holds the server's one client slot until it closes, and meanwhile other
 * clients are refused with EBUSY after a short grace (VfioUserServer.HANDOVER, for a connection that is
 * just ending) and once they send VERSION, within the refusal timeout. A
 * client that stops in the middle of a message gets an error reply after the partial-message timeout
 * (500 ms by default) and stays connected.
 */
class ServerFaultTest {
    private static final Duration PARTIAL = Duration.ofMillis(200);
    private static final int IRQ_TRIGGER = 1 << 5;

    @TempDir
    Path dir;

    private VfioUserServer server;
    private Path path;

    private void startServer(Duration dmaTimeout) throws IOException {
        path = dir.resolve("dev.sock");
        server = VfioUserServer.start(
                path,
                new FuzzDevice(),
                new VfioUserServer.Options(16, 1 << 20, 16, PARTIAL, dmaTimeout, Duration.ofSeconds(1)));
    }

    @AfterEach
    void stop() {
        if (server != null) {
            server.close();
        }
    }

    private void awaitServerIdle() throws InterruptedException {
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (server.clientConnected() && System.nanoTime() < deadline) {
            Thread.sleep(1);
        }
        assertThat(server.clientConnected())
                .as("the server noticed the client leave")
                .isFalse();
    }

    private static long mappingsOf(String name) throws IOException {
        try (var lines = Files.lines(Path.of("/proc/self/maps"))) {
            return lines.filter(line -> line.contains(name)).count();
        }
    }

    private static void assertError(Channel.Incoming reply, int errno) {
        assertThat(reply).isNotNull();
        assertThat(reply.header().isError())
                .as("error reply to " + reply.header())
                .isTrue();
        assertThat(reply.header().error())
                .as(Errno.name(reply.header().error()))
                .isEqualTo(errno);
    }

    private static void assertOk(Channel.Incoming reply) {
        assertThat(reply).isNotNull();
        assertThat(reply.header().isError()).as(reply.header().toString()).isFalse();
    }

    @Test
    void clientVanishingMidMessageLeavesNoFdsOrMappingsAndTheNextClientIsServed() throws Exception {
        startServer(Duration.ofSeconds(1));
        int fdsBefore = Resources.openFds();
        try (RawClient client = RawClient.negotiated(path);
                Fd memory = MemFd.create("fault-test-dma", 0x4000);
                EventFd trigger = EventFd.create(true)) {
            assertOk(client.request(Command.DMA_MAP, new Payload.DmaMap(32, 3, 0, 0x100000, 0x4000), memory.get()));
            assertOk(client.request(
                    Command.DEVICE_SET_IRQS,
                    Payload.DeviceSetIrqs.of(IrqSet.DATA_EVENTFD | IRQ_TRIGGER, 0, 0, 1, Bytes.EMPTY),
                    trigger.fd().get()));
            assertThat(mappingsOf("fault-test-dma"))
                    .as("the server mapped the client's memory")
                    .isEqualTo(1);
            ByteBuffer half = ByteBuffer.allocate(Header.SIZE + 2048).order(Codec.ORDER);
            Header.command(9, Command.REGION_WRITE, Header.SIZE + 4096).encodeTo(half);
            client.send(half.array());
        }
        awaitServerIdle();
        assertThat(mappingsOf("fault-test-dma"))
                .as("the DMA mapping is gone with the client")
                .isZero();
        assertThat(Resources.openFds())
                .as("the client's eventfd, memfd and socket are closed")
                .isLessThanOrEqualTo(fdsBefore);
        try (RawClient next = RawClient.negotiated(path)) {
            assertThat(next.serves()).isTrue();
        }
    }

    @Test
    void aClientConnectingTheMomentThePreviousVanishedMidMessageIsServed() throws Exception {
        startServer(Duration.ofSeconds(1));
        for (int round = 0; round < 20; round++) {
            try (RawClient client = RawClient.negotiated(path)) {
                ByteBuffer half = ByteBuffer.allocate(Header.SIZE / 2).order(Codec.ORDER);
                client.send(half.array());
            }
            try (RawClient next = RawClient.negotiated(path)) {
                assertThat(next.serves()).as("round %d", round).isTrue();
            }
        }
    }

    @Test
    void silentClientHoldsTheSlotOthersAreRefusedAtOnceAndTheNextIsServedAfterItCloses() throws Exception {
        startServer(Duration.ofSeconds(1));
        try (RawClient silent = RawClient.connect(path)) {
            long start = System.nanoTime();
            try (RawClient other = RawClient.connect(path)) {
                assertError(
                        other.request(Command.VERSION, new Payload.Version(0, 2, Capabilities.defaults())),
                        Errno.EBUSY);
            }
            assertThat(System.nanoTime() - start)
                    .as("refused without waiting for the silent one")
                    .isLessThan(2_000_000_000L);
            Thread.sleep(3 * PARTIAL.toMillis());
            assertThat(server.clientConnected())
                    .as("no idle timeout: the silent client is still connected")
                    .isTrue();
            assertThat(silent.socket().fd().isOpen()).isTrue();
        }
        awaitServerIdle();
        try (RawClient next = RawClient.negotiated(path)) {
            assertThat(next.serves()).isTrue();
        }
    }

    @Test
    void clientStoppingMidHeaderGetsAnErrorAfterThePartialTimeoutAndStaysConnected() throws Exception {
        startServer(Duration.ofSeconds(1));
        try (RawClient client = RawClient.negotiated(path)) {
            long start = System.nanoTime();
            client.send(new byte[] {7, 0, 9, 0, 32, 0, 0, 0});
            assertError(client.receive(), Errno.EINVAL);
            long waited = (System.nanoTime() - start) / 1_000_000L;
            assertThat(waited)
                    .as("answered after the partial timeout")
                    .isBetween(PARTIAL.toMillis() - 20, PARTIAL.toMillis() + 2000);
            assertThat(client.serves()).isTrue();
        }
        awaitServerIdle();
        try (RawClient next = RawClient.negotiated(path)) {
            assertThat(next.serves()).isTrue();
        }
    }

    @Test
    void clientThatNeverAnswersTheDevicesDmaGetsItFailedWithinTheDmaTimeoutAndIsStillServed() throws Exception {
        Duration dmaTimeout = Duration.ofMillis(300);
        startServer(dmaTimeout);
        try (RawClient client = RawClient.negotiated(path)) {
            assertOk(client.request(Command.DMA_MAP, new Payload.DmaMap(32, 3, 0, 0x200000, 0x1000)));
            assertOk(client.request(
                    Command.REGION_WRITE,
                    Payload.RegionAccess.withData(FuzzDevice.DMA_ADDRESS, 0, Bytes.littleEndian(0x200000, 8))));
            assertOk(client.request(
                    Command.REGION_WRITE,
                    Payload.RegionAccess.withData(FuzzDevice.DMA_LENGTH, 0, Bytes.littleEndian(16, 8))));
            long start = System.nanoTime();
            client.send(Codec.encode(
                    50,
                    Command.REGION_WRITE,
                    0,
                    0,
                    Payload.RegionAccess.withData(FuzzDevice.DMA_GO, 0, Bytes.littleEndian(1, 8))));
            Channel.Incoming dmaRead = client.receive();
            assertThat(dmaRead.header().command())
                    .as("the device asks the client for its memory")
                    .isEqualTo(Command.DMA_READ);
            assertThat(dmaRead.header().isReply()).isFalse();
            Channel.Incoming reply = client.receive();
            long waited = (System.nanoTime() - start) / 1_000_000L;
            assertThat(reply.header().msgId()).isEqualTo(50);
            assertError(reply, Errno.EIO);
            assertThat(waited)
                    .as("the device's DMA gave up after the DMA timeout")
                    .isBetween(dmaTimeout.toMillis() - 20, dmaTimeout.toMillis() + 3000);
            assertThat(client.serves()).isTrue();
        }
    }

    /**
     * A client whose trigger eventfd is at its maximum count (it never reads it): a write would block the
     * connection's thread, and with it the client's next request, its leaving and every later client. The
     * signal is dropped instead, and the pulse answered.
     */
    @Test
    void aFullTriggerEventfdDropsTheSignalInsteadOfBlockingTheConnection() throws Exception {
        startServer(Duration.ofSeconds(1));
        try (EventFd trigger = EventFd.create()) {
            trigger.add(0xFFFF_FFFF_FFFF_FFFEL);
            try (RawClient client = RawClient.negotiated(path)) {
                assertOk(client.request(
                        Command.DEVICE_SET_IRQS,
                        Payload.DeviceSetIrqs.of(IrqSet.DATA_EVENTFD | IRQ_TRIGGER, 0, 0, 1, Bytes.EMPTY),
                        trigger.fd().get()));
                assertOk(client.request(
                        Command.REGION_WRITE,
                        Payload.RegionAccess.withData(FuzzDevice.PULSE, 0, Bytes.littleEndian(0, 8))));
            }
            assertThat(trigger.read()).as("nothing added to the full counter").isEqualTo(0xFFFF_FFFF_FFFF_FFFEL);
        }
        awaitServerIdle();
        try (RawClient next = RawClient.negotiated(path)) {
            assertOk(next.request(Command.REGION_READ, Payload.RegionAccess.of(0, 0, 4)));
        }
    }

    @Test
    void aTriggerFdThatIsNoEventfdIsRefusedWithEinval() throws Exception {
        startServer(Duration.ofSeconds(1));
        UnixSocket[] pipeLike = UnixSocket.pair();
        try (RawClient client = RawClient.negotiated(path)) {
            assertError(
                    client.request(
                            Command.DEVICE_SET_IRQS,
                            Payload.DeviceSetIrqs.of(IrqSet.DATA_EVENTFD | IRQ_TRIGGER, 0, 0, 1, Bytes.EMPTY),
                            pipeLike[0].fd().get()),
                    Errno.EINVAL);
        } finally {
            pipeLike[0].close();
            pipeLike[1].close();
        }
    }

    @Test
    void serverThatNeverAnswersVersionMakesConnectFailWithinTheReplyTimeout() throws Exception {
        Path silentPath = dir.resolve("silent.sock");
        int fdsBefore = Resources.openFds();
        Set<Thread> threadsBefore = Resources.liveThreads();
        try (SilentServer silent = SilentServer.listen(silentPath, Silence.TOTAL)) {
            long start = System.nanoTime();
            assertThatThrownBy(() -> VfioUserDevice.connect(
                            silentPath, VfioUserDevice.Options.defaults().withReplyTimeout(Duration.ofMillis(300))))
                    .isInstanceOf(ReplyTimeoutException.class)
                    .hasMessageContaining("no reply to VERSION")
                    .hasMessageContaining("300 ms");
            assertThat((System.nanoTime() - start) / 1_000_000L).isBetween(280L, 3000L);
            assertThat(silent.messagesRead())
                    .as("the server did read the VERSION")
                    .isEqualTo(1);
        }
        assertThat(Resources.openFds()).isLessThanOrEqualTo(fdsBefore);
        awaitThreads(threadsBefore);
    }

    @Test
    void serverThatStopsAnsweringMakesARegionReadTimeOutAndLaterCallsFailFast() throws Exception {
        Path silentPath = dir.resolve("silent.sock");
        int fdsBefore = Resources.openFds();
        Set<Thread> threadsBefore = Resources.liveThreads();
        try (SilentServer _ = SilentServer.listen(silentPath, Silence.AFTER_VERSION);
                VfioUserDevice device = VfioUserDevice.connect(
                        silentPath, VfioUserDevice.Options.defaults().withReplyTimeout(Duration.ofMillis(300)))) {
            assertReadTimesOutWithin300Ms(device);
            long later = System.nanoTime();
            assertThatThrownBy(() -> device.write(0, 0, 4, 1))
                    .isInstanceOf(DeviceGoneException.class)
                    .hasMessageContaining("no reply to REGION_READ");
            assertThatThrownBy(() -> device.read(0, 0, 4)).isInstanceOf(DeviceGoneException.class);
            assertThat((System.nanoTime() - later) / 1_000_000L)
                    .as("later calls fail fast")
                    .isLessThan(100L);
        }
        assertThat(Resources.openFds()).isLessThanOrEqualTo(fdsBefore);
        awaitThreads(threadsBefore);
    }

    @Test
    void serverThatSendsDmaRequestsInsteadOfTheReplyMakesARegionReadTimeOut() throws Exception {
        Path chattyPath = dir.resolve("chatty.sock");
        int fdsBefore = Resources.openFds();
        Set<Thread> threadsBefore = Resources.liveThreads();
        try (SilentServer chatty = SilentServer.listen(chattyPath, Silence.DMA_REQUESTS_INSTEAD_OF_REPLIES);
                VfioUserDevice device = VfioUserDevice.connect(
                        chattyPath, VfioUserDevice.Options.defaults().withReplyTimeout(Duration.ofMillis(300)))) {
            assertReadTimesOutWithin300Ms(device);
            assertThat(chatty.messagesRead())
                    .as("VERSION, the read, and answers to the server's DMA requests")
                    .isGreaterThan(5);
        }
        assertThat(Resources.openFds()).isLessThanOrEqualTo(fdsBefore);
        awaitThreads(threadsBefore);
    }

    /** A read on a device connected with a 300 ms reply timeout: it times out, after that long and not much more. */
    private static void assertReadTimesOutWithin300Ms(VfioUserDevice device) {
        long start = System.nanoTime();
        assertThatThrownBy(() -> device.read(0, 0, 4))
                .isInstanceOf(ReplyTimeoutException.class)
                .hasMessageContaining("no reply to REGION_READ")
                .hasMessageContaining("300 ms");
        long waited = (System.nanoTime() - start) / 1_000_000L;
        assertThat(waited).as("the read waited its reply timeout, no more").isBetween(280L, 3000L);
    }

    private static void awaitThreads(Set<Thread> before) throws InterruptedException {
        assertThat(Resources.threadsStillAliveAfter(before, Duration.ofSeconds(5)))
                .as("the client's and the fake server's threads ended")
                .isEmpty();
    }

    @Test
    void dmaMapsOfBadSizesOffsetsFlagsAndBeyondMaxDmaMapsAreRefused() throws Exception {
        startServer(Duration.ofSeconds(1));
        try (RawClient client = RawClient.negotiated(path);
                Fd memory = MemFd.create("guest", 0x10000)) {
            assertError(
                    client.request(Command.DMA_MAP, new Payload.DmaMap(32, 3, 0, 0x100000, 0x1800), memory.get()),
                    Errno.EINVAL);
            assertError(
                    client.request(Command.DMA_MAP, new Payload.DmaMap(32, 3, 0x800, 0x100000, 0x1000), memory.get()),
                    Errno.EINVAL);
            assertError(
                    client.request(Command.DMA_MAP, new Payload.DmaMap(32, 3, 0, 0x100000, 0), memory.get()),
                    Errno.EINVAL);
            assertError(
                    client.request(Command.DMA_MAP, new Payload.DmaMap(32, 4, 0, 0x100000, 0x1000), memory.get()),
                    Errno.EINVAL);
            assertError(
                    client.request(Command.DMA_MAP, new Payload.DmaMap(32, 3, 0x1000, 0x100000, 0x1000)), Errno.EINVAL);
            assertError(
                    client.request(Command.DMA_MAP, new Payload.DmaMap(16, 3, 0, 0x100000, 0x1000), memory.get()),
                    Errno.EINVAL);
            assertError(
                    client.request(
                            Command.DMA_MAP,
                            new Payload.DmaMap(32, 3, 0, 0x100000, 0x1000),
                            memory.get(),
                            memory.get()),
                    Errno.EINVAL);
            for (int i = 0; i < 16; i++) {
                assertOk(client.request(
                        Command.DMA_MAP, new Payload.DmaMap(32, 3, 0, 0x100000 + i * 0x1000L, 0x1000), memory.get()));
            }
            assertError(
                    client.request(Command.DMA_MAP, new Payload.DmaMap(32, 3, 0, 0x200000, 0x1000), memory.get()),
                    Errno.ENOSPC);
            assertThat(client.serves()).isTrue();
        }
    }

    @Test
    void dmaMapsOverlappingFromBelowOrExactlyAreRefusedAndAdjacentOnesAccepted() throws Exception {
        startServer(Duration.ofSeconds(1));
        try (RawClient client = RawClient.negotiated(path)) {
            assertOk(client.request(Command.DMA_MAP, new Payload.DmaMap(32, 3, 0, 0x110000, 0x4000)));
            assertError(client.request(Command.DMA_MAP, new Payload.DmaMap(32, 3, 0, 0x10f000, 0x2000)), Errno.EEXIST);
            assertError(client.request(Command.DMA_MAP, new Payload.DmaMap(32, 3, 0, 0x110000, 0x4000)), Errno.EEXIST);
            assertError(client.request(Command.DMA_MAP, new Payload.DmaMap(32, 3, 0, 0x100000, 0x20000)), Errno.EEXIST);
            assertOk(client.request(Command.DMA_MAP, new Payload.DmaMap(32, 3, 0, 0x10f000, 0x1000)));
            assertOk(client.request(Command.DMA_MAP, new Payload.DmaMap(32, 3, 0, 0x114000, 0x1000)));
            assertError(client.request(Command.DMA_UNMAP, new Payload.DmaUnmap(24, 0, 0x110000, 0x1000)), Errno.ENOENT);
            assertOk(client.request(Command.DMA_UNMAP, new Payload.DmaUnmap(24, 0, 0x110000, 0x4000)));
        }
    }

    @Test
    void deviceDmaOutsideTheMapsAcrossTwoMapsOrAgainstTheirPermissionsFails() throws Exception {
        startServer(Duration.ofSeconds(1));
        try (RawClient client = RawClient.negotiated(path);
                Fd memory = MemFd.create("guest", 0x3000)) {
            assertOk(client.request(Command.DMA_MAP, new Payload.DmaMap(32, 3, 0, 0x100000, 0x1000), memory.get()));
            assertOk(
                    client.request(Command.DMA_MAP, new Payload.DmaMap(32, 3, 0x1000, 0x101000, 0x1000), memory.get()));
            assertOk(
                    client.request(Command.DMA_MAP, new Payload.DmaMap(32, 1, 0x2000, 0x102000, 0x1000), memory.get()));
            byte[] data = new byte[16];
            var device = server.context();
            device.dmaWrite(0x100ff0, data);
            assertDmaFails(() -> device.dmaRead(0x0ffff0, data), DmaException.Reason.OUTSIDE_MAPPINGS);
            assertDmaFails(() -> device.dmaRead(0x100ff8, data), DmaException.Reason.OUTSIDE_MAPPINGS);
            assertDmaFails(() -> device.dmaRead(0x102ff8, data), DmaException.Reason.OUTSIDE_MAPPINGS);
            assertDmaFails(() -> device.dmaRead(0x200000, data), DmaException.Reason.OUTSIDE_MAPPINGS);
            assertDmaFails(() -> device.dmaRead(-8, data), DmaException.Reason.OUTSIDE_MAPPINGS);
            assertDmaFails(() -> device.dmaWrite(0x102000, data), DmaException.Reason.NOT_PERMITTED);
            device.dmaRead(0x102000, data);
            assertOk(client.request(Command.DMA_UNMAP, new Payload.DmaUnmap(24, 0, 0x100000, 0x1000)));
            assertDmaFails(() -> device.dmaRead(0x100000, data), DmaException.Reason.OUTSIDE_MAPPINGS);
            assertThat(client.serves()).isTrue();
        }
    }

    @Test
    void deviceDmaWithNoClientConnectedFailsSayingSo() throws Exception {
        startServer(Duration.ofSeconds(1));
        var device = server.context();
        assertThatThrownBy(() -> device.dmaRead(0x100000, new byte[16]))
                .isInstanceOf(DmaException.class)
                .hasMessageContaining("none is connected")
                .satisfies(e -> assertThat(((DmaException) e).reason()).isEqualTo(DmaException.Reason.NO_CLIENT));
    }

    @Test
    void deviceDmaToAClientThatNeverAnswersEndsWithNoReplyWithinTheDmaTimeout() throws Exception {
        startServer(Duration.ofMillis(300));
        try (RawClient client = RawClient.negotiated(path)) {
            assertOk(client.request(Command.DMA_MAP, new Payload.DmaMap(32, 3, 0, 0x100000, 0x1000)));
            long start = System.nanoTime();
            assertThatThrownBy(() -> server.context().dmaRead(0x100000, new byte[16]))
                    .isInstanceOf(NoReplyException.class)
                    .hasMessageContaining("no reply to DMA_READ")
                    .hasMessageContaining("300 ms");
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(3));
        }
    }

    private interface DmaCall {
        void run() throws IOException;
    }

    private static void assertDmaFails(DmaCall call, DmaException.Reason reason) {
        assertThatThrownBy(call::run)
                .isInstanceOf(DmaException.class)
                .satisfies(e -> assertThat(((DmaException) e).reason())
                        .as(e.getMessage())
                        .isEqualTo(reason));
    }

    /** What {@link SilentServer} never answers. */
    private enum Silence {
        /** Not even VERSION. */
        TOTAL,
        /** Everything after VERSION. */
        AFTER_VERSION,
        /** Everything after VERSION; a request gets a DMA_READ back, and so does each answer to one, every 20 ms. */
        DMA_REQUESTS_INSTEAD_OF_REPLIES
    }

    /** A vfio-user "server" that accepts one client and reads its messages but never answers them. */
    private static final class SilentServer implements AutoCloseable {
        private final UnixSocket listening;
        private final Thread thread;
        private final AtomicInteger messagesRead = new AtomicInteger();
        private volatile UnixSocket accepted;

        private SilentServer(UnixSocket listening, Silence silence) {
            this.listening = listening;
            this.thread = Thread.ofPlatform().name("silent server").start(() -> serve(silence));
        }

        static SilentServer listen(Path path, Silence silence) throws ErrnoException {
            return new SilentServer(UnixSocket.listen(path, 1), silence);
        }

        private void serve(Silence silence) {
            try {
                accepted = listening.accept();
                Channel channel = new Channel(accepted, 1 << 21, 8, 1000);
                Channel.Incoming incoming;
                int nextMsgId = 0;
                while ((incoming = channel.receive()) != null) {
                    incoming.closeFds();
                    messagesRead.incrementAndGet();
                    if (silence != Silence.TOTAL && incoming.header().command() == Command.VERSION) {
                        channel.send(
                                incoming.header().msgId(),
                                Command.VERSION,
                                Header.TYPE_REPLY,
                                0,
                                new Payload.Version(0, 2, Capabilities.defaults()),
                                new int[0]);
                    } else if (silence == Silence.DMA_REQUESTS_INSTEAD_OF_REPLIES) {
                        Thread.sleep(20);
                        channel.send(
                                nextMsgId++,
                                Command.DMA_READ,
                                Header.TYPE_COMMAND,
                                0,
                                Payload.DmaAccess.of(0, 4),
                                new int[0]);
                    }
                }
            } catch (IOException | RuntimeException | InterruptedException e) {
                // the test closed the socket
            }
        }

        int messagesRead() {
            return messagesRead.get();
        }

        @Override
        public void close() {
            listening.shutdown();
            UnixSocket socket = accepted;
            if (socket != null) {
                socket.shutdown();
            }
            try {
                thread.join(5000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            if (socket != null) {
                socket.close();
            }
            listening.close();
        }
    }
}
