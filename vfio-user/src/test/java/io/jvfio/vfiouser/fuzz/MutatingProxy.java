package io.jvfio.vfiouser.fuzz;

import io.jvfio.sys.ErrnoException;
import io.jvfio.sys.EventFd;
import io.jvfio.sys.Fd;
import io.jvfio.sys.MemFd;
import io.jvfio.sys.UnixSocket;
import io.jvfio.vfiouser.Command;
import io.jvfio.vfiouser.Header;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The hostile server the client fuzzer talks to: one end of a real socket pair, in front of a real
 * connection to a {@link io.jvfio.vfiouser.server.VfioUserServer}. Everything the client sends goes to
 * the real server as it came (fds included); everything the real server sends back (its replies, and
 * its DMA requests on the main socket or the twin socket, which runs through the proxy as well) goes to
 * the client, except the messages the case's {@link Plan} picks, which get a {@link Fault} first. So every
 * reply starts as a real jvfio server's answer to the client's real request, and the faults are what a
 * broken or hostile server would make of it.
 *
 * <p>Two threads a socket, ended by {@link #close}: one forwards the client's frames, one the server's.
 */
final class MutatingProxy implements AutoCloseable {
    /** What is done to one message of the server's on its way to the client. */
    enum Fault {
        /** Bytes mutated by the shared {@link Mutator} (the server fuzzer's), msg id and command often kept. */
        MUTATE,
        /** The reply is never sent. */
        DROP,
        /** A prefix of the message is sent, then the socket is shut down. */
        CLOSE_MID,
        /** The message is sent without the fds it came with. */
        NO_FDS,
        /** One to three fds of every kind the client might not expect are added. */
        EXTRA_FDS,
        /** Each fd is replaced with one of another kind: a socket, a memfd, an eventfd, a regular file. */
        WRONG_KIND_FDS,
        /** The message id is changed. */
        WRONG_MSG_ID,
        /** The command is changed. */
        WRONG_COMMAND,
        /** The flags are set to another type, ERROR (with an errno), NO_REPLY or garbage. */
        FLAGS,
        /** The payload is cut short, the header's size fixed up to match. */
        TRUNCATE,
        /** The header's size says more or less than was sent. */
        WRONG_SIZE,
        /** A payload field (u32 or u64, aligned) is set to a huge or negative value. */
        HUGE_FIELD,
        /** The message is sent twice. */
        DUPLICATE,
        /** A golden message of the server's (a DMA request, a stale reply, an error) goes first. */
        INJECT,
        /** The message goes in two writes with a pause between: legal, must be read as one. */
        SPLIT;

        static final Fault[] ALL = values();
    }

    /** Which of the server's messages get which fault: by ordinal, or each with a probability. */
    record Plan(long seed, int target, Fault fault, double stormProbability) {
        static Plan none() {
            return new Plan(0, -1, null, 0);
        }
    }

    private static final int MAX_FDS = 16;

    private final UnixSocket clientSide;
    private final UnixSocket serverSide;
    private final Plan plan;
    private final SplittableRandom random;
    private final Mutator mutator;
    private final List<byte[]> injectable;
    private final Path scratchFile;
    private final AtomicInteger serverMessages = new AtomicInteger();
    private final ConcurrentLinkedQueue<String> applied = new ConcurrentLinkedQueue<>();
    private final ConcurrentLinkedQueue<String> commands = new ConcurrentLinkedQueue<>();
    private final Thread downstream;
    private final Thread upstream;
    /** The twin socket's two pairs of ends (the proxy's and the real server's) and their pumps, once handed over. */
    private final List<UnixSocket> twins = new ArrayList<>();

    private final List<Thread> twinThreads = new ArrayList<>();
    private volatile boolean closed;

    /**
     * @param clientSide the proxy's end of the client's socket pair
     * @param serverPath the real server's socket
     */
    MutatingProxy(UnixSocket clientSide, Path serverPath, Plan plan, List<byte[]> corpus, Path scratchFile)
            throws ErrnoException {
        this.clientSide = clientSide;
        this.serverSide = UnixSocket.connect(serverPath);
        this.plan = plan;
        this.random = new SplittableRandom(plan.seed());
        this.mutator = new Mutator(plan.seed(), corpus);
        this.injectable = corpus;
        this.scratchFile = scratchFile;
        this.downstream = Thread.ofPlatform()
                .name("client fuzzer proxy to server")
                .start(() -> pump(clientSide, serverSide, false));
        this.upstream = Thread.ofPlatform()
                .name("client fuzzer proxy to client")
                .start(() -> pump(serverSide, clientSide, true));
    }

    /** The faults applied so far, as "ordinal command fault" lines. */
    List<String> applied() {
        return List.copyOf(applied);
    }

    /** The commands of the server's messages so far, in order (the baseline's ordinals). */
    List<String> serverCommands() {
        return List.copyOf(commands);
    }

    private void pump(UnixSocket from, UnixSocket to, boolean fromServer) {
        try {
            while (!closed) {
                Frame frame = readFrame(from);
                if (frame == null) {
                    to.shutdown();
                    return;
                }
                if (fromServer && isVersionReplyWithFds(frame)) {
                    frame = interceptTwin(frame);
                }
                try {
                    if (!fromServer) {
                        send(to, frame.bytes, frame.fdNumbers());
                    } else if (!deliver(frame, to)) {
                        return;
                    }
                } finally {
                    frame.fds.forEach(Fd::close);
                }
            }
        } catch (ErrnoException | RuntimeException e) {
            // the other side went away, or close shut the sockets down: the case is over
            to.shutdown();
        }
    }

    private static boolean isVersionReplyWithFds(Frame frame) {
        int flags = ByteBuffer.wrap(frame.bytes).order(ByteOrder.nativeOrder()).getInt(8);
        return frame.command() == Command.VERSION
                && (flags & Header.TYPE_MASK) == Header.TYPE_REPLY
                && !frame.fds.isEmpty();
    }

    /**
     * The twin socket the real server hands over (fd 0 of its VERSION reply: jvfio's server puts it there)
     * goes through the proxy too: the client gets one end of a pair of the proxy's, whose other end is pumped
     * to and from the real twin socket, so the server's DMA requests on it are faulted like its replies.
     */
    private Frame interceptTwin(Frame frame) throws ErrnoException {
        UnixSocket[] pair = UnixSocket.pair();
        UnixSocket real = UnixSocket.adopt(frame.fds.getFirst().duplicate(), "the real server's twin socket");
        synchronized (twins) {
            twins.add(pair[0]);
            twins.add(real);
            twinThreads.add(Thread.ofPlatform()
                    .name("client fuzzer twin proxy to server")
                    .start(() -> pump(pair[0], real, false)));
            twinThreads.add(Thread.ofPlatform()
                    .name("client fuzzer twin proxy to client")
                    .start(() -> pump(real, pair[0], true)));
        }
        List<Fd> fds = new ArrayList<>(frame.fds);
        fds.getFirst().close();
        fds.set(0, pair[1].fd());
        return new Frame(frame.bytes, List.copyOf(fds));
    }

    /** Sends the server's frame to the client, faulted if the plan says so; false once the client side is shut. */
    private synchronized boolean deliver(Frame frame, UnixSocket to) throws ErrnoException {
        int ordinal = serverMessages.getAndIncrement();
        commands.add(Command.name(frame.command()));
        Fault fault = null;
        if (ordinal == plan.target()) {
            fault = plan.fault();
        } else if (plan.stormProbability() > 0 && random.nextDouble() < plan.stormProbability()) {
            fault = Fault.ALL[random.nextInt(Fault.ALL.length)];
        }
        if (fault == null) {
            send(to, frame.bytes, frame.fdNumbers());
            return true;
        }
        applied.add(ordinal + " " + Command.name(frame.command()) + " " + fault);
        byte[] bytes = frame.bytes.clone();
        int[] fds = frame.fdNumbers();
        List<Fd> made = new ArrayList<>();
        try {
            switch (fault) {
                case MUTATE -> {
                    bytes = mutator.mutate(bytes);
                    if (bytes.length >= 4 && random.nextBoolean()) {
                        System.arraycopy(frame.bytes, 0, bytes, 0, 4);
                    }
                }
                case DROP -> {
                    return true;
                }
                case CLOSE_MID -> {
                    send(
                            to,
                            Arrays.copyOf(bytes, random.nextInt(bytes.length)),
                            random.nextBoolean() ? fds : new int[0]);
                    to.shutdown();
                    return false;
                }
                case NO_FDS -> fds = new int[0];
                case EXTRA_FDS -> {
                    int extra = 1 + random.nextInt(3);
                    int[] more = Arrays.copyOf(fds, fds.length + extra);
                    for (int i = 0; i < extra; i++) {
                        Fd fd = otherKind();
                        made.add(fd);
                        more[fds.length + i] = fd.get();
                    }
                    fds = more;
                }
                case WRONG_KIND_FDS -> {
                    int[] replaced = new int[Math.max(1, fds.length)];
                    for (int i = 0; i < replaced.length; i++) {
                        Fd fd = otherKind();
                        made.add(fd);
                        replaced[i] = fd.get();
                    }
                    fds = replaced;
                }
                case WRONG_MSG_ID -> putShort(bytes, 0, frame.msgId() + 1 + random.nextInt(0xFFFE));
                case WRONG_COMMAND -> {
                    int command = random.nextInt(4) == 0 ? random.nextInt(0x10000) : random.nextInt(20);
                    putShort(bytes, 2, command == frame.command() ? command + 1 : command);
                }
                case FLAGS -> {
                    int[] choices = {
                        Header.TYPE_COMMAND,
                        Header.TYPE_REPLY | Header.ERROR,
                        Header.TYPE_REPLY | Header.NO_REPLY,
                        Header.TYPE_REPLY | Header.ERROR | Header.NO_REPLY,
                        2,
                        0xF,
                        random.nextInt()
                    };
                    Mutator.putInt(bytes, 8, choices[random.nextInt(choices.length)]);
                    int[] errnos = {0, 1, 5, 14, 22, 25, 38, 95, -1, 0x7FFFFFFF};
                    Mutator.putInt(bytes, 12, errnos[random.nextInt(errnos.length)]);
                }
                case TRUNCATE -> {
                    int body = bytes.length - Header.SIZE;
                    bytes = Arrays.copyOf(bytes, Header.SIZE + (body > 0 ? random.nextInt(body) : 0));
                    Mutator.putInt(bytes, 4, bytes.length);
                }
                case WRONG_SIZE -> {
                    int[] sizes = {
                        0, 1, 15, bytes.length - 1, bytes.length + 1, bytes.length + 4096, 1 << 21, -1, 0x7FFFFFFF
                    };
                    Mutator.putInt(bytes, 4, sizes[random.nextInt(sizes.length)]);
                }
                case HUGE_FIELD -> {
                    int body = bytes.length - Header.SIZE;
                    if (body >= 4) {
                        int at = Header.SIZE + random.nextInt(body / 4) * 4;
                        long[] values = {
                            0xFFFFFFFFL, 0x7FFFFFFFL, 0x80000000L, Long.MAX_VALUE, Long.MIN_VALUE, -1L, 1L << 40
                        };
                        long value = values[random.nextInt(values.length)];
                        if (at + 8 <= bytes.length && random.nextBoolean()) {
                            Mutator.putLong(bytes, at, value);
                        } else {
                            Mutator.putInt(bytes, at, (int) value);
                        }
                    }
                }
                case DUPLICATE -> send(to, bytes, duplicates(frame.fds(), made));
                case INJECT -> {
                    byte[] other =
                            injectable.get(random.nextInt(injectable.size())).clone();
                    if (random.nextBoolean() && other.length >= 2) {
                        putShort(other, 0, frame.msgId());
                    }
                    send(to, other, new int[0]);
                }
                case SPLIT -> {
                    int cut = 1 + random.nextInt(Math.max(1, bytes.length - 1));
                    send(to, Arrays.copyOf(bytes, cut), fds);
                    sleepQuietly(random.nextInt(20));
                    send(to, Arrays.copyOfRange(bytes, cut, bytes.length), new int[0]);
                    return true;
                }
            }
            send(to, bytes, fds);
            return true;
        } finally {
            made.forEach(Fd::close);
        }
    }

    /** Duplicates of {@code fds}, kept in {@code made} to be closed after the send. */
    private static int[] duplicates(List<Fd> fds, List<Fd> made) throws ErrnoException {
        int[] copies = new int[fds.size()];
        for (int i = 0; i < copies.length; i++) {
            Fd copy = fds.get(i).duplicate();
            made.add(copy);
            copies[i] = copy.get();
        }
        return copies;
    }

    /** An fd of a kind the client may not expect where it finds it. */
    private Fd otherKind() throws ErrnoException {
        return switch (random.nextInt(4)) {
            case 0 -> {
                UnixSocket[] pair = UnixSocket.pair();
                try {
                    yield pair[0].fd().duplicate();
                } finally {
                    pair[0].close();
                    pair[1].close();
                }
            }
            case 1 -> MemFd.create("fuzz wrong kind", random.nextBoolean() ? 0 : 4096);
            case 2 -> EventFd.create(false).fd();
            default -> Fd.openReadOnly(scratchFile.toString());
        };
    }

    private static void sleepQuietly(int millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void putShort(byte[] bytes, int at, int value) {
        bytes[at] = (byte) value;
        bytes[at + 1] = (byte) (value >>> 8);
    }

    private static void send(UnixSocket to, byte[] bytes, int[] fds) throws ErrnoException {
        if (bytes.length == 0 && fds.length == 0) {
            return;
        }
        ByteBuffer buffer = ByteBuffer.allocateDirect(Math.max(1, bytes.length));
        buffer.put(bytes).flip();
        if (bytes.length == 0) {
            // fds need a byte to travel with
            buffer = ByteBuffer.allocateDirect(1);
        }
        to.send(new ByteBuffer[] {buffer}, fds);
    }

    /** A whole frame as it came from one side, with its fds (closed by the pump after forwarding). */
    private record Frame(byte[] bytes, List<Fd> fds) {
        int msgId() {
            return Short.toUnsignedInt(
                    ByteBuffer.wrap(bytes).order(ByteOrder.nativeOrder()).getShort(0));
        }

        int command() {
            return Short.toUnsignedInt(
                    ByteBuffer.wrap(bytes).order(ByteOrder.nativeOrder()).getShort(2));
        }

        int[] fdNumbers() {
            return fds.stream().mapToInt(Fd::get).toArray();
        }
    }

    /** The next frame (the peers here are a real client and a real server: frames are well formed), or null. */
    private static Frame readFrame(UnixSocket from) throws ErrnoException {
        List<Fd> fds = new ArrayList<>();
        ByteBuffer header = ByteBuffer.allocateDirect(Header.SIZE).order(ByteOrder.nativeOrder());
        while (header.hasRemaining()) {
            UnixSocket.Received received = from.receive(header, MAX_FDS);
            fds.addAll(received.fds());
            if (received.bytes() == 0) {
                fds.forEach(Fd::close);
                return null;
            }
        }
        long size = Integer.toUnsignedLong(header.getInt(4));
        if (size < Header.SIZE || size > (64 << 20)) {
            fds.forEach(Fd::close);
            throw new IllegalStateException("a peer of the proxy sent a frame of " + size + " bytes");
        }
        ByteBuffer body = ByteBuffer.allocateDirect((int) size - Header.SIZE);
        if (body.capacity() > 0 && !from.receiveFully(body)) {
            fds.forEach(Fd::close);
            return null;
        }
        byte[] bytes = new byte[(int) size];
        header.flip().get(bytes, 0, Header.SIZE);
        body.flip().get(bytes, Header.SIZE, body.remaining());
        return new Frame(bytes, List.copyOf(fds));
    }

    /** Shuts both sockets down, waits for the two threads, closes the sockets. */
    @Override
    public void close() {
        closed = true;
        clientSide.shutdown();
        serverSide.shutdown();
        List<Thread> threads = new ArrayList<>(List.of(downstream, upstream));
        synchronized (twins) {
            twins.forEach(UnixSocket::shutdown);
            threads.addAll(twinThreads);
        }
        for (Thread thread : threads) {
            try {
                thread.join(5_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        clientSide.close();
        serverSide.close();
        synchronized (twins) {
            twins.forEach(UnixSocket::close);
        }
    }
}
