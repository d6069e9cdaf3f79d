package io.jvfio.vfiouser.client;

import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

import io.jvfio.sys.Errno;
import io.jvfio.sys.ErrnoException;
import io.jvfio.sys.EventFd;
import io.jvfio.sys.Fd;
import io.jvfio.sys.Mapping;
import io.jvfio.sys.UnixSocket;
import io.jvfio.vfio.DeviceGoneException;
import io.jvfio.vfio.DeviceInfo;
import io.jvfio.vfio.DeviceTreeIdentity;
import io.jvfio.vfio.DmaRegion;
import io.jvfio.vfio.IrqInfo;
import io.jvfio.vfio.IrqSet;
import io.jvfio.vfio.RegionCapability;
import io.jvfio.vfio.RegionInfo;
import io.jvfio.vfio.SparseArea;
import io.jvfio.vfio.VfioDevice;
import io.jvfio.vfio.VfioException;
import io.jvfio.vfiouser.Capabilities;
import io.jvfio.vfiouser.Channel;
import io.jvfio.vfiouser.Codec;
import io.jvfio.vfiouser.Command;
import io.jvfio.vfiouser.FramingException;
import io.jvfio.vfiouser.Header;
import io.jvfio.vfiouser.Payload;
import io.jvfio.vfiouser.PlatformExtension;
import io.jvfio.vfiouser.ProtocolException;

/**
 * A device served over vfio-user. Requests are serialised: the calling thread sends its request and
 * reads the reply itself (no hand-off between threads on the hot path), answering any DMA_READ /
 * DMA_WRITE the server sends meanwhile. While no call is running, a background thread answers the
 * server's DMA requests and notices a server that went away.
 *
 * <p>A server that closes the connection, breaks the protocol or misses the reply timeout makes the
 * device "gone": the pending call and every later one fail at once with {@link DeviceGoneException}.
 */
public final class VfioUserDevice implements VfioDevice {
    private static final System.Logger LOG = System.getLogger(VfioUserDevice.class.getName());
    /** The protocol version jvfio speaks: 0.2, as libvfio-user; any 0.x server is accepted. */
    public static final int MAJOR = 0;
    public static final int MINOR = 2;
    private static final int REGION_INFO_ARGSZ = 1024;
    private static final int MAX_REPLY_ARGSZ = 1 << 20;
    private static final int[] NO_FDS = new int[0];
    private static final long MIN_IDLE_BACKOFF_NANOS = TimeUnit.MILLISECONDS.toNanos(1);
    private static final long MAX_IDLE_BACKOFF_NANOS = TimeUnit.MILLISECONDS.toNanos(16);

    /**
     * Client settings: how long a reply may take, what the client accepts from the server, and whether
     * it proposes twin-socket mode (the server's DMA requests on a socket of their own).
     */
    public record Options(Duration replyTimeout, int maxMsgFds, int maxDataXferSize, boolean twinSocket) {
        public Options {
            if (replyTimeout.isNegative() || replyTimeout.isZero() || maxMsgFds < 1 || maxDataXferSize < 4096) {
                throw new IllegalArgumentException("bad vfio-user client options: " + replyTimeout + ", " + maxMsgFds
                        + ", " + maxDataXferSize);
            }
        }

        /**
         * 5 s reply timeout, 8 fds a message, 1 MiB transfers, twin-socket mode proposed: libvfio-user warns
         * that server-to-client commands on the one socket break when both sides send at once.
         */
        public static Options defaults() {
            return new Options(Duration.ofSeconds(5), 8, (int) Capabilities.DEFAULT_MAX_DATA_XFER_SIZE, true);
        }

        public Options withReplyTimeout(Duration timeout) {
            return new Options(timeout, maxMsgFds, maxDataXferSize, twinSocket);
        }

        public Options withTwinSocket(boolean propose) {
            return new Options(replyTimeout, maxMsgFds, maxDataXferSize, propose);
        }
    }

    private final String name;
    private final Channel channel;
    private final Options options;
    private final ReentrantLock io = new ReentrantLock();
    private final Map<Integer, Region> regions = new HashMap<>();
    private final List<DmaRegion> dmaRegions = new CopyOnWriteArrayList<>();
    private final Thread idleReader;
    /** Twin-socket mode: the server's command channel and the thread that answers on it; null without. */
    private Channel commands;
    private Thread commandReader;
    private int nextMsgId = 1;
    /** Calls started so far (wrapping), for the idle reader to tell a pause in calls. */
    private volatile int callsStarted;
    private Capabilities server;
    private Set<String> serverNamed = Set.of();
    private int minor;
    private volatile String goneReason;
    private volatile boolean closed;

    /** A region's last reported info and its mmap fd, if the server sent one. */
    private record Region(RegionInfo info, Fd fd) {
    }

    private VfioUserDevice(String name, UnixSocket socket, Options options) throws ErrnoException {
        this.name = name;
        this.options = options;
        socket.setReceiveTimeout(options.replyTimeout());
        this.channel = new Channel(socket, options.maxDataXferSize() + 2 * Header.SIZE + 64, options.maxMsgFds(),
                (int) Math.min(Integer.MAX_VALUE, options.replyTimeout().toMillis()));
        this.idleReader = Thread.ofPlatform().daemon().name("vfio-user client " + name).unstarted(this::idleLoop);
    }

    /** Connects to a vfio-user server listening at {@code socketPath} and negotiates the version. */
    public static VfioUserDevice connect(Path socketPath) throws IOException {
        return connect(socketPath, Options.defaults());
    }

    public static VfioUserDevice connect(Path socketPath, Options options) throws IOException {
        String name = socketPath.toString();
        UnixSocket socket;
        try {
            socket = UnixSocket.connect(socketPath);
        } catch (ErrnoException e) {
            throw new VfioException(name, "cannot connect to the vfio-user server", e);
        }
        return open(socket, name, options);
    }

    /** Takes a connected socket (e.g. one end of a socketpair) and negotiates the version over it. */
    public static VfioUserDevice open(UnixSocket socket, String name, Options options) throws IOException {
        VfioUserDevice device;
        try {
            device = new VfioUserDevice(name, socket, options);
        } catch (ErrnoException e) {
            socket.close();
            throw new VfioException(name, "cannot set up the socket", e);
        }
        try {
            device.negotiate();
        } catch (IOException | RuntimeException e) {
            device.close();
            throw e;
        }
        device.idleReader.start();
        if (device.commandReader != null) {
            device.commandReader.start();
        }
        return device;
    }

    private void negotiate() throws IOException {
        Capabilities ours = new Capabilities(options.maxMsgFds(), options.maxDataXferSize(),
                Capabilities.DEFAULT_MAX_DMA_MAPS, Capabilities.DEFAULT_PGSIZES);
        Channel.Incoming reply = request(Command.VERSION, new Payload.Version(MAJOR, MINOR, ours,
                Set.copyOf(Capabilities.NAMES), options.twinSocket() ? new Capabilities.TwinSocket(true, -1) : null),
                new int[0], "VERSION " + MAJOR + "." + MINOR);
        List<Fd> fds = reply.fds();
        Fd twin = null;
        try {
            if (!(reply.payload() instanceof Payload.Version version)) {
                throw new VfioException(name, "malformed VERSION reply");
            }
            if (version.major() != MAJOR || version.minor() > MINOR) {
                throw new VfioException(name, "server answered version " + version.major() + "." + version.minor()
                        + " to the proposed " + MAJOR + "." + MINOR);
            }
            server = version.capabilities();
            serverNamed = version.names();
            minor = version.minor();
            twin = twinSocket(version.twinSocket(), fds);
        } finally {
            for (Fd fd : fds) {
                if (fd != twin) {
                    fd.close();
                }
            }
        }
        if (twin != null) {
            commands = new Channel(UnixSocket.adopt(twin, "vfio-user twin socket of " + name),
                    options.maxDataXferSize() + 2 * Header.SIZE + 64, 0,
                    (int) Math.min(Integer.MAX_VALUE, options.replyTimeout().toMillis()));
            commandReader = Thread.ofPlatform().daemon().name("vfio-user client " + name + " commands")
                    .unstarted(this::commandLoop);
        }
    }

    /**
     * The twin socket the VERSION reply hands over, or null when the server did not enable the mode. A
     * reply that says supported without a valid fd_index, or without being asked, is inconsistent: the
     * specification has the client abort then, since it may miss the server's commands.
     */
    private Fd twinSocket(Capabilities.TwinSocket offered, List<Fd> fds) throws VfioException {
        if (offered == null || !offered.supported()) {
            return null;
        }
        if (!options.twinSocket() || offered.fdIndex() < 0 || offered.fdIndex() >= fds.size()) {
            throw new VfioException(name, "inconsistent VERSION reply: twin_socket supported with fd_index "
                    + offered.fdIndex() + " and " + fds.size() + " fds" + (options.twinSocket() ? ""
                    : ", though the client did not propose it"));
        }
        return fds.get(offered.fdIndex());
    }

    /** Twin-socket mode: answers the server's commands on their own socket until it or the device closes. */
    private void commandLoop() {
        Channel twin = commands;
        try {
            while (!closed && goneReason == null) {
                Channel.Incoming incoming;
                try {
                    incoming = twin.receive();
                } catch (FramingException e) {
                    LOG.log(Level.WARNING, "vfio-user {0}: malformed message on the twin socket: {1}", name,
                            e.getMessage());
                    twin.sendError(Math.max(0, e.msgId()), Math.max(0, e.command()), e.errno());
                    continue;
                }
                if (incoming == null) {
                    if (!closed) {
                        gone("the server closed the twin socket");
                    }
                    return;
                }
                if (incoming.header().isReply()) {
                    LOG.log(Level.DEBUG, "vfio-user {0}: dropping a stale {1} on the twin socket", name,
                            incoming.header());
                    incoming.closeFds();
                } else {
                    serve(incoming, twin);
                }
            }
        } catch (IOException | RuntimeException e) {
            if (!closed) {
                LOG.log(Level.DEBUG, "vfio-user {0}: twin socket reader stops: {1}", name, e.getMessage());
            }
        }
    }

    @Override
    public String name() {
        return name;
    }

    /** The capabilities the server declared in its VERSION reply. */
    public Capabilities serverCapabilities() {
        return server;
    }

    /**
     * Which of {@link Capabilities#NAMES} the server's VERSION reply named; the others in
     * {@link #serverCapabilities} are the specification's defaults.
     */
    public Set<String> serverCapabilityNames() {
        return serverNamed;
    }

    /** Whether the server enabled twin-socket mode: its DMA requests come on a socket of their own. */
    public boolean twinSocketMode() {
        return commands != null;
    }

    /** The negotiated minor version (major is 0). */
    public int minorVersion() {
        return minor;
    }

    @Override
    public DeviceInfo info() throws IOException {
        Payload.DeviceGetInfo reply = payload(request(Command.DEVICE_GET_INFO, new Payload.DeviceGetInfo(
                Payload.DeviceGetInfo.SIZE, 0, 0, 0), new int[0], "DEVICE_GET_INFO"), Payload.DeviceGetInfo.class,
                "DEVICE_GET_INFO");
        if (reply.numRegions() < 0 || reply.numIrqs() < 0) {
            throw new VfioException(name, "DEVICE_GET_INFO reply has an impossible count: " + reply);
        }
        return new DeviceInfo(reply.flags(), reply.numRegions(), reply.numIrqs());
    }

    @Override
    public RegionInfo regionInfo(int region) throws IOException {
        checkIndex(region, "region");
        String what = "DEVICE_GET_REGION_INFO of region " + region;
        int argsz = REGION_INFO_ARGSZ;
        for (int attempt = 0; ; attempt++) {
            Channel.Incoming incoming = request(Command.DEVICE_GET_REGION_INFO,
                    Payload.DeviceGetRegionInfo.request(argsz, region), new int[0], what);
            Payload.DeviceGetRegionInfo reply;
            try {
                reply = payload(incoming, Payload.DeviceGetRegionInfo.class, what);
            } catch (IOException e) {
                incoming.closeFds();
                throw e;
            }
            long needed = Integer.toUnsignedLong(reply.argsz());
            if (needed > reply.fullSize()) {
                // Cut short: a server answers so (without the chain, and without the fd as libvfio-user)
                // when argsz was too small; ask once more with what it needs.
                incoming.closeFds();
                if (attempt > 0 || needed > MAX_REPLY_ARGSZ) {
                    throw new VfioException(name, what + ": the reply needs argsz " + needed + " after asking with "
                            + argsz + (needed > MAX_REPLY_ARGSZ ? " (more than " + MAX_REPLY_ARGSZ + ")" : ""));
                }
                argsz = (int) needed;
                continue;
            }
            return keepRegion(region, reply, incoming.fds(), what);
        }
    }

    private RegionInfo keepRegion(int region, Payload.DeviceGetRegionInfo reply, List<Fd> fds, String what)
            throws IOException {
        Fd fd = null;
        try {
            if (reply.index() != region) {
                throw new VfioException(name, what + ": the reply is for region " + reply.index());
            }
            if (fds.size() > 1) {
                throw new VfioException(name, what + ": the reply carries " + fds.size() + " fds, at most 1 expected");
            }
            Optional<List<SparseArea>> sparse = Optional.empty();
            List<RegionCapability> others = new ArrayList<>();
            for (Payload.Capability capability : reply.capabilities()) {
                if (capability.id() == RegionCapability.SPARSE_MMAP) {
                    sparse = Optional.of(Codec.sparseAreas(capability));
                } else {
                    others.add(new RegionCapability(capability.id(), capability.version(), capability.body()));
                }
            }
            RegionInfo info = new RegionInfo(region, reply.flags(), reply.size(), reply.offset(), sparse, others);
            fd = fds.isEmpty() ? null : fds.getFirst();
            Region old;
            synchronized (regions) {
                old = regions.put(region, new Region(info, fd));
            }
            if (old != null && old.fd() != null) {
                old.fd().close();
            }
            return info;
        } catch (ProtocolException | IllegalArgumentException e) {
            fds.forEach(Fd::close);
            throw new VfioException(name, what + ": malformed reply: " + e.getMessage());
        } catch (IOException | RuntimeException e) {
            fds.forEach(Fd::close);
            throw e;
        }
    }

    @Override
    public IrqInfo irqInfo(int index) throws IOException {
        checkIndex(index, "IRQ index");
        String what = "DEVICE_GET_IRQ_INFO of index " + index;
        Payload.DeviceGetIrqInfo reply = payload(request(Command.DEVICE_GET_IRQ_INFO, new Payload.DeviceGetIrqInfo(
                Payload.DeviceGetIrqInfo.SIZE, 0, index, 0), new int[0], what), Payload.DeviceGetIrqInfo.class, what);
        if (reply.index() != index || reply.count() < 0) {
            throw new VfioException(name, what + ": malformed reply " + reply);
        }
        return new IrqInfo(index, reply.flags(), reply.count());
    }

    @Override
    public long read(int region, long offset, int size) throws IOException {
        checkAccessSize(size);
        return readAccess(region, offset, size).dataValue();
    }

    @Override
    public void write(int region, long offset, int size, long value) throws IOException {
        checkAccessSize(size);
        byte[] data = new byte[size];
        for (int i = 0; i < size; i++) {
            data[i] = (byte) (value >>> (8 * i));
        }
        writeChunk(region, offset, data);
    }

    @Override
    public void read(int region, long offset, byte[] destination) throws IOException {
        int chunk = (int) Math.min(server.maxDataXferSize(), options.maxDataXferSize());
        for (int done = 0; done < destination.length; done += chunk) {
            int length = Math.min(chunk, destination.length - done);
            byte[] data = readChunk(region, offset + done, length);
            System.arraycopy(data, 0, destination, done, length);
        }
    }

    @Override
    public void write(int region, long offset, byte[] source) throws IOException {
        // libvfio-user accepts a message of at most max_data_xfer_size + one header.
        int chunk = (int) Math.max(8, server.maxDataXferSize() - Header.SIZE);
        for (int done = 0; done < source.length; done += chunk) {
            int length = Math.min(chunk, source.length - done);
            byte[] data = new byte[length];
            System.arraycopy(source, done, data, 0, length);
            writeChunk(region, offset + done, data);
        }
    }

    private byte[] readChunk(int region, long offset, int count) throws IOException {
        return readAccess(region, offset, count).data();
    }

    /** A checked REGION_READ reply. The description of the access is built only for an error message. */
    private Payload.RegionAccess readAccess(int region, long offset, int count) throws IOException {
        checkIndex(region, "region");
        Payload.RegionAccess reply = payload(request(Command.REGION_READ, Payload.RegionAccess.of(offset, region, count),
                NO_FDS, null, region, offset, count), Payload.RegionAccess.class, null, Command.REGION_READ, region,
                offset, count);
        if (reply.count() != count || reply.offset() != offset || reply.region() != region) {
            throw new VfioException(name, describe(null, Command.REGION_READ, region, offset, count)
                    + ": the reply is for " + reply.count() + " bytes at 0x" + Long.toHexString(reply.offset())
                    + " of region " + reply.region());
        }
        return reply;
    }

    private void writeChunk(int region, long offset, byte[] data) throws IOException {
        checkIndex(region, "region");
        int count = data.length;
        Payload.RegionAccess reply = payload(request(Command.REGION_WRITE, Payload.RegionAccess.withData(offset, region,
                data), NO_FDS, null, region, offset, count), Payload.RegionAccess.class, null, Command.REGION_WRITE,
                region, offset, count);
        if (reply.count() != data.length) {
            throw new VfioException(name, describe(null, Command.REGION_WRITE, region, offset, count)
                    + ": the server wrote " + Integer.toUnsignedString(reply.count()) + " bytes");
        }
    }

    /**
     * What a call is, for messages: {@code what} itself, or when it is null the REGION_READ/WRITE
     * {@code command} of {@code count} bytes at {@code offset} of {@code region} (built only when
     * needed, so the region access path allocates no description).
     */
    private static String describe(String what, int command, int region, long offset, int count) {
        if (what != null) {
            return what;
        }
        return (command == Command.REGION_READ ? "REGION_READ" : "REGION_WRITE") + " of " + count + " bytes at 0x"
                + Long.toHexString(offset) + " of region " + region;
    }

    @Override
    public Mapping map(int region, long offset, long size) throws IOException {
        Region known;
        synchronized (regions) {
            known = regions.get(region);
        }
        if (known == null) {
            regionInfo(region);
            synchronized (regions) {
                known = regions.get(region);
            }
        }
        RegionInfo info = known.info();
        if (!info.mappable() || known.fd() == null) {
            throw new VfioException(name, "region " + region + " cannot be mmap'ed (flags " + info.flagNames()
                    + (known.fd() == null ? ", no fd from the server" : "") + ")");
        }
        boolean inside = false;
        for (SparseArea area : info.mappableAreas()) {
            if (offset >= area.offset() && size > 0 && size <= area.end() - offset) {
                inside = true;
                break;
            }
        }
        if (!inside) {
            throw new VfioException(name, "[0x" + Long.toHexString(offset) + ", +0x" + Long.toHexString(size)
                    + ") of region " + region + " is not inside a mmap'able area " + info.mappableAreas());
        }
        try {
            return Mapping.map(known.fd(), info.offset() + offset, size, info.writable(),
                    "vfio-user " + name + " region " + region);
        } catch (ErrnoException e) {
            throw new VfioException(name, "cannot mmap region " + region, e);
        }
    }

    @Override
    public void setIrqs(IrqSet request) throws IOException {
        String what = "DEVICE_SET_IRQS " + request.action() + " of index " + request.index();
        switch (request.data()) {
            case IrqSet.Data.None none -> simple(request.flags(), request.index(), request.start(), request.count(),
                    new byte[0], new int[0], what);
            case IrqSet.Data.Bools bools -> {
                boolean[] values = bools.values();
                byte[] data = new byte[values.length];
                for (int i = 0; i < values.length; i++) {
                    data[i] = (byte) (values[i] ? 1 : 0);
                }
                simple(request.flags(), request.index(), request.start(), request.count(), data, new int[0], what);
            }
            case IrqSet.Data.EventFds eventFds -> setEventFds(request, eventFds.fds(), what);
        }
    }

    /** Sends runs of present eventfds (at most max_msg_fds a message) and runs of absent ones (de-assign). */
    private void setEventFds(IrqSet request, List<Optional<EventFd>> fds, String what) throws IOException {
        if (fds.isEmpty()) {
            simple(request.flags(), request.index(), request.start(), 0, new byte[0], new int[0], what);
            return;
        }
        int limit = Math.max(1, server.maxMsgFds());
        int i = 0;
        while (i < fds.size()) {
            boolean present = fds.get(i).isPresent();
            int runEnd = i;
            while (runEnd < fds.size() && fds.get(runEnd).isPresent() == present
                    && (!present || runEnd - i < limit)) {
                runEnd++;
            }
            int[] raw = new int[present ? runEnd - i : 0];
            for (int k = 0; k < raw.length; k++) {
                raw[k] = fds.get(i + k).orElseThrow().fd().get();
            }
            simple(request.flags(), request.index(), request.start() + i, runEnd - i, new byte[0], raw, what);
            i = runEnd;
        }
    }

    private void simple(int flags, int index, int start, int count, byte[] data, int[] fds, String what)
            throws IOException {
        request(Command.DEVICE_SET_IRQS, Payload.DeviceSetIrqs.of(flags, index, start, count, data), fds, what)
                .closeFds();
    }

    @Override
    public void reset() throws IOException {
        request(Command.DEVICE_RESET, Payload.Empty.INSTANCE, new int[0], "DEVICE_RESET").closeFds();
    }

    @Override
    public void mapDma(DmaRegion region) throws IOException {
        int flags = (region.readable() ? Payload.DmaMap.FLAG_READ : 0) | (region.writable() ? Payload.DmaMap.FLAG_WRITE : 0);
        Fd fd = region.memoryFd();
        String what = "DMA_MAP of [0x" + Long.toHexString(region.iova()) + ", +0x" + Long.toHexString(region.size()) + ")";
        dmaRegions.add(region);
        try {
            request(Command.DMA_MAP, new Payload.DmaMap(Payload.DmaMap.SIZE, flags, fd == null ? 0 : region.fdOffset(),
                    region.iova(), region.size()), fd == null ? new int[0] : new int[] {fd.get()}, what).closeFds();
        } catch (IOException | RuntimeException e) {
            dmaRegions.remove(region);
            throw e;
        }
    }

    @Override
    public void unmapDma(long iova, long size) throws IOException {
        String what = "DMA_UNMAP of [0x" + Long.toHexString(iova) + ", +0x" + Long.toHexString(size) + ")";
        request(Command.DMA_UNMAP, new Payload.DmaUnmap(Payload.DmaUnmap.SIZE, 0, iova, size), new int[0], what)
                .closeFds();
        dmaRegions.removeIf(r -> r.iova() == iova && r.size() == size);
    }

    /**
     * jvfio's DEVICE_FEATURE {@link PlatformExtension#FEATURE_DT_IDENTITY}; empty when the server does
     * not know it (ENOTSUP, ENOSYS, ENOTTY or EINVAL).
     */
    @Override
    public Optional<DeviceTreeIdentity> deviceTreeIdentity() throws IOException {
        String what = "DEVICE_FEATURE device-tree identity";
        int argsz = 4096;
        for (int attempt = 0; ; attempt++) {
            Payload.DeviceFeature reply;
            try {
                reply = payload(request(Command.DEVICE_FEATURE, new Payload.DeviceFeature(argsz,
                        PlatformExtension.FEATURE_DT_IDENTITY | Payload.DeviceFeature.GET, new byte[0]), new int[0], what),
                        Payload.DeviceFeature.class, what);
            } catch (ErrorReplyException e) {
                int errno = e.errno();
                if (errno == Errno.ENOTSUP || errno == Errno.ENOSYS || errno == Errno.ENOTTY || errno == Errno.EINVAL) {
                    return Optional.empty();
                }
                throw e;
            }
            long needed = Integer.toUnsignedLong(reply.argsz());
            byte[] data = reply.data();
            if (needed > Payload.DeviceFeature.SIZE + data.length && attempt == 0 && needed <= server.maxDataXferSize()) {
                argsz = (int) needed;
                continue;
            }
            try {
                return Optional.of(PlatformExtension.decode(data));
            } catch (ProtocolException e) {
                throw new VfioException(name, what + ": malformed reply: " + e.getMessage());
            }
        }
    }

    private <T extends Payload> T payload(Channel.Incoming incoming, Class<T> type, String what) throws IOException {
        return payload(incoming, type, what, 0, 0, 0, 0);
    }

    private <T extends Payload> T payload(Channel.Incoming incoming, Class<T> type, String what, int command,
            int region, long offset, int count) throws IOException {
        if (!type.isInstance(incoming.payload())) {
            incoming.closeFds();
            throw new VfioException(name, describe(what, command, region, offset, count) + ": unexpected reply "
                    + incoming.payload());
        }
        if (!incoming.fds().isEmpty() && type != Payload.DeviceGetRegionInfo.class) {
            incoming.closeFds();
        }
        return type.cast(incoming.payload());
    }

    /**
     * Sends a request and reads until its reply, answering server requests meanwhile. Returns the
     * reply (its fds now the caller's); an error reply throws {@link ErrorReplyException}.
     */
    private Channel.Incoming request(int command, Payload payload, int[] fds, String what) throws IOException {
        return request(command, payload, fds, what, 0, 0, 0);
    }

    /** {@code what}, {@code region}, {@code offset}, {@code count}: see {@link #describe}. */
    private Channel.Incoming request(int command, Payload payload, int[] fds, String what, int region, long offset,
            int count) throws IOException {
        checkUsable();
        io.lock();
        try {
            checkUsable();
            callsStarted++;
            int msgId = nextMsgId;
            nextMsgId = (nextMsgId + 1) & 0xFFFF;
            try {
                channel.send(msgId, command, Header.TYPE_COMMAND, 0, payload, fds);
            } catch (ErrnoException e) {
                throw gone("sending " + describe(what, command, region, offset, count) + " failed: " + e.getMessage());
            }
            // The socket's receive timeout bounds a silent server; this deadline bounds one that keeps
            // sending requests instead of the reply. It starts at the first such request, so the usual
            // exchange reads no clock.
            long deadline = 0;
            boolean serverAsked = false;
            while (true) {
                Channel.Incoming incoming = receive(what, command, region, offset, count);
                Header header = incoming.header();
                if (!header.isReply()) {
                    if (!serverAsked) {
                        serverAsked = true;
                        deadline = System.nanoTime() + options.replyTimeout().toNanos();
                    }
                    serve(incoming, channel);
                    if (System.nanoTime() - deadline > 0) {
                        throw timeout(describe(what, command, region, offset, count));
                    }
                    continue;
                }
                if (header.msgId() != msgId || header.command() != command) {
                    LOG.log(Level.DEBUG, "vfio-user {0}: dropping a stale {1}", name, header);
                    incoming.closeFds();
                    continue;
                }
                serveBuffered();
                if (header.isError()) {
                    incoming.closeFds();
                    throw new ErrorReplyException(name, describe(what, command, region, offset, count), header.error());
                }
                if (incoming.error() != null) {
                    incoming.closeFds();
                    throw new VfioException(name, describe(what, command, region, offset, count) + ": malformed reply: " + incoming.error().getMessage());
                }
                return incoming;
            }
        } finally {
            io.unlock();
        }
    }

    private Channel.Incoming receive(String what) throws IOException {
        return receive(what, 0, 0, 0, 0);
    }

    private Channel.Incoming receive(String what, int command, int region, long offset, int count) throws IOException {
        Channel.Incoming incoming;
        try {
            incoming = channel.receive();
        } catch (ErrnoException e) {
            if (e.errno() == Errno.EAGAIN) {
                throw timeout(describe(what, command, region, offset, count));
            }
            throw gone(e.getMessage());
        } catch (ProtocolException e) {
            throw gone("the server broke the protocol: " + e.getMessage());
        }
        if (incoming == null) {
            throw gone("the server closed the connection");
        }
        return incoming;
    }

    /** Answers server requests already read into the channel's buffer, so the idle reader need not. */
    private void serveBuffered() throws IOException {
        while (channel.hasBuffered()) {
            Channel.Incoming incoming = receive("a server request");
            if (incoming.header().isReply()) {
                LOG.log(Level.DEBUG, "vfio-user {0}: dropping a stale {1}", name, incoming.header());
                incoming.closeFds();
            } else {
                serve(incoming, channel);
            }
        }
    }

    /**
     * Answers a request from the server: DMA_READ and DMA_WRITE; anything else gets EINVAL, as
     * libvfio-user answers a command it does not know.
     */
    private void serve(Channel.Incoming incoming, Channel replyChannel) throws IOException {
        incoming.closeFds();
        Header header = incoming.header();
        int errno = 0;
        Payload reply = null;
        if (incoming.error() != null) {
            errno = incoming.error().errno();
            LOG.log(Level.WARNING, "vfio-user {0}: malformed server request {1}: {2}", name, header,
                    incoming.error().getMessage());
        } else if (incoming.refusedFds() > 0) {
            errno = Errno.EINVAL;
        } else if (incoming.payload() instanceof Payload.DmaAccess access
                && (header.command() == Command.DMA_READ || header.command() == Command.DMA_WRITE)) {
            boolean write = header.command() == Command.DMA_WRITE;
            if (access.count() <= 0 || access.count() > options.maxDataXferSize()) {
                errno = Errno.EINVAL;
            } else {
                DmaRegion region = findDma(access.address(), access.count());
                if (region == null || (write ? !region.writable() : !region.readable())) {
                    errno = Errno.EFAULT;
                } else {
                    long at = region.mappingOffset() + (access.address() - region.iova());
                    try {
                        if (write) {
                            byte[] data = access.data();
                            region.mapping().copyFrom(data, 0, at, data.length);
                            reply = Payload.DmaAccess.of(access.address(), access.count());
                        } else {
                            byte[] data = new byte[(int) access.count()];
                            region.mapping().copyTo(at, data, 0, data.length);
                            reply = new Payload.DmaAccess(access.address(), access.count(), data);
                        }
                    } catch (IllegalStateException | IndexOutOfBoundsException e) {
                        errno = Errno.EFAULT;
                    }
                }
            }
        } else {
            errno = Errno.EINVAL;
        }
        if (header.noReply()) {
            return;
        }
        try {
            if (reply != null) {
                replyChannel.send(header.msgId(), header.command(), Header.TYPE_REPLY, 0, reply, new int[0]);
            } else {
                replyChannel.sendError(header.msgId(), header.command(), errno);
            }
        } catch (ErrnoException e) {
            throw gone("answering the server's " + Command.name(header.command()) + " failed: " + e.getMessage());
        }
    }

    private DmaRegion findDma(long address, long count) {
        for (DmaRegion region : dmaRegions) {
            long offset = address - region.iova();
            if (address >= region.iova() && offset < region.size() && count <= region.size() - offset) {
                return region;
            }
        }
        return null;
    }

    /** While no call runs, answers server requests and notices a server that left. */
    private void idleLoop() {
        try {
            while (!closed && goneReason == null) {
                if (!channel.readable(-1)) {
                    continue;
                }
                if (!io.tryLock()) {
                    // A call is running and reads whatever arrives: stay off the socket until calls pause.
                    awaitCallsPause();
                    continue;
                }
                try {
                    if (closed || goneReason != null || !channel.readable(0)) {
                        continue;
                    }
                    Channel.Incoming incoming = receive("a server request");
                    if (incoming.header().isReply()) {
                        LOG.log(Level.DEBUG, "vfio-user {0}: dropping a stale {1}", name, incoming.header());
                        incoming.closeFds();
                    } else {
                        serve(incoming, channel);
                    }
                    serveBuffered();
                } finally {
                    io.unlock();
                }
            }
        } catch (IOException | RuntimeException e) {
            if (!closed) {
                LOG.log(Level.DEBUG, "vfio-user {0}: background reader stops: {1}", name, e.getMessage());
            }
        }
    }

    /**
     * Waits, without touching the socket, until no call has started for a while. Polling the socket
     * meanwhile would wake this thread on every reply the calling thread reads. The wait doubles while
     * calls keep coming (back-to-back calls wake this thread a few dozen times a second, not once a
     * call) and is at most {@link #MAX_IDLE_BACKOFF_NANOS}: a server request arriving right after a
     * burst of calls waits at most that long; one arriving during a call is answered by the call.
     */
    private void awaitCallsPause() {
        long wait = MIN_IDLE_BACKOFF_NANOS;
        while (!closed && goneReason == null) {
            int seen = callsStarted;
            LockSupport.parkNanos(this, wait);
            if (callsStarted == seen && !io.isLocked()) {
                return;
            }
            wait = Math.min(wait * 2, MAX_IDLE_BACKOFF_NANOS);
        }
    }

    private DeviceGoneException gone(String reason) {
        if (goneReason == null) {
            goneReason = reason;
            LOG.log(Level.WARNING, "vfio-user {0}: device is gone: {1}", name, reason);
        }
        channel.shutdown();
        return new DeviceGoneException(name, reason);
    }

    private DeviceGoneException timeout(String what) {
        String reason = "no reply to " + what + " within " + options.replyTimeout().toMillis() + " ms";
        gone(reason);
        return new ReplyTimeoutException(name, reason);
    }

    private void checkUsable() throws VfioException {
        if (closed) {
            throw new VfioException(name, "device is closed");
        }
        String reason = goneReason;
        if (reason != null) {
            throw new DeviceGoneException(name, reason);
        }
    }

    private static void checkAccessSize(int size) {
        if (size != 1 && size != 2 && size != 4 && size != 8) {
            throw new IllegalArgumentException("access size " + size + " is not 1, 2, 4 or 8");
        }
    }

    private void checkIndex(int index, String what) throws VfioException {
        if (index < 0) {
            throw new VfioException(name, "negative " + what + " " + index);
        }
    }

    /** Disconnects: stops the background reader, closes the socket and the region fds. Never throws. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        channel.shutdown();
        if (commands != null) {
            commands.shutdown();
        }
        for (Thread reader : new Thread[] {idleReader, commandReader}) {
            if (reader != null && reader.isAlive()) {
                try {
                    reader.join(TimeUnit.SECONDS.toMillis(5));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }
        io.lock();
        try {
            channel.close();
            if (commands != null) {
                commands.close();
            }
            synchronized (regions) {
                for (Region region : regions.values()) {
                    if (region.fd() != null) {
                        region.fd().close();
                    }
                }
                regions.clear();
            }
            dmaRegions.clear();
        } finally {
            io.unlock();
        }
    }

    @Override
    public String toString() {
        return "VfioUserDevice[" + name + "]";
    }
}
