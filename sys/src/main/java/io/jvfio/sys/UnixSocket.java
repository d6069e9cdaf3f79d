package io.jvfio.sys;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import io.jvfio.sys.libc.Libc;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;

/**
 * An AF_UNIX stream socket that carries file descriptors (SCM_RIGHTS) both ways: the transport of
 * vfio-user. A whole message and its fds leave in one {@code sendmsg}, because peers such as
 * libvfio-user expect a message's fds with its header.
 *
 * <p>One thread may send while another receives; sends are serialised, and so are receives.
 */
public final class UnixSocket implements AutoCloseable {
    /** SCM_MAX_FD: the kernel's limit of fds in one message. */
    public static final int MAX_FDS_PER_MESSAGE = 253;

    /** What {@link #receiveBytesIfReady} returns when the socket has nothing to read. */
    public static final int NOTHING_WAITING = -1;

    private static final int AF_UNIX = 1;
    private static final int SOCK_STREAM = 1;
    private static final int SOCK_CLOEXEC = Libc.O_CLOEXEC;
    private static final int SOL_SOCKET = 1;
    private static final int SO_RCVTIMEO = 20;
    private static final int SO_SNDTIMEO = 21;
    private static final int SCM_RIGHTS = 1;
    private static final int MSG_CTRUNC = 0x8;
    private static final int MSG_DONTWAIT = 0x40;
    private static final int MSG_WAITALL = 0x100;
    private static final int MSG_NOSIGNAL = 0x4000;
    private static final int MSG_CMSG_CLOEXEC = 0x40000000;
    private static final int SHUT_RDWR = 2;
    private static final int SUN_PATH_MAX = 108;

    // struct msghdr on x86-64
    private static final long MSGHDR_SIZE = 56;
    private static final long MSG_IOV = 16;
    private static final long MSG_IOVLEN = 24;
    private static final long MSG_CONTROL = 32;
    private static final long MSG_CONTROLLEN = 40;
    private static final long MSG_FLAGS = 48;
    private static final long IOVEC_SIZE = 16;
    private static final long CMSG_HEADER = 16;
    private static final int MAX_IOVECS = 4;

    /** Numbers the temporary names of {@link #listen}, for threads of this process listening in one directory. */
    private static final AtomicLong TEMPORARY_NAMES = new AtomicLong();

    private final Fd fd;
    private final String description;
    /** Scratch for msghdr and control data; freed with the socket object, since a receiver may still run. */
    private final Arena arena = Arena.ofAuto();

    private final ReentrantLock sendLock = new ReentrantLock();
    private final ReentrantLock receiveLock = new ReentrantLock();
    private final MemorySegment sendHeader;
    private final MemorySegment sendIov;
    private final MemorySegment sendControl;
    private final MemorySegment receiveHeader;
    private final MemorySegment receiveIov;
    private final MemorySegment receiveControl;

    private UnixSocket(Fd fd, String description) {
        this.fd = fd;
        this.description = description;
        long controlSize = cmsgSpace(MAX_FDS_PER_MESSAGE);
        this.sendHeader = arena.allocate(MSGHDR_SIZE, 8);
        this.sendIov = arena.allocate(IOVEC_SIZE * MAX_IOVECS, 8);
        this.sendControl = arena.allocate(controlSize, 8);
        this.receiveHeader = arena.allocate(MSGHDR_SIZE, 8);
        this.receiveIov = arena.allocate(IOVEC_SIZE, 8);
        this.receiveControl = arena.allocate(controlSize, 8);
    }

    private static long cmsgSpace(int fdCount) {
        return CMSG_HEADER + ((fdCount * 4L + 7) & ~7L);
    }

    /**
     * Listens on {@code path} with mode 0600: the socket is bound under a temporary name, restricted,
     * then renamed into place, so no other user can connect in between. The temporary name is reached
     * through {@code /proc/self/fd} and an O_PATH descriptor of the directory (which needs no more
     * permission than a bind there), as systemd binds long paths: it is short whatever the directory, so
     * every path that fits a socket address listens.
     */
    public static UnixSocket listen(Path path, int backlog) throws ErrnoException {
        Path absolute = path.toAbsolutePath();
        String target = absolute.toString();
        addressPath(target);
        Path parent = absolute.getParent();
        if (parent == null) {
            throw new IllegalArgumentException("a socket cannot be the root directory: " + target);
        }
        try (Fd directory = Fd.adopt(
                Libc.open(parent.toString(), Libc.O_PATH | Libc.O_DIRECTORY | Libc.O_CLOEXEC, 0),
                "directory " + parent)) {
            String temporary = "/proc/self/fd/" + directory.get() + "/.jvfio-" + Libc.getpid() + "-"
                    + TEMPORARY_NAMES.incrementAndGet();
            UnixSocket socket = create("listening socket " + target);
            String boundAt = null;
            try (Arena call = Arena.ofConfined()) {
                byte[] bound = addressPath(temporary);
                Libc.bind(socket.fd.get(), address(call, bound), addressLength(bound), "bind " + target);
                boundAt = temporary;
                Libc.chmod(temporary, 0600);
                Libc.rename(temporary, target);
                boundAt = target;
                Libc.listen(socket.fd.get(), backlog);
                return socket;
            } catch (ErrnoException | RuntimeException e) {
                socket.close();
                if (boundAt != null) {
                    // the socket file this call made: left behind, it would make every later bind here EADDRINUSE
                    try {
                        Files.deleteIfExists(Path.of(boundAt));
                    } catch (IOException cleanup) {
                        e.addSuppressed(cleanup);
                    }
                }
                throw e;
            }
        }
    }

    /** Connects to a listening socket at {@code path}. */
    public static UnixSocket connect(Path path) throws ErrnoException {
        String target = path.toAbsolutePath().toString();
        byte[] peer = addressPath(target);
        UnixSocket socket = create("socket " + target);
        try (Arena call = Arena.ofConfined()) {
            Libc.connect(socket.fd.get(), address(call, peer), addressLength(peer), "connect " + target);
            return socket;
        } catch (ErrnoException | RuntimeException e) {
            socket.close();
            throw e;
        }
    }

    /** Two connected sockets (socketpair), e.g. for a device model in this process. */
    public static UnixSocket[] pair() throws ErrnoException {
        int[] fds = Libc.socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        return new UnixSocket[] {
            new UnixSocket(Fd.adopt(fds[0], "socketpair"), "socketpair end 0"),
            new UnixSocket(Fd.adopt(fds[1], "socketpair"), "socketpair end 1")
        };
    }

    /** Wraps a connected AF_UNIX stream fd (e.g. one inherited by a child process). */
    public static UnixSocket adopt(Fd fd, String description) {
        return new UnixSocket(fd, description);
    }

    private static UnixSocket create(String description) throws ErrnoException {
        return new UnixSocket(Fd.adopt(Libc.socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), description), description);
    }

    /** {@code path}'s bytes for sun_path, refused if they do not fit it with their NUL. */
    private static byte[] addressPath(String path) {
        byte[] bytes = path.getBytes(StandardCharsets.UTF_8);
        if (bytes.length >= SUN_PATH_MAX) {
            throw new IllegalArgumentException("socket path is longer than " + (SUN_PATH_MAX - 1) + " bytes: " + path);
        }
        return bytes;
    }

    private static MemorySegment address(Arena arena, byte[] bytes) {
        MemorySegment address = arena.allocate(2 + SUN_PATH_MAX, 2);
        address.set(JAVA_SHORT, 0, (short) AF_UNIX);
        MemorySegment.copy(bytes, 0, address, ValueLayout.JAVA_BYTE, 2, bytes.length);
        return address;
    }

    private static int addressLength(byte[] bytes) {
        return 2 + bytes.length + 1;
    }

    /** Waits for and accepts one connection. */
    public UnixSocket accept() throws ErrnoException {
        int client;
        int number = fd.beginUse();
        try {
            client = Libc.accept4(number, SOCK_CLOEXEC);
        } finally {
            fd.endUse();
        }
        return new UnixSocket(Fd.adopt(client, "accepted connection"), "connection on " + description);
    }

    public Fd fd() {
        return fd;
    }

    /** Bounds how long a blocking receive waits; it then fails with EAGAIN. Zero means forever. */
    public void setReceiveTimeout(Duration timeout) throws ErrnoException {
        setTimeout(SO_RCVTIMEO, timeout, "setsockopt SO_RCVTIMEO");
    }

    /**
     * Bounds how long a blocking send waits for room in a peer that stopped reading; it then fails with
     * EAGAIN (or returns what it sent, which {@link #send} completes with a wait of its own). Zero means
     * forever.
     */
    public void setSendTimeout(Duration timeout) throws ErrnoException {
        setTimeout(SO_SNDTIMEO, timeout, "setsockopt SO_SNDTIMEO");
    }

    private void setTimeout(int option, Duration timeout, String operation) throws ErrnoException {
        try (Arena call = Arena.ofConfined()) {
            MemorySegment timeval = call.allocate(JAVA_LONG, 2);
            timeval.setAtIndex(JAVA_LONG, 0, timeout.toSeconds());
            timeval.setAtIndex(JAVA_LONG, 1, timeout.toNanosPart() / 1000);
            Libc.setsockopt(fd.get(), SOL_SOCKET, option, timeval, operation);
        }
    }

    /**
     * Sends the remaining bytes of {@code parts} as one message with {@code fds} attached (may be empty),
     * in one sendmsg; a stream socket that takes only part of it gets the rest without fds. Positions of
     * the parts are not changed.
     */
    public void send(ByteBuffer[] parts, int[] fds) throws ErrnoException {
        if (parts.length > MAX_IOVECS) {
            throw new IllegalArgumentException("at most " + MAX_IOVECS + " parts per message, got " + parts.length);
        }
        if (fds.length > MAX_FDS_PER_MESSAGE) {
            throw new IllegalArgumentException(
                    "at most " + MAX_FDS_PER_MESSAGE + " fds per message, got " + fds.length);
        }
        sendLock.lock();
        try {
            if (parts.length == 1 && fds.length == 0) {
                // send(2) takes a shorter path through the kernel than sendmsg(2): no msghdr or iovec to copy in
                sendWithoutFds(parts, 0);
                return;
            }
            long total = 0;
            for (int i = 0; i < parts.length; i++) {
                MemorySegment part = segmentOf(parts[i]);
                sendIov.set(ADDRESS, i * IOVEC_SIZE, part);
                sendIov.set(JAVA_LONG, i * IOVEC_SIZE + 8, part.byteSize());
                total += part.byteSize();
            }
            sendHeader.fill((byte) 0);
            sendHeader.set(ADDRESS, MSG_IOV, sendIov);
            sendHeader.set(JAVA_LONG, MSG_IOVLEN, parts.length);
            if (fds.length > 0) {
                sendControl.set(JAVA_LONG, 0, CMSG_HEADER + fds.length * 4L);
                sendControl.set(JAVA_INT, 8, SOL_SOCKET);
                sendControl.set(JAVA_INT, 12, SCM_RIGHTS);
                for (int i = 0; i < fds.length; i++) {
                    sendControl.set(JAVA_INT, CMSG_HEADER + i * 4L, fds[i]);
                }
                sendHeader.set(ADDRESS, MSG_CONTROL, sendControl);
                sendHeader.set(JAVA_LONG, MSG_CONTROLLEN, cmsgSpace(fds.length));
            }
            long sent = sendMessageInterruptibly(sendHeader);
            if (sent < total) {
                sendWithoutFds(parts, sent);
            }
        } finally {
            sendLock.unlock();
        }
    }

    private long sendInterruptibly(MemorySegment data) throws ErrnoException {
        while (true) {
            try {
                return Libc.send(fd.get(), data, data.byteSize(), MSG_NOSIGNAL);
            } catch (ErrnoException e) {
                if (e.errno() != Errno.EINTR) {
                    throw e;
                }
            }
        }
    }

    private long sendMessageInterruptibly(MemorySegment header) throws ErrnoException {
        while (true) {
            try {
                return Libc.sendmsg(fd.get(), header, MSG_NOSIGNAL);
            } catch (ErrnoException e) {
                if (e.errno() != Errno.EINTR) {
                    throw e;
                }
            }
        }
    }

    /**
     * The bytes of {@code parts} after the first {@code alreadySent}, without fds, by send(2): a whole
     * message that has none, or the rest of one that sendmsg(2) sent only in part.
     */
    private void sendWithoutFds(ByteBuffer[] parts, long alreadySent) throws ErrnoException {
        long skip = alreadySent;
        for (ByteBuffer part : parts) {
            MemorySegment segment = segmentOf(part);
            if (skip >= segment.byteSize()) {
                skip -= segment.byteSize();
                continue;
            }
            MemorySegment rest = segment.asSlice(skip);
            skip = 0;
            long sent = sendInterruptibly(rest);
            while (sent < rest.byteSize()) {
                rest = rest.asSlice(sent);
                sent = sendInterruptibly(rest);
            }
        }
    }

    private static MemorySegment segmentOf(ByteBuffer buffer) {
        if (buffer.isDirect()) {
            return MemorySegment.ofBuffer(buffer);
        }
        throw new IllegalArgumentException("socket I/O needs direct buffers");
    }

    /**
     * One recvmsg into {@code destination}'s remaining space, accepting at most {@code maxFds} fds.
     * Advances the buffer's position by the bytes received (0: the peer closed). Fds beyond
     * {@code maxFds}, or a truncated control message (MSG_CTRUNC), make every fd of this receive be
     * closed: the result then has no fds and says how many were refused, so the caller can still
     * consume the bytes and answer the peer. EINTR is retried.
     */
    public Received receive(ByteBuffer destination, int maxFds) throws ErrnoException {
        return receive(destination, maxFds, 0);
    }

    /**
     * Like {@link #receive} but never blocks: returns {@code null} when nothing is waiting
     * (MSG_DONTWAIT), a result with 0 bytes when the peer closed.
     */
    public Received receiveIfReady(ByteBuffer destination, int maxFds) throws ErrnoException {
        try {
            return receive(destination, maxFds, MSG_DONTWAIT);
        } catch (ErrnoException e) {
            if (e.errno() == Errno.EAGAIN) {
                return null;
            }
            throw e;
        }
    }

    private Received receive(ByteBuffer destination, int maxFds, int flags) throws ErrnoException {
        receiveLock.lock();
        try {
            MemorySegment target = segmentOf(destination).asSlice(0, destination.remaining());
            long n;
            while (true) {
                receiveIov.set(ADDRESS, 0, target);
                receiveIov.set(JAVA_LONG, 8, target.byteSize());
                receiveHeader.fill((byte) 0);
                receiveHeader.set(ADDRESS, MSG_IOV, receiveIov);
                receiveHeader.set(JAVA_LONG, MSG_IOVLEN, 1);
                receiveHeader.set(ADDRESS, MSG_CONTROL, receiveControl);
                receiveHeader.set(JAVA_LONG, MSG_CONTROLLEN, receiveControl.byteSize());
                try {
                    n = Libc.recvmsg(fd.get(), receiveHeader, MSG_CMSG_CLOEXEC | flags);
                    break;
                } catch (ErrnoException e) {
                    if (e.errno() != Errno.EINTR) {
                        throw e;
                    }
                }
            }
            List<Fd> fds = collectFds();
            boolean truncated = (receiveHeader.get(JAVA_INT, MSG_FLAGS) & MSG_CTRUNC) != 0;
            destination.position(destination.position() + (int) n);
            if (truncated || fds.size() > maxFds) {
                int count = fds.size();
                fds.forEach(Fd::close);
                return new Received((int) n, List.of(), count, truncated);
            }
            return new Received((int) n, fds, 0, false);
        } finally {
            receiveLock.unlock();
        }
    }

    /** The fds of the SCM_RIGHTS messages just received; the shared empty list when there were none. */
    private List<Fd> collectFds() {
        long controlLength = receiveHeader.get(JAVA_LONG, MSG_CONTROLLEN);
        if (controlLength < CMSG_HEADER) {
            return List.of();
        }
        List<Fd> fds = new ArrayList<>(1);
        long offset = 0;
        while (offset + CMSG_HEADER <= controlLength) {
            long length = receiveControl.get(JAVA_LONG, offset);
            if (length < CMSG_HEADER || offset + length > controlLength) {
                break;
            }
            int level = receiveControl.get(JAVA_INT, offset + 8);
            int type = receiveControl.get(JAVA_INT, offset + 12);
            if (level == SOL_SOCKET && type == SCM_RIGHTS) {
                long count = (length - CMSG_HEADER) / 4;
                for (long i = 0; i < count; i++) {
                    fds.add(Fd.adopt(receiveControl.get(JAVA_INT, offset + CMSG_HEADER + i * 4), "received fd"));
                }
            }
            offset += (length + 7) & ~7L;
        }
        return fds;
    }

    /**
     * One recv(2) into {@code destination}'s remaining space, for bytes that come without fds: it
     * takes a shorter path through the kernel than recvmsg(2). Should the peer attach fds after all,
     * the kernel closes them and this receive ends with the bytes that carried them. Advances the
     * buffer's position by the bytes received and returns their count (0: the peer closed). EINTR is
     * retried.
     */
    public int receiveBytes(ByteBuffer destination) throws ErrnoException {
        long received = receiveInto(destination, 0);
        if (received < 0) {
            throw new ErrnoException("recv", (int) -received);
        }
        return (int) received;
    }

    /**
     * Like {@link #receiveBytes} but never blocks: returns {@link #NOTHING_WAITING} when the socket
     * has nothing to read. That answer comes without an exception, since a caller that polls the
     * socket gets it far more often than bytes.
     */
    public int receiveBytesIfReady(ByteBuffer destination) throws ErrnoException {
        long received = receiveInto(destination, MSG_DONTWAIT);
        if (received == -Errno.EAGAIN) {
            return NOTHING_WAITING;
        }
        if (received < 0) {
            throw new ErrnoException("recv", (int) -received);
        }
        return (int) received;
    }

    /**
     * One recv(2) with {@code flags} into {@code destination}'s remaining space, EINTR retried: the count
     * received, by which the buffer's position advances, or -errno.
     */
    private long receiveInto(ByteBuffer destination, int flags) {
        receiveLock.lock();
        try {
            MemorySegment target = segmentOf(destination).asSlice(0, destination.remaining());
            long received;
            do {
                received = Libc.recvOrNegativeErrno(fd.get(), target, target.byteSize(), flags);
            } while (received == -Errno.EINTR);
            if (received > 0) {
                destination.position(destination.position() + (int) received);
            }
            return received;
        } finally {
            receiveLock.unlock();
        }
    }

    /**
     * Fills {@code destination}'s remaining space completely (MSG_WAITALL, looping on short reads).
     * Returns false if the peer closed before the first byte; a close midway fails with ECONNRESET.
     */
    public boolean receiveFully(ByteBuffer destination) throws ErrnoException {
        receiveLock.lock();
        try {
            MemorySegment target = segmentOf(destination).asSlice(0, destination.remaining());
            long done = 0;
            while (done < target.byteSize()) {
                long n;
                try {
                    n = Libc.recv(fd.get(), target.asSlice(done), target.byteSize() - done, MSG_WAITALL);
                } catch (ErrnoException e) {
                    if (e.errno() == Errno.EINTR) {
                        continue;
                    }
                    throw e;
                }
                if (n == 0) {
                    if (done == 0) {
                        return false;
                    }
                    throw new ErrnoException(
                            "recv: peer closed after " + done + " of " + target.byteSize() + " bytes",
                            Errno.ECONNRESET);
                }
                done += n;
            }
            destination.position(destination.position() + (int) done);
            return true;
        } finally {
            receiveLock.unlock();
        }
    }

    /** Shuts both directions down, waking a thread blocked in a receive on this socket. */
    public void shutdown() {
        int number;
        try {
            number = fd.beginUse();
        } catch (IllegalStateException closed) {
            return;
        }
        try {
            Libc.shutdown(number, SHUT_RDWR);
        } catch (ErrnoException e) {
            // Already disconnected: the goal, waking receivers, is reached either way.
        } finally {
            fd.endUse();
        }
    }

    /**
     * Shuts the socket down (waking a blocked receiver and sender), waits for a send or receive still in
     * its system call to leave it, and closes it: closed under a sender's feet, the fd's number could be
     * reused by another thread's open before the sendmsg, whose message and fds would go to that file.
     */
    @Override
    public void close() {
        shutdown();
        sendLock.lock();
        receiveLock.lock();
        try {
            fd.close();
        } finally {
            receiveLock.unlock();
            sendLock.unlock();
        }
    }

    @Override
    public String toString() {
        return "UnixSocket[" + description + "]";
    }

    /**
     * What one receive got: the byte count and the fds, which the caller now owns. When the peer sent
     * more fds than allowed, or the control data was truncated, {@code fds} is empty,
     * {@code refusedFds} counts the fds that were closed and {@code controlTruncated} tells MSG_CTRUNC.
     */
    public record Received(int bytes, List<Fd> fds, int refusedFds, boolean controlTruncated) {
        public Received(int bytes, List<Fd> fds) {
            this(bytes, fds, 0, false);
        }

        /** Whether fds arrived that were closed instead of handed over. */
        public boolean refused() {
            return refusedFds > 0 || controlTruncated;
        }

        /** Closes every fd that was not taken. */
        public void closeFds() {
            fds.forEach(Fd::close);
        }
    }
}
