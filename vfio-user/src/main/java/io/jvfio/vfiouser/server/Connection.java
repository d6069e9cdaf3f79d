package io.jvfio.vfiouser.server;

import io.jvfio.sys.Errno;
import io.jvfio.sys.ErrnoException;
import io.jvfio.sys.EventFd;
import io.jvfio.sys.Fd;
import io.jvfio.sys.IoVector;
import io.jvfio.sys.UnixSocket;
import io.jvfio.sys.event.EventLoop;
import io.jvfio.vfio.DeviceInfo;
import io.jvfio.vfio.DeviceTreeIdentity;
import io.jvfio.vfio.IrqAction;
import io.jvfio.vfio.IrqSet;
import io.jvfio.vfio.RegionInfo;
import io.jvfio.vfio.SparseArea;
import io.jvfio.vfiouser.Bytes;
import io.jvfio.vfiouser.Capabilities;
import io.jvfio.vfiouser.Channel;
import io.jvfio.vfiouser.Codec;
import io.jvfio.vfiouser.Command;
import io.jvfio.vfiouser.FramingException;
import io.jvfio.vfiouser.Header;
import io.jvfio.vfiouser.NoReplyException;
import io.jvfio.vfiouser.Payload;
import io.jvfio.vfiouser.PeerClosedException;
import io.jvfio.vfiouser.PlatformExtension;
import io.jvfio.vfiouser.ProtocolException;
import io.jvfio.vfiouser.ReplyPolling;
import io.jvfio.vfiouser.Session;
import io.jvfio.vfiouser.Session.Call;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.lang.System.Logger.Level;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One client's connection: a thread answers its requests in order; a bad one gets an error reply naming
 * what was wrong and the connection goes on, except before the version is negotiated: a first message
 * that is not a good VERSION gets its error reply and the connection is closed, as the specification and
 * libvfio-user do. Owns the client's DMA mappings; the client's eventfds live in the server's IRQ lines
 * until the client leaves.
 *
 * <p>Without the twin socket, the server's DMA requests and their replies share the main socket with the
 * client's requests, and one thread at a time reads it ({@link #readLock}): the connection's thread
 * while it waits for the next request, or a thread waiting for a DMA reply that found nobody reading.
 * Such a waiter hands the replies it reads to their waiters and keeps the client's requests for the
 * connection's thread, which answers them in order. So a model thread that holds its lock across a DMA
 * gets its reply even while the connection's thread handles a request that waits for that lock.
 */
final class Connection implements Runnable {
    private static final System.Logger LOG = System.getLogger(Connection.class.getName());
    private static final int[] NO_FDS = new int[0];
    /**
     * Requests kept while a thread waits for a DMA reply on the main socket: with more, a waiter reads no
     * further and its DMA fails.
     */
    private static final int MAX_DEFERRED = 64;

    private final VfioUserServer server;
    private final Channel channel;
    private final String name;
    private final ClientDmaWindows dma;
    /**
     * The client's requests that a thread waiting for a DMA reply read, in the order they came, for the
     * connection's thread; added only by the holder of {@link #readLock}.
     */
    private final Queue<Channel.Incoming> deferred = new ConcurrentLinkedQueue<>();
    /** The server's DMA requests on the main socket that wait for their replies, by message id. */
    private final Map<Integer, ReplyWaiter> pending = new ConcurrentHashMap<>();
    /**
     * Held by the one thread that reads the main socket, never while a request is handled. Taken with
     * tryLock: a thread that finds it held parks until the holder lets go ({@link #wakeReaders}), keeps a
     * request for it or hands it its reply. Only {@link #end} blocks on it.
     */
    private final ReentrantLock readLock = new ReentrantLock();
    /** Message ids of the server's DMA requests on the main socket. */
    private final AtomicInteger nextMsgId = new AtomicInteger(1);

    private volatile Thread thread;
    private volatile boolean negotiated;
    private volatile boolean ended;
    private volatile Capabilities client = Capabilities.defaults();
    /**
     * The smallest of the negotiated pgsizes: every DMA_MAP and DMA_UNMAP keeps to it. Only the
     * connection's thread, which negotiates and serves the maps.
     */
    private long dmaPageSize = Capabilities.DEFAULT_PGSIZES;
    /**
     * The server-to-client command channel of twin-socket mode, null without it. DMA requests and their
     * replies go there, one at a time ({@link #commandLock}), so they never mix with the client's
     * requests on the main socket.
     */
    private volatile Session commands;

    private final ReentrantLock commandLock = new ReentrantLock();

    /** A posted write's eventfd given to this client, and its registration on the server's I/O loop. */
    private record IoEvent(EventFd eventFd, long token) {}

    /** The eventfds of posted writes given to this client, by region; only the connection's thread. */
    private final Map<Integer, List<IoEvent>> ioEvents = new HashMap<>();

    /**
     * A reply, its fds, and an fd handed over in it that this side closes once it is sent (closed, not
     * shut down: a shutdown would end the socket for the peer too).
     */
    private record Reply(Payload payload, int[] fds, Fd handedOver) {
        static Reply of(Payload payload) {
            return new Reply(payload, NO_FDS, null);
        }
    }

    /** A DMA request on the main socket waiting for its reply, which whoever reads it hands over. */
    private static final class ReplyWaiter {
        final Thread thread = Thread.currentThread();
        final CompletableFuture<Channel.Incoming> reply = new CompletableFuture<>();

        void complete(Channel.Incoming incoming) {
            if (!reply.complete(incoming)) {
                // the waiter gave up just now
                incoming.closeFds();
            }
            wake();
        }

        void fail(IOException cause) {
            reply.completeExceptionally(cause);
            wake();
        }

        void wake() {
            if (thread != Thread.currentThread()) {
                LockSupport.unpark(thread);
            }
        }

        /** Ends the wait early; a reply handed over meanwhile is nobody's, and its fds are closed. */
        void abandon() {
            if (!reply.cancel(false) && reply.state() == Future.State.SUCCESS) {
                reply.resultNow().closeFds();
            }
        }

        /** Once the wait is over: the reply, or why the wait failed. */
        Channel.Incoming outcome() throws IOException {
            if (reply.state() == Future.State.FAILED) {
                // only fail() completes it exceptionally
                throw (IOException) reply.exceptionNow();
            }
            return reply.resultNow();
        }
    }

    Connection(VfioUserServer server, Channel channel, String name) {
        this.server = server;
        this.channel = channel;
        this.name = name;
        this.dma = new ClientDmaWindows(server.options().maxDmaMaps());
    }

    boolean negotiated() {
        return negotiated && !ended;
    }

    /** Wakes the connection's thread so it ends. */
    void stop() {
        channel.shutdown();
    }

    @Override
    public void run() {
        thread = Thread.currentThread();
        try {
            boolean open = true;
            while (open) {
                open = serveSome();
            }
        } catch (IOException | RuntimeException e) {
            LOG.log(Level.INFO, "vfio-user server {0}: client connection ends: {1}", name, e.getMessage());
        } finally {
            end();
        }
    }

    /** Messages served per call of {@link #serveSome}. */
    private static final int MESSAGES_PER_CALL = 16;

    /**
     * Serves up to {@link #MESSAGES_PER_CALL} messages; false when the connection ends. The loop that
     * calls it runs once per connection, and HotSpot compiles a running loop (on-stack replacement) only
     * after tens of thousands of iterations, while it compiles a method after a few hundred calls: so the
     * interpreted loop costs a call per 16 messages, not one per message (as the machine's vCPU loop,
     * {@code Machine.runExits}).
     */
    private boolean serveSome() throws IOException {
        for (int i = 0; i < MESSAGES_PER_CALL; i++) {
            if (!serveNext()) {
                return false;
            }
        }
        return true;
    }

    /** Serves the next request; false when the connection ends. */
    private boolean serveNext() throws IOException {
        Channel.Incoming request = nextRequest();
        return request != null && (handle(request) || goesOnAfterRefusal());
    }

    /** After a refused message: true once the version is negotiated, else the connection is closed. */
    private boolean goesOnAfterRefusal() {
        if (negotiated) {
            return true;
        }
        LOG.log(Level.WARNING, "vfio-user server {0}: closing the connection: the version was not negotiated", name);
        return false;
    }

    /**
     * The client's next request: the oldest one a DMA waiter kept, else the next one read from the socket;
     * null when the connection ends. Its cost where no DMA waits is one uncontended lock.
     */
    private Channel.Incoming nextRequest() throws IOException {
        while (true) {
            Channel.Incoming kept = deferred.poll();
            if (kept != null) {
                return kept;
            }
            if (readLock.tryLock()) {
                try {
                    return readRequest();
                } finally {
                    readLock.unlock();
                    if (!pending.isEmpty()) {
                        wakeReaders();
                    }
                }
            }
            // A DMA waiter reads: it wakes this thread when it keeps a request or lets go.
            LockSupport.park(this);
            if (Thread.currentThread().isInterrupted()) {
                throw new InterruptedIOException("the connection's thread was interrupted");
            }
        }
    }

    /** Holding the read lock: the next request, with the replies read on the way handed to their waiters. */
    private Channel.Incoming readRequest() throws IOException {
        // Requests are kept only under the lock: once none is left here, the socket holds the next one.
        Channel.Incoming kept = deferred.poll();
        if (kept != null) {
            return kept;
        }
        while (true) {
            Channel.Incoming incoming = receive();
            if (incoming == null || !incoming.header().isReply()) {
                return incoming;
            }
            // Under the lock, so that a waiter taking it next finds its reply already handed over.
            if (!route(incoming) && !goesOnAfterRefusal()) {
                return null;
            }
        }
    }

    /** The holder of the read lock let go: the threads that wait for a message may read in its place. */
    private void wakeReaders() {
        Thread connectionThread = thread;
        if (connectionThread != null && connectionThread != Thread.currentThread()) {
            LockSupport.unpark(connectionThread);
        }
        for (ReplyWaiter waiter : pending.values()) {
            waiter.wake();
        }
    }

    /**
     * The next message, answering framing errors on the way; null when the client left, or when a
     * framing error came before the version was negotiated.
     */
    private Channel.Incoming receive() throws IOException {
        while (true) {
            try {
                return channel.receive();
            } catch (FramingException e) {
                answerMalformed(e);
                if (!negotiated) {
                    return null;
                }
            }
        }
    }

    private void answerMalformed(FramingException e) throws ErrnoException {
        LOG.log(
                Level.WARNING,
                "vfio-user server {0}: malformed message: {1} ({2})",
                name,
                e.getMessage(),
                Errno.name(e.errno()));
        channel.sendError(Math.max(0, e.msgId()), Math.max(0, e.command()), e.errno());
    }

    /**
     * Hands a reply to the request waiting for it. A reply nothing waits for is refused with EINVAL,
     * as libvfio-user refuses any message that is not a command; an error reply is only logged, so
     * that two peers that both answer stray replies never keep answering each other's answers.
     * Returns whether a request was waiting.
     */
    private boolean route(Channel.Incoming incoming) throws ErrnoException {
        Header header = incoming.header();
        ReplyWaiter waiter = pending.remove(header.msgId());
        if (waiter == null) {
            incoming.closeFds();
            if (header.isError()) {
                LOG.log(Level.WARNING, "vfio-user server {0}: dropping an unexpected {1}", name, header);
            } else {
                refuse(
                        header,
                        Errno.EINVAL,
                        "a reply to no request of the server's (message id " + header.msgId() + ")");
            }
            return false;
        }
        waiter.complete(incoming);
        return true;
    }

    /** Answers a request; returns false when it was refused. */
    private boolean handle(Channel.Incoming incoming) throws ErrnoException {
        Header header = incoming.header();
        // REGION_READ/WRITE take no fds and never change the list: spare them the copy
        List<Fd> fds = incoming.fds().isEmpty() && incoming.payload() instanceof Payload.RegionAccess
                ? incoming.fds()
                : new ArrayList<>(incoming.fds());
        Reply reply = null;
        try {
            reply = serve(incoming, fds);
            if (!header.noReply()) {
                channel.send(header.msgId(), header.command(), Header.TYPE_REPLY, 0, reply.payload(), reply.fds());
            }
            return true;
        } catch (RequestError e) {
            refuse(header, e.errno(), e.getMessage());
            return false;
        } catch (ModelFailure e) {
            LOG.log(Level.ERROR, "vfio-user server " + name + ": the device model failed on " + header, e.getCause());
            refuse(header, Errno.EIO, "the device model failed: " + e.getCause());
            return false;
        } catch (RuntimeException e) {
            LOG.log(Level.ERROR, "vfio-user server " + name + ": the server failed handling " + header, e);
            refuse(header, Errno.EIO, "the server failed handling " + Command.name(header.command()) + ": " + e);
            return false;
        } finally {
            fds.forEach(Fd::close);
            if (reply != null && reply.handedOver() != null) {
                reply.handedOver().close();
            }
        }
    }

    /**
     * What a model callback threw while the server handled a request: the model's failure, which the
     * client and the log are told as such; anything else thrown there is the server's own.
     */
    private static final class ModelFailure extends RuntimeException {
        ModelFailure(RuntimeException cause) {
            super(cause.toString(), cause, false, false);
        }
    }

    /**
     * The request's reply. A system call made to serve it that fails (eventfd, socketpair, epoll: out of
     * fds, say) fails this request with its errno, named in the refusal's log line; only the socket's
     * own failures, in sending the reply, end the connection.
     */
    private Reply serve(Channel.Incoming incoming, List<Fd> fds) throws RequestError {
        try {
            return dispatch(incoming, fds);
        } catch (ErrnoException e) {
            throw new RequestError(e.errno(), e.operation() + " failed: " + Errno.describe(e.errno()));
        }
    }

    private void refuse(Header header, int errno, String message) throws ErrnoException {
        LOG.log(
                Level.WARNING,
                "vfio-user server {0}: {1} #{2} refused: {3} ({4})",
                name,
                Command.name(header.command()),
                header.msgId(),
                message,
                Errno.name(errno));
        // NO_REPLY means nothing in a reply; a reply (the type) is answered all the same
        if (header.isReply() || !header.noReply()) {
            channel.sendError(header.msgId(), header.command(), errno);
        }
    }

    private Reply dispatch(Channel.Incoming incoming, List<Fd> fds) throws RequestError, ErrnoException {
        Header header = incoming.header();
        if (incoming.refusedFds() > 0) {
            throw new RequestError(
                    Errno.EINVAL,
                    "the message carried more fds than max_msg_fds "
                            + server.options().maxMsgFds() + " (all closed)");
        }
        if (header.isError()) {
            // ERROR belongs to replies, and the codec reads any message that has it as an error reply with
            // no payload: a DEVICE_RESET so flagged would reset the device, other commands be misnamed
            throw new RequestError(
                    Errno.EINVAL,
                    Command.name(header.command()) + " is a command with the ERROR flag, which only a reply has");
        }
        if (incoming.error() != null) {
            ProtocolException error = incoming.error();
            throw new RequestError(error.errno(), error.getMessage());
        }
        if (!negotiated && header.command() != Command.VERSION) {
            throw new RequestError(Errno.EINVAL, Command.name(header.command()) + " before VERSION");
        }
        Payload payload = incoming.payload();
        return switch (payload) {
            case Payload.Version version -> version(version, fds);
            case Payload.DmaMap map -> dmaMap(map, fds);
            case Payload.DmaUnmap unmap -> dmaUnmap(unmap, fds);
            case Payload.DeviceGetInfo info -> deviceInfo(info, fds);
            case Payload.DeviceGetRegionInfo info -> regionInfo(info, fds);
            case Payload.RegionIoFdsRequest request -> ioFds(request, fds);
            case Payload.DeviceGetIrqInfo info -> irqInfo(info, fds);
            case Payload.DeviceSetIrqs set -> setIrqs(set, fds);
            case Payload.RegionAccess access ->
                header.command() == Command.REGION_READ
                        ? regionRead(access, fds)
                        : regionWrite(access, header.noReply(), fds);
            case Payload.DeviceFeature feature -> feature(feature, fds);
            case Payload.Empty empty when header.command() == Command.DEVICE_RESET -> reset(fds);
            default ->
                throw new RequestError(
                        Errno.EINVAL, Command.name(header.command()) + " is not a client-to-server command");
        };
    }

    private static void expectNoFds(List<Fd> fds, String what) throws RequestError {
        if (!fds.isEmpty()) {
            throw new RequestError(Errno.EINVAL, what + " carried " + fds.size() + " fds, expected none");
        }
    }

    private static void checkArgsz(int argsz, int minimum, String what) throws RequestError {
        if (Integer.compareUnsigned(argsz, minimum) < 0) {
            throw new RequestError(
                    Errno.EINVAL, what + ": argsz " + Integer.toUnsignedString(argsz) + " is smaller than " + minimum);
        }
    }

    /**
     * Negotiates: the reply names only capabilities the client proposed (the specification: "a subset
     * of those proposed"), with the server's values. A server whose limits are below a default the
     * client relies on (it did not name the capability) cannot serve it and refuses the VERSION.
     * EINVAL throughout, as libvfio-user; the caller then closes the connection.
     */
    private Reply version(Payload.Version version, List<Fd> fds) throws RequestError, ErrnoException {
        expectNoFds(fds, "VERSION");
        if (negotiated) {
            throw new RequestError(Errno.EINVAL, "VERSION was already negotiated");
        }
        if (version.major() != VfioUserServer.MAJOR) {
            throw new RequestError(
                    Errno.EINVAL, "major version " + version.major() + " is not " + VfioUserServer.MAJOR);
        }
        VfioUserServer.Options options = server.options();
        // pgsizes is what both ends use in DMA maps: of the client's sizes, those this server takes (any
        // from its 4 KiB page up, which its mmap of the client's fd needs), never one the client left out;
        // the smallest of them is the granule every DMA_MAP and DMA_UNMAP then keeps to.
        long pgsizes = version.capabilities().pgsizes() & -ClientDmaWindows.PAGE;
        if (pgsizes == 0) {
            throw new RequestError(
                    Errno.EINVAL,
                    "VERSION: pgsizes 0x"
                            + Long.toHexString(version.capabilities().pgsizes()) + " has no page size of "
                            + ClientDmaWindows.PAGE + " bytes or more");
        }
        Capabilities ours =
                new Capabilities(options.maxMsgFds(), options.maxDataXferSize(), options.maxDmaMaps(), pgsizes);
        requireNamedBelowDefault(
                version,
                Capabilities.MAX_DATA_XFER_SIZE,
                ours.maxDataXferSize(),
                Capabilities.DEFAULT_MAX_DATA_XFER_SIZE);
        requireNamedBelowDefault(
                version, Capabilities.MAX_DMA_MAPS, ours.maxDmaMaps(), Capabilities.DEFAULT_MAX_DMA_MAPS);
        client = version.capabilities();
        dmaPageSize = Long.lowestOneBit(pgsizes);
        int minor = Math.min(version.minor(), VfioUserServer.MINOR);
        Capabilities.TwinSocket proposed = version.twinSocket();
        Reply reply;
        if (proposed != null && proposed.supported() && client.maxMsgFds() >= 1) {
            // Twin-socket mode, as the specification recommends to a server that sends DMA requests: a
            // fresh pair, our end for DMA_READ/WRITE, the client's end at index 0 of the reply's fds.
            UnixSocket[] pair = UnixSocket.pair();
            try {
                pair[0].setReceiveTimeout(server.options().dmaTimeout());
            } catch (ErrnoException e) {
                pair[0].close();
                pair[1].close();
                throw e;
            }
            // the twin's receive timeout is the DMA timeout; a malformed message there ends the DMA request
            commands = new Session(
                    new Channel(pair[0], options.maxDataXferSize() + 2 * Header.SIZE + 64, 0, (int)
                            options.partialTimeout().toMillis()),
                    options.dmaTimeout(),
                    this::refuseOnTwin,
                    this::dropOnTwin,
                    ReplyPolling.off());
            reply = new Reply(
                    new Payload.Version(
                            VfioUserServer.MAJOR, minor, ours, version.names(), new Capabilities.TwinSocket(true, 0)),
                    new int[] {pair[1].fd().get()},
                    pair[1].fd());
        } else {
            reply = Reply.of(new Payload.Version(VfioUserServer.MAJOR, minor, ours, version.names()));
        }
        negotiated = true;
        try {
            server.model().clientConnected();
        } catch (RuntimeException e) {
            // The client hears EIO and the connection closes as after any failed VERSION: the model never
            // took the client, so it is not told it left, and the twin socket's client end goes nowhere.
            negotiated = false;
            if (reply.handedOver() != null) {
                reply.handedOver().close();
            }
            throw new ModelFailure(e);
        }
        return reply;
    }

    private static void requireNamedBelowDefault(Payload.Version version, String name, long ours, long fallback)
            throws RequestError {
        if (ours < fallback && !version.names().contains(name)) {
            throw new RequestError(
                    Errno.EINVAL,
                    "VERSION: the server needs " + name + " " + ours + ", below the default " + fallback
                            + " that the client assumes by not proposing it");
        }
    }

    private Reply deviceInfo(Payload.DeviceGetInfo request, List<Fd> fds) throws RequestError {
        expectNoFds(fds, "DEVICE_GET_INFO");
        checkArgsz(request.argsz(), Payload.DeviceGetInfo.SIZE, "DEVICE_GET_INFO");
        return Reply.of(new Payload.DeviceGetInfo(
                Payload.DeviceGetInfo.SIZE, server.deviceFlags(), server.numRegions(), server.numIrqs()));
    }

    private VfioUserServer.ServedRegion region(int index, String what) throws RequestError {
        checkExists(index, server.numRegions(), "region", what);
        return server.region(index);
    }

    /** A request's index of something the device has {@code count} of: {@code kind} says of what. */
    private static void checkExists(int index, int count, String kind, String what) throws RequestError {
        if (index < 0 || index >= count) {
            throw new RequestError(
                    Errno.EINVAL,
                    what + ": " + kind + " " + Integer.toUnsignedString(index) + " does not exist (the device has "
                            + count + ")");
        }
    }

    private Reply regionInfo(Payload.DeviceGetRegionInfo request, List<Fd> fds) throws RequestError {
        String what = "DEVICE_GET_REGION_INFO";
        expectNoFds(fds, what);
        checkArgsz(request.argsz(), Payload.DeviceGetRegionInfo.SIZE, what);
        VfioUserServer.ServedRegion region = region(request.index(), what);
        if (region == null) {
            return Reply.of(new Payload.DeviceGetRegionInfo(
                    Payload.DeviceGetRegionInfo.SIZE, 0, request.index(), 0, 0, List.of()));
        }
        RegionSpec spec = region.spec();
        boolean sendFd = spec.sharedMemory() && client.maxMsgFds() >= 1;
        int flags = sendFd ? spec.flags() : spec.flags() & ~RegionInfo.FLAG_MMAP;
        // A region mmap'able whole is described by one sparse area covering it, as libvfio-user describes
        // every region with an fd: then the fd never comes with the 32-byte first query, which
        // libvfio-user's client makes with no room for an fd (it fails with EFAULT when one comes).
        // Read-only areas go in jvfio's own capability; a client that knows only SPARSE_MMAP sees those
        // areas left out of it (none, for a region of registers) and traps every access there.
        List<SparseArea> areas = spec.sparseAreas().isEmpty()
                ? List.of(new SparseArea(0, spec.size()))
                : spec.sparseAreas().stream().filter(area -> !area.readOnly()).toList();
        List<SparseArea> readOnly =
                spec.sparseAreas().stream().filter(SparseArea::readOnly).toList();
        List<Payload.Capability> capabilities = new ArrayList<>();
        if (sendFd) {
            capabilities.add(Codec.sparseMmapCapability(areas));
            if (!readOnly.isEmpty()) {
                capabilities.add(Codec.readOnlyMmapCapability(readOnly));
            }
        }
        if (capabilities.isEmpty()) {
            flags &= ~RegionInfo.FLAG_CAPS;
        } else {
            flags |= RegionInfo.FLAG_CAPS;
        }
        Payload.DeviceGetRegionInfo full =
                new Payload.DeviceGetRegionInfo(0, flags, request.index(), spec.size(), 0, capabilities);
        int needed = full.fullSize();
        if (Integer.compareUnsigned(request.argsz(), needed) < 0) {
            // Too small for the chain: the struct alone, without CAPS and without the fd, and argsz saying
            // what to ask for. libvfio-user answers so; its client and QEMU's ask small first and cannot
            // take an fd or a chain with that first query. The fd comes with the full reply.
            return Reply.of(new Payload.DeviceGetRegionInfo(
                    needed, flags & ~RegionInfo.FLAG_CAPS, request.index(), spec.size(), 0, List.of()));
        }
        int[] replyFds = sendFd ? new int[] {region.memoryFd().get()} : NO_FDS;
        return new Reply(
                new Payload.DeviceGetRegionInfo(needed, flags, request.index(), spec.size(), 0, capabilities),
                replyFds,
                null);
    }

    /**
     * The region's posted writes as ioeventfds with their value as datamatch, one eventfd each (so the
     * model learns which write came), made for this connection when it first asks and the same ones
     * again when it asks again; as many as the client takes fds in a message. An argsz too small for
     * the entries gets the count and the argsz needed, without entries or fds.
     */
    private Reply ioFds(Payload.RegionIoFdsRequest request, List<Fd> fds) throws RequestError, ErrnoException {
        String what = "DEVICE_GET_REGION_IO_FDS";
        expectNoFds(fds, what);
        checkArgsz(request.argsz(), Payload.RegionIoFdsReply.SIZE, what);
        if (request.flags() != 0 || request.count() != 0) {
            throw new RequestError(Errno.EINVAL, what + ": flags and count must be zero");
        }
        region(request.index(), what);
        List<PostedWrite> offered = server.postedWrites(request.index());
        offered = offered.subList(0, Math.min(offered.size(), client.maxMsgFds()));
        if (offered.isEmpty()) {
            return Reply.of(
                    new Payload.RegionIoFdsReply(Payload.RegionIoFdsReply.SIZE, 0, request.index(), 0, List.of()));
        }
        int needed = Payload.RegionIoFdsReply.SIZE + Payload.IoFdEntry.SPEC_SIZE * offered.size();
        if (Integer.compareUnsigned(request.argsz(), needed) < 0) {
            return Reply.of(new Payload.RegionIoFdsReply(needed, 0, request.index(), offered.size(), List.of()));
        }
        List<EventFd> eventFds = ioEventFds(request.index(), offered);
        List<Payload.IoFdEntry> entries = new ArrayList<>();
        int[] replyFds = new int[offered.size()];
        for (int i = 0; i < offered.size(); i++) {
            PostedWrite posted = offered.get(i);
            entries.add(new Payload.IoFdEntry(
                    posted.offset(),
                    posted.size(),
                    i,
                    Payload.IoFdEntry.TYPE_IOEVENTFD,
                    Payload.IoFdEntry.FLAG_DATAMATCH,
                    posted.value()));
            replyFds[i] = eventFds.get(i).fd().get();
        }
        return new Reply(Payload.RegionIoFdsReply.of(0, request.index(), entries), replyFds, null);
    }

    /** This connection's eventfds for a region's posted writes, made and watched on first use. */
    private List<EventFd> ioEventFds(int region, List<PostedWrite> offered) throws ErrnoException {
        List<IoEvent> made = ioEvents.computeIfAbsent(region, index -> new ArrayList<>());
        EventLoop loop = server.ioEvents();
        while (made.size() < offered.size()) {
            PostedWrite posted = offered.get(made.size());
            EventFd eventFd = EventFd.create(true);
            try {
                made.add(new IoEvent(eventFd, loop.register(eventFd, count -> server.deliverPostedWrite(posted))));
            } catch (ErrnoException | RuntimeException e) {
                eventFd.close();
                throw e;
            }
        }
        return made.stream().map(IoEvent::eventFd).toList();
    }

    private ModelIrqSpec irqIndex(int index, String what) throws RequestError {
        checkExists(index, server.numIrqs(), "IRQ index", what);
        return server.irqSpec(index);
    }

    private Reply irqInfo(Payload.DeviceGetIrqInfo request, List<Fd> fds) throws RequestError {
        String what = "DEVICE_GET_IRQ_INFO";
        expectNoFds(fds, what);
        checkArgsz(request.argsz(), Payload.DeviceGetIrqInfo.SIZE, what);
        ModelIrqSpec spec = irqIndex(request.index(), what);
        return Reply.of(new Payload.DeviceGetIrqInfo(
                Payload.DeviceGetIrqInfo.SIZE,
                spec == null ? 0 : spec.flags(),
                request.index(),
                spec == null ? 0 : spec.count()));
    }

    private Reply setIrqs(Payload.DeviceSetIrqs request, List<Fd> fds) throws RequestError, ErrnoException {
        String what = "DEVICE_SET_IRQS";
        // The specification: argsz "is the size of the VFIO IRQ set request payload, including any data";
        // libvfio-user refuses any other.
        int payloadSize = Payload.DeviceSetIrqs.SIZE + request.data().length();
        if (request.argsz() != payloadSize) {
            throw new RequestError(
                    Errno.EINVAL,
                    what + ": argsz " + Integer.toUnsignedString(request.argsz()) + " is not the payload's "
                            + payloadSize + " bytes");
        }
        int dataFlags = request.flags() & (IrqSet.DATA_NONE | IrqSet.DATA_BOOL | IrqSet.DATA_EVENTFD);
        int actionFlags =
                request.flags() & (IrqAction.MASK.flag() | IrqAction.UNMASK.flag() | IrqAction.TRIGGER.flag());
        if (Integer.bitCount(dataFlags) != 1
                || Integer.bitCount(actionFlags) != 1
                || (request.flags() & ~(dataFlags | actionFlags)) != 0) {
            throw new RequestError(
                    Errno.EINVAL,
                    what + ": flags 0x" + Integer.toHexString(request.flags())
                            + " must hold exactly one DATA and one ACTION bit");
        }
        ModelIrqSpec spec = irqIndex(request.index(), what);
        int lineCount = spec == null ? 0 : spec.count();
        long start = Integer.toUnsignedLong(request.start());
        long count = Integer.toUnsignedLong(request.count());
        IrqAction action = IrqAction.fromFlags(actionFlags);
        if (count == 0) {
            // The specification's one use of count 0: start 0, DATA_NONE, TRIGGER de-assigns the whole index.
            // libvfio-user and the kernel refuse any other action or start with count 0.
            expectNoFds(fds, what + " with count 0");
            if (dataFlags != IrqSet.DATA_NONE || action != IrqAction.TRIGGER || start != 0) {
                throw new RequestError(
                        Errno.EINVAL,
                        what + ": count 0 needs start 0, DATA_NONE and ACTION_TRIGGER" + " (flags 0x"
                                + Integer.toHexString(request.flags()) + ", start " + start + ")");
            }
            if (lineCount == 0) {
                throw new RequestError(Errno.EINVAL, what + ": index " + request.index() + " has no IRQs to disable");
            }
            for (int sub = 0; sub < lineCount; sub++) {
                server.line(request.index(), sub).setTrigger(null);
            }
            return Reply.of(Payload.Empty.INSTANCE);
        }
        if (start + count > lineCount) {
            throw new RequestError(
                    Errno.EINVAL,
                    what + ": IRQs " + start + ".." + (start + count - 1) + " of index " + request.index()
                            + " exceed its " + lineCount + " lines");
        }
        if (dataFlags == IrqSet.DATA_EVENTFD) {
            if (!fds.isEmpty() && fds.size() != count) {
                throw new RequestError(
                        Errno.EINVAL,
                        what + ": " + fds.size() + " eventfds for " + count + " IRQs (0 de-assigns, else one each)");
            }
            if (action == IrqAction.MASK) {
                throw new RequestError(Errno.EINVAL, what + ": MASK with eventfds is not supported");
            }
            for (int i = 0; i < fds.size(); i++) {
                // the line's thread writes a trigger and watches an unmask: a pipe or a socket could block it
                if (!EventFd.isEventFd(fds.get(i))) {
                    throw new RequestError(
                            Errno.EINVAL,
                            what + ": the fd for IRQ " + request.index() + "." + (start + i) + " is not an eventfd");
                }
            }
            List<ModelIrqLine> lines = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                lines.add(server.line(request.index(), (int) start + i));
            }
            if (action == IrqAction.TRIGGER) {
                for (int i = 0; i < count; i++) {
                    lines.get(i).setTrigger(fds.isEmpty() ? null : EventFd.adopt(fds.get(i)));
                }
            } else {
                setUnmasks(lines, fds, what + ": IRQs " + request.index() + "." + start + ".." + (start + count - 1));
            }
            // the lines own them now
            fds.clear();
            return Reply.of(Payload.Empty.INSTANCE);
        }
        expectNoFds(fds, what + " without DATA_EVENTFD");
        for (int i = 0; i < count; i++) {
            if (dataFlags == IrqSet.DATA_BOOL && request.data().at(i) == 0) {
                continue;
            }
            ModelIrqLine line = server.line(request.index(), (int) start + i);
            switch (action) {
                case MASK -> line.mask();
                case UNMASK -> line.unmask();
                case TRIGGER -> line.loopback();
            }
        }
        return Reply.of(Payload.Empty.INSTANCE);
    }

    /**
     * Hands the unmask eventfds to their lines, all or none: refused, no line has changed and the fds are
     * still the request's, which closes them.
     */
    private void setUnmasks(List<ModelIrqLine> lines, List<Fd> fds, String what) throws RequestError, ErrnoException {
        List<EventFd> unmasks = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            unmasks.add(fds.isEmpty() ? null : EventFd.adoptForReading(fds.get(i)));
        }
        try {
            server.watcher().setUnmasks(lines, unmasks);
        } catch (ErrnoException e) {
            throw new RequestError(e.errno(), what + ": the unmask eventfds cannot be watched: " + e.getMessage());
        } catch (IllegalStateException e) {
            throw new RequestError(Errno.EIO, what + ": the unmask eventfds cannot be watched: " + e.getMessage());
        }
    }

    private VfioUserServer.ServedRegion checkAccess(Payload.RegionAccess access, boolean write) throws RequestError {
        String what = write ? "REGION_WRITE" : "REGION_READ";
        VfioUserServer.ServedRegion region = region(access.region(), what);
        if (region == null) {
            throw new RequestError(Errno.EINVAL, what + ": region " + access.region() + " is empty");
        }
        RegionSpec spec = region.spec();
        if (write ? !spec.writable() : !spec.readable()) {
            throw new RequestError(
                    Errno.EINVAL,
                    what + ": region " + access.region() + " is not " + (write ? "writable" : "readable"));
        }
        long count = Integer.toUnsignedLong(access.count());
        if (count > server.options().maxDataXferSize()) {
            throw new RequestError(
                    Errno.EINVAL,
                    what + ": count " + count + " exceeds max_data_xfer_size "
                            + server.options().maxDataXferSize());
        }
        if (!write && count > client.maxDataXferSize()) {
            // the reply carries the data, and the client said it takes no more in one message: sent, it
            // would be refused or cut short at the client's end instead of answered here
            throw new RequestError(
                    Errno.EINVAL,
                    what + ": count " + count + " exceeds the client's own max_data_xfer_size "
                            + client.maxDataXferSize() + ", so it could not take the reply");
        }
        long offset = access.offset();
        if (offset < 0 || offset > spec.size() - count) {
            throw new RequestError(
                    Errno.EINVAL,
                    what + ": [0x" + Long.toHexString(offset) + ", +" + count + ") lies past the end of region "
                            + access.region() + " (size 0x" + Long.toHexString(spec.size()) + ")");
        }
        return region;
    }

    private Reply regionRead(Payload.RegionAccess access, List<Fd> fds) throws RequestError {
        expectNoFds(fds, "REGION_READ");
        VfioUserServer.ServedRegion region = checkAccess(access, false);
        int count = access.count();
        if (count == 0) {
            // libvfio-user accepts it too; the model is not asked to read nothing
            return Reply.of(access);
        }
        Bytes data;
        if (region.spec().inMemory(access.offset(), count)) {
            byte[] array = new byte[count];
            region.memory().copyTo(access.offset(), array, 0, count);
            data = Bytes.adopt(array);
        } else {
            data = readFromModel(region.spec().handler().orElseThrow(), access.offset(), count);
        }
        return Reply.of(new Payload.RegionAccess(access.offset(), access.region(), count, data));
    }

    /**
     * What the model's handler answers for {@code count} bytes at {@code offset}; what it throws is the
     * model's failure (the conversions beside it cannot fail for these counts).
     */
    private static Bytes readFromModel(RegionHandler handler, long offset, int count) {
        try {
            if (isSized(count)) {
                return Bytes.littleEndian(handler.read(offset, count), count);
            }
            byte[] array = new byte[count];
            handler.read(offset, array);
            return Bytes.adopt(array);
        } catch (RuntimeException e) {
            throw new ModelFailure(e);
        }
    }

    /** A count the handler's value methods take; others go through its byte-array methods. */
    private static boolean isSized(int count) {
        return count == 1 || count == 2 || count == 4 || count == 8;
    }

    /** {@code posted}: the client sent it with NO_REPLY, so waits for nothing the model does. */
    private Reply regionWrite(Payload.RegionAccess access, boolean posted, List<Fd> fds) throws RequestError {
        expectNoFds(fds, "REGION_WRITE");
        VfioUserServer.ServedRegion region = checkAccess(access, true);
        int count = access.count();
        if (count == 0) {
            return Reply.of(access);
        }
        if (region.spec().inMemory(access.offset(), count)) {
            region.memory().copyFrom(access.data().asReadOnlyBuffer(), access.offset());
        } else {
            RegionHandler handler = region.spec().handler().orElseThrow();
            // What the handler throws is the model's failure; reading the request's data beside it cannot fail.
            try {
                if (!isSized(count)) {
                    handler.write(access.offset(), access.data().toArray());
                } else if (posted) {
                    handler.postedWrite(access.offset(), count, access.data().littleEndianValue());
                } else {
                    handler.write(access.offset(), count, access.data().littleEndianValue());
                }
            } catch (RuntimeException e) {
                throw new ModelFailure(e);
            }
        }
        return Reply.of(Payload.RegionAccess.of(access.offset(), access.region(), count));
    }

    private Reply dmaMap(Payload.DmaMap request, List<Fd> fds) throws RequestError {
        checkArgsz(request.argsz(), Payload.DmaMap.SIZE, "DMA_MAP");
        if (fds.size() > 1) {
            throw new RequestError(Errno.EINVAL, "DMA_MAP carried " + fds.size() + " fds, expected at most 1");
        }
        ClientDmaWindows.Window window = dma.map(request, fds.isEmpty() ? null : fds.getFirst(), name, dmaPageSize);
        try {
            server.model().dmaMapped(window.iova(), window.size(), window.readable(), window.writable());
        } catch (RuntimeException e) {
            // The client hears EIO and takes the range as not mapped: kept here, it would hold the client's
            // memory mapped and refuse the same DMA_MAP again with EEXIST.
            dma.unmap(window.iova(), window.size(), dmaPageSize);
            throw new ModelFailure(e);
        }
        return Reply.of(Payload.Empty.INSTANCE);
    }

    private Reply dmaUnmap(Payload.DmaUnmap request, List<Fd> fds) throws RequestError {
        expectNoFds(fds, "DMA_UNMAP");
        checkArgsz(request.argsz(), Payload.DmaUnmap.SIZE, "DMA_UNMAP");
        if (request.flags() == Payload.DmaUnmap.FLAG_ALL) {
            // QEMU's client unmaps everything so; libvfio-user takes it with address and size 0
            if (request.address() != 0 || request.size() != 0) {
                throw new RequestError(
                        Errno.EINVAL,
                        "DMA_UNMAP with FLAG_ALL must have address and size 0, not 0x"
                                + Long.toHexString(request.address()) + " and 0x" + Long.toHexString(request.size()));
            }
            for (ClientDmaWindows.Window window : dma.unmapAll()) {
                tellUnmapped(window.iova(), window.size());
            }
            return Reply.of(request);
        }
        if (request.flags() != 0) {
            throw new RequestError(
                    Errno.EINVAL,
                    "DMA_UNMAP flags 0x" + Integer.toHexString(request.flags())
                            + " are not supported (only FLAG_ALL, 0x" + Integer.toHexString(Payload.DmaUnmap.FLAG_ALL)
                            + ")");
        }
        dma.unmap(request.address(), request.size(), dmaPageSize);
        tellUnmapped(request.address(), request.size());
        return Reply.of(request);
    }

    /**
     * Tells the model of a window already withdrawn. Its failure is logged, not answered: the window is
     * gone whatever the model says, and a client told otherwise would keep memory the server no longer
     * reaches, or map the range again only to hear EEXIST.
     */
    private void tellUnmapped(long iova, long size) {
        try {
            server.model().dmaUnmapped(iova, size);
        } catch (RuntimeException e) {
            LOG.log(
                    Level.ERROR,
                    "vfio-user server " + name + ": the device model failed on the unmap of [0x"
                            + Long.toHexString(iova) + ", +0x" + Long.toHexString(size)
                            + "), which is done all the same",
                    e);
        }
    }

    private Reply reset(List<Fd> fds) throws RequestError {
        expectNoFds(fds, "DEVICE_RESET");
        if ((server.deviceFlags() & DeviceInfo.FLAG_RESET) == 0) {
            throw new RequestError(Errno.EINVAL, "DEVICE_RESET: the device does not support reset");
        }
        try {
            server.model().reset();
        } catch (RuntimeException e) {
            throw new ModelFailure(e);
        }
        return Reply.of(Payload.Empty.INSTANCE);
    }

    private Reply feature(Payload.DeviceFeature request, List<Fd> fds) throws RequestError {
        String what = "DEVICE_FEATURE";
        expectNoFds(fds, what);
        checkArgsz(request.argsz(), Payload.DeviceFeature.SIZE, what);
        int operations = request.flags() & ~Payload.DeviceFeature.FEATURE_MASK;
        if ((operations & ~(Payload.DeviceFeature.GET | Payload.DeviceFeature.SET | Payload.DeviceFeature.PROBE))
                != 0) {
            throw new RequestError(Errno.EINVAL, what + ": unknown flags 0x" + Integer.toHexString(request.flags()));
        }
        // ENOTTY for a feature the device lacks, as the kernel's VFIO_DEVICE_FEATURE answers and as QEMU's
        // migration code takes for "not supported"; EINVAL stays for malformed requests.
        if (request.feature() != PlatformExtension.FEATURE_DT_IDENTITY) {
            throw new RequestError(Errno.ENOTTY, what + ": feature " + request.feature() + " is not supported");
        }
        Optional<DeviceTreeIdentity> identity;
        try {
            identity = server.model().deviceTreeIdentity();
        } catch (RuntimeException e) {
            throw new ModelFailure(e);
        }
        if (identity.isEmpty()) {
            throw new RequestError(Errno.ENOTTY, what + ": the device has no device-tree identity");
        }
        boolean get = (operations & Payload.DeviceFeature.GET) != 0;
        boolean set = (operations & Payload.DeviceFeature.SET) != 0;
        if (set) {
            throw new RequestError(Errno.EINVAL, what + ": the device-tree identity cannot be set");
        }
        if ((operations & Payload.DeviceFeature.PROBE) != 0) {
            return Reply.of(new Payload.DeviceFeature(Payload.DeviceFeature.SIZE, request.flags(), Bytes.EMPTY));
        }
        if (!get) {
            throw new RequestError(Errno.EINVAL, what + ": neither GET, SET nor PROBE");
        }
        byte[] data = PlatformExtension.encode(identity.get());
        int needed = Payload.DeviceFeature.SIZE + data.length;
        if (Integer.compareUnsigned(request.argsz(), needed) < 0) {
            return Reply.of(new Payload.DeviceFeature(needed, request.flags(), Bytes.EMPTY));
        }
        return Reply.of(new Payload.DeviceFeature(needed, request.flags(), Bytes.adopt(data)));
    }

    /** DMA from the model: through the mmap'ed fd, or DMA_READ / DMA_WRITE messages to the client. */
    void dma(long iova, byte[] data, int offset, int length, boolean write) throws IOException {
        if (offset < 0 || length < 0 || offset > data.length - length) {
            throw new IndexOutOfBoundsException("DMA buffer range [" + offset + ", +" + length + ") of " + data.length);
        }
        if (dma.access(iova, data, offset, length, write) == null) {
            return;
        }
        long chunk = Math.max(1, client.maxDataXferSize() - Header.SIZE);
        for (int done = 0; done < length; ) {
            int part = (int) Math.min(chunk, length - done);
            long address = iova + done;
            if (write) {
                Bytes bytes = Bytes.copyOfRange(data, offset + done, offset + done + part);
                Payload.DmaAccess reply = requestClient(Command.DMA_WRITE, new Payload.DmaAccess(address, part, bytes));
                if (reply.address() != address || reply.count() != part) {
                    throw new ProtocolException("DMA_WRITE reply is for " + reply.count() + " bytes at 0x"
                            + Long.toHexString(reply.address()));
                }
            } else {
                Payload.DmaAccess reply = requestClient(Command.DMA_READ, Payload.DmaAccess.of(address, part));
                Bytes bytes = reply.data();
                if (reply.address() != address || bytes.length() != part) {
                    throw new ProtocolException("DMA_READ reply is for " + bytes.length() + " bytes at 0x"
                            + Long.toHexString(reply.address()));
                }
                bytes.copyTo(ByteBuffer.wrap(data, offset + done, part));
            }
            done += part;
        }
    }

    /** Whether a DMA of the range would find a mapping that allows it; nothing moves. */
    void dmaCheck(long iova, int length, boolean write) throws DmaException {
        dma.check(iova, length, write);
    }

    /** DMA straight to or from the client's mmap'ed memory; false where it gave no fd. */
    boolean dmaDirect(
            long[] iovas, int[] lengths, boolean write, IoVector vector, DeviceContext.DirectTransfer transfer)
            throws IOException {
        return dma.direct(iovas, lengths, write, vector, transfer);
    }

    private Payload.DmaAccess requestClient(int command, Payload.DmaAccess request) throws IOException {
        Call call = new Call(command, request, NO_FDS, null);
        Channel.Incoming reply;
        Session twin = commands;
        if (twin != null) {
            // the client's requests keep arriving on the main socket meanwhile, so any thread may wait here
            commandLock.lock();
            try {
                reply = twin.call(call);
            } finally {
                commandLock.unlock();
            }
        } else {
            reply = awaitReply(call);
        }
        reply.closeFds();
        if (reply.header().isError()) {
            throw new DmaException(
                    DmaException.Reason.REFUSED_BY_CLIENT,
                    call.describe()
                            + ": the client answered with an error: "
                            + Errno.describe(reply.header().error()) + " ("
                            + Errno.name(reply.header().error()) + ")");
        }
        if (reply.error() != null) {
            throw reply.error();
        }
        if (!(reply.payload() instanceof Payload.DmaAccess access)) {
            throw new ProtocolException(call.describe() + ": unexpected reply " + reply.header());
        }
        return access;
    }

    /**
     * Without a twin socket, from any thread (the connection's own, in a handler, included): sends the
     * request and waits for its reply on the main socket, reading it whenever nobody else does.
     */
    private Channel.Incoming awaitReply(Call call) throws IOException {
        int msgId = nextMsgId.getAndIncrement() & 0xFFFF;
        ReplyWaiter waiter = new ReplyWaiter();
        pending.put(msgId, waiter);
        try {
            channel.send(msgId, call.command(), Header.TYPE_COMMAND, 0, call.payload(), call.fds());
            awaitOutcome(waiter, call);
        } catch (IOException | RuntimeException e) {
            waiter.abandon();
            throw e;
        } finally {
            pending.remove(msgId);
        }
        return waiter.outcome();
    }

    /**
     * Until the waiter's reply is in or it failed: reads the socket while nobody else does, else parks
     * until the reader hands the reply over or lets go.
     */
    private void awaitOutcome(ReplyWaiter waiter, Call call) throws IOException {
        long deadline = System.nanoTime() + server.options().dmaTimeout().toNanos();
        while (!waiter.reply.isDone()) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                throw new NoReplyException("no reply to " + call.describe() + " from the client within "
                        + server.options().dmaTimeout().toMillis() + " ms");
            }
            if (Thread.currentThread().isInterrupted()) {
                throw new InterruptedIOException(call.describe() + " to the client was interrupted");
            }
            if (readLock.tryLock()) {
                try {
                    readFor(waiter, call, deadline);
                } finally {
                    readLock.unlock();
                    wakeReaders();
                }
            } else {
                LockSupport.parkNanos(this, left);
            }
        }
    }

    /**
     * Holding the read lock: reads until the waiter's reply is in or the deadline passes, handing other
     * replies to their waiters and keeping the client's requests for the connection's thread. Holding the
     * lock that long keeps nobody waiting: every message another thread needs, this one passes on.
     */
    private void readFor(ReplyWaiter waiter, Call call, long deadline) throws IOException {
        while (!waiter.reply.isDone()) {
            if (ended) {
                // end() may have closed the channel after it had the lock
                throw new PeerClosedException(
                        "the connection ended while " + call.describe() + " waited for its reply");
            }
            int kept = deferred.size();
            if (kept > MAX_DEFERRED) {
                throw new NoReplyException(
                        "the client sent " + kept + " requests instead of the reply to a DMA request");
            }
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return;
            }
            if (!channel.readable(Math.clamp(TimeUnit.NANOSECONDS.toMillis(left), 1, Integer.MAX_VALUE))) {
                return;
            }
            Channel.Incoming incoming;
            try {
                incoming = channel.receive();
            } catch (FramingException e) {
                // answered as the connection's thread answers it; the deadline is looked at again first
                answerMalformed(e);
                continue;
            }
            if (incoming == null) {
                throw new PeerClosedException(
                        "the client closed the connection while " + call.describe() + " waited for its reply");
            }
            if (incoming.header().isReply()) {
                route(incoming);
            } else {
                defer(incoming);
            }
        }
    }

    /**
     * A client's request read by a DMA waiter: kept for the connection's thread, which is woken for it.
     * Every request read is kept, so that each is answered in order: the bound is kept by reading no
     * further past it ({@link #readFor}).
     */
    private void defer(Channel.Incoming request) {
        deferred.add(request);
        Thread connectionThread = thread;
        if (connectionThread != Thread.currentThread()) {
            LockSupport.unpark(connectionThread);
        }
    }

    /** The twin socket carries the server's commands only; the client's go to the main one. */
    private void refuseOnTwin(Channel.Incoming request) throws ErrnoException {
        request.closeFds();
        LOG.log(Level.WARNING, "vfio-user server {0}: twin socket: refusing the client's {1}", name, request.header());
        commands.channel().sendError(request.header().msgId(), request.header().command(), Errno.EINVAL);
    }

    private void dropOnTwin(Channel.Incoming reply) {
        reply.closeFds();
        LOG.log(Level.WARNING, "vfio-user server {0}: twin socket: dropping {1}", name, reply.header());
    }

    /** The client's KVM may still signal them: unwatched first, so no write arrives after the client left. */
    private void releaseIoEvents() {
        for (List<IoEvent> made : ioEvents.values()) {
            for (IoEvent event : made) {
                try {
                    server.ioEvents().unregister(event.token());
                } catch (ErrnoException | IllegalStateException e) {
                    LOG.log(Level.DEBUG, "vfio-user server {0}: unwatching an ioeventfd: {1}", name, e.getMessage());
                }
                event.eventFd().close();
            }
        }
        ioEvents.clear();
    }

    private void end() {
        ended = true;
        // wakes a DMA waiter that reads the socket, and fails sends from here on
        channel.shutdown();
        for (ReplyWaiter waiter : pending.values()) {
            waiter.fail(new PeerClosedException("the client closed the connection"));
        }
        // The reader lets go at the shutdown; whoever takes the lock later sees the connection ended.
        readLock.lock();
        try {
            Channel.Incoming request;
            while ((request = deferred.poll()) != null) {
                request.closeFds();
            }
        } finally {
            readLock.unlock();
        }
        // a waiter that found the lock held here parks until woken
        wakeReaders();
        Session twin = commands;
        if (twin != null) {
            // wakes a model thread waiting for a DMA reply, then closes once it has let go
            twin.channel().shutdown();
            commandLock.lock();
            try {
                twin.channel().close();
            } finally {
                commandLock.unlock();
            }
        }
        releaseIoEvents();
        dma.close();
        channel.close();
        server.connectionEnded(this, negotiated);
    }
}
