package io.jvfio.vfiouser.client;

import io.jvfio.sys.Errno;
import io.jvfio.sys.ErrnoException;
import io.jvfio.sys.Fd;
import io.jvfio.sys.UnixSocket;
import io.jvfio.vfio.DeviceGoneException;
import io.jvfio.vfio.DmaRegion;
import io.jvfio.vfio.VfioException;
import io.jvfio.vfiouser.Bytes;
import io.jvfio.vfiouser.Channel;
import io.jvfio.vfiouser.Command;
import io.jvfio.vfiouser.FramingException;
import io.jvfio.vfiouser.Header;
import io.jvfio.vfiouser.NoReplyException;
import io.jvfio.vfiouser.Payload;
import io.jvfio.vfiouser.PeerClosedException;
import io.jvfio.vfiouser.ProtocolException;
import io.jvfio.vfiouser.ReplyPolling;
import io.jvfio.vfiouser.Session;
import io.jvfio.vfiouser.Session.Call;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;

/**
 * The client's connection to its server. Requests are serialised: the calling thread sends its
 * request and reads the reply itself (no hand-off between threads on the hot path), answering any
 * DMA_READ / DMA_WRITE the server sends meanwhile. While no call is running, a background thread
 * answers the server's DMA requests and notices a server that went away; in twin-socket mode one
 * more thread answers them on the twin socket.
 *
 * <p>A server that closes the connection, breaks the protocol or misses the reply timeout makes the
 * device "gone": the pending call and every later one fail at once with {@link DeviceGoneException}.
 *
 * <p>The reply timeout: during negotiation the socket's own receive timeout; from {@link #start} on,
 * the background thread, which wakes at least every quarter of the timeout and, finding the same call
 * in flight for longer than the timeout since it first saw it, shuts the connection down (so a call
 * times out after 1 to 1.5 timeouts). A receive timeout on the socket would arm and cancel a kernel
 * timer in every blocked receive: a microsecond of each round trip (bench/RESULTS.md, vfio-user-rtt).
 * Nor does the timeout read the clock in a call: where clock_gettime is a system call (the nested
 * guest's HPET) that was one more system call per round trip, a quarter of the vCPU thread's on the irq
 * benchmarks. A region access that polls for its reply ({@link ReplyPolling}) does read it, a few times
 * a call, and saves more than those reads cost where the polls find the reply.
 */
final class ServerLink implements AutoCloseable {
    /**
     * Its logger, looked up at its first message: the first lookup loads the process's logger finder,
     * which scans every jar for a service file, and a connection that never logs (jvfio info) need not.
     */
    private static final class Log {
        static final System.Logger LOG = System.getLogger(ServerLink.class.getName());
    }

    private static final long MIN_IDLE_BACKOFF_NANOS = TimeUnit.MILLISECONDS.toNanos(1);
    private static final long MAX_IDLE_BACKOFF_NANOS = TimeUnit.MILLISECONDS.toNanos(16);

    private final String name;
    private final VfioUserDevice.Options options;
    private final Channel channel;
    private final Session session;
    private final ReplyPolling replyPolling;
    private final ReentrantLock io = new ReentrantLock();
    /** Where the server's DMA requests go: the regions the client mapped for the device. */
    private final List<DmaRegion> dmaRegions = new CopyOnWriteArrayList<>();

    private final Thread idleReader;
    /** Twin-socket mode: the server's command channel and the thread that answers on it; null without. */
    private Channel commands;

    private Thread commandReader;
    /** Calls started so far (wrapping), for the idle reader to tell a pause in calls and one call from another. */
    private volatile int callsStarted;
    /** The call waiting for its reply, null between calls; written after {@link #callsStarted}. */
    private volatile Call callInFlight;
    /** The background thread's own: the call number it saw in flight, and when it first saw it. */
    private int watchedCall;

    private long watchedSinceNanos;
    private boolean watching;
    /** Why the background thread ended an overdue call, once it has. */
    private volatile String overdueReason;

    private volatile String goneReason;
    private volatile boolean closed;
    /** Told once, on the thread that found the device gone, when no call of its own may have noticed. */
    private volatile Consumer<DeviceGoneException> goneListener = gone -> {};

    ServerLink(String name, UnixSocket socket, VfioUserDevice.Options options) throws ErrnoException {
        this.name = name;
        this.options = options;
        socket.setReceiveTimeout(options.replyTimeout());
        // A server that stops reading fails a send within the reply timeout, as one that stops answering
        // fails a call: the thread blocked in that send (a call's, or the reader's answer to a DMA request)
        // holds the link, and every vCPU that touches the device would wait behind it.
        socket.setSendTimeout(options.replyTimeout());
        this.channel = new Channel(socket, maxMessageSize(options), options.maxMsgFds(), timeoutMillis(options));
        // a receive never waits longer than the reply timeout (see the class comment); a malformed message
        // from the server ends the device
        this.replyPolling = ReplyPolling.upTo(options.replyPollMax());
        this.session = new Session(
                channel, options.replyTimeout(), request -> serve(request, channel), this::dropStale, replyPolling);
        this.idleReader =
                Thread.ofPlatform().daemon().name("vfio-user client " + name).unstarted(this::idleLoop);
    }

    private static int maxMessageSize(VfioUserDevice.Options options) {
        return options.maxDataXferSize() + 2 * Header.SIZE + 64;
    }

    private static int timeoutMillis(VfioUserDevice.Options options) {
        return (int) Math.min(Integer.MAX_VALUE, options.replyTimeout().toMillis());
    }

    /** Twin-socket mode, from the VERSION reply: the server's DMA requests come on {@code twin}. */
    void adoptTwin(Fd twin) throws VfioException {
        UnixSocket twinSocket = UnixSocket.adopt(twin, "vfio-user twin socket of " + name);
        try {
            twinSocket.setSendTimeout(options.replyTimeout());
        } catch (ErrnoException e) {
            twinSocket.close();
            throw new VfioException(name, "the twin socket the server handed over is unusable: " + e.getMessage());
        }
        commands = new Channel(twinSocket, maxMessageSize(options), 0, timeoutMillis(options));
        commandReader = Thread.ofPlatform()
                .daemon()
                .name("vfio-user client " + name + " commands")
                .unstarted(this::commandLoop);
    }

    ReplyPolling replyPolling() {
        return replyPolling;
    }

    boolean twinSocketMode() {
        return commands != null;
    }

    /**
     * After negotiation: starts answering the server's requests between calls (and on the twin socket),
     * and watching calls for their reply timeout instead of the socket.
     */
    void start() throws ErrnoException {
        channel.socket().setReceiveTimeout(Duration.ZERO);
        idleReader.start();
        if (commandReader != null) {
            commandReader.start();
        }
    }

    /** Makes {@code region} available to the server's DMA requests. */
    void addDma(DmaRegion region) {
        dmaRegions.add(region);
    }

    void removeDma(DmaRegion region) {
        dmaRegions.remove(region);
    }

    void removeDma(long iova, long size) {
        dmaRegions.removeIf(r -> r.iova() == iova && r.size() == size);
    }

    /**
     * Sends a request and reads until its reply, answering server requests meanwhile. Returns the
     * reply (its fds now the caller's); an error reply throws {@link ErrorReplyException}.
     */
    Channel.Incoming call(Call call) throws IOException {
        checkUsable();
        io.lock();
        try {
            checkUsable();
            callsStarted++;
            callInFlight = call;
            Channel.Incoming incoming;
            try {
                incoming = session.call(call);
            } catch (NoReplyException e) {
                throw timeout(e.getMessage());
            } catch (PeerClosedException e) {
                throw overdueOr("the server closed the connection");
            } catch (ProtocolException e) {
                throw gone("the server broke the protocol: " + e.getMessage());
            } catch (ErrnoException e) {
                throw overdueOr(call.describe() + ": " + e.getMessage());
            } finally {
                callInFlight = null;
            }
            try {
                serveBuffered();
            } catch (IOException | RuntimeException e) {
                incoming.closeFds();
                throw e;
            }
            Header header = incoming.header();
            if (header.isError()) {
                incoming.closeFds();
                throw new ErrorReplyException(name, call.describe(), header.error());
            }
            if (incoming.error() != null) {
                incoming.closeFds();
                throw new VfioException(
                        name,
                        call.describe() + ": malformed reply: "
                                + incoming.error().getMessage());
            }
            return incoming;
        } finally {
            io.unlock();
        }
    }

    private void dropStale(Channel.Incoming reply) {
        Log.LOG.log(Level.DEBUG, "vfio-user {0}: dropping a stale {1}", name, reply.header());
        reply.closeFds();
    }

    /** The next message, between calls: a server request, or a stale reply. */
    private Channel.Incoming receiveBetweenCalls() throws IOException {
        Channel.Incoming incoming;
        try {
            incoming = channel.receive();
        } catch (ErrnoException e) {
            throw gone(e.getMessage());
        } catch (ProtocolException e) {
            throw gone("the server broke the protocol: " + e.getMessage());
        } catch (PeerClosedException e) {
            throw gone(e.getMessage());
        }
        if (incoming == null) {
            throw gone("the server closed the connection");
        }
        return incoming;
    }

    /** Answers server requests already read into the channel's buffer, so the idle reader need not. */
    private void serveBuffered() throws IOException {
        while (channel.hasBuffered()) {
            serveOrDrop(receiveBetweenCalls());
        }
    }

    /** A message read between calls: a server request gets its answer, a reply is stale by now. */
    private void serveOrDrop(Channel.Incoming incoming) throws IOException {
        if (incoming.header().isReply()) {
            dropStale(incoming);
        } else {
            serve(incoming, channel);
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
            Log.LOG.log(
                    Level.WARNING,
                    "vfio-user {0}: malformed server request {1}: {2}",
                    name,
                    header,
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
                            region.mapping().copyFrom(access.data().asReadOnlyBuffer(), at);
                            reply = Payload.DmaAccess.of(access.address(), access.count());
                        } else {
                            byte[] data = new byte[(int) access.count()];
                            region.mapping().copyTo(at, data, 0, data.length);
                            reply = new Payload.DmaAccess(access.address(), access.count(), Bytes.adopt(data));
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
            // the background thread may have shut the connection down under a call that outlived its reply
            // timeout while the call was answering the server: that call timed out
            throw overdueOr("answering the server's " + Command.name(header.command()) + " failed: " + e.getMessage());
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

    /** While no call runs, answers server requests and notices a server that left; ends overdue calls. */
    private void idleLoop() {
        int watchMillis = (int)
                Math.max(1, Math.min(Integer.MAX_VALUE, options.replyTimeout().toMillis() / 4));
        try {
            while (!closed && goneReason == null) {
                if (!channel.readable(watchMillis)) {
                    endOverdueCall();
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
                    serveOrDrop(receiveBetweenCalls());
                    serveBuffered();
                } finally {
                    io.unlock();
                }
            }
        } catch (IOException | RuntimeException e) {
            // Nobody would read the server's messages from now on: the server's requests would go
            // unanswered and a server that left unnoticed, so the device is as gone as when it closes.
            // gone() logs the one line, and nothing when a receive already found it gone.
            if (!closed) {
                gone("the background reader failed: " + e.getClass().getSimpleName() + ": " + e.getMessage());
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
            endOverdueCall();
            if (callsStarted == seen && !io.isLocked()) {
                return;
            }
            wait = Math.min(wait * 2, MAX_IDLE_BACKOFF_NANOS);
        }
    }

    /**
     * The connection ended under a call or the idle reader: the first time, the device is reported gone.
     * Not once the link is closed: a reader that looked at the socket just before {@link #close} shut it
     * down reads that shutdown as the end of the stream, and the device did not go anywhere.
     */
    private DeviceGoneException gone(String reason) {
        boolean first = false;
        synchronized (this) {
            if (goneReason == null && !closed) {
                goneReason = reason;
                first = true;
            }
        }
        DeviceGoneException gone = new DeviceGoneException(name, reason);
        if (first) {
            Log.LOG.log(Level.WARNING, "vfio-user {0}: device is gone: {1}", name, reason);
        }
        channel.shutdown();
        if (first) {
            goneListener.accept(gone);
        }
        return gone;
    }

    /** {@code listener} hears once that the device is gone, on the thread that found out (see {@link VfioUserDevice#onGone}). */
    void onGone(Consumer<DeviceGoneException> listener) {
        goneListener = listener;
        String reason = goneReason;
        if (reason != null) {
            listener.accept(new DeviceGoneException(name, reason));
        }
    }

    private DeviceGoneException timeout(String reason) {
        gone(reason);
        return new ReplyTimeoutException(name, reason);
    }

    /** The reply timeout if the background thread ended this call for it, else the device gone for {@code reason}. */
    private DeviceGoneException overdueOr(String reason) {
        String overdue = overdueReason;
        return overdue != null ? timeout(overdue) : gone(reason);
    }

    /**
     * Ends the call in flight if it has waited longer than the reply timeout since this thread first
     * saw it (it started before that, so a call never ends early): the connection is shut down, which
     * wakes the caller's receive, and the caller reports the timeout.
     */
    private void endOverdueCall() {
        Call call = callInFlight;
        if (call == null) {
            watching = false;
            return;
        }
        int number = callsStarted;
        long now = System.nanoTime();
        if (!watching || number != watchedCall) {
            watching = true;
            watchedCall = number;
            watchedSinceNanos = now;
            return;
        }
        if (now - watchedSinceNanos <= options.replyTimeout().toNanos()) {
            return;
        }
        if (call == callInFlight && number == callsStarted) {
            overdueReason = "no reply to " + call.describe() + " within "
                    + options.replyTimeout().toMillis() + " ms";
            gone(overdueReason);
        }
    }

    void checkUsable() throws VfioException {
        if (closed) {
            throw new VfioException(name, "device is closed");
        }
        String reason = goneReason;
        if (reason != null) {
            throw new DeviceGoneException(name, reason);
        }
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
                    Log.LOG.log(
                            Level.WARNING,
                            "vfio-user {0}: malformed message on the twin socket: {1}",
                            name,
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
                    Log.LOG.log(
                            Level.DEBUG,
                            "vfio-user {0}: dropping a stale {1} on the twin socket",
                            name,
                            incoming.header());
                    incoming.closeFds();
                } else {
                    serve(incoming, twin);
                }
            }
        } catch (IOException | RuntimeException e) {
            // the server's requests would go unanswered from now on: the device is as gone as when the
            // twin socket closes between messages (the server closed it in the middle of one, say)
            if (!closed) {
                gone("the twin socket failed: " + e.getMessage());
            }
        }
    }

    /** Disconnects: stops the background readers and closes the sockets. Never throws. */
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
            dmaRegions.clear();
        } finally {
            io.unlock();
        }
    }
}
