package io.jvfio.vfiouser;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jvfio.sys.Errno;
import io.jvfio.sys.ErrnoException;
import io.jvfio.sys.testing.Resources;
import io.jvfio.vfiouser.fuzz.RawClient;
import io.jvfio.vfiouser.server.DeviceContext;
import io.jvfio.vfiouser.server.DeviceModel;
import io.jvfio.vfiouser.server.RegionHandler;
import io.jvfio.vfiouser.server.RegionSpec;
import io.jvfio.vfiouser.server.VfioUserServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The server's DMA requests on the main socket, for a client that neither shares its memory by fd nor
 * takes the twin socket (as libvfio-user's client): the replies to DMA_READ / DMA_WRITE come between the
 * client's requests, and whichever server thread needs a message reads them. The client here answers
 * the DMA requests from an array of its own; the model's register {@link LockingModel#LOCKED} takes the
 * lock a model thread holds across its DMA, as virtio's queue thread holds its device's lock across a
 * buffer. The DMA timeout is short, so that a DMA whose reply nobody reads fails these tests in 2 s.
 */
class MainSocketDmaTest {
    private static final Duration DMA_TIMEOUT = Duration.ofSeconds(2);
    private static final long IOVA = 0x200000;
    private static final int MEMORY = 0x1000;

    @TempDir
    Path dir;

    private Path path;
    private LockingModel model;
    private VfioUserServer server;

    @BeforeEach
    void start() throws IOException {
        path = dir.resolve("dev.sock");
        model = new LockingModel();
        server = VfioUserServer.start(
                path, model, VfioUserServer.Options.defaults().withDmaTimeout(DMA_TIMEOUT));
    }

    @AfterEach
    void stop() {
        server.close();
    }

    @Test
    void aModelHoldingItsLockAcrossDmaGetsItsRepliesWhileARegionAccessWaitsForThatLock() throws Exception {
        try (MessageDmaClient client = MessageDmaClient.connect(path)) {
            client.fill(0, 16);
            CompletableFuture<byte[]> dma = copyUnderTheLock();
            Channel.Incoming dmaRead = client.nextDmaRequest(Command.DMA_READ);
            int access = client.send(Command.REGION_READ, Payload.RegionAccess.of(LockingModel.LOCKED, 0, 8));
            awaitTheConnectionThreadWaitingForTheLock();

            client.answer(dmaRead);
            Channel.Incoming reply = client.nextReply();

            // completed, not failed with the DMA timeout's NoReplyException
            assertThat(dma.get(5, TimeUnit.SECONDS)).isEqualTo(client.bytes(0, 16));
            assertThat(client.bytes(0x100, 16)).as("the DMA_WRITE").isEqualTo(client.bytes(0, 16));
            assertThat(reply.header().msgId()).isEqualTo(access);
            assertThat(reply.payload())
                    .isEqualTo(Payload.RegionAccess.withData(
                            LockingModel.LOCKED, 0, Bytes.littleEndian(LockingModel.LOCKED_VALUE, 8)));
        }
    }

    @Test
    void requestsThatArriveWhileAModelThreadReadsTheSocketAreAnsweredInTheirOrder() throws Exception {
        try (MessageDmaClient client = MessageDmaClient.connect(path)) {
            CompletableFuture<byte[]> dma = copyUnderTheLock();
            Channel.Incoming dmaRead = client.nextDmaRequest(Command.DMA_READ);
            List<Integer> sent = new ArrayList<>();
            sent.add(client.send(Command.REGION_READ, Payload.RegionAccess.of(LockingModel.LOCKED, 0, 8)));
            awaitTheConnectionThreadWaitingForTheLock();
            for (long value = 1; value <= 3; value++) {
                sent.add(client.send(
                        Command.REGION_WRITE,
                        Payload.RegionAccess.withData(LockingModel.SCRATCH, 0, Bytes.littleEndian(value, 8))));
            }
            sent.add(client.send(Command.REGION_READ, Payload.RegionAccess.of(LockingModel.SCRATCH, 0, 8)));

            client.answer(dmaRead);
            List<Channel.Incoming> replies = new ArrayList<>();
            for (int i = 0; i < sent.size(); i++) {
                replies.add(client.nextReply());
            }

            dma.get(5, TimeUnit.SECONDS);
            assertThat(replies.stream().map(reply -> reply.header().msgId()).toList())
                    .isEqualTo(sent);
            assertThat(replies)
                    .allSatisfy(reply -> assertThat(reply.header().isError())
                            .as(reply.header().toString())
                            .isFalse());
            assertThat(((Payload.RegionAccess) replies.getLast().payload())
                            .data()
                            .littleEndianValue())
                    .as("the read came after the three writes")
                    .isEqualTo(3);
        }
    }

    /**
     * Two model threads and the connection's thread (a register write whose handler does DMA) wait for
     * DMA replies at once, the model threads now and then under the lock a register read waits for:
     * each reply reaches its waiter, whoever reads it.
     */
    @Test
    void dmaFromModelThreadsAndFromTheConnectionThreadAtOnceAllComplete() throws Exception {
        try (MessageDmaClient client = MessageDmaClient.connect(path)) {
            client.fill(0, MEMORY);
            List<CompletableFuture<Void>> models = List.of(readRepeatedly(200, 7), readRepeatedly(200, 11));
            CompletableFuture<Void> all = CompletableFuture.allOf(models.toArray(CompletableFuture[]::new));

            for (int round = 0; round < 200; round++) {
                int offset = round * 8 % (MEMORY - 8);
                client.call(
                        Command.REGION_WRITE,
                        Payload.RegionAccess.withData(LockingModel.COPY, 0, Bytes.littleEndian(offset, 8)));
                Channel.Incoming copied =
                        client.call(Command.REGION_READ, Payload.RegionAccess.of(LockingModel.COPY, 0, 8));
                assertThat(((Payload.RegionAccess) copied.payload()).data().toArray())
                        .as("round %d", round)
                        .isEqualTo(client.bytes(offset, 8));
                Channel.Incoming locked =
                        client.call(Command.REGION_READ, Payload.RegionAccess.of(LockingModel.LOCKED, 0, 8));
                assertThat(locked.header().isError()).isFalse();
            }
            client.answerUntil(all);

            all.get(5, TimeUnit.SECONDS);
        }
    }

    @Test
    void aModelWaitingForDmaWhenTheClientLeavesFailsAtOnceAndNothingIsLeft() throws Exception {
        int fdsBefore = Resources.openFds();
        Set<Thread> threadsBefore = Resources.liveThreads();
        CompletableFuture<byte[]> dma;
        try (MessageDmaClient client = MessageDmaClient.connect(path)) {
            dma = copyUnderTheLock();
            client.nextDmaRequest(Command.DMA_READ);
            client.send(Command.REGION_READ, Payload.RegionAccess.of(LockingModel.LOCKED, 0, 8));
            awaitTheConnectionThreadWaitingForTheLock();
        }

        assertThatThrownBy(() -> dma.get(5, TimeUnit.SECONDS))
                .isInstanceOf(ExecutionException.class)
                .cause()
                .isInstanceOf(PeerClosedException.class)
                .hasMessageContaining("DMA_READ of 16 bytes at 0x200000");
        awaitServerIdle();
        assertThat(Resources.openFds()).isLessThanOrEqualTo(fdsBefore);
        assertThat(Resources.threadsStillAliveAfter(threadsBefore, Duration.ofSeconds(5)))
                .as("the connection's and the model's threads ended")
                .isEmpty();
        try (RawClient next = RawClient.negotiated(path)) {
            assertThat(next.serves()).isTrue();
        }
    }

    /**
     * A model thread keeps the requests it reads for the connection's thread, 64 at most: the 65th ends
     * its DMA as if the reply never came, and is still answered after the others.
     */
    @Test
    void aClientThatSendsRequestsInsteadOfTheDmaReplyHasTheDmaFailAtTheSixtyFifthAndAllAnswered() throws Exception {
        try (MessageDmaClient client = MessageDmaClient.connect(path)) {
            CompletableFuture<byte[]> dma = copyUnderTheLock();
            client.nextDmaRequest(Command.DMA_READ);
            List<Integer> sent = new ArrayList<>();
            sent.add(client.send(Command.REGION_READ, Payload.RegionAccess.of(LockingModel.LOCKED, 0, 8)));
            awaitTheConnectionThreadWaitingForTheLock();
            for (long value = 1; value <= 65; value++) {
                sent.add(client.send(
                        Command.REGION_WRITE,
                        Payload.RegionAccess.withData(LockingModel.SCRATCH, 0, Bytes.littleEndian(value, 8))));
            }

            assertThatThrownBy(() -> dma.get(5, TimeUnit.SECONDS))
                    .cause()
                    .isInstanceOf(NoReplyException.class)
                    .hasMessage("the client sent 65 requests instead of the reply to a DMA request");
            for (int id : sent) {
                Channel.Incoming reply = client.nextReply();
                assertThat(reply.header().msgId()).isEqualTo(id);
                assertThat(reply.header().isError()).isFalse();
            }
            Channel.Incoming scratch =
                    client.call(Command.REGION_READ, Payload.RegionAccess.of(LockingModel.SCRATCH, 0, 8));
            assertThat(((Payload.RegionAccess) scratch.payload()).data().littleEndianValue())
                    .isEqualTo(65);
        }
    }

    @Test
    void aMalformedMessageReadByAModelThreadGetsTheErrorReplyTheConnectionThreadGives() throws Exception {
        try (MessageDmaClient client = MessageDmaClient.connect(path)) {
            CompletableFuture<byte[]> dma = copyUnderTheLock();
            Channel.Incoming dmaRead = client.nextDmaRequest(Command.DMA_READ);
            int locked = client.send(Command.REGION_READ, Payload.RegionAccess.of(LockingModel.LOCKED, 0, 8));
            awaitTheConnectionThreadWaitingForTheLock();

            ByteBuffer tooShort = ByteBuffer.allocate(Header.SIZE).order(Codec.ORDER);
            new Header(77, Command.REGION_WRITE, 8, Header.TYPE_COMMAND, 0).encodeTo(tooShort);
            client.raw.send(tooShort.array());
            Channel.Incoming error = client.nextReply();
            client.answer(dmaRead);

            assertThat(error.header().msgId()).isEqualTo(77);
            assertThat(error.header().isError()).isTrue();
            assertThat(error.header().error())
                    .as(Errno.name(error.header().error()))
                    .isEqualTo(Errno.EINVAL);
            assertThat(client.nextReply().header().msgId()).isEqualTo(locked);
            dma.get(5, TimeUnit.SECONDS);
        }
    }

    /**
     * On a model thread: takes the model's lock, then reads 16 bytes of the client's memory at its start
     * and writes them back 0x100 further, all under the lock; completes with the bytes read.
     */
    private CompletableFuture<byte[]> copyUnderTheLock() {
        CompletableFuture<byte[]> done = new CompletableFuture<>();
        Thread.ofPlatform().name("model thread").start(() -> {
            model.lock.lock();
            try {
                byte[] data = new byte[16];
                server.context().dmaRead(IOVA, data);
                server.context().dmaWrite(IOVA + 0x100, data);
                done.complete(data);
            } catch (Throwable t) {
                done.completeExceptionally(t);
            } finally {
                model.lock.unlock();
            }
        });
        return done;
    }

    /**
     * On a model thread: {@code count} DMA reads of 8 bytes at offsets stepping by {@code step}, one in four
     * under the model's lock, each checked against what the client's memory holds there (see {@link
     * MessageDmaClient#fill}).
     */
    private CompletableFuture<Void> readRepeatedly(int count, int step) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        Thread.ofPlatform().name("model thread " + step).start(() -> {
            try {
                for (int i = 0; i < count; i++) {
                    int offset = i * step % (MEMORY - 8);
                    byte[] data = new byte[8];
                    if (i % 4 == 0) {
                        model.lock.lock();
                        try {
                            server.context().dmaRead(IOVA + offset, data);
                        } finally {
                            model.lock.unlock();
                        }
                    } else {
                        server.context().dmaRead(IOVA + offset, data);
                    }
                    if (!Arrays.equals(data, MessageDmaClient.pattern(offset, 8))) {
                        throw new AssertionError("DMA read at +" + offset + " got " + Arrays.toString(data));
                    }
                }
                done.complete(null);
            } catch (Throwable t) {
                done.completeExceptionally(t);
            }
        });
        return done;
    }

    /** Waits until a thread, the connection's handling a register access, waits for the model's lock. */
    private void awaitTheConnectionThreadWaitingForTheLock() throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (!model.lock.hasQueuedThreads() && System.nanoTime() < deadline) {
            Thread.sleep(1);
        }
        assertThat(model.lock.hasQueuedThreads())
                .as("the register access waits for the model's lock")
                .isTrue();
    }

    private void awaitServerIdle() throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (server.clientConnected() && System.nanoTime() < deadline) {
            Thread.sleep(1);
        }
        assertThat(server.clientConnected()).as("the connection ended").isFalse();
    }

    /**
     * Region 0: SCRATCH (0x00, read and written as RawClient.serves expects), LOCKED (0x08, a read taken
     * under the model's lock), COPY (0x10: a write DMA-reads 8 bytes at IOVA + the value on the
     * connection's thread, a read returns them).
     */
    private static final class LockingModel implements DeviceModel {
        static final long SCRATCH = 0x00;
        static final long LOCKED = 0x08;
        static final long COPY = 0x10;
        static final long LOCKED_VALUE = 0x10CC_ED00L;

        final ReentrantLock lock = new ReentrantLock();
        private volatile DeviceContext context;
        private volatile long scratch;
        private volatile long copied;

        @Override
        public List<RegionSpec> regions() {
            return List.of(RegionSpec.callbacks(0, 0x100, new RegionHandler() {
                @Override
                public long read(long offset, int size) {
                    if (offset == LOCKED) {
                        lock.lock();
                        try {
                            return LOCKED_VALUE;
                        } finally {
                            lock.unlock();
                        }
                    }
                    return offset == SCRATCH ? scratch : offset == COPY ? copied : 0;
                }

                @Override
                public void write(long offset, int size, long value) {
                    if (offset == SCRATCH) {
                        scratch = value;
                    } else if (offset == COPY) {
                        byte[] data = new byte[8];
                        try {
                            context.dmaRead(IOVA + value, data);
                        } catch (IOException e) {
                            throw new UncheckedIOException(e);
                        }
                        copied = ByteBuffer.wrap(data)
                                .order(ByteOrder.LITTLE_ENDIAN)
                                .getLong();
                    }
                }
            }));
        }

        @Override
        public void attach(DeviceContext deviceContext) {
            context = deviceContext;
        }
    }

    /**
     * A client that proposes no twin socket and maps its memory for DMA without an fd, so the server
     * reaches it only through DMA_READ / DMA_WRITE messages on the main socket, which it answers from an
     * array.
     */
    private static final class MessageDmaClient implements AutoCloseable {
        final RawClient raw;
        private final byte[] memory = new byte[MEMORY];
        private int nextId = 100;

        private MessageDmaClient(RawClient raw) {
            this.raw = raw;
        }

        static MessageDmaClient connect(Path path) throws IOException {
            RawClient raw = RawClient.negotiated(path);
            try {
                Channel.Incoming mapped = raw.request(Command.DMA_MAP, new Payload.DmaMap(32, 3, 0, IOVA, MEMORY));
                assertThat(mapped.header().isError())
                        .as(mapped.header().toString())
                        .isFalse();
                return new MessageDmaClient(raw);
            } catch (IOException | RuntimeException | Error e) {
                raw.close();
                throw e;
            }
        }

        /** Byte {@code i} of the memory: what {@link #fill} puts there. */
        static byte[] pattern(int offset, int length) {
            byte[] bytes = new byte[length];
            for (int i = 0; i < length; i++) {
                bytes[i] = (byte) ((offset + i) * 7 + 1);
            }
            return bytes;
        }

        void fill(int offset, int length) {
            System.arraycopy(pattern(offset, length), 0, memory, offset, length);
        }

        byte[] bytes(int offset, int length) {
            return Arrays.copyOfRange(memory, offset, offset + length);
        }

        /** Sends a request without waiting for its reply; returns its message id. */
        int send(int command, Payload payload) throws ErrnoException {
            int id = nextId++;
            raw.send(Codec.encode(id, command, Header.TYPE_COMMAND, 0, payload));
            return id;
        }

        /** Sends a request and returns its reply, answering the DMA requests that come first. */
        Channel.Incoming call(int command, Payload payload) throws IOException {
            int id = send(command, payload);
            Channel.Incoming reply = nextReply();
            assertThat(reply.header().msgId()).isEqualTo(id);
            assertThat(reply.header().isError()).as(reply.header().toString()).isFalse();
            return reply;
        }

        /** The next message that is not a DMA request, answering the DMA requests before it. */
        Channel.Incoming nextReply() throws IOException {
            while (true) {
                Channel.Incoming incoming = raw.receive();
                assertThat(incoming).as("the server closed the connection").isNotNull();
                if (incoming.header().isReply()) {
                    return incoming;
                }
                answer(incoming);
            }
        }

        /** The next message, a DMA request of the server: not answered yet. */
        Channel.Incoming nextDmaRequest(int command) throws IOException {
            Channel.Incoming incoming = raw.receive();
            assertThat(incoming).isNotNull();
            assertThat(incoming.header().isReply()).isFalse();
            assertThat(incoming.header().command()).isEqualTo(command);
            return incoming;
        }

        /** Answers DMA requests until {@code done} completes. */
        void answerUntil(CompletableFuture<?> done) throws IOException {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (!done.isDone() && System.nanoTime() < deadline) {
                if (raw.readable(10)) {
                    Channel.Incoming incoming = raw.receive();
                    assertThat(incoming).isNotNull();
                    answer(incoming);
                }
            }
        }

        void answer(Channel.Incoming request) throws ErrnoException {
            Header header = request.header();
            assertThat(header.isReply()).as(header.toString()).isFalse();
            Payload.DmaAccess access = (Payload.DmaAccess) request.payload();
            int at = (int) (access.address() - IOVA);
            int count = (int) access.count();
            Payload reply;
            if (header.command() == Command.DMA_READ) {
                reply = new Payload.DmaAccess(access.address(), count, Bytes.copyOfRange(memory, at, at + count));
            } else {
                assertThat(header.command()).isEqualTo(Command.DMA_WRITE);
                access.data().copyTo(ByteBuffer.wrap(memory, at, count));
                reply = Payload.DmaAccess.of(access.address(), count);
            }
            raw.send(Codec.encode(header.msgId(), header.command(), Header.TYPE_REPLY, 0, reply));
        }

        @Override
        public void close() {
            raw.close();
        }
    }
}
