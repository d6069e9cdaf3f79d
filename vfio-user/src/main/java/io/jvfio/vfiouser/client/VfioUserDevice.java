package io.jvfio.vfiouser.client;

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
import io.jvfio.vfio.RegionIoEventFd;
import io.jvfio.vfio.SparseArea;
import io.jvfio.vfio.VfioDevice;
import io.jvfio.vfio.VfioException;
import io.jvfio.vfiouser.Bytes;
import io.jvfio.vfiouser.Capabilities;
import io.jvfio.vfiouser.Channel;
import io.jvfio.vfiouser.Codec;
import io.jvfio.vfiouser.Command;
import io.jvfio.vfiouser.FdSize;
import io.jvfio.vfiouser.Header;
import io.jvfio.vfiouser.Payload;
import io.jvfio.vfiouser.PlatformExtension;
import io.jvfio.vfiouser.ProtocolException;
import io.jvfio.vfiouser.ReplyPolling;
import io.jvfio.vfiouser.Session.Call;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.function.Consumer;

/**
 * A device served over vfio-user, as a {@link VfioDevice}: negotiates the version, then turns each
 * call into its request and checks the reply. The connection itself (serialised requests, the
 * server's DMA requests, a server that went away) is the {@link ServerLink}'s.
 *
 * <p>A server that closes the connection, breaks the protocol or misses the reply timeout makes the
 * device "gone": the pending call and every later one fail at once with {@link DeviceGoneException}.
 */
public final class VfioUserDevice implements VfioDevice {
    /** The protocol version jvfio speaks: 0.2, as libvfio-user; any 0.x server is accepted. */
    public static final int MAJOR = 0;

    public static final int MINOR = 2;
    private static final int REGION_INFO_ARGSZ = 1024;
    private static final int MAX_REPLY_ARGSZ = 1 << 20;
    private static final int[] NO_FDS = new int[0];
    /**
     * The most regions and IRQ indexes a server may declare, QEMU's client's limits: each costs a round trip
     * and state when the device is realized, so a server declaring 2^31 of them would hold the VMM.
     */
    static final int MAX_REGIONS = 100;

    static final int MAX_IRQ_INDEXES = 50;

    /**
     * Client settings: how long a reply may take, what the client accepts from the server, whether it
     * proposes twin-socket mode (the server's DMA requests on a socket of their own), and how long a
     * region access may poll for its reply before it blocks ({@link ReplyPolling}; zero: never).
     */
    public record Options(
            Duration replyTimeout, int maxMsgFds, int maxDataXferSize, boolean twinSocket, Duration replyPollMax) {
        /**
         * The default polling maximum, KVM's default halt_poll_ns: a vCPU thread waiting for its trapped
         * access has nothing else to do, as a halted vCPU has not.
         */
        public static final Duration DEFAULT_REPLY_POLL_MAX = Duration.ofNanos(200_000);

        public Options {
            if (replyTimeout.isNegative() || replyTimeout.isZero() || maxMsgFds < 1 || maxDataXferSize < 4096) {
                throw new IllegalArgumentException(
                        "bad vfio-user client options: " + replyTimeout + ", " + maxMsgFds + ", " + maxDataXferSize);
            }
            if (replyPollMax.isNegative() || replyPollMax.compareTo(replyTimeout) >= 0) {
                throw new IllegalArgumentException("bad vfio-user client options: a reply polling maximum of "
                        + replyPollMax + " is not between zero and the reply timeout " + replyTimeout);
            }
        }

        /**
         * 5 s reply timeout, 8 fds a message, 1 MiB transfers, twin-socket mode proposed (libvfio-user warns
         * that server-to-client commands on the one socket break when both sides send at once), replies polled
         * for up to {@link #DEFAULT_REPLY_POLL_MAX}.
         */
        public static Options defaults() {
            return new Options(
                    Duration.ofSeconds(5),
                    8,
                    (int) Capabilities.DEFAULT_MAX_DATA_XFER_SIZE,
                    true,
                    DEFAULT_REPLY_POLL_MAX);
        }

        public Options withReplyTimeout(Duration timeout) {
            return new Options(timeout, maxMsgFds, maxDataXferSize, twinSocket, replyPollMax);
        }

        public Options withTwinSocket(boolean propose) {
            return new Options(replyTimeout, maxMsgFds, maxDataXferSize, propose, replyPollMax);
        }

        public Options withReplyPollMax(Duration max) {
            return new Options(replyTimeout, maxMsgFds, maxDataXferSize, twinSocket, max);
        }
    }

    private final String name;
    private final Options options;
    private final ServerLink link;
    private final Map<Integer, Region> regions = new HashMap<>();
    private Capabilities server;
    private Set<String> serverNamed = Set.of();
    private int minor;

    /** A region's last reported info and its mmap fd, if the server sent one. */
    private record Region(RegionInfo info, Fd fd) {}

    private VfioUserDevice(String name, UnixSocket socket, Options options) throws ErrnoException {
        this.name = name;
        this.options = options;
        this.link = new ServerLink(name, socket, options);
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
            device.link.start();
        } catch (IOException | RuntimeException e) {
            device.close();
            throw e;
        }
        return device;
    }

    private void negotiate() throws IOException {
        Capabilities ours = new Capabilities(
                options.maxMsgFds(),
                options.maxDataXferSize(),
                Capabilities.DEFAULT_MAX_DMA_MAPS,
                Capabilities.DEFAULT_PGSIZES);
        Channel.Incoming reply = request(
                Command.VERSION,
                new Payload.Version(
                        MAJOR,
                        MINOR,
                        ours,
                        Set.copyOf(Capabilities.NAMES),
                        options.twinSocket() ? new Capabilities.TwinSocket(true, -1) : null),
                new int[0],
                "VERSION " + MAJOR + "." + MINOR);
        List<Fd> fds = reply.fds();
        Fd twin = null;
        try {
            if (!(reply.payload() instanceof Payload.Version version)) {
                throw new VfioException(name, "malformed VERSION reply");
            }
            if (version.major() != MAJOR || version.minor() > MINOR) {
                throw new VfioException(
                        name,
                        "server answered version " + version.major() + "." + version.minor() + " to the proposed "
                                + MAJOR + "." + MINOR);
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
            link.adoptTwin(twin);
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
            throw new VfioException(
                    name,
                    "inconsistent VERSION reply: twin_socket supported with fd_index "
                            + offered.fdIndex() + " and " + fds.size() + " fds"
                            + (options.twinSocket() ? "" : ", though the client did not propose it"));
        }
        return fds.get(offered.fdIndex());
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
        return link.twinSocketMode();
    }

    /** How the region accesses polled for their replies so far. */
    public ReplyPolling.Stats replyPolling() {
        return link.replyPolling().stats();
    }

    /** The negotiated minor version (major is 0). */
    public int minorVersion() {
        return minor;
    }

    @Override
    public DeviceInfo info() throws IOException {
        Payload.DeviceGetInfo reply = payload(
                request(
                        Command.DEVICE_GET_INFO,
                        new Payload.DeviceGetInfo(Payload.DeviceGetInfo.SIZE, 0, 0, 0),
                        new int[0],
                        "DEVICE_GET_INFO"),
                Payload.DeviceGetInfo.class,
                "DEVICE_GET_INFO");
        if (reply.numRegions() < 0 || reply.numIrqs() < 0) {
            throw new VfioException(name, "DEVICE_GET_INFO reply has an impossible count: " + reply);
        }
        if (reply.numRegions() > MAX_REGIONS || reply.numIrqs() > MAX_IRQ_INDEXES) {
            throw new VfioException(
                    name,
                    "DEVICE_GET_INFO reply declares " + reply.numRegions() + " regions and " + reply.numIrqs()
                            + " IRQ indexes, more than the " + MAX_REGIONS + " and " + MAX_IRQ_INDEXES
                            + " a client accepts");
        }
        return new DeviceInfo(reply.flags(), reply.numRegions(), reply.numIrqs());
    }

    @Override
    public RegionInfo regionInfo(int region) throws IOException {
        checkIndex(region, "region");
        String what = "DEVICE_GET_REGION_INFO of region " + region;
        int argsz = REGION_INFO_ARGSZ;
        for (int attempt = 0; ; attempt++) {
            Channel.Incoming incoming = request(
                    Command.DEVICE_GET_REGION_INFO,
                    Payload.DeviceGetRegionInfo.request(argsz, region),
                    new int[0],
                    what);
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
                    throw new VfioException(
                            name,
                            what + ": the reply needs argsz " + needed + " after asking with " + argsz
                                    + (needed > MAX_REPLY_ARGSZ ? " (more than " + MAX_REPLY_ARGSZ + ")" : ""));
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
            List<SparseArea> readOnly = List.of();
            List<RegionCapability> others = new ArrayList<>();
            for (Payload.Capability capability : reply.capabilities()) {
                if (capability.id() == RegionCapability.SPARSE_MMAP) {
                    sparse = Optional.of(Codec.sparseAreas(capability));
                } else if (capability.id() == RegionCapability.JVFIO_READ_ONLY_MMAP) {
                    readOnly = Codec.sparseAreas(capability);
                } else {
                    others.add(new RegionCapability(
                            capability.id(),
                            capability.version(),
                            capability.body().toArray()));
                }
            }
            if (!readOnly.isEmpty()) {
                // Without a sparse capability the region would map whole for writes too: the read-only
                // areas alone are then what maps.
                List<SparseArea> all = new ArrayList<>(sparse.orElse(List.of()));
                all.addAll(readOnly);
                sparse = Optional.of(all);
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

    /**
     * DEVICE_GET_REGION_IO_FDS: the ioeventfds the server offers for a region, each with an eventfd of its
     * own (an fd that several entries share is duplicated). A server that refuses the query (ENOTTY,
     * ENOTSUP, ENOSYS, EINVAL) offers none. ioregionfd entries are left out (their writes stay trapped):
     * jvfio's machine has no ioregionfd. An entry that names no fd of the reply or one that is no eventfd, the
     * port space, an unknown flag or a span outside the region makes the reply malformed: nothing is kept.
     */
    @Override
    public List<RegionIoEventFd> regionIoEventFds(int region) throws IOException {
        checkIndex(region, "region");
        String what = "DEVICE_GET_REGION_IO_FDS of region " + region;
        long regionSize = regionSize(region);
        int argsz = REGION_INFO_ARGSZ;
        for (int attempt = 0; ; attempt++) {
            Channel.Incoming incoming;
            try {
                incoming = request(
                        Command.DEVICE_GET_REGION_IO_FDS,
                        new Payload.RegionIoFdsRequest(argsz, 0, region, 0),
                        NO_FDS,
                        what);
            } catch (ErrorReplyException e) {
                int errno = e.errno();
                if (errno == Errno.ENOTSUP || errno == Errno.ENOSYS || errno == Errno.ENOTTY || errno == Errno.EINVAL) {
                    return List.of();
                }
                throw e;
            }
            Payload.RegionIoFdsReply reply = payload(incoming, Payload.RegionIoFdsReply.class, what);
            List<Fd> fds = incoming.fds();
            if (reply.count() != 0 && reply.entries().isEmpty()) {
                // Cut short: argsz was too small for the entries; ask once more with what it needs.
                fds.forEach(Fd::close);
                long needed = Integer.toUnsignedLong(reply.argsz());
                if (attempt > 0 || needed > MAX_REPLY_ARGSZ || needed <= argsz) {
                    throw new VfioException(
                            name,
                            what + ": the reply of " + Integer.toUnsignedString(reply.count())
                                    + " entries came without them, needing argsz " + needed + " after asking with "
                                    + argsz);
                }
                argsz = (int) needed;
                continue;
            }
            try {
                return keepIoEventFds(region, regionSize, reply, fds);
            } catch (ProtocolException e) {
                throw new VfioException(name, what + ": malformed reply: " + e.getMessage());
            }
        }
    }

    private long regionSize(int region) throws IOException {
        synchronized (regions) {
            Region known = regions.get(region);
            if (known != null) {
                return known.info().size();
            }
        }
        return regionInfo(region).size();
    }

    private static List<RegionIoEventFd> keepIoEventFds(
            int region, long regionSize, Payload.RegionIoFdsReply reply, List<Fd> fds) throws ProtocolException {
        List<RegionIoEventFd> kept = new ArrayList<>();
        boolean[] used = new boolean[fds.size()];
        try {
            if (reply.index() != region) {
                throw new ProtocolException("the reply is for region " + Integer.toUnsignedString(reply.index()));
            }
            List<Payload.IoFdEntry> entries = reply.entries();
            for (int i = 0; i < entries.size(); i++) {
                Payload.IoFdEntry entry = entries.get(i);
                String at = "entry " + i + ": ";
                if (entry.fdIndex() < 0 || entry.fdIndex() >= fds.size()) {
                    throw new ProtocolException(at + "fd_index " + Integer.toUnsignedString(entry.fdIndex())
                            + " but the reply carries " + fds.size() + " fds");
                }
                if (entry.type() == Payload.IoFdEntry.TYPE_IOREGIONFD) {
                    continue;
                }
                if (entry.type() != Payload.IoFdEntry.TYPE_IOEVENTFD) {
                    throw new ProtocolException(at + "unknown type " + Integer.toUnsignedString(entry.type()));
                }
                if ((entry.flags() & ~Payload.IoFdEntry.FLAG_DATAMATCH) != 0) {
                    throw new ProtocolException(at + "flags 0x" + Integer.toHexString(entry.flags())
                            + " (a platform device's regions are MMIO: only DATAMATCH, 0x"
                            + Integer.toHexString(Payload.IoFdEntry.FLAG_DATAMATCH) + ", applies)");
                }
                boolean datamatch = (entry.flags() & Payload.IoFdEntry.FLAG_DATAMATCH) != 0;
                long size = entry.size();
                if (size != 0 && size != 1 && size != 2 && size != 4 && size != 8 || datamatch && size == 0) {
                    throw new ProtocolException(at + "size " + Long.toUnsignedString(size)
                            + " (1, 2, 4 or 8 bytes, or 0 for any size without DATAMATCH)");
                }
                if (entry.offset() < 0 || entry.offset() > regionSize - Math.max(1, size)) {
                    throw new ProtocolException(at + "[0x" + Long.toHexString(entry.offset()) + ", +" + size
                            + ") lies outside the region's 0x" + Long.toHexString(regionSize) + " bytes");
                }
                Fd fd = fds.get(entry.fdIndex());
                if (!EventFd.isEventFd(fd)) {
                    // KVM would refuse it as an ioeventfd; a server that sends one is broken
                    throw new ProtocolException(
                            at + "fd_index " + entry.fdIndex() + " is no eventfd but " + fd.fileName());
                }
                EventFd eventFd;
                try {
                    eventFd = EventFd.adopt(used[entry.fdIndex()] ? fd.duplicate() : fd);
                } catch (ErrnoException e) {
                    throw new ProtocolException(at + "cannot duplicate its shared fd: " + e.getMessage());
                }
                used[entry.fdIndex()] = true;
                kept.add(new RegionIoEventFd(
                        region,
                        entry.offset(),
                        (int) size,
                        datamatch ? OptionalLong.of(entry.data()) : OptionalLong.empty(),
                        eventFd));
            }
        } catch (ProtocolException | RuntimeException e) {
            kept.forEach(RegionIoEventFd::close);
            for (int i = 0; i < fds.size(); i++) {
                if (!used[i]) {
                    fds.get(i).close();
                }
            }
            throw e;
        }
        for (int i = 0; i < fds.size(); i++) {
            if (!used[i]) {
                fds.get(i).close();
            }
        }
        return List.copyOf(kept);
    }

    @Override
    public IrqInfo irqInfo(int index) throws IOException {
        checkIndex(index, "IRQ index");
        String what = "DEVICE_GET_IRQ_INFO of index " + index;
        Payload.DeviceGetIrqInfo reply = payload(
                request(
                        Command.DEVICE_GET_IRQ_INFO,
                        new Payload.DeviceGetIrqInfo(Payload.DeviceGetIrqInfo.SIZE, 0, index, 0),
                        new int[0],
                        what),
                Payload.DeviceGetIrqInfo.class,
                what);
        if (reply.index() != index || reply.count() < 0) {
            throw new VfioException(name, what + ": malformed reply " + reply);
        }
        return new IrqInfo(index, reply.flags(), reply.count());
    }

    @Override
    public long read(int region, long offset, int size) throws IOException {
        checkAccessSize(size);
        return readAccess(region, offset, size).data().littleEndianValue();
    }

    @Override
    public void write(int region, long offset, int size, long value) throws IOException {
        checkAccessSize(size);
        writeChunk(region, offset, Bytes.littleEndian(value, size));
    }

    @Override
    public void read(int region, long offset, byte[] destination) throws IOException {
        int chunk = (int) Math.min(server.maxDataXferSize(), options.maxDataXferSize());
        for (int done = 0; done < destination.length; done += chunk) {
            int length = Math.min(chunk, destination.length - done);
            readAccess(region, offset + done, length).data().copyTo(ByteBuffer.wrap(destination, done, length));
        }
    }

    @Override
    public void write(int region, long offset, byte[] source) throws IOException {
        // libvfio-user accepts a message of at most max_data_xfer_size + one header.
        int chunk = (int) Math.max(8, server.maxDataXferSize() - Header.SIZE);
        for (int done = 0; done < source.length; done += chunk) {
            int length = Math.min(chunk, source.length - done);
            writeChunk(region, offset + done, Bytes.copyOfRange(source, done, done + length));
        }
    }

    /** A checked REGION_READ reply. The description of the access is built only for an error message. */
    private Payload.RegionAccess readAccess(int region, long offset, int count) throws IOException {
        checkIndex(region, "region");
        Call call = Call.regionAccess(Command.REGION_READ, Payload.RegionAccess.of(offset, region, count));
        Payload.RegionAccess reply = payload(request(call), Payload.RegionAccess.class, call);
        if (reply.count() != count || reply.offset() != offset || reply.region() != region) {
            throw new VfioException(
                    name,
                    call.describe() + ": the reply is for " + reply.count() + " bytes at 0x"
                            + Long.toHexString(reply.offset()) + " of region " + reply.region());
        }
        return reply;
    }

    private void writeChunk(int region, long offset, Bytes data) throws IOException {
        checkIndex(region, "region");
        Call call = Call.regionAccess(Command.REGION_WRITE, Payload.RegionAccess.withData(offset, region, data));
        Payload.RegionAccess reply = payload(request(call), Payload.RegionAccess.class, call);
        if (reply.count() != data.length()) {
            throw new VfioException(
                    name, call.describe() + ": the server wrote " + Integer.toUnsignedString(reply.count()) + " bytes");
        }
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
            throw new VfioException(
                    name,
                    "region " + region + " cannot be mmap'ed (flags " + info.flagNames()
                            + (known.fd() == null ? ", no fd from the server" : "") + ")");
        }
        SparseArea inside = null;
        for (SparseArea area : info.mappableAreas()) {
            if (offset >= area.offset() && size > 0 && size <= area.end() - offset) {
                inside = area;
                break;
            }
        }
        if (inside == null) {
            throw new VfioException(
                    name,
                    "[0x" + Long.toHexString(offset) + ", +0x" + Long.toHexString(size) + ") of region " + region
                            + " is not inside a mmap'able area " + info.mappableAreas());
        }
        long end = info.offset() + offset + size;
        long fileSize = FdSize.regularFileSize(known.fd());
        if (fileSize >= 0 && fileSize < end) {
            throw new VfioException(
                    name,
                    "region " + region + ": the server's fd holds 0x" + Long.toHexString(fileSize)
                            + " bytes, short of the 0x" + Long.toHexString(end)
                            + " this mapping needs (an access past its end would fault)");
        }
        try {
            return Mapping.map(
                    known.fd(),
                    info.offset() + offset,
                    size,
                    info.writable() && !inside.readOnly(),
                    "vfio-user " + name + " region " + region);
        } catch (ErrnoException e) {
            throw new VfioException(name, "cannot mmap region " + region, e);
        }
    }

    @Override
    public void setIrqs(IrqSet request) throws IOException {
        String what = "DEVICE_SET_IRQS " + request.action() + " of index " + request.index();
        switch (request.data()) {
            case IrqSet.Data.None none ->
                simple(
                        request.flags(),
                        request.index(),
                        request.start(),
                        request.count(),
                        Bytes.EMPTY,
                        new int[0],
                        what);
            case IrqSet.Data.Bools bools -> {
                boolean[] values = bools.values();
                byte[] data = new byte[values.length];
                for (int i = 0; i < values.length; i++) {
                    data[i] = (byte) (values[i] ? 1 : 0);
                }
                simple(
                        request.flags(),
                        request.index(),
                        request.start(),
                        request.count(),
                        Bytes.adopt(data),
                        new int[0],
                        what);
            }
            case IrqSet.Data.EventFds eventFds -> setEventFds(request, eventFds.fds(), what);
        }
    }

    /** Sends runs of present eventfds (at most max_msg_fds a message) and runs of absent ones (de-assign). */
    private void setEventFds(IrqSet request, List<Optional<EventFd>> fds, String what) throws IOException {
        if (fds.isEmpty()) {
            simple(request.flags(), request.index(), request.start(), 0, Bytes.EMPTY, new int[0], what);
            return;
        }
        int limit = Math.max(1, server.maxMsgFds());
        int i = 0;
        while (i < fds.size()) {
            boolean present = fds.get(i).isPresent();
            int runEnd = i;
            while (runEnd < fds.size() && fds.get(runEnd).isPresent() == present && (!present || runEnd - i < limit)) {
                runEnd++;
            }
            int[] raw = new int[present ? runEnd - i : 0];
            for (int k = 0; k < raw.length; k++) {
                raw[k] = fds.get(i + k).orElseThrow().fd().get();
            }
            simple(request.flags(), request.index(), request.start() + i, runEnd - i, Bytes.EMPTY, raw, what);
            i = runEnd;
        }
    }

    private void simple(int flags, int index, int start, int count, Bytes data, int[] fds, String what)
            throws IOException {
        request(Command.DEVICE_SET_IRQS, Payload.DeviceSetIrqs.of(flags, index, start, count, data), fds, what)
                .closeFds();
    }

    @Override
    public void reset() throws IOException {
        request(Command.DEVICE_RESET, Payload.Empty.INSTANCE, new int[0], "DEVICE_RESET")
                .closeFds();
    }

    @Override
    public void mapDma(DmaRegion region) throws IOException {
        int flags = (region.readable() ? Payload.DmaMap.FLAG_READ : 0)
                | (region.writable() ? Payload.DmaMap.FLAG_WRITE : 0);
        Fd fd = region.memoryFd();
        String what =
                "DMA_MAP of [0x" + Long.toHexString(region.iova()) + ", +0x" + Long.toHexString(region.size()) + ")";
        link.addDma(region);
        try {
            request(
                            Command.DMA_MAP,
                            new Payload.DmaMap(
                                    Payload.DmaMap.SIZE,
                                    flags,
                                    fd == null ? 0 : region.fdOffset(),
                                    region.iova(),
                                    region.size()),
                            fd == null ? new int[0] : new int[] {fd.get()},
                            what)
                    .closeFds();
        } catch (IOException | RuntimeException e) {
            link.removeDma(region);
            throw e;
        }
    }

    @Override
    public void unmapDma(long iova, long size) throws IOException {
        String what = "DMA_UNMAP of [0x" + Long.toHexString(iova) + ", +0x" + Long.toHexString(size) + ")";
        try {
            request(Command.DMA_UNMAP, new Payload.DmaUnmap(Payload.DmaUnmap.SIZE, 0, iova, size), new int[0], what)
                    .closeFds();
        } finally {
            // The caller frees the memory next whatever the server said: its DMA requests into the window
            // must be refused from now on, not served from memory that is going away.
            link.removeDma(iova, size);
        }
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
                reply = payload(
                        request(
                                Command.DEVICE_FEATURE,
                                new Payload.DeviceFeature(
                                        argsz,
                                        PlatformExtension.FEATURE_DT_IDENTITY | Payload.DeviceFeature.GET,
                                        Bytes.EMPTY),
                                new int[0],
                                what),
                        Payload.DeviceFeature.class,
                        what);
            } catch (ErrorReplyException e) {
                int errno = e.errno();
                if (errno == Errno.ENOTSUP || errno == Errno.ENOSYS || errno == Errno.ENOTTY || errno == Errno.EINVAL) {
                    return Optional.empty();
                }
                throw e;
            }
            long needed = Integer.toUnsignedLong(reply.argsz());
            Bytes data = reply.data();
            if (needed > Payload.DeviceFeature.SIZE + data.length()
                    && attempt == 0
                    && needed <= server.maxDataXferSize()) {
                argsz = (int) needed;
                continue;
            }
            try {
                return Optional.of(PlatformExtension.decode(data.toArray()));
            } catch (ProtocolException e) {
                throw new VfioException(name, what + ": malformed reply: " + e.getMessage());
            }
        }
    }

    @Override
    public void onGone(Consumer<DeviceGoneException> listener) {
        link.onGone(listener);
    }

    private <T extends Payload> T payload(Channel.Incoming incoming, Class<T> type, String what) throws IOException {
        return payload(incoming, type, Call.of(0, null, what));
    }

    private <T extends Payload> T payload(Channel.Incoming incoming, Class<T> type, Call call) throws IOException {
        if (!type.isInstance(incoming.payload())) {
            incoming.closeFds();
            throw new VfioException(name, call.describe() + ": unexpected reply " + incoming.payload());
        }
        if (!incoming.fds().isEmpty()
                && type != Payload.DeviceGetRegionInfo.class
                && type != Payload.RegionIoFdsReply.class) {
            incoming.closeFds();
        }
        return type.cast(incoming.payload());
    }

    private Channel.Incoming request(int command, Payload payload, int[] fds, String what) throws IOException {
        return link.call(new Call(command, payload, fds, what));
    }

    private Channel.Incoming request(Call call) throws IOException {
        return link.call(call);
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

    /** Disconnects: stops the background readers, closes the sockets and the region fds. Never throws. */
    @Override
    public void close() {
        link.close();
        synchronized (regions) {
            for (Region region : regions.values()) {
                if (region.fd() != null) {
                    region.fd().close();
                }
            }
            regions.clear();
        }
    }

    @Override
    public String toString() {
        return "VfioUserDevice[" + name + "]";
    }
}
