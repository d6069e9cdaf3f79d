package io.jvfio.vfiouser.conformance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.jvfio.sys.Errno;
import io.jvfio.sys.EventFd;
import io.jvfio.sys.UnixSocket;
import io.jvfio.sys.testing.Tiers;
import io.jvfio.vfiouser.conformance.Wire.Bytes;
import io.jvfio.vfiouser.conformance.Wire.Frame;
import io.jvfio.vfiouser.testing.TestServerMain;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A system call the server makes for one request fails that request, with its errno, and not the
 * connection. The server runs in a child JVM whose file limit the test lowers from outside (prlimit),
 * so that every fd the server makes fails with EMFILE: this JVM's own limit is left alone.
 */
@Tag(Tiers.PROCESS)
class FailedSystemCallConformanceTest {
    private static final int VERSION = 1;
    private static final int DEVICE_GET_REGION_IO_FDS = 6;
    private static final int DEVICE_SET_IRQS = 8;
    private static final Path PRLIMIT = Path.of("/usr/bin/prlimit");
    /** The limit below every fd the child has open: any new fd fails with EMFILE. */
    private static final int NO_NEW_FD = 3;

    @TempDir
    Path dir;

    private Process child;
    private int nextId = 1;

    @AfterEach
    void stopServer() throws Exception {
        if (child != null && child.isAlive()) {
            child.getOutputStream().write("quit\n".getBytes(StandardCharsets.UTF_8));
            child.getOutputStream().flush();
            if (!child.waitFor(10, TimeUnit.SECONDS)) {
                child.destroyForcibly();
            }
        }
    }

    @Test
    void anEventfdTheServerCannotMakeFailsTheRequestWithEmfileAndTheConnectionGoesOn() throws Exception {
        assumeTrue(Files.isExecutable(PRLIMIT), "needs " + PRLIMIT + " to lower the child's file limit");
        Path socket = dir.resolve("child.sock");
        startServer(socket);
        try (Wire wire = new Wire(UnixSocket.connect(socket), Duration.ofSeconds(10));
                EventFd unmask = EventFd.create()) {
            byte[] version = "{\"capabilities\":{\"max_msg_fds\":8}}\0".getBytes(StandardCharsets.UTF_8);
            assertOk(request(
                    wire, VERSION, new Bytes().u16(0).u16(2).raw(version).array()));
            // Before the limit: the IRQ watcher's loop starts (its classes loaded, as a class file could not
            // be opened later) and a refusal is logged once, so the path under test needs no new file.
            int unmaskEventfd = (1 << 2) | (1 << 4);
            byte[] setUnmask =
                    new Bytes().u32(20).u32(unmaskEventfd).u32(1).u32(0).u32(1).array();
            assertOk(request(wire, DEVICE_SET_IRQS, setUnmask, unmask.fd().get()));
            assertError(request(wire, DEVICE_GET_REGION_IO_FDS, ioFds(0)), Errno.EINVAL);

            long soft = softFileLimit();
            prlimit(NO_NEW_FD);
            Frame refused = request(wire, DEVICE_GET_REGION_IO_FDS, ioFds(1024));
            prlimit(soft);
            assertError(refused, Errno.EMFILE);

            Frame answered = request(wire, DEVICE_GET_REGION_IO_FDS, ioFds(1024));
            assertOk(answered);
            answered.closeFds();
            assertThat(answered.fds())
                    .as("the region's two posted writes, made once the limit is back")
                    .hasSize(2);
        }
    }

    /**
     * The eventfds made before the one that failed stay this connection's: its next ask gets them again
     * with the rest, and the connection's end closes every one, so nothing is left in the server.
     */
    @Test
    void regionIoFdsThatFailsPartWayKeepsTheEventfdsMadeForTheNextAskAndClosesThemAtTheEnd() throws Exception {
        assumeTrue(Files.isExecutable(PRLIMIT), "needs " + PRLIMIT + " to lower the child's file limit");
        Path socket = dir.resolve("child.sock");
        startServer(socket);
        // A first client has the server make and close everything the path under test needs (the I/O
        // loop, the classes loaded, a refusal logged): under the limit, a class file could not be opened.
        long warmUpOpen;
        try (Wire warmUp = negotiated(socket);
                EventFd unmask = EventFd.create()) {
            int unmaskEventfd = (1 << 2) | (1 << 4);
            byte[] setUnmask =
                    new Bytes().u32(20).u32(unmaskEventfd).u32(1).u32(0).u32(1).array();
            assertOk(request(warmUp, DEVICE_SET_IRQS, setUnmask, unmask.fd().get()));
            assertError(request(warmUp, DEVICE_GET_REGION_IO_FDS, ioFds(0)), Errno.EINVAL);
            Frame made = request(warmUp, DEVICE_GET_REGION_IO_FDS, ioFds(1024));
            assertOk(made);
            made.closeFds();
            warmUpOpen = childEventFds();
        }
        // its unmask eventfd and the region's two: once they are closed, this client is served, not refused
        awaitChildEventFds(warmUpOpen - 3);
        try (Wire wire = negotiated(socket)) {
            long before = childEventFds();
            long soft = softFileLimit();
            prlimit(limitForOneMoreFd());
            Frame refused = request(wire, DEVICE_GET_REGION_IO_FDS, ioFds(1024));
            prlimit(soft);
            assertError(refused, Errno.EMFILE);
            assertThat(childEventFds())
                    .as("the first posted write's eventfd, made before the second failed, is kept")
                    .isEqualTo(before + 1);

            for (int ask = 0; ask < 2; ask++) {
                Frame answered = request(wire, DEVICE_GET_REGION_IO_FDS, ioFds(1024));
                assertOk(answered);
                answered.closeFds();
                assertThat(answered.fds()).as("both posted writes").hasSize(2);
                assertThat(childEventFds())
                        .as("the kept eventfd is given again, only the missing one made")
                        .isEqualTo(before + 2);
            }
            wire.close();
            awaitChildEventFds(before);
        }
    }

    private Wire negotiated(Path socket) throws Exception {
        Wire wire = new Wire(UnixSocket.connect(socket), Duration.ofSeconds(10));
        byte[] version = "{\"capabilities\":{\"max_msg_fds\":8}}\0".getBytes(StandardCharsets.UTF_8);
        assertOk(request(wire, VERSION, new Bytes().u16(0).u16(2).raw(version).array()));
        return wire;
    }

    /** Waits until the child has {@code count} eventfds open: a connection's end runs on its own thread. */
    private void awaitChildEventFds(long count) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (childEventFds() != count && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertThat(childEventFds())
                .as("the connection's end closes every eventfd it made")
                .isEqualTo(count);
    }

    /** The child's open eventfds. */
    private long childEventFds() throws IOException {
        long count = 0;
        for (Path fd : childFds()) {
            try {
                if (Files.readSymbolicLink(fd).toString().equals("anon_inode:[eventfd]")) {
                    count++;
                }
            } catch (NoSuchFileException e) {
                // closed since it was listed
            }
        }
        return count;
    }

    /**
     * A soft file limit under which the child can make one fd more and no second. A number is free when
     * /proc lists no fd there, but the lowest free one is taken already: the server's accept thread,
     * blocked in accept(2) since it took this client, holds it (the kernel reserves a connection's fd
     * before it waits). So the next fd made gets the second free number, and the limit is the third.
     */
    private long limitForOneMoreFd() throws IOException {
        Set<Integer> open = new HashSet<>();
        for (Path fd : childFds()) {
            open.add(Integer.parseInt(fd.getFileName().toString()));
        }
        int free = 0;
        for (int fd = 0; ; fd++) {
            if (!open.contains(fd) && ++free == 3) {
                return fd;
            }
        }
    }

    private List<Path> childFds() throws IOException {
        try (Stream<Path> fds = Files.list(Path.of("/proc", Long.toString(child.pid()), "fd"))) {
            return fds.toList();
        }
    }

    private void startServer(Path socket) throws IOException {
        String java = ProcessHandle.current().info().command().orElse("java");
        child = new ProcessBuilder(List.of(
                        java,
                        "--enable-native-access=ALL-UNNAMED",
                        "-cp",
                        System.getProperty("java.class.path"),
                        TestServerMain.class.getName(),
                        socket.toString()))
                .redirectError(ProcessBuilder.Redirect.INHERIT)
                .start();
        BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8));
        assertThat(out.readLine()).isEqualTo("ready");
    }

    /** DEVICE_GET_REGION_IO_FDS of region 2, ProtocolTestModel's region with posted writes. */
    private static byte[] ioFds(int argsz) {
        return new Bytes().u32(argsz).u32(0).u32(2).u32(0).array();
    }

    private Frame request(Wire wire, int command, byte[] body, int... fds) throws Exception {
        wire.send(nextId++, command, 0, body, fds);
        return wire.receive();
    }

    private static void assertOk(Frame reply) {
        assertThat(reply).as("a reply: the connection is still served").isNotNull();
        assertThat(reply.isError()).as(reply + " is no error reply").isFalse();
    }

    private static void assertError(Frame reply, int errno) {
        assertThat(reply).as("an error reply, not the connection closed").isNotNull();
        reply.closeFds();
        assertThat(reply.isError()).as(reply + " is an error reply").isTrue();
        assertThat(reply.error()).as(reply.toString()).isEqualTo(errno);
    }

    /** The child's soft RLIMIT_NOFILE, from /proc. */
    private long softFileLimit() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc", Long.toString(child.pid()), "limits"))) {
            if (line.startsWith("Max open files")) {
                return Long.parseLong(
                        line.substring("Max open files".length()).trim().split("\\s+")[0]);
            }
        }
        throw new IllegalStateException("no open-files limit in /proc/" + child.pid() + "/limits");
    }

    /** Sets the child's soft file limit, its hard one left as it is. */
    private void prlimit(long soft) throws Exception {
        Process process = new ProcessBuilder(
                        PRLIMIT.toString(), "--pid", Long.toString(child.pid()), "--nofile=" + soft + ":")
                .redirectErrorStream(true)
                .start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(process.waitFor()).as("prlimit: " + output).isZero();
    }
}
