package io.jvfio.vfiouser.server;

import io.jvfio.sys.Errno;
import io.jvfio.sys.ErrnoException;
import io.jvfio.sys.Fd;
import io.jvfio.sys.IoVector;
import io.jvfio.sys.Mapping;
import io.jvfio.sys.MemFd;
import io.jvfio.sys.UnixSocket;
import io.jvfio.sys.event.EventLoop;
import io.jvfio.vfiouser.Capabilities;
import io.jvfio.vfiouser.Channel;
import io.jvfio.vfiouser.Command;
import io.jvfio.vfiouser.FramingException;
import io.jvfio.vfiouser.Header;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Serves one {@link DeviceModel} over vfio-user on a socket file (mode 0600). One client at a time: a
 * second one gets an EBUSY error reply to its VERSION and is closed, while the first is served. A client
 * that arrives while the last one's connection is still being torn down (it left a moment ago) waits
 * for that, up to {@link #HANDOVER}, instead of being refused. The
 * server outlives clients that leave or crash, and accepts the next. Closing stops every thread and
 * releases every fd and mapping.
 */
public final class VfioUserServer implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(VfioUserServer.class.getName());
    public static final int MAJOR = 0;
    public static final int MINOR = 2;
    /** How long a new client waits for the previous connection to finish ending. */
    static final Duration HANDOVER = Duration.ofMillis(500);

    /**
     * Server settings: what it accepts from a client (fds a message, transfer size, DMA maps), how long
     * the rest of a started message may take, how long a DMA request to the client may take, and how
     * long a refused second client has to send its VERSION.
     */
    public record Options(
            int maxMsgFds,
            int maxDataXferSize,
            int maxDmaMaps,
            Duration partialTimeout,
            Duration dmaTimeout,
            Duration refusalTimeout) {
        public Options {
            if (maxMsgFds < 1
                    || maxMsgFds > UnixSocket.MAX_FDS_PER_MESSAGE
                    || maxDataXferSize < 4096
                    || maxDataXferSize > Capabilities.LIMIT_MAX_DATA_XFER_SIZE
                    || maxDmaMaps < 1) {
                throw new IllegalArgumentException("bad vfio-user server options");
            }
        }

        /** 16 fds, 1 MiB transfers, 65535 DMA maps, 500 ms partial timeout, 5 s DMA timeout, 1 s refusal. */
        public static Options defaults() {
            return new Options(
                    16,
                    (int) Capabilities.DEFAULT_MAX_DATA_XFER_SIZE,
                    (int) Capabilities.DEFAULT_MAX_DMA_MAPS,
                    Duration.ofMillis(500),
                    Duration.ofSeconds(5),
                    Duration.ofSeconds(1));
        }

        public Options withPartialTimeout(Duration timeout) {
            return new Options(maxMsgFds, maxDataXferSize, maxDmaMaps, timeout, dmaTimeout, refusalTimeout);
        }

        public Options withMaxMsgFds(int count) {
            return new Options(count, maxDataXferSize, maxDmaMaps, partialTimeout, dmaTimeout, refusalTimeout);
        }

        public Options withDmaTimeout(Duration timeout) {
            return new Options(maxMsgFds, maxDataXferSize, maxDmaMaps, partialTimeout, timeout, refusalTimeout);
        }
    }

    /** A region as served: its spec, and for shared memory the memfd and this process's mapping of it. */
    record ServedRegion(RegionSpec spec, Fd memoryFd, Mapping memory) {}

    private final String name;
    private final DeviceModel model;
    private final Options options;
    private final int deviceFlags;
    private final Map<Integer, ServedRegion> regions = new HashMap<>();
    private final Map<Integer, ModelIrqSpec> irqSpecs = new HashMap<>();
    private final Map<Integer, ModelIrqLine[]> lines = new HashMap<>();
    private final int numRegions;
    /** {@link #regions} by index, gaps null: every region access looks its region up. */
    private final ServedRegion[] regionsByIndex;

    private final int numIrqs;
    private final IrqWatcher watcher;
    /** The model's posted writes by region, in its order. */
    private final Map<Integer, List<PostedWrite>> postedWrites = new HashMap<>();

    private final Context context = new Context();
    private final AtomicReference<Connection> current = new AtomicReference<>();
    private final AtomicInteger clientsServed = new AtomicInteger();
    private final List<Thread> threads = new ArrayList<>();
    private UnixSocket listening;
    private Path socketPath;
    private volatile boolean closed;

    private VfioUserServer(String name, DeviceModel model, Options options) throws IOException {
        this.name = name;
        this.model = model;
        this.options = options;
        this.deviceFlags = model.deviceFlags();
        this.watcher = new IrqWatcher(name);
        int maxRegion = -1;
        try {
            for (RegionSpec spec : model.regions()) {
                if (regions.containsKey(spec.index())) {
                    throw new IllegalArgumentException("region " + spec.index() + " is declared twice");
                }
                Fd fd = null;
                Mapping memory = null;
                if (spec.sharedMemory()) {
                    long size = (spec.size() + ClientDmaWindows.PAGE - 1) & -ClientDmaWindows.PAGE;
                    fd = MemFd.create("vfio-user region " + spec.index(), size);
                    try {
                        memory = Mapping.map(fd, 0, size, true, "vfio-user " + name + " region " + spec.index());
                    } catch (ErrnoException e) {
                        fd.close();
                        throw e;
                    }
                }
                regions.put(spec.index(), new ServedRegion(spec, fd, memory));
                maxRegion = Math.max(maxRegion, spec.index());
            }
        } catch (IOException | RuntimeException e) {
            releaseRegions();
            throw e;
        }
        int maxIrq = -1;
        for (ModelIrqSpec spec : model.irqs()) {
            if (irqSpecs.containsKey(spec.index())) {
                releaseRegions();
                throw new IllegalArgumentException("IRQ index " + spec.index() + " is declared twice");
            }
            irqSpecs.put(spec.index(), spec);
            ModelIrqLine[] indexLines = new ModelIrqLine[spec.count()];
            for (int sub = 0; sub < spec.count(); sub++) {
                indexLines[sub] = new ModelIrqLine(spec.index(), sub, spec.trigger() == ModelIrqSpec.Trigger.LEVEL);
            }
            lines.put(spec.index(), indexLines);
            maxIrq = Math.max(maxIrq, spec.index());
        }
        this.numRegions = maxRegion + 1;
        this.regionsByIndex = new ServedRegion[numRegions];
        regions.forEach((index, region) -> regionsByIndex[index] = region);
        this.numIrqs = maxIrq + 1;
        for (PostedWrite posted : model.postedWrites()) {
            ServedRegion region = regions.get(posted.region());
            if (region == null
                    || region.spec().handler().isEmpty()
                    || posted.offset() > region.spec().size() - posted.size()
                    || region.spec().inMemory(posted.offset(), posted.size())) {
                releaseRegions();
                throw new IllegalArgumentException(
                        posted + " lies in no region served by callbacks (the model's region " + posted.region()
                                + (region == null ? " does not exist)" : " does not trap it)"));
            }
            postedWrites
                    .computeIfAbsent(posted.region(), index -> new ArrayList<>())
                    .add(posted);
        }
        model.attach(context);
    }

    /** Listens on {@code socketPath} (mode 0600) and serves {@code model} to one client at a time. */
    public static VfioUserServer start(Path socketPath, DeviceModel model) throws IOException {
        return start(socketPath, model, Options.defaults());
    }

    public static VfioUserServer start(Path socketPath, DeviceModel model, Options options) throws IOException {
        VfioUserServer server = new VfioUserServer(socketPath.toString(), model, options);
        try {
            server.socketPath = socketPath;
            server.listening = UnixSocket.listen(socketPath, 4);
        } catch (IOException | RuntimeException e) {
            server.close();
            throw e;
        }
        server.startThread("vfio-user server " + socketPath, server::acceptLoop);
        return server;
    }

    /** Serves {@code model} on an already connected socket (e.g. a socketpair end): one client only. */
    public static VfioUserServer serve(UnixSocket connected, String name, DeviceModel model, Options options)
            throws IOException {
        VfioUserServer server = new VfioUserServer(name, model, options);
        server.startConnection(connected);
        return server;
    }

    private synchronized void startThread(String threadName, Runnable body) {
        threads.add(Thread.ofPlatform().daemon().name(threadName).start(body));
    }

    private void startConnection(UnixSocket socket) {
        Channel channel =
                new Channel(socket, options.maxDataXferSize() + 2 * Header.SIZE + 64, options.maxMsgFds(), (int)
                        options.partialTimeout().toMillis());
        Connection connection = new Connection(this, channel, name);
        current.set(connection);
        startThread("vfio-user connection " + name, connection);
    }

    private void acceptLoop() {
        while (!closed) {
            UnixSocket socket;
            try {
                socket = listening.accept();
            } catch (ErrnoException e) {
                if (!closed) {
                    LOG.log(
                            Level.ERROR,
                            "vfio-user server {0}: accept failed, no more clients: {1}",
                            name,
                            e.getMessage());
                }
                return;
            } catch (IllegalStateException e) {
                return;
            }
            if (closed) {
                socket.close();
                return;
            }
            synchronized (this) {
                long deadline = System.nanoTime() + HANDOVER.toNanos();
                long left;
                while (current.get() != null && !closed && (left = deadline - System.nanoTime()) > 0) {
                    try {
                        TimeUnit.NANOSECONDS.timedWait(this, left);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        socket.close();
                        return;
                    }
                }
                if (current.get() == null && !closed) {
                    startConnection(socket);
                    continue;
                }
            }
            refuse(socket);
        }
    }

    /** Answers a second client's VERSION with EBUSY and closes it. */
    private void refuse(UnixSocket socket) {
        LOG.log(Level.WARNING, "vfio-user server {0}: refusing a second client while one is served", name);
        try (Channel channel = new Channel(socket, 64 * 1024, options.maxMsgFds(), (int)
                options.refusalTimeout().toMillis())) {
            socket.setReceiveTimeout(options.refusalTimeout());
            Channel.Incoming incoming = channel.receive();
            if (incoming != null) {
                incoming.closeFds();
                channel.sendError(incoming.header().msgId(), incoming.header().command(), Errno.EBUSY);
            }
        } catch (FramingException e) {
            LOG.log(Level.DEBUG, "refused client sent a malformed message: {0}", e.getMessage());
        } catch (IOException e) {
            LOG.log(Level.DEBUG, "refused client: {0}", e.getMessage());
        }
    }

    void connectionEnded(Connection connection, boolean negotiated) {
        for (ModelIrqLine[] indexLines : lines.values()) {
            for (ModelIrqLine line : indexLines) {
                watcher.release(line.disconnect());
            }
        }
        // The model hears of the departure before the next client may be handed over, so its connect and
        // disconnect callbacks never interleave (jvfio serve numbers clients by them).
        if (negotiated) {
            try {
                model.clientDisconnected();
            } catch (RuntimeException e) {
                LOG.log(Level.ERROR, "vfio-user server " + name + ": the model failed on disconnect", e);
            }
        }
        synchronized (this) {
            current.compareAndSet(connection, null);
            threads.removeIf(t -> t == Thread.currentThread());
            notifyAll();
        }
        clientsServed.incrementAndGet();
        LOG.log(
                Level.DEBUG,
                "vfio-user server {0}: client {1} left ({2})",
                name,
                clientsServed.get(),
                Command.name(Command.VERSION) + (negotiated ? " negotiated" : " never negotiated"));
    }

    /** The handle the model got in {@link DeviceModel#attach}. */
    public DeviceContext context() {
        return context;
    }

    /** Where the server listens (null when serving a given socket). */
    public Path socketPath() {
        return socketPath;
    }

    /** Whether a client is connected now. */
    public boolean clientConnected() {
        return current.get() != null;
    }

    /** How many client connections have ended. */
    public int clientsServed() {
        return clientsServed.get();
    }

    String name() {
        return name;
    }

    DeviceModel model() {
        return model;
    }

    Options options() {
        return options;
    }

    int deviceFlags() {
        return deviceFlags;
    }

    int numRegions() {
        return numRegions;
    }

    int numIrqs() {
        return numIrqs;
    }

    /** The region at a valid index, or null for a gap. */
    ServedRegion region(int index) {
        return regionsByIndex[index];
    }

    /** The IRQ index at a valid index, or null for a gap. */
    ModelIrqSpec irqSpec(int index) {
        return irqSpecs.get(index);
    }

    ModelIrqLine line(int index, int sub) {
        return lines.get(index)[sub];
    }

    IrqWatcher watcher() {
        return watcher;
    }

    /** The model's posted writes in a region (none for most). */
    List<PostedWrite> postedWrites(int region) {
        return postedWrites.getOrDefault(region, List.of());
    }

    /**
     * The loop that turns posted writes' eventfd signals into writes to their regions: the IRQ watcher's,
     * so that those writes and the client's unmasks are seen in the order they were signalled.
     */
    EventLoop ioEvents() throws ErrnoException {
        return watcher.loop();
    }

    /** A signalled posted write, on the IRQ watcher's event loop: the write the client would have posted. */
    void deliverPostedWrite(PostedWrite posted) {
        try {
            regions.get(posted.region())
                    .spec()
                    .handler()
                    .orElseThrow()
                    .postedWrite(posted.offset(), posted.size(), posted.value());
        } catch (RuntimeException e) {
            LOG.log(Level.ERROR, "vfio-user server " + name + ": the device model failed on " + posted, e);
        }
    }

    /** Stops accepting, disconnects the client, stops every thread, releases every fd and mapping. */
    @Override
    public void close() {
        List<Thread> running;
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            running = new ArrayList<>(threads);
            notifyAll();
        }
        if (listening != null) {
            listening.shutdown();
        }
        Connection connection = current.get();
        if (connection != null) {
            connection.stop();
        }
        for (Thread thread : running) {
            try {
                thread.join(5000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (listening != null) {
            listening.close();
            try {
                Files.deleteIfExists(socketPath);
            } catch (IOException e) {
                LOG.log(Level.DEBUG, "removing {0}: {1}", socketPath, e.getMessage());
            }
        }
        for (ModelIrqLine[] indexLines : lines.values()) {
            for (ModelIrqLine line : indexLines) {
                watcher.release(line.disconnect());
            }
        }
        watcher.close();
        releaseRegions();
    }

    private void releaseRegions() {
        for (ServedRegion region : regions.values()) {
            if (region.memory() != null) {
                region.memory().close();
            }
            if (region.memoryFd() != null) {
                region.memoryFd().close();
            }
        }
    }

    @Override
    public String toString() {
        return "VfioUserServer[" + name + "]";
    }

    private final class Context implements DeviceContext {
        @Override
        public ModelIrqLine irq(int index, int sub) {
            ModelIrqLine[] indexLines = lines.get(index);
            if (indexLines == null || sub < 0 || sub >= indexLines.length) {
                throw new IllegalArgumentException("IRQ " + index + "." + sub + " is not declared");
            }
            return indexLines[sub];
        }

        @Override
        public Mapping regionMemory(int region) {
            ServedRegion served = regions.get(region);
            if (served == null || served.memory() == null) {
                throw new IllegalArgumentException("region " + region + " has no shared memory");
            }
            return served.memory();
        }

        @Override
        public boolean clientConnected() {
            Connection connection = current.get();
            return connection != null && connection.negotiated();
        }

        @Override
        public void dmaRead(long iova, byte[] destination, int offset, int length) throws IOException {
            connection().dma(iova, destination, offset, length, false);
        }

        @Override
        public void dmaWrite(long iova, byte[] source, int offset, int length) throws IOException {
            connection().dma(iova, source, offset, length, true);
        }

        @Override
        public void dmaCheck(long iova, int length, boolean write) throws DmaException {
            connection().dmaCheck(iova, length, write);
        }

        @Override
        public boolean dmaDirect(long[] iovas, int[] lengths, boolean write, IoVector vector, DirectTransfer transfer)
                throws IOException {
            return connection().dmaDirect(iovas, lengths, write, vector, transfer);
        }

        private Connection connection() throws DmaException {
            Connection connection = current.get();
            if (connection == null || !connection.negotiated()) {
                throw new DmaException(
                        DmaException.Reason.NO_CLIENT,
                        "vfio-user " + name + ": DMA needs a connected client, but none is connected");
            }
            return connection;
        }
    }
}
