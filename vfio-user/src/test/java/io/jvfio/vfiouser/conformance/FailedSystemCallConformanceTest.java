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
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
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
