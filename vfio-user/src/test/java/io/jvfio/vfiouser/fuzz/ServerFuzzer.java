package io.jvfio.vfiouser.fuzz;

import io.jvfio.sys.Errno;
import io.jvfio.sys.ErrnoException;
import io.jvfio.sys.EventFd;
import io.jvfio.sys.Fd;
import io.jvfio.sys.MemFd;
import io.jvfio.sys.UnixSocket;
import io.jvfio.sys.testing.Resources;
import io.jvfio.vfio.IrqSet;
import io.jvfio.vfiouser.Bytes;
import io.jvfio.vfiouser.Capabilities;
import io.jvfio.vfiouser.Channel;
import io.jvfio.vfiouser.Codec;
import io.jvfio.vfiouser.Command;
import io.jvfio.vfiouser.Header;
import io.jvfio.vfiouser.Payload;
import io.jvfio.vfiouser.server.VfioUserServer;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * Fuzzes a real {@link VfioUserServer} serving {@link FuzzDevice} on a socket file: mutated client
 * requests are written to the socket as raw bytes, with fds from a small pool attached (none, the
 * ones the request wants, or a random number, sometimes more than the server accepts), sometimes in
 * two writes, and a message whose header announces more bytes than were written is usually completed
 * with zeros (sometimes left short, so the server's partial-message timeout is exercised too).
 *
 * <p>After every input a probe (a valid DEVICE_GET_INFO) must be answered: the server may answer the
 * input with an error reply, a reply, nothing (NO_REPLY, or bytes it took as part of the input), or
 * close the connection, but it must keep serving. A probe lost because the server dropped it with a
 * malformed message is sent again; a server that answers none of three probes, stops accepting
 * clients, or lets any throwable escape a thread is a crash. Every {@link #CHECK_EVERY} inputs the
 * process's fd and thread counts are compared with what they were after the first connection; at the
 * end, after the client leaves, the fds must be back to where they were.
 */
public final class ServerFuzzer {
    static final int CHECK_EVERY = 250;
    private static final int MAX_XFER = 4096;
    private static final int MAX_FDS = 4;
    private static final int PROBE_BASE = 0xF000;
    /** Slack over the baseline: the server may hold six client eventfds (IRQ lines) and a socket in transition. */
    private static final int FD_SLACK = 12;

    private static final int THREAD_SLACK = 4;

    private final long seed;
    private final Path directory;
    private final Path socketPath;
    private final VfioUserServer server;
    private final List<EventFd> eventFds = new ArrayList<>();
    private final Fd memFd;
    private final ConcurrentLinkedQueue<String> escaped = new ConcurrentLinkedQueue<>();
    private final ConcurrentLinkedQueue<String> connectionEnds = new ConcurrentLinkedQueue<>();
    private final Map<String, Integer> closeReasons = new TreeMap<>();
    private UnixSocket socket;
    private Channel channel;
    private int probeId;
    private long serverCloses;
    private long probeRetries;

    private ServerFuzzer(long seed, Path directory) throws IOException {
        this.seed = seed;
        this.directory = directory;
        this.socketPath = directory.resolve("fuzz.sock");
        VfioUserServer.Options options = new VfioUserServer.Options(
                MAX_FDS, MAX_XFER, 16, Duration.ofMillis(10), Duration.ofMillis(300), Duration.ofMillis(300));
        this.server = VfioUserServer.start(socketPath, new FuzzDevice(), options);
        for (int i = 0; i < 3; i++) {
            eventFds.add(EventFd.create(true));
        }
        this.memFd = MemFd.create("fuzz dma", GoldenMessages.DMA_SIZE);
    }

    /** Starts a server, tries {@code inputs} mutated requests from {@code seed}, and stops it again. */
    public static FuzzResult run(long seed, long inputs) {
        Logger logger = Logger.getLogger("io.jvfio.vfiouser");
        Level oldLevel = logger.getLevel();
        boolean oldParents = logger.getUseParentHandlers();
        Thread.UncaughtExceptionHandler oldHandler = Thread.getDefaultUncaughtExceptionHandler();
        ServerFuzzer fuzzer = null;
        Handler capture = null;
        int fdsBefore = 0;
        FuzzResult result = null;
        try {
            // before counting: the first temporary file opens /dev/random and /dev/urandom for good
            Path directory = Files.createTempDirectory("jvfio-fuzz");
            fdsBefore = Resources.openFds();
            fuzzer = new ServerFuzzer(seed, directory);
            ServerFuzzer self = fuzzer;
            capture = new Handler() {
                @Override
                public void publish(LogRecord record) {
                    String message = record.getMessage();
                    if (message != null && message.contains("client connection ends")) {
                        Object[] parameters = record.getParameters();
                        self.connectionEnds.add(
                                parameters != null && parameters.length > 1 ? String.valueOf(parameters[1]) : message);
                    }
                }

                @Override
                public void flush() {}

                @Override
                public void close() {}
            };
            logger.setUseParentHandlers(false);
            logger.setLevel(Level.INFO);
            logger.addHandler(capture);
            Thread.setDefaultUncaughtExceptionHandler(
                    (thread, error) -> self.escaped.add(thread.getName() + ": " + error));
            result = fuzzer.fuzz(inputs);
        } catch (IOException e) {
            result = FuzzResult.of("server", seed, 0, 0, 1, null, "the fuzzer could not start: " + e, 0);
        } finally {
            if (fuzzer != null) {
                fuzzer.close();
            }
            if (capture != null) {
                logger.removeHandler(capture);
            }
            logger.setUseParentHandlers(oldParents);
            logger.setLevel(oldLevel);
            Thread.setDefaultUncaughtExceptionHandler(oldHandler);
        }
        int fdsAfter = Resources.openFds();
        if (fdsBefore > 0 && fdsAfter > fdsBefore) {
            String leak = "after the server closed the process holds " + fdsAfter + " fds, " + fdsBefore + " before";
            result = new FuzzResult(
                    result.target(),
                    seed,
                    result.inputs(),
                    result.accepted(),
                    result.crashes() + 1,
                    result.firstCrashHex(),
                    result.firstCrashCause() == null ? leak : result.firstCrashCause(),
                    result.nanos());
        }
        return result;
    }

    private FuzzResult fuzz(long inputs) throws IOException {
        List<GoldenMessages.Golden> requests = GoldenMessages.clientRequests();
        Mutator mutator = new Mutator(
                seed, requests.stream().map(GoldenMessages.Golden::bytes).toList());
        long crashes = 0;
        long accepted = 0;
        byte[] firstCrash = null;
        String cause = null;
        long start = System.nanoTime();
        if (!reconnect()) {
            return FuzzResult.of("server", seed, 0, 0, 1, null, "the server refused the first client", 0);
        }
        warmUp();
        int baseFds = Resources.openFds();
        int baseThreads = Resources.threads();
        int maxFds = baseFds;
        int maxThreads = baseThreads;
        long done = 0;
        for (; done < inputs; done++) {
            GoldenMessages.Golden golden = requests.get(mutator.nextInt(requests.size()));
            byte[] input = mutator.nextInt(10) == 0 ? golden.bytes().clone() : mutator.mutate(golden.bytes());
            if (input.length >= 2 && mutator.nextInt(4) != 0) {
                input[0] = (byte) done;
                input[1] = (byte) ((done >>> 8) & 0x7F);
            }
            String problem;
            try {
                Outcome outcome = feed(input, fdsFor(golden, mutator), mutator);
                if (outcome.answered()) {
                    accepted++;
                }
                problem = outcome.problem();
            } catch (IOException e) {
                problem = "the fuzzer's own I/O failed: " + e;
            }
            if (problem == null && !escaped.isEmpty()) {
                problem = "a thrown error escaped: " + String.join("; ", escaped);
                escaped.clear();
            }
            if (problem == null && (done + 1) % CHECK_EVERY == 0) {
                int fds = Resources.openFds();
                int threads = Resources.threads();
                maxFds = Math.max(maxFds, fds);
                maxThreads = Math.max(maxThreads, threads);
                if (fds > baseFds + FD_SLACK || threads > baseThreads + THREAD_SLACK) {
                    problem = "resources grow: " + fds + " fds (started with " + baseFds + "), " + threads
                            + " threads (started with " + baseThreads + ")";
                }
            }
            if (problem != null) {
                crashes++;
                if (firstCrash == null) {
                    firstCrash = input;
                    cause = problem;
                }
                if (!reconnect()) {
                    done++;
                    crashes++;
                    cause = cause + "; then the server stopped accepting clients";
                    break;
                }
            }
        }
        disconnect();
        String leak = awaitIdleAndCheckFds(baseFds);
        if (leak != null) {
            crashes++;
            if (cause == null) {
                cause = leak;
            }
        }
        FuzzResult result =
                FuzzResult.of("server", seed, done, accepted, crashes, firstCrash, cause, System.nanoTime() - start);
        connectionEnds.forEach(reason -> closeReasons.merge(reason.replaceAll("\\d+", "N"), 1, Integer::sum));
        System.out.println("server fuzz: " + serverCloses + " connections closed by the server, " + probeRetries
                + " probes re-sent, fds at most " + maxFds + " (base " + baseFds + "), threads at most " + maxThreads
                + " (base " + baseThreads + ")");
        closeReasons.forEach((reason, count) -> System.out.println("  connection ended " + count + "x: " + reason));
        return result;
    }

    /**
     * Starts what the server starts only once, on the first unmask eventfd (its watcher thread, an
     * epoll fd and a wake eventfd), so that the baseline counts it: sets an unmask eventfd and takes
     * it back.
     */
    private void warmUp() throws IOException {
        int irqUnmask = 1 << 4;
        channel.send(
                2,
                Command.DEVICE_SET_IRQS,
                Header.TYPE_COMMAND,
                0,
                Payload.DeviceSetIrqs.of(IrqSet.DATA_EVENTFD | irqUnmask, 1, 0, 1, Bytes.EMPTY),
                new int[] {eventFds.get(0).fd().get()});
        channel.send(
                3,
                Command.DEVICE_SET_IRQS,
                Header.TYPE_COMMAND,
                0,
                Payload.DeviceSetIrqs.of(IrqSet.DATA_EVENTFD | irqUnmask, 1, 0, 1, Bytes.EMPTY),
                new int[0]);
        for (int id = 2; id <= 3; id++) {
            Channel.Incoming reply = channel.receive();
            if (reply == null || reply.header().isError()) {
                throw new IOException("warming the server up failed: " + (reply == null ? "closed" : reply.header()));
            }
        }
    }

    /** What became of one input. */
    private record Outcome(boolean answered, String problem) {}

    private int[] fdsFor(GoldenMessages.Golden golden, Mutator mutator) {
        int[] pool = {
            eventFds.get(0).fd().get(),
            eventFds.get(1).fd().get(),
            eventFds.get(2).fd().get(),
            memFd.get()
        };
        if (mutator.nextInt(7) == 0) {
            int count = mutator.nextInt(MAX_FDS + 3);
            int[] fds = new int[count];
            for (int i = 0; i < count; i++) {
                fds[i] = pool[mutator.nextInt(pool.length)];
            }
            return fds;
        }
        return switch (golden.fds()) {
            case NONE -> new int[0];
            case MEMFD -> new int[] {memFd.get()};
            case EVENTFD -> new int[] {pool[mutator.nextInt(3)]};
            case TWO_EVENTFDS -> new int[] {pool[0], pool[1]};
        };
    }

    /** Sends one input, then probes until the server shows it still serves. */
    private Outcome feed(byte[] input, int[] fds, Mutator mutator) throws IOException {
        List<byte[]> parts = new ArrayList<>();
        if (input.length > 1 && mutator.nextInt(10) == 0) {
            int cut = 1 + mutator.nextInt(input.length - 1);
            parts.add(Arrays.copyOfRange(input, 0, cut));
            parts.add(Arrays.copyOfRange(input, cut, input.length));
        } else {
            parts.add(input);
        }
        long declared = input.length >= 8
                ? Integer.toUnsignedLong(
                        ByteBuffer.wrap(input, 4, 4).order(Codec.ORDER).getInt())
                : 0;
        if (input.length >= Header.SIZE
                && declared > input.length
                && declared <= MAX_XFER + Header.SIZE
                && mutator.nextInt(10) != 0) {
            parts.add(new byte[(int) (declared - input.length)]);
        }
        for (int i = 0; i < parts.size(); i++) {
            if (!sendRaw(parts.get(i), i == 0 ? fds : new int[0])) {
                return closedByServer();
            }
        }
        boolean answered = false;
        try {
            int[] framing = framingError(parts);
            if (framing != null) {
                // the server will drop what it has buffered with the bad message: a probe sent now could
                // be dropped too, so first wait for the error reply (the partial timeout, at most)
                long deadline = System.nanoTime() + 2_000_000_000L;
                Channel.Incoming reply;
                while ((reply = nextReply(deadline)) != null) {
                    Header header = reply.header();
                    if (header.isError() && header.msgId() == framing[0] && header.command() == framing[1]) {
                        break;
                    }
                    if (!header.isError()) {
                        answered = true;
                    }
                }
            }
            int[] waits = {50, 3000, 5000};
            for (int attempt = 0; attempt < waits.length; attempt++) {
                if (attempt > 0) {
                    probeRetries++;
                }
                int id = PROBE_BASE + (probeId++ & 0xFFF);
                if (!sendRaw(
                        Codec.encode(id, Command.DEVICE_GET_INFO, 0, 0, new Payload.DeviceGetInfo(16, 0, 0, 0)),
                        new int[0])) {
                    return closedByServer();
                }
                long deadline = System.nanoTime() + waits[attempt] * 1_000_000L;
                Channel.Incoming reply;
                while ((reply = nextReply(deadline)) != null) {
                    Header header = reply.header();
                    if (header.msgId() == id && header.command() == Command.DEVICE_GET_INFO && !header.isError()) {
                        if (!(reply.payload() instanceof Payload.DeviceGetInfo info) || info.numRegions() != 3) {
                            return new Outcome(answered, "the probe got a wrong reply: " + reply.payload());
                        }
                        return new Outcome(answered, null);
                    }
                    if (header.msgId() < PROBE_BASE && !header.isError()) {
                        answered = true;
                    }
                }
            }
            return new Outcome(answered, "the server answered none of three probes within 8 s");
        } catch (ConnectionClosed e) {
            return closedByServer();
        }
    }

    /** The server closed the connection while the fuzzer waited: an outcome, not a fault, so no stack trace. */
    private static final class ConnectionClosed extends Exception {
        ConnectionClosed() {
            super(null, null, false, false);
        }
    }

    /**
     * The next reply before {@code deadline} (a {@link System#nanoTime} value), or null when none came
     * in time. The server's own DMA requests are answered on the way: the device may wait on one before
     * it replies.
     */
    private Channel.Incoming nextReply(long deadline) throws IOException, ConnectionClosed {
        while (true) {
            long left = (deadline - System.nanoTime()) / 1_000_000L;
            if (left <= 0 || !channel.readable((int) left)) {
                return null;
            }
            Channel.Incoming incoming;
            try {
                incoming = channel.receive();
            } catch (IOException e) {
                throw new ConnectionClosed();
            }
            if (incoming == null) {
                throw new ConnectionClosed();
            }
            incoming.closeFds();
            if (incoming.header().isReply()) {
                return incoming;
            }
            answerServerRequest(incoming);
        }
    }

    /**
     * Where the server's framing of these bytes will fail, as the message id and command its error
     * reply will carry; null when the bytes are whole messages. Mirrors {@link Channel#receive}: a
     * short header, a size below the header's or above the limit, a bad type, or a message cut short.
     */
    static int[] framingError(List<byte[]> parts) {
        int total = parts.stream().mapToInt(p -> p.length).sum();
        ByteBuffer stream = ByteBuffer.allocate(total).order(Codec.ORDER);
        parts.forEach(stream::put);
        int at = 0;
        long maxMessage = MAX_XFER + 2L * Header.SIZE + 64;
        while (at < total) {
            int available = total - at;
            int msgId = available >= 2 ? Short.toUnsignedInt(stream.getShort(at)) : 0;
            int command = available >= 4 ? Short.toUnsignedInt(stream.getShort(at + 2)) : 0;
            if (available < Header.SIZE) {
                return new int[] {msgId, command};
            }
            long size = Integer.toUnsignedLong(stream.getInt(at + 4));
            int type = stream.getInt(at + 8) & Header.TYPE_MASK;
            if (size < Header.SIZE
                    || size > maxMessage
                    || size > available
                    || (type != Header.TYPE_COMMAND && type != Header.TYPE_REPLY)) {
                return new int[] {msgId, command};
            }
            at += (int) size;
        }
        return null;
    }

    /** A DMA_READ or DMA_WRITE from the server (the fuzz device does DMA): answered as a client would. */
    private void answerServerRequest(Channel.Incoming incoming) throws ErrnoException {
        Header header = incoming.header();
        if (incoming.payload() instanceof Payload.DmaAccess access
                && access.count() >= 0
                && access.count() <= MAX_XFER) {
            Payload reply = header.command() == Command.DMA_READ
                    ? new Payload.DmaAccess(
                            access.address(), access.count(), Bytes.copyOf(new byte[(int) access.count()]))
                    : Payload.DmaAccess.of(access.address(), access.count());
            channel.send(header.msgId(), header.command(), Header.TYPE_REPLY, 0, reply, new int[0]);
        } else {
            channel.sendError(header.msgId(), header.command(), Errno.EINVAL);
        }
    }

    private Outcome closedByServer() throws IOException {
        serverCloses++;
        return reconnect()
                ? new Outcome(false, null)
                : new Outcome(false, "the server closed the connection and accepts no new client");
    }

    private boolean sendRaw(byte[] bytes, int[] fds) {
        ByteBuffer buffer = ByteBuffer.allocateDirect(Math.max(1, bytes.length));
        buffer.put(bytes).flip();
        try {
            socket.send(new ByteBuffer[] {buffer}, fds);
            return true;
        } catch (ErrnoException e) {
            return false;
        }
    }

    /** Drops the current connection (if any) and connects and negotiates anew, within 5 s. */
    private boolean reconnect() throws IOException {
        disconnect();
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (System.nanoTime() < deadline) {
            if (server.clientConnected()) {
                Thread.onSpinWait();
                continue;
            }
            UnixSocket candidate;
            try {
                candidate = UnixSocket.connect(socketPath);
            } catch (ErrnoException e) {
                return false;
            }
            Channel candidateChannel = new Channel(candidate, 1 << 20, 8, 1000);
            candidate.setReceiveTimeout(Duration.ofSeconds(5));
            candidateChannel.send(
                    1,
                    Command.VERSION,
                    Header.TYPE_COMMAND,
                    0,
                    new Payload.Version(0, 2, new Capabilities(MAX_FDS, MAX_XFER, 16, 4096)),
                    new int[0]);
            Channel.Incoming reply;
            try {
                reply = candidateChannel.receive();
            } catch (IOException e) {
                reply = null;
            }
            if (reply != null && reply.payload() instanceof Payload.Version) {
                socket = candidate;
                channel = candidateChannel;
                return true;
            }
            candidateChannel.close();
            if (reply == null || !reply.header().isError() || reply.header().error() != Errno.EBUSY) {
                return false;
            }
        }
        return false;
    }

    private void disconnect() {
        if (channel != null) {
            channel.close();
            channel = null;
            socket = null;
        }
    }

    /** Waits until the server saw the client leave, then compares the fd count with the baseline. */
    private String awaitIdleAndCheckFds(int baseFds) {
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (server.clientConnected() && System.nanoTime() < deadline) {
            Thread.onSpinWait();
        }
        if (server.clientConnected()) {
            return "the server did not notice the client leave";
        }
        // the baseline was taken while a client was connected: both ends of its socket were counted
        int fds = Resources.openFds();
        return fds <= baseFds - 2
                ? null
                : "after the client left the process holds " + fds + " fds, " + (baseFds - 2) + " before the fuzzing";
    }

    private void close() {
        disconnect();
        server.close();
        eventFds.forEach(EventFd::close);
        memFd.close();
        try {
            Files.deleteIfExists(socketPath);
            Files.deleteIfExists(directory);
        } catch (IOException e) {
            // a temporary directory
        }
    }

    /** {@code ServerFuzzer [seed] [inputs]}: runs and prints {@code fuzz: inputs=<n> crashes=<n>} last. */
    public static void main(String[] args) {
        long seed = args.length > 0 ? Long.parseLong(args[0]) : 1;
        long inputs = args.length > 1 ? Long.parseLong(args[1]) : 5000;
        FuzzResult result = run(seed, inputs);
        System.out.println(result);
        System.out.println("fuzz: inputs=" + result.inputs() + " crashes=" + result.crashes());
        if (result.crashes() > 0) {
            System.exit(1);
        }
    }
}
